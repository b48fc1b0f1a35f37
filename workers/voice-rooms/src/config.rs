//! voice-rooms configuration, read once at start from the environment. `JWT_SECRET` is the
//! original's secret; the nonce limits are new (the original had none). The original's chain
//! variables (`RPC_URL`, `CHAIN_ID`, `REGISTRY_ADDRESS`, `VERIFICATION_MIRROR_ADDRESS`,
//! `ESCROW_*`, `ENVIRONMENT`) configure the credits canister; this worker reads the escrow ones
//! too (`ESCROW_MODE` / `SESSION_ESCROW_MODE`, `RPC_URL`, `ESCROW_ADDRESS`, `CHAIN_ID`) for the
//! booked sessions' reads. Agora, x402 and oracle variables come with the routes that use them.

use http_common::{ConfigError, EnvSource};

/// Limits on login nonces (new: the original had none). Anyone may ask a nonce for any wallet,
/// so both are counted per 10 minutes, shared by replicas through the cache store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceLimits {
    /// `NONCE_LIMIT_PER_IP_10M` (default 60): nonces one client address may ask for.
    pub per_ip: u32,
    /// `NONCE_LIMIT_PER_WALLET_10M` (default 20): nonces issued for one wallet.
    pub per_wallet: u32,
}

/// The whole service configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct VoiceRoomsConfig {
    /// `JWT_SECRET`: HS256 key of the session tokens (shared with whoever mints test tokens).
    pub jwt_secret: String,
    /// Login nonce limits.
    pub nonce_limits: NonceLimits,
    /// Service and admin tokens of the songs registry and the attestation route.
    pub tokens: ServiceTokens,
    /// `AGORA_APP_ID` / `AGORA_APP_CERTIFICATE` (optional: tokens are empty without them, as
    /// in the original).
    pub agora: crate::rooms::AgoraKeys,
    /// The AI host of `ai_enabled` rooms (Agora Conversational AI, LLM and TTS settings).
    pub ai_host: crate::rooms::AiHostConfig,
    /// `ROOMS_DB`: URL of the free rooms' tables (`sqlite:<path>` or `postgres://…`); unset,
    /// the binary picks a default.
    pub rooms_db: Option<String>,
    /// The escrow the booked sessions read.
    pub escrow: crate::escrow::EscrowConfig,
    /// The x402 facilitator of the duet rooms (`X402_FACILITATOR_MODE`, ...).
    pub x402: crate::duet::FacilitatorConfig,
    /// How this process shares the rooms with other replicas of the service.
    pub replica: ReplicaSettings,
}

/// The replica settings: replicas on one shared store (Postgres) each run some rooms and
/// forward the commands of the others' rooms to them (docs/adr/0022).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReplicaSettings {
    /// `ROOMS_REPLICA_ID`, else `HOSTNAME`, else `local`: unique per replica, stable across its
    /// restarts.
    pub id: String,
    /// `ROOMS_PEER_URL`: base URL the other replicas reach this one at (e.g.
    /// `http://10.0.0.5:8790`); unset, the binary uses its own listen address.
    pub peer_url: Option<String>,
    /// `ROOMS_PEER_SECRET`: shared by the replicas; forwarded commands carry it. Unset, the
    /// internal route is off (a single replica needs none).
    pub peer_secret: Option<String>,
    /// `ROOMS_LEASE_TTL_MS` (default 6000): how long a replica that stops renewing keeps its
    /// rooms before its peers take them.
    pub lease_ttl_ms: u64,
}

impl std::fmt::Debug for ReplicaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaSettings")
            .field("id", &self.id)
            .field("peer_url", &self.peer_url)
            .field("peer_secret", &self.peer_secret.as_ref().map(|_| "set"))
            .field("lease_ttl_ms", &self.lease_ttl_ms)
            .finish()
    }
}

impl ReplicaSettings {
    /// The lease timings: renewal and scan at a third of the ttl.
    pub fn replica_config(&self, peer_url: String) -> portability::ReplicaConfig {
        let ttl = std::time::Duration::from_millis(self.lease_ttl_ms);
        let mut config = portability::ReplicaConfig::new(self.id.clone(), peer_url);
        config.ttl = ttl;
        config.renew_every = ttl / 3;
        config.scan_every = ttl / 3;
        config
    }
}

/// Shared secrets of the non-user routes, each `None` when its variable is unset or empty.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServiceTokens {
    /// `SONG_REGISTRY_ADMIN_TOKEN` (trimmed): `Authorization: Bearer <it>` may `POST /songs`.
    pub song_registry_admin: Option<String>,
    /// `ORACLE_SERVICE_TOKEN`: `x-service-token: <it>` may `POST /session/:id/attest`.
    pub oracle_service: Option<String>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |t: &Option<String>| if t.is_some() { "set" } else { "unset" };
        f.debug_struct("ServiceTokens")
            .field("song_registry_admin", &set(&self.song_registry_admin))
            .field("oracle_service", &set(&self.oracle_service))
            .finish()
    }
}

impl std::fmt::Debug for VoiceRoomsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceRoomsConfig")
            .field("jwt_secret", &"..")
            .field("nonce_limits", &self.nonce_limits)
            .field("tokens", &self.tokens)
            .field("agora", &self.agora)
            .field("ai_host", &self.ai_host)
            .field("rooms_db", &self.rooms_db.as_ref().map(|_| ".."))
            .field("escrow", &self.escrow)
            .field("replica", &self.replica)
            .field("x402", &self.x402)
            .finish()
    }
}

impl VoiceRoomsConfig {
    /// Reads the configuration. `dev_jwt_secret` is used when `JWT_SECRET` is unset (the local
    /// stack passes one it generated and keeps); without either, start fails naming the var.
    pub fn from_env(env: &EnvSource, dev_jwt_secret: Option<String>) -> Result<Self, ConfigError> {
        let jwt_secret = match env.optional("JWT_SECRET").or(dev_jwt_secret) {
            Some(secret) => secret,
            None => env.required("JWT_SECRET", "to sign voice-rooms session tokens")?,
        };
        Ok(Self {
            jwt_secret,
            nonce_limits: NonceLimits {
                per_ip: env.positive_or("NONCE_LIMIT_PER_IP_10M", 60)?,
                per_wallet: env.positive_or("NONCE_LIMIT_PER_WALLET_10M", 20)?,
            },
            tokens: ServiceTokens {
                song_registry_admin: env
                    .optional("SONG_REGISTRY_ADMIN_TOKEN")
                    .map(|t| t.trim().to_owned()),
                oracle_service: env.optional("ORACLE_SERVICE_TOKEN"),
            },
            agora: crate::rooms::AgoraKeys {
                app_id: env.optional("AGORA_APP_ID").unwrap_or_default(),
                app_certificate: env.optional("AGORA_APP_CERTIFICATE").unwrap_or_default(),
            },
            ai_host: crate::rooms::AiHostConfig::from_env(env),
            rooms_db: env.optional("ROOMS_DB"),
            escrow: escrow_config(env)?,
            replica: replica_settings(env)?,
            x402: crate::duet::FacilitatorConfig::from_env(env)?,
        })
    }
}

/// `ROOMS_REPLICA_ID`, `ROOMS_PEER_URL`, `ROOMS_PEER_SECRET`, `ROOMS_LEASE_TTL_MS`.
fn replica_settings(env: &EnvSource) -> Result<ReplicaSettings, ConfigError> {
    let settings = ReplicaSettings {
        id: env
            .optional("ROOMS_REPLICA_ID")
            .or_else(|| env.optional("HOSTNAME"))
            .unwrap_or_else(|| "local".into()),
        peer_url: env
            .optional("ROOMS_PEER_URL")
            .map(|url| url.trim_end_matches('/').to_owned()),
        peer_secret: env.optional("ROOMS_PEER_SECRET"),
        lease_ttl_ms: env.positive_or("ROOMS_LEASE_TTL_MS", 6_000)?,
    };
    if settings.lease_ttl_ms < 300 {
        return Err(ConfigError::Invalid {
            var: "ROOMS_LEASE_TTL_MS".into(),
            value: settings.lease_ttl_ms.to_string(),
            message: "must be at least 300 (renewals run every third of it)".into(),
        });
    }
    Ok(settings)
}

/// The escrow variables, with the original's wrangler values as defaults. The mode is
/// `ESCROW_MODE` when set (whatever its value), else `SESSION_ESCROW_MODE`, as the original's
/// `??`; only `mock` is mock.
fn escrow_config(env: &EnvSource) -> Result<crate::escrow::EscrowConfig, ConfigError> {
    let d = crate::escrow::EscrowConfig::default();
    let mode = env
        .optional("ESCROW_MODE")
        .or_else(|| env.optional("SESSION_ESCROW_MODE"));
    Ok(crate::escrow::EscrowConfig {
        mock: mode.as_deref().map(str::trim) == Some("mock"),
        rpc_url: env.optional("RPC_URL").unwrap_or(d.rpc_url),
        address: env.optional("ESCROW_ADDRESS").unwrap_or(d.address),
        chain_id: env.positive_or("CHAIN_ID", d.chain_id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_secret_from_env_or_dev_fallback_or_error() {
        let env = EnvSource::from_pairs([]);
        let err = VoiceRoomsConfig::from_env(&env, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JWT_SECRET is required to sign voice-rooms session tokens"
        );
        let config = VoiceRoomsConfig::from_env(&env, Some("dev".into())).unwrap();
        assert_eq!(config.jwt_secret, "dev");
        assert_eq!(
            config.nonce_limits,
            NonceLimits {
                per_ip: 60,
                per_wallet: 20
            }
        );
        let env = EnvSource::from_pairs([("JWT_SECRET", "real"), ("NONCE_LIMIT_PER_IP_10M", "3")]);
        let config = VoiceRoomsConfig::from_env(&env, Some("dev".into())).unwrap();
        assert_eq!(config.jwt_secret, "real");
        assert_eq!(config.nonce_limits.per_ip, 3);
        assert!(!format!("{config:?}").contains("real"));
        assert_eq!(config.tokens, ServiceTokens::default());
    }

    #[test]
    fn service_tokens_are_optional_and_never_printed() {
        let env = EnvSource::from_pairs([
            ("JWT_SECRET", "j"),
            ("SONG_REGISTRY_ADMIN_TOKEN", "  admin-secret "),
            ("ORACLE_SERVICE_TOKEN", "oracle-secret"),
        ]);
        let config = VoiceRoomsConfig::from_env(&env, None).unwrap();
        assert_eq!(
            config.tokens.song_registry_admin.as_deref(),
            Some("admin-secret")
        );
        assert_eq!(
            config.tokens.oracle_service.as_deref(),
            Some("oracle-secret")
        );
        let printed = format!("{config:?}");
        assert!(!printed.contains("-secret"), "{printed}");
    }

    #[test]
    fn escrow_mode_is_escrow_mode_else_session_escrow_mode() {
        let mode = |pairs: &[(&str, &str)]| {
            let mut all = vec![("JWT_SECRET", "j")];
            all.extend_from_slice(pairs);
            VoiceRoomsConfig::from_env(&EnvSource::from_pairs(all), None)
                .unwrap()
                .escrow
        };
        let live = mode(&[]);
        assert!(!live.mock);
        assert_eq!(live.rpc_url, "https://rpc.moderato.tempo.xyz");
        assert_eq!(live.address, "0xF3B4DB746a874A2197ae21C857e1Ca692C6ED059");
        assert_eq!(live.chain_id, 42431);
        assert!(mode(&[("ESCROW_MODE", "mock")]).mock);
        assert!(mode(&[("SESSION_ESCROW_MODE", "mock")]).mock);
        assert!(!mode(&[("ESCROW_MODE", "live"), ("SESSION_ESCROW_MODE", "mock")]).mock);
        assert_eq!(mode(&[("CHAIN_ID", "5")]).chain_id, 5);
    }
}
