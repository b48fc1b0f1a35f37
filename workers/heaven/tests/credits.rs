//! Session credits on the local stack: `heaven credits show|grant|adjust|events` through the
//! running stack and on the stopped stack's state file, and `heaven migrate credits-import`
//! of the original's D1 credit tables (all or nothing, re-runnable).

mod common;

use common::{Heaven, run_to_end};
use serde_json::Value;

const WALLET: &str = "0x00000000000000000000000000000000000000AA";

fn credits(data: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["credits"];
    all.extend_from_slice(args);
    run_to_end(&all, data, &[])
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_read_and_correct_credits_through_the_running_stack_and_on_the_file() {
    let data = tempfile::tempdir().unwrap();
    let stack = Heaven::start(&[], data.path(), &[], false);
    assert!(data.path().join("local-admin.json").exists());
    let (code, out, err) = credits(data.path(), &["grant", WALLET, "1800"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(out.trim()),
        serde_json::json!({"base_granted_seconds": 1800, "bonus_granted_seconds": 0,
                           "consumed_seconds": 0, "remaining_seconds": 1800})
    );
    let (code, out, err) = credits(data.path(), &["adjust", WALLET, "--consumed", "1790"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(out.trim())["remaining_seconds"], 10);
    let (code, _, err) = credits(data.path(), &["adjust", WALLET, "--consumed", "5000"]);
    assert_ne!(code, 0);
    assert!(err.contains("exceed"), "{err}");
    let (code, out, _) = credits(data.path(), &["events", WALLET, "--type", "admin_adjust"]);
    assert_eq!(code, 0);
    let rows: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["delta_seconds"], 1800);
    assert_eq!(rows[1]["delta_seconds"], -1790);
    assert_eq!(rows[1]["balance_after_seconds"], 10);
    assert!(rows[1]["created_at"].as_str().unwrap().ends_with(".000Z"));
    let (status, _) = stack.stop();
    assert!(status.success());
    assert!(
        !data.path().join("local-admin.json").exists(),
        "announcement removed"
    );

    // Stack stopped: the command opens the state file itself.
    let (code, out, err) = credits(data.path(), &["show", WALLET]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(out.trim())["consumed_seconds"], 1790);
    let (code, _, err) = credits(data.path(), &["show", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a 0x address"), "{err}");
}

const DUMP: &str = "
PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE credit_accounts (wallet TEXT PRIMARY KEY, base_granted_seconds INTEGER NOT NULL DEFAULT 0,
  bonus_granted_seconds INTEGER NOT NULL DEFAULT 0, consumed_seconds INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO \"credit_accounts\" VALUES('0x00000000000000000000000000000000000000aa',1800,1800,600,'2026-01-10T12:00:00.000Z');
INSERT INTO \"credit_accounts\" VALUES('0x00000000000000000000000000000000000000bb',1800,0,0,'2026-01-10T12:00:00.000Z');
CREATE TABLE credit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, wallet TEXT NOT NULL, delta_seconds INTEGER NOT NULL,
  event_type TEXT NOT NULL, balance_after_seconds INTEGER NOT NULL, connection_id TEXT, metadata_json TEXT,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO \"credit_events\" VALUES(4,'0x00000000000000000000000000000000000000aa',1800,'grant_base',1800,NULL,NULL,'2026-01-10T11:00:00.000Z');
INSERT INTO \"credit_events\" VALUES(5,'0x00000000000000000000000000000000000000aa',1800,'grant_celo_bonus',3600,NULL,NULL,'2026-01-10T11:30:00.000Z');
INSERT INTO \"credit_events\" VALUES(9,'0x00000000000000000000000000000000000000aa',-600,'debit_usage',3000,'conn-1',NULL,'2026-01-10T12:00:00.000Z');
CREATE TABLE verifications (wallet TEXT PRIMARY KEY, celo_verified INTEGER NOT NULL DEFAULT 0, bonus_granted_at TEXT);
INSERT INTO \"verifications\" VALUES('0x00000000000000000000000000000000000000aa',1,'2026-01-10T11:30:00.000Z');
";

#[tokio::test(flavor = "multi_thread")]
async fn the_original_credit_tables_import_whole_or_not_at_all() {
    let data = tempfile::tempdir().unwrap();
    let bad = data.path().join("bad.sql");
    std::fs::write(&bad, DUMP.replace("1800,0,0", "10,0,600")).unwrap();
    let (code, _, err) = run_to_end(
        &["migrate", "credits-import", bad.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("exceeds the grants"), "{err}");
    let (_, out, _) = credits(data.path(), &["show", WALLET]);
    assert_eq!(
        json(out.trim())["remaining_seconds"],
        0,
        "nothing was imported"
    );

    let good = data.path().join("dump.sql");
    std::fs::write(&good, DUMP).unwrap();
    for _ in 0..2 {
        let (code, out, err) = run_to_end(
            &["migrate", "credits-import", good.to_str().unwrap()],
            data.path(),
            &[],
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("imported 2 credit accounts and 3 credit events"),
            "{out}"
        );
    }
    let (_, out, _) = credits(data.path(), &["show", WALLET]);
    assert_eq!(
        json(out.trim()),
        serde_json::json!({"base_granted_seconds": 1800, "bonus_granted_seconds": 1800,
                           "consumed_seconds": 600, "remaining_seconds": 3000})
    );
    let (_, out, _) = credits(data.path(), &["events", WALLET]);
    let rows: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(rows.len(), 3, "re-running replaced the same rows");
    assert_eq!(rows[2]["event_type"], "debit_usage");
    assert_eq!(rows[2]["connection_id"], "conn-1");
    assert_eq!(rows[2]["created_at"], "2026-01-10T12:00:00.000Z");
    // New events continue after the imported ids.
    let (_, _, _) = credits(data.path(), &["grant", WALLET, "60"]);
    let (_, out, _) = credits(data.path(), &["events", WALLET]);
    assert_eq!(out.lines().count(), 4);

    // While a stack holds the state file, the import is refused with a clear message.
    let stack = Heaven::start(&[], data.path(), &[], false);
    let (code, _, err) = run_to_end(
        &["migrate", "credits-import", good.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("in use by another credits canister"), "{err}");
    drop(stack);
}

/// The controller key the importer's ic-agent signs with.
fn importer_key() -> k256::SecretKey {
    k256::SecretKey::from_slice(&[12; 32]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credit_ledger_imports_into_the_deployed_canister_and_is_read_back() {
    use candid::{Encode, Principal};
    use credits_canister::api::CreditBalance;
    use credits_canister::lifecycle::InitArg;
    use credits_canister::wallet::Wallet;
    use ic_wasm_harness::ic_http::IcHttpServer;
    use ic_wasm_harness::{Harness, canister_wasm};
    use k256::pkcs8::{EncodePublicKey, LineEnding};

    let der = importer_key().public_key().to_public_key_der().unwrap();
    let importer = Principal::self_authenticating(der.as_bytes());
    let mut harness = Harness::at_wall_clock();
    let wasm = canister_wasm("credits").unwrap_or_else(|e| panic!("{e}"));
    let c = harness.create_canister_controlled_by(&[importer]);
    let init = Encode!(&InitArg {
        ecdsa_key_name: "dfx_test_key".into()
    })
    .unwrap();
    harness.install(c, &wasm, init).unwrap();
    let ic = IcHttpServer::start(harness).await.unwrap();

    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("dump.sql");
    std::fs::write(&file, DUMP).unwrap();
    let pem = importer_key()
        .to_sec1_pem(LineEnding::LF)
        .unwrap()
        .to_string();
    let (ic_url, canister) = (ic.url(), c.to_text());
    let env = [
        ("ICP_URL", ic_url.as_str()),
        ("ICP_NETWORK", "local"),
        ("ICP_IDENTITY_PEM", pem.as_str()),
        ("ICP_CREDITS_CANISTER_ID", canister.as_str()),
    ];
    let args = [
        "migrate",
        "credits-import",
        file.to_str().unwrap(),
        "--canister",
    ];
    // Twice: a second run (a resumed one) rewrites the same accounts and rows.
    for _ in 0..2 {
        let (code, out, err) = tokio::task::block_in_place(|| run_to_end(&args, data.path(), &env));
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(
            out.contains("2 accounts and 3 credit events in 2 batches"),
            "{out}"
        );
        assert!(
            out.contains("batch 1/2: 2 accounts, 0 events: applied"),
            "{out}"
        );
        assert!(
            out.contains("batch 2/2: 0 accounts, 3 events: applied"),
            "{out}"
        );
        assert!(out.contains("verified 2 accounts"), "{out}");
    }
    let wallet = Wallet::parse(WALLET).unwrap();
    let balance = ic.with_replica(|r| {
        let reply = r
            .harness
            .query_call(c, importer, "balance", Encode!(&wallet).unwrap())
            .unwrap();
        candid::decode_one::<CreditBalance>(&reply).unwrap()
    });
    assert_eq!(
        (
            balance.base_granted_seconds.0,
            balance.bonus_granted_seconds.0,
            balance.consumed_seconds.0,
            balance.remaining_seconds.0
        ),
        (1800, 1800, 600, 3000)
    );

    // Without the canister id the command says what is missing; nothing else is needed to
    // refuse it.
    let (code, _, err) = tokio::task::block_in_place(|| run_to_end(&args, data.path(), &env[..3]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ICP_CREDITS_CANISTER_ID"), "{err}");
}
