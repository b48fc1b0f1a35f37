//! The shipped identity canister's Self and directory data on the harness (and PocketIC when
//! `POCKET_IC_BIN` is set): the certified `GET /api/self/identity/<address>` after a verify
//! webhook, checked against the certified data the canister set, and a batched D1 import that
//! survives an upgrade between batches.

#[path = "../benches/support/identity_gateway.rs"]
mod identity_gateway;

use candid::Principal;
use ic_certification_4::{HashTree, LookupResult};
use ic_http_certification::{DefaultResponseCertification, HttpResponse, response_hash};
use ic_wasm_harness::{Harness, Scenario, ScenarioExt, scenario_tests};
use identity_canister::endpoints::{AdminError, ImportBatchOutcome};
use identity_canister::import::{self, TableSummary};
use identity_canister::lifecycle::UpgradeArg;
use identity_canister::state::event::ImportRows;
use identity_canister::state::{Like, SelfConfig, ShadowProfile, User};
use identity_gateway::{
    controller, expect_status, get, header, identity_wasm, install_identity, json_of, post,
    query_only,
};
use serde_json::json;
use sha2::{Digest, Sha256};

const USER: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

fn set_mock(s: &mut dyn Scenario, c: Principal) {
    let config = SelfConfig {
        mock: true,
        ..SelfConfig::default()
    };
    let set: Result<(), AdminError> = s
        .update_as(c, controller(s), "set_self_config", (config,))
        .unwrap();
    assert_eq!(set, Ok(()));
}

/// Opens a session for [`USER`] and verifies it through the webhook (mock mode).
fn verify_user(s: &mut dyn Scenario, c: Principal) {
    set_mock(s, c);
    let session = expect_status(
        s,
        c,
        post("/api/self/session", &json!({"userAddress": USER})),
        200,
    );
    let id = session["sessionId"].as_str().unwrap().to_string();
    let webhook = json!({"attestationId": 1, "proof": {"a": []}, "publicSignals": [],
                         "userContextData": format!("{id}|dob:1990-01-01|nat:FRA")});
    let answer = expect_status(s, c, post("/api/self/verify", &webhook), 200);
    assert_eq!(answer, json!({"status": "success", "result": true}));
}

/// `name=:<base64>:` of an `IC-Certificate` header.
fn certificate_field(header: &str, name: &str) -> Vec<u8> {
    use base64::Engine;
    let start = header.find(&format!("{name}=:")).unwrap() + name.len() + 2;
    let end = start + header[start..].find(':').unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(&header[start..end])
        .unwrap()
}

fn certified_identity_verifies_against_the_certified_data(h: &mut Harness) {
    let c = install_identity(h);
    verify_user(h, c);
    let url = format!("/api/self/identity/{USER}");
    let response = query_only(h, c, &get(&url));
    assert_ne!(response.upgrade, Some(true), "answered by the query");
    assert_eq!(response.status_code, 200);
    assert_eq!(json_of(&response)["nationality"], "FRA");
    let certificate = header(&response, "ic-certificate").unwrap().to_string();
    let expression = header(&response, "ic-certificateexpression")
        .unwrap()
        .to_string();

    // The witness is rooted in what the canister set as its certified data.
    let tree: HashTree = serde_cbor::from_slice(&certificate_field(&certificate, "tree")).unwrap();
    assert_eq!(tree.digest().to_vec(), h.certified_data(c).unwrap());
    let expr_path: Vec<String> =
        serde_cbor::from_slice(&certificate_field(&certificate, "expr_path")).unwrap();
    assert_eq!(
        expr_path,
        ["http_expr", "api", "self", "identity", USER, "<$>"]
    );

    // And it holds this very response: status, content type and body, under its expression.
    let leaf_path = |body: &[u8]| -> Vec<Vec<u8>> {
        let served = HttpResponse::builder()
            .with_status_code(ic_http_certification::StatusCode::OK)
            .with_headers(vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("ic-certificateexpression".to_string(), expression.clone()),
            ])
            .with_body(body.to_vec())
            .build();
        let certified_headers =
            DefaultResponseCertification::certified_response_headers(&["content-type"][..]);
        let mut path: Vec<Vec<u8>> = expr_path.iter().map(|s| s.as_bytes().to_vec()).collect();
        path.push(Sha256::digest(expression.as_bytes()).to_vec());
        path.push(Vec::new());
        path.push(response_hash(&served, &certified_headers, None).to_vec());
        path
    };
    assert!(matches!(
        tree.lookup_path(leaf_path(&response.body)),
        LookupResult::Found(_)
    ));
    let mut forged = response.body.clone();
    forged[2] ^= 1;
    assert!(!matches!(
        tree.lookup_path(leaf_path(&forged)),
        LookupResult::Found(_)
    ));
}

fn profile(i: usize) -> ShadowProfile {
    ShadowProfile {
        id: format!("shadow-{i:04}"),
        source: "dateme".into(),
        featured_rank: i as i64,
        created_at_ms: 1,
        updated_at_ms: 1,
        ..ShadowProfile::default()
    }
}

/// 40 profiles, 10 users and 30 likes, as a dump would give them.
fn dump_rows() -> ImportRows {
    let users: Vec<User> = (0..10)
        .map(|i| User {
            address: format!("0x{:040x}", i + 1),
            created_at_ms: 5,
            last_active_at_ms: None,
            directory_tier: "claimed".into(),
        })
        .collect();
    let likes = (0..30)
        .map(|i| Like {
            id: i as u64 + 1,
            liker_address: users[i % 10].address.clone(),
            target_type: "shadow".into(),
            target_id: format!("shadow-{:04}", i + 1),
            created_at_ms: 10 + i as u64,
        })
        .collect();
    ImportRows {
        users,
        shadow_profiles: (1..=40).map(profile).collect(),
        likes,
        ..ImportRows::default()
    }
}

fn send_batch(
    s: &mut dyn Scenario,
    c: Principal,
    index: u64,
    rows: &ImportRows,
) -> ImportBatchOutcome {
    let outcome: Result<ImportBatchOutcome, AdminError> = s
        .update_as(
            c,
            controller(s),
            "import_batch",
            ("run-1".to_string(), index, rows.clone()),
        )
        .unwrap();
    outcome.unwrap()
}

fn batched_import_survives_an_upgrade_between_batches(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let rows = import::check_rows(dump_rows()).unwrap();
    let batches = import::split(rows.clone(), 25);
    assert_eq!(batches.len(), 4);
    let mut summaries: Vec<Vec<TableSummary>> = Vec::new();
    for (i, batch) in batches.iter().enumerate().take(2) {
        let outcome = send_batch(s, c, i as u64, batch);
        assert!(outcome.applied);
        assert_eq!(outcome.summary, import::summarize(batch));
        summaries.push(outcome.summary);
    }
    // The importer dies here; the canister is upgraded before the run resumes.
    s.upgrade(
        c,
        &identity_wasm(),
        candid::encode_one(None::<UpgradeArg>).unwrap(),
    )
    .unwrap();
    let bytes = s
        .query_raw(
            c,
            controller(s),
            "import_progress",
            candid::encode_one("run-1").unwrap(),
        )
        .unwrap();
    let progress: Result<Vec<u64>, AdminError> = candid::decode_one(&bytes).unwrap();
    assert_eq!(progress, Ok(vec![0, 1]));
    // The resumed run sends everything again: applied batches are skipped, the rest applied.
    let mut resumed = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        let outcome = send_batch(s, c, i as u64, batch);
        assert_eq!(outcome.applied, i >= 2, "batch {i}");
        resumed.push(outcome.summary);
    }
    let expected: Vec<Vec<TableSummary>> = batches.iter().map(import::summarize).collect();
    assert_eq!(import::combine(&resumed), import::combine(&expected));
    assert_eq!(&resumed[..2], &summaries[..]);
    // The imported directory answers: the top featured profiles minus the viewer's likes.
    let viewer = format!("0x{:040x}", 1);
    let body = expect_status(s, c, get(&format!("/api/candidates?viewer={viewer}")), 200);
    let ids: Vec<&str> = body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["targetId"].as_str().unwrap())
        .collect();
    // Viewer 1 liked shadow-0001, -0011 and -0021.
    assert_eq!(
        ids,
        [
            "shadow-0002",
            "shadow-0003",
            "shadow-0004",
            "shadow-0005",
            "shadow-0006"
        ]
    );
}

/// Harness only: it exposes the certified data the canister set (PocketIC would need the
/// subnet's root key to check the certificate instead).
#[test]
fn certified_identity_on_the_harness() {
    certified_identity_verifies_against_the_certified_data(&mut Harness::new());
}

scenario_tests!(batched_import_survives_an_upgrade_between_batches);
