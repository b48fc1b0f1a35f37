//! Worker → credits canister round trips per second, side by side (prints, asserts nothing
//! about speed):
//! - ic-agent → the harness's IC HTTP interface → the credits wasm (`meter` update with its
//!   certificate, `balance` query), what a worker does against a deployed canister;
//! - the harness alone (`Harness::update_call` / `query_call`, no HTTP, no agent), to show the
//!   wasm execution share;
//! - the in-process path the local stack uses (`NativeCredits`, the same canister logic on a
//!   canister thread).
//!
//! Run: `cargo xtask build-canisters`, then `cargo bench -p canister_bridge --bench canister_bridge`.
//! `BRIDGE_BENCH_CALLS` sets the calls per measurement (default 300).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use candid::Encode;
use canister_bridge::AgentCredits;
use common::{connect, credits_harness, grant, now_secs, serve, worker_principal};
use credits_canister::api::{MeterRequest as CanisterMeter, OpenConnection};
use credits_canister::units::{Seconds, UnixSeconds};
use voice_rooms::auth::Wallet;
use voice_rooms::{CreditsClient, MeterRequest};

const WALLET: &str = "0x00000000000000000000000000000000000000bb";

fn report(path: &str, kind: &str, calls: u32, elapsed: Duration) {
    let per_s = f64::from(calls) / elapsed.as_secs_f64();
    println!(
        "{path:<34} {kind:<7} {calls:>6} calls  {per_s:>9.1} calls/s  {:>8.3} ms/call",
        elapsed.as_secs_f64() * 1000.0 / f64::from(calls)
    );
    // Figure names by path; the in-process path is the anchor the others are measured against.
    let short = match path.split_whitespace().next().unwrap_or(path) {
        "ic-agent" => "ic_agent",
        "harness" => "harness",
        _ => "in_process",
    };
    let name = format!("bridge_{short}_{kind}");
    let anchor = if short == "in_process" {
        String::new()
    } else {
        format!("\tanchor=bridge_in_process_{kind}")
    };
    println!("BENCH {name}\t{per_s:.1}\tcalls/s{anchor}\t{calls} sequential calls");
}

fn meter_arg(connection: &str, up_to: i64) -> Vec<u8> {
    let request = CanisterMeter {
        connection_id: connection.into(),
        wallet: credits_canister::wallet::Wallet::parse(WALLET).unwrap(),
        up_to: UnixSeconds(up_to as u64),
    };
    Encode!(&vec![request]).unwrap()
}

async fn through_ic_agent(calls: u32) {
    let (mut harness, c) = credits_harness(&[worker_principal(9)]);
    grant(&mut harness, c, WALLET, 1_000_000);
    let server = serve(harness).await;
    let credits = AgentCredits::new(connect(server.url(), 9).await, c);
    let wallet = Wallet::parse(WALLET).unwrap();
    let start = now_secs() - 10_000;
    credits
        .open_connection("bench", &wallet, start)
        .await
        .unwrap()
        .unwrap();
    let t = Instant::now();
    for i in 0..calls {
        let metered = credits
            .meter(vec![MeterRequest {
                connection_id: "bench".into(),
                wallet: wallet.clone(),
                up_to: start + i64::from(i) + 1,
            }])
            .await
            .unwrap();
        assert!(metered[0].is_ok());
    }
    report(
        "ic-agent -> harness HTTP -> wasm",
        "update",
        calls,
        t.elapsed(),
    );
    let t = Instant::now();
    for _ in 0..calls {
        credits.balance(&wallet).await.unwrap();
    }
    report(
        "ic-agent -> harness HTTP -> wasm",
        "query",
        calls,
        t.elapsed(),
    );
}

fn harness_alone(calls: u32) {
    let (mut harness, c) = credits_harness(&[worker_principal(9)]);
    grant(&mut harness, c, WALLET, 1_000_000);
    let worker = worker_principal(9);
    let start = (harness.time_nanos() / 1_000_000_000) as i64 - 10_000;
    let open = OpenConnection {
        connection_id: "bench".into(),
        wallet: credits_canister::wallet::Wallet::parse(WALLET).unwrap(),
        at: UnixSeconds(start as u64),
    };
    harness
        .update_call(c, worker, "open_connection", Encode!(&open).unwrap())
        .unwrap();
    let t = Instant::now();
    for i in 0..calls {
        harness
            .update_call(
                c,
                worker,
                "meter",
                meter_arg("bench", start + i64::from(i) + 1),
            )
            .unwrap();
    }
    report("harness (no HTTP, no agent)", "update", calls, t.elapsed());
    let t = Instant::now();
    for _ in 0..calls {
        harness
            .query_call(c, worker, "balance", Encode!(&WALLET).unwrap())
            .unwrap();
    }
    report("harness (no HTTP, no agent)", "query", calls, t.elapsed());
}

async fn in_process(calls: u32) {
    let dir = tempfile::tempdir().unwrap();
    let native = credits_canister::native::NativeCredits::start(
        dir.path(),
        credits_canister::state::ChainConfig::default(),
    )
    .unwrap();
    let wallet = credits_canister::wallet::Wallet::parse(WALLET).unwrap();
    native
        .grant(wallet.clone(), Seconds(1_000_000))
        .await
        .unwrap();
    let start = now_secs() - 10_000;
    native
        .open_connection(OpenConnection {
            connection_id: "bench".into(),
            wallet: wallet.clone(),
            at: UnixSeconds(start as u64),
        })
        .await
        .unwrap()
        .unwrap();
    let t = Instant::now();
    for i in 0..calls {
        native
            .meter(vec![CanisterMeter {
                connection_id: "bench".into(),
                wallet: wallet.clone(),
                up_to: UnixSeconds((start + i64::from(i) + 1) as u64),
            }])
            .await
            .unwrap();
    }
    report("in-process (NativeCredits)", "update", calls, t.elapsed());
    let t = Instant::now();
    for _ in 0..calls {
        native.balance(wallet.clone()).await.unwrap();
    }
    report("in-process (NativeCredits)", "query", calls, t.elapsed());
}

fn main() {
    let calls: u32 = std::env::var("BRIDGE_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("credits canister round trips, {calls} sequential calls each (one client):");
    runtime.block_on(through_ic_agent(calls));
    harness_alone(calls);
    runtime.block_on(in_process(calls));
}
