//! The one canonical encoding of every signed or stored object (SPEC §2).
//!
//! bincode 2 with fixed-width little-endian integers; lengths are u64; arrays carry
//! no length. Decoding caps the input size and rejects trailing bytes.

use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};

use crate::error::DecodeError;

/// Largest encoded object accepted anywhere (a log record, a wire message body).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

type Canonical = Configuration<LittleEndian, Fixint, Limit<MAX_RECORD_BYTES>>;

const fn canonical() -> Canonical {
    config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<MAX_RECORD_BYTES>()
}

/// Canonical bytes of `value`.
///
/// Our types are bounded by construction; an object too large to encode is a bug in the
/// caller, which this reports as an empty vector never produced by a valid object. To
/// keep the API infallible for the common case, callers that build objects from
/// untrusted sizes validate them first (see [`crate::StartRecord::validate`]).
pub fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec only fails on the size limit, which validated objects respect.
    bincode::encode_to_vec(value, canonical()).unwrap_or_default()
}

/// Decodes exactly one `T` from all of `bytes`: no more, no less.
pub fn decode_exact<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(DecodeError::TooLarge { len: bytes.len(), max: MAX_RECORD_BYTES });
    }
    let (value, used) = bincode::decode_from_slice::<T, _>(bytes, canonical())
        .map_err(|e| DecodeError::Malformed { detail: e.to_string() })?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes { used, len: bytes.len() });
    }
    Ok(value)
}
