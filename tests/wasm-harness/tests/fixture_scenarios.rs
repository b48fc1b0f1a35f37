//! Scenarios on the purpose-built fixture canister, each run on the harness and on PocketIC
//! (when `POCKET_IC_BIN` is set): stable memory across upgrade, trap rollback, timers, threshold
//! ECDSA, outcalls with a transform, calls between canisters, the HTTP gateway and inspect.

mod common;

use std::time::Duration;

use candid::Principal;
use common::{FetchOutput, SignOutput, install_fixture, no_upgrade_args, start_server};
use ic_wasm_harness::{
    GatewayRequest, HarnessError, OutcallResponse, RejectCode, Scenario, ScenarioExt,
    scenario_tests, user,
};
use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use sha2::{Digest, Sha256};

fn get(s: &mut dyn Scenario, c: Principal) -> u64 {
    s.query(c, "get", ()).expect("get")
}

fn reject_of(result: Result<u64, HarnessError>) -> (RejectCode, String) {
    match result {
        Err(HarnessError::Rejected(r)) => (r.code, r.message),
        other => panic!("expected a reject, got {other:?}"),
    }
}

fn counter_survives_upgrade(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    for expected in 1..=3u64 {
        assert_eq!(s.update::<u64>(c, "increment", ()).unwrap(), expected);
    }
    assert_eq!(s.query::<u64>(c, "heap_counter", ()).unwrap(), 3);
    s.upgrade(c, &common::fixture_wasm(), no_upgrade_args())
        .unwrap();
    assert_eq!(get(s, c), 3, "stable memory is kept");
    assert_eq!(
        s.query::<u64>(c, "heap_counter", ()).unwrap(),
        0,
        "the heap is reset"
    );
    assert_eq!(s.query::<u64>(c, "pre_upgrades", ()).unwrap(), 1);
    assert_eq!(s.update::<u64>(c, "increment", ()).unwrap(), 4);
}

fn trap_rolls_back(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    assert_eq!(s.update::<u64>(c, "increment", ()).unwrap(), 1);
    let (code, message) = reject_of(s.update(c, "increment_then_trap", ()));
    assert_eq!(code, RejectCode::CanisterError);
    assert!(
        message.contains("deliberate trap after increment"),
        "{message}"
    );
    assert_eq!(get(s, c), 1, "stable memory rolled back");
    assert_eq!(
        s.query::<u64>(c, "heap_counter", ()).unwrap(),
        1,
        "heap rolled back"
    );
    assert_eq!(s.query::<u64>(c, "increment_in_query", ()).unwrap(), 2);
    assert_eq!(get(s, c), 1, "a query's changes are discarded");
    assert_eq!(s.update::<u64>(c, "increment", ()).unwrap(), 2);
}

fn timer_fires_once_and_again_after_upgrade(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    s.update::<()>(c, "arm_timer", (60u64,)).unwrap();
    let fires = |s: &mut dyn Scenario| s.query::<u64>(c, "timer_fires", ()).unwrap();
    s.advance_time(Duration::from_secs(30)).unwrap();
    assert_eq!(fires(s), 0, "not due yet");
    s.advance_time(Duration::from_secs(31)).unwrap();
    assert_eq!(fires(s), 1, "fired once time passed it");
    s.advance_time(Duration::from_secs(600)).unwrap();
    assert_eq!(fires(s), 1, "a one-shot timer fires once");
    s.upgrade(c, &common::fixture_wasm(), no_upgrade_args())
        .unwrap();
    s.advance_time(Duration::from_secs(61)).unwrap();
    assert_eq!(fires(s), 2, "re-armed in post_upgrade");
    s.advance_time(Duration::from_secs(600)).unwrap();
    assert_eq!(fires(s), 2);
}

fn async_threshold_signature_verifies(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    let hash: [u8; 32] = Sha256::digest(b"heaven").into();
    let out: Result<SignOutput, String> = s.update(c, "sign", (hash.to_vec(),)).unwrap();
    let out = out.unwrap();
    assert_eq!(out.public_key.len(), 33);
    assert_eq!(out.signature.len(), 64);
    let key = VerifyingKey::from_sec1_bytes(&out.public_key).unwrap();
    let signature = Signature::from_slice(&out.signature).unwrap();
    key.verify_prehash(&hash, &signature)
        .expect("signature verifies");
    let again: Result<SignOutput, String> = s.update(c, "sign", (hash.to_vec(),)).unwrap();
    assert_eq!(
        again.unwrap().public_key,
        out.public_key,
        "same key per path"
    );
}

fn outcall_goes_through_transform(s: &mut dyn Scenario) {
    let addr = start_server();
    let c = install_fixture(s);
    let url = format!("http://localhost:{}/data", addr.port());
    let out: Result<FetchOutput, String> = s.update(c, "fetch", (url,)).unwrap();
    assert_eq!(
        out.unwrap(),
        FetchOutput {
            status: 200,
            header_names: vec!["content-type".into()],
            body: "hello|transformed:fixture".into(),
        }
    );
}

fn outcall_can_be_intercepted(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    s.set_outcall_handler(Some(Box::new(|request| {
        assert_eq!(request.url, "https://example.com/feed");
        Ok(OutcallResponse {
            status: 202,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Date".into(), "today".into()),
            ],
            body: b"{}".to_vec(),
        })
    })));
    let out: Result<FetchOutput, String> = s
        .update(c, "fetch", ("https://example.com/feed".to_string(),))
        .unwrap();
    assert_eq!(
        out.unwrap(),
        FetchOutput {
            status: 202,
            header_names: vec!["content-type".into()],
            body: "{}|transformed:fixture".into(),
        }
    );
    s.set_outcall_handler(None);
}

fn calls_a_second_canister(s: &mut dyn Scenario) {
    let a = install_fixture(s);
    let b = install_fixture(s);
    for expected in 1..=2u64 {
        let r: Result<u64, String> = s.update(a, "call_other", (b, "increment")).unwrap();
        assert_eq!(r, Ok(expected));
    }
    assert_eq!(get(s, b), 2);
    assert_eq!(get(s, a), 0);
    let r: Result<u64, String> = s
        .update(a, "call_other", (b, "increment_then_trap"))
        .unwrap();
    let err = r.unwrap_err();
    assert!(err.contains("deliberate trap after increment"), "{err}");
    assert_eq!(get(s, b), 2, "the callee's trap rolled back its changes");
    let r: Result<u64, String> = s.update(a, "call_other", (b, "no_such_method")).unwrap();
    assert!(r.unwrap_err().contains("no_such_method"));
}

fn http_gateway_upgrades_to_update(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    let get_counter = GatewayRequest::new("GET", "/counter", vec![]);
    let r = s.http_request(c, get_counter.clone()).unwrap();
    assert_eq!((r.status_code, r.body.as_slice()), (200, &b"0"[..]));
    let r = s
        .http_request(c, GatewayRequest::new("POST", "/counter", vec![]))
        .unwrap();
    assert_eq!((r.status_code, r.body.as_slice()), (201, &b"1"[..]));
    let r = s.http_request(c, get_counter).unwrap();
    assert_eq!(r.body, b"1");
    let r = s
        .http_request(c, GatewayRequest::new("GET", "/nope", vec![]))
        .unwrap();
    assert_eq!(r.status_code, 404);
}

fn inspect_message_refuses(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    let (code, _) = reject_of(s.update(c, "refused_by_inspect", ()));
    assert_eq!(code, RejectCode::CanisterReject);
    assert_eq!(get(s, c), 0);
}

fn time_and_caller(s: &mut dyn Scenario) {
    let c = install_fixture(s);
    let t0: u64 = s.query(c, "now", ()).unwrap();
    let now = s.time_nanos();
    // The harness answers exactly; PocketIC may be a round (nanoseconds) ahead of the state.
    assert!(t0 <= now && now - t0 < 1_000_000_000, "{t0} vs {now}");
    s.advance_time(Duration::from_secs(5)).unwrap();
    let t1: u64 = s.query(c, "now", ()).unwrap();
    assert!(t1 >= t0 + 5_000_000_000, "{t0} -> {t1}");
    assert_eq!(s.query::<Principal>(c, "whoami", ()).unwrap(), user());
}

scenario_tests!(
    counter_survives_upgrade,
    trap_rolls_back,
    timer_fires_once_and_again_after_upgrade,
    async_threshold_signature_verifies,
    outcall_goes_through_transform,
    outcall_can_be_intercepted,
    calls_a_second_canister,
    http_gateway_upgrades_to_update,
    inspect_message_refuses,
    time_and_caller,
);
