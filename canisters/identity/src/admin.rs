//! Controller-only configuration and imports, and the candid shapes they use. Every change is
//! recorded in the audit log; secrets are stored but never returned by any method.

use candid::{CandidType, Deserialize};

use crate::api::Now;
use crate::events::EventKind;
use crate::names::{policy, registry};
use crate::state::{self, IdentityRecord, NamesPolicyConfig, ShadowProfile, WalletRelayConfig};
use crate::{claim, gateway};

/// Which route secret a controller sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub enum SecretName {
    /// `X-Claim-Start-Secret` of `POST /api/claim/start`.
    ClaimStart,
    /// Bearer secret of `GET /api/names/dns/resolve`.
    DnsShared,
    /// Key the Akash edge presents to have its client-IP header trusted.
    EdgeKey,
}

impl SecretName {
    fn as_str(self) -> &'static str {
        match self {
            SecretName::ClaimStart => "claim_start",
            SecretName::DnsShared => "dns_shared",
            SecretName::EdgeKey => "edge_key",
        }
    }
}

/// Counters for operators (no secrets, no personal data).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct Stats {
    /// Entries in the audit log.
    pub events: u64,
    /// Legacy names stored.
    pub names: u64,
    /// Claim tokens stored.
    pub claim_tokens: u64,
    /// Expiry sweeps run so far.
    pub sweeps: u64,
    /// IC time of the last sweep (ns), 0 before the first.
    pub last_sweep_ns: u64,
    /// Responses currently certified for the query path.
    pub certified_paths: u64,
}

/// The current counters.
pub fn stats() -> Stats {
    state::with(|s| Stats {
        events: s.events.len(),
        names: s.names.len(),
        claim_tokens: s.claim_tokens.len(),
        sweeps: s.counters.get(&"sweeps".to_string()).unwrap_or(0),
        last_sweep_ns: s.counters.get(&"last_sweep_ns".to_string()).unwrap_or(0),
        certified_paths: gateway::certified_paths().len() as u64,
    })
}

/// Replaces the names policy settings after checking them.
pub fn set_names_policy_config(config: NamesPolicyConfig, now: Now) -> Result<(), String> {
    policy::validate_config(&config)?;
    state::with_mut(|s| {
        let mut c = s.config().clone();
        c.names_policy = config;
        s.set_config(c);
        s.record(now.ns, EventKind::ConfigChanged);
    });
    Ok(())
}

/// Replaces the wallet relay settings after checking them.
pub fn set_wallet_relay_config(config: WalletRelayConfig, now: Now) -> Result<(), String> {
    for (name, address) in [
        ("dating_profile", &config.dating_profile),
        ("registrar", &config.registrar),
    ] {
        if heaven_eth::address::parse(address).is_none() {
            return Err(format!("{name} must be a 0x address"));
        }
    }
    if heaven_eth::hex32::parse_b256(&config.heaven_node).is_none() {
        return Err("heaven_node must be a 0x bytes32".into());
    }
    if !config.rpc_url.starts_with("https://") && !config.rpc_url.starts_with("http://") {
        return Err("rpc_url must be an http(s) URL".into());
    }
    state::with_mut(|s| {
        let mut c = s.config().clone();
        c.wallet = config;
        s.set_config(c);
        s.record(now.ns, EventKind::ConfigChanged);
    });
    Ok(())
}

/// Sets the development switch (guarded routes open while their secret is unset) and the
/// principals trusted to state client IPs.
pub fn set_access(development: bool, trusted_edges: Vec<String>, now: Now) -> Result<(), String> {
    for p in &trusted_edges {
        candid::Principal::from_text(p).map_err(|e| format!("{p}: {e}"))?;
    }
    state::with_mut(|s| {
        let mut c = s.config().clone();
        c.development = development;
        c.trusted_edges = trusted_edges;
        s.set_config(c);
        s.record(now.ns, EventKind::ConfigChanged);
    });
    Ok(())
}

/// Sets (or clears, with `None` or an empty value) a route secret.
pub fn set_secret(name: SecretName, value: Option<String>, now: Now) {
    let value = value.filter(|v| !v.is_empty());
    state::with_mut(|s| {
        let mut secrets = s.secrets().clone();
        match name {
            SecretName::ClaimStart => secrets.claim_start = value,
            SecretName::DnsShared => secrets.dns_shared = value,
            SecretName::EdgeKey => secrets.edge_key = value,
        }
        s.secrets.set(state::Cbor(secrets));
        s.record(
            now.ns,
            EventKind::SecretChanged {
                which: name.as_str().to_string(),
            },
        );
    });
}

/// Imports shadow profiles (migration from D1); returns how many.
pub fn import_shadow_profiles(profiles: Vec<ShadowProfile>, now: Now) -> Result<u64, String> {
    if let Some(p) = profiles.iter().find(|p| p.id.trim().is_empty()) {
        return Err(format!(
            "a shadow profile has an empty id (source {:?})",
            p.source
        ));
    }
    let n = profiles.len() as u64;
    for p in profiles {
        claim::upsert_shadow_profile(p, now);
    }
    Ok(n)
}

/// Imports Self identities (nullifiers the short-name policy reads); returns how many.
pub fn import_identities(records: Vec<IdentityRecord>, now: Now) -> Result<u64, String> {
    for r in &records {
        if heaven_eth::address::parse(r.address.trim()).is_none() {
            return Err(format!("invalid address {:?}", r.address));
        }
    }
    let n = records.len() as u64;
    for r in records {
        policy::upsert_identity(r, now)?;
    }
    Ok(n)
}

/// Reserves a legacy label (or releases it with `None`).
pub fn set_reserved(label: &str, reason: Option<String>, now: Now) {
    registry::set_reserved(label, reason, now);
}

/// The part of `user_identity` other services need (the media worker's music access check):
/// whether `address` is Self-verified and whether it holds a short-name credential.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct IdentityView {
    /// Lowercase address.
    pub address: String,
    /// Verification time (seconds).
    pub verified_at: u64,
    /// Whether a nullifier is stored.
    pub has_short_name_credential: bool,
}

/// The identity of `address`, if verified.
pub fn identity_of(address: &str) -> Option<IdentityView> {
    let address = address.trim().to_lowercase();
    state::with(|s| s.identities.get(&address)).map(|r| IdentityView {
        address: r.0.address,
        verified_at: r.0.verified_at,
        has_short_name_credential: r.0.nullifier_hash.is_some(),
    })
}

/// A request an allow-listed edge forwards through candid, with the client IP it saw.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct EdgeRequest {
    /// Method.
    pub method: String,
    /// Path and query.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// The client's IP (used only when the caller is a trusted edge).
    pub client_ip: Option<String>,
}

/// The answer to an [`EdgeRequest`].
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct EdgeResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}
