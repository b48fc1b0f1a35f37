//! The backup and restore of deploy/runbooks/akash.md, done as the runbook says: a stack on
//! PostgreSQL (`STATE_STORE=postgres`) holds imported songs and rooms and a pending login nonce;
//! `pg_dump --format=custom` of its database, `pg_restore` into a fresh database, and a new
//! process on the restored database serves the same data (the songs and rooms byte for byte,
//! and the nonce still logs the wallet in). `pg_dump` / `pg_restore` come from Debian's
//! `postgresql-client` (`cargo xtask setup` installs it).

mod common;

use std::process::Command;

use common::d1_dump::ROOMS_DUMP;
use common::postgres::Database;
use common::rooms::Wallet;
use common::{Heaven, run_to_end};
use serde_json::{Value, json};

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|err| {
        panic!("{command:?} did not start ({err}): `cargo xtask setup` installs postgresql-client")
    });
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn get(http: &reqwest::Client, url: String) -> (u16, String) {
    let response = http.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pg_dump_restored_into_a_fresh_database_serves_the_same_data() {
    let source = Database::create("backup_src").await;
    let restored = Database::create("backup_dst").await;
    let data = tempfile::tempdir().unwrap();
    let env = |db: &Database| -> Vec<(&'static str, String)> {
        vec![
            ("STATE_STORE", "postgres".into()),
            ("DATABASE_URL", db.url()),
            ("JWT_SECRET", "backup-test-secret".into()),
        ]
    };

    // The source stack: imported rows, and a nonce issued but not used yet.
    let dump = data.path().join("d1.sql");
    std::fs::write(&dump, ROOMS_DUMP).unwrap();
    let vars = env(&source);
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, _, stderr) = run_to_end(
        &["migrate", "rooms-import", dump.to_str().unwrap()],
        data.path(),
        &borrowed,
    );
    assert_eq!(code, 0, "{stderr}");

    let http = reqwest::Client::new();
    let wallet = Wallet::new(7);
    let (songs, nonce) = {
        let stack = Heaven::start(&["serve", "rooms"], data.path(), &borrowed, false);
        let base = stack.url("voice-rooms");
        let songs = get(&http, format!("{base}/songs/search?q=hello")).await;
        assert_eq!(songs.0, 200, "{}", songs.1);
        assert!(songs.1.contains("Héllo"), "{}", songs.1);
        let nonce: Value = http
            .post(format!("{base}/auth/nonce"))
            .json(&json!({ "wallet": wallet.address }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (status, _) = stack.stop();
        assert!(status.success());
        (songs, nonce["nonce"].as_str().unwrap().to_owned())
    };

    // Back up and restore, as the runbook does.
    let archive = data.path().join("heaven.pgdump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&archive)
        .arg(source.url()));
    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(restored.url())
        .arg(&archive));

    // A new process on the restored database, with a fresh data dir.
    let fresh = tempfile::tempdir().unwrap();
    let vars = env(&restored);
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stack = Heaven::start(&["serve", "rooms"], fresh.path(), &borrowed, false);
    let base = stack.url("voice-rooms");
    assert_eq!(
        get(&http, format!("{base}/songs/search?q=hello")).await,
        songs
    );
    assert_eq!(
        get(&http, format!("{base}/songs/s2")).await.0,
        200,
        "every imported song is back"
    );
    let verified = http
        .post(format!("{base}/auth/verify"))
        .json(&json!({"wallet": wallet.address, "signature": wallet.sign(&nonce), "nonce": nonce}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        verified.status(),
        200,
        "the restored nonce logs the wallet in"
    );
}
