//! Any bytes as an evidence log: an error or contents, never a panic; what is read
//! re-encodes to the same payload bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(contents) = dualrec_proof::read_log(data) {
        for e in &contents.entries {
            let bytes = e.value.to_bytes();
            let start = e.offset as usize + 8;
            assert_eq!(&data[start..start + bytes.len()], &bytes[..], "canonical re-encoding");
        }
    }
});
