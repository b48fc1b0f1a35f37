//! `GET /api/study-sets/:trackId?language=|lang=&version=|v=` (contracts §1.12): the study
//! set registered on chain for a track, language and version, fetched from its ref and
//! checked against the registry's hash. Checks, statuses and bodies are the original's
//! (`{success:false, error, …}` on failure).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::json;

use crate::error::{Fields, MediaError, MediaResult};
use crate::js_value;
use crate::scrobble::auth::refusal;
use crate::state::MediaState;
use crate::study_sets::StudySetError;

/// The first value of `name` in the query string, percent-decoded.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `asString`: trimmed, non-empty.
fn as_string(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn is_bytes32_hex(v: &str) -> bool {
    v.len() == 66 && v.starts_with("0x") && v[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `parseVersion`: absent is 1; else `Math.floor(Number(raw))` in [1, 255].
fn version(raw: Option<String>) -> Option<u8> {
    let Some(raw) = raw else {
        return Some(1);
    };
    let n = js_value::number(&serde_json::Value::String(raw));
    if !n.is_finite() {
        return None;
    }
    js_value::integer_in(n.floor(), 1.0, 255.0).map(|v| v as u8)
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(track_id): Path<String>,
    RawQuery(query): RawQuery,
) -> MediaResult<Fields> {
    let query = query.as_deref();
    let track_id = as_string(Some(track_id))
        .filter(|t| is_bytes32_hex(t))
        .ok_or_else(|| {
            refusal(
                StatusCode::BAD_REQUEST,
                "trackId must be a 32-byte hex string (0x + 64 hex)",
            )
        })?;
    let language = as_string(query_param(query, "language"))
        .or_else(|| as_string(query_param(query, "lang")))
        .ok_or_else(|| {
            refusal(
                StatusCode::BAD_REQUEST,
                "language (or lang) query param is required",
            )
        })?;
    let version = version(query_param(query, "version").or_else(|| query_param(query, "v")))
        .ok_or_else(|| {
            refusal(
                StatusCode::BAD_REQUEST,
                "version must be an integer in [1, 255]",
            )
        })?;
    let config = &state.config().study_sets;
    let registry = match config.registry.as_deref() {
        None | Some("") => {
            return Err(refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Server misconfiguration (TEMPO_STUDY_SET_REGISTRY missing)",
            ));
        }
        Some(raw) => heaven_eth::address::parse(raw).ok_or_else(|| {
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Server misconfiguration (TEMPO_STUDY_SET_REGISTRY invalid address)",
            )
        })?,
    };
    let track = heaven_eth::hex32::parse_b256(&track_id.to_lowercase())
        .ok_or_else(|| MediaError::internal("a checked bytes32 did not parse"))?;

    let failed = |e: StudySetError| match e {
        StudySetError::HashMismatch { expected, actual } => MediaError::with_body(
            StatusCode::BAD_GATEWAY,
            Fields::default()
                .with("success", false)
                .with("code", "hash_mismatch")
                .with(
                    "error",
                    "On-chain studySetHash does not match fetched payload",
                )
                .with("expectedHash", expected)
                .with("actualHash", actual),
        ),
        StudySetError::Failed(message) => refusal(
            StatusCode::BAD_GATEWAY,
            &format!("Failed to resolve study set: {message}"),
        ),
    };
    let entry = state
        .study_sets()
        .entry(registry, track, &language, version)
        .await
        .map_err(failed)?;
    if !entry.exists || entry.study_set_ref.is_empty() {
        return Err(MediaError::with_body(
            StatusCode::NOT_FOUND,
            Fields::default()
                .with("success", false)
                .with("code", "not_found")
                .with("error", "No study set found for trackId/language/version"),
        ));
    }
    let fetched = state
        .study_sets()
        .pack(&entry.study_set_ref, &entry.study_set_hash)
        .await
        .map_err(failed)?;
    Ok(Fields::default()
        .with("success", true)
        .with("cached", true)
        .with(
            "registry",
            json!({
                "contract": heaven_eth::address::to_checksum(&registry),
                "trackId": track_id,
                "language": language,
                "version": version,
                "studySetRef": entry.study_set_ref,
                "studySetHash": entry.study_set_hash,
                "submitter": entry.submitter,
                "createdAt": entry.created_at,
            }),
        )
        .with(
            "storage",
            json!({ "fetchedFrom": fetched.fetched_from, "bytes": fetched.bytes }),
        )
        .with_ordered("pack", fetched.pack))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_the_original() {
        assert_eq!(version(None), Some(1));
        assert_eq!(version(Some("2".into())), Some(2));
        assert_eq!(version(Some("2.9".into())), Some(2));
        assert_eq!(version(Some("".into())), None);
        assert_eq!(version(Some("0".into())), None);
        assert_eq!(version(Some("256".into())), None);
        assert_eq!(version(Some("x".into())), None);
    }

    #[test]
    fn query_params_are_decoded() {
        assert_eq!(
            query_param(Some("lang=es%20&v=1"), "lang").as_deref(),
            Some("es ")
        );
        assert_eq!(query_param(Some("lang=es"), "language"), None);
    }
}
