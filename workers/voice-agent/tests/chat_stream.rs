//! `/chat/stream` and `/chat/send` over real HTTP against a fake LLM: byte-exact events for a
//! recorded upstream stream (tags split across chunks and across network reads), headers,
//! a mid-stream failure, a slow stream with keep-alives, a silent upstream, client disconnect
//! cancelling the upstream request, and the errors sent before any stream starts.
//!
//! Real clock: the fake LLM writes to a real socket at scripted times and the relay's
//! keep-alive and idle timers are measured against it end to end (a paused clock would jump
//! past the timers while the runtime waits on the socket). The relay's timing on a paused
//! clock, with no network, is tested in `src/sse/relay.rs`.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::fake_llm::{Ending, FakeLlm, Reply, content_event};
use common::{Service, User, assert_error, config, text};
use futures_util::StreamExt;
use serde_json::json;

const UPSTREAM: &str = include_str!("fixtures/think_split.upstream.sse");
const EXPECTED: &str = include_str!("fixtures/think_split.chat_stream.expected.sse");

async fn service_for(llm: &FakeLlm, extra: &[(&str, &str)]) -> Service {
    let mut vars = vec![
        ("LLM_BASE_URL", llm.base.as_str()),
        ("LLM_API_KEY", "sk-test"),
    ];
    vars.extend_from_slice(extra);
    Service::start(config(&vars)).await
}

#[tokio::test]
async fn recorded_stream_gives_the_exact_events_and_headers() {
    // 13-byte network reads split lines, JSON and tags at arbitrary places.
    let llm = FakeLlm::start(Reply::chunked(UPSTREAM, 13, Duration::from_millis(1))).await;
    let service = service_for(&llm, &[]).await;
    let token = service.login(&User::new(1)).await;
    let response = service
        .post(
            "/chat/stream",
            Some(&token),
            json!({"message": "  hey  ", "history": []}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(text(response).await, EXPECTED);

    let request = llm.last_request();
    assert_eq!(request["stream"], true);
    assert_eq!(request["max_tokens"], 1000);
    assert_eq!(request["model"], "moonshotai/kimi-k2-instruct-0905");
    assert_eq!(
        request["messages"].as_array().unwrap().last().unwrap(),
        &json!({"role": "user", "content": "hey"})
    );
    assert_eq!(llm.authorizations.lock().unwrap()[0], "Bearer sk-test");
}

#[tokio::test]
async fn the_same_events_whatever_the_network_split() {
    for size in [1, 7, 64, 4096] {
        let llm = FakeLlm::start(Reply::chunked(UPSTREAM, size, Duration::ZERO)).await;
        let service = service_for(&llm, &[]).await;
        let token = service.login(&User::new(2)).await;
        let response = service
            .post("/chat/stream", Some(&token), json!({"message": "x"}))
            .await;
        assert_eq!(text(response).await, EXPECTED, "split every {size} bytes");
    }
}

#[tokio::test]
async fn upstream_failure_mid_stream_ends_with_an_error_event() {
    let llm = FakeLlm::start(Reply::Stream {
        pieces: vec![
            (Duration::ZERO, content_event("Hel").into_bytes()),
            (Duration::from_millis(20), content_event("lo").into_bytes()),
        ],
        ending: Ending::Abort,
    })
    .await;
    let service = service_for(&llm, &[]).await;
    let token = service.login(&User::new(3)).await;
    let response = service
        .post("/chat/stream", Some(&token), json!({"message": "x"}))
        .await;
    let body = tokio::time::timeout(Duration::from_secs(10), text(response))
        .await
        .expect("no hang");
    assert_eq!(
        body,
        "data: {\"delta\":\"Hel\"}\n\ndata: {\"delta\":\"lo\"}\n\ndata: {\"error\":\"AI temporarily unavailable\"}\n\n"
    );
}

#[tokio::test]
async fn slow_stream_gets_keepalive_comments_and_completes() {
    let llm = FakeLlm::start(Reply::tokens(&["a", "b"], Duration::from_millis(700))).await;
    let mut cfg = config(&[
        ("LLM_BASE_URL", llm.base.as_str()),
        ("LLM_API_KEY", "sk-test"),
    ]);
    cfg.streaming.keepalive = Some(Duration::from_millis(250));
    let service = Service::start(cfg).await;
    let token = service.login(&User::new(4)).await;
    let response = service
        .post("/chat/stream", Some(&token), json!({"message": "x"}))
        .await;
    let body = text(response).await;
    let without_keepalives = body.replace(": keep-alive\n\n", "");
    assert_eq!(
        without_keepalives,
        "data: {\"delta\":\"a\"}\n\ndata: {\"delta\":\"b\"}\n\ndata: {\"done\":true,\"message\":\"ab\"}\n\n"
    );
    // 700 ms between tokens, a keep-alive after 250 ms of silence: two per gap.
    assert!(body.matches(": keep-alive\n\n").count() >= 4, "{body:?}");
    assert!(body.starts_with(": keep-alive\n\n"), "{body:?}");
}

#[tokio::test]
async fn silent_upstream_is_given_up_with_an_error_event() {
    let llm = FakeLlm::start(Reply::Stream {
        pieces: vec![
            (Duration::ZERO, content_event("a").into_bytes()),
            (Duration::from_secs(30), content_event("never").into_bytes()),
        ],
        ending: Ending::Complete,
    })
    .await;
    let service = service_for(&llm, &[("LLM_STREAM_IDLE_TIMEOUT_SECS", "1")]).await;
    let token = service.login(&User::new(5)).await;
    let response = service
        .post("/chat/stream", Some(&token), json!({"message": "x"}))
        .await;
    let body = tokio::time::timeout(Duration::from_secs(10), text(response))
        .await
        .unwrap();
    assert_eq!(
        body,
        "data: {\"delta\":\"a\"}\n\ndata: {\"error\":\"AI temporarily unavailable\"}\n\n"
    );
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_request() {
    let tokens: Vec<String> = (0..400).map(|i| format!("t{i} ")).collect();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let llm = FakeLlm::start(Reply::tokens(&tokens, Duration::from_millis(25))).await;
    let service = service_for(&llm, &[]).await;
    let token = service.login(&User::new(6)).await;
    let response = service
        .post("/chat/stream", Some(&token), json!({"message": "x"}))
        .await;
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: {\"delta\":\"t0 \"}"));
    drop(stream);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !llm.reader_gone.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the fake LLM never saw the connection close"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(llm.completed.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_slow_client_slows_the_upstream_read() {
    // 2000 events of ~16 KiB (32 MiB): far more than the socket buffers between the fake and
    // the client can hold.
    let big = "x".repeat(16 * 1024);
    let pieces: Vec<(Duration, Vec<u8>)> = (0..2000)
        .map(|_| (Duration::ZERO, content_event(&big).into_bytes()))
        .collect();
    let total = pieces.len();
    let llm = FakeLlm::start(Reply::Stream {
        pieces,
        ending: Ending::Complete,
    })
    .await;
    let service = service_for(&llm, &[]).await;
    let token = service.login(&User::new(9)).await;
    let response = service
        .post("/chat/stream", Some(&token), json!({"message": "x"}))
        .await;
    let mut stream = response.bytes_stream();
    stream.next().await.unwrap().unwrap();
    // The client stops reading: the upstream read stalls instead of being buffered in memory.
    let mut stalled_at = llm.written.load(Ordering::SeqCst);
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = llm.written.load(Ordering::SeqCst);
        if now == stalled_at {
            break;
        }
        stalled_at = now;
    }
    assert_eq!(
        llm.written.load(Ordering::SeqCst),
        stalled_at,
        "upstream never stalled"
    );
    eprintln!("stalled after {stalled_at} of {total} pieces");
    assert!(
        stalled_at < total / 2,
        "{stalled_at} of {total} pieces read without a reader"
    );
    // Reading again drains everything.
    let mut received = 0usize;
    while let Some(chunk) = stream.next().await {
        received += chunk.unwrap().len();
    }
    assert_eq!(llm.completed.load(Ordering::SeqCst), 1);
    assert!(received > 30 * 1024 * 1024, "{received}");
}

#[tokio::test]
async fn errors_before_the_stream_starts() {
    let llm = FakeLlm::start(Reply::Whole {
        status: 429,
        content_type: "application/json",
        body: "{\"error\":{\"message\":\"rate\"}}".into(),
    })
    .await;
    let service = service_for(&llm, &[]).await;
    let token = service.login(&User::new(7)).await;
    for path in ["/chat/stream", "/chat/send"] {
        assert_error(
            service
                .post(path, Some(&token), json!({"message": "x"}))
                .await,
            503,
            "AI temporarily unavailable",
        )
        .await;
        assert_error(
            service
                .post(path, Some(&token), json!({"message": "   "}))
                .await,
            400,
            "message required",
        )
        .await;
        assert_error(
            service.post(path, None, json!({"message": "x"})).await,
            401,
            "Missing Authorization: Bearer <jwt>",
        )
        .await;
        assert_error(
            service
                .post(path, Some("nope"), json!({"message": "x"}))
                .await,
            401,
            "Invalid token",
        )
        .await;
    }
    // Without an API key the LLM is not called at all: the same 503.
    let unconfigured = Service::start(config(&[("LLM_BASE_URL", llm.base.as_str())])).await;
    let token = unconfigured.login(&User::new(7)).await;
    let before = llm.requests.lock().unwrap().len();
    assert_error(
        unconfigured
            .post("/chat/stream", Some(&token), json!({"message": "x"}))
            .await,
        503,
        "AI temporarily unavailable",
    )
    .await;
    assert_eq!(llm.requests.lock().unwrap().len(), before);
}

#[tokio::test]
async fn chat_send_answers_whole_without_filtering() {
    let completion =
        json!({"choices": [{"message": {"role": "assistant", "content": "<think>x</think>Hi!"}}]});
    let llm = FakeLlm::start(Reply::Whole {
        status: 200,
        content_type: "application/json",
        body: completion.to_string(),
    })
    .await;
    let service = service_for(&llm, &[]).await;
    let token = service.login(&User::new(8)).await;
    let history: Vec<_> = (0..12).map(|i| json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": format!("h{i}")})).collect();
    let response = service
        .post(
            "/chat/send",
            Some(&token),
            json!({"message": "hello", "history": history, "activityWallet": "0xnot"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        text(response).await,
        r#"{"ok":true,"message":"<think>x</think>Hi!"}"#
    );
    let request = llm.last_request();
    assert_eq!(request["stream"], false);
    assert_eq!(request["max_tokens"], 500);
    let messages = request["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 12);
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[1]["content"], "h2");

    let empty = FakeLlm::start(Reply::Whole {
        status: 200,
        content_type: "application/json",
        body: "{\"choices\":[]}".into(),
    })
    .await;
    let service = service_for(&empty, &[]).await;
    let token = service.login(&User::new(8)).await;
    let response = service
        .post("/chat/send", Some(&token), json!({"message": "hello"}))
        .await;
    assert_eq!(
        text(response).await,
        r#"{"ok":true,"message":"I'm sorry, I couldn't generate a response."}"#
    );
}
