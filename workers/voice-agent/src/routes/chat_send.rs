//! `POST /chat/send {message, history?, activityWallet?}`: one text-chat turn, answered whole.
//! No think filtering here (clients strip `<think>` themselves, as with the original).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Value, json};

use super::extract::{JsonBody, JwtWallet};
use crate::chat::{ChatRequest, EMPTY_REPLY, chat_messages};
use crate::error::AppError;
use crate::state::{AppState, now_ms};
use crate::upstream::llm::LlmError;

/// How long a non-streaming completion may take.
const COMPLETION_DEADLINE: Duration = Duration::from_secs(120);

/// `{ok:true, message}`.
#[derive(Debug, Serialize)]
pub struct Reply {
    /// Always true.
    pub ok: bool,
    /// The assistant's answer.
    pub message: String,
}

/// Handler.
pub async fn send_message(
    State(state): State<AppState>,
    JwtWallet(wallet): JwtWallet,
    JsonBody(body): JsonBody,
) -> Result<Json<Reply>, AppError> {
    let request =
        ChatRequest::from_body(body.as_ref()).ok_or(AppError::BadRequest("message required"))?;
    let messages = prepare_messages(&state, wallet.as_str(), &request).await?;
    let llm_body = json!({
        "model": state.llm().chat_model(),
        "messages": messages,
        "stream": false,
        "max_tokens": 500,
    });
    let response = state
        .llm()
        .post(&llm_body, Some(COMPLETION_DEADLINE))
        .await
        .map_err(llm_failure)?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        tracing::warn!(%status, body = %text, "LLM refused /chat/send");
        return Err(AppError::AiUnavailable);
    }
    let data: Value = response.json().await.map_err(AppError::internal)?;
    let reply = data
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(EMPTY_REPLY)
        .to_owned();

    if state.honcho().can_write() {
        let honcho = state.honcho().clone();
        let (wallet, user, assistant) = (wallet.to_string(), request.message, reply.clone());
        state.background().spawn(
            format!("honcho chat exchange of {wallet} (/chat/send)"),
            async move {
                honcho
                    .store_chat_exchange(&wallet, &user, &assistant, now_ms())
                    .await;
            },
        );
    }
    Ok(Json(Reply {
        ok: true,
        message: reply,
    }))
}

/// The prompt of a chat turn, or 503 straight away when no LLM is configured (the original
/// would have fetched the context, then got the provider's refusal: the same 503).
pub async fn prepare_messages(
    state: &AppState,
    wallet: &str,
    request: &ChatRequest,
) -> Result<Vec<Value>, AppError> {
    if state.config().llm.api_key.is_none() {
        return Err(AppError::AiUnavailable);
    }
    let activity_wallet = request.activity_wallet.as_deref().unwrap_or(wallet);
    let context = state.user_context(wallet, activity_wallet).await;
    Ok(chat_messages(request, &context))
}

/// How a failed LLM call answers: unconfigured is 503 (what the provider's refusal gives),
/// a transport failure is Hono's 500 (the original's `fetch` threw).
pub fn llm_failure(err: LlmError) -> AppError {
    match err {
        LlmError::NotConfigured => AppError::AiUnavailable,
        LlmError::Transport(err) => AppError::internal(err),
    }
}
