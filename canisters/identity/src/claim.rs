//! api-core's `/api/claim/*` routes: handing a dating-directory shadow profile over to the wallet
//! of the person it describes. An operator starts a claim (link token + human code), the person
//! proves they own the source profile (bio edit or DM code), then signs a `heaven-claim:v1`
//! message with the wallet that takes the profile over.

use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::api::body::js_len;
use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now, Rng};
use crate::primitives::{Address, is_cid, is_profile_id, is_signed_nonce};
use crate::secret::{self, sha256_hex};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::keys::{self, CLAIM_ATTEMPT_WINDOW_NS};
use crate::state::{self, ClaimToken, SecretKind, ShadowProfile, State};

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
/// Failed DM codes allowed per shadow profile within [`CLAIM_ATTEMPT_WINDOW_NS`] (not in the
/// original).
const MAX_FAILED_CODES: u64 = 10;

/// Header carrying the operator secret of `POST /api/claim/start`.
pub const START_SECRET_HEADER: &str = "X-Claim-Start-Secret";

// The original let the JSON parser throw (500); we answer 400 on purpose.
fn invalid_json() -> ApiError {
    ApiError::error(400, "Invalid JSON body")
}

/// Body of `POST /api/claim/start`. Presence is JavaScript truthiness (the original's
/// `if (!a || !b)`); an id that is not a string names no profile.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct StartBody {
    shadow_profile_id: Field,
    method: Field,
}

/// Body of `POST /api/claim/verify-bio`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyBioBody {
    claim_id: Field,
}

/// Body of `POST /api/claim/verify-dm`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyDmBody {
    shadow_profile_id: Field,
    code: Field,
}

/// Body of `POST /api/claim/complete`, as sent.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CompleteBody {
    claim_id: Field,
    address: Field,
    signature: Field,
    nonce: Field,
    timestamp: Field,
}

/// A `POST /api/claim/complete` request whose fields passed the original's checks.
struct CompleteRequest<'a> {
    claim_id: Option<&'a str>,
    address: Address,
    signature: &'a str,
    nonce: &'a str,
    timestamp: i64,
}

impl CompleteBody {
    /// The original's checks, in its order.
    fn validate(&self, now: Now) -> Result<CompleteRequest<'_>, ApiError> {
        let required = [
            &self.claim_id,
            &self.address,
            &self.signature,
            &self.nonce,
            &self.timestamp,
        ];
        if !required.iter().all(|f| f.is_truthy()) {
            return Err(ApiError::error(
                400,
                "Missing claimId, address, signature, timestamp, or nonce",
            ));
        }
        let address = self
            .address
            .as_str()
            .and_then(Address::parse)
            .ok_or_else(|| ApiError::error(400, "Invalid address format"))?;
        let signature = self
            .signature
            .as_str()
            .filter(|s| is_signature_format(s))
            .ok_or_else(|| ApiError::error(400, "Invalid signature format"))?;
        // 16–128 characters (the original), of `[A-Za-z0-9_-]` (ours: the nonce is a line of
        // the signed message).
        let nonce = self
            .nonce
            .as_str()
            .filter(|n| (16..=128).contains(&js_len(n)) && is_signed_nonce(n))
            .ok_or_else(|| ApiError::error(400, "Invalid nonce"))?;
        let timestamp = signed_timestamp(&self.timestamp, now)?;
        Ok(CompleteRequest {
            claim_id: self.claim_id.as_str(),
            address,
            signature,
            nonce,
            timestamp,
        })
    }
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
        let claim_id = s.claim_token_by_hash().get(&token_hash)?;
        let claim = live_claim(s, &claim_id, now.millis())?;
        let profile = s.shadow_profiles().get(&claim.shadow_profile_id)?.0;
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
            s.secrets()
                .sha256(SecretKind::ClaimStart)
                .map(str::to_string),
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
            if !provided.is_some_and(|p| secret::matches(&secret, p)) {
                return Err(ApiError::error(401, "Unauthorized"));
            }
        }
    }

    let body: StartBody = req.json(invalid_json)?;
    if !body.shadow_profile_id.is_truthy() || !body.method.is_truthy() {
        return Err(ApiError::error(400, "Missing shadowProfileId or method"));
    }
    let method = match body.method.as_str() {
        Some(m @ (METHOD_BIO_EDIT | METHOD_DM)) => m,
        _ => return Err(ApiError::error(400, "Invalid claim method")),
    };
    // A truthy id that is not a string names no stored profile.
    let profile = body
        .shadow_profile_id
        .as_str()
        .and_then(|id| state::with(|s| s.shadow_profiles().get(&id.to_string())))
        .map(|p| p.0)
        .filter(|p| p.claimed_address.is_none())
        .ok_or_else(|| ApiError::error(404, "Profile not found or already claimed"))?;

    let token = link_token(rng);
    let code = human_code(rng);
    let claim_id = uuid_v4(rng);
    let expires_at = now.millis() + CLAIM_TTL_MS;
    state::mutate(|s| {
        process_event(
            s,
            now,
            EventType::ClaimStarted {
                claim_id: claim_id.clone(),
                shadow_profile_id: profile.id.clone(),
                method: method.to_string(),
                token_hash: sha256_hex(&token),
                human_code_hash: sha256_hex(&code),
                expires_at_ms: expires_at,
            },
        )
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
    let body: VerifyBioBody = req.json(invalid_json)?;
    if !body.claim_id.is_truthy() {
        return Err(ApiError::error(400, "Missing claimId"));
    }
    let claim = body
        .claim_id
        .as_str()
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
    let body: VerifyDmBody = req.json(invalid_json)?;
    if !body.shadow_profile_id.is_truthy() || !body.code.is_truthy() {
        return Err(ApiError::error(400, "Missing shadowProfileId or code"));
    }
    let invalid_code = || ApiError::error(400, "Invalid code");
    // A code that is not a string threw in the original (500); it cannot match, so say so.
    let code = body.code.as_str().ok_or_else(invalid_code)?;
    let code_hash = sha256_hex(js_trim(&code.to_uppercase()));
    let profile_id = body.shadow_profile_id.as_str();

    state::mutate(|s| {
        // Only existing profiles have codes to guess, so only they keep an attempts count (this
        // bounds the count's size by the directory's).
        let profile_id = profile_id
            .filter(|id| s.shadow_profiles().contains_key(&id.to_string()))
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
                process_event(
                    s,
                    now,
                    EventType::ClaimCodeRejected {
                        shadow_profile_id: profile_id.to_string(),
                    },
                );
                Err(invalid_code())
            }
        }
    })
}

/// POST /api/claim/complete
pub fn complete(req: &ApiRequest, now: Now) -> ApiResult {
    let body: CompleteBody = req.json(invalid_json)?;
    let request = body.validate(now)?;
    let claim = request
        .claim_id
        .and_then(|id| state::with(|s| live_claim(s, id, now.millis())))
        .ok_or_else(|| ApiError::error(404, "Invalid or expired claim"))?;

    let address = request.address.lower_hex();
    let message = claim_message(
        &claim.id,
        &claim.shadow_profile_id,
        &address,
        request.nonce,
        request.timestamp,
    );
    let signer = heaven_eth::eip191::recover(&message, request.signature).map(Address::from);
    if signer.ok() != Some(request.address) {
        return Err(ApiError::error(401, "Invalid signature"));
    }

    state::mutate(|s| hand_over(s, &claim.id, &address, now))?;
    Ok(ApiResponse::ok(&ClaimCompleted {
        success: true,
        message: "Profile claimed successfully",
        address,
    }))
}

/// Checks a shadow profile for import: its id (embedded in the signed claim message and in
/// avatar URLs) is URL-safe, its anime CID in the CID alphabet, its claimed address (if any)
/// an address.
pub fn check_shadow_profile(profile: &ShadowProfile) -> Result<(), String> {
    if !is_profile_id(&profile.id) {
        return Err(format!(
            "id {:?} must be 1-128 of [A-Za-z0-9._~-] (source {:?})",
            profile.id, profile.source
        ));
    }
    if let Some(cid) = &profile.anime_cid
        && !is_cid(cid)
    {
        return Err(format!("anime CID {cid:?} of {} is not a CID", profile.id));
    }
    if let Some(address) = &profile.claimed_address
        && Address::parse(address).is_none()
    {
        return Err(format!(
            "claimed address {address:?} of {} is not an address",
            profile.id
        ));
    }
    Ok(())
}

/// Controller/migration import of a shadow profile (replaces by id, keeps claim fields as given;
/// [`check_shadow_profile`] first).
pub fn upsert_shadow_profile(profile: ShadowProfile, now: Now) {
    state::mutate(|s| process_event(s, now, EventType::ShadowProfileImported { profile }));
}

/// Hands the profile over, in one synchronous change: the user row (if absent), the profile's
/// owner, the token's use ([`EventType::ClaimCompleted`]).
///
/// Deliberate fix: the original ran all three writes and answered 409 afterwards when the
/// profile was already claimed or the token already used, leaving the other writes committed.
/// Here both conditions are checked first, so a 409 changes nothing.
fn hand_over(s: &mut State, claim_id: &str, address: &str, now: Now) -> Result<(), ApiError> {
    let claim = live_claim(s, claim_id, now.millis());
    let profile_free = claim
        .as_ref()
        .and_then(|c| s.shadow_profiles().get(&c.shadow_profile_id))
        .is_some_and(|p| p.0.claimed_address.is_none());
    if !profile_free {
        return Err(ApiError::error(
            409,
            "Claim already completed or no longer available",
        ));
    }
    process_event(
        s,
        now,
        EventType::ClaimCompleted {
            claim_id: claim_id.to_string(),
            address: address.to_string(),
        },
    );
    Ok(())
}

/// The claim `claim_id` when it is unused and not expired at `now_ms`.
fn live_claim(s: &State, claim_id: &str, now_ms: u64) -> Option<ClaimToken> {
    s.claim_tokens()
        .get(&claim_id.to_string())
        .map(|c| c.0)
        .filter(|c| !c.used && c.expires_at_ms > now_ms)
}

/// The live `dm` claim of `profile_id` whose human code hashes to `code_hash`.
fn find_dm_claim(s: &State, profile_id: &str, code_hash: &str, now_ms: u64) -> Option<String> {
    let prefix = keys::code_index_key(code_hash, "");
    s.claim_token_by_code()
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .filter_map(|k| live_claim(s, &k[prefix.len()..], now_ms))
        .find(|c| c.shadow_profile_id == profile_id && c.method == METHOD_DM)
        .map(|c| c.id)
}

/// Failed codes for `profile_id` within the window ending at `now_ns`.
fn failed_code_attempts(s: &State, profile_id: &str, now_ns: u64) -> u64 {
    let since = now_ns.saturating_sub(CLAIM_ATTEMPT_WINDOW_NS);
    let prefix = keys::attempt_prefix(profile_id);
    s.claim_attempts()
        .range(prefix.clone()..)
        .map(|entry| entry.into_pair())
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| keys::attempt_time(k, &prefix).is_some_and(|at| at > since))
        .map(|(_, failures)| failures)
        .sum()
}

/// The signed `timestamp` (seconds): an integer within the window around now.
fn signed_timestamp(timestamp: &Field, now: Now) -> Result<i64, ApiError> {
    let expired = || ApiError::error(400, "Signature timestamp expired or too far in future");
    let timestamp = match timestamp.integer() {
        Some(t) => t,
        // Integers too large for `Field::integer` are still integers to JavaScript; they are
        // simply far outside the window.
        None if timestamp.is_integral() => return Err(expired()),
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
mod tests;
