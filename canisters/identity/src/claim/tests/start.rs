//! POST /api/claim/start, and the shapes of the link token, code and claim id.

use super::*;

// ---- POST /api/claim/start ----

#[test]
fn start_is_disabled_in_production_without_a_secret() {
    let disabled = || error(503, "Claim start is disabled (server misconfiguration)");
    let body = || post(json!({"shadowProfileId": "p", "method": "dm"}));
    fresh(false, None);
    add_profile(profile("p"));
    assert_eq!(answer(start(&body(), now(), &mut rng())), disabled());
    // An empty secret counts as unset, and the check comes before the body is read.
    fresh(false, Some(""));
    assert_eq!(
        answer(start(&post_raw(b"{"), now(), &mut rng())),
        disabled()
    );
    assert!(events().is_empty());
}

#[test]
fn start_is_open_in_development_without_a_secret() {
    fresh(true, None);
    add_profile(profile("p"));
    let req = post(json!({"shadowProfileId": "p", "method": "dm"}));
    assert_eq!(answer(start(&req, now(), &mut rng())).0, 200);
}

#[test]
fn start_requires_the_exact_secret_when_one_is_set() {
    let unauthorized = || error(401, "Unauthorized");
    for development in [false, true] {
        fresh(development, Some("s3cret"));
        add_profile(profile("p"));
        let body = || post(json!({"shadowProfileId": "p", "method": "dm"}));
        assert_eq!(answer(start(&body(), now(), &mut rng())), unauthorized());
        for wrong in ["", "s3cres", "s3cret ", "S3CRET", "s3cre"] {
            let req = with_secret(body(), wrong);
            assert_eq!(
                answer(start(&req, now(), &mut rng())),
                unauthorized(),
                "{wrong:?}"
            );
        }
        // Checked before the body is parsed.
        let req = with_secret(post_raw(b"not json"), "nope");
        assert_eq!(answer(start(&req, now(), &mut rng())), unauthorized());
        let req = with_secret(body(), "s3cret");
        assert_eq!(answer(start(&req, now(), &mut rng())).0, 200);
    }
}

#[test]
fn start_errors_in_order() {
    fresh(true, None);
    let run = |req: ApiRequest| answer(start(&req, now(), &mut rng()));
    assert_eq!(run(post_raw(b"{oops")), error(400, "Invalid JSON body"));
    let missing = || error(400, "Missing shadowProfileId or method");
    for body in [
        json!({}),
        json!({"shadowProfileId": "p"}),
        json!({"method": "dm"}),
        json!({"shadowProfileId": "", "method": "dm"}),
        json!({"shadowProfileId": "p", "method": 0}),
        json!({"shadowProfileId": null, "method": "nope"}),
    ] {
        assert_eq!(run(post(body.clone())), missing(), "{body}");
    }
    for method in [json!("reply_nonce"), json!("DM"), json!(1), json!(["dm"])] {
        let body = json!({"shadowProfileId": "p", "method": method});
        assert_eq!(
            run(post(body)),
            error(400, "Invalid claim method"),
            "{method}"
        );
    }
    let not_found = || error(404, "Profile not found or already claimed");
    assert_eq!(
        run(post(json!({"shadowProfileId": "p", "method": "dm"}))),
        not_found()
    );
    assert_eq!(
        run(post(json!({"shadowProfileId": 7, "method": "dm"}))),
        not_found()
    );
    add_profile(ShadowProfile {
        claimed_address: Some(HARDHAT0.into()),
        ..profile("p")
    });
    assert_eq!(
        run(post(json!({"shadowProfileId": "p", "method": "dm"}))),
        not_found()
    );
    assert_eq!(events().len(), 1, "only the profile import");
}

#[test]
fn start_issues_a_link_and_code_and_stores_only_their_hashes() {
    fresh(true, None);
    add_profile(profile("p"));
    let req = post(json!({"shadowProfileId": "p", "method": "bio_edit"}));
    let response = start(&req, now(), &mut rng()).unwrap();
    let body = response.body_json();
    assert_eq!(body.as_object().unwrap().len(), 6);
    let claim_id = body["claimId"].as_str().unwrap();
    let token = body["token"].as_str().unwrap();
    let code = body["verificationCode"].as_str().unwrap();
    assert!(is_uuid_v4(claim_id), "{claim_id}");
    assert_eq!(token.len(), 48);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert!(is_human_code(code), "{code}");
    assert_eq!(
        body["expiresAt"],
        json!(now().millis() + 7 * 24 * 3_600_000)
    );
    assert_eq!(body["source"], json!("dateme"));
    assert_eq!(body["sourceUrl"], json!("https://dateme.directory/p"));
    let text = String::from_utf8(response.body).unwrap();
    let order = [
        "claimId",
        "token",
        "verificationCode",
        "expiresAt",
        "source",
        "sourceUrl",
    ]
    .map(|k| text.find(&format!("\"{k}\":")).unwrap());
    assert!(order.is_sorted(), "{text}");

    let stored = claim(claim_id);
    assert_eq!(
        stored,
        ClaimToken {
            id: claim_id.to_string(),
            shadow_profile_id: "p".into(),
            token_hash: sha256_hex(token),
            human_code_hash: sha256_hex(code),
            method: "bio_edit".into(),
            issued_at_ms: now().millis(),
            expires_at_ms: now().millis() + CLAIM_TTL_MS,
            used: false,
            used_at_ms: None,
            used_by: None,
        }
    );
    state::with(|s| {
        assert_eq!(
            s.claim_token_by_hash().get(&sha256_hex(token)),
            Some(claim_id.to_string())
        );
        assert!(
            s.claim_token_by_code()
                .contains_key(&format!("{}|{claim_id}", sha256_hex(code)))
        );
    });
    assert_eq!(
        events().last(),
        Some(&EventType::ClaimStarted {
            claim_id: claim_id.into(),
            shadow_profile_id: "p".into(),
            method: "bio_edit".into(),
            token_hash: sha256_hex(token),
            human_code_hash: sha256_hex(code),
            expires_at_ms: now().millis() + CLAIM_TTL_MS,
        })
    );
    // The link now opens the profile.
    assert_eq!(answer(get_claim(token, now())).0, 200);
}

#[test]
fn start_with_a_null_source_url_sends_null() {
    fresh(true, None);
    add_profile(ShadowProfile {
        source_url: None,
        ..profile("p")
    });
    let req = post(json!({"shadowProfileId": "p", "method": "dm"}));
    let text = answer(start(&req, now(), &mut rng())).1;
    assert!(
        text.ends_with(r#","source":"dateme","sourceUrl":null}"#),
        "{text}"
    );
}

fn is_uuid_v4(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        && groups[2].starts_with('4')
        && matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b')
}

fn is_human_code(s: &str) -> bool {
    s.strip_prefix("HVN-")
        .is_some_and(|c| c.len() == 6 && c.bytes().all(|b| CODE_ALPHABET.contains(&b)))
}

#[test]
fn generated_ids_and_codes_have_their_shapes() {
    let mut r = rng();
    let mut codes = std::collections::BTreeSet::new();
    for _ in 0..200 {
        assert!(is_uuid_v4(&uuid_v4(&mut r)));
        let code = human_code(&mut r);
        assert!(is_human_code(&code), "{code}");
        codes.insert(code);
        assert_eq!(link_token(&mut r).len(), 48);
    }
    assert!(codes.len() > 190);
}
