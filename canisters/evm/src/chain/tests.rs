//! Tests of the JSON-RPC outcalls and their consensus transform.

use super::*;

fn response(body: &str) -> OutcallResponse {
    OutcallResponse {
        status: 200,
        headers: vec![OutcallHeader {
            name: "Date".into(),
            value: "Wed, 02 Dec 2026 05:00:00 GMT".into(),
        }],
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn transform_drops_headers_and_ids() {
    let a = transform(
        response(r#"{"jsonrpc":"2.0","id":7,"result":"0x01"}"#),
        &[CONTEXT_PLAIN],
    );
    let b = transform(
        response(r#"{"id":9, "result":"0x01", "jsonrpc":"2.0"}"#),
        &[CONTEXT_PLAIN],
    );
    assert_eq!(a, b);
    assert!(a.headers.is_empty());
}

#[test]
fn replicas_seeing_nearby_heads_agree_on_the_pinned_block() {
    let pinned = |head: u128| read_back(head, CONTEXT_BLOCK_NUMBER);
    assert_eq!(pinned(1_000), 998);
    assert_eq!(pinned(1_001), 998);
    assert_eq!(pinned(1_007), 998);
    assert_eq!(pinned(1_008), 1_006);
    let gas = |wei: u128| read_back(wei, CONTEXT_GAS_PRICE);
    assert_eq!(gas(1_000_000), 1 << 20);
    assert_eq!(gas(1_040_000), 1 << 20);
    assert_eq!(gas(1 << 20), 1 << 20);
}

#[test]
fn replicas_that_find_the_transaction_known_agree_with_the_one_that_sent_it() {
    let hash = [0xab; 32];
    let mut ctx = vec![CONTEXT_SEND_RAW];
    ctx.extend_from_slice(&hash);
    let sent = transform(
        response(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":"0x{}"}}"#,
            "AB".repeat(32)
        )),
        &ctx,
    );
    let known = transform(
        response(r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"already known"}}"#),
        &ctx,
    );
    assert_eq!(sent.body, known.body);
    assert_eq!(
        rpc::parse_result(&sent.body).unwrap(),
        json!(format!("0x{}", "ab".repeat(32)))
    );
    let stale = transform(
        response(r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nonce too low"}}"#),
        &ctx,
    );
    assert!(rpc::parse_result(&stale.body).is_err());
}

fn read_back(quantity: u128, context: u8) -> u128 {
    let t = transform(
        response(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":"{quantity:#x}"}}"#
        )),
        &[context],
    );
    let v: Value = serde_json::from_slice(&t.body).unwrap();
    rpc::parse_quantity(&v["result"]).unwrap()
}

#[test]
fn transform_keeps_errors_comparable() {
    let t = transform(
        response(
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted","data":"0x08c379a0"}}"#,
        ),
        &[CONTEXT_PLAIN],
    );
    let err = rpc::parse_result(&t.body).unwrap_err();
    assert!(err.to_string().contains("execution reverted"), "{err}");
}
