//! Any two byte strings as two recordings to compare (SPEC §14): an error, or one class
//! for each second both hold, never a panic or an allocation beyond the bound. Seeded with
//! a real recording (both halves start as it).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (a, b) = data.split_at(data.len() / 2);
    let (Ok(a), Ok(b)) = (dualrec_media::read_recording(a), dualrec_media::read_recording(b))
    else {
        return;
    };
    if let Ok(c) = dualrec_compare::compare(&a, &b) {
        assert_eq!(c.seconds.len() as u64, c.seconds_a.min(c.seconds_b));
        for (i, s) in c.seconds.iter().enumerate() {
            assert_eq!(s.index, i as u64);
        }
    }
});
