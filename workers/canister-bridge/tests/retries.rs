//! Ambiguous outcomes through [`CanisterAgent::update`], with a proxy in front of the
//! harness that loses the first `call`: when the call reached the canister but the answer was
//! lost, the request status (same request id) gives the reply without a second execution;
//! when the call never reached it, the same signed request is resubmitted and executes once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::{Router, body::Bytes, extract::State, http::Uri, response::IntoResponse};
use candid::{Decode, Encode, Principal};
use canister_bridge::CanisterAgent;
use common::local_config;
use ic_wasm_harness::ic_http::IcHttpServer;
use ic_wasm_harness::{Harness, canister_wasm};

/// What the proxy does with the first `call` it sees.
#[derive(Clone, Copy)]
enum FirstCall {
    /// Forwards it, then holds the answer past the client's timeout.
    ExecuteThenHang,
    /// Holds it without forwarding.
    Drop,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    mode: FirstCall,
    calls: Arc<AtomicU32>,
}

async fn forward(State(proxy): State<Proxy>, uri: Uri, body: Bytes) -> axum::response::Response {
    let client = reqwest::Client::new();
    let url = format!("{}{}", proxy.upstream, uri.path());
    let is_call = uri.path().ends_with("/call");
    let first = is_call && proxy.calls.fetch_add(1, Ordering::SeqCst) == 0;
    if first && matches!(proxy.mode, FirstCall::Drop) {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    let response = if uri.path().ends_with("/status") {
        client.get(&url).send().await
    } else {
        client
            .post(&url)
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .await
    };
    let response = response.expect("the harness answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    if first {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    (
        axum::http::StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/cbor")],
        bytes,
    )
        .into_response()
}

async fn start_proxy(upstream: String, mode: FirstCall) -> (String, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let app = Router::new().fallback(forward).with_state(Proxy {
        upstream,
        mode,
        calls: calls.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

async fn fixture_behind_proxy(
    mode: FirstCall,
) -> (IcHttpServer, CanisterAgent, Principal, Arc<AtomicU32>) {
    let mut harness = Harness::at_wall_clock();
    let wasm = canister_wasm("harness_fixture").unwrap_or_else(|e| panic!("{e}"));
    #[derive(candid::CandidType)]
    struct FixtureInit {
        ecdsa_key_name: String,
    }
    let c = harness
        .create_and_install(
            &wasm,
            Encode!(&FixtureInit {
                ecdsa_key_name: "dfx_test_key".into()
            })
            .unwrap(),
        )
        .unwrap();
    let server = IcHttpServer::start(harness).await.unwrap();
    let (url, calls) = start_proxy(server.url(), mode).await;
    let agent = CanisterAgent::connect(&local_config(url, 5, Duration::from_millis(1500)))
        .await
        .unwrap();
    (server, agent, c, calls)
}

async fn counter(agent: &CanisterAgent, c: Principal) -> u64 {
    Decode!(
        &agent.query(c, "get", Encode!().unwrap()).await.unwrap(),
        u64
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_read_back_by_request_id_without_a_second_execution() {
    let (server, agent, c, calls) = fixture_behind_proxy(FirstCall::ExecuteThenHang).await;
    let reply = agent
        .update(c, "increment", Encode!().unwrap())
        .await
        .unwrap();
    assert_eq!(Decode!(&reply, u64).unwrap(), 1);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "not resubmitted: the status answered"
    );
    assert_eq!(counter(&agent, c).await, 1, "executed once");
    server.with_replica(|r| assert_eq!(r.statuses.len(), 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_submission_is_resubmitted_under_the_same_request_id() {
    let (server, agent, c, calls) = fixture_behind_proxy(FirstCall::Drop).await;
    let reply = agent
        .update(c, "increment", Encode!().unwrap())
        .await
        .unwrap();
    assert_eq!(Decode!(&reply, u64).unwrap(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "resubmitted once");
    assert_eq!(counter(&agent, c).await, 1, "executed once");
    server.with_replica(|r| assert_eq!(r.statuses.len(), 1, "one request id"));
}
