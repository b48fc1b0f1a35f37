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

fn nonce_request() -> ApiRequest {
    ApiRequest::new(
        "GET",
        "/api/wallet/nonce?user=0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        vec![],
        vec![],
    )
}

/// Deliberate fix (issue #23): the original let these RPC errors escape as 500 "Internal
/// server error"; a node that cannot be reached is a 503 (try again), one that answers with
/// an error a 502.
#[tokio::test]
async fn an_unreachable_node_is_a_503() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (rt, _dir) = runtime(&format!("http://127.0.0.1:{port}/"), true);
    let unavailable = (503, "Chain RPC unavailable".to_string());
    assert_eq!(err(nonce(&rt, &nonce_request()).await), unavailable);
    assert_eq!(err(domain(&rt).await), unavailable);
}

#[tokio::test]
async fn a_node_answering_errors_is_a_502() {
    // The fake node knows neither `nonces()` nor `DOMAIN_SEPARATOR()`.
    let s = setup().await;
    let failed = (502, "Chain RPC failed".to_string());
    assert_eq!(err(nonce(&s.rt, &nonce_request()).await), failed);
    assert_eq!(err(domain(&s.rt).await), failed);
}
