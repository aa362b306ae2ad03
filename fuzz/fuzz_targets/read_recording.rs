//! Any bytes as a recording (SPEC §11): an error, or packets with positions that never
//! go backwards and damage that names where it is, never a panic. Seeded with a real
//! recording cut and damaged in the fuzzer's chosen places.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = dualrec_media::read_recording(data) else { return };
    for pair in file.packets.windows(2) {
        assert!(pair[0].position <= pair[1].position, "positions never go backwards");
    }
    for d in &file.damaged {
        assert!((d.offset as usize) < data.len(), "damage lies inside the file");
    }
    let _ = file.playback();
    // An excerpt's place, if the tags state one, is read or refused, never a panic.
    let _ = file.tags.excerpt_place();
});
