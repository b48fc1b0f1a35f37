//! The registry's signed requests: register, renew and update, each an EIP-191 message signed
//! by the (future) owner. A request is checked completely first; then one `state::mutate`
//! checks the nonce and the name again and processes the event, so an error changes nothing.

use serde::{Deserialize, Serialize};

use super::{
    GRACE_SECS, REGISTER_IP_LIMIT, REGISTER_OWNER_LIMIT, REGISTER_WINDOW_SECONDS,
    REGISTRATION_SECS, SIGNATURE_WINDOW_SECS, Standing, TLD, stored_name,
};
use crate::api::body::js_len;
use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now};
use crate::names::label::{self, LabelReason};
use crate::primitives::{Address, is_cid, is_signed_nonce};
use crate::secret::sha256_hex;
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, State, keys};

/// Nonce length bounds (UTF-16 code units, as JavaScript counts).
const NONCE_MIN: usize = 16;
const NONCE_MAX: usize = 128;
/// Longest profile CID accepted (UTF-16 code units).
const PROFILE_CID_MAX: usize = 256;

pub(super) const TIMESTAMP_ERROR: &str = "Signature timestamp expired or too far in future";
pub(super) const REPLAY_ERROR: &str = "Nonce already used (replay detected)";

/// Body of `POST /api/names/register`, `/renew` and `/update`, as sent (each route reads the
/// fields it signs).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SignedBody {
    label: Field,
    pkp_address: Field,
    profile_cid: Field,
    signature: Field,
    nonce: Field,
    timestamp: Field,
}

/// What a signed request asks for; its wire name goes into the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
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
pub(super) struct RegistryMessage<'a> {
    pub(super) action: Action,
    pub(super) label: &'a str,
    pub(super) owner: &'a str,
    pub(super) nonce: &'a str,
    pub(super) issued_at: i64,
    /// Signed for register and update only (empty when there is none).
    pub(super) profile_cid: &'a str,
}

impl RegistryMessage<'_> {
    pub(super) fn text(&self) -> String {
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
    pub(super) fn verify(&self, signature: Option<&str>) -> Result<(), ApiError> {
        let message = self.text();
        let signer = signature.and_then(|sig| heaven_eth::eip191::recover(&message, sig).ok());
        match signer {
            Some(address) if Address::from(address).lower_hex() == self.owner => Ok(()),
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

fn parse_body(req: &ApiRequest) -> Result<SignedBody, ApiError> {
    // The original had no guard around its JSON parse and answered 500 for a bad body.
    req.json(|| ApiError::failure(400, "Invalid JSON body"))
}

impl SignedBody {
    /// `nonce`: 16–128 characters (the original's rule) of `[A-Za-z0-9_-]` (ours: it is a
    /// line of the signed message, so it may not hold a newline or anything else).
    fn nonce(&self) -> Result<&str, ApiError> {
        self.nonce
            .as_str()
            .filter(|n| (NONCE_MIN..=NONCE_MAX).contains(&js_len(n)) && is_signed_nonce(n))
            .ok_or_else(|| ApiError::failure(400, "Invalid nonce"))
    }

    /// `profileCid`: absent, null, or a string of at most 256 characters. The original refused
    /// truthy non-strings with "profileCid too long" but let `0`/`false` through (signing them
    /// as "0"/"false"); we refuse every non-string, non-null value with the same text. And
    /// (ours) a CID outside the CID alphabet is refused: it is served in the DNS TXT record,
    /// where a `;` or a newline would add a field.
    fn profile_cid(&self) -> Result<ProfileCid<'_>, ApiError> {
        let too_long = || ApiError::failure(400, "profileCid too long");
        match self.profile_cid.value() {
            None => Ok(ProfileCid::Absent),
            Some(serde_json::Value::Null) => Ok(ProfileCid::Null),
            Some(serde_json::Value::String(cid)) if js_len(cid) <= PROFILE_CID_MAX => {
                if is_cid(cid) {
                    Ok(ProfileCid::Text(cid))
                } else {
                    Err(ApiError::failure(400, "Invalid profileCid"))
                }
            }
            Some(_) => Err(too_long()),
        }
    }

    /// `label` as sent and normalized. A missing or falsy label is `empty` as in the original;
    /// any other non-string (which crashed the original with a 500) is `invalid_chars`.
    fn label(&self) -> Result<(&str, String), ApiError> {
        let invalid = |reason: LabelReason| {
            ApiError::failure(400, format!("Invalid label: {}", reason.as_str()))
        };
        let raw = match self.label.as_str() {
            Some(raw) => raw,
            None if !self.label.is_truthy() => return Err(invalid(LabelReason::Empty)),
            None => return Err(invalid(LabelReason::InvalidChars)),
        };
        let label = label::validate_legacy(raw).map_err(invalid)?;
        Ok((raw, label))
    }

    /// `pkpAddress`: trimmed and lowercased, then `0x` + 40 hex (the original's rule).
    fn owner(&self) -> Result<Address, ApiError> {
        self.pkp_address
            .as_str()
            .and_then(Address::parse_normalized)
            .ok_or_else(|| ApiError::failure(400, "Invalid PKP address"))
    }

    /// `timestamp` (seconds) within ±120 s of now. A missing or non-integer timestamp gets the
    /// same 400: the original let it through (its window check compared NaN) and then signed
    /// `issued_at=undefined`, which we deliberately do not reproduce.
    fn timestamp(&self, now: Now) -> Result<i64, ApiError> {
        self.timestamp
            .integer()
            .filter(|ts| {
                (i128::from(now.secs()) - i128::from(*ts)).abs()
                    <= i128::from(SIGNATURE_WINDOW_SECS)
            })
            .ok_or_else(|| ApiError::failure(400, TIMESTAMP_ERROR))
    }
}

/// 409 when `nonce` was used before (by anyone, for anything). Checked in the same step that
/// processes the event spending it.
fn check_nonce_unused(s: &State, nonce: &str) -> Result<(), ApiError> {
    if s.nonces().contains_key(&nonce.to_string()) {
        return Err(ApiError::failure(409, REPLAY_ERROR));
    }
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
    register_with_client_ip(req, now, None)
}

/// 429 when the owner (who signed) or the client IP registered their share of names within
/// the last [`REGISTER_WINDOW_SECONDS`]. Ours: the original had no limit at all.
fn check_registration_limits(
    s: &State,
    owner: &str,
    ip_hash: Option<&str>,
    now: Now,
) -> Result<(), ApiError> {
    let since = now.secs().saturating_sub(REGISTER_WINDOW_SECONDS);
    let count = |kind: char, value: &str| {
        let (prefix, start) = keys::window_range(kind, value, since);
        s.register_windows()
            .keys_range(start..)
            .take_while(|k| k.starts_with(&prefix))
            .filter(|k| keys::is_window_tail(&k[prefix.len()..]))
            .count() as u64
    };
    if count('o', owner) >= REGISTER_OWNER_LIMIT {
        return Err(ApiError::failure(429, "Rate limited: owner limit exceeded"));
    }
    if let Some(ip) = ip_hash
        && count('i', ip) >= u64::from(REGISTER_IP_LIMIT)
    {
        return Err(ApiError::failure(429, "Rate limited: IP limit exceeded"));
    }
    Ok(())
}

/// POST /api/names/register with the client IP a trusted edge vouched for (the per-IP limit
/// applies only with one, as the permit's).
pub fn register_with_client_ip(req: &ApiRequest, now: Now, client_ip: Option<&str>) -> ApiResult {
    let ip_hash = client_ip
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(sha256_hex);
    let body = parse_body(req)?;
    let nonce = body.nonce()?;
    let profile_cid = body.profile_cid()?;
    let (raw_label, label) = body.label()?;
    let owner = body.owner()?.lower_hex();
    let issued_at = body.timestamp(now)?;
    RegistryMessage {
        action: Action::Register,
        label: &label,
        owner: &owner,
        nonce,
        issued_at,
        profile_cid: profile_cid.signed(),
    }
    .verify(body.signature.as_str())?;

    let at = now.secs();
    let expires_at = at + REGISTRATION_SECS;
    state::mutate(|s| {
        if s.reserved().contains_key(&label) {
            return Err(ApiError::failure(400, "Name is reserved"));
        }
        match stored_name(s, &label).map(|old| Standing::of(&old, at)) {
            Some(Standing::Active) => return Err(ApiError::failure(400, "Name is already taken")),
            Some(Standing::InGrace) => {
                return Err(ApiError::failure(400, "Name is in grace period"));
            }
            None | Some(Standing::Lapsed) => {}
        }
        check_nonce_unused(s, nonce)?;
        check_registration_limits(s, &owner, ip_hash.as_deref(), now)?;
        process_event(
            s,
            now,
            EventType::NameRegistered {
                label: label.clone(),
                label_display: raw_label.to_string(),
                owner: owner.clone(),
                profile_cid: Some(profile_cid.signed())
                    .filter(|cid| !cid.is_empty())
                    .map(str::to_string),
                expires_at,
                grace_ends_at: expires_at + GRACE_SECS,
                nonce: nonce.to_string(),
                ip_hash: ip_hash.clone(),
            },
        );
        Ok::<(), ApiError>(())
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
    let nonce = body.nonce()?;
    let (_, label) = body.label()?;
    let name = state::with(|s| stored_name(s, &label))
        .ok_or_else(|| ApiError::failure(404, "Name not found"))?;
    let at = now.secs();
    if Standing::of(&name, at) == Standing::Lapsed {
        return Err(ApiError::failure(
            400,
            "Name has expired and passed grace period",
        ));
    }
    let issued_at = body.timestamp(now)?;
    RegistryMessage {
        action: Action::Renew,
        label: &label,
        owner: &name.owner,
        nonce,
        issued_at,
        profile_cid: "",
    }
    .verify(body.signature.as_str())?;

    let expires_at = at.max(name.expires_at) + REGISTRATION_SECS;
    state::mutate(|s| {
        check_nonce_unused(s, nonce)?;
        process_event(
            s,
            now,
            EventType::NameRenewed {
                label: label.clone(),
                expires_at,
                grace_ends_at: expires_at + GRACE_SECS,
                nonce: nonce.to_string(),
            },
        );
        Ok::<(), ApiError>(())
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
    let nonce = body.nonce()?;
    let profile_cid = body.profile_cid()?;
    let (_, label) = body.label()?;
    let name = state::with(|s| stored_name(s, &label))
        .ok_or_else(|| ApiError::failure(404, "Name not found"))?;
    if Standing::of(&name, now.secs()) != Standing::Active {
        return Err(ApiError::failure(400, "Name has expired"));
    }
    let issued_at = body.timestamp(now)?;
    RegistryMessage {
        action: Action::Update,
        label: &label,
        owner: &name.owner,
        nonce,
        issued_at,
        profile_cid: profile_cid.signed(),
    }
    .verify(body.signature.as_str())?;
    // The original only failed here, at the database write, with a 500 "Update failed" (binding
    // an undefined value); we answer the client error it is, at the same point in the order.
    let profile_cid = match profile_cid {
        ProfileCid::Absent => {
            return Err(ApiError::failure(400, "profileCid is required"));
        }
        ProfileCid::Null => None,
        ProfileCid::Text(cid) => Some(cid.to_string()),
    };
    state::mutate(|s| {
        check_nonce_unused(s, nonce)?;
        process_event(
            s,
            now,
            EventType::NameProfileUpdated {
                label,
                profile_cid,
                nonce: nonce.to_string(),
            },
        );
        Ok::<(), ApiError>(())
    })?;
    Ok(ApiResponse::ok(&Updated { success: true }))
}
