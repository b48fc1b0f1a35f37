//! `POST /duet/:id/segments/start` (JWT, host) → a new current segment with its own payee
//! (`pay_to`, checked here first as the original's route did); a `song_id` takes its rights
//! from the songs registry (its payout chain must be Base Sepolia). At most 500 segments.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{duet, forward};
use crate::duet::DuetCommand;
use crate::duet::body::Body;
use crate::duet::room::is_address;
use crate::error::AppError;
use crate::routes::extract::Session;
use crate::routes::rooms_shared::json_text;
use crate::state::AppState;

/// The only payout chain a song may have.
pub const SONG_PAYOUT_CHAIN_ID: i64 = 84532;

/// Handler.
pub async fn start(
    State(state): State<AppState>,
    Session(sub): Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(pay_to) = body
        .get("pay_to")
        .and_then(Value::as_str)
        .filter(|p| is_address(p))
    else {
        return Ok(json_text(
            400,
            Body::new().field("error", "invalid_pay_to").finish(),
        ));
    };
    let mut rights = body.get("rights").cloned();
    let mut song_error = None;
    if let Some(song_id) = body
        .get("song_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match state
            .songs()
            .get(song_id)
            .await
            .map_err(AppError::internal)?
        {
            None => song_error = Some("song_not_found".to_owned()),
            Some(song) if song.payout_chain_id != SONG_PAYOUT_CHAIN_ID => {
                song_error = Some("song_payout_chain_not_allowed".to_owned());
            }
            Some(song) => {
                rights = Some(json!({
                    "kind": "derivative",
                    "source_story_ip_ids": [song.story_ip_id],
                    "upstream_bps": song.default_upstream_bps,
                    "upstream_payout": song.payout_address,
                    "attestations": [{
                        "source_ip_id": song.story_ip_id,
                        "payout": song.payout_address,
                        "sig": song.payout_attestation_sig,
                    }],
                }));
            }
        }
    }
    let command = DuetCommand::SegmentStart {
        wallet: sub.to_lowercase(),
        pay_to: pay_to.to_lowercase(),
        rights,
        song_error,
    };
    Ok(forward(duet.call(&id, command).await?))
}
