//! Who may use `/api/music/preflight` and `/api/music/publish/*` (the original's
//! `requireMusicAccess`): an address in `X-User-Address` (or, when that header is absent, in
//! `X-User-Pkp`, which the Android app still sends — contracts/api-core.md §0.2), verified
//! with Self according to the identity canister, and not under an active upload ban.

use axum::http::{HeaderMap, StatusCode};

use crate::error::{MediaError, MediaResult};
use crate::state::MediaState;

/// The caller's lowercase address, or the original's 401.
pub fn caller_address(headers: &HeaderMap) -> MediaResult<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let raw = header("x-user-address")
        .or_else(|| header("x-user-pkp"))
        .unwrap_or_default();
    normalize_address(raw).ok_or_else(|| {
        MediaError::new(
            StatusCode::UNAUTHORIZED,
            "Missing or invalid X-User-Address header",
        )
    })
}

/// `address` trimmed and lowercased if it is `0x` and 40 hex digits.
pub fn normalize_address(address: &str) -> Option<String> {
    let clean = address.trim().to_lowercase();
    let hex = clean.strip_prefix("0x")?;
    (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(clean)
}

/// Checks the caller may publish music and returns their address.
pub async fn require_music_access(state: &MediaState, headers: &HeaderMap) -> MediaResult<String> {
    let user = caller_address(headers)?;
    let identity = state
        .identity()
        .identity_of(&user)
        .await
        .map_err(MediaError::unavailable)?;
    if identity.is_none() {
        return Err(MediaError::new(
            StatusCode::FORBIDDEN,
            "Self.xyz verification required for music upload/publish",
        ));
    }
    if let Some(ban) = state.bans().active(&user, state.now()).await? {
        return Err(
            MediaError::new(StatusCode::FORBIDDEN, "Upload access blocked")
                .with("reasonCode", ban.reason_code)
                .with("reason", ban.reason),
        );
    }
    Ok(user)
}
