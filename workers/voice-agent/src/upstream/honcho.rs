//! Honcho memory (workspace `HEAVEN1`): the user's remembered context, voice-session setup and
//! transcript writes. Every failure is logged and swallowed: Honcho never changes a response.
//!
//! Peers are pseudonymous: the first 22 characters of unpadded base64url
//! HMAC-SHA256(`PSEUDONYM_SECRET`, lowercase wallet). The agent is the peer `agent_scarlett`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::config::HonchoConfig;

/// Honcho workspace of the voice agent.
pub const WORKSPACE: &str = "HEAVEN1";
/// The agent's peer id.
pub const AGENT_PEER_ID: &str = "agent_scarlett";
/// The question asked of a user's peer to build context (the original's, verbatim).
pub const MEMORY_QUERY: &str = "What do you know about this person? Include their dating preferences, relationship goals, past conversations, and any personal context they've shared.";

/// Honcho client.
#[derive(Clone, Debug)]
pub struct HonchoClient {
    http: reqwest::Client,
    config: HonchoConfig,
}

impl HonchoClient {
    /// A client for `config`.
    pub fn new(http: reqwest::Client, config: HonchoConfig) -> Self {
        Self { http, config }
    }

    /// Whether writes can happen (`HONCHO_API_KEY` and `PSEUDONYM_SECRET` both set).
    pub fn can_write(&self) -> bool {
        self.config.api_key.is_some() && self.config.pseudonym_secret.is_some()
    }

    /// The pseudonymous peer id of `wallet`, or `None` without `PSEUDONYM_SECRET`.
    pub fn pseudonym(&self, wallet: &str) -> Option<String> {
        let secret = self.config.pseudonym_secret.as_deref()?;
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
        mac.update(wallet.to_lowercase().as_bytes());
        let mut encoded = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        encoded.truncate(22);
        Some(encoded)
    }

    async fn post(&self, path: &str, body: Value) -> Option<reqwest::Response> {
        let api_key = self.config.api_key.as_deref()?;
        let url = format!(
            "{}/v2/workspaces/{WORKSPACE}{path}",
            self.config.base_url.trim_end_matches('/')
        );
        match self
            .http
            .post(url)
            .bearer_auth(api_key)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .timeout(std::time::Duration::from_secs(20))
            .send()
            .await
        {
            Ok(response) => Some(response),
            Err(err) => {
                tracing::warn!(error = %err, path, "Honcho call failed");
                None
            }
        }
    }

    async fn ensure_peer(&self, peer: &str) {
        if let Some(response) = self.post("/peers", json!({ "id": peer })).await
            && !response.status().is_success()
            && response.status().as_u16() != 409
        {
            tracing::warn!(status = %response.status(), "Honcho peer creation refused");
        }
    }

    /// What Honcho remembers about `wallet`, or `None` (unconfigured, unknown or failed).
    pub async fn user_memory(&self, wallet: &str) -> Option<String> {
        self.config.api_key.as_ref()?;
        let peer = self.pseudonym(wallet)?;
        self.ensure_peer(&peer).await;
        let response = self
            .post(
                &format!("/peers/{peer}/chat"),
                json!({ "query": MEMORY_QUERY }),
            )
            .await?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "Honcho memory query refused");
            return None;
        }
        let data: Value = response.json().await.ok()?;
        data.get("content")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// Creates (or finds) the Honcho session of a voice session and adds both peers.
    pub async fn init_voice_session(&self, wallet: &str, session_id: &str) -> Option<String> {
        self.config.api_key.as_ref()?;
        let user_peer = self.pseudonym(wallet)?;
        let wanted = voice_session_id(session_id);
        let response = self.post("/sessions", json!({ "id": wanted })).await?;
        let honcho_session = if response.status().is_success() {
            let data: Value = response.json().await.ok()?;
            data.get("id")?.as_str()?.to_owned()
        } else if response.status().as_u16() == 409 {
            wanted
        } else {
            tracing::warn!(status = %response.status(), "Honcho session creation refused");
            return None;
        };
        self.ensure_peer(&user_peer).await;
        self.ensure_peer(AGENT_PEER_ID).await;
        for (peer, observe_me) in [(user_peer.as_str(), true), (AGENT_PEER_ID, false)] {
            let body = json!({ "peers": { peer: { "observeMe": observe_me } } });
            if let Some(response) = self
                .post(&format!("/sessions/{honcho_session}/peers"), body)
                .await
                && !response.status().is_success()
                && response.status().as_u16() != 409
            {
                tracing::warn!(status = %response.status(), "Honcho add-peer refused");
            }
        }
        Some(honcho_session)
    }

    /// Appends one message to a Honcho session (skipped without an API key).
    pub async fn add_message(&self, session: &str, peer: &str, content: &str, is_user: bool) {
        let body =
            json!({ "messages": [{ "content": content, "peer_id": peer, "is_user": is_user }] });
        if let Some(response) = self
            .post(&format!("/sessions/{session}/messages/"), body)
            .await
            && !response.status().is_success()
        {
            tracing::warn!(status = %response.status(), "Honcho message refused");
        }
    }

    /// Stores a text-chat exchange: a fresh `chat_<wallet prefix>_<ms>` session, both messages
    /// under the user's peer (as the original does).
    pub async fn store_chat_exchange(
        &self,
        wallet: &str,
        user: &str,
        assistant: &str,
        now_ms: i64,
    ) {
        let Some(peer) = self.pseudonym(wallet) else {
            return;
        };
        let prefix: String = wallet.chars().take(10).collect();
        let session = format!("chat_{prefix}_{now_ms}");
        self.add_message(&session, &peer, user, true).await;
        self.add_message(&session, &peer, assistant, false).await;
    }
}

/// `voice_<session id with [^A-Za-z0-9_-] replaced by _>`.
pub fn voice_session_id(session_id: &str) -> String {
    let sanitized: String = session_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("voice_{sanitized}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_22_chars_of_hmac_over_lowercase_wallet() {
        let client = HonchoClient::new(
            reqwest::Client::new(),
            HonchoConfig {
                base_url: "http://x".into(),
                api_key: None,
                pseudonym_secret: Some("pepper".into()),
            },
        );
        let a = client
            .pseudonym("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
            .unwrap();
        let b = client
            .pseudonym("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 22);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"pepper").unwrap();
        mac.update(b"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
        assert_eq!(a, URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())[..22]);
    }

    #[test]
    fn voice_session_ids_are_sanitised() {
        assert_eq!(voice_session_id("ab-1_c.d e"), "voice_ab-1_c_d_e");
    }
}
