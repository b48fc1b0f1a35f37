//! The `heaven` binary as `cargo run` starts it: embedded defaults, service table, `/health`,
//! `/metrics`, data under the data dir, graceful Ctrl-C, and one-line config errors.

mod common;

use common::Heaven;

#[tokio::test]
async fn cargo_run_serves_health_and_metrics_on_embedded_defaults() {
    let data = tempfile::tempdir().unwrap();
    let stack = Heaven::start(&[], data.path(), &[], false);

    let statuses: Vec<(&str, &str)> = stack
        .rows
        .iter()
        .map(|r| (r.0.as_str(), r.2.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("api", "running"),
            ("metadata-resolver", "running"),
            ("voice-agent", "running"),
            ("voice-rooms", "running"),
        ]
    );
    let api = stack.url("api");
    assert!(api.starts_with("http://127.0.0.1:"), "{api}");

    let health = reqwest::get(format!("{api}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), r#"{"ok":true}"#);
    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"http_requests_total{method="GET",route="/health",service="api",status="200"} 1"#
        ),
        "{metrics}"
    );

    // voice-agent answers the original's smoke check, and (new) a health route.
    let agent = stack.url("voice-agent");
    let health = reqwest::get(format!("{agent}/health")).await.unwrap();
    assert_eq!(
        health.text().await.unwrap(),
        r#"{"ok":true,"service":"voice-agent"}"#
    );
    let nonce = reqwest::Client::new()
        .post(format!("{agent}/auth/nonce"))
        .json(&serde_json::json!({"wallet": "0x0000000000000000000000000000000000000001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(nonce.status(), 200);
    let nonce: serde_json::Value = nonce.json().await.unwrap();
    assert!(nonce["nonce"].as_str().unwrap().len() >= 8);

    // metadata-resolver answers the original's health body; rehost without a Load key is the
    // original's 500.
    let resolver = stack.url("metadata-resolver");
    let health = reqwest::get(format!("{resolver}/health")).await.unwrap();
    assert_eq!(
        health.text().await.unwrap(),
        r#"{"ok":true,"service":"metadata-resolver"}"#
    );
    let rehost = reqwest::Client::new()
        .post(format!("{resolver}/rehost/image"))
        .body(r#"{"urls":["https://example.com/a.jpg"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(rehost.status(), 500);
    assert_eq!(
        rehost.text().await.unwrap(),
        r#"{"error":"LOAD_S3_AGENT_API_KEY not configured"}"#
    );

    for file in [
        "state.sqlite3",
        "voice-agent-jwt-secret",
        "cache.sqlite3",
        "dev-ecdsa-secp256k1.key",
        "blobs",
    ] {
        assert!(
            data.path().join(file).exists(),
            "{file} created under the data dir"
        );
    }
    let (status, _) = stack.stop();
    assert!(status.success(), "Ctrl-C exits cleanly: {status:?}");
}

#[tokio::test]
async fn the_dev_signing_key_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let key_file = data.path().join("dev-ecdsa-secp256k1.key");
    let first = Heaven::start(&[], data.path(), &[], false);
    let key = std::fs::read(&key_file).unwrap();
    assert!(first.stop().0.success());
    let second = Heaven::start(&[], data.path(), &[], false);
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        key,
        "same key after restart"
    );
    assert!(second.stop().0.success());
}

/// Runs `heaven` to completion; returns its exit code and last stderr line.
fn exit_and_last_error(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let data = tempfile::tempdir().unwrap();
    let (code, _, stderr) = common::run_to_end(args, data.path(), env);
    (code, stderr.lines().last().unwrap_or_default().to_owned())
}

#[test]
fn a_missing_adapter_url_is_one_line_naming_the_variable() {
    let (code, stderr) = exit_and_last_error(&[], &[("STATE_STORE", "postgres")]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "heaven: DATABASE_URL is required when STATE_STORE=postgres"
    );
}

#[test]
fn an_unreachable_store_names_the_server() {
    let (code, stderr) = exit_and_last_error(
        &[],
        &[
            ("STATE_STORE", "postgres"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/test"),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("heaven: cannot open the state store:"),
        "{stderr}"
    );
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
}

#[tokio::test]
async fn serve_rooms_serves_voice_rooms_alone() {
    let data = tempfile::tempdir().unwrap();
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &[], false);
    let statuses: Vec<(&str, &str)> = stack
        .rows
        .iter()
        .map(|r| (r.0.as_str(), r.2.as_str()))
        .collect();
    assert_eq!(statuses, [("voice-rooms", "running")]);
    let health = reqwest::get(format!("{}/health", stack.url("voice-rooms")))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), r#"{"ok":true}"#);
}

#[test]
fn ctrl_c_right_after_the_table_still_drains_cleanly() {
    // The signal handlers are installed before the table is printed, so an immediate Ctrl-C is
    // a graceful stop (exit 0), never the default SIGINT death.
    for _ in 0..5 {
        let data = tempfile::tempdir().unwrap();
        let (status, _) = Heaven::start(&["serve", "api"], data.path(), &[], false).stop();
        assert!(status.success(), "{status:?}");
    }
}

/// Every directory under `dir` (itself included) and every file in it, with its mode.
#[cfg(unix)]
fn modes(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    out.push((
        dir.to_path_buf(),
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
    ));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modes(&path, out);
        } else {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            out.push((path, mode));
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_and_everything_in_it_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    // An existing, world-readable data dir is tightened.
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stack = Heaven::start(&[], &data, &[], false);
    // Traffic that writes: a nonce in the state store, a rate-limit slot in the cache.
    let agent = stack.url("voice-agent");
    let nonce = reqwest::Client::new()
        .post(format!("{agent}/auth/nonce"))
        .json(&serde_json::json!({"wallet": "0x0000000000000000000000000000000000000001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(nonce.status(), 200);
    let (status, _) = stack.stop();
    assert!(status.success());
    let mut found = Vec::new();
    modes(&data, &mut found);
    assert!(found.len() > 4, "{found:?}");
    for (path, mode) in found {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, expected, "{} is {mode:o}", path.display());
    }
}
