//! `POST /api/scrobble/submit`: a batch of scrobbles from the caller, resolved, stored and
//! anchored through the blob store, recorded as track events and attested when the
//! publishing signer has EAS enabled (contracts §1.6; the pipeline is [`crate::scrobble`]).

use axum::extract::{Request, State};

use crate::error::{Fields, MediaResult};
use crate::scrobble::{self, auth};
use crate::state::MediaState;

/// Largest body read: 500 tracks with 32 000-character fingerprints fit.
const MAX_BODY: usize = 24 << 20;

/// The handler.
pub async fn handle(State(state): State<MediaState>, request: Request) -> MediaResult<Fields> {
    let user = auth::scrobbler(request.headers(), state.config().development)?;
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| auth::refusal(axum::http::StatusCode::BAD_REQUEST, "Invalid JSON body"))?;
    scrobble::submit(&state, &user, &body).await
}
