//! The harness's IC HTTP interface against the real, unmodified `ic_agent::Agent`: the agent
//! fetches the test root key from `/api/v2/status`, makes update calls whose certificates it
//! verifies (BLS signature, `time`, `request_status`), queries (with query-signature
//! verification off: the harness has no node keys), sees traps as certified rejects, is
//! authenticated as its secp256k1 principal, and a replayed signed update runs once.

mod common;

use std::time::Duration;

use candid::{Decode, Encode, Principal};
use common::{FixtureInit, fixture_wasm};
use ic_agent::agent::CallResponse;
use ic_agent::identity::Secp256k1Identity;
use ic_agent::{Agent, AgentError};
use ic_transport_types::RejectCode;
use ic_wasm_harness::Harness;
use ic_wasm_harness::ic_http::IcHttpServer;

fn identity(seed: u8) -> Secp256k1Identity {
    let secret = k256::SecretKey::from_slice(&[seed; 32]).expect("a valid scalar");
    Secp256k1Identity::from_private_key(secret)
}

async fn agent_for(server: &IcHttpServer, id: Secp256k1Identity) -> Agent {
    let agent = Agent::builder()
        .with_url(server.url())
        .with_identity(id)
        .with_verify_query_signatures(false)
        .with_ingress_expiry(Duration::from_secs(120))
        .build()
        .unwrap();
    agent.fetch_root_key().await.unwrap();
    assert_eq!(agent.read_root_key(), server.root_key());
    agent
}

async fn serve_fixture() -> (IcHttpServer, Principal) {
    let mut harness = Harness::at_wall_clock();
    let c = harness
        .create_and_install(
            &fixture_wasm(),
            Encode!(&FixtureInit {
                ecdsa_key_name: "dfx_test_key".into()
            })
            .unwrap(),
        )
        .unwrap();
    (IcHttpServer::start(harness).await.unwrap(), c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_updates_and_queries_a_canister_with_verified_certificates() {
    let (server, c) = serve_fixture().await;
    let agent = agent_for(&server, identity(1)).await;
    for expected in 1..=3u64 {
        let reply = agent
            .update(&c, "increment")
            .with_arg(Encode!().unwrap())
            .call_and_wait()
            .await
            .unwrap();
        assert_eq!(Decode!(&reply, u64).unwrap(), expected);
    }
    let got = agent
        .query(&c, "get")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap();
    assert_eq!(Decode!(&got, u64).unwrap(), 3);
    let me = agent
        .query(&c, "whoami")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap();
    assert_eq!(
        Decode!(&me, Principal).unwrap(),
        agent.get_principal().unwrap(),
        "the canister sees the agent's secp256k1 principal"
    );
    // A query that changes state changes nothing.
    agent
        .query(&c, "increment_in_query")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap();
    let got = agent
        .query(&c, "get")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap();
    assert_eq!(Decode!(&got, u64).unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_is_a_certified_reject_and_rolls_back() {
    let (server, c) = serve_fixture().await;
    let agent = agent_for(&server, identity(2)).await;
    let err = agent
        .update(&c, "increment_then_trap")
        .with_arg(Encode!().unwrap())
        .call_and_wait()
        .await
        .unwrap_err();
    match err {
        AgentError::CertifiedReject { reject, .. } => {
            assert_eq!(reject.reject_code, RejectCode::CanisterError);
            assert!(
                reject.reject_message.contains("deliberate trap"),
                "{}",
                reject.reject_message
            );
            assert_eq!(reject.error_code.as_deref(), Some("IC0503"));
        }
        other => panic!("expected a certified reject, got {other:?}"),
    }
    let got = agent
        .query(&c, "get")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap();
    assert_eq!(Decode!(&got, u64).unwrap(), 0, "the trap rolled back");
    let missing = agent
        .query(&c, "no_such_method")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap_err();
    assert!(
        matches!(missing, AgentError::UncertifiedReject { ref reject, .. } if reject.reject_code == RejectCode::DestinationInvalid),
        "{missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_signed_update_executes_once_and_answers_the_same() {
    let (server, c) = serve_fixture().await;
    let agent = agent_for(&server, identity(3)).await;
    let signed = agent
        .update(&c, "increment")
        .with_arg(Encode!().unwrap())
        .sign()
        .unwrap();
    let mut replies = Vec::new();
    for _ in 0..3 {
        match agent
            .update_signed(c, signed.signed_update.clone())
            .await
            .unwrap()
        {
            CallResponse::Response(reply) => replies.push(Decode!(&reply, u64).unwrap()),
            CallResponse::Poll(id) => panic!("expected a synchronous reply, got poll {id:?}"),
        }
    }
    assert_eq!(replies, [1, 1, 1], "one execution, the same answer");
    // The status is readable afterwards, as after an ambiguous outcome.
    let (status, _) = agent
        .request_status_raw(&signed.request_id, c)
        .await
        .unwrap();
    assert!(matches!(
        status,
        ic_transport_types::RequestStatusResponse::Replied(ref r) if Decode!(&r.arg, u64).unwrap() == 1
    ));
    server.with_replica(|r| assert_eq!(r.statuses.len(), 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_another_root_key_are_refused() {
    let (server, c) = serve_fixture().await;
    let agent = Agent::builder()
        .with_url(server.url())
        .with_identity(identity(4))
        .with_verify_query_signatures(false)
        .build()
        .unwrap();
    // No fetch_root_key: the agent keeps the mainnet key, so the harness's certificate fails.
    let err = agent
        .update(&c, "increment")
        .with_arg(Encode!().unwrap())
        .call_and_wait()
        .await
        .unwrap_err();
    assert!(
        matches!(err, AgentError::CertificateVerificationFailed()),
        "{err:?}"
    );
}
