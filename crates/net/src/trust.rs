//! Devices a person has confirmed with a pairing code, remembered in the data directory.
//!
//! File format: one device per line, `<64 hex digits of the key> <display name>`; lines
//! starting with `#` are comments. Written whole to a temporary file and renamed, mode 0600.

use std::path::{Path, PathBuf};

use dualrec_proof::PublicKey;

use crate::NetError;

/// A confirmed device.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustedDevice {
    pub key: PublicKey,
    pub name: String,
}

/// The remembered devices.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustedDevices {
    path: PathBuf,
    devices: Vec<TrustedDevice>,
}

const MAX_DEVICES: usize = 1000;

/// A name from another device made safe to show and store: no control characters (they
/// could fake lines on a terminal or in the file), at most 64 characters.
pub(crate) fn display_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

impl TrustedDevices {
    /// Reads the list at `path`; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<TrustedDevices, NetError> {
        let err = |detail: String| NetError::TrustStore { path: path.to_owned(), detail };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(e.to_string())),
        };
        let mut devices = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, name) = line.split_once(' ').unwrap_or((line, ""));
            let key = PublicKey::from_hex(key)
                .filter(PublicKey::is_valid)
                .ok_or_else(|| err(format!("line {}: not a device key", n + 1)))?;
            if devices.len() >= MAX_DEVICES {
                return Err(err(format!("more than {MAX_DEVICES} devices")));
            }
            devices.push(TrustedDevice { key, name: name.trim().to_owned() });
        }
        Ok(TrustedDevices { path: path.to_owned(), devices })
    }

    pub fn is_trusted(&self, key: &PublicKey) -> bool {
        self.devices.iter().any(|d| d.key == *key)
    }

    pub fn devices(&self) -> &[TrustedDevice] {
        &self.devices
    }

    /// Remembers a device (replacing its name if known) and saves.
    pub fn trust(&mut self, key: PublicKey, name: &str) -> Result<(), NetError> {
        let name = display_name(name);
        match self.devices.iter_mut().find(|d| d.key == key) {
            Some(d) => d.name = name,
            None => self.devices.push(TrustedDevice { key, name }),
        }
        self.save()
    }

    /// Forgets a device; true if it was known.
    pub fn forget(&mut self, key: &PublicKey) -> Result<bool, NetError> {
        let before = self.devices.len();
        self.devices.retain(|d| d.key != *key);
        let removed = self.devices.len() != before;
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    fn save(&self) -> Result<(), NetError> {
        let err = |e: std::io::Error| NetError::TrustStore {
            path: self.path.clone(),
            detail: e.to_string(),
        };
        let mut text = String::from("# devices confirmed with a pairing code: key name\n");
        for d in &self.devices {
            text.push_str(&format!("{} {}\n", d.key, d.name));
        }
        let tmp = self.path.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(err)
    }
}
