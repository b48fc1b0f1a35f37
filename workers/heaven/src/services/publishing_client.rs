//! The publishing signer in the local stack: the native identity canister this process runs,
//! called in process as its dev controller (`canister_bridge::AgentPublishing` takes its place
//! against a deployed canister). The media worker's finalize goes through
//! [`canister_bridge::PublishingClient`] either way.

use async_trait::async_trait;
use canister_bridge::{BridgeError, PublishingClient, PublishingError};
use identity_canister::endpoints::publishing::{
    AttestScrobbleBatchReply, AttestScrobbleBatchRequest, FinalizeTrackReply, FinalizeTrackRequest,
    RegisterStoryIpReply, RegisterStoryIpRequest,
};
use identity_canister::native::{NativeIdentity, NativeIdentityError};

/// The in-process identity canister as the publishing client.
#[derive(Clone, Debug)]
pub struct InProcessPublishing(pub NativeIdentity);

/// A canister thread that is gone is unreachable (retry); a panicked message was rejected.
fn client_error(err: NativeIdentityError) -> PublishingError {
    let bridge = match err {
        NativeIdentityError::Panicked => BridgeError::Rejected {
            code: 5,
            message: err.to_string(),
            error_code: "-".into(),
        },
        other => BridgeError::Unreachable(other.to_string()),
    };
    PublishingError::Bridge(bridge)
}

#[async_trait]
impl PublishingClient for InProcessPublishing {
    async fn finalize_track(
        &self,
        request: FinalizeTrackRequest,
    ) -> Result<FinalizeTrackReply, PublishingError> {
        self.0
            .finalize_track(request)
            .await
            .map_err(client_error)?
            .map_err(PublishingError::Canister)
    }

    async fn attest_scrobble_batch(
        &self,
        request: AttestScrobbleBatchRequest,
    ) -> Result<AttestScrobbleBatchReply, PublishingError> {
        self.0
            .attest_scrobble_batch(request)
            .await
            .map_err(client_error)?
            .map_err(PublishingError::Canister)
    }

    async fn register_story_ip(
        &self,
        request: RegisterStoryIpRequest,
    ) -> Result<RegisterStoryIpReply, PublishingError> {
        self.0
            .register_story_ip(request)
            .await
            .map_err(client_error)?
            .map_err(PublishingError::Canister)
    }
}
