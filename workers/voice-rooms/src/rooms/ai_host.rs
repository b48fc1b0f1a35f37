//! The AI host of `ai_enabled` free rooms (contract §6): an Agora Conversational AI agent,
//! "Scarlett", started when the first participant joins and stopped when the room ends, over
//! the shared REST client [`agora::cai::CaiClient`].
//!
//! Neither call runs inside a room command: the room marks the start as pending and the
//! caller ([`super::Rooms::call`]) spawns it; the agent id comes back to the room as an
//! [`super::RoomCommand::AgentStarted`] and is kept in the room's persisted state, so a
//! restarted worker can still stop it. Stops are spawned by the room when its state loses the
//! agent id. Both run on the service's [`BackgroundTasks`] (drained on shutdown); failures
//! are only logged, as in the original.

use agora::cai::{CaiClient, DEFAULT_REST_BASE};
use agora::{RtcGrant, build_rtc_token};
use http_common::{BackgroundTasks, EnvSource};
use rand::Rng;
use serde_json::{Value, json};

use super::agora::AgoraKeys;

/// The agent's RTC uid (0: Agora's "any").
pub const AGENT_UID: u32 = 0;
/// Lifetime of the agent's publisher token.
pub const AGENT_TOKEN_TTL_SECONDS: u32 = 3600;
/// `ELEVENLABS_VOICE_ID` when unset.
pub const DEFAULT_VOICE_ID: &str = "rf0RyZGEDtFGS4U6yghI";
/// `LLM_BASE_URL` when unset.
pub const DEFAULT_LLM_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// The room host's persona (our wording of the original's brief).
pub const ROOM_HOST_PROMPT: &str = "You are Scarlett, the friendly host of a Heaven voice room.\n\nThis is a spoken conversation: answer in one or two short sentences, never in lists, and without emojis or special characters.\n\nWhat you do:\n- Greet people as they arrive\n- Keep the talk going with light questions and warm, playful remarks\n- If people talk about music, join in about the songs\n\nWhat you never do:\n- Lecture or explain at length\n- Judge anyone\n- Take over the room: the people are the show, you only keep it lively";
/// What the agent says first.
pub const GREETING: &str = "Hi, I'm Scarlett! Welcome to the room.";
/// What the agent says when its LLM fails.
pub const FAILURE_MESSAGE: &str = "Hmm... Something went wrong.";

/// The agent's settings: `AGORA_REST_BASE`, `AGORA_REST_AUTH`, `LLM_BASE_URL`,
/// `LLM_API_KEY`, `ELEVENLABS_API_KEY`, `ELEVENLABS_VOICE_ID`.
#[derive(Clone, PartialEq, Eq)]
pub struct AiHostConfig {
    /// Agora REST host (default `https://api.agora.io`).
    pub rest_base: String,
    /// `customerId:customerSecret`; without it no agent starts (logged).
    pub rest_auth: Option<String>,
    /// OpenAI-compatible base; the agent calls `<it>/chat/completions`.
    pub llm_base_url: String,
    /// LLM key handed to Agora.
    pub llm_api_key: String,
    /// ElevenLabs key handed to Agora.
    pub elevenlabs_api_key: String,
    /// ElevenLabs voice.
    pub elevenlabs_voice_id: String,
}

impl std::fmt::Debug for AiHostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiHostConfig")
            .field("rest_base", &self.rest_base)
            .field("rest_auth", &self.rest_auth.as_ref().map(|_| ".."))
            .field("llm_base_url", &self.llm_base_url)
            .finish_non_exhaustive()
    }
}

impl AiHostConfig {
    /// Reads the variables (all optional).
    pub fn from_env(env: &EnvSource) -> Self {
        Self {
            rest_base: env
                .optional("AGORA_REST_BASE")
                .unwrap_or_else(|| DEFAULT_REST_BASE.to_owned()),
            rest_auth: env.optional("AGORA_REST_AUTH"),
            llm_base_url: env
                .optional("LLM_BASE_URL")
                .unwrap_or_else(|| DEFAULT_LLM_BASE_URL.to_owned()),
            llm_api_key: env.optional("LLM_API_KEY").unwrap_or_default(),
            elevenlabs_api_key: env.optional("ELEVENLABS_API_KEY").unwrap_or_default(),
            elevenlabs_voice_id: env
                .optional("ELEVENLABS_VOICE_ID")
                .unwrap_or_else(|| DEFAULT_VOICE_ID.to_owned()),
        }
    }
}

/// Starts and stops room agents in the background.
#[derive(Clone, Debug)]
pub struct AiHost {
    config: AiHostConfig,
    keys: AgoraKeys,
    http: reqwest::Client,
    tasks: BackgroundTasks,
}

impl AiHost {
    /// The host for `config` and the project `keys`, its calls spawned on `tasks`.
    pub fn new(config: AiHostConfig, keys: AgoraKeys, tasks: BackgroundTasks) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            config,
            keys,
            http,
            tasks,
        }
    }

    /// The tasks its calls run on.
    pub fn tasks(&self) -> &BackgroundTasks {
        &self.tasks
    }

    fn client(&self) -> Result<CaiClient, String> {
        if self.keys.app_id.is_empty() || self.keys.app_certificate.is_empty() {
            return Err("AGORA_APP_ID and AGORA_APP_CERTIFICATE required".into());
        }
        let Some(auth) = &self.config.rest_auth else {
            return Err("AGORA_REST_AUTH required for CAI agent".into());
        };
        Ok(CaiClient::new(
            self.http.clone(),
            &self.config.rest_base,
            auth,
            &self.keys.app_id,
        ))
    }

    /// Starts an agent on `channel` (`now`: Unix seconds); answers its id.
    pub async fn start(&self, channel: &str, now: i64) -> Result<String, String> {
        let client = self.client()?;
        let token = build_rtc_token(&RtcGrant {
            app_id: &self.keys.app_id,
            app_cert: &self.keys.app_certificate,
            channel,
            uid: AGENT_UID,
            issued_at: u32::try_from(now).unwrap_or(0),
            lifetime_secs: AGENT_TOKEN_TTL_SECONDS,
            salt: rand::thread_rng().gen_range(1..=99_999_999),
        });
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let body = join_body(&self.config, channel, &token, now_ms);
        client.join(&body).await.map_err(|e| e.to_string())
    }

    /// Stops `agent_id` of `room_id` in the background (failures logged).
    pub fn spawn_stop(&self, room_id: &str, agent_id: String) {
        let host = self.clone();
        let room = room_id.to_owned();
        self.tasks.spawn(
            format!("stop AI agent {agent_id} of room {room}"),
            async move {
                let result = match host.client() {
                    Ok(client) => client.leave(&agent_id).await.map_err(|e| e.to_string()),
                    Err(err) => Err(err),
                };
                match result {
                    Ok(()) => tracing::info!(%room, %agent_id, "AI agent stopped"),
                    Err(err) => tracing::warn!(%room, %agent_id, %err, "AI agent stop failed"),
                }
            },
        );
    }
}

/// The original's `join` body for a room host.
pub fn join_body(config: &AiHostConfig, channel: &str, token: &str, now_ms: u128) -> Value {
    json!({
        "name": format!("heaven_room_{now_ms}"),
        "properties": {
            "channel": channel,
            "token": token,
            "agent_rtc_uid": AGENT_UID.to_string(),
            "remote_rtc_uids": ["*"],
            "enable_string_uid": false,
            "idle_timeout": 300,
            "llm": {
                "url": format!("{}/chat/completions", config.llm_base_url),
                "api_key": config.llm_api_key,
                "system_messages": [{"role": "system", "content": ROOM_HOST_PROMPT}],
                "greeting_message": GREETING,
                "failure_message": FAILURE_MESSAGE,
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
                "interrupt_duration_ms": 200,
                "prefix_padding_ms": 500
            }
        }
    })
}
