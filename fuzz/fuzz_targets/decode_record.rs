//! Any bytes through every decoder: round trip when they decode, and the signature
//! checks never panic on what decoded.
#![no_main]

use dualrec_proof::{
    Checkpoint, CoSigned, EndRecord, LogRecord, Receipt, Signed, StartRecord, decode_exact,
    encode,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = decode_exact::<LogRecord>(data) {
        assert_eq!(encode(&r), data);
    }
    if let Ok(s) = decode_exact::<CoSigned<StartRecord>>(data) {
        assert_eq!(encode(&s), data);
        if s.verify().is_ok() {
            let _ = decode_exact::<CoSigned<EndRecord>>(data).map(|e| e.verify(&s.record));
        }
    }
    if let Ok(c) = decode_exact::<Signed<Checkpoint>>(data) {
        let _ = c.verify();
        let _ = c.hash();
    }
    if let Ok(r) = decode_exact::<Signed<Receipt>>(data) {
        let _ = r.verify();
    }
});
