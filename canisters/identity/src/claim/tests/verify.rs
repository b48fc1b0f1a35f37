//! POST /api/claim/verify-bio and /verify-dm (and its attempts limit).

use super::*;

#[test]
fn verify_bio_errors_in_order_and_stub_success() {
    fresh(false, None);
    add_profile(profile("p"));
    add_claim("bio", "p", "t1", "HVN-BBBBBB", METHOD_BIO_EDIT);
    add_claim("dm", "p", "t2", "HVN-CCCCCC", METHOD_DM);
    mark();
    let run = |body: Value| answer(verify_bio(&post(body), now()));
    assert_eq!(
        answer(verify_bio(&post_raw(b""), now())),
        error(400, "Invalid JSON body")
    );
    for body in [json!({}), json!({"claimId": ""}), json!({"claimId": null})] {
        assert_eq!(run(body), error(400, "Missing claimId"));
    }
    let gone = || error(404, "Invalid or expired claim");
    assert_eq!(run(json!({"claimId": "nope"})), gone());
    assert_eq!(run(json!({"claimId": 5})), gone());
    let after_expiry = Now::from_ns(claim("bio").expires_at_ms * 1_000_000);
    assert_eq!(
        answer(verify_bio(&post(json!({"claimId": "bio"})), after_expiry)),
        gone()
    );
    assert_eq!(
        run(json!({"claimId": "dm"})),
        error(400, "Wrong verification method")
    );
    assert_eq!(
        run(json!({"claimId": "bio"})),
        (
            200,
            r#"{"verified":true,"message":"Bio verification successful"}"#.into()
        )
    );
    assert!(events().is_empty(), "verification records nothing");
}

// ---- POST /api/claim/verify-dm ----

#[test]
fn verify_dm_errors_in_order() {
    fresh(false, None);
    add_profile(profile("p"));
    add_profile(profile("q"));
    add_claim("dm", "p", "t1", "HVN-DDDDDD", METHOD_DM);
    add_claim("bio", "p", "t2", "HVN-EEEEEE", METHOD_BIO_EDIT);
    let run = |body: Value| answer(verify_dm(&post(body), now()));
    assert_eq!(
        answer(verify_dm(&post_raw(b"nul"), now())),
        error(400, "Invalid JSON body")
    );
    let missing = || error(400, "Missing shadowProfileId or code");
    for body in [
        json!({}),
        json!({"shadowProfileId": "p"}),
        json!({"code": "HVN-DDDDDD"}),
        json!({"shadowProfileId": "", "code": "HVN-DDDDDD"}),
        json!({"shadowProfileId": "p", "code": ""}),
    ] {
        assert_eq!(run(body), missing());
    }
    let invalid = || error(400, "Invalid code");
    for body in [
        json!({"shadowProfileId": "p", "code": "HVN-DDDDDE"}),
        json!({"shadowProfileId": "p", "code": 12}),
        json!({"shadowProfileId": "q", "code": "HVN-DDDDDD"}),
        json!({"shadowProfileId": "nobody", "code": "HVN-DDDDDD"}),
        // A bio_edit claim's code does not verify by DM.
        json!({"shadowProfileId": "p", "code": "HVN-EEEEEE"}),
    ] {
        assert_eq!(run(body.clone()), invalid(), "{body}");
    }
    let after_expiry = Now::from_ns(claim("dm").expires_at_ms * 1_000_000);
    let req = post(json!({"shadowProfileId": "p", "code": "HVN-DDDDDD"}));
    assert_eq!(answer(verify_dm(&req, after_expiry)), invalid());
}

#[test]
fn verify_dm_accepts_the_code_in_any_case_with_surrounding_space() {
    fresh(false, None);
    add_profile(profile("p"));
    add_claim("dm", "p", "t1", "HVN-K7M2PQ", METHOD_DM);
    for code in [
        "HVN-K7M2PQ",
        "hvn-k7m2pq",
        "  Hvn-K7m2pQ\n",
        "\u{feff}\thvn-k7m2pq \u{3000}",
    ] {
        let req = post(json!({"shadowProfileId": "p", "code": code}));
        assert_eq!(
            answer(verify_dm(&req, now())),
            (200, r#"{"verified":true,"claimId":"dm"}"#.into()),
            "{code:?}"
        );
    }
    // Inner space is not trimmed; U+0085 is not JavaScript white space.
    for code in ["HVN- K7M2PQ", "\u{85}HVN-K7M2PQ"] {
        let req = post(json!({"shadowProfileId": "p", "code": code}));
        assert_eq!(answer(verify_dm(&req, now())), error(400, "Invalid code"));
    }
    // A used claim no longer verifies.
    use_claim("dm");
    let req = post(json!({"shadowProfileId": "p", "code": "HVN-K7M2PQ"}));
    assert_eq!(answer(verify_dm(&req, now())), error(400, "Invalid code"));
}

#[test]
fn verify_dm_limits_failed_codes_per_profile_per_hour() {
    fresh(false, None);
    add_profile(profile("p"));
    add_profile(profile("q"));
    add_claim("dm", "p", "t1", "HVN-RIGHT2", METHOD_DM);
    add_claim("dmq", "q", "t2", "HVN-QQQQQQ", METHOD_DM);
    let try_code = |profile: &str, code: &str, at: Now| {
        answer(verify_dm(
            &post(json!({"shadowProfileId": profile, "code": code})),
            at,
        ))
    };
    let t0 = now();
    for i in 0..10u64 {
        let at = Now::from_ns(t0.ns + i * 60_000_000_000);
        assert_eq!(
            try_code("p", "HVN-WRONG2", at),
            error(400, "Invalid code"),
            "{i}"
        );
    }
    let later = Now::from_ns(t0.ns + 30 * 60_000_000_000);
    let too_many = || error(429, "Too many attempts");
    assert_eq!(try_code("p", "HVN-WRONG2", later), too_many());
    // Even the right code is refused while locked, and refusals are not counted.
    assert_eq!(try_code("p", "HVN-RIGHT2", later), too_many());
    // Other profiles are unaffected; unknown profiles are never counted.
    assert_eq!(try_code("q", "hvn-qqqqqq", later).0, 200);
    for _ in 0..12 {
        assert_eq!(
            try_code("ghost", "HVN-WRONG2", later),
            error(400, "Invalid code")
        );
    }
    // The first failure leaves the window one hour after it was made.
    let first_out = Now::from_ns(t0.ns + CLAIM_ATTEMPT_WINDOW_NS);
    assert_eq!(try_code("p", "HVN-RIGHT2", first_out).0, 200);
    assert_eq!(
        try_code("p", "HVN-WRONG2", first_out),
        error(400, "Invalid code")
    );
    assert_eq!(try_code("p", "HVN-WRONG2", first_out), too_many());
    // Stale records are pruned when a new failure is counted.
    let much_later = Now::from_ns(t0.ns + 5 * CLAIM_ATTEMPT_WINDOW_NS);
    assert_eq!(
        try_code("p", "HVN-WRONG2", much_later),
        error(400, "Invalid code")
    );
    state::with(|s| {
        assert_eq!(s.claim_attempts().len(), 1);
        assert_eq!(failed_code_attempts(s, "p", much_later.ns), 1);
        let last = s.event(s.event_count() - 1).unwrap();
        assert_eq!(
            last.payload,
            EventType::ClaimCodeRejected {
                shadow_profile_id: "p".into()
            }
        );
    });
}

#[test]
fn attempt_records_of_one_profile_ignore_ids_that_extend_it() {
    fresh(false, None);
    let rejected = |s: &mut State, id: &str, at_ns: u64| {
        let shadow_profile_id = id.to_string();
        process_event(
            s,
            Now::from_ns(at_ns),
            EventType::ClaimCodeRejected { shadow_profile_id },
        )
    };
    state::mutate(|s| {
        rejected(s, "p", 5);
        rejected(s, "p", 5);
        rejected(s, "p|00000000000000000001", 6);
        assert_eq!(failed_code_attempts(s, "p", 10), 2);
        assert_eq!(failed_code_attempts(s, "p|00000000000000000001", 10), 1);
    });
}
