//! The identity routes on the local stack: api-core's `/api/names`, `/api/claim` and
//! `/api/wallet` answered by the identity canister running natively, with state that survives a
//! restart, NamePermits signed by the dev key, the per-IP limit fed by the local edge, and
//! `heaven migrate identity-import`.

mod common;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use common::Heaven;
use identity_canister::names::pow;
use identity_canister::testing::{FakeChain, permit_from_json, permit_signer};
use serde_json::{Value, json};

const STORE: &str = "0x46Bcae2625157b562c974bb5a912dfcb811a234A";
/// The default Tempo chain id of the names policy.
const TEMPO_CHAIN_ID: u64 = 42431;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

use identity_canister::testing::{address_hex as address, key_from_seed as key, personal_sign};

/// `heaven serve api` on `data` with `env`; returns the process and the api URL.
fn serve_api(data: &Path, env: &[(&str, &str)]) -> (Heaven, String) {
    let stack = Heaven::start(&["serve", "api"], data, env, false);
    let api = stack.url("api");
    (stack, api)
}

async fn get(url: String) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(url: String, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_name_is_served_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let (stack, api) = serve_api(data.path(), &[]);
    let owner_key = key(7);
    let owner = address(&owner_key);
    let label = "skyline";
    let nonce = "it-nonce-000000000001";
    let now = unix_now();
    let message = [
        "heaven-registry:v1".to_owned(),
        "action=register".to_owned(),
        "tld=heaven".to_owned(),
        format!("label={label}"),
        format!("pkp={owner}"),
        format!("nonce={nonce}"),
        format!("issued_at={now}"),
        format!("expires_at={}", now + 120),
        "profile_cid=".to_owned(),
    ]
    .join("\n");
    let (status, body) = post(
        format!("{api}/api/names/register"),
        json!({
            "label": label,
            "pkpAddress": owner,
            "signature": personal_sign(&owner_key, &message),
            "nonce": nonce,
            "timestamp": now,
        }),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);

    let check = |api: String| {
        let owner = owner.clone();
        async move {
            let (status, details) = get(format!("{api}/api/names/{label}")).await;
            assert_eq!(status, 200, "{details}");
            assert_eq!(details["label"], label);
            assert_eq!(details["pkp_address"], owner);
            assert_eq!(details["status"], "active");
            let (status, availability) = get(format!("{api}/api/names/available/{label}")).await;
            assert_eq!(status, 200);
            assert_eq!(
                availability,
                json!({ "available": false, "reason": "taken" })
            );
        }
    };
    check(api).await;
    let (exit, _) = stack.stop();
    assert!(exit.success());

    let (_stack, api) = serve_api(data.path(), &[]);
    check(api).await;
    assert!(data.path().join("identity-canister.stable").is_file());
}

/// A FakeChain quoting every name at 1 000 000, no listing, nothing reserved.
async fn fake_tempo() -> FakeChain {
    let chain = FakeChain::start(1000).await;
    chain.store_quote(0, 0, false).await;
    chain.registry(false, 0, 1_000_000).await;
    chain
}

/// Challenge, solve and ask for a permit for `label` by `wallet`, with `headers` on the permit.
async fn permit(api: &str, label: &str, wallet: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, challenge) = post(
        format!("{api}/api/names/challenge"),
        json!({ "label": label, "tld": "heaven", "wallet": wallet }),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{challenge}");
    let difficulty = u32::try_from(challenge["difficulty"].as_u64().unwrap()).unwrap();
    let pow_nonce = pow::solve(challenge["challenge"].as_str().unwrap(), difficulty);
    post(
        format!("{api}/api/names/permit"),
        json!({
            "label": label,
            "tld": "heaven",
            "wallet": wallet,
            "challengeId": challenge["challengeId"],
            "powNonce": pow_nonce,
        }),
        headers,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_name_permit_is_signed_by_the_reported_policy_signer() {
    let chain = fake_tempo().await;
    let data = tempfile::tempdir().unwrap();
    let rpc = chain.url();
    let (_stack, api) = serve_api(
        data.path(),
        &[
            ("TEMPO_RPC_URL", &rpc),
            ("TEMPO_PREMIUM_NAME_STORE_V2", STORE),
            ("NAMES_POW_DIFFICULTY_HEX", "1"),
        ],
    );
    let wallet = address(&key(9));
    let (status, r) = permit(&api, "longname1", &wallet, &[]).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["policy"], "LONG_POW");
    assert_eq!(r["quote"]["price"], "1000000");

    let (status, signer) = get(format!("{api}/api/names/policy/signer")).await;
    assert_eq!(status, 200, "{signer}");
    assert_eq!(signer["store"], STORE);
    let permit = permit_from_json(&r["permit"]);
    assert_eq!(permit.labelHash, heaven_eth::keccak256(b"longname1"));
    let store = heaven_eth::address::parse(STORE).unwrap();
    let recovered = permit_signer(&r, TEMPO_CHAIN_ID, store);
    assert_eq!(
        heaven_eth::address::to_checksum(&recovered),
        signer["address"].as_str().unwrap()
    );
}

/// `heaven serve api` with a fake Tempo node, a store and an IP limit of one long-name permit
/// per 10 minutes; `extra` on top.
async fn serve_api_with_ip_limit_one(
    data: &Path,
    chain: &FakeChain,
    extra: &[(&str, &str)],
) -> (Heaven, String) {
    let rpc = chain.url();
    let mut env = vec![
        ("TEMPO_RPC_URL", rpc.as_str()),
        ("TEMPO_PREMIUM_NAME_STORE_V2", STORE),
        ("NAMES_POW_DIFFICULTY_HEX", "1"),
        ("NAMES_LONG_IP_LIMIT_10M", "1"),
    ];
    env.extend_from_slice(extra);
    serve_api(data, &env)
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_trusted_proxy_forwarding_headers_do_not_escape_the_ip_limit() {
    let chain = fake_tempo().await;
    let data = tempfile::tempdir().unwrap();
    let (_stack, api) = serve_api_with_ip_limit_one(data.path(), &chain, &[]).await;
    let from = |ip| [("X-Forwarded-For", ip), ("CF-Connecting-IP", ip)];
    let (status, body) = permit(&api, "longname1", &address(&key(1)), &from("203.0.113.7")).await;
    assert_eq!(status, 200, "{body}");
    // A new made-up address per request is still the same TCP peer: one bucket.
    let limited = json!({ "error": "Rate limited: IP limit exceeded" });
    for (i, ip) in ["203.0.113.8", "198.51.100.3", "192.0.2.44"]
        .iter()
        .enumerate()
    {
        let label = format!("longname{}", i + 2);
        let (status, body) = permit(&api, &label, &address(&key(i as u8 + 2)), &from(ip)).await;
        assert_eq!((status, body), (429, limited.clone()), "{ip}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_the_forwarded_ip_is_counted_and_edge_headers_ignored() {
    let chain = fake_tempo().await;
    let data = tempfile::tempdir().unwrap();
    let (_stack, api) =
        serve_api_with_ip_limit_one(data.path(), &chain, &[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let from = |ip| [("X-Forwarded-For", ip)];
    let (status, body) = permit(&api, "longname1", &address(&key(1)), &from("203.0.113.7")).await;
    assert_eq!(status, 200, "{body}");
    let limited = json!({ "error": "Rate limited: IP limit exceeded" });
    let (status, body) = permit(&api, "longname2", &address(&key(2)), &from("203.0.113.7")).await;
    assert_eq!((status, body), (429, limited.clone()));
    // A client cannot move itself to another bucket with the edge's own headers.
    let spoofed = [
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Heaven-Client-Ip", "198.51.100.1"),
        ("X-Heaven-Edge-Key", "guessed"),
    ];
    let (status, body) = permit(&api, "longname3", &address(&key(3)), &spoofed).await;
    assert_eq!((status, body), (429, limited));
    // Another IP has its own bucket.
    let (status, body) = permit(&api, "longname4", &address(&key(4)), &from("203.0.113.8")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_shadow_profile_can_be_claimed() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("identity.json");
    std::fs::write(
        &file,
        json!({
            "shadowProfiles": [{
                "id": "shadow-alex-sf",
                "source": "dateme",
                "source_url": "https://dateme.example/alex",
                "displayName": "Alex",
                "location": "San Francisco",
                "likesReceived": 4,
            }],
            "identities": [{
                "address": address(&key(5)),
                "nullifierHash": format!("0x{}", "ab".repeat(32)),
                "verifiedAt": 1_771_600_000u64,
            }],
            "reserved": [{ "label": "heavenly", "reason": "team" }],
        })
        .to_string(),
    )
    .unwrap();
    let (code, stdout, stderr) = common::run_to_end(
        &["migrate", "identity-import", file.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("imported 1 shadow profiles, 1 identities and 1 reserved labels from "),
        "{stdout}"
    );

    let (_stack, api) = serve_api(data.path(), &[]);
    let (status, started) = post(
        format!("{api}/api/claim/start"),
        json!({ "shadowProfileId": "shadow-alex-sf", "method": "bio_edit" }),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let token = started["token"].as_str().unwrap();
    let (status, claim) = get(format!("{api}/api/claim/{token}")).await;
    assert_eq!(status, 200, "{claim}");
    assert_eq!(claim["id"], "shadow-alex-sf");
    assert_eq!(claim["displayName"], "Alex");
    assert_eq!(claim["sourceUrl"], "https://dateme.example/alex");
    assert_eq!(claim["likesReceived"], 4);
    let (status, availability) = get(format!("{api}/api/names/available/heavenly")).await;
    assert_eq!(status, 200);
    assert_eq!(availability["reason"], "reserved");

    // While the stack holds the state file, an import is refused before it touches it.
    let (code, _, stderr) = common::run_to_end(
        &["migrate", "identity-import", file.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("in use by another identity canister"),
        "{stderr}"
    );
}

#[test]
fn a_bad_import_file_is_refused_whole() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("identity.json");
    std::fs::write(
        &file,
        r#"{"reserved":[{"label":"first","reason":"team"}],
            "identities":[{"address":"0xnope","verifiedAt":1}]}"#,
    )
    .unwrap();
    let (code, _, stderr) = common::run_to_end(
        &["migrate", "identity-import", file.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim(),
        format!(
            "heaven: identity-import {}: identities[0]: \"0xnope\" is not a 0x address",
            file.display()
        )
    );
    assert!(
        !data.path().join("identity-canister.stable").exists(),
        "nothing is opened for a refused file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wallet_nonce_is_read_from_the_configured_chain() {
    use heaven_eth::abi::{SolCall, noncesCall};
    let chain = FakeChain::start(1_000).await;
    chain
        .on_call(
            noncesCall::SELECTOR,
            noncesCall::abi_encode_returns(&heaven_eth::U256::from(7u64)),
        )
        .await;
    let data = tempfile::tempdir().unwrap();
    let rpc = chain.url();
    let (_stack, api) = serve_api(data.path(), &[("BASE_SEPOLIA_RPC", &rpc)]);
    let wallet = address(&key(6));
    let (status, body) = get(format!("{api}/api/wallet/nonce?user={wallet}")).await;
    assert_eq!((status, body), (200, json!({ "nonce": "7" })));
    let (status, body) = get(format!("{api}/api/wallet/nonce?user=0x12")).await;
    assert_eq!(
        (status, body),
        (400, json!({ "error": "Missing or invalid user address" }))
    );
}
