//! `POST /api/music/publish/:jobId/finalize` (Tempo finalize, Android's last step): 501 until
//! the canister-side signer (`canister_bridge`'s publishing client) is wired in; this worker
//! holds no key.

use crate::error::MediaError;

/// The handler.
pub async fn handle() -> MediaError {
    MediaError::not_implemented()
}
