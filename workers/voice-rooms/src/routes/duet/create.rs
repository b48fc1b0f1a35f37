//! `POST /duet/create` (JWT) → a new duet room: the body's terms checked as the original's
//! route did (network and asset allow-lists answer their `allowed` arrays, amounts in USDC or
//! base units), the room initialised by its actor, then listed in the index.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use super::{duet, forward, index_failed};
use crate::duet::body::Body;
use crate::duet::meta::{ALLOWED_NETWORK, BASE_SEPOLIA_USDC};
use crate::duet::room::is_address;
use crate::duet::{DuetCommand, InitRoom};
use crate::error::AppError;
use crate::rooms::db::DuetRow;
use crate::routes::extract::Session;
use crate::routes::rooms_shared::json_text;
use crate::state::AppState;

/// The default price of live entry and replay (0.10 USDC).
pub const DEFAULT_AMOUNT: &str = "100000";
/// The default entitlement window.
pub const DEFAULT_ACCESS_WINDOW_MINUTES: i64 = 1440;

fn refuse(code: &str) -> Response {
    json_text(400, Body::new().field("error", code).finish())
}

fn refuse_allowed(code: &str, allowed: &str) -> Response {
    json_text(
        400,
        Body::new()
            .field("error", code)
            .field("allowed", [allowed])
            .finish(),
    )
}

/// The original's `parseUsdcAmountToBaseUnits`: absent or null → `default`; a number is USDC;
/// a digit string is base units; a decimal string with ≤ 6 decimals is USDC. `None` is invalid.
pub fn parse_amount(value: Option<&Value>, default: &str) -> Option<String> {
    match value {
        None | Some(Value::Null) => Some(default.to_owned()),
        Some(Value::Number(n)) => {
            let x = n.as_f64()?;
            if !x.is_finite() || x < 0.0 {
                return None;
            }
            if x == 0.0 {
                return Some("0".to_owned());
            }
            let units = (x * 1_000_000.0).round();
            (units < 1e21).then(|| format!("{units:.0}"))
        }
        Some(Value::String(s)) => {
            let t = s.trim();
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if digits(t) {
                return Some(t.to_owned());
            }
            let (whole, frac) = t.split_once('.')?;
            if !digits(whole) || !digits(frac) || frac.len() > 6 {
                return None;
            }
            let joined = format!("{whole}{frac:0<6}");
            let trimmed = joined.trim_start_matches('0');
            Some(if trimmed.is_empty() { "0" } else { trimmed }.to_owned())
        }
        Some(_) => None,
    }
}

fn title(value: Option<&Value>) -> Option<String> {
    let t = value?.as_str()?.trim();
    (!t.is_empty()).then(|| t.chars().take(120).collect())
}

fn room_kind(value: Option<&Value>) -> Option<String> {
    let k = value?.as_str()?.trim().to_lowercase();
    matches!(k.as_str(), "dj_set" | "duet" | "open_jam" | "class").then_some(k)
}

fn text_or<'a>(body: &'a Value, key: &str, default: &'a str) -> Option<&'a str> {
    match body.get(key) {
        None | Some(Value::Null) => Some(default),
        Some(v) => v.as_str(),
    }
}

/// Handler.
pub async fn create(
    State(state): State<AppState>,
    Session(sub): Session,
    body: Bytes,
) -> Result<Response, AppError> {
    let duet = duet(&state)?;
    let wallet = sub.to_lowercase();
    // An unparseable body is `{}`, as the original's `.catch(() => ({}))`.
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(split) = body
        .get("split_address")
        .and_then(Value::as_str)
        .filter(|s| is_address(s))
    else {
        return Ok(refuse("invalid_split_address"));
    };
    let guest = match body.get("guest_wallet") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if is_address(s) => Some(s.to_lowercase()),
        Some(_) => return Ok(refuse("invalid_guest_wallet")),
    };
    let network = match text_or(&body, "network", ALLOWED_NETWORK) {
        Some(n @ ("eip155:8453" | "eip155:84532")) => n,
        _ => return Ok(refuse("invalid_network")),
    };
    if network != ALLOWED_NETWORK {
        return Ok(refuse_allowed("network_not_allowed", ALLOWED_NETWORK));
    }
    let Some(asset) = text_or(&body, "asset_usdc", BASE_SEPOLIA_USDC)
        .map(str::to_lowercase)
        .filter(|a| is_address(a))
    else {
        return Ok(refuse("invalid_asset_usdc"));
    };
    if asset != BASE_SEPOLIA_USDC {
        return Ok(refuse_allowed("asset_not_allowed", BASE_SEPOLIA_USDC));
    }
    let Some(live_amount) = parse_amount(body.get("live_amount"), DEFAULT_AMOUNT) else {
        return Ok(refuse("invalid_live_amount"));
    };
    let Some(replay_amount) = parse_amount(body.get("replay_amount"), DEFAULT_AMOUNT) else {
        return Ok(refuse("invalid_replay_amount"));
    };
    let window = match body.get("access_window_minutes") {
        None | Some(Value::Null) => Some(DEFAULT_ACCESS_WINDOW_MINUTES as f64),
        Some(v) => v.as_f64().filter(|m| m.is_finite() && *m > 0.0),
    };
    let Some(window) = window.map(|m| m.floor() as i64) else {
        return Ok(refuse("invalid_access_window"));
    };
    // `floor` of a window in (0, 1) is 0, which the room refuses as the DO did.
    let Some(replay_mode) = text_or(&body, "replay_mode", "worker_gated")
        .filter(|m| matches!(*m, "load_gated" | "worker_gated"))
    else {
        return Ok(refuse("invalid_replay_mode"));
    };
    let Some(recording_mode) = text_or(&body, "recording_mode", "host_local")
        .filter(|m| matches!(*m, "host_local" | "agora_cloud"))
    else {
        return Ok(refuse("invalid_recording_mode"));
    };
    let visibility = if body.get("visibility").and_then(Value::as_str) == Some("unlisted") {
        "unlisted"
    } else {
        "public"
    };
    let room_id = uuid::Uuid::new_v4().to_string();
    let init = InitRoom {
        room_id: room_id.clone(),
        host_wallet: wallet.clone(),
        guest_wallet: guest.clone(),
        split_address: split.to_lowercase(),
        network: network.to_owned(),
        asset_usdc: asset,
        live_amount: live_amount.clone(),
        replay_amount: replay_amount.clone(),
        access_window_minutes: window,
        replay_mode: replay_mode.to_owned(),
        recording_mode: recording_mode.to_owned(),
        agora_channel: format!("heaven-duet-{room_id}"),
    };
    let answer = duet
        .call(&room_id, DuetCommand::Init(Box::new(init)))
        .await?;
    if answer.status == 200 {
        let now = duet.now();
        let row = DuetRow {
            room_id: room_id.clone(),
            host_wallet: wallet,
            guest_wallet: guest,
            status: "created".to_owned(),
            split_address: split.to_lowercase(),
            network: network.to_owned(),
            live_amount,
            replay_amount,
            visibility: visibility.to_owned(),
            title: title(body.get("title")),
            room_kind: room_kind(body.get("room_kind")),
            listener_count: 0,
            live_started_at: None,
            ended_at: None,
            created_at: now,
            updated_at: now,
        };
        if let Err(err) = duet.db().upsert_duet_room(&row).await {
            index_failed(&room_id, "insert", err);
        }
    }
    Ok(forward(answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_parse_as_the_original() {
        let p = |v: Value| parse_amount(Some(&v), "100000");
        assert_eq!(parse_amount(None, "100000").as_deref(), Some("100000"));
        assert_eq!(p(Value::Null).as_deref(), Some("100000"));
        assert_eq!(p(json!(0)).as_deref(), Some("0"));
        assert_eq!(p(json!(0.1)).as_deref(), Some("100000"));
        assert_eq!(p(json!(1.5)).as_deref(), Some("1500000"));
        assert_eq!(p(json!(-1)), None);
        assert_eq!(p(json!("1")).as_deref(), Some("1"));
        assert_eq!(p(json!(" 250 ")).as_deref(), Some("250"));
        assert_eq!(p(json!("0.25")).as_deref(), Some("250000"));
        assert_eq!(p(json!("0.0")).as_deref(), Some("0"));
        assert_eq!(p(json!("0.1234567")), None);
        assert_eq!(p(json!("1e3")), None);
        assert_eq!(p(json!(true)), None);
    }

    #[test]
    fn titles_and_kinds_are_normalised() {
        assert_eq!(title(Some(&json!("  hi  "))).as_deref(), Some("hi"));
        assert_eq!(title(Some(&json!("   "))), None);
        assert_eq!(title(Some(&json!("x".repeat(200)))).unwrap().len(), 120);
        assert_eq!(
            room_kind(Some(&json!(" DJ_Set "))).as_deref(),
            Some("dj_set")
        );
        assert_eq!(room_kind(Some(&json!("party"))), None);
    }
}
