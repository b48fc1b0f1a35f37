//! voice-rooms' `CreditsClient` through ic-agent ([`AgentCredits`]) against the real credits
//! wasm served by the harness's IC HTTP interface: a free room's metering (ensure, open, meter
//! concurrently up to one second, close) bills each second once and shows in the balance; a
//! principal the canister does not list is refused; an unreachable canister is `Unreachable`
//! within the call timeout.

mod common;

use std::time::{Duration, Instant};

use canister_bridge::{AgentCredits, CanisterAgent};
use common::{connect, credits_harness, grant, local_config, now_secs, serve, worker_principal};
use voice_rooms::auth::Wallet;
use voice_rooms::{CreditsClient, CreditsError, EnsuredCredits, MeterRefused, MeterRequest};

const WALLET: &str = "0x00000000000000000000000000000000000000aa";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_room_is_metered_once_per_second_through_ic_agent() {
    let (mut harness, c) = credits_harness(&[worker_principal(1)]);
    grant(&mut harness, c, WALLET, 1800);
    let server = serve(harness).await;
    let credits = AgentCredits::new(connect(server.url(), 1).await, c);
    let wallet = Wallet::parse(WALLET).unwrap();

    assert!(matches!(
        credits.ensure_credits(&wallet).await.unwrap(),
        EnsuredCredits::Ready(b) if b.remaining_seconds == 1800
    ));
    let start = now_secs() - 30;
    credits
        .open_connection("room-1:c1", &wallet, start)
        .await
        .unwrap()
        .unwrap();
    // Opening again (a retried open) is the same answer.
    credits
        .open_connection("room-1:c1", &wallet, start)
        .await
        .unwrap()
        .unwrap();
    let meter = || {
        let credits = credits.clone();
        let wallet = wallet.clone();
        tokio::spawn(async move {
            credits
                .meter(vec![MeterRequest {
                    connection_id: "room-1:c1".into(),
                    wallet,
                    up_to: start + 10,
                }])
                .await
                .unwrap()
                .remove(0)
                .unwrap()
                .debited_seconds
        })
    };
    let tasks: Vec<_> = (0..4).map(|_| meter()).collect();
    let mut debited = 0;
    for task in tasks {
        debited += task.await.unwrap();
    }
    assert_eq!(
        debited, 10,
        "concurrent meterings up to one second bill it once"
    );
    let closed = credits
        .close_connection("room-1:c1", start + 25)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.connection_debited_seconds, 25);
    assert_eq!(closed.remaining_seconds, 1775);
    // A retried close bills nothing more.
    let again = credits
        .close_connection("room-1:c1", start + 25)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.debited_seconds, again.remaining_seconds), (0, 1775));
    let balance = credits.balance(&wallet).await.unwrap();
    assert_eq!(
        (balance.consumed_seconds, balance.remaining_seconds),
        (25, 1775)
    );
    assert_eq!(
        credits.close_connection("nope", start).await.unwrap(),
        Err(MeterRefused::UnknownConnection)
    );
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
