//! Booked sessions over real HTTP (`/session/join`, `/session/:id/leave`): room actors in a
//! SQLite state store, the room tables in a SQLite file, the credits double (which records
//! presence), a manual clock, and the escrow either faked in-process or read over JSON-RPC
//! from a wiremock node.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::rooms_stack::{self, StackParts, start_with};
use common::{FakeCredits, JWT_SECRET, START, User};
use heaven_eth::abi::{Booking, Slot, SolCall, U48, getBookingCall, getSlotCall};
use heaven_eth::{Address, B256, U256};
use serde_json::{Value, json};
use voice_rooms::auth::SessionToken;
use voice_rooms::escrow::EscrowReads;
use voice_rooms::rooms::RoomsDb;
use voice_rooms::{Clock, CreditsError, PresenceChange};

/// An escrow double: bookings and slots by id.
#[derive(Default)]
struct FakeEscrow {
    bookings: Mutex<HashMap<U256, Booking>>,
    slots: Mutex<HashMap<U256, Slot>>,
}

#[async_trait]
impl EscrowReads for FakeEscrow {
    async fn booking(&self, booking_id: U256) -> Option<Booking> {
        self.bookings.lock().unwrap().get(&booking_id).cloned()
    }

    async fn slot(&self, slot_id: U256) -> Option<Slot> {
        self.slots.lock().unwrap().get(&slot_id).cloned()
    }
}

fn address(user: &User) -> Address {
    heaven_eth::address::parse(&user.wallet).unwrap()
}

fn booking(slot: u64, guest: Address, status: u8) -> Booking {
    Booking {
        slotId: U256::from(slot),
        guest,
        amount: U256::from(10u64),
        status,
        oracleOutcome: 0,
        metricsHash: B256::ZERO,
        attestedAt: 0,
        finalizableAt: 0,
        challenger: Address::ZERO,
        bondAmount: U256::ZERO,
        disputedAt: 0,
    }
}

fn slot(host: Address, start: i64, minutes: u32) -> Slot {
    Slot {
        host,
        startTime: U48::from(start as u64),
        durationMins: minutes,
        price: U256::ZERO,
        graceMins: 5,
        minOverlapMins: 10,
        cancelCutoffMins: 30,
        status: 1,
    }
}

/// The shared stack with the escrow double it reads (unless the configuration's is used).
struct Stack {
    stack: rooms_stack::Stack,
    escrow: Arc<FakeEscrow>,
}

impl std::ops::Deref for Stack {
    type Target = rooms_stack::Stack;

    fn deref(&self) -> &rooms_stack::Stack {
        &self.stack
    }
}

/// Serves voice-rooms with `vars`; the escrow is `FakeEscrow` unless `from_config`.
async fn start(dir: &Path, vars: &[(&'static str, &str)], from_config: bool) -> Stack {
    let escrow = Arc::new(FakeEscrow::default());
    let mut parts =
        StackParts::in_dir(dir, Clock::manual(START), Arc::new(FakeCredits::default())).await;
    parts.env = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    if !from_config {
        parts.escrow = Some(escrow.clone());
    }
    Stack {
        stack: start_with(parts).await,
        escrow,
    }
}

impl Stack {
    /// Booking `id` on slot `id`: `host` hosts from `start` for `minutes`, `guest` booked it.
    fn book(&self, id: u64, host: &User, guest: &User, start: i64, minutes: u32) {
        self.escrow
            .bookings
            .lock()
            .unwrap()
            .insert(U256::from(id), booking(id, address(guest), 1));
        self.escrow
            .slots
            .lock()
            .unwrap()
            .insert(U256::from(id), slot(address(host), start, minutes));
    }

    async fn join(&self, user: &User, id: &str) -> (u16, String) {
        let body = json!({ "booking_id": id }).to_string();
        self.post(Some(user), "/session/join", &body).await
    }

    async fn leave(&self, user: &User, id: &str) -> (u16, String) {
        self.post(Some(user), &format!("/session/{id}/leave"), "")
            .await
    }

    fn presence(&self) -> Vec<(String, String, PresenceChange, i64)> {
        self.credits.presence.lock().unwrap().clone()
    }
}

fn err(message: &str) -> String {
    json!({ "error": message }).to_string()
}

async fn stack() -> (tempfile::TempDir, Stack) {
    let dir = tempfile::tempdir().unwrap();
    let stack = start(dir.path(), &[], false).await;
    (dir, stack)
}

#[tokio::test]
async fn join_refuses_in_the_originals_check_order_with_its_strings() {
    let (_dir, s) = stack().await;
    let (host, guest, stranger) = (User::new(1), User::new(2), User::new(3));
    s.book(17, &host, &guest, START + 3600, 30);
    // Cancelled booking whose slot is also missing: the status is checked first.
    s.escrow
        .bookings
        .lock()
        .unwrap()
        .insert(U256::from(18u8), booking(99, address(&guest), 2));
    // Booked, but its slot does not exist.
    s.escrow
        .bookings
        .lock()
        .unwrap()
        .insert(U256::from(19u8), booking(99, address(&guest), 1));

    let huge = format!(r#"{{"booking_id":"{}"}}"#, "9".repeat(80));
    let cases: Vec<(Option<&User>, &str, u16, &str)> = vec![
        (None, r#"{"booking_id":"17"}"#, 401, "unauthorized"),
        (Some(&guest), "{}", 400, "missing booking_id"),
        (
            Some(&guest),
            r#"{"booking_id":""}"#,
            400,
            "missing booking_id",
        ),
        (
            Some(&guest),
            r#"{"booking_id":"  "}"#,
            400,
            "invalid booking_id",
        ),
        (
            Some(&guest),
            r#"{"booking_id":"1a"}"#,
            400,
            "invalid booking_id",
        ),
        (
            Some(&guest),
            r#"{"booking_id":"-1"}"#,
            400,
            "invalid booking_id",
        ),
        (
            Some(&guest),
            r#"{"booking_id":"404"}"#,
            404,
            "booking not found",
        ),
        (Some(&guest), &huge, 404, "booking not found"),
        (
            Some(&guest),
            r#"{"booking_id":"18"}"#,
            400,
            "booking not active",
        ),
        (
            Some(&guest),
            r#"{"booking_id":"19"}"#,
            404,
            "slot not found",
        ),
        // A stranger is refused before the window is looked at (it is not open yet).
        (
            Some(&stranger),
            r#"{"booking_id":"17"}"#,
            403,
            "not a participant",
        ),
        (
            Some(&guest),
            r#"{"booking_id":" 17 "}"#,
            400,
            "too early to join",
        ),
    ];
    for (user, body, status, message) in cases {
        assert_eq!(
            s.post(user, "/session/join", body).await,
            (status, err(message)),
            "{body}"
        );
    }
    s.clock.advance(3600 + 30 * 60 + 1);
    assert_eq!(s.join(&host, "17").await, (400, err("session has ended")));
    assert!(s.presence().is_empty());
    assert!(s.db.active_room("booked-17").await.unwrap().is_none());
}

#[tokio::test]
async fn join_window_opens_five_minutes_before_start_and_closes_at_the_end() {
    let (_dir, s) = stack().await;
    let (host, guest) = (User::new(1), User::new(2));
    let start = START + 1000;
    s.book(42, &host, &guest, start, 20);

    s.clock.advance(start - 301 - START);
    assert_eq!(s.join(&host, "42").await, (400, err("too early to join")));
    s.clock.advance(1);
    let (status, body) = s.join(&host, "42").await;
    assert_eq!(status, 200, "{body}");
    let uid = agora::address_to_uid(&host.lower());
    let token = serde_json::from_str::<Value>(&body).unwrap()["agora_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("007"), "{token}");
    assert_eq!(
        body,
        format!(r#"{{"channel":"heaven-42431-42","agora_token":"{token}","user_uid":{uid}}}"#)
    );

    s.clock.advance(300 + 20 * 60);
    let (status, body) = s.join(&guest, "42").await;
    assert_eq!(status, 200, "{body}");
    s.clock.advance(1);
    assert_eq!(s.join(&guest, "42").await, (400, err("session has ended")));

    // The room row: booked, hosted by the slot's host, two seats; no credits touched.
    let room = s.db.active_room("booked-42").await.unwrap().unwrap();
    assert_eq!(
        (room.room_type.as_str(), room.host_wallet, room.capacity),
        ("booked", host.lower(), 2)
    );
    if let RoomsDb::Sqlite(pool) = &s.db {
        let (booking_id,): (i64,) =
            sqlx::query_as("SELECT booking_id FROM rooms WHERE room_id = 'booked-42'")
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(booking_id, 42);
    }
    assert!(s.credits.connections.lock().unwrap().is_empty());
    assert!(s.credits.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_joins_seat_exactly_two_connections() {
    let (_dir, s) = stack().await;
    let (host, guest) = (User::new(1), User::new(2));
    s.book(7, &host, &guest, START, 30);
    let s = Arc::new(s);
    let host = Arc::new(host);
    let guest = Arc::new(guest);
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            let user = if i % 2 == 0 {
                host.clone()
            } else {
                guest.clone()
            };
            tokio::spawn(async move { s.join(&user, "7").await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let seated = answers.iter().filter(|(status, _)| *status == 200).count();
    let full = answers
        .iter()
        .filter(|answer| **answer == (409, err("room_full")))
        .count();
    assert_eq!((seated, full), (2, 10), "{answers:?}");
    assert_eq!(s.db.active_participant_count("booked-7").await.unwrap(), 2);
    assert_eq!(s.presence().len(), 2);
    // No alarm, no metering: nothing reached the canister but the presence.
    assert!(s.credits.connections.lock().unwrap().is_empty());
}

#[tokio::test]
async fn leave_reports_the_duration_and_zero_without_a_row() {
    let (_dir, s) = stack().await;
    let (host, guest) = (User::new(1), User::new(2));
    s.book(5, &host, &guest, START, 30);

    let no_row = (200, r#"{"ok":true,"duration_ms":0}"#.to_owned());
    assert_eq!(s.leave(&host, "5").await, no_row);
    assert_eq!(
        s.post(None, "/session/5/leave", "").await,
        (401, err("unauthorized"))
    );
    assert!(s.presence().is_empty());

    assert_eq!(s.join(&host, "5").await.0, 200);
    s.clock.advance(10);
    assert_eq!(s.join(&guest, "5").await.0, 200);
    s.clock.advance(85);
    assert_eq!(
        s.leave(&host, "5").await,
        (200, r#"{"ok":true,"duration_ms":95000}"#.to_owned())
    );
    assert_eq!(s.leave(&host, "5").await, no_row);
    assert!(s.rooms.is_live("booked-5"));
    s.clock.advance(5);
    assert_eq!(
        s.leave(&guest, "5").await,
        (200, r#"{"ok":true,"duration_ms":90000}"#.to_owned())
    );
    // The last leave closed the room and ended its actor.
    assert!(s.db.active_room("booked-5").await.unwrap().is_none());
    assert!(!s.rooms.is_live("booked-5"));
    let (h, g) = (host.lower(), guest.lower());
    assert_eq!(
        s.presence(),
        vec![
            ("5".into(), h.clone(), PresenceChange::Joined, START),
            ("5".into(), g.clone(), PresenceChange::Joined, START + 10),
            ("5".into(), h, PresenceChange::Left, START + 95),
            ("5".into(), g, PresenceChange::Left, START + 100),
        ]
    );

    // A booked room that emptied is joined again (a fresh actor); the row stays closed.
    assert_eq!(s.join(&guest, "5").await.0, 200);
    assert_eq!(s.db.active_participant_count("booked-5").await.unwrap(), 1);
}

#[tokio::test]
async fn a_canister_that_does_not_answer_takes_the_seat_back() {
    let (_dir, s) = stack().await;
    let (host, guest) = (User::new(1), User::new(2));
    s.book(3, &host, &guest, START, 30);
    *s.credits.down.lock().unwrap() = Some(CreditsError::Unreachable("down".into()));
    assert_eq!(s.join(&host, "3").await, (503, err("service unavailable")));
    assert_eq!(s.join(&host, "3").await, (503, err("service unavailable")));
    assert_eq!(s.db.active_participant_count("booked-3").await.unwrap(), 0);
    *s.credits.down.lock().unwrap() = None;
    assert_eq!(s.join(&host, "3").await.0, 200);
    assert_eq!(s.join(&guest, "3").await.0, 200);

    // A leave the canister cannot record changes nothing.
    *s.credits.down.lock().unwrap() = Some(CreditsError::Unreachable("down".into()));
    assert_eq!(s.leave(&host, "3").await, (503, err("service unavailable")));
    assert_eq!(s.db.active_participant_count("booked-3").await.unwrap(), 2);
}

/// A JSON-RPC answer carrying `data`.
fn rpc_result(data: &[u8]) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(json!({
        "jsonrpc": "2.0",
        "id": 1,
        "result": heaven_eth::abi::hex0x(data),
    }))
}

#[tokio::test]
async fn live_mode_reads_get_booking_and_get_slot_over_json_rpc() {
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, MockServer};

    let node = MockServer::start().await;
    let escrow = "0x00000000000000000000000000000000000E5C40";
    let (host, guest) = (User::new(1), User::new(2));
    let booked = booking(8, address(&guest), 1);
    let slot8 = slot(address(&host), START, 30);
    let id = |n: u64| hex::encode(U256::from(n).to_be_bytes::<32>());
    Mock::given(method("POST"))
        .and(body_string_contains(escrow.to_lowercase()))
        .and(body_string_contains(format!("0x6a5c841a{}", id(21))))
        .respond_with(rpc_result(&getBookingCall::abi_encode_returns(&booked)))
        .mount(&node)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains(format!("0x7eba7ba6{}", id(8))))
        .respond_with(rpc_result(&getSlotCall::abi_encode_returns(&slot8)))
        .mount(&node)
        .await;
    // Booking 22: status None (not found); booking 23: on slot 9, whose host is zero.
    Mock::given(method("POST"))
        .and(body_string_contains(format!("0x6a5c841a{}", id(22))))
        .respond_with(rpc_result(&getBookingCall::abi_encode_returns(&booking(
            8,
            Address::ZERO,
            0,
        ))))
        .mount(&node)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains(format!("0x6a5c841a{}", id(23))))
        .respond_with(rpc_result(&getBookingCall::abi_encode_returns(&booking(
            9,
            address(&guest),
            1,
        ))))
        .mount(&node)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains(format!("0x7eba7ba6{}", id(9))))
        .respond_with(rpc_result(&getSlotCall::abi_encode_returns(&slot(
            Address::ZERO,
            START,
            30,
        ))))
        .mount(&node)
        .await;
    // Anything else: a JSON-RPC error (reads as "not found").
    Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            json!({"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted"}}),
        ))
        .mount(&node)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let uri = node.uri();
    let s = start(
        dir.path(),
        &[
            ("RPC_URL", uri.as_str()),
            ("ESCROW_ADDRESS", escrow),
            ("CHAIN_ID", "5"),
            ("SESSION_ESCROW_MODE", "mock"),
            ("ESCROW_MODE", "live"),
        ],
        true,
    )
    .await;
    let (status, body) = s.join(&guest, "21").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(r#"{"channel":"heaven-5-21","#), "{body}");
    assert_eq!(s.join(&host, "22").await, (404, err("booking not found")));
    assert_eq!(s.join(&host, "23").await, (404, err("slot not found")));
    assert_eq!(s.join(&host, "24").await, (404, err("booking not found")));
    assert_eq!(
        s.leave(&guest, "21").await,
        (200, r#"{"ok":true,"duration_ms":0}"#.to_owned())
    );
}

#[tokio::test]
async fn mock_mode_serves_the_original_mock_booking() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        &[
            ("SESSION_ESCROW_MODE", "mock"),
            ("RPC_URL", "http://127.0.0.1:1"),
        ],
        true,
    )
    .await;
    let guest = "0x0000000000000000000000000000000000000001";
    let host = "0x000000000000000000000000000000000000dead";
    for (wallet, expected) in [(guest, 200), (host, 200)] {
        let token = SessionToken::new(JWT_SECRET).issue(wallet, s.clock.now());
        let response = s
            .http
            .post(format!("{}/session/join", s.base))
            .bearer_auth(token)
            .json(&json!({"booking_id": "123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
    }
    let room = s.db.active_room("booked-123").await.unwrap().unwrap();
    assert_eq!(room.host_wallet, host);
    assert_eq!(
        s.join(&User::new(1), "123").await,
        (403, err("not a participant"))
    );
}
