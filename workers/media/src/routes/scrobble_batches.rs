//! `GET /api/scrobble/batches`: the caller's newest 100 batches, newest first
//! (`{batches:[{cid, count, startTs, endTs, createdAt}]}`). The original never attached its
//! auth middleware here and always answered 401; the middleware is attached (ADR 0030), so
//! the list is the authenticated caller's and nobody else's.

use axum::extract::State;
use axum::http::HeaderMap;

use crate::error::{Fields, MediaResult};
use crate::scrobble::{self, auth};
use crate::state::MediaState;

/// The handler.
pub async fn handle(State(state): State<MediaState>, headers: HeaderMap) -> MediaResult<Fields> {
    let user = auth::scrobbler(&headers, state.config().development)?;
    scrobble::batches(&state, &user).await
}
