//! POST /api/names/register, from the known vector on.

use super::*;

// ---- the known vector ----------------------------------------------------------------

#[test]
fn known_vector_registers_alice() {
    let key = SigningKey::from_slice(&hex::decode(HARDHAT0_KEY).unwrap()).unwrap();
    assert_eq!(address(&key), HARDHAT0);
    let body = json!({
        "label": "alice",
        "pkpAddress": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "profileCid": "",
        "signature": "0x73bbb538214ac72dbc8a2c60796091c5ada1ba1c568367b90d49bb5012df01650336ef4d4c1cb70048bb9c9fedef531082d823f91d61fca3a2ea5f0952c91f7c1b",
        "nonce": NONCE,
        "timestamp": T0,
    });
    assert_eq!(
        ok_body(register(&post(&body), at(T0))),
        format!(
            r#"{{"success":true,"label":"alice","expires_at":{}}}"#,
            T0 + YEAR
        )
    );
    let name = stored("alice").unwrap();
    assert_eq!(name.owner, HARDHAT0);
    assert_eq!(name.profile_cid, None);
    assert_eq!(name.grace_ends_at, T0 + YEAR + GRACE);
    assert_eq!(owner_index(), vec![format!("{HARDHAT0}|alice")]);
    assert_eq!(
        state::with(|s| s.nonces().get(&NONCE.to_string()))
            .unwrap()
            .0,
        UsedNonce {
            owner: HARDHAT0.into(),
            used_at: T0
        }
    );
    // Without the 0x prefix it verifies too (it is a different nonce's message, so 401 here
    // proves nothing; check recovery directly instead).
    let msg = message("register", "alice", HARDHAT0, NONCE, T0 as i64, Some(""));
    let sig = body["signature"].as_str().unwrap();
    let no_prefix = &sig[2..];
    assert_eq!(
        heaven_eth::address::to_lower_hex(&heaven_eth::eip191::recover(&msg, no_prefix).unwrap()),
        HARDHAT0
    );
}

#[test]
fn signed_message_matches_the_documented_format() {
    let m = RegistryMessage {
        action: Action::Update,
        label: "alice",
        owner: HARDHAT0,
        nonce: NONCE,
        issued_at: 100,
        profile_cid: "bafy",
    };
    assert_eq!(
        m.text(),
        format!(
            "heaven-registry:v1\naction=update\ntld=heaven\nlabel=alice\npkp={HARDHAT0}\n\
             nonce={NONCE}\nissued_at=100\nexpires_at=220\nprofile_cid=bafy"
        )
    );
    let renew = RegistryMessage {
        action: Action::Renew,
        ..m
    };
    assert!(renew.text().ends_with("\nexpires_at=220"));
}

// ---- register ------------------------------------------------------------------------

#[test]
fn register_errors_come_in_the_original_order() {
    let k = key(1);
    let owner = address(&k);
    set_reserved("alice", Some("brand".into()), at(T0));
    let events = event_count();

    assert_failure(
        register(
            &ApiRequest {
                body: b"{nope".to_vec(),
                ..Default::default()
            },
            at(T0),
        ),
        400,
        "Invalid JSON body",
    );
    let mut body = json!({
        "label": "ab",
        "pkpAddress": "0x123",
        "profileCid": "x".repeat(257),
        "nonce": "short",
        "timestamp": T0 - 121,
    });
    let step = |body: &Value, status, message| {
        assert_failure(register(&post(body), at(T0)), status, message)
    };
    step(&body, 400, "Invalid nonce");
    body["nonce"] = json!(NONCE);
    step(&body, 400, "profileCid too long");
    body["profileCid"] = json!("bafy");
    step(&body, 400, "Invalid label: too_short");
    body["label"] = json!("Alice");
    step(&body, 400, "Invalid PKP address");
    body["pkpAddress"] = json!(owner.to_uppercase().replace("0X", "0x"));
    step(&body, 400, TIMESTAMP_ERROR);
    body["timestamp"] = json!(T0);
    step(&body, 401, "Invalid signature");
    body["signature"] = json!(sign(
        &k,
        &message("register", "alice", &owner, NONCE, T0 as i64, Some("bafy"))
    ));
    step(&body, 400, "Name is reserved");
    set_reserved("alice", None, at(T0));
    let events = events + 1;
    assert_eq!(event_count(), events);
    assert!(register(&post(&body), at(T0)).is_ok());
    assert_eq!(event_count(), events + 1);

    // Taken, in grace, replay: each checked by another registrant with a fresh nonce.
    let other = key(2);
    assert_failure(
        register_at(&other, "alice", None, &nonce(1), T0 + YEAR),
        400,
        "Name is already taken",
    );
    assert_failure(
        register_at(&other, "alice", None, &nonce(2), T0 + YEAR + 1),
        400,
        "Name is in grace period",
    );
    assert_failure(
        register_at(&other, "alice", None, &nonce(3), T0 + YEAR + GRACE),
        400,
        "Name is in grace period",
    );
    assert_failure(
        register_at(&other, "bobby", None, NONCE, T0),
        409,
        REPLAY_ERROR,
    );
    // None of the failures changed anything.
    assert_eq!(event_count(), events + 1);
    assert_eq!(stored("bobby"), None);
    assert_eq!(state::with(|s| s.nonces().len()), 1);
    // The nonces of the refused requests are still fresh.
    assert!(register_at(&other, "bobby", None, &nonce(1), T0).is_ok());
}

#[test]
fn register_refuses_bad_nonces() {
    let k = key(1);
    for bad in [
        json!(null),
        json!(""),
        json!("a".repeat(15)),
        json!("a".repeat(129)),
        json!(1234567890123456789u64),
    ] {
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["nonce"] = bad;
        assert_failure(register(&post(&body), at(T0)), 400, "Invalid nonce");
    }
    let mut body = register_body(&k, "alice", None, NONCE, T0);
    body.as_object_mut().unwrap().remove("nonce");
    assert_failure(register(&post(&body), at(T0)), 400, "Invalid nonce");
    // Bounds are inclusive.
    for (i, len) in [16usize, 128].into_iter().enumerate() {
        let n = "n".repeat(len);
        let label = ["first", "second"][i];
        assert!(register_at(&k, label, None, &n, T0).is_ok());
    }
}

#[test]
fn register_refuses_bad_profile_cids() {
    let k = key(1);
    for bad in [
        json!("x".repeat(257)),
        json!(5),
        json!(0),
        json!(false),
        json!({}),
    ] {
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["profileCid"] = bad;
        assert_failure(register(&post(&body), at(T0)), 400, "profileCid too long");
    }
    let cid = "x".repeat(256);
    let body = register_body(&k, "alice", Some(&cid), NONCE, T0);
    assert!(register(&post(&body), at(T0)).is_ok());
    assert_eq!(stored("alice").unwrap().profile_cid, Some(cid));
    // null signs and stores like absent.
    let mut body = register_body(&k, "bobby", None, &nonce(1), T0);
    body["profileCid"] = Value::Null;
    assert!(register(&post(&body), at(T0)).is_ok());
    assert_eq!(stored("bobby").unwrap().profile_cid, None);
}

#[test]
fn register_reports_every_label_reason() {
    let k = key(1);
    let cases = [
        (json!(null), "empty"),
        (json!(""), "empty"),
        (json!(0), "empty"),
        (json!("abc"), "too_short"),
        (json!("a".repeat(64)), "too_long"),
        (json!("-abcd"), "invalid_chars"),
        (json!("al ice"), "invalid_chars"),
        (json!(12345), "invalid_chars"),
        (json!(" Admin "), "reserved"),
    ];
    for (label, reason) in cases {
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["label"] = label;
        assert_failure(
            register(&post(&body), at(T0)),
            400,
            &format!("Invalid label: {reason}"),
        );
    }
}

#[test]
fn register_refuses_bad_owner_addresses() {
    let k = key(1);
    for bad in [
        json!(null),
        json!(""),
        json!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        json!("0xzz9fd6e51aad88f6f4ce6ab8827279cfffb92266"),
        json!(42),
    ] {
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["pkpAddress"] = bad;
        assert_failure(register(&post(&body), at(T0)), 400, "Invalid PKP address");
    }
    // Surrounding spaces and upper case are normalised (0X too, as lowercasing comes first).
    let owner = address(&k);
    let mut body = register_body(&k, "alice", None, NONCE, T0);
    body["pkpAddress"] = json!(format!("  {}  ", owner.to_uppercase()));
    assert!(register(&post(&body), at(T0)).is_ok());
    assert_eq!(stored("alice").unwrap().owner, owner);
}

#[test]
fn register_enforces_the_timestamp_window() {
    let k = key(1);
    // Missing, string, fractional: the same 400 (the original let these through).
    for bad in [Value::Null, json!(T0.to_string()), json!(T0 as f64 + 0.5)] {
        let mut body = register_body(&k, "alice", None, NONCE, T0);
        body["timestamp"] = bad;
        assert_failure(register(&post(&body), at(T0)), 400, TIMESTAMP_ERROR);
    }
    let mut body = register_body(&k, "alice", None, NONCE, T0);
    body.as_object_mut().unwrap().remove("timestamp");
    assert_failure(register(&post(&body), at(T0)), 400, TIMESTAMP_ERROR);
    let mut body = register_body(&k, "alice", None, NONCE, T0);
    body["timestamp"] = json!(i64::MIN);
    assert_failure(register(&post(&body), at(T0)), 400, TIMESTAMP_ERROR);
    // ±121 s is outside, ±120 s inside.
    assert_failure(
        register(
            &post(&register_body(&k, "alice", None, NONCE, T0 - 121)),
            at(T0),
        ),
        400,
        TIMESTAMP_ERROR,
    );
    assert_failure(
        register(
            &post(&register_body(&k, "alice", None, NONCE, T0 + 121)),
            at(T0),
        ),
        400,
        TIMESTAMP_ERROR,
    );
    assert!(
        register(
            &post(&register_body(&k, "alice", None, NONCE, T0 - 120)),
            at(T0)
        )
        .is_ok()
    );
    assert!(
        register(
            &post(&register_body(&k, "bobby", None, &nonce(1), T0 + 120)),
            at(T0)
        )
        .is_ok()
    );
    // The registration runs from now, not from the signed timestamp.
    assert_eq!(stored("bobby").unwrap().registered_at, T0);
    // A float with no fraction is an integer.
    let mut body = register_body(&k, "carol", None, &nonce(2), T0);
    body["timestamp"] = json!(T0 as f64);
    assert!(register(&post(&body), at(T0)).is_ok());
}

#[test]
fn register_refuses_bad_signatures() {
    let k = key(1);
    let owner = address(&k);
    let good = register_body(&k, "alice", Some("bafy"), NONCE, T0);
    let sig = good["signature"].as_str().unwrap().to_string();
    let mut wrong_signer = good.clone();
    wrong_signer["signature"] = json!(sign(
        &key(2),
        &message("register", "alice", &owner, NONCE, T0 as i64, Some("bafy"))
    ));
    let mut other_cid = good.clone();
    other_cid["profileCid"] = json!("bafz");
    let mut renamed = good.clone();
    renamed["label"] = json!("alicia");
    let mut garbage = good.clone();
    garbage["signature"] = json!("0xnothex");
    let mut short = good.clone();
    short["signature"] = json!(&sig[..sig.len() - 2]);
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("signature");
    let mut number = good.clone();
    number["signature"] = json!(7);
    for body in [
        wrong_signer,
        other_cid,
        renamed,
        garbage,
        short,
        missing,
        number,
    ] {
        assert_failure(register(&post(&body), at(T0)), 401, "Invalid signature");
    }
    // Without 0x, and with a mixed-case label (the normalized label is what is signed).
    let mut body = good.clone();
    body["signature"] = json!(&sig[2..]);
    body["label"] = json!(" ALICE ");
    assert!(register(&post(&body), at(T0)).is_ok());
    let name = stored("alice").unwrap();
    assert_eq!(name.label_display.as_deref(), Some(" ALICE "));
    assert_eq!(name.profile_cid.as_deref(), Some("bafy"));
    assert_eq!(name.status, "active");
}

#[test]
fn reregistration_only_after_grace_replaces_the_row_and_its_index_key() {
    let (alice, bob) = (key(1), key(2));
    register_at(&alice, "alice", Some("bafy"), &nonce(1), T0).unwrap();
    let lapse = T0 + YEAR + GRACE + 1;
    assert_eq!(past_grace(at(lapse - 1)), Vec::<String>::new());
    assert_eq!(past_grace(at(lapse)), vec!["alice".to_string()]);
    let events = event_count();
    let answer = ok_body(register_at(&bob, "Alice", None, &nonce(2), lapse));
    assert_eq!(
        answer,
        format!(
            r#"{{"success":true,"label":"alice","expires_at":{}}}"#,
            lapse + YEAR
        )
    );
    assert_eq!(event_count(), events + 1);
    let name = stored("alice").unwrap();
    assert_eq!(
        (name.owner.as_str(), name.registered_at, name.profile_cid),
        (address(&bob).as_str(), lapse, None)
    );
    assert_eq!(owner_index(), vec![format!("{}|alice", address(&bob))]);
    assert_error(
        reverse(&address(&alice), at(lapse)),
        404,
        "No name found for this PKP",
    );
    assert_eq!(
        ok_json(reverse(&address(&bob), at(lapse)))["label"],
        "alice"
    );
    assert!(past_grace(at(lapse)).is_empty());
}
