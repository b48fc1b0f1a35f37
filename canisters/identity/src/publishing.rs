//! The publishing signer: the chain writes of api-core's publishing routes, built and signed
//! here with threshold ECDSA (one key role per purpose, `crate::signer::Role`) from typed
//! requests, so the media worker holds no private key (issue #18, ADR 0028).
//!
//! - [`finalize_track`]: Tempo's ScrobbleV4 (operator role) and ContentRegistry (sponsor
//!   role) writes of a published track ([`finalize`]).
//! - [`attest_scrobble_batch`]: the EAS attestation of an uploaded scrobble batch
//!   (scrobble-attester role, [`attest`]).
//! - [`register_story_ip`]: Story's SPG mint-and-register of a published track
//!   (story-sponsor role, [`story`]).
//!
//! Every request carries a client request id ([`ledger`]): a retry never sends a step's
//! transaction twice ([`transact`]) and, once done, gets the same reply. Callers must be
//! controllers or listed publishers.

pub mod attest;
mod finalize;
mod ledger;
pub mod request;
pub mod story;
pub mod track;
mod transact;

#[cfg(test)]
mod tests;

use candid::CandidType;
use canister_runtime::Runtime;

use crate::endpoints::publishing::{
    AttestScrobbleBatchReply, AttestScrobbleBatchRequest, FinalizeTrackReply, FinalizeTrackRequest,
    PublicationReply, PublishError, PublisherAddresses, RegisterStoryIpReply,
    RegisterStoryIpRequest,
};
use crate::signer::{self, Role};
use crate::state;
use crate::time::Now;

use ledger::{Begin, Ticket};
use request::{ValidAttestation, ValidFinalize};

/// The kind of `finalize_track` publications.
pub const FINALIZE_TRACK: &str = "finalize_track";
/// The kind of `attest_scrobble_batch` publications.
pub const ATTEST_SCROBBLE_BATCH: &str = "attest_scrobble_batch";
/// The kind of `register_story_ip` publications.
pub const REGISTER_STORY_IP: &str = "register_story_ip";
/// Longest failure detail returned (the original's `details` cap).
pub const MAX_DETAILS_CHARS: usize = 1024;

/// `Ok` when the caller of the current message may publish.
pub fn authorize<R: Runtime>(rt: &R) -> Result<(), PublishError> {
    let caller = rt.caller();
    if rt.is_controller(&caller) {
        return Ok(());
    }
    let text = caller.to_text();
    let listed = state::with_config(|c| c.publishing.publishers.contains(&text));
    if listed {
        Ok(())
    } else {
        Err(PublishError::NotAuthorized)
    }
}

fn capped(e: PublishError) -> PublishError {
    match e {
        PublishError::Failed(details) if details.chars().count() > MAX_DETAILS_CHARS => {
            PublishError::Failed(details.chars().take(MAX_DETAILS_CHARS).collect())
        }
        other => other,
    }
}

/// A publication's reply as stored, and back.
trait Reply: Clone + Sized {
    /// The kind of publication it answers.
    const KIND: &'static str;
    /// As stored.
    fn stored(self) -> PublicationReply;
    /// From what is stored, when it is this kind's.
    fn from_stored(reply: PublicationReply) -> Option<Self>;
}

impl Reply for FinalizeTrackReply {
    const KIND: &'static str = FINALIZE_TRACK;
    fn stored(self) -> PublicationReply {
        PublicationReply::FinalizeTrack(self)
    }
    fn from_stored(reply: PublicationReply) -> Option<Self> {
        match reply {
            PublicationReply::FinalizeTrack(r) => Some(r),
            _ => None,
        }
    }
}

impl Reply for AttestScrobbleBatchReply {
    const KIND: &'static str = ATTEST_SCROBBLE_BATCH;
    fn stored(self) -> PublicationReply {
        PublicationReply::AttestScrobbleBatch(self)
    }
    fn from_stored(reply: PublicationReply) -> Option<Self> {
        match reply {
            PublicationReply::AttestScrobbleBatch(r) => Some(r),
            _ => None,
        }
    }
}

impl Reply for RegisterStoryIpReply {
    const KIND: &'static str = REGISTER_STORY_IP;
    fn stored(self) -> PublicationReply {
        PublicationReply::RegisterStoryIp(self)
    }
    fn from_stored(reply: PublicationReply) -> Option<Self> {
        match reply {
            PublicationReply::RegisterStoryIp(r) => Some(r),
            _ => None,
        }
    }
}

/// The ticket to work on `request`'s publication, or its stored reply (`Ok(Err(reply))`).
fn open<T: Reply, Q: CandidType>(
    request_id: &str,
    request: &Q,
    now: Now,
) -> Result<Result<Ticket, T>, PublishError> {
    let digest = request::digest(request);
    match ledger::begin(T::KIND, request_id, &digest, now)? {
        Begin::Work(ticket) => Ok(Ok(ticket)),
        Begin::Done(stored) => T::from_stored(stored)
            .map(Err)
            .ok_or_else(|| PublishError::RequestIdReused(request_id.to_string())),
    }
}

/// Stores a successful reply for retries; caps a failure's details.
fn close<R: Runtime, T: Reply>(
    rt: &R,
    ticket: Ticket,
    result: Result<T, PublishError>,
) -> Result<T, PublishError> {
    let reply = result.map_err(capped)?;
    ledger::complete(ticket, reply.clone().stored(), Now::from_ns(rt.time_ns()));
    Ok(reply)
}

/// `finalize_track`: registers the track and its content on Tempo (see [`finalize`]).
pub async fn finalize_track<R: Runtime>(
    rt: &R,
    request: FinalizeTrackRequest,
    now: Now,
) -> Result<FinalizeTrackReply, PublishError> {
    authorize(rt)?;
    let tempo = finalize::Tempo::load(state::with_config(|c| c.publishing.tempo.clone()))?;
    let valid = ValidFinalize::parse(&request)?;
    let ticket = match open(&request.request_id, &request, now)? {
        Ok(ticket) => ticket,
        Err(done) => return Ok(done),
    };
    let result = finalize::run(rt, &ticket, &tempo, &valid).await;
    close(rt, ticket, result)
}

/// `attest_scrobble_batch`: the EAS attestation of a scrobble batch (see [`attest`]).
pub async fn attest_scrobble_batch<R: Runtime>(
    rt: &R,
    request: AttestScrobbleBatchRequest,
    now: Now,
) -> Result<AttestScrobbleBatchReply, PublishError> {
    authorize(rt)?;
    let eas = attest::Eas::load(state::with_config(|c| c.publishing.eas.clone()))?;
    let valid = ValidAttestation::parse(&request)?;
    let ticket = match open(&request.request_id, &request, now)? {
        Ok(ticket) => ticket,
        Err(done) => return Ok(done),
    };
    let result = attest::run(rt, &ticket, &eas, &valid).await;
    close(rt, ticket, result)
}

/// `register_story_ip`: mints and registers the track as a Story IP (see [`story`]).
pub async fn register_story_ip<R: Runtime>(
    rt: &R,
    request: RegisterStoryIpRequest,
    now: Now,
) -> Result<RegisterStoryIpReply, PublishError> {
    authorize(rt)?;
    let story = story::Story::load(state::with_config(|c| c.publishing.story.clone()))?;
    let valid = story::ValidStory::parse(&request)?;
    let ticket = match open(&request.request_id, &request, now)? {
        Ok(ticket) => ticket,
        Err(done) => return Ok(done),
    };
    let result = story::run(rt, &ticket, &story, &valid).await;
    close(rt, ticket, result)
}

/// The publishing roles' EIP-55 addresses (fetching their keys on first use).
pub async fn publisher_addresses<R: Runtime>(rt: &R) -> Result<PublisherAddresses, String> {
    Ok(PublisherAddresses {
        tempo_operator: signer::checksum_address(rt, Role::TempoOperator).await?,
        tempo_sponsor: signer::checksum_address(rt, Role::TempoSponsor).await?,
        scrobble_attester: signer::checksum_address(rt, Role::ScrobbleAttester).await?,
        story_sponsor: signer::checksum_address(rt, Role::StorySponsor).await?,
    })
}
