//! The registry's reads: what the DNS server serves for a name, whether a label is available,
//! an owner's latest name and a name's record. Whether a name is active, in grace or lapsed
//! is computed from its stored times at the request's second.

use serde::Serialize;

use super::{GATEWAY_IP, Standing, TLD, TTL_NEGATIVE, TTL_POSITIVE, stored_name};
use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Now};
use crate::names::label::{self, LabelReason};
use crate::primitives::Address;
use crate::secret;
use crate::state::{self, SecretKind, keys};

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

/// Whether the `Authorization` header is exactly `Bearer <secret>` for the secret whose
/// SHA-256 is `stored` (compared in constant time).
pub(super) fn bearer_matches(header: &str, stored: &str) -> bool {
    header
        .strip_prefix("Bearer ")
        .is_some_and(|presented| secret::matches(stored, presented))
}

/// GET /api/names/dns/resolve?label=&tld= — what the DNS server should answer for a name.
pub fn dns_resolve(req: &ApiRequest, now: Now) -> ApiResult {
    let (secret, development) = state::with(|s| {
        (
            s.secrets()
                .sha256(SecretKind::DnsShared)
                .map(str::to_string),
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
        state::with(|s| (s.reserved().contains_key(&label), stored_name(s, &label)));
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
        state::with(|s| (s.reserved().contains_key(&label), stored_name(s, &label)));
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
    let owner = Address::parse_normalized(pkp)
        .ok_or_else(|| ApiError::error(400, "Invalid PKP address"))?
        .lower_hex();
    let prefix = keys::owner_key(&owner, "");
    let latest = state::with(|s| {
        s.names_by_owner()
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
