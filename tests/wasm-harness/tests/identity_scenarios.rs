//! The shipped identity canister through its HTTP gateway, on the harness and on PocketIC (when
//! `POCKET_IC_BIN` is set): certified health and name reads answered by the query, legacy name
//! registration signed with EIP-191, the names policy's PoW challenge and threshold-ECDSA
//! NamePermit, claim links, and what an upgrade keeps (state, certified reads, the sweep timer).

#[path = "../benches/support/identity_gateway.rs"]
mod identity_gateway;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use candid::Principal;
use heaven_eth::abi::{SolCall, isReservedCall, premiumPriceForLabelCall, priceCall, quoteCall};
use heaven_eth::{B256, U256};
use ic_wasm_harness::{Scenario, ScenarioExt, scenario_tests, user};
use identity_canister::endpoints::{AdminError, AuditReport, Health, Stats};
use identity_canister::lifecycle::UpgradeArg;
use identity_canister::state::ShadowProfile;
use identity_canister::testing::{permit_from_json, permit_signer};
use identity_gateway::{
    Owner, PINNED_BLOCK, PRICE, RpcCall, challenge, configure_policy, controller, expect_status,
    fake_tempo, get, header, identity_wasm, install_identity, json_of, permit_body, policy_config,
    post, query_only, register_name, store_address,
};
use serde_json::{Value, json};

const LABEL: &str = "stardust";
const POLICY_LABEL: &str = "moonlight";
const PROFILE_ID: &str = "shadow-alex-sf";

fn stats(s: &mut dyn Scenario, c: Principal) -> Stats {
    s.query(c, "stats", ()).unwrap()
}

fn health(s: &mut dyn Scenario, c: Principal) -> Health {
    s.query(c, "health", ()).unwrap()
}

/// The controller's `audit_check`: the state replayed from the audit log must equal the live
/// one; returns the number of events replayed.
fn audit_check(s: &mut dyn Scenario, c: Principal) -> u64 {
    let controller = controller(s);
    let bytes = s
        .query_raw(
            c,
            controller,
            "audit_check",
            candid::encode_args(()).unwrap(),
        )
        .unwrap();
    let report: Result<AuditReport, AdminError> = candid::decode_one(&bytes).unwrap();
    match report {
        Ok(AuditReport::Consistent { events }) => events,
        other => panic!("the audit log does not rebuild the state: {other:?}"),
    }
}

/// Asserts the `http_request` query answered `GET url` by itself, certified, and returns it.
fn certified_get(s: &mut dyn Scenario, c: Principal, url: &str) -> Value {
    let response = query_only(s, c, &get(url));
    assert_ne!(
        response.upgrade,
        Some(true),
        "GET {url} needed the update path"
    );
    assert_eq!(response.status_code, 200, "GET {url}");
    let certificate = header(&response, "ic-certificate")
        .unwrap_or_else(|| panic!("GET {url} has no IC-Certificate header"));
    assert!(certificate.contains("version=2"), "{certificate}");
    assert!(header(&response, "ic-certificateexpression").is_some());
    json_of(&response)
}

/// The policy signer's address from the candid method.
fn policy_signer_address(s: &mut dyn Scenario, c: Principal) -> String {
    let address: Result<String, String> = s.update(c, "policy_signer_address", ()).unwrap();
    address.expect("policy_signer_address")
}

/// Challenge, solve, permit for [`POLICY_LABEL`]; returns the permit answer and checks its
/// signature recovers to the signer the candid method reports. Returns (answer, signer).
fn issue_permit(s: &mut dyn Scenario, c: Principal, wallet: &str) -> (Value, String) {
    let issued = challenge(s, c, wallet, POLICY_LABEL);
    assert_eq!(issued["algorithm"], "keccak256");
    let body = permit_body(wallet, POLICY_LABEL, &issued);
    let answer = expect_status(s, c, post("/api/names/permit", &body), 200);
    assert_eq!(answer["policy"], "LONG_POW");
    assert_eq!(answer["quote"]["price"], PRICE.to_string());
    assert_eq!(answer["quote"]["listingEnabled"], false);
    assert_eq!(answer["tx"]["to"], identity_gateway::STORE);

    let permit = permit_from_json(&answer["permit"]);
    assert_eq!(
        heaven_eth::address::to_lower_hex(&permit.buyer),
        wallet.to_lowercase()
    );
    assert_eq!(
        permit.labelHash,
        heaven_eth::keccak256(POLICY_LABEL.as_bytes())
    );
    assert_eq!(permit.maxPrice, U256::from(PRICE));
    assert_eq!(permit.nullifierHash, B256::ZERO);
    let recovered = permit_signer(&answer, policy_config().chain_id, store_address());
    let signer = policy_signer_address(s, c);
    assert_eq!(heaven_eth::address::to_checksum(&recovered), signer);
    (answer, signer)
}

/// The shadow profile the claim scenarios hand over.
fn profile() -> ShadowProfile {
    ShadowProfile {
        id: PROFILE_ID.into(),
        source: "dateme".into(),
        source_url: Some(format!("https://dateme.directory/{PROFILE_ID}")),
        display_name: Some("Alex".into()),
        bio: Some("likes long walks".into()),
        location: Some("San Francisco".into()),
        created_at_ms: 1,
        updated_at_ms: 1,
        ..ShadowProfile::default()
    }
}

/// Opens claim start (development, no secret), imports [`profile`], starts a claim; returns
/// the link token.
fn start_claim(s: &mut dyn Scenario, c: Principal) -> String {
    let controller = controller(s);
    let set: Result<(), AdminError> = s
        .update_as(c, controller, "set_access", (true, Vec::<String>::new()))
        .unwrap();
    assert_eq!(set, Ok(()));
    let imported: Result<u64, AdminError> = s
        .update_as(c, controller, "import_shadow_profiles", (vec![profile()],))
        .unwrap();
    assert_eq!(imported, Ok(1));
    let body = json!({"shadowProfileId": PROFILE_ID, "method": "dm"});
    let started = expect_status(s, c, post("/api/claim/start", &body), 200);
    assert_eq!(started["source"], "dateme");
    started["token"]
        .as_str()
        .expect("claim start answers a token")
        .to_string()
}

/// `GET /api/claim/<token>`: upgraded to an update (the answer moves with the clock) and 200
/// with the profile.
fn resolve_claim(s: &mut dyn Scenario, c: Principal, token: &str) {
    let url = format!("/api/claim/{token}");
    assert_eq!(
        query_only(s, c, &get(&url)).upgrade,
        Some(true),
        "claim links are not served from the query"
    );
    let preview = expect_status(s, c, get(&url), 200);
    assert_eq!(preview["id"], PROFILE_ID);
    assert_eq!(preview["displayName"], "Alex");
    assert_eq!(preview["hasVerificationCode"], true);
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// a. `GET /health` is answered by the query, certified.
fn health_is_certified_from_the_query(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let body = certified_get(s, c, "/health");
    assert_eq!(body, json!({"ok": true}));
    // The gateway helper takes the same path.
    let response = s.http_request(c, get("/health")).unwrap();
    assert_eq!(
        (response.status_code, response.upgrade),
        (200, None),
        "{response:?}"
    );
}

/// b. A legacy name registered with an EIP-191 signature is then served certified from the
/// query.
fn registered_name_is_certified_from_the_query(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let owner = Owner::hardhat_0();
    assert_eq!(owner.address, "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    let url = format!("/api/names/{LABEL}");
    assert_eq!(
        query_only(s, c, &get(&url)).upgrade,
        Some(true),
        "an unregistered name is not certified"
    );
    expect_status(s, c, get(&url), 404);

    let registered = register_name(s, c, &owner, LABEL, "scenario-nonce-0001");
    assert_eq!(registered["success"], true);
    assert_eq!(registered["label"], LABEL);

    let details = certified_get(s, c, &url);
    assert_eq!(details["label"], LABEL);
    assert_eq!(details["pkp_address"], owner.address);
    assert_eq!(details["status"], "active");
    assert_eq!(stats(s, c).names, 1);

    // The name is taken; a spent nonce is refused even for another label.
    let now = identity_gateway::now_secs(s);
    let again = owner.register_body(LABEL, "scenario-nonce-0002", now);
    let taken = expect_status(s, c, post("/api/names/register", &again), 400);
    assert_eq!(
        (&taken["success"], &taken["error"]),
        (&json!(false), &json!("Name is already taken"))
    );
    let replay = owner.register_body("otherlabel", "scenario-nonce-0001", now);
    let replayed = expect_status(s, c, post("/api/names/register", &replay), 409);
    assert_eq!(replayed["error"], "Nonce already used (replay detected)");
}

/// c. Names policy: only controllers configure it; challenge → PoW → permit signed with
/// threshold ECDSA by the address `policy_signer_address` and the signer route report.
fn permit_is_signed_by_the_policy_signer(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let refused: Result<(), AdminError> = s
        .update_as(c, user(), "set_names_policy_config", (policy_config(),))
        .unwrap();
    assert_eq!(refused, Err(AdminError::NotController));
    configure_policy(s, c);

    let rpc_log = Arc::new(Mutex::new(Vec::new()));
    s.set_outcall_handler(Some(fake_tempo(rpc_log.clone())));
    let wallet = Owner::hardhat_0().address;
    let (answer, signer) = issue_permit(s, c, &wallet);
    assert_eq!(
        answer["permit"]["duration"],
        (365 * 24 * 60 * 60).to_string()
    );

    // Reads were pinned to the floored head block.
    let calls = rpc_log.lock().unwrap().clone();
    assert_eq!(calls[0].method, "eth_blockNumber");
    let selectors: Vec<&str> = calls[1..]
        .iter()
        .map(|c: &RpcCall| c.selector.as_deref().unwrap())
        .collect();
    let expected = [
        quoteCall::SELECTOR,
        isReservedCall::SELECTOR,
        premiumPriceForLabelCall::SELECTOR,
        priceCall::SELECTOR,
    ]
    .map(hex::encode);
    assert_eq!(
        selectors, expected,
        "store quote, then the registry's checks and price"
    );
    assert!(
        calls[1..]
            .iter()
            .all(|c| c.block.as_deref() == Some(PINNED_BLOCK)),
        "{calls:?}"
    );

    // The signer route: first answered by the update (which fetches and certifies it), then
    // by the query.
    let from_route = expect_status(s, c, get("/api/names/policy/signer"), 200);
    assert_eq!(from_route["address"], signer);
    assert_eq!(from_route["ecdsaKeyName"], "dfx_test_key");
    let certified = certified_get(s, c, "/api/names/policy/signer");
    assert_eq!(certified["address"], signer);
    s.set_outcall_handler(None);
}

/// d. Claim: start (development, no secret) and resolve the link.
fn claim_link_resolves_to_the_profile(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let closed = expect_status(
        s,
        c,
        post(
            "/api/claim/start",
            &json!({"shadowProfileId": PROFILE_ID, "method": "dm"}),
        ),
        503,
    );
    assert!(closed["error"].as_str().unwrap().contains("disabled"));
    let token = start_claim(s, c);
    resolve_claim(s, c, &token);
    assert_eq!(stats(s, c).claim_tokens, 1);
    expect_status(s, c, get("/api/claim/not-a-token"), 404);
}

/// e. An upgrade keeps names (still certified from the query), claim links, the audit log,
/// the install count and the signer.
fn upgrade_keeps_names_claims_and_signer(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let owner = Owner::hardhat_0();
    register_name(s, c, &owner, LABEL, "scenario-nonce-0002");
    configure_policy(s, c);
    s.set_outcall_handler(Some(fake_tempo(Arc::default())));
    let (_, signer) = issue_permit(s, c, &owner.address);
    let token = start_claim(s, c);
    let before = stats(s, c);
    assert_eq!(health(s, c).installs, 1);

    s.upgrade(
        c,
        &identity_wasm(),
        candid::encode_one(None::<UpgradeArg>).unwrap(),
    )
    .unwrap();

    let health = health(s, c);
    assert_eq!(
        (health.installs, health.ecdsa_key_name.as_str()),
        (2, "dfx_test_key")
    );
    let details = certified_get(s, c, &format!("/api/names/{LABEL}"));
    assert_eq!(details["pkp_address"], owner.address);
    certified_get(s, c, "/health");
    resolve_claim(s, c, &token);
    let after = stats(s, c);
    assert!(
        after.events > before.events,
        "the audit log shrank or missed the upgrade: {before:?} -> {after:?}"
    );
    assert_eq!(
        (after.names, after.claim_tokens),
        (before.names, before.claim_tokens)
    );
    // The signer's key is kept in stable memory: the query knows it and the route is certified
    // straight after the upgrade.
    let cached: Option<String> = s.query(c, "policy_signer", ()).unwrap();
    assert_eq!(cached.as_deref(), Some(signer.as_str()));
    let certified = certified_get(s, c, "/api/names/policy/signer");
    assert_eq!(certified["address"], signer);
    assert_eq!(policy_signer_address(s, c), signer);
    // A second permit after the upgrade is still signed by the same key.
    let (_, signer_again) = issue_permit(s, c, &owner.address);
    assert_eq!(signer_again, signer);
    s.set_outcall_handler(None);

    // Names, claims, permits, configuration and two installs: the log rebuilds all of it.
    assert_eq!(audit_check(s, c), stats(s, c).events);
    let refused: Result<AuditReport, AdminError> = s.query(c, "audit_check", ()).unwrap();
    assert_eq!(refused, Err(AdminError::NotController));
}

/// f. The expiry sweep timer is re-armed by `post_upgrade`: it runs, and drops a challenge
/// past its retention (its permit goes from 410 "expired" to 404 "not found").
fn sweep_timer_runs_after_upgrade(s: &mut dyn Scenario) {
    let c = install_identity(s);
    configure_policy(s, c);
    s.set_outcall_handler(Some(fake_tempo(Arc::default())));
    let wallet = Owner::hardhat_0().address;
    let issued = challenge(s, c, &wallet, POLICY_LABEL);
    let stale_permit = permit_body(&wallet, POLICY_LABEL, &issued);

    s.upgrade(
        c,
        &identity_wasm(),
        candid::encode_one(Some(identity_gateway::upgrade_args())).unwrap(),
    )
    .unwrap();
    let upgraded_at = s.time_nanos();
    assert_eq!(stats(s, c).sweeps, 0);

    s.advance_time(Duration::from_secs(11 * 60)).unwrap();
    s.tick().unwrap();
    let swept = stats(s, c);
    assert!(swept.sweeps >= 1, "{swept:?}");
    assert!(swept.last_sweep_ns > upgraded_at, "{swept:?}");

    // Expired (ttl 300 s) but kept for late answers until its retention (1 h) passes.
    let expired = expect_status(s, c, post("/api/names/permit", &stale_permit), 410);
    assert_eq!(expired["error"], "PoW challenge expired");
    s.advance_time(Duration::from_secs(60 * 60)).unwrap();
    s.tick().unwrap();
    let later = stats(s, c);
    assert!(later.sweeps > swept.sweeps, "{later:?}");
    let gone = expect_status(s, c, post("/api/names/permit", &stale_permit), 404);
    assert_eq!(gone["error"], "PoW challenge not found");
    s.set_outcall_handler(None);
    // The timer's sweeps are events too, and replay to the same state.
    assert_eq!(audit_check(s, c), stats(s, c).events);
}

scenario_tests!(
    health_is_certified_from_the_query,
    registered_name_is_certified_from_the_query,
    permit_is_signed_by_the_policy_signer,
    claim_link_resolves_to_the_profile,
    upgrade_keeps_names_claims_and_signer,
    sweep_timer_runs_after_upgrade,
);
