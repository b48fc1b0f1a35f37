//! The bridge's configuration, read once at start from the environment (or any lookup, for
//! tests): where the IC is, whether it is a local replica (the only case that fetches the root
//! key), the worker's secp256k1 identity, the canister ids, and the per-call timeout.

use std::path::PathBuf;
use std::time::Duration;

use candid::Principal;

/// Which network the agent talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// A local replica, PocketIC or the wasm harness: the root key is fetched from
    /// `/api/v2/status` (never on mainnet: a man in the middle could hand out its own).
    Local,
    /// The IC mainnet: the agent's built-in root key.
    Mainnet,
}

/// Where the worker's secp256k1 PEM identity comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    /// `ICP_IDENTITY_PEM_FILE`: a file path.
    File(PathBuf),
    /// `ICP_IDENTITY_PEM`: the PEM text itself.
    Inline(String),
}

impl std::fmt::Debug for PemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

/// The bridge's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    /// `ICP_URL`: the IC HTTP interface (`https://icp-api.io`, a local replica, the harness).
    pub url: String,
    /// `ICP_NETWORK`: `local` or `ic` (default `ic`).
    pub network: Network,
    /// The worker's identity.
    pub identity: PemSource,
    /// `ICP_CREDITS_CANISTER_ID`.
    pub credits_canister: Option<Principal>,
    /// `ICP_IDENTITY_CANISTER_ID`.
    pub identity_canister: Option<Principal>,
    /// `ICP_CALL_TIMEOUT_MS` (default 10 000): the bound on each attempt of a call.
    pub call_timeout: Duration,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// A variable the chosen mode needs is not set.
    #[error("{0} must be set when ICP_URL is set")]
    Missing(&'static str),
}

/// The default per-attempt timeout.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

impl BridgeConfig {
    /// Reads the process environment; `Ok(None)` when `ICP_URL` is unset (the in-process
    /// canisters are used).
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`; `Ok(None)` when `ICP_URL` is unset or empty.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let Some(url) = get("ICP_URL") else {
            return Ok(None);
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid("ICP_URL", "must be an http(s) URL"));
        }
        let network = match get("ICP_NETWORK").as_deref().map(str::trim) {
            None | Some("ic") | Some("mainnet") => Network::Mainnet,
            Some("local") => Network::Local,
            Some(other) => {
                return Err(invalid(
                    "ICP_NETWORK",
                    format!("`{other}` is neither `local` nor `ic`"),
                ));
            }
        };
        let identity = match (get("ICP_IDENTITY_PEM"), get("ICP_IDENTITY_PEM_FILE")) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "ICP_IDENTITY_PEM",
                    "set ICP_IDENTITY_PEM or ICP_IDENTITY_PEM_FILE, not both",
                ));
            }
            (Some(pem), None) => PemSource::Inline(pem),
            (None, Some(path)) => PemSource::File(PathBuf::from(path)),
            (None, None) => {
                return Err(ConfigError::Missing(
                    "ICP_IDENTITY_PEM or ICP_IDENTITY_PEM_FILE",
                ));
            }
        };
        let principal = |name: &'static str| -> Result<Option<Principal>, ConfigError> {
            get(name)
                .map(|text| {
                    Principal::from_text(text.trim()).map_err(|e| invalid(name, e.to_string()))
                })
                .transpose()
        };
        let call_timeout = match get("ICP_CALL_TIMEOUT_MS") {
            None => DEFAULT_CALL_TIMEOUT,
            Some(ms) => match ms.trim().parse::<u64>() {
                Ok(ms) if (1..=120_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(invalid(
                        "ICP_CALL_TIMEOUT_MS",
                        "milliseconds from 1 to 120000",
                    ));
                }
            },
        };
        Ok(Some(Self {
            url,
            network,
            identity,
            credits_canister: principal("ICP_CREDITS_CANISTER_ID")?,
            identity_canister: principal("ICP_IDENTITY_CANISTER_ID")?,
            call_timeout,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<BridgeConfig>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BridgeConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn unset_url_means_in_process() {
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[("ICP_URL", " ")]), Ok(None));
    }

    #[test]
    fn mainnet_is_the_default_and_only_local_fetches_the_root_key() {
        let config = read(&[
            ("ICP_URL", "https://icp-api.io"),
            ("ICP_IDENTITY_PEM_FILE", "/run/secrets/worker.pem"),
            ("ICP_CREDITS_CANISTER_ID", "rrkah-fqaaa-aaaaa-aaaaq-cai"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.network, Network::Mainnet);
        assert_eq!(
            config.identity,
            PemSource::File("/run/secrets/worker.pem".into())
        );
        assert_eq!(config.call_timeout, DEFAULT_CALL_TIMEOUT);
        assert_eq!(
            config.credits_canister,
            Some(Principal::from_text("rrkah-fqaaa-aaaaa-aaaaq-cai").unwrap())
        );
        let local = read(&[
            ("ICP_URL", "http://127.0.0.1:4943"),
            ("ICP_NETWORK", "local"),
            ("ICP_IDENTITY_PEM", "-----BEGIN EC PRIVATE KEY-----"),
            ("ICP_CALL_TIMEOUT_MS", "2500"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(local.network, Network::Local);
        assert_eq!(local.call_timeout, Duration::from_millis(2500));
        assert!(
            !format!("{local:?}").contains("BEGIN"),
            "the PEM is never printed"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        let base = [
            ("ICP_URL", "https://icp-api.io"),
            ("ICP_IDENTITY_PEM", "pem"),
        ];
        let with = |extra: (&'static str, &'static str)| {
            let mut vars = base.to_vec();
            vars.push(extra);
            read(&vars).unwrap_err().to_string()
        };
        assert!(with(("ICP_NETWORK", "testnet")).starts_with("ICP_NETWORK"));
        assert!(
            with(("ICP_CREDITS_CANISTER_ID", "not a principal"))
                .starts_with("ICP_CREDITS_CANISTER_ID")
        );
        assert!(with(("ICP_CALL_TIMEOUT_MS", "0")).starts_with("ICP_CALL_TIMEOUT_MS"));
        assert!(with(("ICP_IDENTITY_PEM_FILE", "/x")).contains("not both"));
        assert!(
            read(&[("ICP_URL", "https://icp-api.io")]).is_err(),
            "an identity is required"
        );
        assert!(read(&[("ICP_URL", "icp-api.io"), ("ICP_IDENTITY_PEM", "p")]).is_err());
    }
}
