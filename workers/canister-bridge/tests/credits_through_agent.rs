//! voice-rooms' `CreditsClient` through ic-agent ([`AgentCredits`]) against the real credits
//! wasm served by the harness's IC HTTP interface: a free room's metering (ensure, open, meter
//! concurrently up to one second, close) bills each second once and shows in the balance; a
//! principal the canister does not list is refused; an unreachable canister is `Unreachable`
//! within the call timeout. The metering scenario runs on PocketIC too (`on_pocket_ic.rs`).

mod common;

use std::time::{Duration, Instant};

use canister_bridge::{AgentCredits, CanisterAgent};
use common::scenarios::{self, WALLET};
use common::{connect, credits_harness, grant, local_config, serve, worker_principal};
use voice_rooms::auth::Wallet;
use voice_rooms::{CreditsClient, CreditsError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_room_is_metered_once_per_second_through_ic_agent() {
    let (mut harness, c) = credits_harness(&[worker_principal(1)]);
    grant(&mut harness, c, WALLET, 1800);
    let server = serve(harness).await;
    let credits = AgentCredits::new(connect(server.url(), 1).await, c);
    scenarios::free_room_metering(&credits).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_that_is_not_a_worker_is_refused() {
    let (harness, c) = credits_harness(&[worker_principal(1)]);
    let server = serve(harness).await;
    let stranger = AgentCredits::new(connect(server.url(), 2).await, c);
    let wallet = Wallet::parse(WALLET).unwrap();
    match stranger.ensure_credits(&wallet).await {
        Err(CreditsError::Rejected(message)) => {
            assert!(message.contains("only a worker principal"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Queries are open to anyone.
    assert_eq!(
        stranger.balance(&wallet).await.unwrap().remaining_seconds,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_canister_is_unreachable_within_the_timeout() {
    let (harness, c) = credits_harness(&[worker_principal(1)]);
    let server = serve(harness).await;
    let agent = connect(server.url(), 1).await;
    let url = server.url();
    drop(server);
    // Wait until the port refuses connections.
    for _ in 0..50 {
        if reqwest::get(format!("{url}/api/v2/status")).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let credits = AgentCredits::new(agent, c);
    let wallet = Wallet::parse(WALLET).unwrap();
    let started = Instant::now();
    assert!(matches!(
        credits.balance(&wallet).await,
        Err(CreditsError::Unreachable(_))
    ));
    assert!(matches!(
        credits.ensure_credits(&wallet).await,
        Err(CreditsError::Unreachable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(30));

    // A server that accepts and never answers: each attempt ends at the call timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let config = local_config(silent_url, 1, Duration::from_millis(300));
    // Connecting to a silent local network fails at the root key, within the timeout.
    let started = Instant::now();
    assert!(CanisterAgent::connect(&config).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}
