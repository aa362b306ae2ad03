//! OpusHead and OpusTags (RFC 7845 §5).

use dualrec_proof::{PublicKey, SessionId};

use crate::MediaError;

/// The OpusTags comment naming the session (32 hex digits).
pub const TAG_SESSION: &str = "DUALREC_SESSION";
/// The OpusTags comment naming the producer's public key (64 hex digits).
pub const TAG_PRODUCER: &str = "DUALREC_PRODUCER";
/// The OpusTags comment naming the evidence format version ("1").
pub const TAG_FORMAT: &str = "DUALREC_FORMAT";

/// The identification header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpusHead {
    pub channels: u8,
    /// Samples (48 kHz) to discard from the decoder's output at the start.
    pub pre_skip: u16,
    /// Informative: the rate the audio was captured at.
    pub input_sample_rate: u32,
    /// Q7.8 dB.
    pub output_gain: i16,
}

impl OpusHead {
    pub(crate) fn to_bytes(self) -> Vec<u8> {
        let mut b = Vec::with_capacity(19);
        b.extend_from_slice(b"OpusHead");
        b.push(1); // version
        b.push(self.channels);
        b.extend_from_slice(&self.pre_skip.to_le_bytes());
        b.extend_from_slice(&self.input_sample_rate.to_le_bytes());
        b.extend_from_slice(&self.output_gain.to_le_bytes());
        b.push(0); // channel mapping family 0: mono or stereo
        b
    }

    pub(crate) fn parse(b: &[u8]) -> Result<OpusHead, MediaError> {
        let bad =
            |detail: &str| MediaError::BadHeader { header: "OpusHead", detail: detail.to_owned() };
        if b.len() < 19 || &b[..8] != b"OpusHead" {
            return Err(MediaError::NotOpus {
                detail: "the first packet is not an OpusHead".into(),
            });
        }
        if b[8] & 0xf0 != 0 {
            return Err(bad(&format!("unsupported version {}", b[8])));
        }
        let channels = b[9];
        let family = b[18];
        if channels == 0 || (family == 0 && channels > 2) {
            return Err(bad(&format!("{channels} channels with mapping family {family}")));
        }
        if family == 0 && b.len() != 19 {
            return Err(bad("trailing bytes after a family-0 OpusHead"));
        }
        Ok(OpusHead {
            channels,
            pre_skip: u16::from_le_bytes([b[10], b[11]]),
            input_sample_rate: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            output_gain: i16::from_le_bytes([b[16], b[17]]),
        })
    }
}

/// The comment header: a vendor string and `KEY=value` comments.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OpusTags {
    pub vendor: String,
    pub comments: Vec<String>,
}

const MAX_COMMENTS: usize = 1024;
const MAX_TAGS_BYTES: usize = 64 * 1024;

/// The value of comment `c` when its key is `key` (keys are case-insensitive).
pub(crate) fn value_of<'c>(c: &'c str, key: &str) -> Option<&'c str> {
    let (k, v) = c.split_once('=')?;
    k.eq_ignore_ascii_case(key).then_some(v)
}

impl OpusTags {
    /// Tags naming a dualrec session and the recording's producer.
    pub fn for_session(vendor: &str, session: SessionId, producer: PublicKey) -> OpusTags {
        OpusTags {
            vendor: vendor.to_owned(),
            comments: vec![
                format!("{TAG_SESSION}={session}"),
                format!("{TAG_PRODUCER}={producer}"),
                format!("{TAG_FORMAT}=1"),
                "TITLE=dualrec recording".to_owned(),
            ],
        }
    }

    /// The value of the first comment `KEY=value` with this key (case-insensitive key).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.comments.iter().find_map(|c| value_of(c, key))
    }

    pub fn session(&self) -> Option<SessionId> {
        self.get(TAG_SESSION).and_then(SessionId::from_hex)
    }

    pub fn producer(&self) -> Option<PublicKey> {
        self.get(TAG_PRODUCER).and_then(PublicKey::from_hex)
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"OpusTags");
        b.extend_from_slice(&(self.vendor.len() as u32).to_le_bytes());
        b.extend_from_slice(self.vendor.as_bytes());
        b.extend_from_slice(&(self.comments.len() as u32).to_le_bytes());
        for c in &self.comments {
            b.extend_from_slice(&(c.len() as u32).to_le_bytes());
            b.extend_from_slice(c.as_bytes());
        }
        b
    }

    pub(crate) fn parse(b: &[u8]) -> Result<OpusTags, MediaError> {
        let bad =
            |detail: &str| MediaError::BadHeader { header: "OpusTags", detail: detail.to_owned() };
        if b.len() < 16 || &b[..8] != b"OpusTags" {
            return Err(bad("the second packet is not an OpusTags"));
        }
        if b.len() > MAX_TAGS_BYTES {
            return Err(bad("larger than 64 KiB"));
        }
        let mut pos = 8;
        let mut take = |n: usize| -> Result<&[u8], MediaError> {
            let s = b.get(pos..pos + n).ok_or_else(|| bad("a length runs past the end"))?;
            pos += n;
            Ok(s)
        };
        let u32_at = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
        let vlen = u32_at(take(4)?);
        let vendor =
            String::from_utf8(take(vlen)?.to_vec()).map_err(|_| bad("vendor is not UTF-8"))?;
        let n = u32_at(take(4)?);
        if n > MAX_COMMENTS {
            return Err(bad("too many comments"));
        }
        let mut comments = Vec::with_capacity(n);
        for _ in 0..n {
            let len = u32_at(take(4)?);
            comments.push(
                String::from_utf8(take(len)?.to_vec())
                    .map_err(|_| bad("a comment is not UTF-8"))?,
            );
        }
        // RFC 7845 allows padding after the comments when the first byte's LSB is 0.
        Ok(OpusTags { vendor, comments })
    }
}
