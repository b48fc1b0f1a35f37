//! `GET /songs/search?q=` (no auth): `q` cut to 128 UTF-16 units and normalised; shorter than
//! two units → `{"songs":[]}`; else up to 25 rows whose normalised title or artist or story
//! id contain it (`LIKE`, `%` and `_` not escaped, as the original), newest `updated_at`
//! first → `{"songs":[{song_id, title, artist, story_ip_id, payout_chain_id,
//! payout_address, default_upstream_bps, license_preset_id, updated_at}]}`.

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;

use crate::error::AppError;
use crate::songs::{SongSummary, text};
use crate::state::AppState;

/// Longest query kept.
pub const MAX_QUERY_UNITS: usize = 128;

/// The answer.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    /// Hits.
    pub songs: Vec<SongSummary>,
}

/// Handler. Of repeated `q` parameters the first counts, as Hono's `query('q')`.
pub async fn search(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<SearchResults>, AppError> {
    let raw = params
        .iter()
        .find(|(key, _)| key == "q")
        .map_or("", |(_, value)| value.as_str());
    let needle = text::normalise(text::cut_utf16(raw, MAX_QUERY_UNITS));
    if text::utf16_len(&needle) < 2 {
        return Ok(Json(SearchResults { songs: Vec::new() }));
    }
    let songs = state
        .songs()
        .search(&needle)
        .await
        .map_err(AppError::internal)?;
    Ok(Json(SearchResults { songs }))
}
