//! `POST /session/:id/attest` (Service: `x-service-token` equal to `ORACLE_SERVICE_TOKEN`):
//! 503 `oracle not configured` when the token is unset, 403 `forbidden` when the header is
//! missing or differs; then the credits canister attests the booking (query `force_outcome`,
//! an empty value counting as absent) and its answer is sent as the original sent it: 200
//! `{"outcome","tx_hash"}`, or the refusal's status with `{"error"}`. The original's 503
//! `oracle key not configured` (no `ORACLE_PRIVATE_KEY`) is now the canister's answer when
//! its attestation is switched off; it signs with threshold ECDSA, so no key is configured
//! here. A canister that does not answer is 503 `service unavailable`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use http_common::json_error;
use serde_json::json;

use crate::credits::AttestOutcome;
use crate::error::AppError;
use crate::state::AppState;

/// Handler.
pub async fn attest(
    State(state): State<AppState>,
    Path(booking_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(expected) = state.service_tokens().oracle_service.as_deref() else {
        return Ok(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "oracle not configured",
        ));
    };
    let presented = headers
        .get("x-service-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if presented.is_empty() || !same_secret(presented, expected.as_bytes()) {
        return Ok(json_error(StatusCode::FORBIDDEN, "forbidden"));
    }
    let force_outcome = params
        .iter()
        .find(|(key, _)| key == "force_outcome")
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty());
    match state
        .credits()
        .attest_booking(&booking_id, force_outcome)
        .await?
    {
        AttestOutcome::Submitted { outcome, tx_hash } => {
            tracing::info!(booking = %booking_id.trim(), %outcome, %tx_hash, "session attested");
            Ok(Json(json!({"outcome": outcome, "tx_hash": tx_hash})).into_response())
        }
        AttestOutcome::Refused { status, error } => {
            tracing::warn!(booking = %booking_id.trim(), status, %error, "session attestation refused");
            let status = StatusCode::from_u16(status).map_err(AppError::internal)?;
            Ok(json_error(status, &error))
        }
    }
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
