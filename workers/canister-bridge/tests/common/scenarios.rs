//! The bridge's agent scenarios, written once and run against the harness's IC HTTP interface
//! and, when `POCKET_IC_BIN` is set, against a PocketIC instance in live mode.

use canister_bridge::{AgentCredits, AgentIdentity, IdentityClient};
use identity_canister::endpoints::EdgeRequest;
use voice_rooms::auth::Wallet;
use voice_rooms::{CreditsClient, EnsuredCredits, MeterRefused, MeterRequest};

use super::now_secs;

/// The wallet the credits scenario meters; it must hold 1 800 granted seconds.
pub const WALLET: &str = "0x00000000000000000000000000000000000000aa";

/// A free room's metering through `credits` (a worker of the canister, [`WALLET`] granted
/// 1 800 s): ensure, open (twice), four concurrent meterings up to the same second billed once,
/// close (twice), balance, and an unknown connection refused.
pub async fn free_room_metering(credits: &AgentCredits) {
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

fn edge(method: &str, url: &str, body: &[u8]) -> EdgeRequest {
    EdgeRequest {
        method: method.into(),
        url: url.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
        client_ip: Some("203.0.113.7".into()),
    }
}

/// Names routes through `edge_request` (an update) answer the canister's status and JSON, a
/// malformed body is the route's 400, and `identity_of` (a query) is `None` for an unknown
/// address.
pub async fn names_routes_and_identity_reads(identity: &AgentIdentity) {
    let unknown = identity
        .edge_request(edge("GET", "/api/names/nobody-here", b""))
        .await
        .unwrap();
    assert_eq!(unknown.status, 404);
    let body: serde_json::Value = serde_json::from_slice(&unknown.body).unwrap();
    assert!(body.get("error").is_some(), "{body}");

    let malformed = identity
        .edge_request(edge("POST", "/api/names/register", b"{not json"))
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
