//! Device identity keys (SPEC §4): ed25519, the same key a device uses on the network.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use bincode::{Decode, Encode};
use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::hash::{tag, tagged};

/// An ed25519 public key in its 32-byte compressed form (RFC 8032).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Encode, Decode)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature, `R || S` (RFC 8032).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct Signature(pub [u8; 64]);

impl PublicKey {
    /// Verifies `signature` over `tag || 0x00 || body` by the rules of SPEC §3.3.
    pub(crate) fn verify_tagged(&self, tag: &str, body: &[u8], signature: &Signature) -> bool {
        verify_one(self, &tagged_message(tag, body), signature)
    }

    /// True when the bytes are a usable ed25519 key: the canonical encoding of a curve
    /// point that is not of small order (SPEC §3.3).
    pub fn is_valid(&self) -> bool {
        canonical_point(&self.0) && VerifyingKey::from_bytes(&self.0).is_ok_and(|k| !k.is_weak())
    }

    /// The short form people compare on screen (SPEC §4.2).
    pub fn fingerprint(&self) -> Fingerprint {
        let d = tagged(tag::FINGERPRINT, &[&self.0]);
        let mut b = [0u8; 10];
        b.copy_from_slice(&d.0[..10]);
        Fingerprint(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<PublicKey> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(PublicKey(out))
    }
}

/// Whether 32 bytes are the canonical encoding of a field element `y < p` with a sign bit
/// that can be set (x = 0 only for y = 1 and y = p - 1, whose sign bit must be clear).
fn canonical_point(b: &[u8]) -> bool {
    let sign = b[31] & 0x80 != 0;
    let mut y = [0u8; 32];
    y.copy_from_slice(&b[..32]);
    y[31] &= 0x7f;
    // p = 2^255 - 19 = ed ff .. ff 7f (little-endian); y >= p only for p..=2^255-1.
    let top_all_ones = y[1..31].iter().all(|&x| x == 0xff) && y[31] == 0x7f;
    if top_all_ones && y[0] >= 0xed {
        return false;
    }
    let is_one = y[0] == 1 && y[1..].iter().all(|&x| x == 0);
    let is_minus_one = top_all_ones && y[0] == 0xec;
    !(sign && (is_one || is_minus_one))
}

/// Cheap checks every signature must pass before the curve equation (SPEC §3.3);
/// `key_valid` is [`PublicKey::is_valid`] of the signer, which costs a decompression.
fn precheck(key_valid: bool, signature: &Signature) -> bool {
    key_valid && canonical_point(&signature.0[..32])
}

/// One signature by the rules of SPEC §3.3: the cofactored equation (as ZIP-215), so a
/// batch and one-by-one checks always agree.
fn verify_one(key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
    if !precheck(key.is_valid(), signature) {
        return false;
    }
    let Ok(vk) = ed25519_zebra::VerificationKey::try_from(key.0) else {
        return false;
    };
    vk.verify(&ed25519_dalek::Signature::from_bytes(&signature.0), message).is_ok()
}

/// Checks many `(key, message, signature)` triples on all cores, in batches: a batch
/// that fails is re-checked one by one to name the bad signatures. The result is the same
/// as calling [`verify_one`] on each, only faster.
pub(crate) fn verify_many(items: &[(PublicKey, Vec<u8>, Signature)]) -> Vec<bool> {
    use rayon::prelude::*;
    const BATCH: usize = 512;
    // A session has a handful of signers: judge each key once, not once per signature.
    let mut valid_keys = std::collections::HashMap::new();
    for (k, _, _) in items {
        valid_keys.entry(*k).or_insert_with(|| k.is_valid());
    }
    items
        .par_chunks(BATCH)
        .flat_map_iter(|chunk| {
            let pre: Vec<bool> = chunk.iter().map(|(k, _, s)| precheck(valid_keys[k], s)).collect();
            let mut batch = ed25519_zebra::batch::Verifier::new();
            for ((k, m, s), ok) in chunk.iter().zip(&pre) {
                if *ok {
                    let sig = ed25519_dalek::Signature::from_bytes(&s.0);
                    batch.queue((ed25519_zebra::VerificationKeyBytes::from(k.0), sig, m));
                }
            }
            let all_good = batch.verify(rand_core::OsRng).is_ok();
            let out: Vec<bool> = if all_good {
                pre
            } else {
                chunk.iter().map(|(k, m, s)| verify_one(k, m, s)).collect()
            };
            out.into_iter()
        })
        .collect()
}

pub(crate) fn tagged_message(tag: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(tag.len() + 1 + body.len());
    msg.extend_from_slice(tag.as_bytes());
    msg.push(0);
    msg.extend_from_slice(body);
    msg
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl Signature {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

/// First 80 bits of a tagged hash of a public key, shown as `xxxx-xxxx-xxxx-xxxx-xxxx`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Fingerprint(pub [u8; 10]);

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = hex::encode(self.0);
        for (i, part) in h.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(part).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

/// Key file layout (SPEC §4.1): 8-byte magic, then the 32-byte secret seed.
const KEY_MAGIC: &[u8; 8] = b"DRKEY\x00\x01\x00";
const KEY_FILE_LEN: usize = 40;

/// A device's secret signing key. The secret is zeroized on drop and never printed.
pub struct Identity {
    signing: SigningKey,
}

impl Identity {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Identity {
        Identity { signing: SigningKey::generate(&mut rand_core::OsRng) }
    }

    /// A key from a 32-byte seed (RFC 8032 secret key). For test vectors and for
    /// handing the same key to the network layer.
    pub fn from_seed(seed: &[u8; 32]) -> Identity {
        Identity { signing: SigningKey::from_bytes(seed) }
    }

    /// The 32-byte seed, in a buffer that zeroizes itself.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `tag || 0x00 || body`.
    pub(crate) fn sign_tagged(&self, tag: &str, body: &[u8]) -> Signature {
        use ed25519_dalek::Signer as _;
        let msg = tagged_message(tag, body);
        Signature(self.signing.sign(&msg).to_bytes())
    }

    /// Writes the key to `path` with mode 0600, refusing to replace an existing file.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io { path: path.to_owned(), source };
        let mut opts = crate::private_file();
        opts.write(true).create_new(true);
        let mut file = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists { path: path.to_owned() }
            } else {
                io(e)
            }
        })?;
        let mut bytes = Zeroizing::new([0u8; KEY_FILE_LEN]);
        bytes[..8].copy_from_slice(KEY_MAGIC);
        bytes[8..].copy_from_slice(self.seed().as_ref());
        file.write_all(bytes.as_ref()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Reads a key written by [`Identity::save`]. Refuses a file that group or others
    /// can read or write: a leaked key lets someone sign as this device.
    pub fn load(path: &Path) -> Result<Identity, KeyError> {
        let io = |source| KeyError::Io { path: path.to_owned(), source };
        let meta = fs::metadata(path).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions { path: path.to_owned(), mode });
            }
        }
        if meta.len() != KEY_FILE_LEN as u64 {
            return Err(KeyError::Format { path: path.to_owned(), detail: "wrong length" });
        }
        let bytes = Zeroizing::new(fs::read(path).map_err(io)?);
        if bytes.len() != KEY_FILE_LEN || &bytes[..8] != KEY_MAGIC {
            return Err(KeyError::Format { path: path.to_owned(), detail: "bad magic" });
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[8..]);
        Ok(Identity::from_seed(&seed))
    }

    /// Loads the key at `path`, or creates one there if there is none.
    pub fn load_or_create(path: &Path) -> Result<(Identity, bool), KeyError> {
        match Identity::load(path) {
            Ok(id) => Ok((id, false)),
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let id = Identity::generate();
                id.save(path)?;
                Ok((id, true))
            }
            Err(e) => Err(e),
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("public", &self.public())
            .field("secret", &"<redacted>")
            .finish()
    }
}
