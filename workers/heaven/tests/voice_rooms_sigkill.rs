//! A `heaven serve rooms` process killed with SIGKILL during an active free room (issue 14):
//! the restarted process, on the same data dir, still has the room and both participants
//! (listed in `/rooms/active`, both heartbeats answered), the 30 s metering alarm is re-armed
//! from the stored state (the canister shows the alarm's debit before any client call after
//! the restart), and each wallet is billed exactly the wall-clock seconds between its join and
//! its final leave: nothing charged twice, nothing lost.
//!
//! Real clock and real child processes: the point is the binary's behaviour across a kill, so
//! nothing can be faked; the test waits for the alarm (about 35 s).

mod common;

use std::time::Duration;

use common::rooms::{Wallet, create_room, credits, join_room, login, now, post};
use common::{Heaven, run_to_end};
use serde_json::{Value, json};

/// The wallet's consumption, checked against its 1800 s grant.
async fn consumed(http: &reqwest::Client, base: &str, token: &str) -> u64 {
    let (consumed, remaining) = credits(http, base, token).await;
    assert_eq!(remaining + consumed, 1800, "{consumed} + {remaining}");
    consumed
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sigkilled_worker_comes_back_with_its_room_and_bills_every_second_once() {
    let data = tempfile::tempdir().unwrap();
    let env = [("RPC_URL", "http://127.0.0.1:1")];
    let host = Wallet::new(31);
    let guest = Wallet::new(32);
    for wallet in [&host, &guest] {
        let (code, _, err) = run_to_end(
            &["credits", "grant", &wallet.address, "1800"],
            data.path(),
            &[],
        );
        assert_eq!(code, 0, "{err}");
    }
    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let http = reqwest::Client::new();
    let base = stack.url("voice-rooms");
    let host_token = login(&http, &base, &host).await;
    let guest_token = login(&http, &base, &guest).await;
    let room = create_room(&http, &base, &host_token).await;
    let mut joins = Vec::new();
    for token in [&host_token, &guest_token] {
        let before = now();
        let conn = join_room(&http, &base, token, &room).await;
        joins.push((conn, before, now()));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let status = stack.kill();
    assert!(!status.success(), "killed, not exited: {status:?}");

    let stack = Heaven::start(&["serve", "rooms"], data.path(), &env, false);
    let base = stack.url("voice-rooms");
    let active: Value = http
        .get(format!("{base}/rooms/active"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["rooms"][0]["room_id"], room.as_str(), "{active}");
    assert_eq!(active["rooms"][0]["participant_count"], 2, "{active}");

    // The alarm armed at the host's join + 30 s rings in the new process: with no client call
    // since the restart, the canister shows its debit for the guest.
    let alarm_due = joins[0].2 + 30;
    let wait = (alarm_due + 4).saturating_sub(now());
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let metered_by_alarm = consumed(&http, &base, &guest_token).await;
    assert!(
        metered_by_alarm >= 28,
        "the re-armed alarm metered {metered_by_alarm} s"
    );

    for (token, (conn, _, _)) in [&host_token, &guest_token].into_iter().zip(&joins) {
        let (status, beat) = post(
            &http,
            format!("{base}/rooms/heartbeat"),
            token,
            json!({ "room_id": room, "connection_id": conn }),
        )
        .await;
        assert_eq!(status, 200, "{beat}");
        assert_eq!(beat["ok"], true);
    }

    // Guest leaves, then the host (which closes the room); each wallet's consumption is the
    // wall-clock time between its join and its leave.
    let order = [(1usize, &guest_token), (0usize, &host_token)];
    for (i, token) in order {
        let (conn, join_before, join_after) = &joins[i];
        let leave_before = now();
        let (status, left) = post(
            &http,
            format!("{base}/rooms/leave"),
            token,
            json!({ "room_id": room, "connection_id": conn }),
        )
        .await;
        let leave_after = now();
        assert_eq!(status, 200, "{left}");
        assert_eq!(left["closed"], i == 0, "{left}");
        let used = consumed(&http, &base, token).await;
        let elapsed = leave_before - join_after..=leave_after - join_before;
        assert!(
            elapsed.contains(&used),
            "wallet {i}: consumed {used}, elapsed {elapsed:?}"
        );
        assert_eq!(left["debited_seconds"].as_u64(), Some(used), "{left}");
    }
    let active: Value = http
        .get(format!("{base}/rooms/active"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["rooms"], json!([]), "{active}");
    let (status, _) = stack.stop();
    assert!(status.success());
}
