//! The names-policy settings: the controller's checks on a new configuration, and the settings
//! every request loads and validates (the original validated its environment on every call,
//! answering a problem with one of its fixed messages as a 500).

use crate::api::ApiError;
use crate::primitives::{Address, Bytes32};
use crate::state::{self, NamesPolicyConfig};

/// Validated policy settings, as a request uses them.
pub(super) struct Policy {
    pub rpc_url: String,
    pub chain_id: u64,
    pub registry: Address,
    pub store: Address,
    /// The store address exactly as configured (the answer's `tx.to`).
    pub store_as_configured: String,
    pub primary_node: Bytes32,
    pub secondary_node: Bytes32,
    pub expected_signer: Option<Address>,
    pub config: NamesPolicyConfig,
}

impl Policy {
    pub fn load() -> Result<Self, ApiError> {
        let config = state::with_config(|c| c.names_policy.clone());
        let fail = |m: &str| ApiError::error(500, m);
        let rpc_url = config.rpc_url.trim().to_string();
        if rpc_url.is_empty() {
            return Err(fail("Missing TEMPO_RPC_URL"));
        }
        let registry = Address::parse(config.registry.trim())
            .ok_or_else(|| fail("Invalid TEMPO_NAME_REGISTRY_V2"))?;
        let store_as_configured = config.store.clone().unwrap_or_default().trim().to_string();
        let store = Address::parse(&store_as_configured)
            .ok_or_else(|| fail("Missing or invalid TEMPO_PREMIUM_NAME_STORE_V2"))?;
        let primary_node = Bytes32::parse(&config.primary_node.trim().to_lowercase())
            .ok_or_else(|| fail("Invalid NAMES_PRIMARY_NODE (or TEMPO_HEAVEN_NODE fallback)"))?;
        let secondary_node = Bytes32::parse(&config.secondary_node.trim().to_lowercase())
            .ok_or_else(|| fail("Invalid NAMES_SECONDARY_NODE (or TEMPO_PIRATE_NODE fallback)"))?;
        let expected_signer = match config.expected_signer.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                Some(Address::parse(s).ok_or_else(|| fail("Invalid TEMPO_POLICY_SIGNER_ADDRESS"))?)
            }
        };
        Ok(Self {
            rpc_url,
            chain_id: config.chain_id,
            registry,
            store,
            store_as_configured,
            primary_node,
            secondary_node,
            expected_signer,
            config,
        })
    }

    /// The parent node of `tld` (`heaven` or `pirate`, any case, trimmed).
    pub fn parent_node(&self, tld: &str) -> Option<Bytes32> {
        match tld.trim().to_lowercase().as_str() {
            "heaven" => Some(self.primary_node),
            "pirate" => Some(self.secondary_node),
            _ => None,
        }
    }
}

/// A names-policy setting out of range or malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct ConfigError {
    /// The setting (field of [`NamesPolicyConfig`]).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks a controller-supplied policy configuration with the same rules as every request.
pub fn validate_config(config: &NamesPolicyConfig) -> Result<(), ConfigError> {
    let within = |v: u64, lo: u64, hi: u64, field: &'static str| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(ConfigError {
                field,
                reason: format!("must be within {lo}..={hi}"),
            })
        }
    };
    within(config.chain_id, 1, 100_000_000, "chain_id")?;
    within(u64::from(config.pow_difficulty), 1, 12, "pow_difficulty")?;
    within(config.pow_ttl_seconds, 30, 3600, "pow_ttl_seconds")?;
    within(config.permit_ttl_seconds, 30, 3600, "permit_ttl_seconds")?;
    within(
        u64::from(config.wallet_limit_10m),
        1,
        300,
        "wallet_limit_10m",
    )?;
    within(u64::from(config.ip_limit_10m), 1, 1000, "ip_limit_10m")?;
    within(
        u64::from(config.device_limit_10m),
        1,
        500,
        "device_limit_10m",
    )?;
    if !config.rpc_url.starts_with("https://") && !config.rpc_url.starts_with("http://") {
        return Err(ConfigError {
            field: "rpc_url",
            reason: "must be an http(s) URL".into(),
        });
    }
    if let Some(store) = &config.store
        && Address::parse(store.trim()).is_none()
    {
        return Err(ConfigError {
            field: "store",
            reason: "must be a 0x address".into(),
        });
    }
    Ok(())
}
