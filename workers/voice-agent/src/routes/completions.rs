//! `POST /v1/chat/completions`: the custom LLM Agora's agent calls on every user turn,
//! authenticated by the session's bearer secret. The session's context is appended to the
//! first system message, the request goes to the provider, and the answer comes back with the
//! provider's status and headers: event streams through the think filter (still OpenAI chunks,
//! ending with `data: [DONE]`), anything else untouched. A finished stream's exchange is
//! written to Honcho.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use super::chat_send::llm_failure;
use super::extract::{bearer_token, js_string};
use crate::auth::sha256_hex;
use crate::error::AppError;
use crate::sessions::SessionRecord;
use crate::sse::relay::completion_chunk_body;
use crate::state::AppState;
use crate::upstream::honcho::{AGENT_PEER_ID, voice_session_id};

/// Upstream headers not copied: hop-by-hop ones, and the length (bodies are re-chunked).
const DROPPED_HEADERS: [&str; 6] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
];

/// Handler.
pub async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let secret = bearer_token(&headers).ok_or(AppError::Unauthorized(
        "Missing Authorization: Bearer <llm_secret>",
    ))?;
    let session = state
        .sessions()
        .active_session_by_secret(&sha256_hex(secret))
        .await?
        .ok_or(AppError::Unauthorized("Invalid or inactive session"))?;
    let Some(Value::Object(mut request)) = serde_json::from_slice::<Value>(&body).ok() else {
        return Err(AppError::BadRequest("Invalid OpenAI request"));
    };
    let Some(Value::Array(messages)) = request.get_mut("messages") else {
        return Err(AppError::BadRequest("Invalid OpenAI request"));
    };
    inject_context(messages, session.context_blob.as_deref());
    let user_content = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if request.get("model").is_none_or(Value::is_null) {
        request.insert("model".into(), Value::from(state.llm().model()));
    }
    if request.get("stream").is_none_or(Value::is_null) {
        request.insert("stream".into(), Value::Bool(true));
    }
    let streaming = request.get("stream") == Some(&Value::Bool(true));

    let upstream = state
        .llm()
        .post(&request, None)
        .await
        .map_err(llm_failure)?;
    let status = upstream.status();
    let is_sse = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let mut out_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if !DROPPED_HEADERS.contains(&name.as_str()) {
            out_headers.append(name.clone(), value.clone());
        }
    }
    out_headers.insert(
        HeaderName::from_static("access-control-allow-origin"),
        HeaderValue::from_static("*"),
    );

    let body = if streaming && is_sse {
        out_headers.remove(header::CONTENT_ENCODING);
        let on_complete = transcript_writer(&state, &session, user_content);
        Body::from_stream(completion_chunk_body(
            upstream.bytes_stream(),
            state.config().streaming.upstream_idle_timeout,
            on_complete,
        ))
    } else {
        Body::from_stream(upstream.bytes_stream())
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = out_headers;
    Ok(response)
}

/// Appends `\n\n=== User Context ===\n<context>` to a leading system message.
fn inject_context(messages: &mut [Value], context: Option<&str>) {
    let Some(context) = context.filter(|c| !c.is_empty()) else {
        return;
    };
    let Some(first) = messages.first_mut() else {
        return;
    };
    if first.get("role").and_then(Value::as_str) != Some("system") {
        return;
    }
    let content = match first.get("content") {
        None => "undefined".to_owned(),
        Some(value) => js_string(value),
    };
    first["content"] = Value::from(format!("{content}\n\n=== User Context ===\n{context}"));
}

/// What runs when a filtered stream ends: the exchange goes to Honcho (user message under the
/// user's peer, the answer under `agent_scarlett`) when everything needed is there.
fn transcript_writer(
    state: &AppState,
    session: &SessionRecord,
    user_content: String,
) -> impl FnOnce(String) + Send + 'static {
    let honcho = state.honcho().clone();
    let background = state.background().clone();
    let (wallet, session_id) = (session.wallet.clone(), session.id.clone());
    move |assistant: String| {
        if !honcho.can_write() || user_content.is_empty() || assistant.is_empty() {
            return;
        }
        let name = format!("honcho transcript of voice session {session_id}");
        background.spawn(name, async move {
            let Some(peer) = honcho.pseudonym(&wallet) else {
                return;
            };
            let honcho_session = voice_session_id(&session_id);
            honcho
                .add_message(&honcho_session, &peer, &user_content, true)
                .await;
            honcho
                .add_message(&honcho_session, AGENT_PEER_ID, &assistant, false)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn context_goes_to_a_leading_system_message_only() {
        let mut messages = vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": "hi"}),
        ];
        inject_context(&mut messages, Some("ctx"));
        assert_eq!(
            messages[0]["content"],
            "Be brief.\n\n=== User Context ===\nctx"
        );
        let mut messages = vec![json!({"role": "user", "content": "hi"})];
        inject_context(&mut messages, Some("ctx"));
        assert_eq!(messages[0]["content"], "hi");
        let mut messages = vec![json!({"role": "system", "content": "x"})];
        inject_context(&mut messages, None);
        assert_eq!(messages[0]["content"], "x");
    }
}
