//! Starting and ending a meeting in step (SPEC §12.3), without I/O: the proposal is signed
//! by the proposer and counter-signed by each other party; the end likewise. Each function
//! checks everything it receives before it returns a record to store.

use dualrec_proof::{
    CoSigned, EndRecord, Identity, PartySignature, PublicKey, RecordError, StartRecord,
};

use crate::wire::{Request, Response};

/// Why a proposal, a consent or an end was not accepted. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The start or end record itself is malformed.
    #[error("the record is not valid")]
    Record(#[source] RecordError),
    /// The proposal does not name the devices it is between.
    #[error("the proposal must name exactly this device and the device it is sent to")]
    WrongParties,
    /// A signature is not by the device that sent it, or does not verify.
    #[error("not validly signed by {0}")]
    BadSignature(PublicKey),
    /// The other device answered, but not with what was asked.
    #[error("{0} answered with something other than a signature")]
    UnexpectedAnswer(PublicKey),
    /// The other device (or its person) said no.
    #[error("{peer} refused: {reason}")]
    Refused {
        /// Who refused.
        peer: PublicKey,
        /// Its words, untrusted: for logs and people only.
        reason: String,
    },
    /// The end gives an account of another party's recording.
    #[error("the end speaks for a recording that is not its sender's")]
    ForeignFinal,
    /// The end names another session.
    #[error("the end is for another session")]
    OtherSession,
}

fn in_party_order(start: &StartRecord, mut sigs: Vec<PartySignature>) -> Vec<PartySignature> {
    sigs.sort_by_key(|s| start.parties.iter().position(|p| p.key == s.signer));
    sigs
}

/// The start record this device proposes to one other party, signed by this device.
#[derive(Debug, Clone)]
pub struct Proposal {
    start: StartRecord,
    peer: PublicKey,
    mine: PartySignature,
}

impl Proposal {
    /// Signs `start` for a meeting between this device and `peer`.
    pub fn new(
        identity: &Identity,
        peer: PublicKey,
        start: StartRecord,
    ) -> Result<Proposal, HandshakeError> {
        start.validate().map_err(HandshakeError::Record)?;
        let named = start.is_party(&identity.public()) && start.is_party(&peer);
        if !named || start.parties.len() != 2 || peer == identity.public() {
            return Err(HandshakeError::WrongParties);
        }
        let mine = start.sign(identity);
        Ok(Proposal { start, peer, mine })
    }

    /// The request to send to the peer.
    pub fn request(&self) -> Request {
        Request::Propose { start: self.start.clone(), signature: self.mine }
    }

    /// The peer's answer: the start record co-signed by both, checked.
    pub fn on_response(self, response: Response) -> Result<CoSigned<StartRecord>, HandshakeError> {
        let peer = self.peer;
        match response {
            Response::Consent { signature }
                if signature.signer == peer && self.start.verify_signature(&signature) =>
            {
                let signatures = in_party_order(&self.start, vec![self.mine, signature]);
                let co = CoSigned { record: self.start, signatures };
                co.verify().map_err(HandshakeError::Record)?;
                Ok(co)
            }
            Response::Consent { .. } => Err(HandshakeError::BadSignature(peer)),
            Response::Refused { reason } => Err(HandshakeError::Refused { peer, reason }),
            _ => Err(HandshakeError::UnexpectedAnswer(peer)),
        }
    }
}

/// Checks a proposal received from `from`; if the person consents, the response to send
/// and the co-signed record to store.
pub fn consent(
    identity: &Identity,
    from: PublicKey,
    start: &StartRecord,
    their: &PartySignature,
) -> Result<(Response, CoSigned<StartRecord>), HandshakeError> {
    start.validate().map_err(HandshakeError::Record)?;
    if their.signer != from || !start.verify_signature(their) {
        return Err(HandshakeError::BadSignature(from));
    }
    if !start.is_party(&identity.public()) || start.parties.len() != 2 {
        return Err(HandshakeError::WrongParties);
    }
    let mine = start.sign(identity);
    let co =
        CoSigned { record: start.clone(), signatures: in_party_order(start, vec![*their, mine]) };
    co.verify().map_err(HandshakeError::Record)?;
    Ok((Response::Consent { signature: mine }, co))
}

/// The peer's answer to this device's `Stop`: the end signed by both, checked.
pub fn end_countersigned(
    start: &StartRecord,
    peer: PublicKey,
    end: &EndRecord,
    mine: PartySignature,
    response: Response,
) -> Result<CoSigned<EndRecord>, HandshakeError> {
    match response {
        Response::StopAck { signature }
            if signature.signer == peer && end.verify_signature(&signature) =>
        {
            let co = CoSigned { record: end.clone(), signatures: vec![mine, signature] };
            co.verify(start).map_err(HandshakeError::Record)?;
            Ok(co)
        }
        Response::StopAck { .. } => Err(HandshakeError::BadSignature(peer)),
        Response::Refused { reason } => Err(HandshakeError::Refused { peer, reason }),
        _ => Err(HandshakeError::UnexpectedAnswer(peer)),
    }
}

/// Checks an end received from `from` and counter-signs it: the response to send and the
/// co-signed end to store.
pub fn acknowledge_stop(
    identity: &Identity,
    from: PublicKey,
    start: &StartRecord,
    end: &EndRecord,
    their: &PartySignature,
) -> Result<(Response, CoSigned<EndRecord>), HandshakeError> {
    if end.session != start.session {
        return Err(HandshakeError::OtherSession);
    }
    if their.signer != from || !end.verify_signature(their) {
        return Err(HandshakeError::BadSignature(from));
    }
    // A party speaks for its own recording only: this device signs no account of its
    // recording but its own.
    if end.finals.iter().any(|f| f.party != from) {
        return Err(HandshakeError::ForeignFinal);
    }
    let mine = end.sign(identity);
    let co = CoSigned { record: end.clone(), signatures: vec![*their, mine] };
    co.verify(start).map_err(HandshakeError::Record)?;
    Ok((Response::StopAck { signature: mine }, co))
}
