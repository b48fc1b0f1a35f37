//! voice-rooms configuration, read once at start from the environment. `JWT_SECRET` is the
//! original's secret; the nonce limits are new (the original had none). The original's chain
//! variables (`RPC_URL`, `CHAIN_ID`, `REGISTRY_ADDRESS`, `VERIFICATION_MIRROR_ADDRESS`,
//! `ESCROW_*`, `ENVIRONMENT`) configure the credits canister, not this worker; Agora, x402 and
//! oracle variables come with the routes that use them.

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
    /// `ROOMS_DB`: URL of the free rooms' tables (`sqlite:<path>` or `postgres://…`); unset,
    /// the binary picks a default.
    pub rooms_db: Option<String>,
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
            .field("rooms_db", &self.rooms_db.as_ref().map(|_| ".."))
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
            rooms_db: env.optional("ROOMS_DB"),
        })
    }
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
}
