//! The shipped edge around every service of the real binary: a panicking handler is contained
//! (JSON 500, logged with its request id, counted) while every other service keeps answering,
//! and a client that never finishes its request head is disconnected.

mod common;

use std::time::Duration;

use common::Heaven;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_panicking_handler_answers_500_and_every_service_keeps_working() {
    let data = tempfile::tempdir().unwrap();
    let stack = Heaven::start(
        &[],
        data.path(),
        &[("HEAVEN_TEST_PANIC_ROUTE", "1"), ("LOG_FORMAT", "json")],
        true,
    );
    let client = reqwest::Client::new();
    let api = stack.url("api");
    for _ in 0..3 {
        let response = client
            .get(format!("{api}/__heaven/panic"))
            .header("x-request-id", "panic-probe-7")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"error":"Internal server error"}"#
        );
    }
    let resolver = client
        .get(format!("{}/__heaven/panic", stack.url("metadata-resolver")))
        .send()
        .await
        .unwrap();
    assert_eq!(resolver.status(), 500);
    assert_eq!(
        resolver.text().await.unwrap(),
        r#"{"error":"internal error"}"#
    );
    for service in ["api", "metadata-resolver", "voice-agent"] {
        let health = reqwest::get(format!("{}/health", stack.url(service)))
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "{service} still answers");
    }
    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"http_handler_panics_total{service="api"} 3"#),
        "{metrics}"
    );
    let (status, stderr) = stack.stop();
    assert!(status.success(), "the process survived and stopped cleanly");
    let logged = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| {
            event["message"] == "handler panicked" && event["span"]["request_id"] == "panic-probe-7"
        });
    assert!(
        logged.is_some(),
        "no panic log line with the request id in {stderr}"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let data = tempfile::tempdir().unwrap();
    let stack = Heaven::start(
        &["serve", "agent"],
        data.path(),
        &[("HEADER_READ_TIMEOUT_SECS", "1")],
        false,
    );
    let addr = stack
        .url("voice-agent")
        .trim_start_matches("http://")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /auth/nonce HTTP/1.1\r\nHost: x\r\nContent-Le")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the half-sent request was kept open");
}
