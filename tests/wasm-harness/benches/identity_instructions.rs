//! Instructions per call of the identity canister's gateway paths, counted by the harness
//! (wasmtime fuel ≈ wasm instructions of everything the call ran, callbacks and the transform
//! included): the certified reads the `http_request` query answers, and the writes that go
//! through `http_request_update` (the permit with its JSON-RPC outcalls answered by a fake node
//! and its threshold-ECDSA signature).
//!
//! `cargo bench -p ic_wasm_harness --bench identity_instructions` (needs
//! `cargo xtask build-canisters identity` first).

#[path = "support/identity_gateway.rs"]
mod identity_gateway;

use std::sync::Arc;

use candid::Principal;
use ic_wasm_harness::{GatewayRequest, GatewayUpdateRequest, Harness, Scenario};
use identity_gateway::{
    Owner, challenge, configure_policy, fake_tempo, get, install_identity, json_of, permit_body,
    post, query_only, register_name,
};
use k256::ecdsa::SigningKey;

/// Calls averaged per figure (after one warm-up call, which also fetches the signing key).
const CALLS: u64 = 5;
const LABEL: &str = "stardust";
const POLICY_LABEL: &str = "moonlight";

/// `http_request_update` alone, as the gateway sends it after an `upgrade` answer; returns the
/// status and the instructions it took.
fn update_path(s: &mut dyn Scenario, c: Principal, request: GatewayRequest) -> (u16, u64) {
    let bytes = candid::encode_one(GatewayUpdateRequest::from(request)).unwrap();
    let reply = s
        .update_raw(c, Principal::anonymous(), "http_request_update", bytes)
        .unwrap();
    let response: ic_wasm_harness::GatewayResponse = candid::decode_one(&reply).unwrap();
    assert!(
        response.status_code == 200,
        "{} {}",
        response.status_code,
        String::from_utf8_lossy(&response.body)
    );
    (
        response.status_code,
        s.last_call_instructions().expect("the harness counts"),
    )
}

/// The certified query answer of `GET url`, asserting it needed no update.
fn certified_query(s: &mut dyn Scenario, c: Principal, url: &str) -> u64 {
    let response = query_only(s, c, &get(url));
    assert_eq!(
        (response.status_code, response.upgrade),
        (200, None),
        "GET {url} was not answered by the query"
    );
    s.last_call_instructions().expect("the harness counts")
}

fn average(mut measure: impl FnMut(u64) -> u64) -> u64 {
    measure(0);
    (1..=CALLS).map(&mut measure).sum::<u64>() / CALLS
}

fn report(what: &str, instructions: u64) {
    println!("{what:<52} {instructions:>12} instructions");
    println!(
        "BENCH identity_{}\t{instructions}\tinstructions",
        figure_name(what)
    );
}

/// `what` as a figure name: lower-case words joined by `_`, punctuation dropped.
fn figure_name(what: &str) -> String {
    what.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

fn main() {
    let mut harness = Harness::new();
    let s: &mut dyn Scenario = &mut harness;
    let c = install_identity(s);
    let owner = Owner::hardhat_0();
    register_name(s, c, &owner, LABEL, "bench-nonce-000000");
    configure_policy(s, c);
    s.set_outcall_handler(Some(fake_tempo(Arc::default())));
    let name_url = format!("/api/names/{LABEL}");

    println!("identity canister, harness backend, average of {CALLS} calls after a warm-up:");
    report(
        "GET /health (certified query)",
        average(|_| certified_query(s, c, "/health")),
    );
    report(
        "GET /api/names/:label (certified query)",
        average(|_| certified_query(s, c, &name_url)),
    );
    report(
        "GET /api/names/:label (update path)",
        average(|_| update_path(s, c, get(&name_url)).1),
    );
    report(
        "POST /api/names/register (update)",
        average(|i| {
            // One owner per name: an owner may register only a few names an hour.
            let owner = Owner::from_key(SigningKey::from_slice(&[i as u8 + 1; 32]).unwrap());
            let label = format!("benchname{i}");
            let ts = identity_gateway::now_secs(s);
            let body = owner.register_body(&label, &format!("bench-register-{i:06}"), ts);
            update_path(s, c, post("/api/names/register", &body)).1
        }),
    );
    report(
        "POST /api/names/challenge (update)",
        average(|i| {
            let wallet = format!("0x{:040x}", 0x100 + i);
            let body =
                serde_json::json!({"wallet": wallet, "label": POLICY_LABEL, "tld": "heaven"});
            update_path(s, c, post("/api/names/challenge", &body)).1
        }),
    );
    report(
        "POST /api/names/permit (update, 5 outcalls + signing)",
        average(|i| {
            // One wallet per permit, so the per-wallet limit never applies.
            let wallet = format!("0x{:040x}", 0x200 + i);
            let issued = challenge(s, c, &wallet, POLICY_LABEL);
            let body = permit_body(&wallet, POLICY_LABEL, &issued);
            let (status, instructions) = update_path(s, c, post("/api/names/permit", &body));
            assert_eq!(status, 200);
            instructions
        }),
    );
    let stats = query_only(s, c, &get("/health"));
    assert_eq!(json_of(&stats)["ok"], true);
}
