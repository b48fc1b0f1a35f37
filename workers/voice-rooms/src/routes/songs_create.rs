//! `POST /songs` (Admin: `Authorization: Bearer <SONG_REGISTRY_ADMIN_TOKEN>`, compared after
//! trimming the header): registers a song with its Story IP id and the controller's EIP-712
//! payout attestation. Checks run in the original's order: 500
//! `song_registry_admin_not_configured`, 401 `unauthorized`, then 400 `missing_title`,
//! `missing_artist`, `missing_story_ip_id`, `invalid_controller_wallet`,
//! `invalid_payout_address`, `payout_chain_not_allowed`, `invalid_default_upstream_bps`,
//! `invalid_payout_attestation_sig`, 409 `story_ip_id_already_registered` with the existing
//! `song_id`, 400 `invalid_attestation_signature`; then 200 `{"ok":true,"song_id":<uuid>}`.
//! A body that is not JSON counts as `{}` (so `missing_title`), as the original's `catch`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use http_common::json_error;
use serde_json::{Value, json};

use crate::auth::Wallet;
use crate::error::AppError;
use crate::songs::{Inserted, PAYOUT_CHAIN_ID, Song, payout_attestation_signed_by, text};
use crate::state::AppState;

/// Longest title, artist and story id kept (UTF-16 units; longer ones are cut silently).
pub const MAX_TEXT_UNITS: usize = 256;
/// Longest license preset id kept.
pub const MAX_LICENSE_PRESET_UNITS: usize = 128;
/// Highest upstream royalty.
pub const MAX_BPS: f64 = 10_000.0;

/// Handler.
pub async fn create_song(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let Some(admin) = state.service_tokens().song_registry_admin.as_deref() else {
        return Ok(json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "song_registry_admin_not_configured",
        ));
    };
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if text::trim(authorization) != format!("Bearer {admin}") {
        return Ok(json_error(StatusCode::UNAUTHORIZED, "unauthorized"));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let song = match validate(&body) {
        Ok(song) => song,
        Err(code) => return Ok(json_error(StatusCode::BAD_REQUEST, code)),
    };
    let registry = state.songs();
    if let Some(existing) = registry
        .song_of_story(&song.story_ip_id)
        .await
        .map_err(AppError::internal)?
    {
        return Ok(already_registered(existing));
    }
    if !song.attestation_verifies() {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "invalid_attestation_signature",
        ));
    }
    let now = state.now();
    let row = song.into_row(uuid::Uuid::new_v4().to_string(), now);
    match registry.insert(&row).await.map_err(AppError::internal)? {
        Inserted::Stored => Ok(Json(json!({"ok": true, "song_id": row.song_id})).into_response()),
        // A concurrent create of the same story id won the unique index (the original
        // crashed into a 500 here).
        Inserted::DuplicateStoryId => {
            let existing = registry
                .song_of_story(&row.story_ip_id)
                .await
                .map_err(AppError::internal)?
                .ok_or_else(|| AppError::internal("story id vanished after a unique violation"))?;
            Ok(already_registered(existing))
        }
    }
}

fn already_registered(song_id: String) -> Response {
    (
        StatusCode::CONFLICT,
        Json(json!({"error": "story_ip_id_already_registered", "song_id": song_id})),
    )
        .into_response()
}

/// A request that passed the field checks.
struct Candidate {
    title: String,
    artist: String,
    story_ip_id: String,
    controller: Wallet,
    payout_chain_id: u64,
    payout_address: Wallet,
    upstream_bps: u64,
    signature: String,
    license_preset_id: Option<String>,
}

/// A string field trimmed and cut, or `""` when absent or not a string.
fn text_field(body: &Value, key: &str, max_units: usize) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .map(|s| text::cut_utf16(text::trim(s), max_units).to_owned())
        .unwrap_or_default()
}

/// A JSON number floored (`Number.isFinite` then `Math.floor`), else `default`.
fn floored(body: &Value, key: &str, default: f64) -> f64 {
    body.get(key)
        .and_then(Value::as_f64)
        .map_or(default, f64::floor)
}

fn is_signature_hex(s: &str) -> bool {
    s.strip_prefix("0x")
        .is_some_and(|d| d.len() == 130 && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn validate(body: &Value) -> Result<Candidate, &'static str> {
    let title = text_field(body, "title", MAX_TEXT_UNITS);
    let artist = text_field(body, "artist", MAX_TEXT_UNITS);
    let story_ip_id = text_field(body, "story_ip_id", MAX_TEXT_UNITS);
    let address = |key| {
        body.get(key)
            .and_then(Value::as_str)
            .and_then(|s| Wallet::parse(&text::trim(s).to_lowercase()))
    };
    let payout_chain_id = floored(body, "payout_chain_id", PAYOUT_CHAIN_ID as f64);
    let upstream_bps = floored(body, "default_upstream_bps", 0.0);
    if title.is_empty() {
        return Err("missing_title");
    }
    if artist.is_empty() {
        return Err("missing_artist");
    }
    if story_ip_id.is_empty() {
        return Err("missing_story_ip_id");
    }
    let controller = address("controller_wallet").ok_or("invalid_controller_wallet")?;
    let payout_address = address("payout_address").ok_or("invalid_payout_address")?;
    if payout_chain_id != PAYOUT_CHAIN_ID as f64 {
        return Err("payout_chain_not_allowed");
    }
    if !(0.0..=MAX_BPS).contains(&upstream_bps) {
        return Err("invalid_default_upstream_bps");
    }
    let signature = body
        .get("payout_attestation_sig")
        .and_then(Value::as_str)
        .filter(|s| is_signature_hex(s))
        .ok_or("invalid_payout_attestation_sig")?;
    Ok(Candidate {
        title,
        artist,
        story_ip_id,
        controller,
        payout_chain_id: PAYOUT_CHAIN_ID,
        payout_address,
        upstream_bps: upstream_bps as u64,
        signature: signature.to_owned(),
        license_preset_id: body
            .get("license_preset_id")
            .and_then(Value::as_str)
            .map(|s| text::cut_utf16(text::trim(s), MAX_LICENSE_PRESET_UNITS).to_owned()),
    })
}

impl Candidate {
    fn attestation_verifies(&self) -> bool {
        let (Some(controller), Some(payout)) = (
            heaven_eth::address::parse(self.controller.as_str()),
            heaven_eth::address::parse(self.payout_address.as_str()),
        ) else {
            return false;
        };
        payout_attestation_signed_by(
            &controller,
            &self.story_ip_id,
            self.payout_chain_id,
            &payout,
            self.upstream_bps,
            &self.signature,
        )
    }

    fn into_row(self, song_id: String, now: i64) -> Song {
        Song {
            song_id,
            title_norm: text::normalise(&self.title),
            artist_norm: text::normalise(&self.artist),
            title: self.title,
            artist: self.artist,
            story_ip_id: self.story_ip_id,
            controller_wallet: self.controller.as_str().to_owned(),
            payout_chain_id: self.payout_chain_id as i64,
            payout_address: self.payout_address.as_str().to_owned(),
            default_upstream_bps: self.upstream_bps as i64,
            payout_attestation_sig: self.signature,
            license_preset_id: self.license_preset_id,
            created_at: now,
            updated_at: now,
        }
    }
}
