//! The legacy off-chain `.heaven` registry (api-core's `/api/names` lookups and signed
//! register/renew/update): free names for a year plus a 30-day grace period, resolved for the DNS
//! server. Whether a name is active, in grace or lapsed is computed from its stored times.
//!
//! Schema drift, fixed on purpose: the original's code used a `pkp_address` column that its own
//! schema had already renamed to `owner_address`, so on a fresh database most of these routes
//! failed. We store the owner ([`HeavenName::owner`]) and keep the names clients already use on
//! the wire: `pkpAddress` in requests, `pkp_address` in responses, `pkp=` in the signed messages
//! and in TXT records.
//!
//! Every signed request is checked completely first; then one `state::with_mut` call
//! checks the nonce and state and writes. Nothing awaits between the checks and the writes, so the
//! original's "Name was just taken" / "not updated" races cannot happen here, and an error
//! changes nothing.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Now, field};
use crate::events::EventKind;
use crate::names::label::{self, LabelReason};
use crate::state::{self, Cbor, HeavenName, State, UsedNonce};

/// How long a registration or renewal lasts.
const REGISTRATION_SECS: u64 = 365 * 24 * 60 * 60;
/// How long after expiry only the owner can renew.
const GRACE_SECS: u64 = 30 * 24 * 60 * 60;
/// Largest allowed distance between a signed request's timestamp and now, and the lifetime
/// written into the signed message.
const SIGNATURE_WINDOW_SECS: i64 = 120;
/// The only TLD this registry serves.
const TLD: &str = "heaven";
/// The gateway every active name's A record points at.
const GATEWAY_IP: &str = "144.126.205.242";
/// DNS TTL for an answer with records.
const TTL_POSITIVE: u64 = 300;
/// DNS TTL for a negative answer (new registrations show up quickly).
const TTL_NEGATIVE: u64 = 60;
/// Nonce length bounds (UTF-16 code units, as JavaScript counts).
const NONCE_MIN: usize = 16;
const NONCE_MAX: usize = 128;
/// Longest profile CID accepted (UTF-16 code units).
const PROFILE_CID_MAX: usize = 256;

const TIMESTAMP_ERROR: &str = "Signature timestamp expired or too far in future";
const REPLAY_ERROR: &str = "Nonce already used (replay detected)";

// ---------------------------------------------------------------------------------------------
// Lifecycle of a stored name
// ---------------------------------------------------------------------------------------------

/// Where a stored name stands at a given second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    /// Not yet expired.
    Active,
    /// Expired, but the owner can still renew; nobody else can register it.
    InGrace,
    /// Past the grace period: treated as unregistered and open to anyone.
    Lapsed,
}

impl Standing {
    fn of(name: &HeavenName, now_secs: u64) -> Self {
        if now_secs > name.grace_ends_at {
            Self::Lapsed
        } else if now_secs > name.expires_at {
            Self::InGrace
        } else {
            Self::Active
        }
    }

    /// The `status` responses show for a name that is not lapsed.
    fn wire_status(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::InGrace | Self::Lapsed => "expired",
        }
    }
}

fn stored_name(s: &State, label: &str) -> Option<HeavenName> {
    s.names.get(&label.to_string()).map(|Cbor(name)| name)
}

/// Key of the `names_by_owner` index.
fn owner_key(owner: &str, label: &str) -> String {
    format!("{owner}|{label}")
}

/// Lowercase, trim, then require `0x` + 40 hex digits (the original's PKP address rule).
fn normalize_owner(raw: &str) -> Option<String> {
    let lowered = raw.to_lowercase();
    heaven_eth::address::parse(lowered.trim()).map(|a| heaven_eth::address::to_lower_hex(&a))
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

/// Body of a DNS answer; the key order differs by case, as in the original.
#[derive(Serialize)]
#[serde(untagged)]
enum DnsAnswer<'a> {
    /// Nothing to serve: `unregistered` or `reserved`.
    Negative {
        tld: &'a str,
        label: &'a str,
        status: &'static str,
        ttl_positive: u64,
        ttl_negative: u64,
    },
    /// In grace: no records, but the expiry.
    Expired {
        tld: &'a str,
        label: &'a str,
        status: &'static str,
        expires_at: u64,
        ttl_positive: u64,
        ttl_negative: u64,
    },
    /// Active: the records to serve, expiry last.
    Active {
        tld: &'a str,
        label: &'a str,
        status: &'static str,
        records: DnsRecords,
        ttl_positive: u64,
        ttl_negative: u64,
        expires_at: u64,
    },
}

#[derive(Serialize)]
struct DnsRecords {
    #[serde(rename = "A")]
    a: Vec<&'static str>,
    #[serde(rename = "AAAA")]
    aaaa: Vec<&'static str>,
    #[serde(rename = "TXT")]
    txt: Vec<String>,
}

fn negative<'a>(tld: &'a str, label: &'a str, status: &'static str) -> ApiResult {
    Ok(ApiResponse::ok(&DnsAnswer::Negative {
        tld,
        label,
        status,
        ttl_positive: TTL_POSITIVE,
        ttl_negative: TTL_NEGATIVE,
    }))
}

/// Compares the `Authorization` header with `Bearer <secret>` in constant time (both sides are
/// hashed first, so neither the length nor the content of the secret leaks through timing).
fn bearer_matches(header: &str, secret: &str) -> bool {
    let expected = Sha256::digest(format!("Bearer {secret}").as_bytes());
    let given = Sha256::digest(header.as_bytes());
    expected
        .iter()
        .zip(given.iter())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// GET /api/names/dns/resolve?label=&tld= — what the DNS server should answer for a name.
pub fn dns_resolve(req: &ApiRequest, now: Now) -> ApiResult {
    let (secret, development) = state::with(|s| {
        (
            s.secrets().dns_shared.clone().filter(|v| !v.is_empty()),
            s.config().development,
        )
    });
    match secret {
        None if !development => return Err(ApiError::error(500, "Server misconfiguration")),
        Some(secret) if !bearer_matches(req.header("Authorization").unwrap_or(""), &secret) => {
            return Err(ApiError::error(401, "Unauthorized"));
        }
        _ => {}
    }

    let tld = req
        .query_param("tld")
        .filter(|t| !t.is_empty())
        .unwrap_or(TLD);
    if tld != TLD {
        return Err(ApiError::error(400, "Unsupported TLD"));
    }
    let raw = match req.query_param("label") {
        Some(raw) if !raw.is_empty() => raw,
        _ => return Err(ApiError::error(400, "Missing label parameter")),
    };

    let label = match label::validate_legacy(raw) {
        Ok(label) => label,
        // Invalid input is answered with the label as given.
        Err(LabelReason::Reserved) => return negative(tld, raw, "reserved"),
        Err(_) => return negative(tld, raw, "unregistered"),
    };
    let (reserved, name) =
        state::with(|s| (s.reserved.contains_key(&label), stored_name(s, &label)));
    if reserved {
        return negative(tld, &label, "reserved");
    }
    let Some(name) = name else {
        return negative(tld, &label, "unregistered");
    };
    match Standing::of(&name, now.secs()) {
        Standing::Lapsed => negative(tld, &label, "unregistered"),
        Standing::InGrace => Ok(ApiResponse::ok(&DnsAnswer::Expired {
            tld,
            label: &label,
            status: "expired",
            expires_at: name.expires_at,
            ttl_positive: TTL_POSITIVE,
            ttl_negative: TTL_NEGATIVE,
        })),
        Standing::Active => {
            let cid = match name.profile_cid.as_deref() {
                Some(cid) if !cid.is_empty() => format!(";cid={cid}"),
                _ => String::new(),
            };
            Ok(ApiResponse::ok(&DnsAnswer::Active {
                tld,
                label: &label,
                status: "active",
                records: DnsRecords {
                    a: vec![GATEWAY_IP],
                    aaaa: vec![],
                    txt: vec![format!("pkp={}{cid};v=1", name.owner)],
                },
                ttl_positive: TTL_POSITIVE,
                ttl_negative: TTL_NEGATIVE,
                expires_at: name.expires_at,
            }))
        }
    }
}

#[derive(Serialize)]
struct Availability {
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// GET /api/names/available/:label — whether anyone could register the label now.
pub fn available(label: &str, now: Now) -> ApiResult {
    let answer = |available, reason| Ok(ApiResponse::ok(&Availability { available, reason }));
    let label = match label::validate_legacy(label) {
        Ok(label) => label,
        Err(reason) => return answer(false, Some(reason.as_str())),
    };
    let (reserved, name) =
        state::with(|s| (s.reserved.contains_key(&label), stored_name(s, &label)));
    if reserved {
        return answer(false, Some("reserved"));
    }
    match name.map(|name| Standing::of(&name, now.secs())) {
        None | Some(Standing::Lapsed) => answer(true, None),
        Some(Standing::InGrace) => answer(false, Some("expired_grace")),
        Some(Standing::Active) => answer(false, Some("taken")),
    }
}

#[derive(Serialize)]
struct ReverseAnswer<'a> {
    label: &'a str,
    label_display: Option<&'a str>,
    expires_at: u64,
    status: &'static str,
}

/// GET /api/names/reverse/:pkp — the owner's most recently registered name, unless it lapsed.
pub fn reverse(pkp: &str, now: Now) -> ApiResult {
    let owner = normalize_owner(pkp).ok_or_else(|| ApiError::error(400, "Invalid PKP address"))?;
    let prefix = owner_key(&owner, "");
    let latest = state::with(|s| {
        s.names_by_owner
            .keys_range(prefix.clone()..)
            .take_while(|key| key.starts_with(&prefix))
            .filter_map(|key| stored_name(s, &key[prefix.len()..]))
            .filter(|name| name.owner == owner)
            .max_by_key(|name| name.registered_at)
    });
    let name = latest.ok_or_else(|| ApiError::error(404, "No name found for this PKP"))?;
    // Like the original, only the latest registration counts: if it lapsed, an older one that
    // is still live is not looked at.
    let standing = Standing::of(&name, now.secs());
    if standing == Standing::Lapsed {
        return Err(ApiError::error(404, "No active name found for this PKP"));
    }
    Ok(ApiResponse::ok(&ReverseAnswer {
        label: &name.label,
        label_display: name.label_display.as_deref(),
        expires_at: name.expires_at,
        status: standing.wire_status(),
    }))
}

#[derive(Serialize)]
struct NameDetails<'a> {
    label: &'a str,
    label_display: Option<&'a str>,
    pkp_address: &'a str,
    status: &'static str,
    registered_at: u64,
    expires_at: u64,
    profile_cid: Option<&'a str>,
}

/// GET /api/names/:label — a name's record, unless it lapsed.
pub fn details(label: &str, now: Now) -> ApiResult {
    let label = label::validate_legacy(label)
        .map_err(|reason| ApiError::error(400, format!("Invalid label: {}", reason.as_str())))?;
    let not_found = || ApiError::error(404, "Name not found");
    let name = state::with(|s| stored_name(s, &label)).ok_or_else(not_found)?;
    let standing = Standing::of(&name, now.secs());
    if standing == Standing::Lapsed {
        return Err(not_found());
    }
    Ok(ApiResponse::ok(&NameDetails {
        label: &name.label,
        label_display: name.label_display.as_deref(),
        pkp_address: &name.owner,
        status: standing.wire_status(),
        registered_at: name.registered_at,
        expires_at: name.expires_at,
        profile_cid: name.profile_cid.as_deref(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Signed requests
// ---------------------------------------------------------------------------------------------

/// What a signed request asks for; its wire name goes into the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Register,
    Renew,
    Update,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Renew => "renew",
            Self::Update => "update",
        }
    }
}

/// The text an owner signs (EIP-191) to register, renew or update a name.
struct RegistryMessage<'a> {
    action: Action,
    label: &'a str,
    owner: &'a str,
    nonce: &'a str,
    issued_at: i64,
    /// Signed for register and update only (empty when there is none).
    profile_cid: &'a str,
}

impl RegistryMessage<'_> {
    fn text(&self) -> String {
        let mut lines = vec![
            "heaven-registry:v1".to_string(),
            format!("action={}", self.action.as_str()),
            format!("tld={TLD}"),
            format!("label={}", self.label),
            format!("pkp={}", self.owner),
            format!("nonce={}", self.nonce),
            format!("issued_at={}", self.issued_at),
            format!("expires_at={}", self.issued_at + SIGNATURE_WINDOW_SECS),
        ];
        if self.action != Action::Renew {
            lines.push(format!("profile_cid={}", self.profile_cid));
        }
        lines.join("\n")
    }

    /// 401 unless `signature` (hex, `0x` optional) is the owner's signature of this message.
    fn verify(&self, signature: Option<&str>) -> Result<(), ApiError> {
        let message = self.text();
        let signer = signature.and_then(|sig| heaven_eth::eip191::recover(&message, sig).ok());
        match signer {
            Some(address) if heaven_eth::address::to_lower_hex(&address) == self.owner => Ok(()),
            _ => Err(ApiError::failure(401, "Invalid signature")),
        }
    }
}

/// The `profileCid` field of a register or update request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProfileCid<'a> {
    Absent,
    Null,
    Text(&'a str),
}

impl<'a> ProfileCid<'a> {
    /// What goes after `profile_cid=` in the message.
    fn signed(self) -> &'a str {
        match self {
            Self::Text(cid) => cid,
            Self::Absent | Self::Null => "",
        }
    }
}

fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn parse_body(req: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    // The original had no guard around its JSON parse and answered 500 for a bad body.
    req.json_object(|| ApiError::failure(400, "Invalid JSON body"))
}

fn nonce_field(body: &Map<String, Value>) -> Result<&str, ApiError> {
    field::str(body, "nonce")
        .filter(|n| (NONCE_MIN..=NONCE_MAX).contains(&js_len(n)))
        .ok_or_else(|| ApiError::failure(400, "Invalid nonce"))
}

/// `profileCid`: absent, null, or a string of at most 256 characters. The original refused
/// truthy non-strings with "profileCid too long" but let `0`/`false` through (signing them as
/// "0"/"false"); we refuse every non-string, non-null value with the same text.
fn profile_cid_field(body: &Map<String, Value>) -> Result<ProfileCid<'_>, ApiError> {
    let too_long = || ApiError::failure(400, "profileCid too long");
    match body.get("profileCid") {
        None => Ok(ProfileCid::Absent),
        Some(Value::Null) => Ok(ProfileCid::Null),
        Some(Value::String(cid)) if js_len(cid) <= PROFILE_CID_MAX => Ok(ProfileCid::Text(cid)),
        Some(_) => Err(too_long()),
    }
}

/// `label` as sent and normalized. A missing or falsy label is `empty` as in the original; any
/// other non-string (which crashed the original with a 500) is `invalid_chars`.
fn label_field(body: &Map<String, Value>) -> Result<(&str, String), ApiError> {
    let invalid =
        |reason: LabelReason| ApiError::failure(400, format!("Invalid label: {}", reason.as_str()));
    let raw = match body.get("label") {
        Some(Value::String(raw)) => raw.as_str(),
        _ if !field::truthy(body, "label") => return Err(invalid(LabelReason::Empty)),
        _ => return Err(invalid(LabelReason::InvalidChars)),
    };
    let label = label::validate_legacy(raw).map_err(invalid)?;
    Ok((raw, label))
}

/// `timestamp` (seconds) within ±120 s of now. A missing or non-integer timestamp gets the
/// same 400: the original let it through (its window check compared NaN) and then signed
/// `issued_at=undefined`, which we deliberately do not reproduce.
fn timestamp_field(body: &Map<String, Value>, now: Now) -> Result<i64, ApiError> {
    field::integer(body, "timestamp")
        .filter(|ts| {
            (i128::from(now.secs()) - i128::from(*ts)).abs() <= i128::from(SIGNATURE_WINDOW_SECS)
        })
        .ok_or_else(|| ApiError::failure(400, TIMESTAMP_ERROR))
}

/// Marks `nonce` used by `owner`, or 409 when it was used before (by anyone, for anything).
/// Must be the first write of a request.
fn spend_nonce(s: &mut State, nonce: &str, owner: &str, now: Now) -> Result<(), ApiError> {
    let key = nonce.to_string();
    if s.nonces.contains_key(&key) {
        return Err(ApiError::failure(409, REPLAY_ERROR));
    }
    s.nonces.insert(
        key,
        Cbor(UsedNonce {
            owner: owner.to_string(),
            used_at: now.secs(),
        }),
    );
    Ok(())
}

#[derive(Serialize)]
struct Registered<'a> {
    success: bool,
    label: &'a str,
    expires_at: u64,
}

/// POST /api/names/register — a new name for a year, signed by the future owner.
pub fn register(req: &ApiRequest, now: Now) -> ApiResult {
    let body = parse_body(req)?;
    let nonce = nonce_field(&body)?;
    let profile_cid = profile_cid_field(&body)?;
    let (raw_label, label) = label_field(&body)?;
    let owner = field::str(&body, "pkpAddress")
        .and_then(normalize_owner)
        .ok_or_else(|| ApiError::failure(400, "Invalid PKP address"))?;
    let issued_at = timestamp_field(&body, now)?;
    RegistryMessage {
        action: Action::Register,
        label: &label,
        owner: &owner,
        nonce,
        issued_at,
        profile_cid: profile_cid.signed(),
    }
    .verify(field::str(&body, "signature"))?;

    let at = now.secs();
    let expires_at = at + REGISTRATION_SECS;
    let name = HeavenName {
        label: label.clone(),
        label_display: Some(raw_label.to_string()),
        owner: owner.clone(),
        status: "active".into(),
        registered_at: at,
        expires_at,
        grace_ends_at: expires_at + GRACE_SECS,
        profile_cid: Some(profile_cid.signed())
            .filter(|cid| !cid.is_empty())
            .map(str::to_string),
        created_at: at,
        updated_at: at,
    };
    state::with_mut(|s| {
        if s.reserved.contains_key(&label) {
            return Err(ApiError::failure(400, "Name is reserved"));
        }
        let previous = stored_name(s, &label);
        match previous.as_ref().map(|old| Standing::of(old, at)) {
            Some(Standing::Active) => return Err(ApiError::failure(400, "Name is already taken")),
            Some(Standing::InGrace) => {
                return Err(ApiError::failure(400, "Name is in grace period"));
            }
            None | Some(Standing::Lapsed) => {}
        }
        spend_nonce(s, nonce, &owner, now)?;
        // A lapsed registration is replaced: its row and its owner's index entry go.
        if let Some(old) = previous {
            s.names_by_owner.remove(&owner_key(&old.owner, &label));
        }
        s.names.insert(label.clone(), Cbor(name));
        s.names_by_owner.insert(owner_key(&owner, &label), ());
        s.record(
            now.ns,
            EventKind::NameRegistered {
                label: label.clone(),
                owner: owner.clone(),
                expires_at,
            },
        );
        Ok(())
    })?;
    Ok(ApiResponse::ok(&Registered {
        success: true,
        label: &label,
        expires_at,
    }))
}

#[derive(Serialize)]
struct Renewed {
    success: bool,
    expires_at: u64,
}

/// POST /api/names/renew — another year, from the current expiry or from now if it passed;
/// signed by the owner, possible until the grace period ends.
pub fn renew(req: &ApiRequest, now: Now) -> ApiResult {
    let body = parse_body(req)?;
    let nonce = nonce_field(&body)?;
    let (_, label) = label_field(&body)?;
    let mut name = state::with(|s| stored_name(s, &label))
        .ok_or_else(|| ApiError::failure(404, "Name not found"))?;
    let at = now.secs();
    if Standing::of(&name, at) == Standing::Lapsed {
        return Err(ApiError::failure(
            400,
            "Name has expired and passed grace period",
        ));
    }
    let issued_at = timestamp_field(&body, now)?;
    RegistryMessage {
        action: Action::Renew,
        label: &label,
        owner: &name.owner,
        nonce,
        issued_at,
        profile_cid: "",
    }
    .verify(field::str(&body, "signature"))?;

    let expires_at = at.max(name.expires_at) + REGISTRATION_SECS;
    name.expires_at = expires_at;
    name.grace_ends_at = expires_at + GRACE_SECS;
    name.status = "active".into();
    name.updated_at = at;
    state::with_mut(|s| {
        spend_nonce(s, nonce, &name.owner, now)?;
        s.names.insert(label.clone(), Cbor(name));
        s.record(
            now.ns,
            EventKind::NameRenewed {
                label: label.clone(),
                expires_at,
            },
        );
        Ok(())
    })?;
    Ok(ApiResponse::ok(&Renewed {
        success: true,
        expires_at,
    }))
}

#[derive(Serialize)]
struct Updated {
    success: bool,
}

/// POST /api/names/update — set (or, with `null`, clear) the profile CID of an unexpired name,
/// signed by the owner.
pub fn update(req: &ApiRequest, now: Now) -> ApiResult {
    let body = parse_body(req)?;
    let nonce = nonce_field(&body)?;
    let profile_cid = profile_cid_field(&body)?;
    let (_, label) = label_field(&body)?;
    let mut name = state::with(|s| stored_name(s, &label))
        .ok_or_else(|| ApiError::failure(404, "Name not found"))?;
    let at = now.secs();
    if Standing::of(&name, at) != Standing::Active {
        return Err(ApiError::failure(400, "Name has expired"));
    }
    let issued_at = timestamp_field(&body, now)?;
    RegistryMessage {
        action: Action::Update,
        label: &label,
        owner: &name.owner,
        nonce,
        issued_at,
        profile_cid: profile_cid.signed(),
    }
    .verify(field::str(&body, "signature"))?;
    // The original only failed here, at the database write, with a 500 "Update failed" (binding
    // an undefined value); we answer the client error it is, at the same point in the order.
    name.profile_cid = match profile_cid {
        ProfileCid::Absent => {
            return Err(ApiError::failure(400, "profileCid is required"));
        }
        ProfileCid::Null => None,
        ProfileCid::Text(cid) => Some(cid.to_string()),
    };
    name.updated_at = at;
    state::with_mut(|s| {
        spend_nonce(s, nonce, &name.owner, now)?;
        s.names.insert(label.clone(), Cbor(name));
        s.record(now.ns, EventKind::NameUpdated { label });
        Ok(())
    })?;
    Ok(ApiResponse::ok(&Updated { success: true }))
}

// ---------------------------------------------------------------------------------------------
// Controller and sweep
// ---------------------------------------------------------------------------------------------

/// Controller: reserve a label with a reason, or release it (None). The label is trimmed and
/// lowercased, as lookups are. Records an event only when something changes.
pub fn set_reserved(label: &str, reason: Option<String>, now: Now) {
    let label = label::normalize(label);
    state::with_mut(|s| {
        if s.reserved.get(&label) == reason {
            return;
        }
        match &reason {
            Some(reason) => {
                s.reserved.insert(label.clone(), reason.clone());
            }
            None => {
                s.reserved.remove(&label);
            }
        }
        s.record(now.ns, EventKind::ReservedChanged { label, reason });
    });
}

/// The names whose certified GET /api/names/:label response may change at `now`, i.e. labels
/// whose grace ended (`grace_ends_at < now`), for the expiry sweep.
pub fn past_grace(now: Now) -> Vec<String> {
    let at = now.secs();
    state::with(|s| {
        s.names
            .iter()
            .filter(|entry| entry.value().0.grace_ends_at < at)
            .map(|entry| entry.key().clone())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;
    use serde_json::json;

    /// The time of the known vector; most tests register at this second.
    const T0: u64 = 1_771_600_000;
    const YEAR: u64 = 365 * 24 * 60 * 60;
    const GRACE: u64 = 30 * 24 * 60 * 60;
    const NONCE: &str = "abcdef0123456789";
    const HARDHAT0_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const HARDHAT0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

    fn at(secs: u64) -> Now {
        Now::from_secs(secs)
    }

    use crate::testing::{address_hex as address, key_from_seed as key, personal_sign as sign};

    /// The message format written out independently of the code under test.
    fn message(
        action: &str,
        label: &str,
        owner: &str,
        nonce: &str,
        ts: i64,
        cid: Option<&str>,
    ) -> String {
        let mut m = format!(
            "heaven-registry:v1\naction={action}\ntld=heaven\nlabel={label}\npkp={owner}\n\
             nonce={nonce}\nissued_at={ts}\nexpires_at={}",
            ts + 120
        );
        if let Some(cid) = cid {
            m.push_str(&format!("\nprofile_cid={cid}"));
        }
        m
    }

    fn nonce(n: u32) -> String {
        format!("nonce-{n:012}")
    }

    fn post(body: &Value) -> ApiRequest {
        ApiRequest {
            method: "POST".into(),
            body: serde_json::to_vec(body).unwrap(),
            ..Default::default()
        }
    }

    fn ok_body(result: ApiResult) -> String {
        let response = result.unwrap_or_else(|e| panic!("expected 200, got {e}"));
        assert_eq!(response.status, 200);
        String::from_utf8(response.body).unwrap()
    }

    fn ok_json(result: ApiResult) -> Value {
        serde_json::from_str(&ok_body(result)).unwrap()
    }

    /// Asserts a `{success:false, error}` answer.
    fn assert_failure(result: ApiResult, status: u16, message: &str) {
        let err = result.expect_err(message);
        assert_eq!(
            (err.status, err.body.as_str()),
            (
                status,
                format!(r#"{{"success":false,"error":"{message}"}}"#).as_str()
            )
        );
    }

    /// Asserts an `{error}` answer.
    fn assert_error(result: ApiResult, status: u16, message: &str) {
        let err = result.expect_err(message);
        assert_eq!(
            (err.status, err.body.as_str()),
            (status, format!(r#"{{"error":"{message}"}}"#).as_str())
        );
    }

    fn register_body(
        key: &SigningKey,
        label: &str,
        cid: Option<&str>,
        nonce: &str,
        ts: u64,
    ) -> Value {
        let owner = address(key);
        let normalized = label.trim().to_lowercase();
        let msg = message(
            "register",
            &normalized,
            &owner,
            nonce,
            ts as i64,
            Some(cid.unwrap_or("")),
        );
        let mut body = json!({
            "label": label,
            "pkpAddress": owner,
            "signature": sign(key, &msg),
            "nonce": nonce,
            "timestamp": ts,
        });
        if let Some(cid) = cid {
            body["profileCid"] = json!(cid);
        }
        body
    }

    fn register_at(
        key: &SigningKey,
        label: &str,
        cid: Option<&str>,
        nonce: &str,
        secs: u64,
    ) -> ApiResult {
        register(
            &post(&register_body(key, label, cid, nonce, secs)),
            at(secs),
        )
    }

    fn renew_body(key: &SigningKey, label: &str, nonce: &str, ts: u64) -> Value {
        let msg = message("renew", label, &address(key), nonce, ts as i64, None);
        json!({"label": label, "signature": sign(key, &msg), "nonce": nonce, "timestamp": ts})
    }

    fn update_body(key: &SigningKey, label: &str, cid: Value, nonce: &str, ts: u64) -> Value {
        let signed = cid.as_str().unwrap_or("").to_string();
        let msg = message(
            "update",
            label,
            &address(key),
            nonce,
            ts as i64,
            Some(&signed),
        );
        json!({
            "label": label,
            "profileCid": cid,
            "signature": sign(key, &msg),
            "nonce": nonce,
            "timestamp": ts,
        })
    }

    fn event_count() -> u64 {
        state::with(|s| s.events.len())
    }

    fn stored(label: &str) -> Option<HeavenName> {
        state::with(|s| stored_name(s, label))
    }

    fn owner_index() -> Vec<String> {
        state::with(|s| s.names_by_owner.keys().collect())
    }

    fn dns(label: Option<&str>, tld: Option<&str>, auth: Option<&str>, now: Now) -> ApiResult {
        let mut query = Vec::new();
        if let Some(label) = label {
            query.push(("label".to_string(), label.to_string()));
        }
        if let Some(tld) = tld {
            query.push(("tld".to_string(), tld.to_string()));
        }
        let req = ApiRequest {
            method: "GET".into(),
            path: "/api/names/dns/resolve".into(),
            query,
            headers: auth
                .map(|a| vec![("authorization".to_string(), a.to_string())])
                .unwrap_or_default(),
            body: vec![],
        };
        dns_resolve(&req, now)
    }

    fn set_dns_secret(secret: Option<&str>, development: bool) {
        state::with_mut(|s| {
            let mut secrets = s.secrets().clone();
            secrets.dns_shared = secret.map(str::to_string);
            s.secrets.set(Cbor(secrets));
            let mut config = s.config().clone();
            config.development = development;
            s.set_config(config);
        });
    }

    // ---- the known vector ----------------------------------------------------------------

    #[test]
    fn known_vector_registers_alice() {
        let key = SigningKey::from_slice(&hex::decode(HARDHAT0_KEY).unwrap()).unwrap();
        assert_eq!(address(&key), HARDHAT0);
        let body = json!({
            "label": "alice",
            "pkpAddress": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "profileCid": "",
            "signature": "0x73bbb538214ac72dbc8a2c60796091c5ada1ba1c568367b90d49bb5012df01650336ef4d4c1cb70048bb9c9fedef531082d823f91d61fca3a2ea5f0952c91f7c1b",
            "nonce": NONCE,
            "timestamp": T0,
        });
        assert_eq!(
            ok_body(register(&post(&body), at(T0))),
            format!(
                r#"{{"success":true,"label":"alice","expires_at":{}}}"#,
                T0 + YEAR
            )
        );
        let name = stored("alice").unwrap();
        assert_eq!(name.owner, HARDHAT0);
        assert_eq!(name.profile_cid, None);
        assert_eq!(name.grace_ends_at, T0 + YEAR + GRACE);
        assert_eq!(owner_index(), vec![format!("{HARDHAT0}|alice")]);
        assert_eq!(
            state::with(|s| s.nonces.get(&NONCE.to_string())).unwrap().0,
            UsedNonce {
                owner: HARDHAT0.into(),
                used_at: T0
            }
        );
        // Without the 0x prefix it verifies too (it is a different nonce's message, so 401 here
        // proves nothing; check recovery directly instead).
        let msg = message("register", "alice", HARDHAT0, NONCE, T0 as i64, Some(""));
        let sig = body["signature"].as_str().unwrap();
        let no_prefix = &sig[2..];
        assert_eq!(
            heaven_eth::address::to_lower_hex(
                &heaven_eth::eip191::recover(&msg, no_prefix).unwrap()
            ),
            HARDHAT0
        );
    }

    #[test]
    fn signed_message_matches_the_documented_format() {
        let m = RegistryMessage {
            action: Action::Update,
            label: "alice",
            owner: HARDHAT0,
            nonce: NONCE,
            issued_at: 100,
            profile_cid: "bafy",
        };
        assert_eq!(
            m.text(),
            format!(
                "heaven-registry:v1\naction=update\ntld=heaven\nlabel=alice\npkp={HARDHAT0}\n\
                 nonce={NONCE}\nissued_at=100\nexpires_at=220\nprofile_cid=bafy"
            )
        );
        let renew = RegistryMessage {
            action: Action::Renew,
            ..m
        };
        assert!(renew.text().ends_with("\nexpires_at=220"));
    }

    // ---- register ------------------------------------------------------------------------

    #[test]
    fn register_errors_come_in_the_original_order() {
        let k = key(1);
        let owner = address(&k);
        set_reserved("alice", Some("brand".into()), at(T0));
        let events = event_count();

        assert_failure(
            register(
                &ApiRequest {
                    body: b"{nope".to_vec(),
                    ..Default::default()
                },
                at(T0),
            ),
            400,
            "Invalid JSON body",
        );
        let mut body = json!({
            "label": "ab",
            "pkpAddress": "0x123",
            "profileCid": "x".repeat(257),
            "nonce": "short",
            "timestamp": T0 - 121,
        });
        let step = |body: &Value, status, message| {
            assert_failure(register(&post(body), at(T0)), status, message)
        };
        step(&body, 400, "Invalid nonce");
        body["nonce"] = json!(NONCE);
        step(&body, 400, "profileCid too long");
        body["profileCid"] = json!("bafy");
        step(&body, 400, "Invalid label: too_short");
        body["label"] = json!("Alice");
        step(&body, 400, "Invalid PKP address");
        body["pkpAddress"] = json!(owner.to_uppercase().replace("0X", "0x"));
        step(&body, 400, TIMESTAMP_ERROR);
        body["timestamp"] = json!(T0);
        step(&body, 401, "Invalid signature");
        body["signature"] = json!(sign(
            &k,
            &message("register", "alice", &owner, NONCE, T0 as i64, Some("bafy"))
        ));
        step(&body, 400, "Name is reserved");
        set_reserved("alice", None, at(T0));
        let events = events + 1;
        assert_eq!(event_count(), events);
        assert!(register(&post(&body), at(T0)).is_ok());
        assert_eq!(event_count(), events + 1);

        // Taken, in grace, replay: each checked by another registrant with a fresh nonce.
        let other = key(2);
        assert_failure(
            register_at(&other, "alice", None, &nonce(1), T0 + YEAR),
            400,
            "Name is already taken",
        );
        assert_failure(
            register_at(&other, "alice", None, &nonce(2), T0 + YEAR + 1),
            400,
            "Name is in grace period",
        );
        assert_failure(
            register_at(&other, "alice", None, &nonce(3), T0 + YEAR + GRACE),
            400,
            "Name is in grace period",
        );
        assert_failure(
            register_at(&other, "bobby", None, NONCE, T0),
            409,
            REPLAY_ERROR,
        );
        // None of the failures changed anything.
        assert_eq!(event_count(), events + 1);
        assert_eq!(stored("bobby"), None);
        assert_eq!(state::with(|s| s.nonces.len()), 1);
        // The nonces of the refused requests are still fresh.
        assert!(register_at(&other, "bobby", None, &nonce(1), T0).is_ok());
    }

    #[test]
    fn register_refuses_bad_nonces() {
        let k = key(1);
        for bad in [
            json!(null),
            json!(""),
            json!("a".repeat(15)),
            json!("a".repeat(129)),
            json!(1234567890123456789u64),
        ] {
            let mut body = register_body(&k, "alice", None, NONCE, T0);
            body["nonce"] = bad;
            assert_failure(register(&post(&body), at(T0)), 400, "Invalid nonce");
        }
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body.as_object_mut().unwrap().remove("nonce");
        assert_failure(register(&post(&body), at(T0)), 400, "Invalid nonce");
        // Bounds are inclusive.
        for (i, len) in [16usize, 128].into_iter().enumerate() {
            let n = "n".repeat(len);
            let label = ["first", "second"][i];
            assert!(register_at(&k, label, None, &n, T0).is_ok());
        }
    }

    #[test]
    fn register_refuses_bad_profile_cids() {
        let k = key(1);
        for bad in [
            json!("x".repeat(257)),
            json!(5),
            json!(0),
            json!(false),
            json!({}),
        ] {
            let mut body = register_body(&k, "alice", None, NONCE, T0);
            body["profileCid"] = bad;
            assert_failure(register(&post(&body), at(T0)), 400, "profileCid too long");
        }
        let cid = "x".repeat(256);
        let body = register_body(&k, "alice", Some(&cid), NONCE, T0);
        assert!(register(&post(&body), at(T0)).is_ok());
        assert_eq!(stored("alice").unwrap().profile_cid, Some(cid));
        // null signs and stores like absent.
        let mut body = register_body(&k, "bobby", None, &nonce(1), T0);
        body["profileCid"] = Value::Null;
        assert!(register(&post(&body), at(T0)).is_ok());
        assert_eq!(stored("bobby").unwrap().profile_cid, None);
    }

    #[test]
    fn register_reports_every_label_reason() {
        let k = key(1);
        let cases = [
            (json!(null), "empty"),
            (json!(""), "empty"),
            (json!(0), "empty"),
            (json!("abc"), "too_short"),
            (json!("a".repeat(64)), "too_long"),
            (json!("-abcd"), "invalid_chars"),
            (json!("al ice"), "invalid_chars"),
            (json!(12345), "invalid_chars"),
            (json!(" Admin "), "reserved"),
        ];
        for (label, reason) in cases {
            let mut body = register_body(&k, "alice", None, NONCE, T0);
            body["label"] = label;
            assert_failure(
                register(&post(&body), at(T0)),
                400,
                &format!("Invalid label: {reason}"),
            );
        }
    }

    #[test]
    fn register_refuses_bad_owner_addresses() {
        let k = key(1);
        for bad in [
            json!(null),
            json!(""),
            json!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            json!("0xzz9fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            json!(42),
        ] {
            let mut body = register_body(&k, "alice", None, NONCE, T0);
            body["pkpAddress"] = bad;
            assert_failure(register(&post(&body), at(T0)), 400, "Invalid PKP address");
        }
        // Surrounding spaces and upper case are normalised (0X too, as lowercasing comes first).
        let owner = address(&k);
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["pkpAddress"] = json!(format!("  {}  ", owner.to_uppercase()));
        assert!(register(&post(&body), at(T0)).is_ok());
        assert_eq!(stored("alice").unwrap().owner, owner);
    }

    #[test]
    fn register_enforces_the_timestamp_window() {
        let k = key(1);
        // Missing, string, fractional: the same 400 (the original let these through).
        for bad in [Value::Null, json!(T0.to_string()), json!(T0 as f64 + 0.5)] {
            let mut body = register_body(&k, "alice", None, NONCE, T0);
            body["timestamp"] = bad;
            assert_failure(register(&post(&body), at(T0)), 400, TIMESTAMP_ERROR);
        }
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body.as_object_mut().unwrap().remove("timestamp");
        assert_failure(register(&post(&body), at(T0)), 400, TIMESTAMP_ERROR);
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["timestamp"] = json!(i64::MIN);
        assert_failure(register(&post(&body), at(T0)), 400, TIMESTAMP_ERROR);
        // ±121 s is outside, ±120 s inside.
        assert_failure(
            register(
                &post(&register_body(&k, "alice", None, NONCE, T0 - 121)),
                at(T0),
            ),
            400,
            TIMESTAMP_ERROR,
        );
        assert_failure(
            register(
                &post(&register_body(&k, "alice", None, NONCE, T0 + 121)),
                at(T0),
            ),
            400,
            TIMESTAMP_ERROR,
        );
        assert!(
            register(
                &post(&register_body(&k, "alice", None, NONCE, T0 - 120)),
                at(T0)
            )
            .is_ok()
        );
        assert!(
            register(
                &post(&register_body(&k, "bobby", None, &nonce(1), T0 + 120)),
                at(T0)
            )
            .is_ok()
        );
        // The registration runs from now, not from the signed timestamp.
        assert_eq!(stored("bobby").unwrap().registered_at, T0);
        // A float with no fraction is an integer.
        let mut body = register_body(&k, "carol", None, &nonce(2), T0);
        body["timestamp"] = json!(T0 as f64);
        assert!(register(&post(&body), at(T0)).is_ok());
    }

    #[test]
    fn register_refuses_bad_signatures() {
        let k = key(1);
        let owner = address(&k);
        let good = register_body(&k, "alice", Some("bafy"), NONCE, T0);
        let sig = good["signature"].as_str().unwrap().to_string();
        let mut wrong_signer = good.clone();
        wrong_signer["signature"] = json!(sign(
            &key(2),
            &message("register", "alice", &owner, NONCE, T0 as i64, Some("bafy"))
        ));
        let mut other_cid = good.clone();
        other_cid["profileCid"] = json!("bafz");
        let mut renamed = good.clone();
        renamed["label"] = json!("alicia");
        let mut garbage = good.clone();
        garbage["signature"] = json!("0xnothex");
        let mut short = good.clone();
        short["signature"] = json!(&sig[..sig.len() - 2]);
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("signature");
        let mut number = good.clone();
        number["signature"] = json!(7);
        for body in [
            wrong_signer,
            other_cid,
            renamed,
            garbage,
            short,
            missing,
            number,
        ] {
            assert_failure(register(&post(&body), at(T0)), 401, "Invalid signature");
        }
        // Without 0x, and with a mixed-case label (the normalized label is what is signed).
        let mut body = good.clone();
        body["signature"] = json!(&sig[2..]);
        body["label"] = json!(" ALICE ");
        assert!(register(&post(&body), at(T0)).is_ok());
        let name = stored("alice").unwrap();
        assert_eq!(name.label_display.as_deref(), Some(" ALICE "));
        assert_eq!(name.profile_cid.as_deref(), Some("bafy"));
        assert_eq!(name.status, "active");
    }

    #[test]
    fn reregistration_only_after_grace_replaces_the_row_and_its_index_key() {
        let (alice, bob) = (key(1), key(2));
        register_at(&alice, "alice", Some("bafy"), &nonce(1), T0).unwrap();
        let lapse = T0 + YEAR + GRACE + 1;
        assert_eq!(past_grace(at(lapse - 1)), Vec::<String>::new());
        assert_eq!(past_grace(at(lapse)), vec!["alice".to_string()]);
        let events = event_count();
        let answer = ok_body(register_at(&bob, "Alice", None, &nonce(2), lapse));
        assert_eq!(
            answer,
            format!(
                r#"{{"success":true,"label":"alice","expires_at":{}}}"#,
                lapse + YEAR
            )
        );
        assert_eq!(event_count(), events + 1);
        let name = stored("alice").unwrap();
        assert_eq!(
            (name.owner.as_str(), name.registered_at, name.profile_cid),
            (address(&bob).as_str(), lapse, None)
        );
        assert_eq!(owner_index(), vec![format!("{}|alice", address(&bob))]);
        assert_error(
            reverse(&address(&alice), at(lapse)),
            404,
            "No name found for this PKP",
        );
        assert_eq!(
            ok_json(reverse(&address(&bob), at(lapse)))["label"],
            "alice"
        );
        assert!(past_grace(at(lapse)).is_empty());
    }

    // ---- renew ---------------------------------------------------------------------------

    #[test]
    fn renew_errors_come_in_the_original_order() {
        let k = key(1);
        register_at(&k, "alice", None, &nonce(1), T0).unwrap();
        let events = event_count();
        let step = |body: &Value, now, status, message| {
            assert_failure(renew(&post(body), at(now)), status, message)
        };

        assert_failure(
            renew(
                &ApiRequest {
                    body: b"".to_vec(),
                    ..Default::default()
                },
                at(T0),
            ),
            400,
            "Invalid JSON body",
        );
        let mut body = json!({"label": "abc", "nonce": "short", "timestamp": T0 - 121});
        step(&body, T0, 400, "Invalid nonce");
        body["nonce"] = json!(NONCE);
        step(&body, T0, 400, "Invalid label: too_short");
        body["label"] = json!("bobby");
        step(&body, T0, 404, "Name not found");
        body["label"] = json!("alice");
        step(
            &body,
            T0 + YEAR + GRACE + 1,
            400,
            "Name has expired and passed grace period",
        );
        step(&body, T0, 400, TIMESTAMP_ERROR);
        body["timestamp"] = json!(T0);
        step(&body, T0, 401, "Invalid signature");
        // Signed by someone other than the owner.
        let mut forged = renew_body(&key(2), "alice", NONCE, T0);
        forged["signature"] = json!(sign(
            &key(2),
            &message("renew", "alice", &address(&k), NONCE, T0 as i64, None)
        ));
        step(&forged, T0, 401, "Invalid signature");
        // A renewal signature that includes a profile_cid line is not a renewal signature.
        body["signature"] = json!(sign(
            &k,
            &message("renew", "alice", &address(&k), NONCE, T0 as i64, Some(""))
        ));
        step(&body, T0, 401, "Invalid signature");
        // The nonce of the registration cannot be replayed.
        step(
            &renew_body(&k, "alice", &nonce(1), T0),
            T0,
            409,
            REPLAY_ERROR,
        );
        assert_eq!(event_count(), events);
        assert_eq!(stored("alice").unwrap().expires_at, T0 + YEAR);
    }

    #[test]
    fn renew_extends_from_expiry_when_active_and_from_now_in_grace() {
        let k = key(1);
        register_at(&k, "alice", None, &nonce(1), T0).unwrap();
        // Active: one year more from the current expiry.
        let t1 = T0 + 1000;
        assert_eq!(
            ok_body(renew(
                &post(&renew_body(&k, "alice", &nonce(2), t1)),
                at(t1)
            )),
            format!(r#"{{"success":true,"expires_at":{}}}"#, T0 + 2 * YEAR)
        );
        let name = stored("alice").unwrap();
        assert_eq!(
            (name.grace_ends_at, name.updated_at, name.registered_at),
            (T0 + 2 * YEAR + GRACE, t1, T0)
        );
        // In grace: one year from now.
        let t2 = T0 + 2 * YEAR + GRACE;
        assert_eq!(ok_json(details("alice", at(t2)))["status"], "expired");
        assert_eq!(
            ok_json(renew(
                &post(&renew_body(&k, "alice", &nonce(3), t2)),
                at(t2)
            )),
            json!({"success": true, "expires_at": t2 + YEAR})
        );
        assert_eq!(ok_json(details("alice", at(t2)))["status"], "active");
        assert_eq!(
            ok_json(available("alice", at(t2))),
            json!({"available": false, "reason": "taken"})
        );
        // Mixed-case label in the request: the normalized one is signed and renewed.
        let mut body = renew_body(&k, "alice", &nonce(4), t2);
        body["label"] = json!(" Alice");
        assert!(renew(&post(&body), at(t2)).is_ok());
    }

    // ---- update --------------------------------------------------------------------------

    #[test]
    fn update_errors_come_in_the_original_order() {
        let k = key(1);
        register_at(&k, "alice", None, &nonce(1), T0).unwrap();
        let events = event_count();
        let step = |body: &Value, now, status, message| {
            assert_failure(update(&post(body), at(now)), status, message)
        };

        assert_failure(
            update(
                &ApiRequest {
                    body: b"[]".to_vec(),
                    ..Default::default()
                },
                at(T0),
            ),
            400,
            "Invalid JSON body",
        );
        let mut body =
            json!({"label": "", "profileCid": "x".repeat(257), "nonce": 5, "timestamp": "now"});
        step(&body, T0, 400, "Invalid nonce");
        body["nonce"] = json!(NONCE);
        step(&body, T0, 400, "profileCid too long");
        body["profileCid"] = json!("bafy");
        step(&body, T0, 400, "Invalid label: empty");
        body["label"] = json!("bobby");
        step(&body, T0, 404, "Name not found");
        body["label"] = json!("alice");
        // Grace does not help an update; lapsed neither.
        step(&body, T0 + YEAR + 1, 400, "Name has expired");
        step(&body, T0 + YEAR + GRACE + 1, 400, "Name has expired");
        step(&body, T0, 400, TIMESTAMP_ERROR);
        body["timestamp"] = json!(T0);
        step(&body, T0, 401, "Invalid signature");
        // profileCid absent but validly signed (as empty): our 400 where the original 500'd.
        let mut absent = update_body(&k, "alice", json!(""), NONCE, T0);
        absent.as_object_mut().unwrap().remove("profileCid");
        step(&absent, T0, 400, "profileCid is required");
        step(
            &update_body(&k, "alice", json!("bafy"), &nonce(1), T0),
            T0,
            409,
            REPLAY_ERROR,
        );
        assert_eq!(event_count(), events);
        assert_eq!(stored("alice").unwrap().profile_cid, None);
    }

    #[test]
    fn update_sets_and_clears_the_profile_cid() {
        let k = key(1);
        register_at(&k, "alice", Some("bafyold"), &nonce(1), T0).unwrap();
        let t = T0 + 50;
        assert_eq!(
            ok_body(update(
                &post(&update_body(&k, "alice", json!("bafynew"), &nonce(2), t)),
                at(t)
            )),
            r#"{"success":true}"#
        );
        let name = stored("alice").unwrap();
        assert_eq!(
            (
                name.profile_cid.as_deref(),
                name.updated_at,
                name.expires_at
            ),
            (Some("bafynew"), t, T0 + YEAR)
        );
        // null clears (signed as an empty cid).
        assert!(
            update(
                &post(&update_body(&k, "alice", Value::Null, &nonce(3), t)),
                at(t)
            )
            .is_ok()
        );
        assert_eq!(stored("alice").unwrap().profile_cid, None);
        // "" is stored as given; the TXT record leaves it out.
        assert!(
            update(
                &post(&update_body(&k, "alice", json!(""), &nonce(4), t)),
                at(t)
            )
            .is_ok()
        );
        assert_eq!(stored("alice").unwrap().profile_cid.as_deref(), Some(""));
        set_dns_secret(None, true);
        let answer = ok_json(dns(Some("alice"), None, None, at(t)));
        assert_eq!(
            answer["records"]["TXT"],
            json!([format!("pkp={};v=1", address(&k))])
        );
        assert_eq!(ok_json(details("alice", at(t)))["profile_cid"], "");
        // Only the owner can update.
        let other = key(2);
        let mut forged = update_body(&other, "alice", json!("evil"), &nonce(5), t);
        forged["signature"] = json!(sign(
            &other,
            &message(
                "update",
                "alice",
                &address(&other),
                &nonce(5),
                t as i64,
                Some("evil")
            )
        ));
        assert_failure(update(&post(&forged), at(t)), 401, "Invalid signature");
    }

    // ---- lookups -------------------------------------------------------------------------

    #[test]
    fn available_across_the_lifecycle() {
        let cases = [
            ("", "empty"),
            ("abc", "too_short"),
            (&*"a".repeat(64), "too_long"),
            ("ab_cd", "invalid_chars"),
            ("Admin", "reserved"),
        ];
        for (label, reason) in cases {
            assert_eq!(
                ok_body(available(label, at(T0))),
                format!(r#"{{"available":false,"reason":"{reason}"}}"#)
            );
        }
        set_reserved(" Premium ", Some("premium".into()), at(T0));
        assert_eq!(
            ok_body(available("premium", at(T0))),
            r#"{"available":false,"reason":"reserved"}"#
        );
        assert_eq!(ok_body(available("alice", at(T0))), r#"{"available":true}"#);
        register_at(&key(1), "alice", None, &nonce(1), T0).unwrap();
        let taken = r#"{"available":false,"reason":"taken"}"#;
        assert_eq!(ok_body(available("ALICE", at(T0))), taken);
        assert_eq!(ok_body(available("alice", at(T0 + YEAR))), taken);
        let grace = r#"{"available":false,"reason":"expired_grace"}"#;
        assert_eq!(ok_body(available("alice", at(T0 + YEAR + 1))), grace);
        assert_eq!(ok_body(available("alice", at(T0 + YEAR + GRACE))), grace);
        assert_eq!(
            ok_body(available("alice", at(T0 + YEAR + GRACE + 1))),
            r#"{"available":true}"#
        );
        // A reservation added later hides a registered name too.
        set_reserved("alice", Some("trademark".into()), at(T0));
        assert_eq!(
            ok_body(available("alice", at(T0))),
            r#"{"available":false,"reason":"reserved"}"#
        );
    }

    #[test]
    fn details_across_the_lifecycle() {
        assert_error(details("abc", at(T0)), 400, "Invalid label: too_short");
        assert_error(details("www", at(T0)), 400, "Invalid label: too_short");
        assert_error(details("admin", at(T0)), 400, "Invalid label: reserved");
        assert_error(
            details("al ice", at(T0)),
            400,
            "Invalid label: invalid_chars",
        );
        assert_error(details("", at(T0)), 400, "Invalid label: empty");
        assert_error(details("alice", at(T0)), 404, "Name not found");
        let k = key(1);
        let owner = address(&k);
        register_at(&k, "Alice", Some("bafy"), &nonce(1), T0).unwrap();
        let expected = |status: &str| {
            format!(
                r#"{{"label":"alice","label_display":"Alice","pkp_address":"{owner}","status":"{status}","registered_at":{T0},"expires_at":{},"profile_cid":"bafy"}}"#,
                T0 + YEAR
            )
        };
        assert_eq!(ok_body(details(" ALICE ", at(T0))), expected("active"));
        assert_eq!(
            ok_body(details("alice", at(T0 + YEAR + 1))),
            expected("expired")
        );
        assert_eq!(
            ok_body(details("alice", at(T0 + YEAR + GRACE))),
            expected("expired")
        );
        assert_error(
            details("alice", at(T0 + YEAR + GRACE + 1)),
            404,
            "Name not found",
        );
        // Rows without a display label or cid show null.
        register_at(&k, "bobby", None, &nonce(2), T0).unwrap();
        state::with_mut(|s| {
            let mut name = stored_name(s, "bobby").unwrap();
            name.label_display = None;
            s.names.insert("bobby".into(), Cbor(name));
        });
        let answer = ok_json(details("bobby", at(T0)));
        assert_eq!(
            (
                answer["label_display"].clone(),
                answer["profile_cid"].clone()
            ),
            (Value::Null, Value::Null)
        );
    }

    #[test]
    fn reverse_across_the_lifecycle() {
        assert_error(reverse("", at(T0)), 400, "Invalid PKP address");
        assert_error(reverse("0x1234", at(T0)), 400, "Invalid PKP address");
        assert_error(
            reverse("f39fd6e51aad88f6f4ce6ab8827279cfffb92266", at(T0)),
            400,
            "Invalid PKP address",
        );
        let k = key(1);
        let owner = address(&k);
        assert_error(reverse(&owner, at(T0)), 404, "No name found for this PKP");
        register_at(&k, "alice", None, &nonce(1), T0).unwrap();
        let expected = |label: &str, display: &str, expires: u64, status: &str| {
            format!(
                r#"{{"label":"{label}","label_display":"{display}","expires_at":{expires},"status":"{status}"}}"#
            )
        };
        let loud = format!(" {} ", owner.to_uppercase().replacen("0X", "0x", 1));
        assert_eq!(
            ok_body(reverse(&loud, at(T0))),
            expected("alice", "alice", T0 + YEAR, "active")
        );
        assert_eq!(
            ok_body(reverse(&owner, at(T0 + YEAR + 1))),
            expected("alice", "alice", T0 + YEAR, "expired")
        );
        assert_error(
            reverse(&owner, at(T0 + YEAR + GRACE + 1)),
            404,
            "No active name found for this PKP",
        );
        // The latest registration wins, even when an older one outlives it.
        let t1 = T0 + 10;
        register_at(&k, "Zebra", None, &nonce(2), t1).unwrap();
        renew(&post(&renew_body(&k, "alice", &nonce(3), t1)), at(t1)).unwrap();
        assert_eq!(
            ok_body(reverse(&owner, at(t1))),
            expected("zebra", "Zebra", t1 + YEAR, "active")
        );
        let t2 = t1 + YEAR + GRACE + 1;
        assert_eq!(ok_json(details("alice", at(t2)))["status"], "active");
        assert_error(
            reverse(&owner, at(t2)),
            404,
            "No active name found for this PKP",
        );
        // Another owner's names are not mixed in.
        assert_error(
            reverse(&address(&key(2)), at(T0)),
            404,
            "No name found for this PKP",
        );
    }

    // ---- DNS -----------------------------------------------------------------------------

    #[test]
    fn dns_authentication() {
        // Secret unset outside development: misconfiguration, whatever the request.
        set_dns_secret(None, false);
        assert_error(
            dns(Some("alice"), None, Some("Bearer x"), at(T0)),
            500,
            "Server misconfiguration",
        );
        set_dns_secret(Some(""), false);
        assert_error(
            dns(Some("alice"), None, None, at(T0)),
            500,
            "Server misconfiguration",
        );
        // Unset in development: open.
        set_dns_secret(None, true);
        assert!(dns(Some("alice"), None, None, at(T0)).is_ok());
        // Set: the header must match exactly (development does not matter).
        set_dns_secret(Some("s3cret"), true);
        for bad in [
            None,
            Some("s3cret"),
            Some("Bearer s3cre"),
            Some("Bearer s3cret "),
            Some("bearer s3cret"),
            Some("Bearer S3CRET"),
        ] {
            assert_error(dns(Some("alice"), None, bad, at(T0)), 401, "Unauthorized");
        }
        // Auth comes before the parameter checks.
        assert_error(dns(None, Some("com"), None, at(T0)), 401, "Unauthorized");
        assert!(dns(Some("alice"), None, Some("Bearer s3cret"), at(T0)).is_ok());
        assert!(bearer_matches("Bearer s3cret", "s3cret"));
        assert!(!bearer_matches("Bearer s3cret", "s3cre"));
    }

    #[test]
    fn dns_parameter_errors_and_invalid_labels() {
        set_dns_secret(Some("s"), false);
        let auth = Some("Bearer s");
        assert_error(dns(None, Some("com"), auth, at(T0)), 400, "Unsupported TLD");
        assert_error(
            dns(None, None, auth, at(T0)),
            400,
            "Missing label parameter",
        );
        assert_error(
            dns(Some(""), Some(""), auth, at(T0)),
            400,
            "Missing label parameter",
        );
        let negative = |label: &str, status: &str| {
            format!(
                r#"{{"tld":"heaven","label":"{label}","status":"{status}","ttl_positive":300,"ttl_negative":60}}"#
            )
        };
        // Invalid labels echo the raw input; only the hard-coded reason says reserved.
        assert_eq!(
            ok_body(dns(Some("ABC"), Some(""), auth, at(T0))),
            negative("ABC", "unregistered")
        );
        assert_eq!(
            ok_body(dns(Some("Al_ice"), Some("heaven"), auth, at(T0))),
            negative("Al_ice", "unregistered")
        );
        assert_eq!(
            ok_body(dns(Some("Admin"), None, auth, at(T0))),
            negative("Admin", "reserved")
        );
        set_reserved("premium", Some("premium".into()), at(T0));
        assert_eq!(
            ok_body(dns(Some("Premium"), None, auth, at(T0))),
            negative("premium", "reserved")
        );
        assert_eq!(
            ok_body(dns(Some("Alice"), None, auth, at(T0))),
            negative("alice", "unregistered")
        );
    }

    #[test]
    fn dns_across_the_lifecycle() {
        set_dns_secret(None, true);
        let k = key(1);
        let owner = address(&k);
        register_at(&k, "alice", Some("bafy"), &nonce(1), T0).unwrap();
        register_at(&k, "bobby", None, &nonce(2), T0).unwrap();
        let exp = T0 + YEAR;
        assert_eq!(
            ok_body(dns(Some("Alice"), None, None, at(T0))),
            format!(
                r#"{{"tld":"heaven","label":"alice","status":"active","records":{{"A":["144.126.205.242"],"AAAA":[],"TXT":["pkp={owner};cid=bafy;v=1"]}},"ttl_positive":300,"ttl_negative":60,"expires_at":{exp}}}"#
            )
        );
        assert_eq!(
            ok_json(dns(Some("bobby"), None, None, at(exp)))["records"]["TXT"],
            json!([format!("pkp={owner};v=1")])
        );
        let in_grace = format!(
            r#"{{"tld":"heaven","label":"alice","status":"expired","expires_at":{exp},"ttl_positive":300,"ttl_negative":60}}"#
        );
        assert_eq!(
            ok_body(dns(Some("alice"), None, None, at(exp + 1))),
            in_grace
        );
        assert_eq!(
            ok_body(dns(Some("alice"), None, None, at(exp + GRACE))),
            in_grace
        );
        assert_eq!(
            ok_body(dns(Some("alice"), None, None, at(exp + GRACE + 1))),
            r#"{"tld":"heaven","label":"alice","status":"unregistered","ttl_positive":300,"ttl_negative":60}"#
        );
        // The reservation table wins over a registration.
        set_reserved("alice", Some("brand".into()), at(T0));
        assert_eq!(
            ok_json(dns(Some("alice"), None, None, at(T0)))["status"],
            "reserved"
        );
    }

    // ---- controller and sweep --------------------------------------------------------------

    #[test]
    fn set_reserved_records_only_changes() {
        let events = event_count();
        set_reserved(" Brand ", Some("brand".into()), at(T0));
        assert_eq!(
            state::with(|s| s.reserved.get(&"brand".to_string())),
            Some("brand".into())
        );
        set_reserved("brand", Some("brand".into()), at(T0));
        assert_eq!(event_count(), events + 1);
        set_reserved("brand", Some("trademark".into()), at(T0));
        set_reserved("brand", None, at(T0));
        set_reserved("brand", None, at(T0));
        assert_eq!(event_count(), events + 3);
        let last = state::with(|s| s.events.get(s.events.len() - 1)).unwrap().0;
        assert_eq!(
            last.kind,
            EventKind::ReservedChanged {
                label: "brand".into(),
                reason: None
            }
        );
        assert_eq!(last.at_ns, at(T0).ns);
        assert_eq!(ok_body(available("brand", at(T0))), r#"{"available":true}"#);
    }

    #[test]
    fn past_grace_lists_only_lapsed_names() {
        let k = key(1);
        register_at(&k, "alice", None, &nonce(1), T0).unwrap();
        register_at(&k, "bobby", None, &nonce(2), T0 + 100).unwrap();
        let end = T0 + YEAR + GRACE;
        assert!(past_grace(at(end)).is_empty());
        assert_eq!(past_grace(at(end + 1)), vec!["alice".to_string()]);
        assert_eq!(
            past_grace(at(end + 101)),
            vec!["alice".to_string(), "bobby".to_string()]
        );
    }

    #[test]
    fn writes_record_their_events() {
        let k = key(1);
        let owner = address(&k);
        let events = event_count();
        register_at(&k, "alice", None, &nonce(1), T0).unwrap();
        renew(&post(&renew_body(&k, "alice", &nonce(2), T0)), at(T0)).unwrap();
        update(
            &post(&update_body(&k, "alice", json!("bafy"), &nonce(3), T0)),
            at(T0),
        )
        .unwrap();
        let kinds: Vec<EventKind> = state::with(|s| {
            (events..s.events.len())
                .map(|i| s.events.get(i).unwrap().0.kind)
                .collect()
        });
        assert_eq!(
            kinds,
            vec![
                EventKind::NameRegistered {
                    label: "alice".into(),
                    owner,
                    expires_at: T0 + YEAR
                },
                EventKind::NameRenewed {
                    label: "alice".into(),
                    expires_at: T0 + 2 * YEAR
                },
                EventKind::NameUpdated {
                    label: "alice".into()
                },
            ]
        );
    }
}
