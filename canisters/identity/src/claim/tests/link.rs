//! GET /api/claim/:token.

use super::*;

// ---- GET /api/claim/:token ----

#[test]
fn get_shows_the_profile_behind_a_live_link() {
    fresh(false, None);
    add_profile(profile("shadow-alex-sf"));
    add_claim("c1", "shadow-alex-sf", "tok", "HVN-ABCDEF", METHOD_DM);
    assert_eq!(
        answer(get_claim("tok", now())),
        (
            200,
            concat!(
                r#"{"id":"shadow-alex-sf","displayName":"Alex","#,
                r#""avatarUrl":"https://ipfs.io/ipfs/bafyanime","source":"dateme","#,
                r#""sourceUrl":"https://dateme.directory/shadow-alex-sf","age":"2","#,
                r#""gender":"1","location":"San Francisco","bio":"Likes hiking","#,
                r#""likesReceived":3,"hasVerificationCode":true}"#
            )
            .to_string()
        )
    );
}

#[test]
fn get_falls_back_and_omits_like_the_original() {
    fresh(false, None);
    add_profile(ShadowProfile {
        id: "shadow-min".into(),
        source: "acx".into(),
        anime_cid: Some(String::new()),
        display_name: Some(String::new()),
        ..ShadowProfile::default()
    });
    // An empty code hash reads as "no code".
    add_claim_with_code_hash("c1", "shadow-min", "tok", "", METHOD_BIO_EDIT);
    assert_eq!(
        answer(get_claim("tok", now())),
        (
            200,
            concat!(
                r#"{"id":"shadow-min","displayName":"Anonymous","#,
                r#""avatarUrl":"https://api.dicebear.com/9.x/adventurer/svg?seed=shadow-min","#,
                r#""source":"acx","sourceUrl":null,"location":null,"bio":null,"#,
                r#""likesReceived":0,"hasVerificationCode":false}"#
            )
            .to_string()
        )
    );
}

#[test]
fn get_rejects_unknown_used_expired_and_orphaned_links() {
    fresh(false, None);
    let gone = || error(404, "Invalid or expired link");
    add_profile(profile("p"));
    add_claim("c1", "p", "tok", "HVN-AAAAAA", METHOD_DM);
    assert_eq!(answer(get_claim("other", now())), gone());
    // Expired exactly at its expiry instant (the original compares `expires_at > now`).
    let expiry = Now::from_ns(claim("c1").expires_at_ms * 1_000_000);
    assert_eq!(answer(get_claim("tok", expiry)), gone());
    assert_eq!(
        answer(get_claim("tok", Now::from_ns(expiry.ns - 1_000_000))).0,
        200
    );
    add_claim("c2", "missing-profile", "tok2", "HVN-AAAAAB", METHOD_DM);
    assert_eq!(answer(get_claim("tok2", now())), gone());
    use_claim("c1");
    assert_eq!(answer(get_claim("tok", now())), gone());
}
