//! Finishing an earlier meeting (SPEC §12.6), without I/O: when the link was down as a
//! meeting ended, its last seconds went unwitnessed and its end was signed by one side
//! only. The next time the two devices meet, each sends the other, in full form (request
//! type 5 and `Stop`, which name their session), every checkpoint of its own the other has
//! not receipted and its end; the other checks each against what its log of that meeting
//! holds, stores it there and answers. The receipts then say, on the witness's clock, how
//! late they came.

use std::collections::BTreeSet;

use dualrec_proof::{
    Checkpoint, CoSigned, Digest, EndRecord, Identity, LogRecord, PartySignature, PeerChain,
    PublicKey, SessionId, Signed, StartRecord, Timestamp,
};

use crate::handshake::{HandshakeError, acknowledge_stop, end_countersigned};
use crate::meeting::Refusal;
use crate::wire::{Request, Response};

/// One earlier meeting with one other party, as this device's log of it tells.
#[derive(Debug)]
pub struct Catchup {
    start: StartRecord,
    me: PublicKey,
    peer: PublicKey,
    /// This device's checkpoints the peer has not receipted, oldest first.
    unreceipted: Vec<Signed<Checkpoint>>,
    /// The peer's checkpoints held here, as a chain that new ones must continue.
    peer_chain: PeerChain,
    /// The peer's checkpoints the log holds, not yet checked into `peer_chain`: that costs
    /// a signature check each, and is done only if the peer asks something of this meeting.
    peer_held: Vec<Signed<Checkpoint>>,
    /// This device's end as stored, when the peer has not signed it.
    own_end: Option<(EndRecord, PartySignature)>,
    /// The peer's end is held here, signed by both.
    peer_end: Option<EndRecord>,
    /// The party this device's end names as the one that ended the meeting.
    ended_by: Option<PublicKey>,
    /// A request is out; its answer is awaited.
    asked: Option<Asked>,
    /// This device's session clock of that meeting, as its latest record left it: the
    /// latest `mono_ms` and the wall clock then.
    clock: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy)]
enum Asked {
    Checkpoint,
    End,
}

/// Why something of an earlier meeting was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatchupError {
    /// The log does not hold a valid start naming both devices.
    #[error("the log is not of a meeting between these two devices")]
    NotBetween,
    /// The peer's receipt does not verify.
    #[error("the receipt for checkpoint {index} does not verify")]
    BadReceipt { index: u64 },
    /// The peer refused what was sent; nothing more is sent about this meeting now.
    #[error("the other device refused: {reason}")]
    PeerRefused {
        /// Its words, untrusted.
        reason: String,
    },
    /// The peer's counter-signature on this device's end does not check out.
    #[error(transparent)]
    End(#[from] HandshakeError),
}

impl Catchup {
    /// Reads this device's log of a meeting with `peer`.
    pub fn from_log(
        me: PublicKey,
        peer: PublicKey,
        records: &[LogRecord],
    ) -> Result<Catchup, CatchupError> {
        let start = records
            .iter()
            .find_map(|r| match r {
                LogRecord::Start(s) if s.verify().is_ok() => Some(s.record.clone()),
                _ => None,
            })
            .filter(|s| s.is_party(&me) && s.is_party(&peer) && me != peer)
            .ok_or(CatchupError::NotBetween)?;
        let mut c = Catchup {
            peer_chain: PeerChain::new(&start, peer),
            peer_held: Vec::new(),
            start,
            me,
            peer,
            unreceipted: Vec::new(),
            own_end: None,
            peer_end: None,
            ended_by: None,
            asked: None,
            clock: None,
        };
        c.read(records);
        Ok(c)
    }

    fn read(&mut self, records: &[LogRecord]) {
        let mut receipted: BTreeSet<Digest> = BTreeSet::new();
        let mut own = Vec::new();
        let mut signed_by_peer = false;
        for r in records {
            self.note_time(r);
            match r {
                LogRecord::Checkpoint(c) if c.signer == self.me => own.push(*c),
                LogRecord::Checkpoint(c) if c.signer == self.peer => {
                    self.peer_held.push(*c);
                }
                // The log's records were checked before they were stored.
                LogRecord::Receipt(r) if r.signer == self.peer => {
                    receipted.insert(r.body.checkpoint);
                }
                LogRecord::End(e) if e.verify(&self.start).is_ok() => {
                    let by = |k: &PublicKey| e.signatures.iter().any(|s| s.signer == *k);
                    let mine = e.record.finals.iter().any(|f| f.party == self.me);
                    if mine && by(&self.me) {
                        self.ended_by = Some(e.record.ended_by);
                        let sig = e.signatures.iter().find(|s| s.signer == self.me).copied();
                        signed_by_peer |= by(&self.peer);
                        self.own_end = sig.map(|s| (e.record.clone(), s));
                    }
                    if e.record.finals.iter().any(|f| f.party == self.peer) && by(&self.me) {
                        self.peer_end = Some(e.record.clone());
                    }
                }
                _ => {}
            }
        }
        if signed_by_peer {
            self.own_end = None;
        }
        own.sort_by_key(|c| c.body.index);
        own.dedup_by_key(|c| c.body.index);
        self.unreceipted = own.into_iter().filter(|c| !receipted.contains(&c.hash())).collect();
    }

    fn note_time(&mut self, r: &LogRecord) {
        let time = match r {
            LogRecord::Checkpoint(c) if c.signer == self.me => c.body.time,
            LogRecord::Receipt(r) if r.signer == self.me => r.body.time,
            LogRecord::Gap(g) if g.signer == self.me => g.body.time,
            _ => return,
        };
        if self.clock.is_none_or(|c| time.mono_ms >= c.mono_ms) {
            self.clock = Some(time);
        }
    }

    /// This device's clock of that meeting now (SPEC §12.6): the session clock cannot run
    /// on across a restart, so it continues from the latest record by the wall clock
    /// since, never going back.
    pub fn time(&self, wall_ms: u64) -> Timestamp {
        let mono_ms = match self.clock {
            Some(c) => c.continued_to(wall_ms).max(c.mono_ms + 1),
            None => 0,
        };
        Timestamp { wall_ms, mono_ms }
    }

    /// The meeting this is about.
    pub fn session(&self) -> SessionId {
        self.start.session
    }

    /// Nothing is left to send (the peer may still send its part).
    pub fn is_done(&self) -> bool {
        self.unreceipted.is_empty() && self.own_end.is_none()
    }

    /// The next request to send, one at a time: the unreceipted checkpoints in order, then
    /// this device's end.
    pub fn next_request(&mut self) -> Option<Request> {
        if self.asked.is_some() {
            return None;
        }
        if let Some(cp) = self.unreceipted.first() {
            self.asked = Some(Asked::Checkpoint);
            return Some(Request::Checkpoint(*cp));
        }
        let (end, signature) = self.own_end.clone()?;
        self.asked = Some(Asked::End);
        Some(Request::Stop { end, signature })
    }

    /// The answer to the last request (`None`: no answer, asked again later): what to
    /// store in this meeting's log.
    pub fn on_response(
        &mut self,
        response: Option<Response>,
    ) -> Result<Vec<LogRecord>, CatchupError> {
        let Some(asked) = self.asked.take() else { return Ok(Vec::new()) };
        let Some(response) = response else { return Ok(Vec::new()) };
        match asked {
            Asked::Checkpoint => self.receipt(response),
            Asked::End => {
                let Some((end, mine)) = self.own_end.clone() else { return Ok(Vec::new()) };
                let co = end_countersigned(&self.start, self.peer, &end, mine, response)?;
                self.own_end = None;
                Ok(vec![LogRecord::End(co)])
            }
        }
    }

    fn receipt(&mut self, response: Response) -> Result<Vec<LogRecord>, CatchupError> {
        let Some(cp) = self.unreceipted.first().copied() else { return Ok(Vec::new()) };
        let index = cp.body.index;
        match response {
            Response::Receipt(r)
                if r.signer == self.peer && r.body.checkpoint == cp.hash() && r.verify() =>
            {
                self.unreceipted.remove(0);
                Ok(vec![LogRecord::Receipt(r)])
            }
            Response::Refused { reason } => {
                // The peer cannot take it: nothing more about this meeting this time.
                self.unreceipted.clear();
                self.own_end = None;
                Err(CatchupError::PeerRefused { reason })
            }
            _ => Err(CatchupError::BadReceipt { index }),
        }
    }

    /// The peer's request about this meeting, at wall clock `wall_ms`: checked against
    /// this device's log of it, then the records to store (before answering) and the answer.
    pub fn on_request(
        &mut self,
        identity: &Identity,
        request: &Request,
        wall_ms: u64,
    ) -> (Vec<LogRecord>, Response) {
        let time = self.time(wall_ms);
        let answer = match request {
            Request::Checkpoint(cp) => self.peer_checkpoint(identity, cp, time),
            Request::Stop { end, signature } => self.peer_end(identity, end, signature),
            _ => Err(Refusal::NotDuringMeeting),
        };
        answer.unwrap_or_else(|why| (Vec::new(), Response::Refused { reason: why.to_string() }))
    }

    fn peer_checkpoint(
        &mut self,
        identity: &Identity,
        cp: &Signed<Checkpoint>,
        time: Timestamp,
    ) -> Result<(Vec<LogRecord>, Response), Refusal> {
        for held in std::mem::take(&mut self.peer_held) {
            let _ = self.peer_chain.accept(&held);
        }
        let new = self
            .peer_chain
            .accept(cp)
            .map_err(|source| crate::ExchangeError::Checkpoint { index: cp.body.index, source })?;
        let receipt = cp.receipt(identity, time);
        if !new {
            return Ok((Vec::new(), Response::Receipt(receipt)));
        }
        self.clock = Some(time);
        let store = vec![LogRecord::Checkpoint(*cp), LogRecord::Receipt(receipt)];
        Ok((store, Response::Receipt(receipt)))
    }

    fn peer_end(
        &mut self,
        identity: &Identity,
        end: &EndRecord,
        theirs: &PartySignature,
    ) -> Result<(Vec<LogRecord>, Response), Refusal> {
        if end.ended_by != self.peer && Some(end.ended_by) != self.ended_by {
            return Err(HandshakeError::WrongParties.into());
        }
        let (response, co): (Response, CoSigned<EndRecord>) =
            acknowledge_stop(identity, self.peer, &self.start, end, theirs)?;
        if self.peer_end.as_ref() == Some(end) {
            return Ok((Vec::new(), response));
        }
        self.peer_end = Some(end.clone());
        Ok((vec![LogRecord::End(co)], response))
    }
}
