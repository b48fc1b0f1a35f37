//! Publications by client request id: the first call records the request's digest, later
//! calls with the same id get the stored reply (done), a refusal (another request under the
//! same id) or go on where the last one stopped, with the transactions it signed. One call
//! per request id runs at a time ([`Ticket`]).

use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::endpoints::publishing::{PublicationReply, PublishError};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, SignedTransaction};
use crate::time::Now;

thread_local! {
    /// Publication keys with a call running (heap only: a call does not outlive an upgrade).
    static IN_FLIGHT: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// The right to work on one publication; released when dropped (also when the call traps or
/// its future is dropped).
#[derive(Debug)]
pub(super) struct Ticket {
    key: String,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        IN_FLIGHT.with_borrow_mut(|keys| keys.remove(&self.key));
    }
}

/// What a call may do with its request id.
#[derive(Debug)]
pub(super) enum Begin {
    /// Already done: answer this.
    Done(PublicationReply),
    /// Go on (first call, or a retry of an unfinished one).
    Work(Ticket),
}

/// The key of `request_id`'s publication of `kind`.
pub(super) fn key(kind: &str, request_id: &str) -> String {
    format!("{kind}|{request_id}")
}

/// Checks `request_id` against what is stored and takes its ticket; records the request on
/// its first call.
pub(super) fn begin(
    kind: &str,
    request_id: &str,
    digest: &str,
    now: Now,
) -> Result<Begin, PublishError> {
    let key = key(kind, request_id);
    let stored = state::with(|s| s.publications().get(&key)).map(|c| c.0);
    if let Some(publication) = &stored {
        if publication.digest != digest {
            return Err(PublishError::RequestIdReused(request_id.to_string()));
        }
        if let Some(reply) = &publication.reply {
            return Ok(Begin::Done(reply.clone()));
        }
    }
    let taken = IN_FLIGHT.with_borrow_mut(|keys| keys.insert(key.clone()));
    if !taken {
        return Err(PublishError::InProgress(request_id.to_string()));
    }
    if stored.is_none() {
        let event = EventType::PublicationRequested {
            key: key.clone(),
            kind: kind.to_string(),
            digest: digest.to_string(),
        };
        state::mutate(|s| process_event(s, now, event));
    }
    Ok(Begin::Work(Ticket { key }))
}

/// The transaction signed for `step` of the publication, if one is kept.
pub(super) fn transaction(ticket: &Ticket, step: &str) -> Option<SignedTransaction> {
    state::with(|s| s.publications().get(&ticket.key)).and_then(|c| c.0.transaction(step).cloned())
}

/// Keeps `transaction` as the one of its step.
pub(super) fn record_transaction(ticket: &Ticket, transaction: SignedTransaction, now: Now) {
    let event = EventType::PublicationTransactionSigned {
        key: ticket.key.clone(),
        transaction,
    };
    state::mutate(|s| process_event(s, now, event));
}

/// Forgets the transaction of `step` (refused or reverted: a retry signs a new one).
pub(super) fn drop_transaction(ticket: &Ticket, step: &str, now: Now) {
    let event = EventType::PublicationTransactionDropped {
        key: ticket.key.clone(),
        step: step.to_string(),
    };
    state::mutate(|s| process_event(s, now, event));
}

/// Records the reply; later calls with the request id get it.
pub(super) fn complete(ticket: Ticket, reply: PublicationReply, now: Now) {
    let event = EventType::PublicationCompleted {
        key: ticket.key.clone(),
        reply,
    };
    state::mutate(|s| process_event(s, now, event));
}
