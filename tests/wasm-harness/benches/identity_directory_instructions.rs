//! Instructions of the identity canister's directory paths, counted by the harness (wasmtime
//! fuel ≈ wasm instructions of the whole call): an import batch of the D1 migration
//! (`import_batch`, 1 000 shadow profiles each, up to 10 000), `POST /api/likes` and
//! `GET /api/candidates` against those 10 000 profiles (both through `http_request_update`,
//! the path the gateway takes for them). Prints figures; asserts only that calls succeed.
//!
//! `cargo bench -p ic_wasm_harness --bench identity_directory_instructions` (needs
//! `cargo xtask build-canisters identity` first).

#[path = "support/identity_gateway.rs"]
mod identity_gateway;

use candid::Principal;
use ic_wasm_harness::{GatewayRequest, GatewayUpdateRequest, Harness, Scenario, ScenarioExt};
use identity_canister::endpoints::{AdminError, ImportBatchOutcome};
use identity_canister::state::event::ImportRows;
use identity_canister::state::{LikesConfig, ShadowProfile};
use identity_gateway::{controller, get, install_identity, post};
use serde_json::json;

const PROFILES: usize = 10_000;
const BATCH: usize = 1_000;
const LIKES: usize = 20;

fn profile(i: usize) -> ShadowProfile {
    ShadowProfile {
        id: format!("shadow-{i:05}"),
        source: "dateme".into(),
        display_name: Some(format!("Profile {i}")),
        bio: Some("Likes long walks and short benchmarks".into()),
        location: Some("San Francisco".into()),
        anime_cid: Some("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".into()),
        featured_rank: i as i64 + 1,
        created_at_ms: 1,
        updated_at_ms: 1,
        ..ShadowProfile::default()
    }
}

fn update_path(s: &mut dyn Scenario, c: Principal, request: GatewayRequest) -> u64 {
    let bytes = candid::encode_one(GatewayUpdateRequest::from(request)).unwrap();
    let reply = s
        .update_raw(c, Principal::anonymous(), "http_request_update", bytes)
        .unwrap();
    let response: ic_wasm_harness::GatewayResponse = candid::decode_one(&reply).unwrap();
    assert_eq!(
        response.status_code,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    s.last_call_instructions().expect("the harness counts")
}

fn main() {
    let mut h = Harness::new();
    let s: &mut dyn Scenario = &mut h;
    let c = install_identity(s);
    let admin = controller(s);
    let mut batch_costs = Vec::new();
    for (n, start) in (0..PROFILES).step_by(BATCH).enumerate() {
        let rows = ImportRows {
            shadow_profiles: (start..start + BATCH).map(profile).collect(),
            ..ImportRows::default()
        };
        let outcome: Result<ImportBatchOutcome, AdminError> = s
            .update_as(
                c,
                admin,
                "import_batch",
                ("bench".to_string(), n as u64, rows),
            )
            .unwrap();
        assert!(outcome.unwrap().applied);
        batch_costs.push(s.last_call_instructions().unwrap());
    }
    let limits = LikesConfig {
        window_seconds: 60,
        per_viewer: 1_000,
        per_ip: 1_000,
    };
    let set: Result<(), AdminError> = s
        .update_as(c, admin, "set_likes_config", (limits,))
        .unwrap();
    set.unwrap();
    let viewer = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    let mut like_costs = Vec::new();
    for i in 0..LIKES {
        let body = json!({"viewerAddress": viewer, "targetType": "shadow", "targetId": format!("shadow-{i:05}")});
        like_costs.push(update_path(s, c, post("/api/likes", &body)));
    }
    let candidates = update_path(s, c, get(&format!("/api/candidates?viewer={viewer}")));
    let fresh_viewer = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
    let candidates_fresh =
        update_path(s, c, get(&format!("/api/candidates?viewer={fresh_viewer}")));

    let avg = |v: &[u64]| v.iter().sum::<u64>() / v.len() as u64;
    println!("identity directory, harness instruction counts ({PROFILES} shadow profiles):");
    println!(
        "  import_batch of {BATCH} profiles: first {}  last {}  average {}",
        batch_costs[0],
        batch_costs[batch_costs.len() - 1],
        avg(&batch_costs)
    );
    println!(
        "  POST /api/likes (new shadow like): first {}  average over {LIKES} {}",
        like_costs[0],
        avg(&like_costs)
    );
    println!("  GET /api/candidates, viewer with {LIKES} likes: {candidates}");
    println!("  GET /api/candidates, viewer without likes: {candidates_fresh}");
    println!(
        "BENCH identity_import_batch_{BATCH}\t{}\tinstructions",
        avg(&batch_costs)
    );
    println!("BENCH identity_like\t{}\tinstructions", avg(&like_costs));
    println!("BENCH identity_candidates_{LIKES}_likes\t{candidates}\tinstructions");
    println!("BENCH identity_candidates_no_likes\t{candidates_fresh}\tinstructions");
}
