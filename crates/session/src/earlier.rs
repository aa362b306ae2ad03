//! Earlier meetings with the same device whose witnessing did not finish (the link was
//! down as they ended): finished beside the new meeting, in their own logs (SPEC §12.6).
//! The protocol's [`Catchup`] decides; this file finds the logs, stores and answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dualrec_proof::{EvidenceLog, Identity, LogRecord, PublicKey, SessionId};
use dualrec_protocol::{Catchup, Request, Response};

use crate::SessionError;

/// Earlier meetings between this device and one other, opened as they are needed.
pub(crate) struct Earlier {
    identity: Identity,
    peer: PublicKey,
    /// Each earlier meeting with the peer, by the folder holding it.
    folders: BTreeMap<SessionId, PathBuf>,
    current: SessionId,
    open: BTreeMap<SessionId, (Catchup, EvidenceLog)>,
    /// The meeting whose request is out.
    asking: Option<SessionId>,
}

impl std::fmt::Debug for Earlier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Earlier").field("open", &self.open.keys().collect::<Vec<_>>()).finish()
    }
}

/// The session a request is about, when it names one.
fn session_of(request: &Request) -> Option<SessionId> {
    match request {
        Request::Checkpoint(cp) => Some(cp.body.session),
        Request::Stop { end, .. } => Some(end.session),
        _ => None,
    }
}

impl Earlier {
    /// Opens every meeting under `out_dir` with `peer` that still has something of this
    /// device's to send. Logs another program holds, or that do not read, are left alone.
    pub(crate) fn scan(
        identity: Identity,
        peer: PublicKey,
        out_dir: &Path,
        current: SessionId,
    ) -> Earlier {
        let folders = crate::meetings::with_peer(out_dir, &peer).into_iter().collect();
        let mut e =
            Earlier { identity, peer, folders, current, open: BTreeMap::new(), asking: None };
        let sessions: Vec<SessionId> = e.folders.keys().copied().collect();
        for session in sessions {
            let _ = e.open(session);
        }
        e.open.retain(|_, (c, _)| !c.is_done());
        e
    }

    /// The meeting's catch-up, opened now if it was not.
    fn open(&mut self, session: SessionId) -> Option<&mut (Catchup, EvidenceLog)> {
        if session == self.current {
            return None;
        }
        if !self.open.contains_key(&session) {
            let path = self.folders.get(&session)?.join(crate::recover::EVIDENCE);
            let (log, contents) = EvidenceLog::open_append(&path).ok()?;
            let records: Vec<LogRecord> = contents.entries.into_iter().map(|e| e.value).collect();
            let catchup = Catchup::from_log(self.identity.public(), self.peer, &records).ok()?;
            self.open.insert(session, (catchup, log));
        }
        self.open.get_mut(&session)
    }

    /// Answers a request about an earlier meeting, storing first what it brings; `None`
    /// when the request is not about one (it is the current meeting's).
    pub(crate) fn answer(
        &mut self,
        request: &Request,
        wall_ms: u64,
    ) -> Option<Result<Response, SessionError>> {
        let session = session_of(request).filter(|s| *s != self.current)?;
        let identity = Identity::from_seed(&self.identity.seed());
        let Some((catchup, log)) = self.open(session) else {
            let reason = "this device holds no such meeting with yours".into();
            return Some(Ok(Response::Refused { reason }));
        };
        let (store, response) = catchup.on_request(&identity, request, wall_ms);
        Some(log.append_synced(&store).map(|()| response).map_err(SessionError::from))
    }

    /// The next request to send about an earlier meeting, one at a time.
    pub(crate) fn next_request(&mut self) -> Option<Request> {
        if self.asking.is_some() {
            return None;
        }
        let (session, request) =
            self.open.iter_mut().find_map(|(s, (c, _))| c.next_request().map(|r| (*s, r)))?;
        self.asking = Some(session);
        Some(request)
    }

    /// The answer to the request out; the meeting it finished, if it did.
    pub(crate) fn answered(
        &mut self,
        response: Option<Response>,
    ) -> Result<Option<SessionId>, SessionError> {
        let Some(session) = self.asking.take() else { return Ok(None) };
        let Some((catchup, log)) = self.open.get_mut(&session) else { return Ok(None) };
        // A refusal or a bad answer ends this meeting's catch-up for now; it is tried
        // again at the next meeting.
        let result = catchup.on_response(response);
        let answered_well = result.is_ok();
        log.append_synced(&result.unwrap_or_default())?;
        Ok((answered_well && catchup.is_done()).then_some(session))
    }
}
