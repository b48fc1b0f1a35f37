//! Controller methods (configuration, secrets, imports, the audit check) and the operators'
//! reads. Every change is an event; secrets are stored as their SHA-256 and never returned.
//! Errors are typed ([`AdminError`]); an import is checked whole before anything is written.

use canister_runtime::Runtime;

use crate::endpoints::{
    AdminError, AuditReport, IdentityView, ImportBatchOutcome, SecretName, Stats,
};
use crate::import;
use crate::names::{policy, registry};
use crate::secret::sha256_hex;
use crate::state::audit::{self, AuditFinding, process_event};
use crate::state::event::EventType;
use crate::state::event::ImportRows;
use crate::state::{
    self, IdentityRecord, LikesConfig, NamesPolicyConfig, PublishingConfig, SecretKind, SelfConfig,
    ShadowProfile, WalletRelayConfig, keys,
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

/// Checks the publishing signer's settings.
pub fn validate_publishing_config(config: &PublishingConfig) -> Result<(), AdminError> {
    let invalid = |field: &str, reason: &str| AdminError::InvalidConfig {
        field: field.into(),
        reason: reason.into(),
    };
    for p in &config.publishers {
        candid::Principal::from_text(p).map_err(|e| AdminError::InvalidPrincipal {
            principal: p.clone(),
            reason: e.to_string(),
        })?;
    }
    let tempo = &config.tempo;
    let eas = &config.eas;
    let story = &config.story;
    for (field, address) in [
        ("tempo.scrobble_v4", &tempo.scrobble_v4),
        ("tempo.content_registry", &tempo.content_registry),
        ("eas.eas", &eas.eas),
        ("story.spg_nft", &story.spg_nft),
        (
            "story.license_attachment_workflows",
            &story.license_attachment_workflows,
        ),
        ("story.derivative_workflows", &story.derivative_workflows),
        ("story.ip_asset_registry", &story.ip_asset_registry),
        ("story.license_registry", &story.license_registry),
        ("story.royalty_policy_lap", &story.royalty_policy_lap),
        ("story.wip_token", &story.wip_token),
    ] {
        if heaven_eth::address::parse(address).is_none() {
            return Err(invalid(field, "must be a 0x address"));
        }
    }
    if heaven_eth::hex32::parse_b256(&eas.schema).is_none() {
        return Err(invalid("eas.schema", "must be a 0x bytes32"));
    }
    for (field, url) in [
        ("tempo.rpc_url", &tempo.rpc_url),
        ("eas.rpc_url", &eas.rpc_url),
        ("story.rpc_url", &story.rpc_url),
    ] {
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(invalid(field, "must be an http(s) URL"));
        }
    }
    if tempo.chain_id == 0 || eas.chain_id == 0 || story.chain_id == 0 {
        return Err(invalid("chain_id", "must be positive"));
    }
    if !(1..=300).contains(&tempo.tx_wait_timeout_secs) {
        return Err(invalid("tempo.tx_wait_timeout_secs", "must be 1-300"));
    }
    if tempo.receipt_polls == 0 || eas.receipt_polls == 0 || story.receipt_polls == 0 {
        return Err(invalid("receipt_polls", "must be positive"));
    }
    Ok(())
}

/// Replaces the publishing signer's settings after checking them.
pub fn set_publishing_config(config: PublishingConfig, now: Now) -> Result<(), AdminError> {
    validate_publishing_config(&config)?;
    state::mutate(|s| process_event(s, now, EventType::PublishingConfigured { config }));
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

fn invalid(field: &str, reason: &str) -> AdminError {
    AdminError::InvalidConfig {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks Self settings.
pub fn validate_self_config(config: &SelfConfig) -> Result<(), AdminError> {
    if config.nullifier_namespace.trim().is_empty() {
        return Err(invalid("nullifier_namespace", "must not be empty"));
    }
    if config.deeplink_scheme.is_empty()
        || !config
            .deeplink_scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(invalid("deeplink_scheme", "must be a URL scheme"));
    }
    if let Some(endpoint) = &config.endpoint
        && !endpoint.starts_with("https://")
        && !endpoint.starts_with("http://")
    {
        return Err(invalid("endpoint", "must be an http(s) URL"));
    }
    if let Some(verifier) = &config.verifier {
        crate::selfxyz::settings::validate(verifier).map_err(|(f, r)| invalid(f, r))?;
        if config.endpoint.is_none() {
            // The proofs' scope signal hashes the deeplink's endpoint: it must not vary.
            return Err(invalid("endpoint", "must be set when the verifier is on"));
        }
    }
    Ok(())
}

/// Replaces the Self settings after checking them.
pub fn set_self_config(config: SelfConfig, now: Now) -> Result<(), AdminError> {
    validate_self_config(&config)?;
    state::mutate(|s| process_event(s, now, EventType::SelfConfigured { config }));
    Ok(())
}

/// Checks like limits.
pub fn validate_likes_config(config: &LikesConfig) -> Result<(), AdminError> {
    if !(1..=86_400).contains(&config.window_seconds) {
        return Err(invalid("window_seconds", "must be 1-86400"));
    }
    if config.per_viewer == 0 || config.per_ip == 0 {
        return Err(invalid("per_viewer", "limits must be at least 1"));
    }
    Ok(())
}

/// Replaces the like limits after checking them.
pub fn set_likes_config(config: LikesConfig, now: Now) -> Result<(), AdminError> {
    validate_likes_config(&config)?;
    state::mutate(|s| process_event(s, now, EventType::LikesConfigured { config }));
    Ok(())
}

/// Applies batch `batch` of import run `run` unless it was applied before (a resumed run sends
/// it again); either way answers the summary of what the state holds for the batch's keys.
pub fn import_batch(
    run: String,
    batch: u64,
    rows: ImportRows,
    now: Now,
) -> Result<ImportBatchOutcome, AdminError> {
    if run.is_empty() || run.contains('|') {
        return Err(invalid("run", "must be non-empty and without '|'"));
    }
    let rows = import::check_rows(rows).map_err(|reason| AdminError::InvalidRecord {
        index: batch,
        reason,
    })?;
    state::mutate(|s| {
        let key = keys::import_batch_key(&run, batch);
        let applied = !s.import_batches().contains_key(&key);
        if applied {
            let event = EventType::RowsImported {
                run: Some(run.clone()),
                batch: Some(batch),
                rows: rows.clone(),
            };
            process_event(s, now, event);
        }
        Ok(ImportBatchOutcome {
            applied,
            summary: import::summarize_stored(s, &rows),
        })
    })
}

/// The batches of import run `run` applied so far, in order.
pub fn import_progress(run: &str) -> Vec<u64> {
    let prefix = format!("{run}|");
    state::with(|s| {
        s.import_batches()
            .keys_range(prefix.clone()..)
            .take_while(|k| k.starts_with(&prefix))
            .filter_map(|k| k[prefix.len()..].parse().ok())
            .collect()
    })
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
