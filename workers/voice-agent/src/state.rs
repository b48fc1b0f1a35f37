//! The application state handed to every handler: configuration, the session book and the
//! upstream clients, built once at start.

use std::sync::Arc;

use portability::StateStore;

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

struct Inner {
    config: VoiceAgentConfig,
    tokens: SessionToken,
    sessions: SessionBook,
    llm: LlmClient,
    agora: AgoraClient,
    honcho: HonchoClient,
    activity: ActivityClient,
}

impl AppState {
    /// State over `store` configured by `config`.
    pub fn new(config: VoiceAgentConfig, store: Arc<dyn StateStore>) -> Self {
        let http = http_client();
        Self {
            inner: Arc::new(Inner {
                tokens: SessionToken::new(&config.jwt_secret),
                sessions: SessionBook::new(store),
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
