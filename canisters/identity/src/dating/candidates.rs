//! `GET /api/candidates` (contracts/api-core.md §1.1): the top 20 featured shadow profiles by
//! rank (ties by id), without the ones the viewer liked, the viewer's own, and ones claimed by
//! an address the viewer liked as a user; at most 5.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Now};
use crate::state::audit::directory::profiles_claimed_by;
use crate::state::{self, Cbor, State, keys};

use super::{avatar_url, viewer_param};

/// Featured profiles considered, and candidates returned.
const FEATURED_WINDOW: usize = 20;
const MAX_CANDIDATES: usize = 5;
/// `meta.expiry` is 24 hours after `meta.nonce`.
const CANDIDATE_SET_TTL_MS: u64 = 24 * 60 * 60 * 1000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    target_type: &'static str,
    target_id: String,
    display_name: String,
    bio: Option<String>,
    age_bucket: Option<i64>,
    gender_identity: Option<i64>,
    location: Option<String>,
    avatar_url: String,
    claimed_address: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    candidate_set_root: String,
    nonce: u64,
    expiry: u64,
    max_likes: u32,
}

#[derive(Serialize)]
struct Candidates {
    candidates: Vec<Candidate>,
    meta: Meta,
}

/// The viewer's likes: shadow ids as sent, user ids lowercased.
fn liked_by(s: &State, viewer: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let prefix = keys::liker_prefix(viewer);
    let mut shadows = BTreeSet::new();
    let mut users = BTreeSet::new();
    for key in s
        .likes()
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
    {
        match key[prefix.len()..].split_once('|') {
            Some(("shadow", id)) => {
                shadows.insert(id.to_string());
            }
            Some((_, id)) => {
                users.insert(id.to_lowercase());
            }
            None => {}
        }
    }
    (shadows, users)
}

/// `GET /api/candidates?viewer=`.
pub fn candidates(req: &ApiRequest, now: Now) -> ApiResult {
    let viewer = viewer_param(req.query_param("viewer"))
        .ok_or_else(|| ApiError::error(400, "Invalid viewer address"))?;
    let candidates = state::with(|s| {
        let (liked_shadows, liked_users) = liked_by(s, &viewer);
        let own = profiles_claimed_by(s, &viewer).into_iter().next();
        let mut out = Vec::new();
        for key in s.featured_profiles().keys().take(FEATURED_WINDOW) {
            let Some((_, id)) = key.split_once('|') else {
                continue;
            };
            let Some(Cbor(p)) = s.shadow_profiles().get(&id.to_string()) else {
                continue;
            };
            if liked_shadows.contains(&p.id) || own.as_deref() == Some(p.id.as_str()) {
                continue;
            }
            if p.claimed_address
                .as_ref()
                .is_some_and(|a| liked_users.contains(&a.to_lowercase()))
            {
                continue;
            }
            out.push(Candidate {
                target_type: "shadow",
                avatar_url: avatar_url(p.anime_cid.as_deref(), &p.id),
                display_name: p
                    .display_name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "Anonymous".into()),
                target_id: p.id,
                bio: p.bio,
                age_bucket: p.age_bucket,
                gender_identity: p.gender_identity,
                location: p.location,
                claimed_address: p.claimed_address,
            });
            if out.len() >= MAX_CANDIDATES {
                break;
            }
        }
        out
    });
    let nonce = now.millis();
    Ok(ApiResponse::ok(&Candidates {
        candidates,
        meta: Meta {
            candidate_set_root: format!("0x{}", "0".repeat(64)),
            nonce,
            expiry: nonce + CANDIDATE_SET_TTL_MS,
            max_likes: MAX_CANDIDATES as u32,
        },
    }))
}
