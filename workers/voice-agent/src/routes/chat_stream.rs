//! `POST /chat/stream`: the same turn as `/chat/send`, streamed as server-sent events
//! (`data: {"delta":..}` ... `data: {"done":true,"message":..}`), think blocks filtered.
//!
//! The response is a pull stream over the provider's stream (see [`crate::sse::relay`]):
//! backpressure, cancellation on disconnect, keep-alive comments while idle, and a final
//! `data: {"error":..}` event when the provider fails mid-way. The exchange is written to
//! Honcho when the stream ends (the original wrote it 30 s after the response started, losing
//! the tail of any longer answer), as tracked background work.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::chat_send::{llm_failure, prepare_messages};
use super::extract::{JsonBody, JwtWallet};
use crate::chat::ChatRequest;
use crate::error::AppError;
use crate::sse::relay::{RelayTiming, chat_event_body};
use crate::state::{AppState, now_ms};

/// Handler.
pub async fn stream_message(
    State(state): State<AppState>,
    JwtWallet(wallet): JwtWallet,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let request =
        ChatRequest::from_body(body.as_ref()).ok_or(AppError::BadRequest("message required"))?;
    let messages = prepare_messages(&state, wallet.as_str(), &request).await?;
    let llm_body = json!({
        "model": state.llm().chat_model(),
        "messages": messages,
        "stream": true,
        "max_tokens": 1000,
    });
    let upstream = state
        .llm()
        .post(&llm_body, None)
        .await
        .map_err(llm_failure)?;
    if !upstream.status().is_success() {
        let status = upstream.status();
        let text = upstream.text().await.unwrap_or_default();
        tracing::warn!(%status, body = %text, "LLM refused /chat/stream");
        return Err(AppError::AiUnavailable);
    }

    let honcho = state.honcho().clone();
    let background = state.background().clone();
    let (wallet, user) = (wallet.to_string(), request.message);
    let store_exchange = move |assistant: String| {
        if !honcho.can_write() {
            return;
        }
        let name = format!("honcho chat exchange of {wallet} (/chat/stream)");
        background.spawn(name, async move {
            honcho
                .store_chat_exchange(&wallet, &user, &assistant, now_ms())
                .await;
        });
    };
    let timing = RelayTiming {
        keepalive: state.config().streaming.keepalive,
        idle_timeout: state.config().streaming.upstream_idle_timeout,
    };
    let body = Body::from_stream(chat_event_body(
        upstream.bytes_stream(),
        timing,
        store_exchange,
    ));
    Ok(sse_response(StatusCode::OK, body))
}

/// An event-stream response with the headers that keep proxies from buffering or caching it.
pub fn sse_response(status: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
