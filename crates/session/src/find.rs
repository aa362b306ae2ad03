//! Choosing the other device: one device at a time, chosen by the person (or by
//! `--with` in scripts), never simply the first device that answers, remembered or not.

use std::time::{Duration, Instant};

use dualrec_proof::PublicKey;

/// With `--yes` and no `--with`, a device is taken only if no other one shows up within
/// this time of it: on a busy network a script must name its partner.
pub(crate) const ALONE_FOR: Duration = Duration::from_secs(2);

/// At most this many devices are remembered as found (a busy network cannot grow it).
const MAX_FOUND: usize = 64;

/// A device found on the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDevice {
    pub key: PublicKey,
    pub name: String,
    /// Paired before: it skips the code, never the choice.
    pub remembered: bool,
    /// This device opened the connection: it is the one that starts pairing.
    pub we_dialed: bool,
}

/// What to do about a device just found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// It is the chosen one.
    Take,
    /// Not this one (another is chosen, or it does not match `--with`).
    Skip,
    /// Ask the person.
    Ask,
    /// Wait: `--yes` takes a device only once it has been alone for [`ALONE_FOR`].
    Wait,
}

/// The devices found, and which one is chosen.
#[derive(Debug)]
pub(crate) struct Finder {
    with: Option<String>,
    assume_yes: bool,
    found: Vec<FoundDevice>,
    chosen: Option<PublicKey>,
    first_found: Option<Instant>,
    /// This device's addresses another device could type (at most a few).
    addresses: Vec<String>,
}

/// Whether `with` (a name, or a fingerprint with or without dashes) names this device.
pub fn names_device(with: &str, key: &PublicKey, name: &str) -> bool {
    let hex =
        |s: &str| s.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_lowercase();
    let fp = hex(&key.fingerprint().to_string());
    let w = hex(with);
    (w.len() >= 8
        && w.len() == with.chars().filter(|c| *c != '-' && *c != ' ').count()
        && fp.starts_with(&w))
        || with.trim().eq_ignore_ascii_case(name.trim())
}

impl Finder {
    pub(crate) fn new(with: Option<String>, assume_yes: bool) -> Finder {
        Finder {
            with,
            assume_yes,
            found: Vec::new(),
            chosen: None,
            first_found: None,
            addresses: Vec::new(),
        }
    }

    pub(crate) fn add_address(&mut self, typed: String) {
        if self.addresses.len() < 8 && !self.addresses.contains(&typed) {
            self.addresses.push(typed);
        }
    }

    pub(crate) fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// The name a found device gave (empty for a device never found).
    pub(crate) fn name_of(&self, key: &PublicKey) -> String {
        self.found.iter().find(|d| d.key == *key).map_or_else(String::new, |d| d.name.clone())
    }

    pub(crate) fn chosen(&self) -> Option<PublicKey> {
        self.chosen
    }

    pub(crate) fn found(&self) -> &[FoundDevice] {
        &self.found
    }

    pub(crate) fn choose(&mut self, key: PublicKey) {
        self.chosen = Some(key);
    }

    /// The chosen device's pairing failed or was declined: back to the list.
    pub(crate) fn unchoose(&mut self) {
        self.chosen = None;
    }

    /// A device answered on the network.
    pub(crate) fn on_found(&mut self, device: FoundDevice, now: Instant) -> Choice {
        let key = device.key;
        if let Some(d) = self.found.iter_mut().find(|d| d.key == key) {
            *d = device.clone();
        } else if self.found.len() < MAX_FOUND {
            self.found.push(device.clone());
        } else {
            return Choice::Skip;
        }
        self.first_found.get_or_insert(now);
        if self.chosen.is_some() {
            return if self.chosen == Some(key) { Choice::Take } else { Choice::Skip };
        }
        match (&self.with, self.assume_yes) {
            (Some(w), _) if names_device(w, &key, &device.name) => Choice::Take,
            (Some(_), _) => Choice::Skip,
            (None, true) => Choice::Wait,
            (None, false) => Choice::Ask,
        }
    }

    /// With `--yes` and no `--with`: when a decision is due, and what it is — the one
    /// device found, or all of them when there are several.
    pub(crate) fn due(&self) -> Option<Instant> {
        let waiting = self.assume_yes && self.with.is_none() && self.chosen.is_none();
        self.first_found.filter(|_| waiting).map(|t| t + ALONE_FOR)
    }

    /// At the due time: the single device, or `Err` with every device found.
    pub(crate) fn decide(&self) -> Result<FoundDevice, Vec<FoundDevice>> {
        match self.found.as_slice() {
            [only] => Ok(only.clone()),
            several => Err(several.to_vec()),
        }
    }

    /// Whether a pairing code from `key` may be answered: it is the chosen device, or,
    /// with nothing chosen yet, a device this finder would take.
    pub(crate) fn may_pair(&self, key: &PublicKey, name: &str) -> Choice {
        match (self.chosen, &self.with) {
            (Some(c), _) => {
                if c == *key {
                    Choice::Take
                } else {
                    Choice::Skip
                }
            }
            (None, Some(w)) => {
                if names_device(w, key, name) {
                    Choice::Take
                } else {
                    Choice::Skip
                }
            }
            (None, None) if self.assume_yes => match self.decide() {
                Ok(d) if d.key == *key => Choice::Take,
                _ => Choice::Skip,
            },
            (None, None) => Choice::Ask,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dualrec_proof::sim::sim_identity;

    fn dev(i: u8, name: &str, remembered: bool) -> FoundDevice {
        FoundDevice {
            key: sim_identity(3, i).public(),
            name: name.into(),
            remembered,
            we_dialed: true,
        }
    }

    #[test]
    fn with_names_the_partner_by_name_or_fingerprint() {
        let (a, b) = (dev(0, "Sam", true), dev(1, "Alex", false));
        let fp = a.key.fingerprint().to_string();
        for with in ["Sam", "sam", &fp, &fp.replace('-', "").to_uppercase(), &fp[..9]] {
            let mut f = Finder::new(Some(with.to_owned()), true);
            assert_eq!(f.on_found(b.clone(), Instant::now()), Choice::Skip, "{with}");
            assert_eq!(f.on_found(a.clone(), Instant::now()), Choice::Take, "{with}");
        }
        // A short string of hex digits is not a fingerprint, and a name is not a prefix.
        assert!(!names_device("4a", &a.key, "Sam"));
        assert!(!names_device("Sa", &a.key, "Sam"));
    }

    #[test]
    fn a_remembered_device_is_never_taken_without_a_choice() {
        let mut f = Finder::new(None, false);
        assert_eq!(f.on_found(dev(0, "Sam", true), Instant::now()), Choice::Ask);
        let mut f = Finder::new(None, true);
        let t = Instant::now();
        assert_eq!(f.on_found(dev(0, "Sam", true), t), Choice::Wait);
        assert_eq!(f.due(), Some(t + ALONE_FOR));
        assert_eq!(f.decide().map(|d| d.name), Ok("Sam".into()));
        f.on_found(dev(1, "Kim", true), t);
        assert_eq!(f.decide().map_err(|v| v.len()), Err(2), "several: a script must choose");
    }

    #[test]
    fn once_chosen_no_other_device_is_taken_or_paired() {
        let (a, b) = (dev(0, "Sam", false), dev(1, "Alex", false));
        let mut f = Finder::new(None, false);
        f.on_found(a.clone(), Instant::now());
        f.choose(a.key);
        assert_eq!(f.on_found(b.clone(), Instant::now()), Choice::Skip);
        assert_eq!(f.may_pair(&b.key, &b.name), Choice::Skip);
        assert_eq!(f.may_pair(&a.key, &a.name), Choice::Take);
        f.unchoose();
        assert_eq!(f.may_pair(&b.key, &b.name), Choice::Ask);
    }
}
