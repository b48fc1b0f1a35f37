//! Agora Conversational AI over REST: `POST <base>/api/conversational-ai-agent/v2/projects/
//! <app_id>/join` with a JSON body (answer: `agent_id`) and `…/agents/<agent_id>/leave`, both
//! with `Authorization: Basic base64(AGORA_REST_AUTH)` (`customerId:customerSecret`).
//!
//! The transport only: each caller builds its own `join` body (voice-agent's coach agent,
//! voice-rooms' room host).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Path of the Conversational AI projects under the REST base.
pub const PROJECTS_PATH: &str = "/api/conversational-ai-agent/v2/projects";

/// Agora's REST host (`AGORA_REST_BASE` overrides it).
pub const DEFAULT_REST_BASE: &str = "https://api.agora.io";

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CaiError {
    /// No response.
    #[error("Agora request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// A non-2xx answer (its `message` or `error`), a body that is not JSON, or no `agent_id`.
    #[error("Agora refused: {0}")]
    Refused(String),
}

/// The REST client of one Agora project.
#[derive(Clone)]
pub struct CaiClient {
    http: reqwest::Client,
    rest_base: String,
    rest_auth: String,
    app_id: String,
}

impl std::fmt::Debug for CaiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaiClient")
            .field("rest_base", &self.rest_base)
            .field("rest_auth", &"..")
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl CaiClient {
    /// A client for project `app_id` at `rest_base` authenticated with `rest_auth`.
    pub fn new(http: reqwest::Client, rest_base: &str, rest_auth: &str, app_id: &str) -> Self {
        Self {
            http,
            rest_base: rest_base.trim_end_matches('/').to_owned(),
            rest_auth: rest_auth.to_owned(),
            app_id: app_id.to_owned(),
        }
    }

    fn basic_auth(&self) -> String {
        format!("Basic {}", STANDARD.encode(self.rest_auth.as_bytes()))
    }

    fn projects_url(&self) -> String {
        format!("{}{PROJECTS_PATH}/{}", self.rest_base, self.app_id)
    }

    /// Starts an agent with `body`; answers its `agent_id`.
    pub async fn join(&self, body: &Value) -> Result<String, CaiError> {
        let response = self
            .http
            .post(format!("{}/join", self.projects_url()))
            .header("Authorization", self.basic_auth())
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let data: Value = serde_json::from_str(&text)
            .map_err(|_| CaiError::Refused(format!("non-JSON answer with status {status}")))?;
        if !status.is_success() {
            let message = ["message", "error"]
                .iter()
                .find_map(|k| {
                    data.get(k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                })
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Agora API error: {}", status.as_u16()));
            return Err(CaiError::Refused(message));
        }
        data.get("agent_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| CaiError::Refused("No agent_id in Agora response".into()))
    }

    /// Asks Agora to remove the agent (no body). A non-2xx answer is only logged, as in the
    /// original; a transport failure is returned.
    pub async fn leave(&self, agent_id: &str) -> Result<(), CaiError> {
        let response = self
            .http
            .post(format!("{}/agents/{agent_id}/leave", self.projects_url()))
            .header("Authorization", self.basic_auth())
            .header("Content-Type", "application/json")
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), agent_id, "Agora leave refused");
        }
        Ok(())
    }
}
