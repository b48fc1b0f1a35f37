//! `POST /agent/start {activityWallet?}`: opens a voice session: a session row with a hashed
//! per-session LLM secret, an Agora agent on a fresh channel whose custom LLM is this worker's
//! `/v1/chat/completions`, the user's context for that LLM, and Honcho session setup.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use rand::Rng;
use serde::Serialize;

use super::extract::{JsonBody, JwtWallet};
use crate::auth::sha256_hex;
use crate::chat::activity_wallet;
use crate::config::VoiceAgentConfig;
use crate::error::AppError;
use crate::sessions::{SessionRecord, SessionStatus};
use crate::state::{AppState, now_ms};

/// Context stored when neither memory nor activity is known.
pub const NO_CONTEXT: &str = "(No context provided)";

const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// `{session_id, channel, agora_token, agora_agent_id, user_uid, llm_secret}`.
#[derive(Debug, Serialize)]
pub struct AgentStartedBody {
    /// Session UUID.
    pub session_id: String,
    /// Agora channel.
    pub channel: String,
    /// The user's RTC token.
    pub agora_token: String,
    /// Agora's agent id.
    pub agora_agent_id: String,
    /// The user's RTC uid.
    pub user_uid: u32,
    /// The session's bearer for `/v1/chat/completions`.
    pub llm_secret: String,
}

/// Handler.
pub async fn start_agent(
    State(state): State<AppState>,
    JwtWallet(wallet): JwtWallet,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Json<AgentStartedBody>, AppError> {
    let activity_wallet =
        activity_wallet(body.as_ref()).unwrap_or_else(|| wallet.as_str().to_owned());
    let session_id = uuid::Uuid::new_v4().to_string();
    let channel = format!("neo_{}", &session_id.replace('-', "")[..20]);
    let llm_secret = format!(
        "{}{}",
        state.config().agora.bearer_prefix,
        random_secret(32)
    );
    let started_at = now_ms();
    state
        .sessions()
        .insert_session(&SessionRecord {
            id: session_id.clone(),
            wallet: wallet.to_string(),
            channel: channel.clone(),
            agora_agent_id: None,
            llm_secret_hash: sha256_hex(&llm_secret),
            context_blob: None,
            started_at,
            ended_at: None,
            duration_ms: None,
            status: SessionStatus::Active,
        })
        .await?;

    let llm_url = custom_llm_url(state.config(), &headers);
    let started = match state
        .agora()
        .start_agent(&channel, &llm_url, &llm_secret, started_at)
        .await
    {
        Ok(started) => started,
        Err(err) => {
            // The secret was never handed out; mark the row so it cannot linger as active.
            let marked = state
                .sessions()
                .update_session(&session_id, |s| {
                    s.status = SessionStatus::Error;
                    true
                })
                .await;
            if let Err(mark_err) = marked {
                tracing::warn!(error = %mark_err, "could not mark the failed session");
            }
            return Err(AppError::internal(err));
        }
    };
    let agent_id = started.agent_id.clone();
    state
        .sessions()
        .update_session(&session_id, |s| {
            s.agora_agent_id = Some(agent_id.clone());
            true
        })
        .await?;

    let context = state.user_context(wallet.as_str(), &activity_wallet).await;
    let context = if context.is_empty() {
        NO_CONTEXT.to_owned()
    } else {
        context
    };
    if let Err(err) = state
        .sessions()
        .update_session(&session_id, |s| {
            s.context_blob = Some(context.clone());
            true
        })
        .await
    {
        tracing::warn!(error = %err, "storing the session context failed");
    }

    if state.honcho().can_write() {
        let honcho = state.honcho().clone();
        let (wallet, session_id) = (wallet.to_string(), session_id.clone());
        state.background().spawn(
            format!("honcho voice session {session_id} init"),
            async move {
                honcho.init_voice_session(&wallet, &session_id).await;
            },
        );
    }

    Ok(Json(AgentStartedBody {
        session_id,
        channel,
        agora_token: started.rtc_token,
        agora_agent_id: started.agent_id,
        user_uid: started.user_uid,
        llm_secret,
    }))
}

/// Where Agora must call back: `PUBLIC_BASE_URL`, else the scheme and host this request came
/// to (`X-Forwarded-Proto` / `Host`), plus `/v1/chat/completions`.
pub fn custom_llm_url(config: &VoiceAgentConfig, headers: &HeaderMap) -> String {
    if let Some(base) = &config.public_base_url {
        return format!("{base}/v1/chat/completions");
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or("127.0.0.1");
    format!("{scheme}://{host}/v1/chat/completions")
}

/// A nanoid-style secret: `len` characters of `A-Za-z0-9_-`.
fn random_secret(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| SECRET_ALPHABET[rng.gen_range(0..SECRET_ALPHABET.len())] as char)
        .collect()
}
