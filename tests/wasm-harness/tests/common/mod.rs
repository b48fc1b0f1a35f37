//! Shared pieces of the harness's integration tests: the fixture's candid types and wasm, and a
//! local axum server for outcalls.

#![allow(dead_code)]

use std::net::SocketAddr;

use candid::{CandidType, Deserialize, Principal};
use ic_wasm_harness::{Scenario, ScenarioExt, canister_wasm};

/// The fixture's init and upgrade argument.
#[derive(Clone, Debug, CandidType, Deserialize)]
pub struct FixtureInit {
    pub ecdsa_key_name: String,
}

/// What the fixture's `sign` returns.
#[derive(Clone, Debug, CandidType, Deserialize)]
pub struct SignOutput {
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub signature: Vec<u8>,
}

/// What the fixture's `fetch` returns.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct FetchOutput {
    pub status: u16,
    pub header_names: Vec<String>,
    pub body: String,
}

/// The fixture wasm (fails with the build hint when missing).
pub fn fixture_wasm() -> Vec<u8> {
    canister_wasm("harness_fixture").unwrap_or_else(|e| panic!("{e}"))
}

/// Installs the fixture with key `dfx_test_key`.
pub fn install_fixture(s: &mut dyn Scenario) -> Principal {
    s.install_with(
        &fixture_wasm(),
        &FixtureInit {
            ecdsa_key_name: "dfx_test_key".into(),
        },
    )
    .unwrap_or_else(|e| panic!("installing the fixture on {}: {e}", s.backend()))
}

/// The candid bytes of `(null : opt FixtureInit)`: upgrade without new arguments.
pub fn no_upgrade_args() -> Vec<u8> {
    candid::encode_one(None::<FixtureInit>).expect("encodes")
}

/// Starts an axum server on 127.0.0.1 in its own thread: `GET /data` answers `hello` with a
/// `content-type` and an `x-request-id` header (which the fixture's transform strips).
pub fn start_server() -> SocketAddr {
    use axum::{Router, http::header, routing::get};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let app = Router::new().route(
                "/data",
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "text/plain"),
                            (header::HeaderName::from_static("x-request-id"), "r-123"),
                        ],
                        "hello",
                    )
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    addr
}
