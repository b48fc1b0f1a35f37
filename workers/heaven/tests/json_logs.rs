//! `LOG_FORMAT=json`: one JSON object per log line, and each request's log carries its id.

mod common;

use common::Heaven;

#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let data = tempfile::tempdir().unwrap();
    let api = Heaven::start(
        &["serve", "api"],
        data.path(),
        &[("LOG_FORMAT", "json")],
        true,
    );
    let response = reqwest::Client::new()
        .get(format!("{}/health", api.url("api")))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, stderr) = api.stop();
    assert!(status.success());

    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let request_log = events
        .iter()
        .find(|event| event["span"]["request_id"] == "trace-me-42")
        .unwrap_or_else(|| panic!("no log line for the request in {stderr}"));
    assert_eq!(request_log["span"]["uri"], "/health");
    assert_eq!(request_log["status"], 200);
}
