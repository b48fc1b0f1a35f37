//! The local stack's configuration, read once from environment variables.
//!
//! Defaults are the embedded ones (`./.heaven/`, SQLite, 127.0.0.1 and the four original ports);
//! choosing an external adapter makes its URL variable required.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_common::{ConfigError, ConnectionLimits, EnvSource, TrustedProxies};

/// Where durable worker state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateStoreChoice {
    /// `<data dir>/state.sqlite3` (default).
    Sqlite,
    /// PostgreSQL at `DATABASE_URL`.
    Postgres {
        /// The connection URL.
        url: String,
    },
}

/// Where cache entries (and shared rate-limit slots) live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStoreChoice {
    /// `<data dir>/cache.sqlite3` (default).
    Sqlite,
    /// Redis at `CACHE_URL`.
    Redis {
        /// The connection URL.
        url: String,
    },
}

/// Ports of the four services (0 lets the OS choose, which tests use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// api-core routes (`API_PORT`, 8787).
    pub api: u16,
    /// metadata-resolver (`METADATA_RESOLVER_PORT`, 8788).
    pub metadata_resolver: u16,
    /// voice-agent (`VOICE_AGENT_PORT`, 8789).
    pub voice_agent: u16,
    /// voice-rooms (`VOICE_ROOMS_PORT`, 8790).
    pub voice_rooms: u16,
}

/// What every service's edge and listener share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSettings {
    /// `TRUSTED_PROXIES` (addresses and CIDRs, comma-separated; empty = the TCP peer is the
    /// client), `HEADER_READ_TIMEOUT_SECS` (10) and `MAX_CONNECTIONS_PER_IP` (256).
    pub limits: ConnectionLimits,
    /// `METRICS_TOKEN`: when set, `/metrics` needs it as a bearer token.
    pub metrics_token: Option<Arc<str>>,
    /// `SHUTDOWN_DRAIN_SECS` (20): how long a stop waits for in-flight requests, then as long
    /// again for background work.
    pub drain: Duration,
}

impl EdgeSettings {
    /// Reads the edge variables.
    pub fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let proxies = env.optional("TRUSTED_PROXIES").unwrap_or_default();
        let trusted_proxies =
            TrustedProxies::parse(&proxies).map_err(|e| ConfigError::Invalid {
                var: "TRUSTED_PROXIES".into(),
                value: proxies.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            limits: ConnectionLimits {
                header_read_timeout: Duration::from_secs(
                    env.positive_or("HEADER_READ_TIMEOUT_SECS", 10)?,
                ),
                max_per_ip: env.positive_or("MAX_CONNECTIONS_PER_IP", 256)?,
                trusted_proxies,
            },
            metrics_token: env.optional("METRICS_TOKEN").map(Arc::from),
            drain: Duration::from_secs(env.positive_or("SHUTDOWN_DRAIN_SECS", 20)?),
        })
    }
}

/// Whether this process is a production deployment, and what it may do then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deployment {
    /// `HEAVEN_ENV=production` (the container image's default; `development` otherwise): the
    /// canisters must be the deployed ones, reached through ic-agent, unless
    /// [`Self::allow_dev_key`].
    pub production: bool,
    /// `HEAVEN_ALLOW_DEV_KEY=true`: the explicit opt-in to run canisters natively, signing with
    /// the dev key in the data dir, even in production.
    pub allow_dev_key: bool,
    /// `HEAVEN_ALLOW_MOCK_PAYMENTS=true`: the explicit opt-in to serve voice-rooms with a mock
    /// x402 facilitator or mock escrow reads (which grant paid entries and bookings without any
    /// money moving) even in production.
    pub allow_mock_payments: bool,
}

impl Deployment {
    /// Reads `HEAVEN_ENV` and `HEAVEN_ALLOW_DEV_KEY`.
    pub fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let production = choice(env, "HEAVEN_ENV", &["development", "production"])? == "production";
        let allow_dev_key = choice(env, "HEAVEN_ALLOW_DEV_KEY", &["false", "true"])? == "true";
        let allow_mock_payments =
            choice(env, "HEAVEN_ALLOW_MOCK_PAYMENTS", &["false", "true"])? == "true";
        Ok(Self {
            production,
            allow_dev_key,
            allow_mock_payments,
        })
    }

    /// Whether voice-rooms may settle and read payments in mock mode.
    pub fn mock_payments_allowed(self) -> bool {
        !self.production || self.allow_mock_payments
    }

    /// Whether a canister may run natively with the dev key.
    pub fn native_canisters_allowed(self) -> bool {
        !self.production || self.allow_dev_key
    }
}

/// The whole local stack's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    /// `HEAVEN_DATA_DIR`, default `.heaven`.
    pub data_dir: PathBuf,
    /// `HEAVEN_BIND_ADDR`, default `127.0.0.1`.
    pub bind_addr: IpAddr,
    /// Service ports.
    pub ports: Ports,
    /// `STATE_STORE` = `sqlite` (default) | `postgres`.
    pub state_store: StateStoreChoice,
    /// `CACHE_STORE` = `sqlite` (default) | `redis`.
    pub cache_store: CacheStoreChoice,
    /// `LOG_FORMAT=json` for JSON lines.
    pub json_logs: bool,
    /// Client IP, connection limits, `/metrics` access and shutdown drain of every service.
    pub edge: EdgeSettings,
    /// `HEAVEN_ENV` and `HEAVEN_ALLOW_DEV_KEY`.
    pub deployment: Deployment,
}

impl StackConfig {
    /// Reads and validates the configuration.
    pub fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(
            env.optional("HEAVEN_DATA_DIR")
                .unwrap_or_else(|| ".heaven".into()),
        );
        let bind_addr = env.parse_or("HEAVEN_BIND_ADDR", IpAddr::from([127, 0, 0, 1]))?;
        let ports = Ports {
            api: env.parse_or("API_PORT", 8787)?,
            metadata_resolver: env.parse_or("METADATA_RESOLVER_PORT", 8788)?,
            voice_agent: env.parse_or("VOICE_AGENT_PORT", 8789)?,
            voice_rooms: env.parse_or("VOICE_ROOMS_PORT", 8790)?,
        };
        let state_store = match choice(env, "STATE_STORE", &["sqlite", "postgres"])?.as_str() {
            "postgres" => StateStoreChoice::Postgres {
                url: env.required("DATABASE_URL", "when STATE_STORE=postgres")?,
            },
            _ => StateStoreChoice::Sqlite,
        };
        let cache_store = match choice(env, "CACHE_STORE", &["sqlite", "redis"])?.as_str() {
            "redis" => CacheStoreChoice::Redis {
                url: env.required("CACHE_URL", "when CACHE_STORE=redis")?,
            },
            _ => CacheStoreChoice::Sqlite,
        };
        let json_logs = choice(env, "LOG_FORMAT", &["text", "json"])? == "json";
        Ok(Self {
            data_dir,
            bind_addr,
            ports,
            state_store,
            cache_store,
            json_logs,
            edge: EdgeSettings::from_env(env)?,
            deployment: Deployment::from_env(env)?,
        })
    }

    /// The URL the state store adapter opens.
    pub fn state_store_url(&self) -> String {
        match &self.state_store {
            StateStoreChoice::Sqlite => sqlite_url(&self.data_dir.join("state.sqlite3")),
            StateStoreChoice::Postgres { url } => url.clone(),
        }
    }

    /// The URL the cache store adapter opens.
    pub fn cache_store_url(&self) -> String {
        match &self.cache_store {
            CacheStoreChoice::Sqlite => sqlite_url(&self.data_dir.join("cache.sqlite3")),
            CacheStoreChoice::Redis { url } => url.clone(),
        }
    }

    /// Directory of the local content-addressed blob store.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The value of a variable restricted to `allowed` (first is the default), lower-cased.
fn choice(env: &EnvSource, var: &str, allowed: &[&str]) -> Result<String, ConfigError> {
    let value = env.optional(var).map(|v| v.trim().to_ascii_lowercase());
    match value {
        None => Ok(allowed[0].to_owned()),
        Some(v) if allowed.contains(&v.as_str()) => Ok(v),
        Some(v) => Err(ConfigError::Invalid {
            var: var.to_owned(),
            value: v,
            message: format!("expected one of {}", allowed.join(", ")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_embedded() {
        let config = StackConfig::from_env(&EnvSource::from_pairs([])).unwrap();
        assert_eq!(config.data_dir, PathBuf::from(".heaven"));
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1");
        assert_eq!(
            config.ports,
            Ports {
                api: 8787,
                metadata_resolver: 8788,
                voice_agent: 8789,
                voice_rooms: 8790
            }
        );
        assert_eq!(config.state_store_url(), "sqlite://.heaven/state.sqlite3");
        assert_eq!(config.cache_store_url(), "sqlite://.heaven/cache.sqlite3");
        assert!(!config.json_logs);
        assert!(config.edge.limits.trusted_proxies.is_empty());
        assert_eq!(config.edge.limits.max_per_ip, 256);
        assert_eq!(config.edge.metrics_token, None);
        assert_eq!(config.deployment, Deployment::default());
        assert!(config.deployment.native_canisters_allowed());
    }

    #[test]
    fn production_refuses_native_canisters_unless_opted_in() {
        let read = |pairs: &[(&'static str, &'static str)]| {
            StackConfig::from_env(&EnvSource::from_pairs(pairs.iter().copied()))
                .unwrap()
                .deployment
        };
        assert!(!read(&[("HEAVEN_ENV", "production")]).native_canisters_allowed());
        assert!(
            read(&[
                ("HEAVEN_ENV", "Production"),
                ("HEAVEN_ALLOW_DEV_KEY", "true")
            ])
            .native_canisters_allowed()
        );
        assert!(read(&[]).mock_payments_allowed());
        assert!(!read(&[("HEAVEN_ENV", "production")]).mock_payments_allowed());
        assert!(
            read(&[
                ("HEAVEN_ENV", "production"),
                ("HEAVEN_ALLOW_MOCK_PAYMENTS", "true")
            ])
            .mock_payments_allowed()
        );
        let err =
            StackConfig::from_env(&EnvSource::from_pairs([("HEAVEN_ENV", "prod")])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("HEAVEN_ENV has an invalid value"),
            "{err}"
        );
    }

    #[test]
    fn edge_settings_are_read_and_checked() {
        let config = StackConfig::from_env(&EnvSource::from_pairs([
            ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("METRICS_TOKEN", "scrape-me"),
            ("HEADER_READ_TIMEOUT_SECS", "3"),
        ]))
        .unwrap();
        assert!(
            config
                .edge
                .limits
                .trusted_proxies
                .contains("10.2.3.4".parse().unwrap())
        );
        assert_eq!(config.edge.metrics_token.as_deref(), Some("scrape-me"));
        assert_eq!(
            config.edge.limits.header_read_timeout,
            Duration::from_secs(3)
        );
        let err =
            StackConfig::from_env(&EnvSource::from_pairs([("TRUSTED_PROXIES", "10.0.0.0/99")]))
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("TRUSTED_PROXIES has an invalid value"),
            "{err}"
        );
        let err = StackConfig::from_env(&EnvSource::from_pairs([("MAX_CONNECTIONS_PER_IP", "0")]))
            .unwrap_err();
        assert!(err.to_string().contains("must be at least 1"), "{err}");
    }

    #[test]
    fn external_adapters_require_their_url() {
        let err = StackConfig::from_env(&EnvSource::from_pairs([("STATE_STORE", "postgres")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "DATABASE_URL is required when STATE_STORE=postgres"
        );
        let err =
            StackConfig::from_env(&EnvSource::from_pairs([("CACHE_STORE", "redis")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CACHE_URL is required when CACHE_STORE=redis"
        );
        let config = StackConfig::from_env(&EnvSource::from_pairs([
            ("STATE_STORE", "Postgres"),
            ("DATABASE_URL", "postgres://db/heaven"),
            ("CACHE_STORE", "redis"),
            ("CACHE_URL", "redis://cache:6379"),
        ]))
        .unwrap();
        assert_eq!(config.state_store_url(), "postgres://db/heaven");
        assert_eq!(config.cache_store_url(), "redis://cache:6379");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err =
            StackConfig::from_env(&EnvSource::from_pairs([("API_PORT", "99999")])).unwrap_err();
        assert!(
            err.to_string().starts_with("API_PORT has an invalid value"),
            "{err}"
        );
        let err =
            StackConfig::from_env(&EnvSource::from_pairs([("STATE_STORE", "mysql")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "STATE_STORE has an invalid value \"mysql\": expected one of sqlite, postgres"
        );
    }
}
