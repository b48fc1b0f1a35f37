//! Agora Conversational AI: starting an agent on a channel (pointed at our custom-LLM URL with
//! the session's bearer secret) and stopping it, over Agora's REST API with Basic auth
//! (`AGORA_REST_AUTH` = `customerId:customerSecret`).

use agora::cai::{CaiClient, CaiError};
use rand::Rng;
use serde_json::{Value, json};

use super::rtc_token::{RtcGrant, build_rtc_token};
use crate::config::AgoraConfig;

/// Path of the Conversational AI projects under the REST base (the shared client's).
pub use agora::cai::PROJECTS_PATH;

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
    /// No response, a non-2xx answer, a body that is not JSON, or no `agent_id` (the shared
    /// client's errors, messages unchanged).
    #[error(transparent)]
    Cai(#[from] CaiError),
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

    fn cai(&self, app_id: &str) -> CaiClient {
        CaiClient::new(
            self.http.clone(),
            &self.config.rest_base,
            &self.config.rest_auth,
            app_id,
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
        let agent_id = self.cai(app_id).join(&body).await?;
        Ok(AgentStarted {
            agent_id,
            rtc_token: token_for(user_uid),
            user_uid,
        })
    }

    /// Asks Agora to remove the agent. A non-2xx answer is only logged, as in the original.
    pub async fn stop_agent(&self, agent_id: &str) -> Result<(), AgoraError> {
        let Some(app_id) = &self.config.app_id else {
            return Err(AgoraError::NotConfigured("AGORA_APP_ID"));
        };
        Ok(self.cai(app_id).leave(agent_id).await?)
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
