//! Driving an upstream byte stream into a response body.
//!
//! The body is a pull stream: the upstream is read only when the client's connection asks for
//! more, so a slow client slows the upstream read and at most one upstream chunk is held in
//! memory per stream. When the client goes away hyper drops the body, which drops the upstream
//! response and closes that connection: the LLM request is cancelled. An upstream silent for
//! longer than the idle timeout, or failing mid-stream, ends the stream (with a final error
//! event on `/chat/stream`) instead of hanging.

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

/// The translator of one `/chat/stream` and what must happen with its text when the stream
/// ends, however it ends: finished, failed, gone silent, or dropped because the client left.
struct ChatRelay<F: FnOnce(String)> {
    translator: ChatEventTranslator,
    on_end: Option<F>,
}

impl<F: FnOnce(String)> Drop for ChatRelay<F> {
    fn drop(&mut self) {
        if let Some(on_end) = self.on_end.take() {
            on_end(self.translator.message().to_owned());
        }
    }
}

/// The `/chat/stream` body: events from `upstream`, keep-alive comments while idle, and
/// [`STREAM_ERROR_EVENT`] when the upstream fails or goes silent. `on_end` receives the text
/// sent (all deltas) once, when the stream ends for any reason, including the client leaving.
pub fn chat_event_body<S, E, F>(
    upstream: S,
    timing: RelayTiming,
    on_end: F,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
    F: FnOnce(String) + Send + 'static,
{
    async_stream::stream! {
        let mut upstream = Box::pin(upstream);
        let mut relay = ChatRelay {
            translator: ChatEventTranslator::new(),
            on_end: Some(on_end),
        };
        let translator = &mut relay.translator;
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures_util::stream;

    use super::*;
    use crate::sse::chat_events::tests::content_chunk;

    /// An upstream sending one token every `every`, then `[DONE]`.
    fn slow_upstream(
        tokens: &'static [&'static str],
        every: Duration,
    ) -> impl Stream<Item = Result<Bytes, String>> + Send + 'static {
        let mut pieces: Vec<Bytes> = tokens
            .iter()
            .map(|t| Bytes::from(content_chunk(t)))
            .collect();
        pieces.push(Bytes::from_static(b"data: [DONE]\n\n"));
        stream::iter(pieces).then(move |piece| async move {
            tokio::time::sleep(every).await;
            Ok(piece)
        })
    }

    fn timing() -> RelayTiming {
        RelayTiming {
            keepalive: Some(Duration::from_secs(15)),
            idle_timeout: Duration::from_secs(120),
        }
    }

    fn recorder() -> (
        Arc<Mutex<Vec<String>>>,
        impl FnOnce(String) + Send + 'static,
    ) {
        let ended = Arc::new(Mutex::new(Vec::new()));
        let sink = ended.clone();
        (ended, move |text: String| sink.lock().unwrap().push(text))
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_longer_than_thirty_seconds_hands_over_its_whole_text_when_it_ends() {
        const TOKENS: &[&str] = &["one ", "two ", "three ", "four ", "five"];
        let (ended, on_end) = recorder();
        // 12 s between tokens: the last arrives a minute in (the original wrote after 30 s).
        let body = chat_event_body(
            slow_upstream(TOKENS, Duration::from_secs(12)),
            timing(),
            on_end,
        );
        let started = Instant::now();
        let events: Vec<Bytes> = body.map(|e| e.unwrap()).collect().await;
        assert!(started.elapsed() >= Duration::from_secs(60));
        let text = String::from_utf8(events.concat()).unwrap();
        assert!(
            text.ends_with("data: {\"done\":true,\"message\":\"one two three four five\"}\n\n")
        );
        assert_eq!(*ended.lock().unwrap(), ["one two three four five"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_leaving_mid_stream_hands_over_what_was_sent_once() {
        const TOKENS: &[&str] = &["kept ", "lost"];
        let (ended, on_end) = recorder();
        let mut body = Box::pin(chat_event_body(
            slow_upstream(TOKENS, Duration::from_secs(20)),
            timing(),
            on_end,
        ));
        // Keep-alive at 15 s, then the first delta at 20 s; then the client goes away.
        assert_eq!(body.next().await.unwrap().unwrap(), KEEPALIVE_COMMENT);
        let first = body.next().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("kept "));
        assert!(ended.lock().unwrap().is_empty(), "nothing before the end");
        drop(body);
        assert_eq!(*ended.lock().unwrap(), ["kept "]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_upstream_ends_the_stream_and_hands_over_the_text() {
        let (ended, on_end) = recorder();
        let upstream = stream::iter([Ok::<_, String>(Bytes::from(content_chunk("partial")))])
            .chain(stream::pending());
        let events: Vec<Bytes> = chat_event_body(upstream, timing(), on_end)
            .map(|e| e.unwrap())
            .collect()
            .await;
        assert_eq!(events.last().unwrap(), STREAM_ERROR_EVENT);
        assert_eq!(*ended.lock().unwrap(), ["partial"]);
    }
}
