//! voice-agent configuration, read once at start from the environment. Names are the
//! original's wrangler vars and secrets; a few are new because the port needs them (marked).

use std::time::Duration;

use http_common::{ConfigError, EnvSource};

/// Default OpenAI-compatible provider (wrangler var `LLM_BASE_URL`).
pub const DEFAULT_LLM_BASE_URL: &str = "https://api.groq.com/openai/v1";
/// Default model (wrangler var `LLM_MODEL`).
pub const DEFAULT_LLM_MODEL: &str = "moonshotai/kimi-k2-instruct-0905";
/// Agora REST host. The original hard-codes it (and never reads `AGORA_REST_BASE`); we read it
/// so tests and staging can point elsewhere.
pub const DEFAULT_AGORA_REST_BASE: &str = "https://api.agora.io";
/// Honcho host (hard-coded in the original; `HONCHO_BASE_URL` is new).
pub const DEFAULT_HONCHO_BASE_URL: &str = "https://api.honcho.dev";
/// Activity subgraph (wrangler var `SUBGRAPH_URL`).
pub const DEFAULT_SUBGRAPH_URL: &str =
    "https://graph.dotheaven.org/subgraphs/name/dotheaven/music-social-tempo";
/// Default ElevenLabs voice handed to Agora TTS.
pub const DEFAULT_ELEVENLABS_VOICE_ID: &str = "rf0RyZGEDtFGS4U6yghI";

/// The OpenAI-compatible LLM provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmConfig {
    /// `LLM_BASE_URL`.
    pub base_url: String,
    /// `LLM_MODEL` (chat routes fall back to `anthropic/claude-sonnet-4` when empty).
    pub model: String,
    /// `LLM_API_KEY`; without it the LLM routes answer as the original does when the provider
    /// refuses the call (503 `AI temporarily unavailable`), without calling it.
    pub api_key: Option<String>,
}

/// Agora Conversational AI and RTC tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgoraConfig {
    /// `AGORA_REST_BASE` (see [`DEFAULT_AGORA_REST_BASE`]).
    pub rest_base: String,
    /// `AGORA_APP_ID`.
    pub app_id: Option<String>,
    /// `AGORA_APP_CERT`.
    pub app_cert: Option<String>,
    /// `AGORA_REST_AUTH`: `customerId:customerSecret`, sent base64-encoded as Basic auth.
    pub rest_auth: String,
    /// `AGORA_CUSTOM_LLM_BEARER_PREFIX` (default `neo_`): prefix of each session's LLM secret.
    pub bearer_prefix: String,
    /// `ELEVENLABS_API_KEY` (empty when unset).
    pub elevenlabs_api_key: String,
    /// `ELEVENLABS_VOICE_ID`.
    pub elevenlabs_voice_id: String,
}

/// Honcho memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HonchoConfig {
    /// `HONCHO_BASE_URL` (new).
    pub base_url: String,
    /// `HONCHO_API_KEY`: no Honcho call without it.
    pub api_key: Option<String>,
    /// `PSEUDONYM_SECRET`: HMAC key of the peer ids.
    pub pseudonym_secret: Option<String>,
}

/// Streaming behaviour (all new: the original had none of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamingConfig {
    /// `SSE_KEEPALIVE_SECS` (default 15, 0 = off): keep-alive comment on idle `/chat/stream`s.
    pub keepalive: Option<Duration>,
    /// `LLM_STREAM_IDLE_TIMEOUT_SECS` (default 120): end a stream whose upstream is silent.
    pub upstream_idle_timeout: Duration,
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceAgentConfig {
    /// `JWT_SECRET`: HS256 key of the session tokens.
    pub jwt_secret: String,
    /// The LLM provider.
    pub llm: LlmConfig,
    /// Agora.
    pub agora: AgoraConfig,
    /// Honcho.
    pub honcho: HonchoConfig,
    /// `SUBGRAPH_URL`: activity context, skipped when `None`.
    pub subgraph_url: Option<String>,
    /// `WEBHOOK_SECRET`: guards `/webhook/agora` when set.
    pub webhook_secret: Option<String>,
    /// `PUBLIC_BASE_URL` (new): base of the custom-LLM URL handed to Agora. Without it the URL
    /// is built from the request (`X-Forwarded-Proto`, `Host`), as the original built it from
    /// the request URL.
    pub public_base_url: Option<String>,
    /// Streaming.
    pub streaming: StreamingConfig,
    /// Login nonce limits.
    pub nonce_limits: NonceLimits,
}

impl VoiceAgentConfig {
    /// Reads the configuration. `dev_jwt_secret` is used when `JWT_SECRET` is unset (the local
    /// stack passes one it generated and keeps); without either, start fails naming the var.
    pub fn from_env(env: &EnvSource, dev_jwt_secret: Option<String>) -> Result<Self, ConfigError> {
        let jwt_secret = match env.optional("JWT_SECRET").or(dev_jwt_secret) {
            Some(secret) => secret,
            None => env.required("JWT_SECRET", "to sign voice-agent session tokens")?,
        };
        let keepalive_secs: u64 = env.parse_or("SSE_KEEPALIVE_SECS", 15)?;
        let idle_secs: u64 = env.positive_or("LLM_STREAM_IDLE_TIMEOUT_SECS", 120)?;
        Ok(Self {
            jwt_secret,
            llm: LlmConfig {
                base_url: env
                    .optional("LLM_BASE_URL")
                    .unwrap_or_else(|| DEFAULT_LLM_BASE_URL.into()),
                model: env
                    .optional("LLM_MODEL")
                    .unwrap_or_else(|| DEFAULT_LLM_MODEL.into()),
                api_key: env.optional("LLM_API_KEY"),
            },
            agora: AgoraConfig {
                rest_base: env
                    .optional("AGORA_REST_BASE")
                    .unwrap_or_else(|| DEFAULT_AGORA_REST_BASE.into()),
                app_id: env.optional("AGORA_APP_ID"),
                app_cert: env.optional("AGORA_APP_CERT"),
                rest_auth: env.optional("AGORA_REST_AUTH").unwrap_or_default(),
                bearer_prefix: env
                    .optional("AGORA_CUSTOM_LLM_BEARER_PREFIX")
                    .unwrap_or_else(|| "neo_".into()),
                elevenlabs_api_key: env.optional("ELEVENLABS_API_KEY").unwrap_or_default(),
                elevenlabs_voice_id: env
                    .optional("ELEVENLABS_VOICE_ID")
                    .unwrap_or_else(|| DEFAULT_ELEVENLABS_VOICE_ID.into()),
            },
            honcho: HonchoConfig {
                base_url: env
                    .optional("HONCHO_BASE_URL")
                    .unwrap_or_else(|| DEFAULT_HONCHO_BASE_URL.into()),
                api_key: env.optional("HONCHO_API_KEY"),
                pseudonym_secret: env.optional("PSEUDONYM_SECRET"),
            },
            subgraph_url: Some(
                env.optional("SUBGRAPH_URL")
                    .unwrap_or_else(|| DEFAULT_SUBGRAPH_URL.into()),
            )
            .filter(|url| url != "off"),
            webhook_secret: env.optional("WEBHOOK_SECRET"),
            public_base_url: env
                .optional("PUBLIC_BASE_URL")
                .map(|url| url.trim_end_matches('/').to_owned()),
            streaming: StreamingConfig {
                keepalive: (keepalive_secs > 0).then(|| Duration::from_secs(keepalive_secs)),
                upstream_idle_timeout: Duration::from_secs(idle_secs),
            },
            nonce_limits: NonceLimits {
                per_ip: env.positive_or("NONCE_LIMIT_PER_IP_10M", 60)?,
                per_wallet: env.positive_or("NONCE_LIMIT_PER_WALLET_10M", 20)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_originals() {
        let config =
            VoiceAgentConfig::from_env(&EnvSource::from_pairs([("JWT_SECRET", "s")]), None)
                .unwrap();
        assert_eq!(config.llm.base_url, DEFAULT_LLM_BASE_URL);
        assert_eq!(config.llm.model, DEFAULT_LLM_MODEL);
        assert_eq!(config.llm.api_key, None);
        assert_eq!(config.agora.bearer_prefix, "neo_");
        assert_eq!(
            config.agora.elevenlabs_voice_id,
            DEFAULT_ELEVENLABS_VOICE_ID
        );
        assert_eq!(config.subgraph_url.as_deref(), Some(DEFAULT_SUBGRAPH_URL));
        assert_eq!(config.streaming.keepalive, Some(Duration::from_secs(15)));
        assert_eq!(
            config.nonce_limits,
            NonceLimits {
                per_ip: 60,
                per_wallet: 20
            }
        );
    }

    #[test]
    fn jwt_secret_from_env_or_dev_fallback_or_error() {
        let env = EnvSource::from_pairs([]);
        let err = VoiceAgentConfig::from_env(&env, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JWT_SECRET is required to sign voice-agent session tokens"
        );
        let config = VoiceAgentConfig::from_env(&env, Some("dev".into())).unwrap();
        assert_eq!(config.jwt_secret, "dev");
        let env = EnvSource::from_pairs([("JWT_SECRET", "real"), ("SSE_KEEPALIVE_SECS", "0")]);
        let config = VoiceAgentConfig::from_env(&env, Some("dev".into())).unwrap();
        assert_eq!(config.jwt_secret, "real");
        assert_eq!(config.streaming.keepalive, None);
    }

    #[test]
    fn subgraph_can_be_switched_off() {
        let env = EnvSource::from_pairs([("JWT_SECRET", "s"), ("SUBGRAPH_URL", "off")]);
        assert_eq!(
            VoiceAgentConfig::from_env(&env, None).unwrap().subgraph_url,
            None
        );
    }
}
