//! `LOG_FORMAT=json`: one JSON object per log line, and each request's log carries its id.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_heaven"))
        .args(["serve", "api"])
        .env_clear()
        .env("HEAVEN_DATA_DIR", data.path())
        .env("API_PORT", "0")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let api_url = stdout
        .lines()
        .map(|line| line.unwrap())
        .find_map(|line| {
            let mut cols = line.split_whitespace();
            (cols.next() == Some("api")).then(|| cols.next().unwrap().to_owned())
        })
        .expect("the table lists the api");

    let response = reqwest::Client::new()
        .get(format!("{api_url}/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();

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
