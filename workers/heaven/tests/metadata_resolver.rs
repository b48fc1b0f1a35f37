//! metadata-resolver inside the `heaven` binary: `heaven migrate kv-import` loads a KV export
//! that `heaven serve resolver` then answers from, without asking MusicBrainz.

mod common;

use common::Heaven;

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
    let (code, stdout, stderr) = common::run_to_end(
        &["migrate", "kv-import", export.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("imported 1 cache entries (1 already expired, skipped) from "),
        "{stdout}"
    );

    let resolver = Heaven::start(
        &["serve", "resolver"],
        data.path(),
        // Nothing listens there: a request that reached MusicBrainz would fail.
        &[("MUSICBRAINZ_URL", "http://127.0.0.1:1")],
        false,
    );
    let answer = reqwest::get(format!(
        "{}/artist/{MBID}",
        resolver.url("metadata-resolver")
    ))
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
    let (code, _, stderr) = common::run_to_end(
        &["migrate", "kv-import", export.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.starts_with("heaven: kv-import: line 2:"), "{stderr}");
}
