//! A `wrangler d1 export` dump of api-core's identity tables, generated here on the original's
//! schema (the CREATE TABLE statements of tests/fixtures/api-core-identity.sql, taken from
//! services/api-core schema.sql and migrations 0005 and 0013 at fac3e76), loaded into the
//! identity wasm on the harness:
//! - directly through the canister's `import_batch` method, with an upgrade between batches
//!   and the per-table row counts (counted from the dump's INSERT lines) and checksums compared;
//! - through `heaven migrate identity-import --canister` over the harness's IC HTTP interface
//!   (ic-agent), resuming a run whose first batches the canister already applied.

mod common;

use candid::{Encode, Principal};
use heaven::migrate::identity_deployed::{BATCH_ROWS, run_id};
use heaven::migrate::identity_dump;
use ic_wasm_harness::ic_http::IcHttpServer;
use ic_wasm_harness::{Harness, canister_wasm};
use identity_canister::endpoints::{AdminError, ImportBatchOutcome};
use identity_canister::import::{self, TableSummary};
use identity_canister::lifecycle::{InitArg, UpgradeArg};
use identity_canister::state::event::ImportRows;
use k256::pkcs8::{EncodePublicKey, LineEnding};

const FIXTURE: &str = include_str!("fixtures/api-core-identity.sql");
const HEAVEN_NODE: &str = "0x8edf6f47e89d05c0e21320161fda1fd1fabd0081a66c959691ea17102e39fb27";

fn user(i: usize) -> String {
    format!("0x{:040x}", i + 1)
}

/// The original's CREATE TABLE statements (from the fixture, which copies them verbatim).
fn schema() -> Vec<&'static str> {
    FIXTURE
        .lines()
        .filter(|l| l.starts_with("CREATE TABLE"))
        .collect()
}

fn create(table: &str) -> &'static str {
    schema()
        .into_iter()
        .find(|l| l.starts_with(&format!("CREATE TABLE {table} (")))
        .unwrap_or_else(|| panic!("no CREATE TABLE {table}"))
}

/// A dump of `n` users as `wrangler d1 export` writes it: each table's CREATE, then its rows,
/// then `sqlite_sequence`; `scrobble_batches` is a table the identity canister does not own.
fn dump(n: usize) -> String {
    let mut out = vec!["PRAGMA defer_foreign_keys=TRUE;".to_string()];
    let t0 = 1_771_000_000u64;
    let mut table = |name: &str, rows: Vec<String>| {
        out.push(create(name).to_string());
        out.extend(
            rows.into_iter()
                .map(|r| format!("INSERT INTO \"{name}\" VALUES({r});")),
        );
    };
    let tiers = ["handoff", "claimed", "verified"];
    table(
        "users",
        (0..n)
            .map(|i| {
                let active = if i % 3 == 0 {
                    "NULL".into()
                } else {
                    format!("{}", t0 * 1000 + i as u64)
                };
                format!("'{}',{},{active},'{}'", user(i), t0 * 1000, tiers[i % 3])
            })
            .collect(),
    );
    table(
        "shadow_profiles",
        (0..n)
            .map(|i| {
                let (claimed, at) = if i % 10 == 0 {
                    (format!("'{}'", user(i)), format!("{}", t0 * 1000 + 5))
                } else {
                    ("NULL".into(), "NULL".into())
                };
                format!(
                    "'shadow-{i:05}','acx',NULL,'Person {i}','It''s me',{},{},'City {i}',NULL,NULL,NULL,{},{},{},{claimed},{at}",
                    1 + i % 5,
                    1 + i % 3,
                    i % 50,
                    t0 * 1000,
                    t0 * 1000
                )
            })
            .collect(),
    );
    table(
        "claim_tokens",
        (0..n / 5)
            .map(|i| {
                format!(
                    "'tok-{i:05}','shadow-{:05}','{:064x}','{:064x}','dm',NULL,NULL,{},{},NULL,0,NULL,NULL",
                    i * 5,
                    i + 1,
                    i + 100_000,
                    t0 * 1000,
                    t0 * 1000 + 604_800_000
                )
            })
            .collect(),
    );
    let mut likes = Vec::new();
    for i in 0..n {
        for step in [1, 2] {
            likes.push(format!(
                "{},'{}','shadow','shadow-{:05}',{}",
                likes.len() + 1,
                user(i),
                (i + step) % n,
                t0 * 1000 + i as u64
            ));
        }
    }
    let like_count = likes.len();
    table("likes", likes);
    table(
        "matches",
        (0..n / 10)
            .map(|i| {
                format!(
                    "{},'{}','{}',{}",
                    i + 1,
                    user(2 * i),
                    user(2 * i + 1),
                    t0 * 1000
                )
            })
            .collect(),
    );
    table(
        "heaven_names",
        (0..n / 10)
            .map(|i| {
                format!(
                    "'name{i}','Name{i}','{}','active',{t0},4102444800,4105036800,NULL,{t0},{t0}",
                    user(i)
                )
            })
            .collect(),
    );
    table(
        "heaven_reserved",
        (0..20)
            .map(|i| format!("'reserved{i}','brand',{t0}"))
            .collect(),
    );
    table(
        "heaven_nonces",
        vec![format!("'nonce-1','{}',NULL,{t0},{t0}", user(0))],
    );
    table(
        "scrobble_batches",
        vec![format!("1,'{}','bafy',3,{t0},{t0},{t0}", user(0))],
    );
    table(
        "self_verifications",
        (0..n / 4)
            .map(|i| {
                format!(
                    "'{i:032x}','{}','verified','1990-04-01',35,'FRA',1,'{:064x}',{t0},{t0},{},NULL",
                    user(i),
                    i,
                    t0 + 600
                )
            })
            .collect(),
    );
    table(
        "user_identity",
        (0..n / 4)
            .map(|i| {
                format!(
                    "'{}','1990-04-01',35,'FRA','{i:032x}',{t0},{t0},{t0},'0x{:064x}'",
                    user(i),
                    i + 1
                )
            })
            .collect(),
    );
    table(
        "name_permit_issuance",
        (0..n / 10)
            .map(|i| {
                format!(
                    "{},'{}','{:064x}','device-{i}','0x{:02x}','{HEAVEN_NODE}',1,{}",
                    i + 1,
                    user(i),
                    i,
                    i % 256,
                    t0 + i as u64
                )
            })
            .collect(),
    );
    out.push(format!(
        "INSERT INTO \"sqlite_sequence\" VALUES('likes',{like_count});"
    ));
    out.join("\n") + "\n"
}

/// Rows per table as the dump's INSERT lines count them (independent of the dump reader);
/// a permit row becomes three window keys (wallet, IP, device).
fn inserted(dump: &str) -> Vec<(String, u64)> {
    import::TABLES
        .iter()
        .map(|table| {
            let prefix = format!("INSERT INTO \"{table}\" ");
            let lines = dump.lines().filter(|l| l.starts_with(&prefix)).count() as u64;
            let rows = if *table == "name_permit_issuance" {
                lines * 3
            } else {
                lines
            };
            (table.to_string(), rows)
        })
        .collect()
}

fn counts(summary: &[TableSummary]) -> Vec<(String, u64)> {
    summary.iter().map(|t| (t.table.clone(), t.rows)).collect()
}

async fn checked_rows(dump: &str) -> ImportRows {
    import::check_rows(identity_dump::read(dump).await.unwrap()).unwrap()
}

fn install(harness: &mut Harness, controllers: &[Principal]) -> Principal {
    let wasm = canister_wasm("identity").unwrap_or_else(|e| panic!("{e}"));
    let c = harness.create_canister_controlled_by(controllers);
    let init = Encode!(&InitArg {
        ecdsa_key_name: "dfx_test_key".into()
    })
    .unwrap();
    harness.install(c, &wasm, init).unwrap();
    c
}

fn send(
    harness: &mut Harness,
    c: Principal,
    run: &str,
    index: u64,
    rows: &ImportRows,
) -> ImportBatchOutcome {
    let reply = harness
        .update_call(
            c,
            Harness::controller(),
            "import_batch",
            Encode!(&run, &index, rows).unwrap(),
        )
        .unwrap();
    candid::decode_one::<Result<ImportBatchOutcome, AdminError>>(&reply)
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_generated_original_dump_imports_into_the_wasm_batch_by_batch() {
    let text = dump(300);
    let rows = checked_rows(&text).await;
    let batches = import::split(rows, BATCH_ROWS);
    assert!(batches.len() >= 8, "{} batches", batches.len());
    let mut harness = Harness::new();
    let c = install(&mut harness, &[]);
    let mut stored = Vec::new();
    let mut instructions = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        if i == batches.len() / 2 {
            let wasm = canister_wasm("identity").unwrap();
            harness
                .upgrade(c, &wasm, Encode!(&None::<UpgradeArg>).unwrap())
                .unwrap();
        }
        let outcome = send(&mut harness, c, "gen-1", i as u64, batch);
        assert!(outcome.applied, "batch {i}");
        instructions.push(harness.last_call_instructions());
        stored.push(outcome.summary);
    }
    let expected: Vec<Vec<TableSummary>> = batches.iter().map(import::summarize).collect();
    let (dump_tables, canister_tables) = (import::combine(&expected), import::combine(&stored));
    assert_eq!(canister_tables, dump_tables);
    assert_eq!(counts(&canister_tables), inserted(&text));
    let max = instructions.iter().max().unwrap();
    println!(
        "{} batches of at most {BATCH_ROWS} rows: at most {max} instructions per import_batch",
        batches.len()
    );
    // Well inside an update's 40 000 000 000 instruction limit.
    assert!(*max < 4_000_000_000, "{max}");
}

/// The controller key the importer's ic-agent signs with.
fn importer_key() -> k256::SecretKey {
    k256::SecretKey::from_slice(&[11; 32]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heaven_migrate_resumes_an_interrupted_run_on_the_deployed_canister() {
    let text = dump(120);
    let rows = checked_rows(&text).await;
    let run = run_id(&rows);
    let batches = import::split(rows, BATCH_ROWS);
    assert!(batches.len() >= 3);
    let der = importer_key().public_key().to_public_key_der().unwrap();
    let importer = Principal::self_authenticating(der.as_bytes());
    let mut harness = Harness::at_wall_clock();
    let c = install(&mut harness, &[importer]);
    // An earlier run of the same dump died after two batches.
    for (i, batch) in batches.iter().enumerate().take(2) {
        assert!(send(&mut harness, c, &run, i as u64, batch).applied);
    }
    let ic = IcHttpServer::start(harness).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("dump.sql");
    std::fs::write(&file, &text).unwrap();
    let pem = importer_key()
        .to_sec1_pem(LineEnding::LF)
        .unwrap()
        .to_string();
    let (ic_url, canister) = (ic.url(), c.to_text());
    let env = [
        ("ICP_URL", ic_url.as_str()),
        ("ICP_NETWORK", "local"),
        ("ICP_IDENTITY_PEM", pem.as_str()),
        ("ICP_IDENTITY_CANISTER_ID", canister.as_str()),
    ];
    let args = [
        "migrate",
        "identity-import",
        file.to_str().unwrap(),
        "--canister",
    ];
    let (code, stdout, stderr) =
        tokio::task::block_in_place(|| common::run_to_end(&args, data.path(), &env));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("run {run}: {} batches", batches.len())),
        "{stdout}"
    );
    assert!(stdout.contains("2 applied before"), "{stdout}");
    let marks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("batch "))
        .map(|l| l.rsplit(": ").next().unwrap())
        .collect();
    let mut want = vec!["already applied"; 2];
    want.extend(vec!["applied"; batches.len() - 2]);
    assert_eq!(marks, want, "{stdout}");
    // Per table: rows as the dump's INSERT lines count them, the same checksum on both sides.
    let tables: Vec<(String, u64)> = stdout
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            (cols.len() == 5 && cols[2].len() == 64).then(|| {
                assert_eq!((cols[2], cols[4]), (cols[3], "ok"), "{line}");
                (cols[0].to_string(), cols[1].parse().unwrap())
            })
        })
        .collect();
    assert_eq!(tables, inserted(&text), "{stdout}");
    // Every batch of the run is recorded as applied.
    let applied = ic.with_replica(|r| {
        let reply = r
            .harness
            .query_call(c, importer, "import_progress", Encode!(&run).unwrap())
            .unwrap();
        candid::decode_one::<Result<Vec<u64>, AdminError>>(&reply).unwrap()
    });
    assert_eq!(applied, Ok((0..batches.len() as u64).collect::<Vec<_>>()));
}
