//! The publishing signer as workers see it (issue #18): [`PublishingClient`], the chain writes
//! of music publishing built and signed by the identity canister from typed requests, and
//! [`AgentPublishing`], its ic-agent implementation over the canister crate's own candid
//! types (`identity_canister::endpoints::publishing`). The local stack's in-process
//! implementation lives in `heaven` (over the native identity canister).
//!
//! Retrying is safe at both levels: ic-agent resubmits one signed update under one IC request
//! id ([`CanisterAgent::update`]), and the canister dedupes on the request's own
//! `request_id`, so a worker that gave up waiting (a finalize can outlast the call timeout:
//! each chain read, send and receipt is an outcall) calls again with the same id and gets
//! either [`PublishError::InProgress`] or the finished reply — never a second transaction.

use async_trait::async_trait;
use candid::{Decode, Encode, Principal};
use identity_canister::endpoints::publishing::{
    AttestScrobbleBatchReply, AttestScrobbleBatchRequest, FinalizeTrackReply, FinalizeTrackRequest,
    PublishError, RegisterStoryIpReply, RegisterStoryIpRequest,
};

use crate::agent::CanisterAgent;
use crate::error::{BridgeError, record_failure};

/// Why a publication did not come back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublishingError {
    /// The canister answered with a refusal or a failed chain write.
    #[error(transparent)]
    Canister(#[from] PublishError),
    /// The canister could not be reached or its answer used.
    #[error(transparent)]
    Bridge(#[from] BridgeError),
}

impl PublishingError {
    /// Whether calling again with the same request id may succeed (the canister was
    /// unreachable, is still working on it, or a chain write did not get through yet).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Bridge(e) => e.is_retryable(),
            Self::Canister(PublishError::InProgress(_) | PublishError::Failed(_)) => true,
            Self::Canister(_) => false,
        }
    }
}

/// The publishing signer's methods workers call.
#[async_trait]
pub trait PublishingClient: Send + Sync {
    /// Registers a published track and its content on Tempo (contracts §6.7).
    async fn finalize_track(
        &self,
        request: FinalizeTrackRequest,
    ) -> Result<FinalizeTrackReply, PublishingError>;

    /// Attests an uploaded scrobble batch on EAS (contracts §1.6).
    async fn attest_scrobble_batch(
        &self,
        request: AttestScrobbleBatchRequest,
    ) -> Result<AttestScrobbleBatchReply, PublishingError>;

    /// Mints and registers a published track as a Story IP asset (contracts §6.6).
    async fn register_story_ip(
        &self,
        request: RegisterStoryIpRequest,
    ) -> Result<RegisterStoryIpReply, PublishingError>;
}

/// The publishing signer (the identity canister) through ic-agent.
#[derive(Clone, Debug)]
pub struct AgentPublishing {
    agent: CanisterAgent,
    canister: Principal,
}

impl AgentPublishing {
    /// The client of the identity canister `canister` through `agent`.
    pub fn new(agent: CanisterAgent, canister: Principal) -> Self {
        Self { agent, canister }
    }
}

impl AgentPublishing {
    /// One update of the publishing signer: the canister's answer, or why none came.
    async fn call<Req, Rep>(
        &self,
        method: &'static str,
        request: &Req,
    ) -> Result<Rep, PublishingError>
    where
        Req: candid::CandidType,
        Rep: candid::CandidType + for<'de> candid::Deserialize<'de>,
    {
        let reply = async {
            let arg = Encode!(request).map_err(|e| BridgeError::Protocol(e.to_string()))?;
            let bytes = self.agent.update(self.canister, method, arg).await?;
            Decode!(&bytes, Result<Rep, PublishError>)
                .map_err(|e| BridgeError::Protocol(format!("{method} reply: {e}")))
        }
        .await;
        match reply {
            Ok(answer) => answer.map_err(PublishingError::Canister),
            Err(err) => {
                record_failure("identity", method, &err);
                Err(PublishingError::Bridge(err))
            }
        }
    }
}

#[async_trait]
impl PublishingClient for AgentPublishing {
    async fn finalize_track(
        &self,
        request: FinalizeTrackRequest,
    ) -> Result<FinalizeTrackReply, PublishingError> {
        self.call("finalize_track", &request).await
    }

    async fn attest_scrobble_batch(
        &self,
        request: AttestScrobbleBatchRequest,
    ) -> Result<AttestScrobbleBatchReply, PublishingError> {
        self.call("attest_scrobble_batch", &request).await
    }

    async fn register_story_ip(
        &self,
        request: RegisterStoryIpRequest,
    ) -> Result<RegisterStoryIpReply, PublishingError> {
        self.call("register_story_ip", &request).await
    }
}
