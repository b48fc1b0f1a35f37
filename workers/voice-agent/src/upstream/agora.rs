//! Agora Conversational AI: starting an agent on a channel (pointed at our custom-LLM URL with
//! the session's bearer secret) and stopping it, over Agora's REST API with Basic auth
//! (`AGORA_REST_AUTH` = `customerId:customerSecret`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use serde_json::{Value, json};

use super::rtc_token::{RtcGrant, build_rtc_token};
use crate::config::AgoraConfig;

/// Path of the Conversational AI projects under the REST base.
pub const PROJECTS_PATH: &str = "/api/conversational-ai-agent/v2/projects";

/// Lifetime given to RTC tokens. The original passed an absolute timestamp where
/// `agora-token` expects seconds from now (a ~56-year token that Agora caps); we ask for
/// Agora's documented maximum, 24 hours, deliberately.
pub const RTC_TOKEN_LIFETIME_SECS: u32 = 24 * 60 * 60;

/// The voice persona Agora's agent speaks with (the original's prompt, verbatim).
pub const VOICE_SYSTEM_PROMPT: &str = "You are Scarlett, a warm and insightful AI lifecoach on Heaven.\n\nCRITICAL: Keep responses SHORT. This is voice conversation - 1-2 sentences max. Be conversational, not clinical.\n\nYour role:\n- Help users improve their dating profiles and approach\n- Give honest, constructive feedback on their photos and bio\n- Coach them on conversation skills and first date ideas\n- Be supportive but direct - users want real advice, not flattery\n- If their Recent Activity shows music, sleep, runs, or meals, weave it in naturally (e.g. \"I see you were up late\" or \"nice run today\")\n\nNever:\n- Use emojis or special characters (this is spoken aloud via TTS)\n- Give long explanations or lists\n- Be judgmental about their dating history\n- Make assumptions about gender or orientation\n\nYou have context about the user in the User Context section. Reference it naturally when relevant.";

/// Why Agora could not be used (every case is a 500 for the client, as in the original).
#[derive(Debug, thiserror::Error)]
pub enum AgoraError {
    /// `AGORA_APP_ID` / `AGORA_APP_CERT` missing.
    #[error("{0} required")]
    NotConfigured(&'static str),
    /// No response.
    #[error("Agora request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// A non-2xx answer, a body that is not JSON, or no `agent_id`.
    #[error("Agora refused: {0}")]
    Refused(String),
}

/// A started agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStarted {
    /// The agent id Agora assigned.
    pub agent_id: String,
    /// The user's RTC token for the channel.
    pub rtc_token: String,
    /// The uid the user joins with.
    pub user_uid: u32,
}

/// Agora REST client.
#[derive(Clone, Debug)]
pub struct AgoraClient {
    http: reqwest::Client,
    config: AgoraConfig,
}

impl AgoraClient {
    /// A client for `config`.
    pub fn new(http: reqwest::Client, config: AgoraConfig) -> Self {
        Self { http, config }
    }

    fn basic_auth(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(self.config.rest_auth.as_bytes())
        )
    }

    fn projects_url(&self, app_id: &str) -> String {
        format!(
            "{}{PROJECTS_PATH}/{app_id}",
            self.config.rest_base.trim_end_matches('/')
        )
    }

    /// Starts an agent on `channel` whose LLM is `llm_url` with bearer `llm_api_key`.
    pub async fn start_agent(
        &self,
        channel: &str,
        llm_url: &str,
        llm_api_key: &str,
        now_ms: i64,
    ) -> Result<AgentStarted, AgoraError> {
        let (Some(app_id), Some(app_cert)) = (&self.config.app_id, &self.config.app_cert) else {
            return Err(AgoraError::NotConfigured("AGORA_APP_ID and AGORA_APP_CERT"));
        };
        let user_uid: u32 = rand::thread_rng().gen_range(1000..=10999);
        let token_for = |uid: u32| {
            build_rtc_token(&RtcGrant {
                app_id,
                app_cert,
                channel,
                uid,
                issued_at: (now_ms / 1000) as u32,
                lifetime_secs: RTC_TOKEN_LIFETIME_SECS,
                salt: rand::thread_rng().gen_range(1..=99_999_999),
            })
        };
        let body = join_request(
            &self.config,
            channel,
            &token_for(0),
            user_uid,
            llm_url,
            llm_api_key,
            now_ms,
        );
        let response = self
            .http
            .post(format!("{}/join", self.projects_url(app_id)))
            .header("Authorization", self.basic_auth())
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let data: Value = serde_json::from_str(&text)
            .map_err(|_| AgoraError::Refused(format!("non-JSON answer with status {status}")))?;
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
            return Err(AgoraError::Refused(message));
        }
        let agent_id = data
            .get("agent_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| AgoraError::Refused("No agent_id in Agora response".into()))?;
        Ok(AgentStarted {
            agent_id: agent_id.to_owned(),
            rtc_token: token_for(user_uid),
            user_uid,
        })
    }

    /// Asks Agora to remove the agent. A non-2xx answer is only logged, as in the original.
    pub async fn stop_agent(&self, agent_id: &str) -> Result<(), AgoraError> {
        let Some(app_id) = &self.config.app_id else {
            return Err(AgoraError::NotConfigured("AGORA_APP_ID"));
        };
        let response = self
            .http
            .post(format!(
                "{}/agents/{agent_id}/leave",
                self.projects_url(app_id)
            ))
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

/// The `join` body: channel and token, the custom LLM, ASR, ElevenLabs TTS and VAD settings.
fn join_request(
    config: &AgoraConfig,
    channel: &str,
    agent_token: &str,
    user_uid: u32,
    llm_url: &str,
    llm_api_key: &str,
    now_ms: i64,
) -> Value {
    json!({
        "name": format!("neo_agent_{now_ms}"),
        "properties": {
            "channel": channel,
            "token": agent_token,
            "agent_rtc_uid": "0",
            "remote_rtc_uids": [user_uid.to_string()],
            "enable_string_uid": false,
            "idle_timeout": 300,
            "llm": {
                "url": llm_url,
                "api_key": llm_api_key,
                "system_messages": [{"role": "system", "content": VOICE_SYSTEM_PROMPT}],
                "greeting_message": "Hey! I'm Scarlett, your dating coach. What's on your mind?",
                "failure_message": "Hmm... Something went wrong.",
                "max_history": 10
            },
            "asr": {"language": "en-US"},
            "tts": {
                "vendor": "elevenlabs",
                "params": {
                    "base_url": "wss://api.elevenlabs.io/v1",
                    "key": config.elevenlabs_api_key,
                    "model_id": "eleven_flash_v2_5",
                    "voice_id": config.elevenlabs_voice_id,
                    "sample_rate": 24000
                }
            },
            "vad": {
                "silence_duration_ms": 800,
                "speech_duration_ms": 10000,
                "threshold": 0.5,
                "interrupt_duration_ms": 600,
                "prefix_padding_ms": 500
            }
        }
    })
}
