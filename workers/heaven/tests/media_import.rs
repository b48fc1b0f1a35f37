//! `heaven migrate media-import`: api-core's `music_publish_jobs` (an old database without the
//! artifact and metadata columns, as quirk 3 left some) and `music_upload_bans` from a
//! `wrangler d1 export`, verified by row counts; the imported jobs answer through the running
//! worker, the imported idempotency key replays, the ban blocks, and a job the original left
//! stuck in `anchoring` is released by the first lease sweep instead of staying stuck.

mod common;

use std::time::{Duration, Instant};

use common::{Heaven, import_identities, run_to_end};
use serde_json::{Value, json};

const OWNER: &str = "0x6666666666666666666666666666666666666666";
const BANNED: &str = "0x7777777777777777777777777777777777777777";

const DUMP: &str = r#"PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE music_publish_jobs (job_id TEXT PRIMARY KEY, user_address TEXT NOT NULL, status TEXT NOT NULL, publish_type TEXT, idempotency_key TEXT, file_name TEXT, content_type TEXT, file_size INTEGER, audio_sha256 TEXT, fingerprint TEXT, duration_s INTEGER, staged_dataitem_id TEXT, staged_gateway_url TEXT, staged_payload_json TEXT, policy_decision TEXT NOT NULL DEFAULT 'pending', policy_reason_code TEXT, policy_reason TEXT, parent_ip_ids_json TEXT, license_terms_ids_json TEXT, anchored_dataitem_id TEXT, arweave_ref TEXT, arweave_url TEXT, arweave_available INTEGER NOT NULL DEFAULT 0, anchor_payload_json TEXT, story_tx_hash TEXT, story_ip_id TEXT, story_token_id TEXT, story_license_terms_ids_json TEXT, story_block_number TEXT, megaeth_tx_hash TEXT, error_code TEXT, error_message TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO "music_publish_jobs" VALUES('music_00000000000000000000000000000001','0x6666666666666666666666666666666666666666','registered','original','key-1','song.mp3','audio/mpeg',1234,'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','fp',200,'stagedid1','https://gateway.s3-node-1.load.network/resolve/stagedid1','{"id":"stagedid1"}','pass',NULL,NULL,'[]','[]','stagedid1','ar://stagedid1','https://arweave.net/stagedid1',1,'{"ok":true}',NULL,NULL,NULL,NULL,NULL,'0xtempo',NULL,NULL,1768000000,1768000100);
INSERT INTO "music_publish_jobs" VALUES('music_00000000000000000000000000000002','0x6666666666666666666666666666666666666666','anchoring','cover',NULL,'b.mp3','audio/mpeg',99,NULL,NULL,NULL,'stagedid2','https://gateway.s3-node-1.load.network/resolve/stagedid2','{}','pass',NULL,NULL,'["0x5555555555555555555555555555555555555555"]','["1"]',NULL,NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,1768000200,1768000200);
INSERT INTO "music_publish_jobs" VALUES('music_00000000000000000000000000000003','0x7777777777777777777777777777777777777777','staged',NULL,NULL,NULL,'audio/wav',10,NULL,NULL,NULL,'stagedid3',NULL,NULL,'pending',NULL,NULL,NULL,NULL,NULL,NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,1768000300,1768000300);
CREATE TABLE music_upload_bans (ban_id INTEGER PRIMARY KEY AUTOINCREMENT, user_address TEXT NOT NULL, self_nullifier TEXT, reason_code TEXT NOT NULL, reason TEXT NOT NULL, evidence_json TEXT, active INTEGER NOT NULL DEFAULT 1 CHECK(active IN (0, 1)), expires_at INTEGER, created_by TEXT, created_at INTEGER NOT NULL DEFAULT (unixepoch()));
INSERT INTO "music_upload_bans" VALUES(1,'0x7777777777777777777777777777777777777777',NULL,'copyright','Repeated copyright strikes','{}',1,NULL,'ops',1768000400);
INSERT INTO "music_upload_bans" VALUES(2,'0x6666666666666666666666666666666666666666',NULL,'old','Lifted',NULL,0,NULL,'ops',1768000000);
"#;

async fn get(url: String, user: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .header("x-user-address", user)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_and_bans_are_imported_counted_and_served() {
    let data = tempfile::tempdir().unwrap();
    let dump = data.path().join("dump.sql");
    std::fs::write(&dump, DUMP).unwrap();
    let (code, stdout, stderr) = run_to_end(
        &["migrate", "media-import", dump.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("imported music_publish_jobs: 3 rows in the dump, 3 stored; music_upload_bans: 2 rows in the dump, 2 stored; from "),
        "{stdout}"
    );
    // Re-running overwrites the same records.
    let (code, stdout, _) = run_to_end(
        &["migrate", "media-import", dump.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("3 rows in the dump, 3 stored"), "{stdout}");

    import_identities(data.path(), &[OWNER, BANNED]);

    let env = [("MUSIC_LEASE_SWEEP_SECS", "1")];
    let stack = Heaven::start(&["serve", "api"], data.path(), &env, false);
    let api = stack.url("api");
    let (status, body) = get(
        format!("{api}/api/music/publish/music_00000000000000000000000000000001"),
        OWNER,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let job = &body["job"];
    assert_eq!(job["status"], "registered");
    assert_eq!(job["anchor"]["arweaveAvailable"], true);
    assert_eq!(job["registration"]["tempoTxHash"], "0xtempo");
    assert_eq!(job["upload"]["cover"]["stagedDataitemId"], Value::Null);
    assert_eq!(job["metadata"]["status"], "none");
    assert_eq!(job["createdAt"], 1_768_000_000);

    // The banned user is blocked; the lifted ban does not block the owner.
    let (status, body) = get(
        format!("{api}/api/music/publish/music_00000000000000000000000000000003"),
        BANNED,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "Upload access blocked", "reasonCode": "copyright", "reason": "Repeated copyright strikes"})
        )
    );

    // The job the original left in `anchoring` does not stay there.
    let url = format!("{api}/api/music/publish/music_00000000000000000000000000000002");
    let deadline = Instant::now() + Duration::from_secs(20);
    let released = loop {
        let (_, body) = get(url.clone(), OWNER).await;
        if body["job"]["status"] != "anchoring" {
            break body["job"].clone();
        }
        assert!(Instant::now() < deadline, "still anchoring: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The local blob store cannot anchor (and never staged it): back to policy_passed.
    assert_eq!(released["status"], "policy_passed", "{released}");
    assert_eq!(released["error"]["code"], "anchor_failed");
}
