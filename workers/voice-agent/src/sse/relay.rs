//! Driving an upstream byte stream into a response body.
//!
//! The body is a pull stream: the upstream is read only when the client's connection asks for
//! more, so a slow client slows the upstream read and at most one upstream chunk is held in
//! memory per stream. When the client goes away hyper drops the body, which drops the upstream
//! response and closes that connection: the LLM request is cancelled. An upstream silent for
//! longer than the idle timeout, or failing mid-stream, ends the stream (with a final error
//! event on `/chat/stream`) instead of hanging.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, sleep_until};

use super::chat_events::{KEEPALIVE_COMMENT, STREAM_ERROR_EVENT};
use super::{ChatEventTranslator, CompletionChunkFilter};

/// Timing of a relayed stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayTiming {
    /// Send a keep-alive comment after this long without sending anything (`None`: never).
    pub keepalive: Option<Duration>,
    /// Give up on an upstream that sends nothing for this long.
    pub idle_timeout: Duration,
}

/// What woke the relay loop.
enum Wake<T> {
    Upstream(Option<T>),
    Keepalive,
    Idle,
}

async fn next_wake<S, T>(
    upstream: &mut S,
    keepalive_at: Option<Instant>,
    idle_at: Instant,
) -> Wake<T>
where
    S: Stream<Item = T> + Unpin,
{
    let keepalive = async {
        match keepalive_at {
            Some(at) => sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        item = upstream.next() => Wake::Upstream(item),
        () = sleep_until(idle_at) => Wake::Idle,
        () = keepalive => Wake::Keepalive,
    }
}

/// The `/chat/stream` body: events from `upstream`, keep-alive comments while idle, and
/// [`STREAM_ERROR_EVENT`] when the upstream fails or goes silent. `message` mirrors the text
/// sent so far (the delayed Honcho write reads it).
pub fn chat_event_body<S, E>(
    upstream: S,
    timing: RelayTiming,
    message: Arc<Mutex<String>>,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    async_stream::stream! {
        let mut upstream = Box::pin(upstream);
        let mut translator = ChatEventTranslator::new();
        let mut last_sent = Instant::now();
        let mut last_upstream = Instant::now();
        loop {
            let keepalive_at = timing.keepalive.map(|every| last_sent + every);
            let wake = next_wake(&mut upstream, keepalive_at, last_upstream + timing.idle_timeout).await;
            let (out, finished) = match wake {
                Wake::Upstream(Some(Ok(chunk))) => {
                    last_upstream = Instant::now();
                    (translator.push(&chunk).concat(), false)
                }
                Wake::Upstream(Some(Err(err))) => {
                    tracing::warn!(error = %err, "LLM stream failed mid-way");
                    (STREAM_ERROR_EVENT.to_owned(), true)
                }
                Wake::Upstream(None) => (translator.finish().concat(), true),
                Wake::Idle => {
                    tracing::warn!("LLM stream went silent; ending it");
                    (STREAM_ERROR_EVENT.to_owned(), true)
                }
                Wake::Keepalive => (KEEPALIVE_COMMENT.to_owned(), false),
            };
            sync_message(&message, translator.message());
            if !out.is_empty() {
                last_sent = Instant::now();
                yield Ok(Bytes::from(out));
            }
            if finished {
                break;
            }
        }
    }
}

fn sync_message(shared: &Mutex<String>, current: &str) {
    let mut shared = shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let known = shared.len();
    if known < current.len() {
        shared.push_str(&current[known..]);
    }
}

/// Why a relayed `/v1` stream was cut (the connection is aborted so Agora sees a failure).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The upstream failed mid-stream.
    #[error("LLM stream failed: {0}")]
    Upstream(String),
    /// The upstream sent nothing for the idle timeout.
    #[error("LLM stream went silent")]
    Idle,
}

/// The `/v1/chat/completions` body: the filtered chunks; `on_complete` receives the filtered
/// assistant text when the upstream ends normally (not when the client leaves first).
pub fn completion_chunk_body<S, E, F>(
    upstream: S,
    idle_timeout: Duration,
    on_complete: F,
) -> impl Stream<Item = Result<Bytes, RelayError>> + Send + 'static
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
    F: FnOnce(String) + Send + 'static,
{
    async_stream::stream! {
        let mut upstream = Box::pin(upstream);
        let mut filter = CompletionChunkFilter::new();
        let mut last_upstream = Instant::now();
        loop {
            match next_wake(&mut upstream, None, last_upstream + idle_timeout).await {
                Wake::Upstream(Some(Ok(chunk))) => {
                    last_upstream = Instant::now();
                    let out = filter.push(&chunk);
                    if !out.is_empty() {
                        yield Ok(Bytes::from(out));
                    }
                }
                Wake::Upstream(Some(Err(err))) => {
                    yield Err(RelayError::Upstream(err.to_string()));
                    break;
                }
                Wake::Upstream(None) => {
                    let out = filter.finish();
                    if !out.is_empty() {
                        yield Ok(Bytes::from(out));
                    }
                    on_complete(filter.content().to_owned());
                    break;
                }
                Wake::Idle => {
                    yield Err(RelayError::Idle);
                    break;
                }
                Wake::Keepalive => {}
            }
        }
    }
}
