//! `tests/shim/wrangler`, the stand-in for `wrangler d1 execute` that lets the original
//! voice-control-plane smoke suites run against `heaven serve rooms`: every statement shape
//! those suites send (contract §11, "SQL shim") run through the shim against a running stack,
//! the room-table ones on its SQLite file and the credit ones through `heaven credits`, each
//! answer checked in wrangler's `--json` shape and against the HTTP side.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Heaven;
use common::rooms::{Wallet, create_room, join_room, login, post};
use serde_json::{Value, json};

fn shim() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/shim/wrangler")
}

/// Runs `wrangler d1 execute voice-control-plane --local [--json] --command=<sql>` as the
/// suites do; returns the exit code and stdout.
fn wrangler(data_dir: &Path, sql: &str, json: bool) -> (i32, String, String) {
    let mut args = vec!["d1", "execute", "voice-control-plane", "--local"];
    if json {
        args.push("--json");
    }
    let command = format!("--command={sql}");
    args.push(&command);
    let out = Command::new(shim())
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HEAVEN_DATA_DIR", data_dir)
        .env("HEAVEN_BIN", env!("CARGO_BIN_EXE_heaven"))
        .output()
        .expect("the shim runs (python3 on PATH)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `d1(sql)` of the suites: must succeed.
fn d1(data_dir: &Path, sql: &str) {
    let (code, _, err) = wrangler(data_dir, sql, false);
    assert_eq!(code, 0, "{sql}: {err}");
}

/// `d1json(sql)` of the suites: `JSON.parse(out)[0].results`.
fn d1json(data_dir: &Path, sql: &str) -> Vec<Value> {
    let (code, out, err) = wrangler(data_dir, sql, true);
    assert_eq!(code, 0, "{sql}: {err}");
    let parsed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(parsed[0]["success"], true, "{out}");
    parsed[0]["results"].as_array().unwrap().clone()
}

/// The suites' grant: a `credit_accounts` row with `seconds` of base credit.
fn grant_sql(wallet: &Wallet, seconds: u64) -> String {
    format!(
        "INSERT INTO credit_accounts (wallet, base_granted_seconds, bonus_granted_seconds, consumed_seconds, updated_at) VALUES ('{}', {seconds}, 0, 0, datetime('now'))",
        wallet.address
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_statement_shape_of_the_original_suites_is_answered_by_the_shim() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let stack = Heaven::start(
        &["serve", "rooms"],
        dir,
        &[("RPC_URL", "http://127.0.0.1:1")],
        false,
    );
    let http = reqwest::Client::new();
    let base = stack.url("voice-rooms");
    let host = Wallet::lowercase(31);
    let guest = Wallet::lowercase(32);
    let stranger = Wallet::lowercase(33);

    // A wallet never granted has no credit_accounts row, as in D1.
    let none = d1json(
        dir,
        &format!(
            "SELECT base_granted_seconds, bonus_granted_seconds, consumed_seconds FROM credit_accounts WHERE wallet = '{}'",
            stranger.address
        ),
    );
    assert_eq!(none, Vec::<Value>::new());

    // INSERT INTO credit_accounts: the grant the suites make, seen by GET /credits.
    d1(dir, &grant_sql(&host, 1800));
    d1(dir, &grant_sql(&guest, 1800));
    let host_token = login(&http, &base, &host).await;
    let guest_token = login(&http, &base, &guest).await;
    let credits: Value = http
        .get(format!("{base}/credits"))
        .bearer_auth(&guest_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(credits["remaining_seconds"], 1800);

    let room = create_room(&http, &base, &host_token).await;
    let mut conns = Vec::new();
    for token in [&host_token, &guest_token] {
        conns.push(join_room(&http, &base, token, &room).await);
    }
    let (host_conn, guest_conn) = (conns[0].clone(), conns[1].clone());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let heartbeat = |token: String, conn: String| {
        let http = http.clone();
        let url = format!("{base}/rooms/heartbeat");
        let body = json!({ "room_id": room, "connection_id": conn });
        async move { post(&http, url, &token, body).await }
    };
    let (status, _) = heartbeat(guest_token.clone(), guest_conn.clone()).await;
    assert_eq!(status, 200);

    // The compensate suite's room_participants statements, on the stack's SQLite file.
    let count_sql = format!(
        "SELECT COUNT(*) as cnt FROM room_participants WHERE connection_id = '{guest_conn}'"
    );
    assert_eq!(d1json(dir, &count_sql), vec![json!({ "cnt": 1 })]);
    d1(
        dir,
        &format!("DELETE FROM room_participants WHERE connection_id = '{guest_conn}'"),
    );
    assert_eq!(d1json(dir, &count_sql), vec![json!({ "cnt": 0 })]);
    let (status, refused) = heartbeat(guest_token.clone(), guest_conn.clone()).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("not_your_connection"))
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    d1(
        dir,
        &format!(
            "INSERT INTO room_participants (connection_id, room_id, wallet, agora_uid, joined_at_epoch, last_metered_at_epoch) VALUES ('{guest_conn}', '{room}', '{}', 12345, {now}, {now})",
            guest.address
        ),
    );
    let (status, left) = post(
        &http,
        format!("{base}/rooms/leave"),
        &guest_token,
        json!({ "room_id": room, "connection_id": guest_conn }),
    )
    .await;
    assert_eq!((status, &left["closed"]), (200, &json!(false)), "{left}");
    let (status, left) = post(
        &http,
        format!("{base}/rooms/leave"),
        &host_token,
        json!({ "room_id": room, "connection_id": host_conn }),
    )
    .await;
    assert_eq!((status, &left["closed"]), (200, &json!(true)), "{left}");
    for conn in [&guest_conn, &host_conn] {
        let rows = d1json(
            dir,
            &format!("SELECT left_at_epoch FROM room_participants WHERE connection_id = '{conn}'"),
        );
        assert_eq!(rows.len(), 1);
        assert!(rows[0]["left_at_epoch"].as_u64().is_some(), "{rows:?}");
    }
    assert_eq!(
        d1json(
            dir,
            &format!("SELECT status FROM rooms WHERE room_id = '{room}'")
        ),
        vec![json!({ "status": "closed" })]
    );

    // The concurrent suite's credit reads: the account and its debit_usage events in order,
    // the last balance_after equal to what the account says is left.
    let account = d1json(
        dir,
        &format!(
            "SELECT base_granted_seconds, bonus_granted_seconds, consumed_seconds FROM credit_accounts WHERE wallet = '{}'",
            host.address
        ),
    );
    assert_eq!(account.len(), 1, "{account:?}");
    assert_eq!(account[0]["base_granted_seconds"], 1800);
    assert_eq!(account[0]["bonus_granted_seconds"], 0);
    let consumed = account[0]["consumed_seconds"].as_u64().unwrap();
    assert!(consumed >= 2, "host billed {consumed} s");
    let events = d1json(
        dir,
        &format!(
            "SELECT delta_seconds, balance_after_seconds FROM credit_events WHERE wallet = '{}' AND event_type = 'debit_usage' ORDER BY rowid",
            host.address
        ),
    );
    assert!(!events.is_empty());
    let debited: i64 = events
        .iter()
        .map(|e| e["delta_seconds"].as_i64().unwrap())
        .sum();
    assert_eq!(debited, -i64::try_from(consumed).unwrap(), "{events:?}");
    assert_eq!(
        events.last().unwrap(),
        &json!({"delta_seconds": events.last().unwrap()["delta_seconds"], "balance_after_seconds": 1800 - consumed})
    );

    // UPDATE consumed_seconds: 10 s left, too little to create a room.
    d1(
        dir,
        &format!(
            "UPDATE credit_accounts SET consumed_seconds = 1790 WHERE wallet = '{}'",
            host.address
        ),
    );
    let account = d1json(
        dir,
        &format!(
            "SELECT consumed_seconds FROM credit_accounts WHERE wallet = '{}'",
            host.address
        ),
    );
    assert_eq!(account, vec![json!({ "consumed_seconds": 1790 })]);
    let (status, refused) = post(
        &http,
        format!("{base}/rooms/create"),
        &host_token,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("insufficient_credits"))
    );

    // A statement the shim does not translate fails loudly instead of answering wrongly.
    let (code, _, err) = wrangler(dir, "DELETE FROM credit_events", true);
    assert_eq!(code, 1);
    assert!(err.contains("not one the shim translates"), "{err}");

    let (status, _) = stack.stop();
    assert!(status.success());
}
