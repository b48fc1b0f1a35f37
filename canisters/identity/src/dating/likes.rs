//! `POST /api/likes` and `GET /api/likes/received` (contracts/api-core.md §1.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now};
use crate::secret::sha256_hex;
use crate::state::audit::directory::{liked_back, profiles_claimed_by, target_address};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, Cbor, State, keys};

use super::{avatar_url, is_address_any_case, viewer_param};

/// Body of `POST /api/likes`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LikeBody {
    viewer_address: Field,
    target_type: Field,
    target_id: Field,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LikeAnswer<'a> {
    success: bool,
    mutual: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    match_id: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Throttled {
    success: bool,
    error: &'static str,
    retry_after: u64,
}

/// A validated like.
struct LikeRequest {
    viewer: String,
    target_type: &'static str,
    target_id: String,
}

/// The target id as the original stored it: strings as sent, numbers as JavaScript prints
/// them; other JSON types could not be stored (the original answered 500).
fn target_id_text(field: &Field) -> Result<String, ApiError> {
    match field.value() {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(field
            .integer()
            .map_or_else(|| n.to_string(), |i| i.to_string())),
        _ => Err(ApiError::failure(400, "Invalid target ID")),
    }
}

fn validate(body: &LikeBody) -> Result<LikeRequest, ApiError> {
    let viewer = body
        .viewer_address
        .as_str()
        .filter(|v| is_address_any_case(v))
        .ok_or_else(|| ApiError::failure(400, "Invalid viewer address"))?
        .to_lowercase();
    let target_type = match body.target_type.as_str() {
        Some("shadow") => "shadow",
        Some("user") => "user",
        _ => return Err(ApiError::failure(400, "Invalid target type")),
    };
    if !body.target_id.is_truthy() {
        return Err(ApiError::failure(400, "Missing target ID"));
    }
    let target_id = if target_type == "user" {
        body.target_id
            .as_str()
            .filter(|t| is_address_any_case(t))
            .ok_or_else(|| ApiError::failure(400, "Invalid target address"))?
            .to_string()
    } else {
        target_id_text(&body.target_id)?
    };
    Ok(LikeRequest {
        viewer,
        target_type,
        target_id,
    })
}

/// Window keys of `kind|value` written after `since`.
fn in_window(s: &State, kind: char, value: &str, since: u64) -> usize {
    let (prefix, start) = keys::window_range(kind, value, since + 1);
    s.like_windows()
        .keys_range(start..)
        .take_while(|k| k.starts_with(&prefix))
        .filter(|k| keys::is_window_tail(&k[prefix.len()..]))
        .count()
}

/// 429 when the viewer or the client IP used up its window.
fn check_limits(s: &State, viewer: &str, ip_hash: Option<&str>, now: Now) -> Result<(), ApiError> {
    let limits = &s.config().likes;
    let since = now.secs().saturating_sub(limits.window_seconds);
    let over_viewer = in_window(s, 'v', viewer, since) >= limits.per_viewer as usize;
    let over_ip = ip_hash.is_some_and(|ip| in_window(s, 'i', ip, since) >= limits.per_ip as usize);
    if over_viewer || over_ip {
        return Err(ApiError::with_body(
            429,
            &Throttled {
                success: false,
                error: "Too many likes, try again later",
                retry_after: limits.window_seconds,
            },
        ));
    }
    Ok(())
}

/// `POST /api/likes`: `client_ip` is the IP a trusted edge vouched for (the per-IP limit).
pub fn like(req: &ApiRequest, now: Now, client_ip: Option<&str>) -> ApiResult {
    let body: LikeBody = req.json(|| ApiError::failure(400, "Invalid JSON body"))?;
    let like = validate(&body)?;
    let ip_hash = client_ip.map(sha256_hex);
    state::mutate(|s| {
        check_limits(s, &like.viewer, ip_hash.as_deref(), now)?;
        let key = keys::like_key(&like.viewer, like.target_type, &like.target_id);
        let duplicate = s.likes().contains_key(&key);
        let window_seconds = s.config().likes.window_seconds;
        process_event(
            s,
            now,
            EventType::LikeSubmitted {
                viewer: like.viewer.clone(),
                target_type: like.target_type.to_string(),
                target_id: like.target_id.clone(),
                ip_hash,
                window_seconds,
            },
        );
        let plain = |error| LikeAnswer {
            success: true,
            mutual: false,
            error,
            peer_address: None,
            match_id: None,
        };
        if duplicate {
            return Ok(ApiResponse::ok(&plain(Some("Already liked"))));
        }
        let Some(target) = target_address(s, like.target_type, &like.target_id) else {
            return Ok(ApiResponse::ok(&plain(None)));
        };
        if !liked_back(s, &target, &like.viewer) {
            return Ok(ApiResponse::ok(&plain(None)));
        }
        let (user1, user2) = if like.viewer < target {
            (&like.viewer, &target)
        } else {
            (&target, &like.viewer)
        };
        let match_id = s
            .matches()
            .get(&keys::match_key(user1, user2))
            .map(|m| m.0.id);
        Ok(ApiResponse::ok(&LikeAnswer {
            success: true,
            mutual: true,
            error: None,
            peer_address: Some(&target),
            match_id,
        }))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReceivedLike {
    liker_address: String,
    display_name: String,
    avatar_url: String,
    liked_at: u64,
}

#[derive(Serialize)]
struct Received {
    likes: Vec<ReceivedLike>,
}

/// Most likes `GET /api/likes/received` lists.
const RECEIVED_LIMIT: usize = 50;

/// Likes under `likes_by_target` prefix `prefix`, as `(created_at_ms, id, like key)`.
fn likes_to(s: &State, prefix: &str) -> Vec<(u64, u64, String)> {
    s.likes_by_target()
        .range(prefix.to_string()..)
        .take_while(|e| e.key().starts_with(prefix))
        .map(|e| (e.key().clone(), e.value()))
        .map(|(key, like_key)| {
            let mut tail = key[prefix.len()..].split('|');
            let at = tail.next().and_then(|t| t.parse().ok()).unwrap_or(0);
            let id = tail.next().and_then(|t| t.parse().ok()).unwrap_or(0);
            (at, id, like_key)
        })
        .collect()
}

/// `GET /api/likes/received?viewer=`: newest first, at most 50 rows; one row per claimed
/// profile of the liker (the original's LEFT JOIN), or one with the fallbacks.
pub fn received(req: &ApiRequest) -> ApiResult {
    let viewer = viewer_param(req.query_param("viewer"))
        .ok_or_else(|| ApiError::error(400, "Invalid viewer address"))?;
    let likes = state::with(|s| {
        let mut found = likes_to(s, &keys::like_target_prefix("user", &viewer));
        if let Some(shadow) = profiles_claimed_by(s, &viewer).into_iter().next() {
            found.extend(likes_to(s, &keys::like_target_prefix("shadow", &shadow)));
        }
        found.sort_by_key(|like| std::cmp::Reverse((like.0, like.1)));
        let mut rows = Vec::new();
        for (at, _, like_key) in found {
            let Some(Cbor(like)) = s.likes().get(&like_key) else {
                continue;
            };
            let liker = like.liker_address;
            let profiles: Vec<_> = profiles_claimed_by(s, &liker)
                .into_iter()
                .filter_map(|id| s.shadow_profiles().get(&id).map(|c| c.0))
                .collect();
            let display = |name: Option<&str>, cid: Option<&str>| ReceivedLike {
                liker_address: liker.clone(),
                display_name: name
                    .filter(|n| !n.is_empty())
                    .unwrap_or("Anonymous")
                    .to_string(),
                avatar_url: avatar_url(cid, &liker),
                liked_at: at,
            };
            if profiles.is_empty() {
                rows.push(display(None, None));
            }
            for p in &profiles {
                rows.push(display(p.display_name.as_deref(), p.anime_cid.as_deref()));
            }
            if rows.len() >= RECEIVED_LIMIT {
                break;
            }
        }
        rows.truncate(RECEIVED_LIMIT);
        rows
    });
    Ok(ApiResponse::ok(&Received { likes }))
}
