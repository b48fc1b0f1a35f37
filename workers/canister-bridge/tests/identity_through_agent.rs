//! [`AgentIdentity`] against the real identity wasm served by the harness: a names route
//! through `edge_request` (an update through ic-agent) answers the canister's status and JSON,
//! a malformed body is the route's 4xx, and `identity_of` (a query) answers `None` for an
//! unknown address. The same scenario runs on PocketIC too (`on_pocket_ic.rs`).

mod common;

use canister_bridge::AgentIdentity;
use common::{connect, identity_harness, scenarios, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_routes_and_identity_reads_go_through_ic_agent() {
    let (harness, c) = identity_harness();
    let server = serve(harness).await;
    let identity = AgentIdentity::new(connect(server.url(), 7).await, c);
    scenarios::names_routes_and_identity_reads(&identity).await;
}
