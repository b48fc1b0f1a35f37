//! GET /api/wallet/nonce and /api/wallet/domain.

use super::*;

#[tokio::test]
async fn nonce_reads_the_contract() {
    let s = setup().await;
    let get = |q: &str| ApiRequest::new("GET", &format!("/api/wallet/nonce{q}"), vec![], vec![]);
    for q in [
        "",
        "?user=",
        "?user=0x12",
        "?user=70997970c51812dc3a010c7d01b50e0d17dc79c8",
    ] {
        assert_eq!(
            err(nonce(&s.rt, &get(q)).await),
            (400, "Missing or invalid user address".into())
        );
    }
    let user = "?user=0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    // No answer for nonces(): the original's uncaught RPC error.
    assert_eq!(
        err(nonce(&s.rt, &get(user)).await),
        (500, "Internal server error".into())
    );
    s.user_nonce().await;
    let r = nonce(&s.rt, &get(user)).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, br#"{"nonce":"7"}"#.to_vec());
}

#[tokio::test]
async fn domain_answers_the_original_shape() {
    let s = setup().await;
    let separator = "0xc0942f1029a49754ecf6d5801213cd1bdb4446b7f93f8003ccd125bf1e324a64";
    s.chain
        .on_call(
            DOMAIN_SEPARATORCall::SELECTOR,
            hex32::parse_b256(separator).unwrap().to_vec(),
        )
        .await;
    let r = domain(&s.rt).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        format!(
            r#"{{"domain":{{"name":"DatingProfileV3","version":"1","chainId":84532,"verifyingContract":"{DATING_PROFILE}"}},"domainSeparator":"{separator}","contract":"{DATING_PROFILE}","chainId":84532}}"#
        )
    );
    // The separator the fixture uses is the one our EIP-712 domain hashes to.
    let ours = heaven_eth::eip712::dating_profile_domain(CHAIN_ID, dating_profile()).separator();
    assert_eq!(hex32::b256_hex(&ours), separator);
}
