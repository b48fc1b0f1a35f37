//! The live state always equals its log replayed, after a history touching every kind of
//! event the worker-facing operations write.

use super::audit::check_against_log;
use crate::api::{
    ClaimSettlement, CommitSettlement, ExtendEntitlement, IssueReplayToken, MeterRequest,
    OpenConnection, SettlementResult,
};
use crate::duet::{EntitlementKind, RoomId, Sha256Hex};
use crate::ledger::Adjustment;
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;
use crate::{grants, lifecycle, payments, usage};

#[test]
fn the_state_is_its_log_replayed() {
    let ns = |s: u64| s * 1_000_000_000;
    let t0 = 1_800_000_000;
    lifecycle::init(
        lifecycle::InitArg {
            ecdsa_key_name: "dfx_test_key".into(),
        },
        ns(t0),
    );
    let w = Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap();
    grants::grant(&w, Seconds(1800), ns(t0));
    grants::adjust(
        &w,
        &Adjustment {
            consumed: Some(Seconds(10)),
            ..Adjustment::default()
        },
        ns(t0),
    )
    .unwrap();
    usage::open_connection(
        OpenConnection {
            connection_id: "c".into(),
            wallet: w.clone(),
            at: UnixSeconds(t0),
        },
        ns(t0),
    )
    .unwrap();
    for t in [5, 3, 40, 40, 90] {
        let _ = usage::meter(
            vec![MeterRequest {
                connection_id: "c".into(),
                wallet: w.clone(),
                up_to: UnixSeconds(t0 + t),
            }],
            ns(t0 + 100),
        );
    }
    usage::close_connection("c", UnixSeconds(t0 + 95), ns(t0 + 100)).unwrap();
    let room = RoomId::parse("r").unwrap();
    let hash = Sha256Hex::of(b"sig");
    payments::claim(
        ClaimSettlement {
            room_id: room.clone(),
            signature_hash: hash.clone(),
            wallet: Some(w.clone()),
            entitlement: EntitlementKind::Live,
        },
        ns(t0 + 100),
    );
    payments::commit(
        CommitSettlement {
            room_id: room.clone(),
            signature_hash: hash,
            entitlement: EntitlementKind::Live,
            result: SettlementResult::Settled {
                wallet: Some(w.clone()),
                window_seconds: 3600,
                segment_id: None,
                pay_to: None,
                amount: None,
                facilitator: "mock".into(),
                transaction_hash: None,
            },
        },
        ns(t0 + 101),
    )
    .unwrap();
    payments::extend(
        ExtendEntitlement {
            room_id: room.clone(),
            wallet: w.clone(),
            entitlement: EntitlementKind::Replay,
            window_seconds: 60,
        },
        ns(t0 + 102),
    );
    payments::issue_replay_token(
        IssueReplayToken {
            room_id: room,
            token_hash: Sha256Hex::of(b"t"),
            wallet: w,
            replay_url: "u".into(),
        },
        ns(t0 + 103),
    );
    payments::prune(ns(t0 + 500_000));
    assert_eq!(check_against_log(), Vec::<&str>::new());
    assert!(super::with(|s| s.event_count()) > 10);
}
