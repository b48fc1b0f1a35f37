//! POST /api/wallet/set-profile: the request checks, in the original's order, and viem's messages.

use super::*;

#[tokio::test]
async fn set_profile_request_checks_come_in_the_original_order() {
    let s = setup().await;
    let good = profile_body(&key(1));
    let with = |changes: &[(&str, Value)]| {
        let mut b = good.clone();
        for (k, v) in changes {
            b[*k] = v.clone();
        }
        b
    };
    let without = |k: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let missing = (400, "Missing required fields".to_string());
    for k in [
        "userAddress",
        "gender",
        "interestedMask",
        "locationMode",
        "deadline",
        "signature",
    ] {
        assert_eq!(err(set_profile_with(&s, &without(k)).await), missing, "{k}");
    }
    for (k, v) in [
        ("userAddress", json!("")),
        ("userAddress", Value::Null),
        ("signature", json!("")),
        ("signature", json!(0)),
    ] {
        assert_eq!(
            err(set_profile_with(&s, &with(&[(k, v)])).await),
            missing,
            "{k}"
        );
    }
    // Missing beats every format problem.
    assert_eq!(
        err(set_profile_with(
            &s,
            &with(&[("userAddress", json!("0x12")), ("signature", json!(""))])
        )
        .await),
        missing
    );

    let bad_user = (400, "Invalid userAddress format".to_string());
    for v in [
        json!("0x12"),
        json!(12345),
        json!(format!("{}0", &good["userAddress"].as_str().unwrap())),
    ] {
        assert_eq!(
            err(set_profile_with(
                &s,
                &with(&[("userAddress", v.clone()), ("signature", json!("zz"))])
            )
            .await),
            bad_user,
            "{v}"
        );
    }
    for v in [json!("0x"), json!("abcd"), json!("0xzz"), json!(12)] {
        assert_eq!(
            err(set_profile_with(
                &s,
                &with(&[("signature", v.clone()), ("deadline", json!("x"))])
            )
            .await),
            (400, "Invalid signature format".into()),
            "{v}"
        );
    }
    // BigInt(deadline) threw in the original: its uncaught-exception 500.
    for v in [json!("soon"), json!(null), json!(1.5), json!({})] {
        assert_eq!(
            err(set_profile_with(&s, &with(&[("deadline", v.clone())])).await),
            (500, "Internal server error".into()),
            "{v}"
        );
    }
    let too_close = (
        400,
        "Deadline expired or too close (must be > now + 15s)".to_string(),
    );
    for v in [
        json!((NOW + 15).to_string()),
        json!(NOW),
        json!("0"),
        json!(-5),
        json!(""),
        json!(false),
    ] {
        assert_eq!(
            err(set_profile_with(&s, &with(&[("deadline", v.clone())])).await),
            too_close,
            "{v}"
        );
    }

    // Rate limit before any chain read (the node has no answers yet).
    let user = address::to_lower_hex(&address_of(&key(1)));
    let counted = |at: u64| {
        let user = user.clone();
        given(Now::from_secs(at), EventType::ProfileRelayCounted { user });
    };
    counted(NOW - 10);
    assert_eq!(
        err(set_profile_with(&s, &good).await),
        (429, "Rate limited. Try again in 50s".into())
    );
    // A deadline problem is reported before the rate limit.
    assert_eq!(
        err(set_profile_with(&s, &with(&[("deadline", json!("1"))])).await),
        too_close
    );
    // Signed arithmetic, as the original: a future `last` waits longer.
    counted(NOW + 5);
    assert_eq!(
        err(set_profile_with(&s, &good).await),
        (429, "Rate limited. Try again in 65s".into())
    );
    counted(NOW - 60);

    // The nonce read fails (no answer from the node).
    assert_eq!(
        err(set_profile_with(&s, &good).await),
        (500, "Failed to verify nonce".into())
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);

    s.user_nonce().await;
    // Signed by someone else.
    let mut forged = good.clone();
    forged["signature"] = profile_body(&key(2))["signature"].clone();
    assert_eq!(
        err(set_profile_with(&s, &forged).await),
        (
            403,
            "Invalid signature (recovered address does not match user)".into()
        )
    );
    // A value changed after signing recovers to someone else too.
    assert_eq!(
        err(set_profile_with(&s, &with(&[("heightCm", json!(171))])).await).1,
        "Invalid signature (recovered address does not match user)"
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);
    // Only the rate-limit entries the test itself put there.
    assert!(
        events()
            .iter()
            .all(|e| matches!(e, EventType::ProfileRelayCounted { .. })),
        "{:?}",
        events()
    );
}

#[tokio::test]
async fn set_profile_field_errors_read_like_viem() {
    let s = setup().await;
    s.user_nonce().await;
    let good = profile_body(&key(1));
    let failed = |r: ApiResult| {
        let (status, message) = err(r);
        assert_eq!(status, 403, "{message}");
        message
            .strip_prefix("Signature verification failed: ")
            .unwrap_or_else(|| panic!("{message}"))
            .to_string()
    };
    let with = |k: &str, v: Option<Value>| {
        let mut b = good.clone();
        match v {
            Some(v) => b[k] = v,
            None => {
                b.as_object_mut().unwrap().remove(k);
            }
        }
        b
    };
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        (
            "gender",
            Some(json!(256)),
            r#"Number "256" is not in safe 8-bit unsigned integer range (0 to 255)"#,
        ),
        (
            "interestedMask",
            Some(json!(-1)),
            r#"Number "-1" is not in safe 16-bit unsigned integer range (0 to 65535)"#,
        ),
        (
            "locationLat",
            Some(json!(-3_000_000_000i64)),
            r#"Number "-3000000000" is not in safe 32-bit signed integer range (-2147483648 to 2147483647)"#,
        ),
        (
            "heightCm",
            Some(json!(1.5)),
            "The number 1.5 cannot be converted to a BigInt because it is not an integer",
        ),
        (
            "birthYear",
            Some(json!("70000")),
            r#"Number "70000" is not in safe 16-bit unsigned integer range (0 to 65535)"#,
        ),
        ("locationLng", None, "Cannot convert undefined to a BigInt"),
        (
            "gender",
            Some(Value::Null),
            "Cannot convert null to a BigInt",
        ),
        (
            "nationalityCode",
            Some(json!("abc")),
            "Cannot convert abc to a BigInt",
        ),
        (
            "ethnicityMask",
            Some(json!({"a": 1})),
            "Cannot convert [object Object] to a BigInt",
        ),
        (
            "deadline",
            Some(json!(format!("{}0", U256::MAX))),
            "Number \"1157920892373161954235709850086879078532699846656405640394575840079131296399350n\" is not in safe 256-bit unsigned integer range (0n to 115792089237316195423570985008687907853269984665640564039457584007913129639935n)",
        ),
        (
            "signature",
            Some(json!("0x1234")),
            "invalid signature length",
        ),
    ];
    for (k, v, expected) in cases {
        assert_eq!(
            failed(set_profile_with(&s, &with(k, v)).await),
            expected,
            "{k}"
        );
    }
    let mut bad_v = hex::decode(&good["signature"].as_str().unwrap()[2..]).unwrap();
    bad_v[64] = 29;
    assert_eq!(
        failed(set_profile_with(&s, &with("signature", Some(json!(hex0x(&bad_v))))).await),
        "Invalid yParityOrV value"
    );

    // viem validates JSON numbers first, so a later range error beats an earlier null.
    let mut b = with("gender", Some(Value::Null));
    b["heightCm"] = json!(70_000);
    assert_eq!(
        failed(set_profile_with(&s, &b).await),
        r#"Number "70000" is not in safe 16-bit unsigned integer range (0 to 65535)"#
    );
    // The address comes first of all: mixed case must be a valid EIP-55 checksum.
    let user = good["userAddress"].as_str().unwrap();
    let wrong_case = format!("0x{}", flip_case(&user[2..]));
    let mut b = with("userAddress", Some(json!(wrong_case)));
    b["gender"] = json!(256);
    assert_eq!(
        failed(set_profile_with(&s, &b).await),
        format!("Address \"{wrong_case}\" is invalid.")
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);
}

fn flip_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}
