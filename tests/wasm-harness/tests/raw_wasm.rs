//! System API semantics checked on a hand-written module (WAT), where ic-cdk would hide them:
//! cleanup callbacks after a trapping callback, heartbeats per round, cycles accepted by a
//! callee and refunded to the caller, a management canister reject reaching the reject
//! callback (signing without cycles), certified data and the data certificate, replicated and
//! non-replicated execution, and misuse of the API trapping.

use candid::Principal;
use ic_management_canister_types::{EcdsaCurve, EcdsaKeyId, SignWithEcdsaArgs};
use ic_wasm_harness::{Harness, HarnessError, RejectCode};

const MODULE: &str = r#"
(module
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_on_cleanup" (func $call_on_cleanup (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $call_cycles_add (param i64 i64)))
  (import "ic0" "call_perform" (func $call_perform (result i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "msg_cycles_accept128" (func $accept (param i64 i64 i32)))
  (import "ic0" "msg_cycles_refunded128" (func $refunded (param i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "certified_data_set" (func $certify (param i32 i32)))
  (import "ic0" "data_certificate_present" (func $cert_present (result i32)))
  (import "ic0" "in_replicated_execution" (func $replicated (result i32)))
  (import "ic0" "global_timer_set" (func $timer_set (param i64) (result i64)))
  (import "ic0" "call_data_append" (func $call_data_append (param i32 i32)))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $reject_msg_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $reject_msg_copy (param i32 i32 i32)))
  (memory (export "memory") 1)
  (table 6 funcref)
  (elem (i32.const 1) $trap_on_reply $ignore $cleanup $give_reply $report_reject)
  (data (i32.const 120) "sign_with_ecdsa")
  (data (i32.const 1024) "SIGN_ARG")
  (data (i32.const 100) "raw_rand")
  (data (i32.const 110) "take")
  ;; memory: 0 cleanup total, 4 heartbeats, 16 refund, 32 accepted, 200 own id

  (func $trap_on_reply (param i32) (call $trap (i32.const 100) (i32.const 8)))
  (func $ignore (param i32))
  (func $cleanup (param $env i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get $env))))
  (func $give_reply (param i32)
    (call $refunded (i32.const 16))
    (call $append (i32.const 16) (i32.const 16))
    (call $reply))

  ;; Calls raw_rand with a reply callback that traps and a cleanup that adds 5; replies at once.
  (func (export "canister_update start")
    (call $call_new (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 8)
                    (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 0))
    (call $call_on_cleanup (i32.const 3) (i32.const 5))
    (drop (call $call_perform))
    (call $reply))

  ;; Calls its own `take` with 1000 cycles; the reply callback answers with the refund.
  (func (export "canister_update give")
    (call $self_copy (i32.const 200) (i32.const 0) (call $self_size))
    (call $call_new (i32.const 200) (call $self_size) (i32.const 110) (i32.const 4)
                    (i32.const 4) (i32.const 0) (i32.const 2) (i32.const 0))
    (call $call_cycles_add (i64.const 0) (i64.const 1000))
    (drop (call $call_perform)))

  ;; Replies [reject code as u32 LE] ++ reject message.
  (func $report_reject (param i32)
    (i32.store (i32.const 300) (call $reject_code))
    (call $reject_msg_copy (i32.const 304) (i32.const 0) (call $reject_msg_size))
    (call $append (i32.const 300) (i32.add (i32.const 4) (call $reject_msg_size)))
    (call $reply))

  ;; Calls sign_with_ecdsa without attaching cycles.
  (func (export "canister_update sign_without_cycles")
    (call $call_new (i32.const 0) (i32.const 0) (i32.const 120) (i32.const 15)
                    (i32.const 2) (i32.const 0) (i32.const 5) (i32.const 0))
    (call $call_data_append (i32.const 1024) (i32.const SIGN_LEN))
    (drop (call $call_perform)))

  ;; Accepts 300 of the cycles it was sent.
  (func (export "canister_update take")
    (call $accept (i64.const 0) (i64.const 300) (i32.const 32))
    (call $reply))

  (func (export "canister_update reply_twice") (call $reply) (call $reply))

  ;; Certifies the 8 bytes of "raw_rand".
  (func (export "canister_update certify") (call $certify (i32.const 100) (i32.const 8)) (call $reply))

  ;; Replies [data_certificate_present, in_replicated_execution] as two bytes.
  (func (export "canister_query modes")
    (i32.store8 (i32.const 48) (call $cert_present))
    (i32.store8 (i32.const 49) (call $replicated))
    (call $append (i32.const 48) (i32.const 2))
    (call $reply))

  ;; Not allowed in a query: traps.
  (func (export "canister_query set_timer_in_query")
    (drop (call $timer_set (i64.const 1)))
    (call $reply))

  (func (export "canister_query counters")
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))

  (func (export "canister_heartbeat")
    (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))))
"#;

/// The module, with the candid argument of `sign_with_ecdsa` in its data.
fn module() -> String {
    let arg = candid::encode_one(SignWithEcdsaArgs {
        message_hash: vec![1; 32],
        derivation_path: vec![],
        key_id: EcdsaKeyId {
            curve: EcdsaCurve::Secp256k1,
            name: "dfx_test_key".into(),
        },
    })
    .expect("encodes");
    let escaped: String = arg.iter().map(|b| format!("\\{b:02x}")).collect();
    MODULE
        .replace("SIGN_ARG", &escaped)
        .replace("SIGN_LEN", &arg.len().to_string())
}

fn setup() -> (Harness, Principal) {
    let wasm = wat::parse_str(module()).expect("valid WAT");
    let mut h = Harness::new();
    let c = h.create_and_install(&wasm, vec![]).expect("installs");
    (h, c)
}

fn counters(h: &mut Harness, c: Principal) -> (u32, u32) {
    let bytes = h
        .query_call(c, Principal::anonymous(), "counters", vec![])
        .unwrap();
    let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    (word(0), word(4))
}

#[test]
fn a_trapping_callback_runs_its_cleanup() {
    let (mut h, c) = setup();
    let reply = h
        .update_call(c, Principal::anonymous(), "start", vec![])
        .unwrap();
    assert!(reply.is_empty());
    assert_eq!(counters(&mut h, c).0, 5, "cleanup ran with its env");
    let entries: Vec<_> = h
        .executions()
        .iter()
        .map(|e| (e.entry.as_str(), e.trapped))
        .collect();
    assert!(
        entries.contains(&("ReplyCallback (start)", true)),
        "{entries:?}"
    );
    assert!(
        entries.contains(&("Cleanup (aaaaa-aa.raw_rand)", false)),
        "{entries:?}"
    );
}

#[test]
fn a_management_reject_reaches_the_reject_callback() {
    let (mut h, c) = setup();
    let reply = h
        .update_call(c, Principal::anonymous(), "sign_without_cycles", vec![])
        .unwrap();
    let code = u32::from_le_bytes(reply[..4].try_into().unwrap());
    let message = String::from_utf8_lossy(&reply[4..]);
    assert_eq!(code, RejectCode::CanisterReject as u32);
    assert!(message.contains("sent with 0 cycles"), "{message}");
}

#[test]
fn heartbeat_runs_every_round() {
    let (mut h, c) = setup();
    assert_eq!(counters(&mut h, c).1, 0);
    for _ in 0..3 {
        h.tick().unwrap();
    }
    assert_eq!(counters(&mut h, c).1, 3);
}

#[test]
fn unaccepted_cycles_are_refunded() {
    let (mut h, c) = setup();
    let reply = h
        .update_call(c, Principal::anonymous(), "give", vec![])
        .unwrap();
    assert_eq!(u128::from_le_bytes(reply.try_into().unwrap()), 700);
}

#[test]
fn certification_and_replication_modes() {
    let (mut h, c) = setup();
    h.update_call(c, Principal::anonymous(), "certify", vec![])
        .unwrap();
    assert_eq!(h.certified_data(c).unwrap(), b"raw_rand");
    let anonymous = Principal::anonymous();
    // A query call: non-replicated, with a data certificate.
    assert_eq!(h.query_call(c, anonymous, "modes", vec![]).unwrap(), [1, 0]);
    // The same query method called as an update: replicated, no certificate.
    assert_eq!(
        h.update_call(c, anonymous, "modes", vec![]).unwrap(),
        [0, 1]
    );
    let err = h
        .query_call(c, anonymous, "set_timer_in_query", vec![])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ic0.global_timer_set cannot be executed"),
        "{err}"
    );
    assert_eq!(h.global_timer(c), Some(0));
}

#[test]
fn a_second_reply_traps_and_discards_the_first() {
    let (mut h, c) = setup();
    match h.update_call(c, Principal::anonymous(), "reply_twice", vec![]) {
        Err(HarnessError::Rejected(r)) => {
            assert_eq!(r.code, RejectCode::CanisterError);
            assert!(r.message.contains("ic0.msg_reply"), "{}", r.message);
        }
        other => panic!("expected a reject, got {other:?}"),
    }
}
