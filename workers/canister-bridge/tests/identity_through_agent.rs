//! [`AgentIdentity`] against the real identity wasm served by the harness: a names route
//! through `edge_request` (an update through ic-agent) answers the canister's status and JSON,
//! a malformed body is the route's 4xx, and `identity_of` (a query) answers `None` for an
//! unknown address.

mod common;

use canister_bridge::{AgentIdentity, IdentityClient};
use common::{connect, identity_harness, serve};
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
    let (harness, c) = identity_harness();
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
