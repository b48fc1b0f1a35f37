//! `POST /api/names/challenge`: a proof-of-work challenge for a long label, bound to the
//! wallet, the label hash and the parent node.

use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};

use super::config::Policy;
use super::{SHORT_NAME_MAX_LEN, bad_json};
use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now, Rng};
use crate::names::{label, pow};
use crate::primitives::{Address, Bytes32};
use crate::state;
use crate::state::audit::process_event;
use crate::state::event::EventType;

/// Body of `POST /api/names/challenge`; a field of the wrong JSON type is invalid.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ChallengeBody {
    label: Field,
    tld: Field,
    wallet: Field,
}

/// Answer of `POST /api/names/challenge`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeResponse {
    challenge_id: String,
    challenge: String,
    difficulty: u32,
    expires_at: u64,
    algorithm: &'static str,
    format: &'static str,
}

fn random_hex(rng: &mut Rng, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `POST /api/names/challenge`.
pub fn challenge(req: &ApiRequest, now: Now, rng: &mut Rng) -> ApiResult {
    let policy = Policy::load()?;
    let body: ChallengeBody = req.json(bad_json)?;
    let wallet = body.wallet.as_str().and_then(Address::parse_normalized);
    let label = body.label.as_str().and_then(label::normalize_policy);
    let parent_node = policy.parent_node(body.tld.as_str().unwrap_or(""));
    let Some(wallet) = wallet else {
        return Err(ApiError::error(400, "Invalid wallet address"));
    };
    let Some(label) = label else {
        return Err(ApiError::error(400, "Invalid label format"));
    };
    let Some(parent_node) = parent_node else {
        return Err(ApiError::error(400, "Unsupported TLD"));
    };
    if label.len() <= SHORT_NAME_MAX_LEN {
        return Err(ApiError::error(
            400,
            "PoW challenge is only required for labels with length >= 6",
        ));
    }
    let challenge_id = random_hex(rng, 16);
    let challenge = random_hex(rng, 32);
    let difficulty = pow::difficulty(policy.config.pow_difficulty, label.len());
    let expires_at = now.secs() + policy.config.pow_ttl_seconds;
    state::mutate(|s| {
        process_event(
            s,
            now,
            EventType::PowChallengeIssued {
                challenge_id: challenge_id.clone(),
                wallet: wallet.lower_hex(),
                label_hash: Bytes32::label_hash(&label).hex(),
                parent_node: parent_node.hex(),
                challenge: challenge.clone(),
                difficulty,
                expires_at,
            },
        )
    });
    Ok(ApiResponse::ok(&ChallengeResponse {
        challenge_id,
        challenge,
        difficulty,
        expires_at,
        algorithm: "keccak256",
        format: "keccak256(\"<challenge>:<powNonce>\") must have leading zero hex nibbles",
    }))
}
