//! metadata-resolver inside the `heaven` binary: `heaven migrate kv-import` loads a KV export
//! that `heaven serve resolver` then answers from, without asking MusicBrainz.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct ResolverProcess {
    child: Child,
    url: String,
}

impl ResolverProcess {
    fn start(data_dir: &Path) -> ResolverProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_heaven"))
            .args(["serve", "resolver"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HEAVEN_DATA_DIR", data_dir)
            .env("METADATA_RESOLVER_PORT", "0")
            // Nothing listens there: a request that reached MusicBrainz would fail.
            .env("MUSICBRAINZ_URL", "http://127.0.0.1:1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut url = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.starts_with("data:") {
                break;
            }
            if line.starts_with("metadata-resolver") {
                url = line.split_whitespace().nth(1).unwrap().to_owned();
            }
        }
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        ResolverProcess { child, url }
    }
}

impl Drop for ResolverProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

const MBID: &str = "a74b1b7f-71a5-4011-9441-d0b5e4122711";

#[tokio::test]
async fn imported_kv_entries_are_served() {
    let data = tempfile::tempdir().unwrap();
    let export = data.path().join("kv.jsonl");
    let in_a_day = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let artist = format!(r#"{{"mbid":"{MBID}","name":"Radiohead","links":{{}}}}"#);
    let lines = [
        serde_json::json!({"key": format!("artist:{MBID}"), "value": artist, "expiration": in_a_day}),
        serde_json::json!({"key": "commons:x.jpg", "value": "null", "expiration": 1}),
    ];
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&export, text.join("\n")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_heaven"))
        .args(["migrate", "kv-import"])
        .arg(&export)
        .env_clear()
        .env("HEAVEN_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("imported 1 cache entries (1 already expired, skipped) from "),
        "{stdout}"
    );

    let resolver = ResolverProcess::start(data.path());
    let answer = reqwest::get(format!("{}/artist/{MBID}", resolver.url))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), artist);
}

#[test]
fn a_malformed_export_names_the_line() {
    let data = tempfile::tempdir().unwrap();
    let export = data.path().join("kv.jsonl");
    std::fs::write(&export, "{\"key\":\"a\",\"value\":\"b\"}\nnot json\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_heaven"))
        .args(["migrate", "kv-import"])
        .arg(&export)
        .env_clear()
        .env("HEAVEN_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("heaven: kv-import: line 2:"), "{stderr}");
}
