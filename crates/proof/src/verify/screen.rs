//! SPEC §9.2–§9.3: the session, and which records count. Every record used later has a
//! checked signature by a party of the session; the rest are findings that name it.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::Finding;
use crate::error::VerifyError;
use crate::hash::Digest;
use crate::keys::PublicKey;
use crate::log::{LogContents, LogRecord};
use crate::records::{
    CaptureGap, Checkpoint, CoSigned, EndRecord, Receipt, SessionId, Signed, SignedBody,
    StartRecord,
};

/// Where a record came from.
#[derive(Clone, Copy)]
pub(super) struct Origin {
    pub log: usize,
    pub record: u64,
    pub offset: u64,
}

/// The records that count, screened and signature-checked.
pub(super) struct Screened<'a> {
    pub start: StartRecord,
    /// The producer's valid checkpoints: index -> distinct versions (hash, checkpoint),
    /// ordered by hash.
    pub versions: BTreeMap<u64, Vec<(Digest, &'a Signed<Checkpoint>)>>,
    /// Other parties' valid receipts of the producer's checkpoints, by checkpoint hash.
    pub receipts: HashMap<Digest, Vec<&'a Signed<Receipt>>>,
    /// Other parties' checkpoints and the producer's receipts (for the clock offset).
    pub peer_checkpoints: Vec<&'a Signed<Checkpoint>>,
    pub producer_receipts: Vec<&'a Signed<Receipt>>,
    /// Valid end records of the session, distinct.
    pub ends: Vec<&'a CoSigned<EndRecord>>,
    /// The producer's valid capture-gap statements, distinct.
    pub gaps: Vec<&'a Signed<CaptureGap>>,
    pub checked: u64,
}

pub(super) struct Screener<'a> {
    pub logs: &'a [(String, LogContents)],
    pub findings: Vec<Finding>,
    pub checked: u64,
}

impl<'a> Screener<'a> {
    fn entries(&self) -> impl Iterator<Item = (Origin, &'a LogRecord)> + use<'a> {
        self.logs.iter().enumerate().flat_map(|(li, (_, c))| {
            c.entries
                .iter()
                .map(move |e| (Origin { log: li, record: e.record, offset: e.offset }, &e.value))
        })
    }

    fn at(&self, o: Origin) -> (String, u64, u64) {
        (self.logs[o.log].0.clone(), o.record, o.offset)
    }

    pub(super) fn torn_tails(&mut self) {
        for (name, c) in self.logs {
            if let Some(t) = c.torn_tail {
                self.findings.push(Finding::LogTornTail {
                    log: name.clone(),
                    record: t.record,
                    offset: t.offset,
                    bytes: t.bytes,
                });
            }
        }
    }

    /// The validly co-signed start records, grouped by session id; the one wanted.
    pub(super) fn session(
        &mut self,
        wanted: Option<SessionId>,
    ) -> Result<StartRecord, VerifyError> {
        let mut seen: HashMap<Vec<u8>, bool> = HashMap::new();
        let mut valid: BTreeMap<SessionId, Vec<StartRecord>> = BTreeMap::new();
        for (o, rec) in self.entries() {
            let LogRecord::Start(s) = rec else { continue };
            let key = crate::codec::encode(s);
            if seen.contains_key(&key) {
                continue;
            }
            self.checked += s.signatures.len() as u64;
            let result = s.verify();
            seen.insert(key, result.is_ok());
            match result {
                Ok(()) => {
                    let v = valid.entry(s.record.session).or_default();
                    if !v.contains(&s.record) {
                        v.push(s.record.clone());
                    }
                }
                Err(e) => {
                    let (log, record, offset) = self.at(o);
                    let detail = e.to_string();
                    self.findings.push(Finding::BadStart { log, record, offset, detail });
                }
            }
        }
        let chosen = match wanted {
            Some(id) => valid.remove(&id).ok_or(VerifyError::SessionNotFound(id.to_hex()))?,
            None if valid.len() > 1 => return Err(VerifyError::AmbiguousSession(valid.len())),
            None => valid.into_values().next().ok_or(VerifyError::NoSession)?,
        };
        if chosen.len() > 1 {
            self.findings.push(Finding::ConflictingStart);
        }
        chosen.into_iter().next().ok_or(VerifyError::NoSession)
    }

    /// Screens every record against the session and checks the signatures of those used.
    pub(super) fn screen(&mut self, start: StartRecord, producer: PublicKey) -> Screened<'a> {
        let session = start.session;
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        let mut receipts = Vec::new();
        let mut ends = Vec::new();
        let mut gaps = Vec::new();
        for (o, rec) in self.entries() {
            let (rec_session, signer) = match rec {
                LogRecord::Start(_) => continue,
                LogRecord::Checkpoint(c) => (Some(c.body.session), Some(c.signer)),
                LogRecord::Receipt(r) => (None, Some(r.signer)),
                LogRecord::End(e) => (Some(e.record.session), None),
                LogRecord::Gap(g) => (Some(g.body.session), Some(g.signer)),
            };
            if let Some(s) = rec_session.filter(|s| *s != session) {
                let (log, record, offset) = self.at(o);
                self.findings.push(Finding::ForeignSession { log, record, offset, session: s });
                continue;
            }
            if let Some(signer) = signer.filter(|k| !start.is_party(k)) {
                let (log, record, offset) = self.at(o);
                self.findings.push(Finding::NonPartySigner { log, record, offset, signer });
                continue;
            }
            match rec {
                LogRecord::Checkpoint(c) if c.signer == producer => ours.push((o, c)),
                LogRecord::Checkpoint(c) => theirs.push(c),
                LogRecord::Receipt(r) => receipts.push((o, r)),
                LogRecord::End(e) => ends.push((o, e)),
                // Only the producer can say its own input was lost.
                LogRecord::Gap(g) if g.signer == producer => gaps.push((o, g)),
                _ => {}
            }
        }
        let ours = self.check(ours, "checkpoint");
        let mut versions: BTreeMap<u64, Vec<(Digest, &Signed<Checkpoint>)>> = BTreeMap::new();
        let hashed: Vec<(Digest, &Signed<Checkpoint>)> =
            ours.par_iter().map(|cp| (cp.hash(), *cp)).collect();
        for (h, cp) in hashed {
            let v = versions.entry(cp.body.index).or_default();
            if !v.iter().any(|(vh, _)| *vh == h) {
                v.push((h, cp));
                v.sort_by_key(|(h, _)| h.0);
            }
        }
        let known: std::collections::HashSet<Digest> =
            versions.values().flat_map(|v| v.iter().map(|(h, _)| *h)).collect();
        let (witness, producer_receipts): (Vec<_>, Vec<_>) =
            receipts.into_iter().partition(|(_, r)| r.signer != producer);
        let witness: Vec<_> =
            witness.into_iter().filter(|(_, r)| known.contains(&r.body.checkpoint)).collect();
        let mut by_hash: HashMap<Digest, Vec<&Signed<Receipt>>> = HashMap::new();
        for r in self.check(witness, "receipt") {
            by_hash.entry(r.body.checkpoint).or_default().push(r);
        }
        let gaps = self.check(gaps, "capture gap");
        let ends = self.check_ends(&start, ends);
        Screened {
            start,
            versions,
            receipts: by_hash,
            peer_checkpoints: theirs,
            producer_receipts: producer_receipts.into_iter().map(|(_, r)| r).collect(),
            ends,
            gaps,
            checked: self.checked,
        }
    }

    /// Checks signatures of distinct records on all cores; reports the bad ones.
    fn check<T: SignedBody + PartialEq>(
        &mut self,
        items: Vec<(Origin, &'a Signed<T>)>,
        what: &str,
    ) -> Vec<&'a Signed<T>> {
        // The same record is often in both parties' logs: check it once.
        let mut unique: Vec<(Origin, &'a Signed<T>)> = Vec::with_capacity(items.len());
        let mut seen: HashMap<[u8; 64], Vec<usize>> = HashMap::with_capacity(items.len());
        for (o, s) in items {
            let same = seen.entry(s.signature.0).or_default();
            if !same.iter().any(|&i| unique[i].1 == s) {
                same.push(unique.len());
                unique.push((o, s));
            }
        }
        self.checked += unique.len() as u64;
        let ok = Signed::verify_refs(&unique.iter().map(|(_, s)| *s).collect::<Vec<_>>());
        let mut good = Vec::with_capacity(unique.len());
        for ((o, s), ok) in unique.into_iter().zip(ok) {
            if ok {
                good.push(s);
            } else {
                let (log, record, offset) = self.at(o);
                let what = what.to_owned();
                let claimed_signer = s.signer;
                self.findings.push(Finding::BadSignature {
                    log,
                    record,
                    offset,
                    what,
                    claimed_signer,
                });
            }
        }
        good
    }

    fn check_ends(
        &mut self,
        start: &StartRecord,
        ends: Vec<(Origin, &'a CoSigned<EndRecord>)>,
    ) -> Vec<&'a CoSigned<EndRecord>> {
        let mut valid: Vec<&CoSigned<EndRecord>> = Vec::new();
        let mut bad: Vec<&CoSigned<EndRecord>> = Vec::new();
        for (o, e) in ends {
            if valid.contains(&e) || bad.contains(&e) {
                continue;
            }
            self.checked += e.signatures.len() as u64;
            match e.verify(start) {
                Ok(()) => valid.push(e),
                Err(err) => {
                    bad.push(e);
                    let (log, record, offset) = self.at(o);
                    let detail = err.to_string();
                    self.findings.push(Finding::BadEnd { log, record, offset, detail });
                }
            }
        }
        valid.sort_by_key(|e| std::cmp::Reverse(e.signatures.len()));
        valid
    }
}
