//! [`AgentIdentity`] against the real identity wasm served by the harness: a names route
//! through `edge_request` (an update through ic-agent) answers the canister's status and JSON,
//! a malformed body is the route's 4xx, and `identity_of` (a query) answers `None` for an
//! unknown address.

mod common;

use candid::Encode;
use canister_bridge::{AgentIdentity, IdentityClient};
use common::{connect, serve};
use ic_wasm_harness::{Harness, canister_wasm};
use identity_canister::endpoints::EdgeRequest;

fn request(method: &str, url: &str, body: &[u8]) -> EdgeRequest {
    EdgeRequest {
        method: method.into(),
        url: url.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
        client_ip: Some("203.0.113.7".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_routes_and_identity_reads_go_through_ic_agent() {
    #[derive(candid::CandidType)]
    struct InitArg {
        ecdsa_key_name: String,
    }
    let mut harness = Harness::at_wall_clock();
    let wasm = canister_wasm("identity").unwrap_or_else(|e| panic!("{e}"));
    let c = harness
        .create_and_install(
            &wasm,
            Encode!(&InitArg {
                ecdsa_key_name: "dfx_test_key".into()
            })
            .unwrap(),
        )
        .unwrap();
    let server = serve(harness).await;
    let identity = AgentIdentity::new(connect(server.url(), 7).await, c);

    let unknown = identity
        .edge_request(request("GET", "/api/names/nobody-here", b""))
        .await
        .unwrap();
    assert_eq!(unknown.status, 404);
    let body: serde_json::Value = serde_json::from_slice(&unknown.body).unwrap();
    assert!(body.get("error").is_some(), "{body}");

    let malformed = identity
        .edge_request(request("POST", "/api/names/register", b"{not json"))
        .await
        .unwrap();
    assert_eq!(
        malformed.status,
        400,
        "{}",
        String::from_utf8_lossy(&malformed.body)
    );

    assert_eq!(
        identity
            .identity_of("0x00000000000000000000000000000000000000aa")
            .await
            .unwrap(),
        None
    );
}
