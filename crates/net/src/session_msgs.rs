//! Starting and stopping a session in step (SPEC §12.3): the proposal is signed by the
//! proposer and counter-signed by the other party; the end likewise. Each function checks
//! everything it receives before it returns a record to store.

use dualrec_proof::{CoSigned, EndRecord, Identity, PartySignature, PublicKey, StartRecord};

use crate::{NetError, NodeHandle, Request, Response};

fn in_party_order(start: &StartRecord, sigs: [PartySignature; 2]) -> Vec<PartySignature> {
    let mut v: Vec<PartySignature> = sigs.into();
    v.sort_by_key(|s| start.parties.iter().position(|p| p.key == s.signer));
    v
}

/// Proposes `start` to `peer` and waits for the person there to consent. Returns the start
/// record co-signed by both, checked.
pub async fn propose(
    node: &NodeHandle,
    identity: &Identity,
    peer: PublicKey,
    start: StartRecord,
) -> Result<CoSigned<StartRecord>, NetError> {
    start.validate().map_err(|e| NetError::Session(e.to_string()))?;
    if !start.is_party(&identity.public()) || !start.is_party(&peer) || start.parties.len() != 2 {
        return Err(NetError::Session(
            "the proposal must name exactly this device and the peer".into(),
        ));
    }
    let mine = start.sign(identity);
    match node.request(peer, Request::Propose { start: start.clone(), signature: mine }).await? {
        Response::Consent { signature }
            if signature.signer == peer && start.verify_signature(&signature) =>
        {
            let signatures = in_party_order(&start, [mine, signature]);
            let co = CoSigned { record: start, signatures };
            co.verify().map_err(|e| NetError::Session(e.to_string()))?;
            Ok(co)
        }
        Response::Refused { reason } => Err(NetError::Refused(reason)),
        _ => Err(NetError::Session("the consent is not a valid signature by the peer".into())),
    }
}

/// Checks a proposal received from `from`; if the person consents, the response to send
/// and the co-signed record to store.
pub fn consent(
    identity: &Identity,
    from: PublicKey,
    start: &StartRecord,
    their: &PartySignature,
) -> Result<(Response, CoSigned<StartRecord>), NetError> {
    start.validate().map_err(|e| NetError::Session(e.to_string()))?;
    if their.signer != from || !start.verify_signature(their) {
        return Err(NetError::Session(
            "the proposal is not signed by the device that sent it".into(),
        ));
    }
    if !start.is_party(&identity.public()) || start.parties.len() != 2 {
        return Err(NetError::Session("the proposal does not name this device".into()));
    }
    let mine = start.sign(identity);
    let co = CoSigned { record: start.clone(), signatures: in_party_order(start, [*their, mine]) };
    co.verify().map_err(|e| NetError::Session(e.to_string()))?;
    Ok((Response::Consent { signature: mine }, co))
}

/// Tells `peer` the session ends and asks it to sign the end too. On success, the end
/// signed by both; if the peer is gone, the caller signs alone (a one-sided end).
pub async fn stop(
    node: &NodeHandle,
    identity: &Identity,
    peer: PublicKey,
    start: &StartRecord,
    end: EndRecord,
) -> Result<CoSigned<EndRecord>, NetError> {
    let mine = end.sign(identity);
    match node.request(peer, Request::Stop { end: end.clone(), signature: mine }).await? {
        Response::StopAck { signature }
            if signature.signer == peer && end.verify_signature(&signature) =>
        {
            let co = CoSigned { record: end, signatures: vec![mine, signature] };
            co.verify(start).map_err(|e| NetError::Session(e.to_string()))?;
            Ok(co)
        }
        Response::Refused { reason } => Err(NetError::Refused(reason)),
        _ => Err(NetError::Session("the end was not counter-signed by the peer".into())),
    }
}

/// Checks an end received from `from` and counter-signs it: the response to send and the
/// co-signed end to store. The caller first checks that the end's account of its own
/// recording (its `PartyFinal`) matches what it holds.
pub fn acknowledge_stop(
    identity: &Identity,
    from: PublicKey,
    start: &StartRecord,
    end: &EndRecord,
    their: &PartySignature,
) -> Result<(Response, CoSigned<EndRecord>), NetError> {
    if their.signer != from || !end.verify_signature(their) || end.session != start.session {
        return Err(NetError::Session("the end is not signed by the device that sent it".into()));
    }
    let mine = end.sign(identity);
    let co = CoSigned { record: end.clone(), signatures: vec![*their, mine] };
    co.verify(start).map_err(|e| NetError::Session(e.to_string()))?;
    Ok((Response::StopAck { signature: mine }, co))
}
