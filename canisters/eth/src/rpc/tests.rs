use super::*;

fn canonical(body: &str) -> String {
    String::from_utf8(canonical_response(body.as_bytes())).unwrap()
}

const INVALID: &str = r#"{"error":{"code":-32700,"message":"invalid JSON-RPC response"}}"#;

#[test]
fn request_body_is_jsonrpc_2() {
    let body = request_body("eth_blockNumber", json!([]));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})
    );
}

#[test]
fn eth_call_params_shape() {
    let to = address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap();
    assert_eq!(
        eth_call_params(&to, &[0xab, 0x01], BlockTag::Latest),
        json!([{"to": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "data": "0xab01"}, "latest"])
    );
    assert_eq!(
        eth_call_params(&to, &[], BlockTag::Number(26))[1],
        json!("0x1a")
    );
    assert_eq!(
        eth_call_params(&to, &[], BlockTag::Number(0))[1],
        json!("0x0")
    );
}

#[test]
fn canonical_keeps_only_result() {
    let a = canonical(r#"{"jsonrpc":"2.0","id":7,"result":"0x1a","extra":true}"#);
    let b = canonical("{ \"result\" : \"0x1a\",\n \"id\": 99, \"jsonrpc\": \"2.0\" }");
    assert_eq!(a, r#"{"result":"0x1a"}"#);
    assert_eq!(a, b);
    // Nested objects come out with sorted keys and no whitespace.
    assert_eq!(
        canonical(r#"{"id":1,"result":{"z":1, "a":[{"y":2,"b":3}]}}"#),
        r#"{"result":{"a":[{"b":3,"y":2}],"z":1}}"#
    );
    assert_eq!(canonical(r#"{"id":1,"result":null}"#), r#"{"result":null}"#);
}

#[test]
fn canonical_keeps_error_code_and_message() {
    let body = r#"{"jsonrpc":"2.0","id":3,"error":{"code":3,"message":"execution reverted","data":"0x08c379a0"}}"#;
    assert_eq!(
        canonical(body),
        r#"{"error":{"code":3,"message":"execution reverted"}}"#
    );
    assert_eq!(
        canonical(r#"{"id":3,"error":{"code":-32000}}"#),
        r#"{"error":{"code":-32000,"message":""}}"#
    );
    // An error wins over a result; a null error is no error.
    assert_eq!(
        canonical(r#"{"result":"0x1","error":{"code":-1,"message":"m"}}"#),
        r#"{"error":{"code":-1,"message":"m"}}"#
    );
    assert_eq!(
        canonical(r#"{"result":"0x1","error":null}"#),
        r#"{"result":"0x1"}"#
    );
}

#[test]
fn canonical_handles_garbage() {
    for body in [
        "",
        "not json",
        "<html>502 Bad Gateway</html>",
        "[1,2]",
        "\"0x1\"",
        "{}",
        r#"{"id":1,"jsonrpc":"2.0"}"#,
        r#"{"error":"boom"}"#,
        r#"{"error":{"message":"no code"}}"#,
        r#"{"error":{"code":"1","message":"string code"}}"#,
    ] {
        assert_eq!(canonical(body), INVALID, "{body:?}");
    }
    assert_eq!(canonical_response(&[0xff, 0xfe]), INVALID.as_bytes());
}

#[test]
fn parse_result_reads_raw_and_canonical() {
    let raw = br#"{"jsonrpc":"2.0","id":1,"result":"0x1a"}"#;
    assert_eq!(parse_result(raw), Ok(json!("0x1a")));
    assert_eq!(parse_result(&canonical_response(raw)), Ok(json!("0x1a")));
    let err = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nonce too low"}}"#;
    let expected = Err(EthError::Rpc {
        code: -32000,
        message: "nonce too low".into(),
    });
    assert_eq!(parse_result(err), expected);
    assert_eq!(parse_result(&canonical_response(err)), expected);
    assert_eq!(
        parse_result(b"garbage"),
        Err(EthError::Rpc {
            code: -32700,
            message: "invalid JSON-RPC response".into()
        })
    );
}

#[test]
fn parse_quantity_accepts_hex_quantities() {
    assert_eq!(parse_quantity(&json!("0x1a")), Ok(26));
    assert_eq!(parse_quantity(&json!("0x0")), Ok(0));
    assert_eq!(parse_quantity(&json!("0xDEADbeef")), Ok(0xdead_beef));
    assert_eq!(
        parse_quantity(&json!(format!("0x{}", "f".repeat(32)))),
        Ok(u128::MAX)
    );
}

#[test]
fn parse_quantity_rejects_the_rest() {
    for v in [
        json!("0x"),
        json!("1a"),
        json!("0X1a"),
        json!("0x+1"),
        json!("0x1g"),
        json!(" 0x1"),
        json!(format!("0x1{}", "0".repeat(32))),
        json!(26),
        json!(null),
        json!(["0x1"]),
    ] {
        assert!(
            matches!(parse_quantity(&v), Err(EthError::InvalidResult(_))),
            "{v}"
        );
    }
}

#[test]
fn parse_data_decodes_bytes() {
    assert_eq!(parse_data(&json!("0x")), Ok(vec![]));
    assert_eq!(parse_data(&json!("0x00FFab")), Ok(vec![0, 0xff, 0xab]));
    for v in [
        json!("0x0"),
        json!("00ff"),
        json!("0xzz"),
        json!(1),
        json!(null),
    ] {
        assert!(
            matches!(parse_data(&v), Err(EthError::InvalidResult(_))),
            "{v}"
        );
    }
}
