//! The live exchange of one session (SPEC §12.4–12.5), as a state machine without I/O:
//! this device's checkpoints go out as they are made and stay pending until the peer's
//! receipt for them checks out; the peer's checkpoints are checked against its chain
//! before anything is stored, then receipted.
//!
//! Pending checkpoints are bounded in memory by a window; beyond it they wait in the
//! evidence log (where they already are) and are read back as the window drains, so an
//! outage of any length costs no memory. The caller stores what [`Handled::store`]
//! holds, synced, before it sends [`Handled::reply`].

use std::collections::BTreeMap;
use std::time::Duration;

use dualrec_proof::{
    CaptureGap, Checkpoint, CheckpointError, Identity, LogEntry, LogRecord, PeerChain, PublicKey,
    Receipt, Signed, StartRecord, Timestamp,
};

use crate::wire::{CompactCheckpoint, CompactGap, CompactReceipt, LiveFrame};

/// Why a frame from the peer was not accepted. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    #[error("checkpoint {index} refused: {source}")]
    Checkpoint { index: u64, source: CheckpointError },
    #[error("receipt for chunk {index}, which is not waiting for one")]
    UnexpectedReceipt { index: u64 },
    #[error("receipt for chunk {index} does not verify")]
    BadReceipt { index: u64 },
    #[error("capture gap at sample {first_sample} does not verify")]
    BadGap { first_sample: u64 },
}

/// What handling a frame asks of the caller, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// Records to append to the evidence log and sync.
    pub store: Vec<LogRecord>,
    /// Then this frame goes back to the peer.
    pub reply: Option<LiveFrame>,
}

#[derive(Debug, Clone)]
struct Pending {
    checkpoint: Signed<Checkpoint>,
    last_sent: Option<Duration>,
}

/// One session's live exchange with one peer.
#[derive(Debug, Clone)]
pub struct Exchange {
    own: PublicKey,
    session: dualrec_proof::SessionId,
    peer: PeerChain,
    pending: BTreeMap<u64, Pending>,
    /// The first own checkpoint not held in memory: it and all later ones wait in the log.
    spilled_from: Option<u64>,
    window: usize,
    committed: u64,
    /// Indices of this device's checkpoints the peer has receipted (each counted once,
    /// however often it is receipted again).
    receipted: std::collections::BTreeSet<u64>,
    /// This device's capture gaps: sent when made and again whenever the link comes back
    /// (there is no receipt for them; they are few).
    own_gaps: Vec<Signed<CaptureGap>>,
    /// Signatures of the peer's gaps already stored.
    peer_gaps: std::collections::HashSet<[u8; 64]>,
}

impl Exchange {
    /// `window`: how many unreceipted checkpoints are kept in memory (at least 2).
    pub fn new(start: &StartRecord, own: PublicKey, peer: PublicKey, window: usize) -> Exchange {
        Exchange {
            own,
            session: start.session,
            peer: PeerChain::new(start, peer),
            pending: BTreeMap::new(),
            spilled_from: None,
            window: window.max(2),
            committed: 0,
            receipted: std::collections::BTreeSet::new(),
            own_gaps: Vec::new(),
            peer_gaps: std::collections::HashSet::new(),
        }
    }

    /// The exchange of a meeting this device rejoins after its program ended (SPEC §12.7),
    /// rebuilt from its log: the peer's chain from the checkpoints held, the peer's gaps
    /// held, this device's gaps, and its checkpoints the peer has not receipted, pending;
    /// those beyond the window wait in the log, from the returned offset on.
    pub fn resume(
        start: &StartRecord,
        own: PublicKey,
        peer: PublicKey,
        window: usize,
        entries: &[LogEntry],
    ) -> (Exchange, Option<u64>) {
        let mut x = Exchange::new(start, own, peer, window);
        let mut receipted = std::collections::HashSet::new();
        let mut mine: Vec<(u64, Signed<Checkpoint>)> = Vec::new();
        for e in entries {
            match &e.value {
                LogRecord::Checkpoint(c) if c.signer == own && c.body.session == x.session => {
                    mine.push((e.offset, *c))
                }
                LogRecord::Checkpoint(c) if c.signer == peer => {
                    let _ = x.peer.accept(c);
                }
                LogRecord::Receipt(r) if r.signer == peer => {
                    receipted.insert(r.body.checkpoint);
                }
                LogRecord::Gap(g) if g.signer == own => x.own_gaps.push(*g),
                LogRecord::Gap(g) if g.signer == peer => {
                    x.peer_gaps.insert(g.signature.0);
                }
                _ => {}
            }
        }
        mine.sort_by_key(|(_, c)| c.body.index);
        mine.dedup_by_key(|(_, c)| c.body.index);
        x.committed = mine.len() as u64;
        let mut spill = None;
        for (offset, cp) in mine {
            if receipted.contains(&cp.hash()) {
                x.receipted.insert(cp.body.index);
            } else if x.pending.len() < x.window && x.spilled_from.is_none() {
                x.pending.insert(cp.body.index, Pending { checkpoint: cp, last_sent: None });
            } else {
                x.spilled_from.get_or_insert(cp.body.index);
                spill.get_or_insert(offset);
            }
        }
        (x, spill)
    }

    /// A capture gap of this device, just logged: the frame to send now.
    pub fn gap(&mut self, gap: Signed<CaptureGap>) -> LiveFrame {
        self.own_gaps.push(gap);
        LiveFrame::Gap(CompactGap::of(&gap))
    }

    /// Every capture gap of this device, to send again after the link comes back.
    pub fn gaps(&self) -> Vec<LiveFrame> {
        self.own_gaps.iter().map(|g| LiveFrame::Gap(CompactGap::of(g))).collect()
    }

    /// A checkpoint of this device, just committed (and logged): the frame to send now,
    /// unless the window is full (it is read back from the log later).
    pub fn commit(&mut self, cp: Signed<Checkpoint>, now: Duration) -> Option<LiveFrame> {
        self.committed += 1;
        if self.spilled_from.is_some() || self.pending.len() >= self.window {
            self.spilled_from.get_or_insert(cp.body.index);
            return None;
        }
        self.pending.insert(cp.body.index, Pending { checkpoint: cp, last_sent: Some(now) });
        Some(LiveFrame::Checkpoint(CompactCheckpoint::of(&cp)))
    }

    /// Handles a frame from the peer; `time` is this device's clock, for a receipt.
    pub fn on_frame(
        &mut self,
        identity: &Identity,
        frame: LiveFrame,
        time: Timestamp,
    ) -> Result<Handled, ExchangeError> {
        match frame {
            LiveFrame::Checkpoint(c) => {
                let index = u64::from(c.index);
                let refuse = |source| ExchangeError::Checkpoint { index, source };
                if let Some(held) = self.peer.accepted_hash(index) {
                    // A retransmission: receipt again what is held; store nothing. (The
                    // receipt names the held checkpoint, so it vouches for nothing else.)
                    let r = Receipt { checkpoint: held, time }.sign(identity);
                    let reply = LiveFrame::Receipt(CompactReceipt::of(index, &r));
                    return Ok(Handled { store: Vec::new(), reply: Some(reply) });
                }
                if index != self.peer.accepted() {
                    return Err(refuse(CheckpointError::OutOfOrder {
                        expected: self.peer.accepted(),
                        got: index,
                    }));
                }
                let body = self.peer.next_body(c.packet_count, c.samples, c.digest, c.time);
                let cp = Signed { body, signer: self.peer.producer(), signature: c.signature };
                self.peer.accept(&cp).map_err(refuse)?;
                let r = cp.receipt(identity, time);
                let reply = LiveFrame::Receipt(CompactReceipt::of(index, &r));
                Ok(Handled {
                    store: vec![LogRecord::Checkpoint(cp), LogRecord::Receipt(r)],
                    reply: Some(reply),
                })
            }
            LiveFrame::Receipt(c) => {
                let index = u64::from(c.index);
                let Some(p) = self.pending.get(&index) else {
                    return Err(ExchangeError::UnexpectedReceipt { index });
                };
                let r = Signed {
                    body: Receipt { checkpoint: p.checkpoint.hash(), time: c.time },
                    signer: self.peer.producer(),
                    signature: c.signature,
                };
                if !r.verify() {
                    return Err(ExchangeError::BadReceipt { index });
                }
                self.pending.remove(&index);
                self.receipted.insert(index);
                Ok(Handled { store: vec![LogRecord::Receipt(r)], reply: None })
            }
            LiveFrame::Gap(c) => {
                let body = CaptureGap {
                    session: self.session,
                    first_sample: c.first_sample,
                    samples: c.samples,
                    time: c.time,
                };
                let g = Signed { body, signer: self.peer.producer(), signature: c.signature };
                if !g.verify() {
                    return Err(ExchangeError::BadGap { first_sample: c.first_sample });
                }
                // Sent again after each reconnect: stored once.
                let store = if self.peer_gaps.insert(c.signature.0) {
                    vec![LogRecord::Gap(g)]
                } else {
                    Vec::new()
                };
                Ok(Handled { store, reply: None })
            }
        }
    }

    /// A full signed checkpoint from the peer (request type 5 of SPEC §12.2): the same
    /// rules as a compact one, and a retransmission must be the very checkpoint held.
    /// Returns what to store and the receipt to answer with.
    pub fn on_checkpoint(
        &mut self,
        identity: &Identity,
        cp: Signed<Checkpoint>,
        time: Timestamp,
    ) -> Result<(Vec<LogRecord>, Signed<Receipt>), ExchangeError> {
        let new = self
            .peer
            .accept(&cp)
            .map_err(|source| ExchangeError::Checkpoint { index: cp.body.index, source })?;
        let r = cp.receipt(identity, time);
        let store =
            if new { vec![LogRecord::Checkpoint(cp), LogRecord::Receipt(r)] } else { Vec::new() };
        Ok((store, r))
    }

    /// What to send again at `now`: once any pending checkpoint has gone `after` without
    /// its receipt, it and every pending one after it, oldest first, marked as sent now.
    /// The peer takes checkpoints only in order (each extends its chain), so those sent
    /// after a lost one were refused and must follow it again; resending each on its own
    /// timer instead lets them interleave, and one frame lost then costs a second per
    /// checkpoint behind it. After the link comes back, `after = 0` sends the whole
    /// backlog in order.
    pub fn due(&mut self, now: Duration, after: Duration) -> Vec<LiveFrame> {
        let overdue = |p: &Pending| p.last_sent.is_none_or(|t| now.saturating_sub(t) >= after);
        let Some(&from) = self.pending.iter().find(|(_, p)| overdue(p)).map(|(i, _)| i) else {
            return Vec::new();
        };
        self.pending
            .range_mut(from..)
            .map(|(_, p)| {
                p.last_sent = Some(now);
                LiveFrame::Checkpoint(CompactCheckpoint::of(&p.checkpoint))
            })
            .collect()
    }

    /// When checkpoints wait in the log only and the window has room: the first index
    /// to read back with [`Exchange::refill`].
    pub fn wants_refill(&self) -> Option<u64> {
        self.spilled_from.filter(|_| self.pending.len() < self.window / 2)
    }

    /// Own checkpoints read back from the evidence log (any order, any others mixed in):
    /// those from [`Exchange::wants_refill`] on are taken, up to the window.
    pub fn refill(&mut self, checkpoints: impl IntoIterator<Item = Signed<Checkpoint>>) {
        let Some(from) = self.spilled_from else { return };
        let mut wanted: Vec<_> = checkpoints
            .into_iter()
            .filter(|c| {
                c.signer == self.own
                    && c.body.index >= from
                    && !self.receipted.contains(&c.body.index)
            })
            .collect();
        wanted.sort_by_key(|c| c.body.index);
        wanted.dedup_by_key(|c| c.body.index);
        self.spilled_from = None;
        for cp in wanted {
            if self.pending.len() >= self.window {
                self.spilled_from = Some(cp.body.index);
                return;
            }
            self.pending.insert(cp.body.index, Pending { checkpoint: cp, last_sent: None });
        }
    }

    /// This device's checkpoints committed so far.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Of those, how many the peer has receipted.
    pub fn receipted(&self) -> u64 {
        self.receipted.len() as u64
    }

    /// The peer's checkpoints witnessed (checked and stored) here.
    pub fn witnessed(&self) -> u64 {
        self.peer.accepted()
    }

    /// Whether some of this device's checkpoints wait in the log only.
    pub fn spilling(&self) -> bool {
        self.spilled_from.is_some()
    }

    /// Unreceipted checkpoints held in memory (at most the window).
    pub fn in_memory(&self) -> usize {
        self.pending.len()
    }
}
