//! The media worker inside a real `heaven serve api` process killed with SIGKILL in the middle
//! of an anchor (the fake Load agent holds `POST /post/{id}` open): the restarted process, on
//! the same data dir, finds the job `anchoring` with a lease nobody renews, and its sweep
//! resumes the anchor (Load now answers) — the job ends `anchored`, not stuck as in the
//! original. The uploader is Self-verified through the identity canister in the same process.
//!
//! Real clock and child processes; the lease is 3 s and the sweep runs every second.

mod common;

use std::time::{Duration, Instant};

use blob_store::testing::{FakeLoad, LOAD_KEY};
use common::{Heaven, import_identities};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const USER: &str = "0x4444444444444444444444444444444444444444";

async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn job(http: &reqwest::Client, api: &str, id: &str) -> Value {
    let (status, body) = call(
        http.get(format!("{api}/api/music/publish/{id}"))
            .header("x-user-address", USER),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["job"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_killed_mid_anchor_is_resumed_by_the_restarted_worker() {
    let data = tempfile::tempdir().unwrap();
    import_identities(data.path(), &[USER]);

    let load = FakeLoad::start().await;
    let uri = load.server.uri();
    let env = [
        ("BLOB_BACKEND", "load"),
        ("LOAD_S3_AGENT_URL", uri.as_str()),
        ("LOAD_GATEWAY_URL", uri.as_str()),
        ("ARWEAVE_GATEWAY_URL", uri.as_str()),
        ("LOAD_S3_AGENT_API_KEY", LOAD_KEY),
        ("MUSIC_JOB_LEASE_SECS", "3"),
        ("MUSIC_LEASE_SWEEP_SECS", "1"),
    ];
    let stack = Heaven::start(&["serve", "api"], data.path(), &env, false);
    let api = stack.url("api");
    let http = reqwest::Client::new();

    let audio: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let form = Form::new()
        .part(
            "file",
            Part::bytes(audio)
                .file_name("audio.bin")
                .mime_str("audio/mpeg")
                .unwrap(),
        )
        .text("publishType", "cover");
    let (status, started) = call(
        http.post(format!("{api}/api/music/publish/start"))
            .header("x-user-pkp", USER)
            .multipart(form),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let id = started["job"]["jobId"].as_str().unwrap().to_owned();
    let (status, checked) = call(
        http.post(format!("{api}/api/music/preflight"))
            .header("x-user-address", USER)
            .json(&json!({
                "jobId": id,
                "parentIpIds": ["0x5555555555555555555555555555555555555555"],
                "licenseTermsIds": [1],
            })),
    )
    .await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["job"]["status"], "policy_passed");

    // Anchor while Load holds the post open, then SIGKILL the worker.
    load.set_post_delay(Duration::from_secs(3600));
    let anchor = {
        let (http, url) = (http.clone(), format!("{api}/api/music/publish/{id}/anchor"));
        tokio::spawn(async move {
            let _ = http.post(url).header("x-user-address", USER).send().await;
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while load.post_count().await == 0 {
        assert!(Instant::now() < deadline, "the anchor never reached Load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(job(&http, &api, &id).await["status"], "anchoring");
    let status = stack.kill();
    assert!(!status.success(), "killed, not exited: {status:?}");
    anchor.abort();
    load.set_post_delay(Duration::ZERO);

    let stack = Heaven::start(&["serve", "api"], data.path(), &env, true);
    let api = stack.url("api");
    let deadline = Instant::now() + Duration::from_secs(15);
    let resumed = loop {
        let current = job(&http, &api, &id).await;
        if current["status"] != "anchoring" {
            break current;
        }
        if Instant::now() > deadline {
            let posts = load.post_count().await;
            let (_, logs) = stack.stop();
            panic!("still anchoring after 15 s ({posts} posts): {current}\n{logs}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(resumed["status"], "anchored", "{resumed}");
    let staged = resumed["upload"]["stagedDataitemId"].as_str().unwrap();
    assert_eq!(resumed["anchor"]["ref"], format!("ar://{staged}"));
    assert_eq!(resumed["error"], Value::Null);
    assert_eq!(load.post_count().await, 2, "posted once per worker");
    assert_eq!(load.upload_count(), 1);
}
