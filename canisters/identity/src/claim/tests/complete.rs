//! POST /api/claim/complete.

use super::*;

// ---- POST /api/claim/complete ----

#[test]
fn the_known_vector_completes_the_claim() {
    fresh(false, None);
    add_profile(profile("shadow-alex-sf"));
    add_claim(
        VECTOR_CLAIM_ID,
        "shadow-alex-sf",
        "tok",
        "HVN-ALEX01",
        METHOD_DM,
    );
    let message = claim_message(
        VECTOR_CLAIM_ID,
        "shadow-alex-sf",
        HARDHAT0,
        VECTOR_NONCE,
        NOW_SECS as i64,
    );
    assert_eq!(
        heaven_eth::hex32::b256_hex(&heaven_eth::eip191::message_hash(&message)),
        "0x2d8eaf411b3ba2b59f917a7fdc0bdef43384a406b58c702f7daa01aa7fc2e56e"
    );
    assert_eq!(sign(&key(HARDHAT0_KEY), &message), VECTOR_SIGNATURE);

    let req = post(complete_body(
        VECTOR_CLAIM_ID,
        HARDHAT0,
        VECTOR_SIGNATURE,
        NOW_SECS,
        VECTOR_NONCE,
    ));
    assert_eq!(
        answer(complete(&req, now())),
        (
            200,
            format!(
                r#"{{"success":true,"message":"Profile claimed successfully","address":"{HARDHAT0}"}}"#
            )
        )
    );
    let ms = now().millis();
    let p = stored_profile("shadow-alex-sf");
    assert_eq!(p.claimed_address.as_deref(), Some(HARDHAT0));
    assert_eq!((p.claimed_at_ms, p.updated_at_ms), (Some(ms), ms));
    let c = claim(VECTOR_CLAIM_ID);
    assert!(c.used);
    assert_eq!(
        (c.used_at_ms, c.used_by.as_deref()),
        (Some(ms), Some(HARDHAT0))
    );
    let user = state::with(|s| s.users().get(&HARDHAT0.to_string()).unwrap().0);
    assert_eq!(
        user,
        User {
            address: HARDHAT0.into(),
            created_at_ms: ms,
            last_active_at_ms: None,
            directory_tier: "claimed".into(),
        }
    );
    assert_eq!(
        events().last(),
        Some(&EventType::ClaimCompleted {
            claim_id: VECTOR_CLAIM_ID.into(),
            address: HARDHAT0.into(),
        })
    );
    // The link is spent.
    assert_eq!(
        answer(get_claim("tok", now())),
        error(404, "Invalid or expired link")
    );
}

#[test]
fn complete_errors_in_order() {
    fresh(false, None);
    add_profile(profile("shadow-alex-sf"));
    add_claim(
        VECTOR_CLAIM_ID,
        "shadow-alex-sf",
        "tok",
        "HVN-ALEX01",
        METHOD_DM,
    );
    mark();
    let good = complete_body(
        VECTOR_CLAIM_ID,
        HARDHAT0,
        VECTOR_SIGNATURE,
        NOW_SECS,
        VECTOR_NONCE,
    );
    let with = |name: &str, value: Value| {
        let mut body = good.clone();
        match value {
            Value::Null => body.as_object_mut().unwrap().remove(name),
            v => body.as_object_mut().unwrap().insert(name.to_string(), v),
        };
        answer(complete(&post(body), now()))
    };
    assert_eq!(
        answer(complete(&post_raw(b"{]"), now())),
        error(400, "Invalid JSON body")
    );

    let missing = || {
        error(
            400,
            "Missing claimId, address, signature, timestamp, or nonce",
        )
    };
    for name in ["claimId", "address", "signature", "timestamp", "nonce"] {
        assert_eq!(with(name, Value::Null), missing(), "{name} absent");
        assert_eq!(with(name, json!("")), missing(), "{name} empty");
        assert_eq!(with(name, json!(0)), missing(), "{name} zero");
    }
    // Missing beats every later check.
    let body = json!({"address": "bad", "signature": "bad", "timestamp": 1.5, "nonce": "x"});
    assert_eq!(answer(complete(&post(body), now())), missing());

    let bad_address = || error(400, "Invalid address format");
    for address in [
        json!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        json!("0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226"),
        json!("0xf39fd6e51aad88f6f4ce6ab8827279cfffb922666"),
        json!("0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        json!(" 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        json!(12345),
        json!([HARDHAT0]),
    ] {
        let mut body = good.clone();
        body["address"] = address.clone();
        body["signature"] = json!("bad");
        assert_eq!(
            answer(complete(&post(body), now())),
            bad_address(),
            "{address}"
        );
    }

    let bad_signature = || error(400, "Invalid signature format");
    let hex130 = &VECTOR_SIGNATURE[2..];
    for signature in [
        json!(hex130),
        json!(format!("0x{}", &hex130[1..])),
        json!(format!("0x{hex130}0")),
        json!(format!("0X{hex130}")),
        json!(format!("0x{}z", &hex130[1..])),
        json!(true),
    ] {
        let mut body = good.clone();
        body["signature"] = signature.clone();
        body["nonce"] = json!("short");
        assert_eq!(
            answer(complete(&post(body), now())),
            bad_signature(),
            "{signature}"
        );
    }

    let bad_nonce = || error(400, "Invalid nonce");
    for nonce in [
        json!("a".repeat(15)),
        json!("a".repeat(129)),
        json!(1234567890123456789u64),
        json!("😀".repeat(65)),
    ] {
        let mut body = good.clone();
        body["nonce"] = nonce.clone();
        body["timestamp"] = json!("soon");
        assert_eq!(answer(complete(&post(body), now())), bad_nonce(), "{nonce}");
    }

    let bad_timestamp = || error(400, "Invalid timestamp");
    for ts in [
        json!("1771600000"),
        json!(1771600000.5),
        json!(true),
        json!([1]),
    ] {
        assert_eq!(with("timestamp", ts.clone()), bad_timestamp(), "{ts}");
    }

    let expired = || error(400, "Signature timestamp expired or too far in future");
    for ts in [
        json!(NOW_SECS - 121),
        json!(NOW_SECS + 121),
        json!(-1),
        json!(1e20),
        json!(u64::MAX),
    ] {
        let mut body = good.clone();
        body["timestamp"] = ts.clone();
        body["claimId"] = json!("no-such-claim");
        assert_eq!(answer(complete(&post(body), now())), expired(), "{ts}");
    }

    let gone = || error(404, "Invalid or expired claim");
    assert_eq!(with("claimId", json!("no-such-claim")), gone());
    assert_eq!(with("claimId", json!(42)), gone());
    let after_expiry = Now::from_ns(claim(VECTOR_CLAIM_ID).expires_at_ms * 1_000_000);
    let body = complete_body(
        VECTOR_CLAIM_ID,
        HARDHAT0,
        VECTOR_SIGNATURE,
        after_expiry.secs(),
        VECTOR_NONCE,
    );
    assert_eq!(answer(complete(&post(body), after_expiry)), gone());

    let invalid = || error(401, "Invalid signature");
    // The vector signature over a different nonce / time / address does not verify.
    assert_eq!(with("nonce", json!("abcdef0123456780")), invalid());
    assert_eq!(with("timestamp", json!(NOW_SECS + 1)), invalid());
    let other = key("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
    assert_eq!(with("address", json!(address_of(&other))), invalid());
    // Signed by another key for this address's message.
    let message = claim_message(
        VECTOR_CLAIM_ID,
        "shadow-alex-sf",
        HARDHAT0,
        VECTOR_NONCE,
        NOW_SECS as i64,
    );
    assert_eq!(with("signature", json!(sign(&other, &message))), invalid());
    // Malformed recovery byte / zero signature.
    let bad_v = format!("{}1d", &VECTOR_SIGNATURE[..130]);
    assert_eq!(with("signature", json!(bad_v)), invalid());
    assert_eq!(
        with("signature", json!(format!("0x{}", "0".repeat(130)))),
        invalid()
    );
    // A message for another profile (as if the token were for it) does not verify.
    let message = claim_message(
        VECTOR_CLAIM_ID,
        "shadow-other",
        HARDHAT0,
        VECTOR_NONCE,
        NOW_SECS as i64,
    );
    assert_eq!(
        with("signature", json!(sign(&key(HARDHAT0_KEY), &message))),
        invalid()
    );

    // None of this changed anything.
    assert!(!claim(VECTOR_CLAIM_ID).used);
    assert_eq!(stored_profile("shadow-alex-sf").claimed_address, None);
    assert_eq!(state::with(|s| s.users().len()), 0);
    assert!(events().is_empty());
    // And the untouched request still works.
    assert_eq!(answer(complete(&post(good), now())).0, 200);
}

#[test]
fn complete_accepts_the_window_edges_and_mixed_case_addresses() {
    for skew in [-120i64, 120] {
        fresh(false, None);
        add_profile(profile("p"));
        add_claim("c", "p", "t", "HVN-AAAAAA", METHOD_DM);
        let k = key(HARDHAT0_KEY);
        let ts = (NOW_SECS as i64 + skew) as u64;
        let message = claim_message("c", "p", HARDHAT0, VECTOR_NONCE, ts as i64);
        let checksummed = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let req = post(complete_body(
            "c",
            checksummed,
            &sign(&k, &message),
            ts,
            VECTOR_NONCE,
        ));
        let (status, body) = answer(complete(&req, now()));
        assert_eq!(status, 200, "{skew}: {body}");
        assert!(body.contains(HARDHAT0));
        assert_eq!(
            stored_profile("p").claimed_address.as_deref(),
            Some(HARDHAT0)
        );
    }
}

#[test]
fn a_claim_completes_once_and_a_second_claim_on_the_profile_changes_nothing() {
    fresh(true, None);
    add_profile(profile("p"));
    let mut r = rng();
    let started = |r: &mut Rng| {
        let req = post(json!({"shadowProfileId": "p", "method": "dm"}));
        start(&req, now(), r).unwrap().body_json()["claimId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = started(&mut r);
    let second = started(&mut r);
    let alice = key(HARDHAT0_KEY);
    let bob = key("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

    assert_eq!(
        answer(complete(
            &signed_complete(&alice, &first, "p", NOW_SECS),
            now()
        ))
        .0,
        200
    );
    let after_first = (
        stored_profile("p"),
        claim(&first),
        claim(&second),
        events().len(),
    );

    // The same claim again: its token is spent, so it is no longer found (as the original).
    let later = Now::from_secs(NOW_SECS + 10);
    let again = signed_complete(&alice, &first, "p", NOW_SECS + 10);
    assert_eq!(
        answer(complete(&again, later)),
        error(404, "Invalid or expired claim")
    );

    // Another live claim on the already claimed profile: 409, and nothing is written (the
    // original would still have consumed the token and created the user).
    let other = signed_complete(&bob, &second, "p", NOW_SECS + 10);
    assert_eq!(
        answer(complete(&other, later)),
        error(409, "Claim already completed or no longer available")
    );
    assert_eq!(
        (
            stored_profile("p"),
            claim(&first),
            claim(&second),
            events().len()
        ),
        after_first
    );
    assert!(!claim(&second).used);
    assert!(state::with(|s| !s.users().contains_key(&address_of(&bob))));
    assert_eq!(
        stored_profile("p").claimed_address.as_deref(),
        Some(HARDHAT0)
    );
}

#[test]
fn complete_keeps_an_existing_user_row() {
    fresh(false, None);
    add_profile(profile("p"));
    add_profile(profile("q"));
    add_claim("c", "p", "t", "HVN-AAAAAA", METHOD_BIO_EDIT);
    add_claim("d", "q", "u", "HVN-AAAAAB", METHOD_BIO_EDIT);
    let first = signed_complete(&key(HARDHAT0_KEY), "c", "p", NOW_SECS);
    assert_eq!(answer(complete(&first, now())).0, 200);
    let existing = state::with(|s| s.users().get(&HARDHAT0.to_string()).unwrap().0);
    assert_eq!(existing.created_at_ms, now().millis());
    // A second profile claimed by the same wallet later leaves its user row as it was.
    let later = Now::from_secs(NOW_SECS + 60);
    let second = signed_complete(&key(HARDHAT0_KEY), "d", "q", NOW_SECS + 60);
    assert_eq!(answer(complete(&second, later)).0, 200);
    assert_eq!(
        state::with(|s| s.users().get(&HARDHAT0.to_string()).unwrap().0),
        existing
    );
    assert!(claim("d").used);
    assert_eq!(stored_profile("q").claimed_at_ms, Some(later.millis()));
}

#[test]
fn the_whole_dm_flow() {
    fresh(false, Some("op"));
    add_profile(profile("p"));
    let req = with_secret(post(json!({"shadowProfileId": "p", "method": "dm"})), "op");
    let started = start(&req, now(), &mut rng()).unwrap().body_json();
    let token = started["token"].as_str().unwrap();
    let code = started["verificationCode"].as_str().unwrap().to_lowercase();
    assert_eq!(answer(get_claim(token, now())).0, 200);
    let verified = verify_dm(&post(json!({"shadowProfileId": "p", "code": code})), now())
        .unwrap()
        .body_json();
    let claim_id = verified["claimId"].as_str().unwrap();
    assert_eq!(claim_id, started["claimId"].as_str().unwrap());
    let req = signed_complete(&key(HARDHAT0_KEY), claim_id, "p", NOW_SECS);
    assert_eq!(answer(complete(&req, now())).0, 200);
    // Once claimed, the profile cannot be started again.
    let req = with_secret(post(json!({"shadowProfileId": "p", "method": "dm"})), "op");
    assert_eq!(
        answer(start(&req, now(), &mut rng())),
        error(404, "Profile not found or already claimed")
    );
}

#[test]
fn a_nonce_cannot_add_a_line_to_the_signed_claim_message() {
    fresh(false, None);
    add_profile(profile("p"));
    add_claim("c", "p", "t", "HVN-AAAAAA", METHOD_DM);
    let k = key(HARDHAT0_KEY);
    for bad in [
        "abcdef0123456789\nissued_at=1",
        "abcdef0123456789 x",
        "abcdef0123456789;",
    ] {
        // Signed over the message the nonce would make: only the format can refuse it.
        let message = claim_message("c", "p", HARDHAT0, bad, NOW_SECS as i64);
        let req = post(complete_body(
            "c",
            HARDHAT0,
            &sign(&k, &message),
            NOW_SECS,
            bad,
        ));
        assert_eq!(
            answer(complete(&req, now())),
            error(400, "Invalid nonce"),
            "{bad:?}"
        );
    }
    assert!(!claim("c").used);
}
