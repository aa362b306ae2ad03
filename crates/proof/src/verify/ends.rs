//! SPEC §9.3 (ends): how the session ended, and which account of the producer's
//! recording another party co-signed.

use super::{EndFacts, Finding};
use crate::keys::PublicKey;
use crate::records::{CoSigned, EndRecord, PartyFinal, StartRecord};

/// The end records, sorted out.
pub(super) struct Ends {
    pub facts: Vec<EndFacts>,
    pub ended_by: Option<PublicKey>,
    /// The producer's account that the producer and at least one other party signed,
    /// and those other parties; `None` when there is none or they disagree.
    pub cosigned: Option<(PartyFinal, Vec<PublicKey>)>,
    pub disputed: bool,
    /// An account of its recording the producer itself signed (used only against it).
    pub own: Option<PartyFinal>,
}

fn signers(e: &CoSigned<EndRecord>) -> Vec<PublicKey> {
    e.signatures.iter().map(|s| s.signer).collect()
}

pub(super) fn sort_out(
    start: &StartRecord,
    producer: PublicKey,
    valid: &[&CoSigned<EndRecord>],
    findings: &mut Vec<Finding>,
) -> Ends {
    let facts: Vec<EndFacts> = valid
        .iter()
        .map(|e| EndFacts {
            ended_by: e.record.ended_by,
            reason: e.record.reason,
            ended_at_ms: e.record.ended_at_ms,
            signed_by: signers(e),
            accounts_for: e.record.finals.iter().map(|f| f.party).collect(),
            one_sided: e.signatures.len() < start.parties.len(),
        })
        .collect();
    if facts.is_empty() {
        findings.push(Finding::NoEnd);
    }
    if let Some(f) = facts.iter().find(|f| f.one_sided) {
        findings.push(Finding::OneSidedEnd { signed_by: f.signed_by.clone() });
    }
    let ended_by =
        facts.first().map(|f| f.ended_by).filter(|k| facts.iter().all(|f| f.ended_by == *k));

    let mut cosigned: Vec<(PartyFinal, Vec<PublicKey>)> = Vec::new();
    let mut own: Vec<PartyFinal> = Vec::new();
    for e in valid {
        let Some(f) = e.record.finals.iter().find(|f| f.party == producer) else { continue };
        let by = signers(e);
        if !by.contains(&producer) {
            // Another party's statement about the producer's file: a claim, not used.
            for signer in by {
                findings.push(Finding::PeerClaim { signer, chunks: f.chunks });
            }
            continue;
        }
        if !own.contains(f) {
            own.push(f.clone());
        }
        let others: Vec<PublicKey> = by.into_iter().filter(|k| *k != producer).collect();
        if others.is_empty() {
            continue;
        }
        match cosigned.iter_mut().find(|(g, _)| g == f) {
            Some((_, ws)) => {
                for k in others {
                    if !ws.contains(&k) {
                        ws.push(k);
                    }
                }
            }
            None => cosigned.push((f.clone(), others)),
        }
    }
    let disputed = own.len() > 1;
    if disputed {
        let mut signers: Vec<PublicKey> = valid
            .iter()
            .filter(|e| e.record.finals.iter().any(|f| f.party == producer))
            .flat_map(|e| signers(e))
            .collect();
        signers.sort();
        signers.dedup();
        findings.push(Finding::ConflictingEnd { signers });
    }
    Ends {
        facts,
        ended_by,
        cosigned: if disputed { None } else { cosigned.into_iter().next() },
        disputed,
        own: if disputed { None } else { own.into_iter().next() },
    }
}
