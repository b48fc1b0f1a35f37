//! The application state handed to every handler: configuration, the session book and the
//! upstream clients, built once at start.

use std::sync::Arc;
use std::time::Duration;

use http_common::BackgroundTasks;
use portability::{CacheStore, RateLimit, StateStore};

use crate::auth::SessionToken;
use crate::config::VoiceAgentConfig;
use crate::sessions::SessionBook;
use crate::upstream::activity::ActivityClient;
use crate::upstream::agora::AgoraClient;
use crate::upstream::honcho::HonchoClient;
use crate::upstream::http_client;
use crate::upstream::llm::LlmClient;

/// Shared, cheaply clonable state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// What the service runs on, handed in by the binary.
#[derive(Clone)]
pub struct Resources {
    /// Nonces and sessions.
    pub state: Arc<dyn StateStore>,
    /// Shared rate-limit counters.
    pub cache: Arc<dyn CacheStore>,
    /// Work a request leaves running (memory writes), drained on shutdown.
    pub background: BackgroundTasks,
}

/// The login-nonce limits of [`crate::config::NonceLimits`] as shared limiters.
pub struct NonceLimiters {
    /// Per client address.
    pub per_ip: RateLimit,
    /// Per wallet.
    pub per_wallet: RateLimit,
}

struct Inner {
    config: VoiceAgentConfig,
    cache: Arc<dyn CacheStore>,
    background: BackgroundTasks,
    nonce_limiters: NonceLimiters,
    tokens: SessionToken,
    sessions: SessionBook,
    llm: LlmClient,
    agora: AgoraClient,
    honcho: HonchoClient,
    activity: ActivityClient,
}

impl AppState {
    /// State over `resources` configured by `config`.
    pub fn new(config: VoiceAgentConfig, resources: Resources) -> Self {
        let http = http_client();
        let window = Duration::from_secs(10 * 60);
        let limits = config.nonce_limits;
        Self {
            inner: Arc::new(Inner {
                cache: resources.cache,
                background: resources.background,
                nonce_limiters: NonceLimiters {
                    per_ip: RateLimit::new("voice-agent/nonce/ip", limits.per_ip, window),
                    per_wallet: RateLimit::new(
                        "voice-agent/nonce/wallet",
                        limits.per_wallet,
                        window,
                    ),
                },
                tokens: SessionToken::new(&config.jwt_secret),
                sessions: SessionBook::new(resources.state),
                llm: LlmClient::new(http.clone(), &config.llm),
                agora: AgoraClient::new(http.clone(), config.agora.clone()),
                honcho: HonchoClient::new(http.clone(), config.honcho.clone()),
                activity: ActivityClient::new(http, config.subgraph_url.clone()),
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VoiceAgentConfig {
        &self.inner.config
    }

    /// The cache store (rate-limit counters).
    pub fn cache(&self) -> &dyn CacheStore {
        self.inner.cache.as_ref()
    }

    /// Background work started by requests.
    pub fn background(&self) -> &BackgroundTasks {
        &self.inner.background
    }

    /// Login-nonce limiters.
    pub fn nonce_limiters(&self) -> &NonceLimiters {
        &self.inner.nonce_limiters
    }

    /// Session-token issuer and verifier.
    pub fn tokens(&self) -> &SessionToken {
        &self.inner.tokens
    }

    /// Nonces and sessions.
    pub fn sessions(&self) -> &SessionBook {
        &self.inner.sessions
    }

    /// The LLM provider.
    pub fn llm(&self) -> &LlmClient {
        &self.inner.llm
    }

    /// Agora.
    pub fn agora(&self) -> &AgoraClient {
        &self.inner.agora
    }

    /// Honcho.
    pub fn honcho(&self) -> &HonchoClient {
        &self.inner.honcho
    }

    /// The activity subgraph.
    pub fn activity(&self) -> &ActivityClient {
        &self.inner.activity
    }

    /// Memory of `wallet` and activity of `activity_wallet`, fetched in parallel, joined as
    /// the prompt's context (empty when there is none).
    pub async fn user_context(&self, wallet: &str, activity_wallet: &str) -> String {
        let (memory, activity) = tokio::join!(
            self.honcho().user_memory(wallet),
            self.activity().context(activity_wallet, now_ms() / 1000),
        );
        crate::chat::context_blob(memory.as_deref(), activity.as_deref())
    }
}

/// Wall-clock time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
