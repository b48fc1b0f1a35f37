//! api-core's `/api/claim/*` routes: handing a dating-directory shadow profile over to the wallet
//! of the person it describes. An operator starts a claim (link token + human code), the person
//! proves they own the source profile (bio edit or DM code), then signs a `heaven-claim:v1`
//! message with the wallet that takes the profile over.

use rand_chacha::rand_core::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Now, Rng, field};
use crate::events::EventKind;
use crate::state::{self, Cbor, ClaimToken, ShadowProfile, State, User};

/// A claim link and code stay valid for 7 days.
const CLAIM_TTL_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How far the signed `timestamp` may be from the canister's clock, and how long it is valid.
const SIGNATURE_WINDOW_SECS: i64 = 120;
/// Human-code characters (no I, O, 0, 1).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_PREFIX: &str = "HVN-";
const CODE_CHARS: usize = 6;
const LINK_TOKEN_BYTES: usize = 24;
const METHOD_BIO_EDIT: &str = "bio_edit";
const METHOD_DM: &str = "dm";
/// Failed DM codes allowed per shadow profile within [`ATTEMPT_WINDOW_NS`] (not in the original).
const MAX_FAILED_CODES: u64 = 10;
const ATTEMPT_WINDOW_NS: u64 = 60 * 60 * 1_000_000_000;

/// Header carrying the operator secret of `POST /api/claim/start`.
pub const START_SECRET_HEADER: &str = "X-Claim-Start-Secret";

// The original let the JSON parser throw (500); we answer 400 on purpose.
fn invalid_json() -> ApiError {
    ApiError::error(400, "Invalid JSON body")
}

/// What `GET /api/claim/:token` shows of the profile behind a link.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimPreview {
    id: String,
    display_name: String,
    avatar_url: String,
    source: String,
    source_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    location: Option<String>,
    bio: Option<String>,
    likes_received: u64,
    has_verification_code: bool,
}

/// The credentials `POST /api/claim/start` hands to the operator.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartedClaim<'a> {
    claim_id: &'a str,
    token: &'a str,
    verification_code: &'a str,
    expires_at: u64,
    source: &'a str,
    source_url: Option<&'a str>,
}

#[derive(Serialize)]
struct BioVerified {
    verified: bool,
    message: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DmVerified {
    verified: bool,
    claim_id: String,
}

#[derive(Serialize)]
struct ClaimCompleted {
    success: bool,
    message: &'static str,
    address: String,
}

/// GET /api/claim/:token (query-safe: reads only)
pub fn get_claim(token: &str, now: Now) -> ApiResult {
    let token_hash = sha256_hex(token);
    let preview = state::with(|s| {
        let claim_id = s.claim_token_by_hash.get(&token_hash)?;
        let claim = live_claim(s, &claim_id, now.millis())?;
        let profile = s.shadow_profiles.get(&claim.shadow_profile_id)?.0;
        Some(ClaimPreview {
            avatar_url: avatar_url(&claim.shadow_profile_id, profile.anime_cid.as_deref()),
            id: claim.shadow_profile_id,
            display_name: profile
                .display_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "Anonymous".to_string()),
            source: profile.source,
            source_url: profile.source_url,
            age: profile.age_bucket.map(|a| a.to_string()),
            gender: profile.gender_identity.map(|g| g.to_string()),
            location: profile.location,
            bio: profile.bio,
            likes_received: profile.likes_received,
            has_verification_code: !claim.human_code_hash.is_empty(),
        })
    });
    preview
        .map(|p| ApiResponse::ok(&p))
        .ok_or_else(|| ApiError::error(404, "Invalid or expired link"))
}

/// POST /api/claim/start
pub fn start(req: &ApiRequest, now: Now, rng: &mut Rng) -> ApiResult {
    let (configured, development) = state::with(|s| {
        (
            s.secrets().claim_start.clone().filter(|c| !c.is_empty()),
            s.config().development,
        )
    });
    match configured {
        None if !development => {
            return Err(ApiError::error(
                503,
                "Claim start is disabled (server misconfiguration)",
            ));
        }
        None => {}
        Some(secret) => {
            let provided = req.header(START_SECRET_HEADER);
            if !provided.is_some_and(|p| secrets_match(p, &secret)) {
                return Err(ApiError::error(401, "Unauthorized"));
            }
        }
    }

    let body = req.json_object(invalid_json)?;
    if !field::truthy(&body, "shadowProfileId") || !field::truthy(&body, "method") {
        return Err(ApiError::error(400, "Missing shadowProfileId or method"));
    }
    let method = match field::str(&body, "method") {
        Some(m @ (METHOD_BIO_EDIT | METHOD_DM)) => m,
        _ => return Err(ApiError::error(400, "Invalid claim method")),
    };
    // A truthy id that is not a string names no stored profile.
    let profile = field::str(&body, "shadowProfileId")
        .and_then(|id| state::with(|s| s.shadow_profiles.get(&id.to_string())))
        .map(|p| p.0)
        .filter(|p| p.claimed_address.is_none())
        .ok_or_else(|| ApiError::error(404, "Profile not found or already claimed"))?;

    let token = link_token(rng);
    let code = human_code(rng);
    let claim_id = uuid_v4(rng);
    let issued_at_ms = now.millis();
    let record = ClaimToken {
        id: claim_id.clone(),
        shadow_profile_id: profile.id.clone(),
        token_hash: sha256_hex(&token),
        human_code_hash: sha256_hex(&code),
        method: method.to_string(),
        issued_at_ms,
        expires_at_ms: issued_at_ms + CLAIM_TTL_MS,
        used: false,
        used_at_ms: None,
        used_by: None,
    };
    let expires_at = record.expires_at_ms;
    state::with_mut(|s| {
        s.claim_token_by_hash
            .insert(record.token_hash.clone(), claim_id.clone());
        s.claim_token_by_code
            .insert(code_index_key(&record.human_code_hash, &claim_id), ());
        s.claim_tokens.insert(claim_id.clone(), Cbor(record));
        s.record(
            now.ns,
            EventKind::ClaimStarted {
                claim_id: claim_id.clone(),
                shadow_profile_id: profile.id.clone(),
                method: method.to_string(),
            },
        );
    });

    Ok(ApiResponse::ok(&StartedClaim {
        claim_id: &claim_id,
        token: &token,
        verification_code: &code,
        expires_at,
        source: &profile.source,
        source_url: profile.source_url.as_deref(),
    }))
}

/// POST /api/claim/verify-bio
pub fn verify_bio(req: &ApiRequest, now: Now) -> ApiResult {
    let body = req.json_object(invalid_json)?;
    if !field::truthy(&body, "claimId") {
        return Err(ApiError::error(400, "Missing claimId"));
    }
    let claim = field::str(&body, "claimId")
        .and_then(|id| state::with(|s| live_claim(s, id, now.millis())))
        .ok_or_else(|| ApiError::error(404, "Invalid or expired claim"))?;
    if claim.method != METHOD_BIO_EDIT {
        return Err(ApiError::error(400, "Wrong verification method"));
    }
    // As in the original this is a stub: nothing is scraped and nothing is recorded.
    Ok(ApiResponse::ok(&BioVerified {
        verified: true,
        message: "Bio verification successful",
    }))
}

/// POST /api/claim/verify-dm
pub fn verify_dm(req: &ApiRequest, now: Now) -> ApiResult {
    let body = req.json_object(invalid_json)?;
    if !field::truthy(&body, "shadowProfileId") || !field::truthy(&body, "code") {
        return Err(ApiError::error(400, "Missing shadowProfileId or code"));
    }
    let invalid_code = || ApiError::error(400, "Invalid code");
    // A code that is not a string threw in the original (500); it cannot match, so say so.
    let code = field::str(&body, "code").ok_or_else(invalid_code)?;
    let code_hash = sha256_hex(js_trim(&code.to_uppercase()));
    let profile_id = field::str(&body, "shadowProfileId");

    state::with_mut(|s| {
        // Only existing profiles have codes to guess, so only they keep an attempts count (this
        // bounds the count's size by the directory's).
        let profile_id = profile_id
            .filter(|id| s.shadow_profiles.contains_key(&id.to_string()))
            .ok_or_else(invalid_code)?;
        if failed_code_attempts(s, profile_id, now.ns) >= MAX_FAILED_CODES {
            return Err(ApiError::error(429, "Too many attempts"));
        }
        match find_dm_claim(s, profile_id, &code_hash, now.millis()) {
            Some(claim_id) => Ok(ApiResponse::ok(&DmVerified {
                verified: true,
                claim_id,
            })),
            None => {
                note_failed_code_attempt(s, profile_id, now.ns);
                Err(invalid_code())
            }
        }
    })
}

/// POST /api/claim/complete
pub fn complete(req: &ApiRequest, now: Now) -> ApiResult {
    let body = req.json_object(invalid_json)?;
    let required = ["claimId", "address", "signature", "nonce", "timestamp"];
    if !required.iter().all(|name| field::truthy(&body, name)) {
        return Err(ApiError::error(
            400,
            "Missing claimId, address, signature, timestamp, or nonce",
        ));
    }
    let address = field::str(&body, "address")
        .and_then(heaven_eth::address::parse)
        .map(|a| heaven_eth::address::to_lower_hex(&a))
        .ok_or_else(|| ApiError::error(400, "Invalid address format"))?;
    let signature = field::str(&body, "signature")
        .filter(|s| is_signature_format(s))
        .ok_or_else(|| ApiError::error(400, "Invalid signature format"))?;
    // JavaScript string length counts UTF-16 code units.
    let nonce = field::str(&body, "nonce")
        .filter(|n| (16..=128).contains(&n.encode_utf16().count()))
        .ok_or_else(|| ApiError::error(400, "Invalid nonce"))?;
    let timestamp = signed_timestamp(&body, now)?;

    let now_ms = now.millis();
    let claim = field::str(&body, "claimId")
        .and_then(|id| state::with(|s| live_claim(s, id, now_ms)))
        .ok_or_else(|| ApiError::error(404, "Invalid or expired claim"))?;

    let message = claim_message(
        &claim.id,
        &claim.shadow_profile_id,
        &address,
        nonce,
        timestamp,
    );
    let signer = heaven_eth::eip191::recover(&message, signature)
        .map(|a| heaven_eth::address::to_lower_hex(&a));
    if signer.ok().as_deref() != Some(address.as_str()) {
        return Err(ApiError::error(401, "Invalid signature"));
    }

    state::with_mut(|s| hand_over(s, &claim.id, &address, now))?;
    Ok(ApiResponse::ok(&ClaimCompleted {
        success: true,
        message: "Profile claimed successfully",
        address,
    }))
}

/// Controller/migration import of a shadow profile (replaces by id, keeps claim fields as given).
pub fn upsert_shadow_profile(profile: ShadowProfile, now: Now) {
    state::with_mut(|s| {
        let id = profile.id.clone();
        s.shadow_profiles.insert(id.clone(), Cbor(profile));
        s.record(now.ns, EventKind::ShadowProfileUpserted { id });
    });
}

/// The claim's effects, all in one synchronous change: the user row (if absent), the profile's
/// owner, the token's use.
///
/// Deliberate fix: the original ran all three writes and answered 409 afterwards when the
/// profile was already claimed or the token already used, leaving the other writes committed.
/// Here both conditions are checked first, so a 409 changes nothing.
fn hand_over(s: &mut State, claim_id: &str, address: &str, now: Now) -> Result<(), ApiError> {
    let now_ms = now.millis();
    let claim = live_claim(s, claim_id, now_ms);
    let profile = claim
        .as_ref()
        .and_then(|c| s.shadow_profiles.get(&c.shadow_profile_id))
        .map(|p| p.0)
        .filter(|p| p.claimed_address.is_none());
    let (Some(mut claim), Some(mut profile)) = (claim, profile) else {
        return Err(ApiError::error(
            409,
            "Claim already completed or no longer available",
        ));
    };

    if !s.users.contains_key(&address.to_string()) {
        let user = User {
            address: address.to_string(),
            created_at_ms: now_ms,
            last_active_at_ms: None,
            directory_tier: "claimed".to_string(),
        };
        s.users.insert(address.to_string(), Cbor(user));
    }
    profile.claimed_address = Some(address.to_string());
    profile.claimed_at_ms = Some(now_ms);
    profile.updated_at_ms = now_ms;
    s.shadow_profiles.insert(profile.id.clone(), Cbor(profile));
    claim.used = true;
    claim.used_at_ms = Some(now_ms);
    claim.used_by = Some(address.to_string());
    s.claim_tokens.insert(claim.id.clone(), Cbor(claim));
    s.record(
        now.ns,
        EventKind::ClaimCompleted {
            claim_id: claim_id.to_string(),
            address: address.to_string(),
        },
    );
    Ok(())
}

/// The claim `claim_id` when it is unused and not expired at `now_ms`.
fn live_claim(s: &State, claim_id: &str, now_ms: u64) -> Option<ClaimToken> {
    s.claim_tokens
        .get(&claim_id.to_string())
        .map(|c| c.0)
        .filter(|c| !c.used && c.expires_at_ms > now_ms)
}

/// The live `dm` claim of `profile_id` whose human code hashes to `code_hash`.
fn find_dm_claim(s: &State, profile_id: &str, code_hash: &str, now_ms: u64) -> Option<String> {
    let prefix = code_index_key(code_hash, "");
    s.claim_token_by_code
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .filter_map(|k| live_claim(s, &k[prefix.len()..], now_ms))
        .find(|c| c.shadow_profile_id == profile_id && c.method == METHOD_DM)
        .map(|c| c.id)
}

fn code_index_key(code_hash: &str, claim_id: &str) -> String {
    format!("{code_hash}|{claim_id}")
}

/// `(key, failures, at_ns)` of the attempt records of `profile_id`.
fn attempt_records(s: &State, profile_id: &str) -> Vec<(String, u64, u64)> {
    let prefix = format!("{profile_id}|");
    s.claim_attempts
        .range(prefix.clone()..)
        .map(|entry| entry.into_pair())
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(k, failures)| {
            // Another id that merely starts with `<profile_id>|` has a longer suffix.
            let at = &k[prefix.len()..];
            let at_ns = (at.len() == 20 && at.bytes().all(|b| b.is_ascii_digit()))
                .then(|| at.parse().ok())
                .flatten()?;
            Some((k, failures, at_ns))
        })
        .collect()
}

fn failed_code_attempts(s: &State, profile_id: &str, now_ns: u64) -> u64 {
    let since = now_ns.saturating_sub(ATTEMPT_WINDOW_NS);
    attempt_records(s, profile_id)
        .into_iter()
        .filter(|(_, _, at_ns)| *at_ns > since)
        .map(|(_, failures, _)| failures)
        .sum()
}

/// Counts a failed code for `profile_id` at `now_ns` and drops its records older than the window.
fn note_failed_code_attempt(s: &mut State, profile_id: &str, now_ns: u64) {
    let since = now_ns.saturating_sub(ATTEMPT_WINDOW_NS);
    for (key, _, at_ns) in attempt_records(s, profile_id) {
        if at_ns <= since {
            s.claim_attempts.remove(&key);
        }
    }
    let key = format!("{profile_id}|{now_ns:020}");
    let failures = s.claim_attempts.get(&key).unwrap_or(0) + 1;
    s.claim_attempts.insert(key, failures);
    s.record(
        now_ns,
        EventKind::ClaimCodeRejected {
            shadow_profile_id: profile_id.to_string(),
        },
    );
}

/// The signed `timestamp` (seconds): an integer within the window around now.
fn signed_timestamp(body: &Map<String, Value>, now: Now) -> Result<i64, ApiError> {
    let expired = || ApiError::error(400, "Signature timestamp expired or too far in future");
    let timestamp = match field::integer(body, "timestamp") {
        Some(t) => t,
        // Integers too large for `field::integer` are still integers to JavaScript; they are
        // simply far outside the window.
        None if body
            .get("timestamp")
            .and_then(Value::as_f64)
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0) =>
        {
            return Err(expired());
        }
        None => return Err(ApiError::error(400, "Invalid timestamp")),
    };
    let skew = i128::from(now.secs()) - i128::from(timestamp);
    if skew.abs() > i128::from(SIGNATURE_WINDOW_SECS) {
        return Err(expired());
    }
    Ok(timestamp)
}

/// `0x` followed by exactly 130 hex digits (65 bytes).
fn is_signature_format(s: &str) -> bool {
    s.strip_prefix("0x")
        .is_some_and(|d| d.len() == 130 && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The text the claimant signs (EIP-191): lines joined by `\n`, no trailing newline.
fn claim_message(
    claim_id: &str,
    shadow_profile_id: &str,
    address: &str,
    nonce: &str,
    issued_at: i64,
) -> String {
    [
        "heaven-claim:v1".to_string(),
        format!("claim_id={claim_id}"),
        format!("shadow_profile_id={shadow_profile_id}"),
        format!("address={}", address.to_lowercase()),
        format!("nonce={nonce}"),
        format!("issued_at={issued_at}"),
        format!("expires_at={}", issued_at + SIGNATURE_WINDOW_SECS),
    ]
    .join("\n")
}

fn avatar_url(shadow_profile_id: &str, anime_cid: Option<&str>) -> String {
    match anime_cid.filter(|cid| !cid.is_empty()) {
        Some(cid) => format!("https://ipfs.io/ipfs/{cid}"),
        None => format!("https://api.dicebear.com/9.x/adventurer/svg?seed={shadow_profile_id}"),
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Equality that takes the same time wherever the first difference is (lengths are not secret).
fn secrets_match(provided: &str, configured: &str) -> bool {
    let (a, b) = (provided.as_bytes(), configured.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// JavaScript's `String.prototype.trim`: Unicode white space and U+FEFF, but not U+0085.
fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c == '\u{feff}' || (c.is_whitespace() && c != '\u{85}'))
}

/// The link token: 24 random bytes as hex.
fn link_token(rng: &mut Rng) -> String {
    let mut bytes = [0u8; LINK_TOKEN_BYTES];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `HVN-` + 6 characters of [`CODE_ALPHABET`], drawn by rejection sampling of single bytes.
fn human_code(rng: &mut Rng) -> String {
    let alphabet = CODE_ALPHABET.len();
    let accept_below = 256 / alphabet * alphabet;
    let mut code = String::from(CODE_PREFIX);
    let mut drawn = 0;
    while drawn < CODE_CHARS {
        let mut byte = [0u8; 1];
        rng.fill_bytes(&mut byte);
        let value = usize::from(byte[0]);
        if value < accept_below {
            code.push(char::from(CODE_ALPHABET[value % alphabet]));
            drawn += 1;
        }
    }
    code
}

/// A random (version 4, RFC 4122 variant) UUID in its lowercase hyphenated form.
fn uuid_v4(rng: &mut Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use k256::ecdsa::SigningKey;
    use serde_json::json;

    use super::*;
    use crate::api::rng_from_seed;
    use crate::events::Event;
    use crate::state::host::HostMemory;
    use crate::state::{Config, Secrets};

    const NOW_SECS: u64 = 1_771_600_000;
    const HARDHAT0_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const HARDHAT0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    const VECTOR_CLAIM_ID: &str = "11111111-2222-3333-4444-555555555555";
    const VECTOR_NONCE: &str = "abcdef0123456789";
    const VECTOR_SIGNATURE: &str = "0x14ec874dcc9257331ea537a449751d8911926f703cb872f575fa69d139f85eca2c4654dd747c37f522f70495546426048f2f2f19ca9f0d374960f88bdc201fde1c";

    fn now() -> Now {
        Now::from_secs(NOW_SECS)
    }

    /// A fresh, empty state on this thread, with the given environment and start secret.
    fn fresh(development: bool, secret: Option<&str>) {
        state::install_memory(HostMemory::volatile());
        state::with_mut(|s| {
            s.set_config(Config {
                development,
                ..Config::default()
            });
            s.secrets.set(Cbor(Secrets {
                claim_start: secret.map(str::to_string),
                ..Secrets::default()
            }));
        });
    }

    fn profile(id: &str) -> ShadowProfile {
        ShadowProfile {
            id: id.to_string(),
            source: "dateme".to_string(),
            source_url: Some(format!("https://dateme.directory/{id}")),
            display_name: Some("Alex".to_string()),
            bio: Some("Likes hiking".to_string()),
            age_bucket: Some(2),
            gender_identity: Some(1),
            location: Some("San Francisco".to_string()),
            anime_cid: Some("bafyanime".to_string()),
            featured_rank: 1,
            created_at_ms: 1_000,
            updated_at_ms: 1_000,
            claimed_address: None,
            claimed_at_ms: None,
            likes_received: 3,
        }
    }

    fn add_profile(p: ShadowProfile) {
        upsert_shadow_profile(p, Now::from_secs(1));
    }

    /// Stores a claim record directly (as a migration would), with its indexes.
    fn add_claim(id: &str, profile_id: &str, token: &str, code: &str, method: &str) {
        let record = ClaimToken {
            id: id.to_string(),
            shadow_profile_id: profile_id.to_string(),
            token_hash: sha256_hex(token),
            human_code_hash: sha256_hex(code),
            method: method.to_string(),
            issued_at_ms: now().millis() - 1_000,
            expires_at_ms: now().millis() + CLAIM_TTL_MS,
            ..ClaimToken::default()
        };
        state::with_mut(|s| {
            s.claim_token_by_hash
                .insert(record.token_hash.clone(), id.to_string());
            s.claim_token_by_code
                .insert(code_index_key(&record.human_code_hash, id), ());
            s.claim_tokens.insert(id.to_string(), Cbor(record));
        });
    }

    fn claim(id: &str) -> ClaimToken {
        state::with(|s| s.claim_tokens.get(&id.to_string()).unwrap().0)
    }

    fn stored_profile(id: &str) -> ShadowProfile {
        state::with(|s| s.shadow_profiles.get(&id.to_string()).unwrap().0)
    }

    fn events() -> Vec<EventKind> {
        state::with(|s| {
            (0..s.events.len())
                .map(|i| {
                    let Cbor(Event { kind, .. }) = s.events.get(i).unwrap();
                    kind
                })
                .collect()
        })
    }

    fn post(body: Value) -> ApiRequest {
        post_raw(body.to_string().as_bytes())
    }

    fn post_raw(body: &[u8]) -> ApiRequest {
        ApiRequest::new("POST", "/api/claim/x", vec![], body.to_vec())
    }

    fn with_secret(mut req: ApiRequest, secret: &str) -> ApiRequest {
        req.headers
            .push(("x-claim-start-secret".to_string(), secret.to_string()));
        req
    }

    fn rng() -> Rng {
        rng_from_seed([7; 32])
    }

    /// Status and compact JSON of a result.
    fn answer(r: ApiResult) -> (u16, String) {
        let response = r.unwrap_or_else(ApiError::into_response);
        (response.status, String::from_utf8(response.body).unwrap())
    }

    fn error(status: u16, message: &str) -> (u16, String) {
        (status, json!({ "error": message }).to_string())
    }

    use crate::testing::{address_hex as address_of, key_from_hex as key, personal_sign as sign};

    fn complete_body(
        claim_id: &str,
        address: &str,
        signature: &str,
        ts: u64,
        nonce: &str,
    ) -> Value {
        json!({
            "claimId": claim_id,
            "address": address,
            "signature": signature,
            "timestamp": ts,
            "nonce": nonce,
        })
    }

    /// A complete request for `claim_id` on `profile_id`, signed by `k` at `ts`.
    fn signed_complete(k: &SigningKey, claim_id: &str, profile_id: &str, ts: u64) -> ApiRequest {
        let address = address_of(k);
        let message = claim_message(claim_id, profile_id, &address, VECTOR_NONCE, ts as i64);
        post(complete_body(
            claim_id,
            &address,
            &sign(k, &message),
            ts,
            VECTOR_NONCE,
        ))
    }

    // ---- GET /api/claim/:token ----

    #[test]
    fn get_shows_the_profile_behind_a_live_link() {
        fresh(false, None);
        add_profile(profile("shadow-alex-sf"));
        add_claim("c1", "shadow-alex-sf", "tok", "HVN-ABCDEF", METHOD_DM);
        assert_eq!(
            answer(get_claim("tok", now())),
            (
                200,
                concat!(
                    r#"{"id":"shadow-alex-sf","displayName":"Alex","#,
                    r#""avatarUrl":"https://ipfs.io/ipfs/bafyanime","source":"dateme","#,
                    r#""sourceUrl":"https://dateme.directory/shadow-alex-sf","age":"2","#,
                    r#""gender":"1","location":"San Francisco","bio":"Likes hiking","#,
                    r#""likesReceived":3,"hasVerificationCode":true}"#
                )
                .to_string()
            )
        );
    }

    #[test]
    fn get_falls_back_and_omits_like_the_original() {
        fresh(false, None);
        add_profile(ShadowProfile {
            id: "shadow-min".into(),
            source: "acx".into(),
            anime_cid: Some(String::new()),
            display_name: Some(String::new()),
            ..ShadowProfile::default()
        });
        add_claim("c1", "shadow-min", "tok", "", METHOD_BIO_EDIT);
        // An empty code hash reads as "no code".
        state::with_mut(|s| {
            let mut c = s.claim_tokens.get(&"c1".to_string()).unwrap().0;
            c.human_code_hash = String::new();
            s.claim_tokens.insert("c1".into(), Cbor(c));
        });
        assert_eq!(
            answer(get_claim("tok", now())),
            (
                200,
                concat!(
                    r#"{"id":"shadow-min","displayName":"Anonymous","#,
                    r#""avatarUrl":"https://api.dicebear.com/9.x/adventurer/svg?seed=shadow-min","#,
                    r#""source":"acx","sourceUrl":null,"location":null,"bio":null,"#,
                    r#""likesReceived":0,"hasVerificationCode":false}"#
                )
                .to_string()
            )
        );
    }

    #[test]
    fn get_rejects_unknown_used_expired_and_orphaned_links() {
        fresh(false, None);
        let gone = || error(404, "Invalid or expired link");
        add_profile(profile("p"));
        add_claim("c1", "p", "tok", "HVN-AAAAAA", METHOD_DM);
        assert_eq!(answer(get_claim("other", now())), gone());
        // Expired exactly at its expiry instant (the original compares `expires_at > now`).
        let expiry = Now::from_ns(claim("c1").expires_at_ms * 1_000_000);
        assert_eq!(answer(get_claim("tok", expiry)), gone());
        assert_eq!(
            answer(get_claim("tok", Now::from_ns(expiry.ns - 1_000_000))).0,
            200
        );
        add_claim("c2", "missing-profile", "tok2", "HVN-AAAAAB", METHOD_DM);
        assert_eq!(answer(get_claim("tok2", now())), gone());
        state::with_mut(|s| {
            let mut c = s.claim_tokens.get(&"c1".to_string()).unwrap().0;
            c.used = true;
            s.claim_tokens.insert("c1".into(), Cbor(c));
        });
        assert_eq!(answer(get_claim("tok", now())), gone());
    }

    // ---- POST /api/claim/start ----

    #[test]
    fn start_is_disabled_in_production_without_a_secret() {
        let disabled = || error(503, "Claim start is disabled (server misconfiguration)");
        let body = || post(json!({"shadowProfileId": "p", "method": "dm"}));
        fresh(false, None);
        add_profile(profile("p"));
        assert_eq!(answer(start(&body(), now(), &mut rng())), disabled());
        // An empty secret counts as unset, and the check comes before the body is read.
        fresh(false, Some(""));
        assert_eq!(
            answer(start(&post_raw(b"{"), now(), &mut rng())),
            disabled()
        );
        assert!(events().is_empty());
    }

    #[test]
    fn start_is_open_in_development_without_a_secret() {
        fresh(true, None);
        add_profile(profile("p"));
        let req = post(json!({"shadowProfileId": "p", "method": "dm"}));
        assert_eq!(answer(start(&req, now(), &mut rng())).0, 200);
    }

    #[test]
    fn start_requires_the_exact_secret_when_one_is_set() {
        let unauthorized = || error(401, "Unauthorized");
        for development in [false, true] {
            fresh(development, Some("s3cret"));
            add_profile(profile("p"));
            let body = || post(json!({"shadowProfileId": "p", "method": "dm"}));
            assert_eq!(answer(start(&body(), now(), &mut rng())), unauthorized());
            for wrong in ["", "s3cres", "s3cret ", "S3CRET", "s3cre"] {
                let req = with_secret(body(), wrong);
                assert_eq!(
                    answer(start(&req, now(), &mut rng())),
                    unauthorized(),
                    "{wrong:?}"
                );
            }
            // Checked before the body is parsed.
            let req = with_secret(post_raw(b"not json"), "nope");
            assert_eq!(answer(start(&req, now(), &mut rng())), unauthorized());
            let req = with_secret(body(), "s3cret");
            assert_eq!(answer(start(&req, now(), &mut rng())).0, 200);
        }
    }

    #[test]
    fn start_errors_in_order() {
        fresh(true, None);
        let run = |req: ApiRequest| answer(start(&req, now(), &mut rng()));
        assert_eq!(run(post_raw(b"{oops")), error(400, "Invalid JSON body"));
        let missing = || error(400, "Missing shadowProfileId or method");
        for body in [
            json!({}),
            json!({"shadowProfileId": "p"}),
            json!({"method": "dm"}),
            json!({"shadowProfileId": "", "method": "dm"}),
            json!({"shadowProfileId": "p", "method": 0}),
            json!({"shadowProfileId": null, "method": "nope"}),
        ] {
            assert_eq!(run(post(body.clone())), missing(), "{body}");
        }
        for method in [json!("reply_nonce"), json!("DM"), json!(1), json!(["dm"])] {
            let body = json!({"shadowProfileId": "p", "method": method});
            assert_eq!(
                run(post(body)),
                error(400, "Invalid claim method"),
                "{method}"
            );
        }
        let not_found = || error(404, "Profile not found or already claimed");
        assert_eq!(
            run(post(json!({"shadowProfileId": "p", "method": "dm"}))),
            not_found()
        );
        assert_eq!(
            run(post(json!({"shadowProfileId": 7, "method": "dm"}))),
            not_found()
        );
        add_profile(ShadowProfile {
            claimed_address: Some(HARDHAT0.into()),
            ..profile("p")
        });
        assert_eq!(
            run(post(json!({"shadowProfileId": "p", "method": "dm"}))),
            not_found()
        );
        assert_eq!(events().len(), 1, "only the profile import");
    }

    #[test]
    fn start_issues_a_link_and_code_and_stores_only_their_hashes() {
        fresh(true, None);
        add_profile(profile("p"));
        let req = post(json!({"shadowProfileId": "p", "method": "bio_edit"}));
        let response = start(&req, now(), &mut rng()).unwrap();
        let body = response.body_json();
        assert_eq!(body.as_object().unwrap().len(), 6);
        let claim_id = body["claimId"].as_str().unwrap();
        let token = body["token"].as_str().unwrap();
        let code = body["verificationCode"].as_str().unwrap();
        assert!(is_uuid_v4(claim_id), "{claim_id}");
        assert_eq!(token.len(), 48);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(is_human_code(code), "{code}");
        assert_eq!(
            body["expiresAt"],
            json!(now().millis() + 7 * 24 * 3_600_000)
        );
        assert_eq!(body["source"], json!("dateme"));
        assert_eq!(body["sourceUrl"], json!("https://dateme.directory/p"));
        let text = String::from_utf8(response.body).unwrap();
        let order = [
            "claimId",
            "token",
            "verificationCode",
            "expiresAt",
            "source",
            "sourceUrl",
        ]
        .map(|k| text.find(&format!("\"{k}\":")).unwrap());
        assert!(order.is_sorted(), "{text}");

        let stored = claim(claim_id);
        assert_eq!(
            stored,
            ClaimToken {
                id: claim_id.to_string(),
                shadow_profile_id: "p".into(),
                token_hash: sha256_hex(token),
                human_code_hash: sha256_hex(code),
                method: "bio_edit".into(),
                issued_at_ms: now().millis(),
                expires_at_ms: now().millis() + CLAIM_TTL_MS,
                used: false,
                used_at_ms: None,
                used_by: None,
            }
        );
        state::with(|s| {
            assert_eq!(
                s.claim_token_by_hash.get(&sha256_hex(token)),
                Some(claim_id.to_string())
            );
            assert!(
                s.claim_token_by_code
                    .contains_key(&format!("{}|{claim_id}", sha256_hex(code)))
            );
        });
        assert_eq!(
            events().last(),
            Some(&EventKind::ClaimStarted {
                claim_id: claim_id.into(),
                shadow_profile_id: "p".into(),
                method: "bio_edit".into(),
            })
        );
        // The link now opens the profile.
        assert_eq!(answer(get_claim(token, now())).0, 200);
    }

    #[test]
    fn start_with_a_null_source_url_sends_null() {
        fresh(true, None);
        add_profile(ShadowProfile {
            source_url: None,
            ..profile("p")
        });
        let req = post(json!({"shadowProfileId": "p", "method": "dm"}));
        let text = answer(start(&req, now(), &mut rng())).1;
        assert!(
            text.ends_with(r#","source":"dateme","sourceUrl":null}"#),
            "{text}"
        );
    }

    fn is_uuid_v4(s: &str) -> bool {
        let groups: Vec<&str> = s.split('-').collect();
        groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
            && groups
                .iter()
                .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            && groups[2].starts_with('4')
            && matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b')
    }

    fn is_human_code(s: &str) -> bool {
        s.strip_prefix("HVN-")
            .is_some_and(|c| c.len() == 6 && c.bytes().all(|b| CODE_ALPHABET.contains(&b)))
    }

    #[test]
    fn generated_ids_and_codes_have_their_shapes() {
        let mut r = rng();
        let mut codes = std::collections::BTreeSet::new();
        for _ in 0..200 {
            assert!(is_uuid_v4(&uuid_v4(&mut r)));
            let code = human_code(&mut r);
            assert!(is_human_code(&code), "{code}");
            codes.insert(code);
            assert_eq!(link_token(&mut r).len(), 48);
        }
        assert!(codes.len() > 190);
    }

    #[test]
    fn secrets_compare_whole_values() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abd", "abc"));
        assert!(!secrets_match("ab", "abc"));
        assert!(!secrets_match("abcd", "abc"));
        assert!(!secrets_match("", "abc"));
    }

    // ---- POST /api/claim/verify-bio ----

    #[test]
    fn verify_bio_errors_in_order_and_stub_success() {
        fresh(false, None);
        add_profile(profile("p"));
        add_claim("bio", "p", "t1", "HVN-BBBBBB", METHOD_BIO_EDIT);
        add_claim("dm", "p", "t2", "HVN-CCCCCC", METHOD_DM);
        let run = |body: Value| answer(verify_bio(&post(body), now()));
        assert_eq!(
            answer(verify_bio(&post_raw(b""), now())),
            error(400, "Invalid JSON body")
        );
        for body in [json!({}), json!({"claimId": ""}), json!({"claimId": null})] {
            assert_eq!(run(body), error(400, "Missing claimId"));
        }
        let gone = || error(404, "Invalid or expired claim");
        assert_eq!(run(json!({"claimId": "nope"})), gone());
        assert_eq!(run(json!({"claimId": 5})), gone());
        let after_expiry = Now::from_ns(claim("bio").expires_at_ms * 1_000_000);
        assert_eq!(
            answer(verify_bio(&post(json!({"claimId": "bio"})), after_expiry)),
            gone()
        );
        assert_eq!(
            run(json!({"claimId": "dm"})),
            error(400, "Wrong verification method")
        );
        assert_eq!(
            run(json!({"claimId": "bio"})),
            (
                200,
                r#"{"verified":true,"message":"Bio verification successful"}"#.into()
            )
        );
        assert_eq!(events().len(), 1, "verification records nothing");
    }

    // ---- POST /api/claim/verify-dm ----

    #[test]
    fn verify_dm_errors_in_order() {
        fresh(false, None);
        add_profile(profile("p"));
        add_profile(profile("q"));
        add_claim("dm", "p", "t1", "HVN-DDDDDD", METHOD_DM);
        add_claim("bio", "p", "t2", "HVN-EEEEEE", METHOD_BIO_EDIT);
        let run = |body: Value| answer(verify_dm(&post(body), now()));
        assert_eq!(
            answer(verify_dm(&post_raw(b"nul"), now())),
            error(400, "Invalid JSON body")
        );
        let missing = || error(400, "Missing shadowProfileId or code");
        for body in [
            json!({}),
            json!({"shadowProfileId": "p"}),
            json!({"code": "HVN-DDDDDD"}),
            json!({"shadowProfileId": "", "code": "HVN-DDDDDD"}),
            json!({"shadowProfileId": "p", "code": ""}),
        ] {
            assert_eq!(run(body), missing());
        }
        let invalid = || error(400, "Invalid code");
        for body in [
            json!({"shadowProfileId": "p", "code": "HVN-DDDDDE"}),
            json!({"shadowProfileId": "p", "code": 12}),
            json!({"shadowProfileId": "q", "code": "HVN-DDDDDD"}),
            json!({"shadowProfileId": "nobody", "code": "HVN-DDDDDD"}),
            // A bio_edit claim's code does not verify by DM.
            json!({"shadowProfileId": "p", "code": "HVN-EEEEEE"}),
        ] {
            assert_eq!(run(body.clone()), invalid(), "{body}");
        }
        let after_expiry = Now::from_ns(claim("dm").expires_at_ms * 1_000_000);
        let req = post(json!({"shadowProfileId": "p", "code": "HVN-DDDDDD"}));
        assert_eq!(answer(verify_dm(&req, after_expiry)), invalid());
    }

    #[test]
    fn verify_dm_accepts_the_code_in_any_case_with_surrounding_space() {
        fresh(false, None);
        add_profile(profile("p"));
        add_claim("dm", "p", "t1", "HVN-K7M2PQ", METHOD_DM);
        for code in [
            "HVN-K7M2PQ",
            "hvn-k7m2pq",
            "  Hvn-K7m2pQ\n",
            "\u{feff}\thvn-k7m2pq \u{3000}",
        ] {
            let req = post(json!({"shadowProfileId": "p", "code": code}));
            assert_eq!(
                answer(verify_dm(&req, now())),
                (200, r#"{"verified":true,"claimId":"dm"}"#.into()),
                "{code:?}"
            );
        }
        // Inner space is not trimmed; U+0085 is not JavaScript white space.
        for code in ["HVN- K7M2PQ", "\u{85}HVN-K7M2PQ"] {
            let req = post(json!({"shadowProfileId": "p", "code": code}));
            assert_eq!(answer(verify_dm(&req, now())), error(400, "Invalid code"));
        }
        // A used claim no longer verifies.
        state::with_mut(|s| {
            let mut c = s.claim_tokens.get(&"dm".to_string()).unwrap().0;
            c.used = true;
            s.claim_tokens.insert("dm".into(), Cbor(c));
        });
        let req = post(json!({"shadowProfileId": "p", "code": "HVN-K7M2PQ"}));
        assert_eq!(answer(verify_dm(&req, now())), error(400, "Invalid code"));
    }

    #[test]
    fn verify_dm_limits_failed_codes_per_profile_per_hour() {
        fresh(false, None);
        add_profile(profile("p"));
        add_profile(profile("q"));
        add_claim("dm", "p", "t1", "HVN-RIGHT2", METHOD_DM);
        add_claim("dmq", "q", "t2", "HVN-QQQQQQ", METHOD_DM);
        let try_code = |profile: &str, code: &str, at: Now| {
            answer(verify_dm(
                &post(json!({"shadowProfileId": profile, "code": code})),
                at,
            ))
        };
        let t0 = now();
        for i in 0..10u64 {
            let at = Now::from_ns(t0.ns + i * 60_000_000_000);
            assert_eq!(
                try_code("p", "HVN-WRONG2", at),
                error(400, "Invalid code"),
                "{i}"
            );
        }
        let later = Now::from_ns(t0.ns + 30 * 60_000_000_000);
        let too_many = || error(429, "Too many attempts");
        assert_eq!(try_code("p", "HVN-WRONG2", later), too_many());
        // Even the right code is refused while locked, and refusals are not counted.
        assert_eq!(try_code("p", "HVN-RIGHT2", later), too_many());
        // Other profiles are unaffected; unknown profiles are never counted.
        assert_eq!(try_code("q", "hvn-qqqqqq", later).0, 200);
        for _ in 0..12 {
            assert_eq!(
                try_code("ghost", "HVN-WRONG2", later),
                error(400, "Invalid code")
            );
        }
        // The first failure leaves the window one hour after it was made.
        let first_out = Now::from_ns(t0.ns + ATTEMPT_WINDOW_NS);
        assert_eq!(try_code("p", "HVN-RIGHT2", first_out).0, 200);
        assert_eq!(
            try_code("p", "HVN-WRONG2", first_out),
            error(400, "Invalid code")
        );
        assert_eq!(try_code("p", "HVN-WRONG2", first_out), too_many());
        // Stale records are pruned when a new failure is counted.
        let much_later = Now::from_ns(t0.ns + 5 * ATTEMPT_WINDOW_NS);
        assert_eq!(
            try_code("p", "HVN-WRONG2", much_later),
            error(400, "Invalid code")
        );
        state::with(|s| {
            assert_eq!(s.claim_attempts.len(), 1);
            assert_eq!(failed_code_attempts(s, "p", much_later.ns), 1);
            let last = s.events.get(s.events.len() - 1).unwrap().0;
            assert_eq!(
                last.kind,
                EventKind::ClaimCodeRejected {
                    shadow_profile_id: "p".into()
                }
            );
        });
    }

    #[test]
    fn attempt_records_of_one_profile_ignore_ids_that_extend_it() {
        fresh(false, None);
        state::with_mut(|s| {
            note_failed_code_attempt(s, "p", 5);
            note_failed_code_attempt(s, "p", 5);
            note_failed_code_attempt(s, "p|00000000000000000001", 6);
            assert_eq!(failed_code_attempts(s, "p", 10), 2);
            assert_eq!(failed_code_attempts(s, "p|00000000000000000001", 10), 1);
        });
    }

    // ---- POST /api/claim/complete ----

    #[test]
    fn the_known_vector_completes_the_claim() {
        fresh(false, None);
        add_profile(profile("shadow-alex-sf"));
        add_claim(
            VECTOR_CLAIM_ID,
            "shadow-alex-sf",
            "tok",
            "HVN-ALEX01",
            METHOD_DM,
        );
        let message = claim_message(
            VECTOR_CLAIM_ID,
            "shadow-alex-sf",
            HARDHAT0,
            VECTOR_NONCE,
            NOW_SECS as i64,
        );
        assert_eq!(
            heaven_eth::hex32::b256_hex(&heaven_eth::eip191::message_hash(&message)),
            "0x2d8eaf411b3ba2b59f917a7fdc0bdef43384a406b58c702f7daa01aa7fc2e56e"
        );
        assert_eq!(sign(&key(HARDHAT0_KEY), &message), VECTOR_SIGNATURE);

        let req = post(complete_body(
            VECTOR_CLAIM_ID,
            HARDHAT0,
            VECTOR_SIGNATURE,
            NOW_SECS,
            VECTOR_NONCE,
        ));
        assert_eq!(
            answer(complete(&req, now())),
            (
                200,
                format!(
                    r#"{{"success":true,"message":"Profile claimed successfully","address":"{HARDHAT0}"}}"#
                )
            )
        );
        let ms = now().millis();
        let p = stored_profile("shadow-alex-sf");
        assert_eq!(p.claimed_address.as_deref(), Some(HARDHAT0));
        assert_eq!((p.claimed_at_ms, p.updated_at_ms), (Some(ms), ms));
        let c = claim(VECTOR_CLAIM_ID);
        assert!(c.used);
        assert_eq!(
            (c.used_at_ms, c.used_by.as_deref()),
            (Some(ms), Some(HARDHAT0))
        );
        let user = state::with(|s| s.users.get(&HARDHAT0.to_string()).unwrap().0);
        assert_eq!(
            user,
            User {
                address: HARDHAT0.into(),
                created_at_ms: ms,
                last_active_at_ms: None,
                directory_tier: "claimed".into(),
            }
        );
        assert_eq!(
            events().last(),
            Some(&EventKind::ClaimCompleted {
                claim_id: VECTOR_CLAIM_ID.into(),
                address: HARDHAT0.into(),
            })
        );
        // The link is spent.
        assert_eq!(
            answer(get_claim("tok", now())),
            error(404, "Invalid or expired link")
        );
    }

    #[test]
    fn complete_errors_in_order() {
        fresh(false, None);
        add_profile(profile("shadow-alex-sf"));
        add_claim(
            VECTOR_CLAIM_ID,
            "shadow-alex-sf",
            "tok",
            "HVN-ALEX01",
            METHOD_DM,
        );
        let good = complete_body(
            VECTOR_CLAIM_ID,
            HARDHAT0,
            VECTOR_SIGNATURE,
            NOW_SECS,
            VECTOR_NONCE,
        );
        let with = |name: &str, value: Value| {
            let mut body = good.clone();
            match value {
                Value::Null => body.as_object_mut().unwrap().remove(name),
                v => body.as_object_mut().unwrap().insert(name.to_string(), v),
            };
            answer(complete(&post(body), now()))
        };
        assert_eq!(
            answer(complete(&post_raw(b"{]"), now())),
            error(400, "Invalid JSON body")
        );

        let missing = || {
            error(
                400,
                "Missing claimId, address, signature, timestamp, or nonce",
            )
        };
        for name in ["claimId", "address", "signature", "timestamp", "nonce"] {
            assert_eq!(with(name, Value::Null), missing(), "{name} absent");
            assert_eq!(with(name, json!("")), missing(), "{name} empty");
            assert_eq!(with(name, json!(0)), missing(), "{name} zero");
        }
        // Missing beats every later check.
        let body = json!({"address": "bad", "signature": "bad", "timestamp": 1.5, "nonce": "x"});
        assert_eq!(answer(complete(&post(body), now())), missing());

        let bad_address = || error(400, "Invalid address format");
        for address in [
            json!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            json!("0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226"),
            json!("0xf39fd6e51aad88f6f4ce6ab8827279cfffb922666"),
            json!("0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            json!(" 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            json!(12345),
            json!([HARDHAT0]),
        ] {
            let mut body = good.clone();
            body["address"] = address.clone();
            body["signature"] = json!("bad");
            assert_eq!(
                answer(complete(&post(body), now())),
                bad_address(),
                "{address}"
            );
        }

        let bad_signature = || error(400, "Invalid signature format");
        let hex130 = &VECTOR_SIGNATURE[2..];
        for signature in [
            json!(hex130),
            json!(format!("0x{}", &hex130[1..])),
            json!(format!("0x{hex130}0")),
            json!(format!("0X{hex130}")),
            json!(format!("0x{}z", &hex130[1..])),
            json!(true),
        ] {
            let mut body = good.clone();
            body["signature"] = signature.clone();
            body["nonce"] = json!("short");
            assert_eq!(
                answer(complete(&post(body), now())),
                bad_signature(),
                "{signature}"
            );
        }

        let bad_nonce = || error(400, "Invalid nonce");
        for nonce in [
            json!("a".repeat(15)),
            json!("a".repeat(129)),
            json!(1234567890123456789u64),
            json!("😀".repeat(65)),
        ] {
            let mut body = good.clone();
            body["nonce"] = nonce.clone();
            body["timestamp"] = json!("soon");
            assert_eq!(answer(complete(&post(body), now())), bad_nonce(), "{nonce}");
        }

        let bad_timestamp = || error(400, "Invalid timestamp");
        for ts in [
            json!("1771600000"),
            json!(1771600000.5),
            json!(true),
            json!([1]),
        ] {
            assert_eq!(with("timestamp", ts.clone()), bad_timestamp(), "{ts}");
        }

        let expired = || error(400, "Signature timestamp expired or too far in future");
        for ts in [
            json!(NOW_SECS - 121),
            json!(NOW_SECS + 121),
            json!(-1),
            json!(1e20),
            json!(u64::MAX),
        ] {
            let mut body = good.clone();
            body["timestamp"] = ts.clone();
            body["claimId"] = json!("no-such-claim");
            assert_eq!(answer(complete(&post(body), now())), expired(), "{ts}");
        }

        let gone = || error(404, "Invalid or expired claim");
        assert_eq!(with("claimId", json!("no-such-claim")), gone());
        assert_eq!(with("claimId", json!(42)), gone());
        let after_expiry = Now::from_ns(claim(VECTOR_CLAIM_ID).expires_at_ms * 1_000_000);
        let body = complete_body(
            VECTOR_CLAIM_ID,
            HARDHAT0,
            VECTOR_SIGNATURE,
            after_expiry.secs(),
            VECTOR_NONCE,
        );
        assert_eq!(answer(complete(&post(body), after_expiry)), gone());

        let invalid = || error(401, "Invalid signature");
        // The vector signature over a different nonce / time / address does not verify.
        assert_eq!(with("nonce", json!("abcdef0123456780")), invalid());
        assert_eq!(with("timestamp", json!(NOW_SECS + 1)), invalid());
        let other = key("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
        assert_eq!(with("address", json!(address_of(&other))), invalid());
        // Signed by another key for this address's message.
        let message = claim_message(
            VECTOR_CLAIM_ID,
            "shadow-alex-sf",
            HARDHAT0,
            VECTOR_NONCE,
            NOW_SECS as i64,
        );
        assert_eq!(with("signature", json!(sign(&other, &message))), invalid());
        // Malformed recovery byte / zero signature.
        let bad_v = format!("{}1d", &VECTOR_SIGNATURE[..130]);
        assert_eq!(with("signature", json!(bad_v)), invalid());
        assert_eq!(
            with("signature", json!(format!("0x{}", "0".repeat(130)))),
            invalid()
        );
        // A message for another profile (as if the token were for it) does not verify.
        let message = claim_message(
            VECTOR_CLAIM_ID,
            "shadow-other",
            HARDHAT0,
            VECTOR_NONCE,
            NOW_SECS as i64,
        );
        assert_eq!(
            with("signature", json!(sign(&key(HARDHAT0_KEY), &message))),
            invalid()
        );

        // None of this changed anything.
        assert!(!claim(VECTOR_CLAIM_ID).used);
        assert_eq!(stored_profile("shadow-alex-sf").claimed_address, None);
        assert_eq!(state::with(|s| s.users.len()), 0);
        assert_eq!(events().len(), 1);
        // And the untouched request still works.
        assert_eq!(answer(complete(&post(good), now())).0, 200);
    }

    #[test]
    fn complete_accepts_the_window_edges_and_mixed_case_addresses() {
        for skew in [-120i64, 120] {
            fresh(false, None);
            add_profile(profile("p"));
            add_claim("c", "p", "t", "HVN-AAAAAA", METHOD_DM);
            let k = key(HARDHAT0_KEY);
            let ts = (NOW_SECS as i64 + skew) as u64;
            let message = claim_message("c", "p", HARDHAT0, VECTOR_NONCE, ts as i64);
            let checksummed = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
            let req = post(complete_body(
                "c",
                checksummed,
                &sign(&k, &message),
                ts,
                VECTOR_NONCE,
            ));
            let (status, body) = answer(complete(&req, now()));
            assert_eq!(status, 200, "{skew}: {body}");
            assert!(body.contains(HARDHAT0));
            assert_eq!(
                stored_profile("p").claimed_address.as_deref(),
                Some(HARDHAT0)
            );
        }
    }

    #[test]
    fn a_claim_completes_once_and_a_second_claim_on_the_profile_changes_nothing() {
        fresh(true, None);
        add_profile(profile("p"));
        let mut r = rng();
        let started = |r: &mut Rng| {
            let req = post(json!({"shadowProfileId": "p", "method": "dm"}));
            start(&req, now(), r).unwrap().body_json()["claimId"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let first = started(&mut r);
        let second = started(&mut r);
        let alice = key(HARDHAT0_KEY);
        let bob = key("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

        assert_eq!(
            answer(complete(
                &signed_complete(&alice, &first, "p", NOW_SECS),
                now()
            ))
            .0,
            200
        );
        let after_first = (
            stored_profile("p"),
            claim(&first),
            claim(&second),
            events().len(),
        );

        // The same claim again: its token is spent, so it is no longer found (as the original).
        let later = Now::from_secs(NOW_SECS + 10);
        let again = signed_complete(&alice, &first, "p", NOW_SECS + 10);
        assert_eq!(
            answer(complete(&again, later)),
            error(404, "Invalid or expired claim")
        );

        // Another live claim on the already claimed profile: 409, and nothing is written (the
        // original would still have consumed the token and created the user).
        let other = signed_complete(&bob, &second, "p", NOW_SECS + 10);
        assert_eq!(
            answer(complete(&other, later)),
            error(409, "Claim already completed or no longer available")
        );
        assert_eq!(
            (
                stored_profile("p"),
                claim(&first),
                claim(&second),
                events().len()
            ),
            after_first
        );
        assert!(!claim(&second).used);
        assert!(state::with(|s| !s.users.contains_key(&address_of(&bob))));
        assert_eq!(
            stored_profile("p").claimed_address.as_deref(),
            Some(HARDHAT0)
        );
    }

    #[test]
    fn complete_keeps_an_existing_user_row() {
        fresh(false, None);
        add_profile(profile("p"));
        add_claim("c", "p", "t", "HVN-AAAAAA", METHOD_BIO_EDIT);
        let existing = User {
            address: HARDHAT0.into(),
            created_at_ms: 5,
            last_active_at_ms: Some(6),
            directory_tier: "verified".into(),
        };
        state::with_mut(|s| s.users.insert(HARDHAT0.into(), Cbor(existing.clone())));
        let req = signed_complete(&key(HARDHAT0_KEY), "c", "p", NOW_SECS);
        assert_eq!(answer(complete(&req, now())).0, 200);
        assert_eq!(
            state::with(|s| s.users.get(&HARDHAT0.to_string()).unwrap().0),
            existing
        );
        assert!(claim("c").used);
    }

    #[test]
    fn the_whole_dm_flow() {
        fresh(false, Some("op"));
        add_profile(profile("p"));
        let req = with_secret(post(json!({"shadowProfileId": "p", "method": "dm"})), "op");
        let started = start(&req, now(), &mut rng()).unwrap().body_json();
        let token = started["token"].as_str().unwrap();
        let code = started["verificationCode"].as_str().unwrap().to_lowercase();
        assert_eq!(answer(get_claim(token, now())).0, 200);
        let verified = verify_dm(&post(json!({"shadowProfileId": "p", "code": code})), now())
            .unwrap()
            .body_json();
        let claim_id = verified["claimId"].as_str().unwrap();
        assert_eq!(claim_id, started["claimId"].as_str().unwrap());
        let req = signed_complete(&key(HARDHAT0_KEY), claim_id, "p", NOW_SECS);
        assert_eq!(answer(complete(&req, now())).0, 200);
        // Once claimed, the profile cannot be started again.
        let req = with_secret(post(json!({"shadowProfileId": "p", "method": "dm"})), "op");
        assert_eq!(
            answer(start(&req, now(), &mut rng())),
            error(404, "Profile not found or already claimed")
        );
    }

    // ---- import ----

    #[test]
    fn upsert_replaces_by_id_and_keeps_claim_fields() {
        fresh(false, None);
        add_profile(profile("p"));
        let claimed = ShadowProfile {
            display_name: Some("Alexandra".into()),
            claimed_address: Some(HARDHAT0.into()),
            claimed_at_ms: Some(9),
            ..profile("p")
        };
        upsert_shadow_profile(claimed.clone(), Now::from_secs(2));
        assert_eq!(stored_profile("p"), claimed);
        assert_eq!(state::with(|s| s.shadow_profiles.len()), 1);
        assert_eq!(
            events(),
            vec![
                EventKind::ShadowProfileUpserted { id: "p".into() },
                EventKind::ShadowProfileUpserted { id: "p".into() },
            ]
        );
    }
}
