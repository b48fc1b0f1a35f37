//! Controller methods (configuration, secrets, imports, the audit check) and the operators'
//! reads. Every change is an event; secrets are stored as their SHA-256 and never returned.
//! Errors are typed ([`AdminError`]); an import is checked whole before anything is written.

use canister_runtime::Runtime;

use crate::endpoints::{AdminError, AuditReport, IdentityView, SecretName, Stats};
use crate::names::{policy, registry};
use crate::secret::sha256_hex;
use crate::state::audit::{self, AuditFinding, process_event};
use crate::state::event::EventType;
use crate::state::{
    self, IdentityRecord, NamesPolicyConfig, SecretKind, ShadowProfile, WalletRelayConfig, keys,
};
use crate::time::Now;
use crate::{claim, gateway};

/// `Ok` when the caller of the current message controls the canister.
pub fn require_controller<R: Runtime>(rt: &R) -> Result<(), AdminError> {
    if rt.is_controller(&rt.caller()) {
        Ok(())
    } else {
        Err(AdminError::NotController)
    }
}

/// The current counters.
pub fn stats() -> Stats {
    state::with(|s| Stats {
        events: s.event_count(),
        names: s.names().len(),
        claim_tokens: s.claim_tokens().len(),
        sweeps: s.counter(keys::SWEEPS),
        last_sweep_ns: s.counter(keys::LAST_SWEEP_NS),
        certified_paths: gateway::certified_paths().len() as u64,
    })
}

fn invalid_config(e: policy::ConfigError) -> AdminError {
    AdminError::InvalidConfig {
        field: e.field.to_string(),
        reason: e.reason,
    }
}

/// Replaces the names policy settings after checking them.
pub fn set_names_policy_config(config: NamesPolicyConfig, now: Now) -> Result<(), AdminError> {
    policy::validate_config(&config).map_err(invalid_config)?;
    state::mutate(|s| process_event(s, now, EventType::NamesPolicyConfigured { config }));
    Ok(())
}

/// Checks wallet relay settings.
pub fn validate_wallet_relay_config(config: &WalletRelayConfig) -> Result<(), AdminError> {
    let invalid = |field: &str, reason: &str| AdminError::InvalidConfig {
        field: field.into(),
        reason: reason.into(),
    };
    for (field, address) in [
        ("dating_profile", &config.dating_profile),
        ("registrar", &config.registrar),
    ] {
        if heaven_eth::address::parse(address).is_none() {
            return Err(invalid(field, "must be a 0x address"));
        }
    }
    if heaven_eth::hex32::parse_b256(&config.heaven_node).is_none() {
        return Err(invalid("heaven_node", "must be a 0x bytes32"));
    }
    if !config.rpc_url.starts_with("https://") && !config.rpc_url.starts_with("http://") {
        return Err(invalid("rpc_url", "must be an http(s) URL"));
    }
    Ok(())
}

/// Replaces the wallet relay settings after checking them.
pub fn set_wallet_relay_config(config: WalletRelayConfig, now: Now) -> Result<(), AdminError> {
    validate_wallet_relay_config(&config)?;
    state::mutate(|s| process_event(s, now, EventType::WalletRelayConfigured { config }));
    Ok(())
}

/// Sets the development switch (guarded routes open while their secret is unset) and the
/// principals trusted to state client IPs.
pub fn set_access(
    development: bool,
    trusted_edges: Vec<String>,
    now: Now,
) -> Result<(), AdminError> {
    for p in &trusted_edges {
        candid::Principal::from_text(p).map_err(|e| AdminError::InvalidPrincipal {
            principal: p.clone(),
            reason: e.to_string(),
        })?;
    }
    state::mutate(|s| {
        process_event(
            s,
            now,
            EventType::AccessConfigured {
                development,
                trusted_edges,
            },
        )
    });
    Ok(())
}

/// Sets (or clears, with `None` or an empty value) a route secret; only its SHA-256 is kept.
pub fn set_secret(name: SecretName, value: Option<String>, now: Now) {
    let which = SecretKind::from(name);
    let sha256 = value.filter(|v| !v.is_empty()).map(|v| sha256_hex(&v));
    state::mutate(|s| process_event(s, now, EventType::SecretSet { which, sha256 }));
}

/// Imports shadow profiles (migration from D1); returns how many.
pub fn import_shadow_profiles(profiles: Vec<ShadowProfile>, now: Now) -> Result<u64, AdminError> {
    for (index, p) in profiles.iter().enumerate() {
        claim::check_shadow_profile(p).map_err(|reason| AdminError::InvalidRecord {
            index: index as u64,
            reason,
        })?;
    }
    let n = profiles.len() as u64;
    for p in profiles {
        claim::upsert_shadow_profile(p, now);
    }
    Ok(n)
}

/// Imports Self identities (nullifiers the short-name policy reads); returns how many.
pub fn import_identities(records: Vec<IdentityRecord>, now: Now) -> Result<u64, AdminError> {
    let checked = records
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            policy::check_identity(r).map_err(|reason| AdminError::InvalidRecord {
                index: index as u64,
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n = checked.len() as u64;
    for record in checked {
        policy::import_identity(record, now);
    }
    Ok(n)
}

/// Reserves a legacy label (or releases it with `None`).
pub fn set_reserved(label: &str, reason: Option<String>, now: Now) {
    registry::set_reserved(label, reason, now);
}

/// Replays the audit log and compares the result with the live state.
pub fn audit_check() -> AuditReport {
    match audit::check_against_log() {
        Ok(events) => AuditReport::Consistent { events },
        Err(AuditFinding::LegacyEvent { index }) => AuditReport::NotReplayable { index },
        Err(AuditFinding::Differs { structure, key }) => AuditReport::Differs {
            structure: structure.to_string(),
            key,
        },
    }
}

/// The identity of `address`, if verified.
pub fn identity_of(address: &str) -> Option<IdentityView> {
    let address = address.trim().to_lowercase();
    state::with(|s| s.identities().get(&address)).map(|r| IdentityView {
        address: r.0.address,
        verified_at: r.0.verified_at,
        has_short_name_credential: r.0.nullifier_hash.is_some(),
    })
}

#[cfg(test)]
mod tests;
