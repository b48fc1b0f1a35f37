//! Instructions of the credits canister's hot paths, counted by the harness (wasmtime fuel ≈
//! wasm instructions): one `meter` call for a heartbeat, one batched `meter` for a 6-person
//! room's alarm, and an attestation sweep over 1 000 booked sessions (the sweep looks at the
//! 200 newest, as the original's; every JSON-RPC read answered by a fake node).
//!
//! `cargo bench -p ic_wasm_harness --bench credits_instructions` (needs
//! `cargo xtask build-canisters credits` first). Prints figures; asserts only that the calls
//! succeeded.

#[path = "support/credits_chain.rs"]
mod credits_chain;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use credits_canister::api::{
    MeterError, MeterOutcome, MeterRequest, OpenConnection, PresenceChange, PresenceReport,
};
use credits_canister::endpoints::CallError;
use credits_canister::ledger::Adjustment;
use credits_canister::units::{Seconds, UnixSeconds};
use credits_canister::wallet::Wallet;
use credits_chain::{FakeEscrow, HOST, NodeLog, fake_node, install_credits, now_secs, worker};
use ic_wasm_harness::{Harness, Scenario, ScenarioExt};

/// Calls averaged per figure (after one warm-up call).
const CALLS: u64 = 5;

fn wallet(i: u32) -> Wallet {
    Wallet::parse(&format!("0x{i:040x}")).unwrap()
}

fn meter(s: &mut dyn Scenario, c: candid::Principal, requests: Vec<MeterRequest>) -> u64 {
    let answer: Result<Vec<Result<MeterOutcome, MeterError>>, CallError> =
        s.update_as(c, worker(), "meter", (requests,)).unwrap();
    assert!(answer.unwrap().iter().all(Result::is_ok));
    s.last_call_instructions().expect("the harness counts")
}

fn main() {
    let mut harness = Harness::new();
    let c = install_credits(&mut harness);
    let start = now_secs(&harness);
    for i in 0..6 {
        let adjusted: Result<credits_canister::api::CreditBalance, CallError> = harness
            .update_as(
                c,
                Harness::controller(),
                "adjust_credits",
                (
                    wallet(i),
                    Adjustment {
                        base_granted: Some(Seconds(1_000_000)),
                        ..Adjustment::default()
                    },
                ),
            )
            .unwrap();
        adjusted.unwrap();
        let opened: Result<Result<(), MeterError>, CallError> = harness
            .update_as(
                c,
                worker(),
                "open_connection",
                (OpenConnection {
                    connection_id: format!("conn-{i}"),
                    wallet: wallet(i),
                    at: UnixSeconds(start),
                },),
            )
            .unwrap();
        opened.unwrap().unwrap();
    }
    println!("credits canister, harness backend, average of {CALLS} calls after a warm-up:");
    let mut per_call = Vec::new();
    for round in 0..=CALLS {
        harness.advance_time(Duration::from_secs(1)).unwrap();
        let up_to = UnixSeconds(now_secs(&harness));
        let request = MeterRequest {
            connection_id: "conn-0".into(),
            wallet: wallet(0),
            up_to,
        };
        let n = meter(&mut harness, c, vec![request]);
        if round > 0 {
            per_call.push(n);
        }
    }
    println!(
        "{:<52} {:>12} instructions",
        "meter, one connection (a heartbeat)",
        per_call.iter().sum::<u64>() / CALLS
    );
    println!(
        "BENCH credits_meter_one_connection\t{}\tinstructions",
        per_call.iter().sum::<u64>() / CALLS
    );
    let mut batched = Vec::new();
    for round in 0..=CALLS {
        harness.advance_time(Duration::from_secs(30)).unwrap();
        let up_to = UnixSeconds(now_secs(&harness));
        let requests = (0..6)
            .map(|i| MeterRequest {
                connection_id: format!("conn-{i}"),
                wallet: wallet(i),
                up_to,
            })
            .collect();
        let n = meter(&mut harness, c, requests);
        if round > 0 {
            batched.push(n);
        }
    }
    println!(
        "{:<52} {:>12} instructions",
        "meter, a 6-person room's alarm (one batched call)",
        batched.iter().sum::<u64>() / CALLS
    );
    println!(
        "BENCH credits_meter_room_of_6\t{}\tinstructions",
        batched.iter().sum::<u64>() / CALLS
    );

    // 1 000 booked sessions with presence, slots starting now (every verdict "not due yet":
    // the reads and the bookkeeping, no signing).
    let now = now_secs(&harness);
    let log = Arc::new(Mutex::new(NodeLog::default()));
    harness.set_outcall_handler(Some(fake_node(FakeEscrow { slot_start: now }, log.clone())));
    for booking in 1..=1000u32 {
        let report = PresenceReport {
            booking_id: booking.to_string(),
            wallet: Wallet::parse(HOST).unwrap(),
            change: PresenceChange::Joined,
            at: UnixSeconds(now),
        };
        let done: Result<(), CallError> = harness
            .update_as(c, worker(), "record_presence", (report,))
            .unwrap();
        done.unwrap();
    }
    let before = harness.executions().len();
    // A sweep starts every 2 minutes and works in steps of 25 bookings every 15 s: advance
    // until one that saw the bookings has finished (its summary is the latest).
    let mut summaries: Vec<credits_canister::api::SweepSummary> = Vec::new();
    for _ in 0..24 {
        harness.advance_time(Duration::from_secs(15)).unwrap();
        summaries = harness.query(c, "sweeps", (1u32,)).unwrap();
        if summaries.first().is_some_and(|s| s.scanned > 0) {
            break;
        }
    }
    let sweep: u64 = harness.executions()[before..]
        .iter()
        .filter(|e| e.canister == c)
        .map(|e| e.instructions)
        .sum();
    let scanned = summaries.first().map_or(0, |s| s.scanned);
    assert_eq!(scanned, 200, "{summaries:?}");
    println!(
        "{:<52} {:>12} instructions ({} per booking, {} JSON-RPC reads)",
        "sweep over 1 000 bookings (200 looked at, 8 steps)",
        sweep,
        sweep / u64::from(scanned),
        log.lock().unwrap().methods.len()
    );
    println!("BENCH credits_sweep_1000_bookings\t{sweep}\tinstructions");
}
