//! The shipped credits canister over candid, on the harness and on PocketIC (when
//! `POCKET_IC_BIN` is set): one payment signature settles once under 100 duplicate claims,
//! only listed workers may report, the `attest` transaction is the escrow's and is signed by the
//! canister's oracle key, and an upgrade between two sweep steps keeps the run and re-arms the
//! timer.

#[path = "../benches/support/credits_chain.rs"]
mod credits_chain;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use candid::Principal;
use credits_canister::api::{
    AttestOutcome, ClaimOutcome, ClaimSettlement, CommitOutcome, CommitSettlement, MeterError,
    MeterOutcome, MeterRequest, PresenceChange, PresenceReport, SettlementResult, SweepSummary,
};
use credits_canister::duet::{EntitlementKind, RoomId, Sha256Hex};
use credits_canister::endpoints::{CallError, Stats};
use credits_canister::units::UnixSeconds;
use credits_canister::wallet::Wallet;
use credits_chain::{
    FakeEscrow, GUEST, HOST, NodeLog, fake_node, install_credits, now_secs, worker,
};
use heaven_eth::abi::{SolCall, attestCall};
use heaven_eth::tx::Eip1559Tx;
use ic_wasm_harness::{Harness, Scenario, ScenarioExt, scenario_tests, user};

fn wallet(text: &str) -> Wallet {
    Wallet::parse(text).unwrap()
}

fn claim(s: &mut dyn Scenario, c: Principal, signature: &[u8]) -> ClaimOutcome {
    let request = ClaimSettlement {
        room_id: RoomId::parse("duet-1").unwrap(),
        signature_hash: Sha256Hex::of(signature),
        wallet: Some(wallet(GUEST)),
        entitlement: EntitlementKind::Live,
    };
    let answer: Result<ClaimOutcome, CallError> = s
        .update_as(c, worker(), "claim_settlement", (request,))
        .unwrap();
    answer.unwrap()
}

fn settles_one_signature_once_under_100_duplicate_claims(s: &mut dyn Scenario) {
    let c = install_credits(s);
    let outcomes: Vec<ClaimOutcome> = (0..100)
        .map(|_| claim(s, c, b"PAYMENT-SIGNATURE"))
        .collect();
    assert_eq!(outcomes[0], ClaimOutcome::Claimed);
    assert!(outcomes[1..].iter().all(|o| *o == ClaimOutcome::InProgress));
    let commit = CommitSettlement {
        room_id: RoomId::parse("duet-1").unwrap(),
        signature_hash: Sha256Hex::of(b"PAYMENT-SIGNATURE"),
        entitlement: EntitlementKind::Live,
        result: SettlementResult::Settled {
            wallet: Some(wallet(GUEST)),
            window_seconds: 86_400,
            segment_id: Some("seg-1".into()),
            pay_to: None,
            amount: Some("100000".into()),
            facilitator: "self".into(),
            transaction_hash: Some("0xabc".into()),
        },
    };
    let committed: Result<CommitOutcome, CallError> = s
        .update_as(c, worker(), "commit_settlement", (commit.clone(),))
        .unwrap();
    let paid = committed.unwrap().unwrap().unwrap();
    assert_eq!(
        paid.expires_at,
        Some(UnixSeconds(now_secs(s) + 86_400)),
        "the window runs from the commit"
    );
    // The same commit again (a retry): refused, the entitlement is not extended twice.
    let again: Result<CommitOutcome, CallError> = s
        .update_as(c, worker(), "commit_settlement", (commit,))
        .unwrap();
    assert!(again.unwrap().is_err());
    assert!(
        matches!(claim(s, c, b"PAYMENT-SIGNATURE"), ClaimOutcome::AlreadySettled(p) if p == paid)
    );
}

fn only_listed_workers_may_report_and_anonymous_updates_are_refused(s: &mut dyn Scenario) {
    let c = install_credits(s);
    let request = MeterRequest {
        connection_id: "c".into(),
        wallet: wallet(GUEST),
        up_to: UnixSeconds(now_secs(s)),
    };
    let stranger: Result<Vec<Result<MeterOutcome, MeterError>>, CallError> = s
        .update_as(c, user(), "meter", (vec![request.clone()],))
        .unwrap();
    assert_eq!(stranger, Err(CallError::NotWorker));
    let by_worker: Result<Vec<Result<MeterOutcome, MeterError>>, CallError> =
        s.update_as(c, worker(), "meter", (vec![request],)).unwrap();
    assert_eq!(by_worker.unwrap(), [Err(MeterError::UnknownConnection)]);
    let not_controller: Result<(), CallError> = s
        .update_as(c, worker(), "set_workers", (Vec::<String>::new(),))
        .unwrap();
    assert_eq!(not_controller, Err(CallError::NotController));
    let anonymous = s.update_raw(
        c,
        Principal::anonymous(),
        "meter",
        candid::encode_one(Vec::<MeterRequest>::new()).unwrap(),
    );
    assert!(
        anonymous.is_err(),
        "inspect_message refuses anonymous ingress"
    );
}

fn report(s: &mut dyn Scenario, c: Principal, booking: &str, who: &str, at: u64) {
    let report = PresenceReport {
        booking_id: booking.into(),
        wallet: wallet(who),
        change: PresenceChange::Joined,
        at: UnixSeconds(at),
    };
    let done: Result<(), CallError> = s
        .update_as(c, worker(), "record_presence", (report,))
        .unwrap();
    assert_eq!(done, Ok(()));
}

fn the_attest_transaction_is_the_escrows_and_signed_by_the_oracle(s: &mut dyn Scenario) {
    let c = install_credits(s);
    let start = now_secs(s);
    let log = Arc::new(Mutex::new(NodeLog::default()));
    s.set_outcall_handler(Some(fake_node(
        FakeEscrow { slot_start: start },
        log.clone(),
    )));
    report(s, c, "17", HOST, start);
    report(s, c, "17", GUEST, start);
    // Both in for 20 minutes: completed, inside its window. Moving the clock fires the sweep
    // timer once: the sweep attests the booking (nonce 5, the chain's count).
    s.advance_time(Duration::from_secs(20 * 60)).unwrap();
    let summaries: Vec<SweepSummary> = s.query(c, "sweeps", (10u32,)).unwrap();
    assert_eq!((summaries[0].scanned, summaries[0].submitted), (1, 1));
    // The route attests it again (the fake escrow still says Booked; a real one would refuse):
    // the oracle's next nonce, never a reused one.
    let outcome: Result<AttestOutcome, CallError> = s
        .update_as(
            c,
            worker(),
            "attest_booking",
            ("17".to_string(), None::<String>),
        )
        .unwrap();
    let AttestOutcome::Submitted {
        outcome,
        tx_hash,
        metrics_hash,
    } = outcome.unwrap()
    else {
        panic!("not submitted");
    };
    assert_eq!(outcome.code(), 1);
    let sent = log.lock().unwrap().sent.clone();
    assert_eq!(sent.len(), 2);
    let oracle: Result<String, CallError> = s
        .update_as(c, Harness::controller(), "oracle_address", ())
        .unwrap();
    let oracle = oracle.unwrap();
    for (raw, nonce) in sent.iter().zip([5, 6]) {
        let (tx, signature) = Eip1559Tx::decode_signed(raw).unwrap();
        assert_eq!(tx.nonce, nonce);
        assert_eq!(tx.chain_id, 42431);
        assert_eq!(
            heaven_eth::address::to_checksum(&tx.to),
            credits_chain::ESCROW
        );
        assert_eq!(hex::encode(&tx.data[..4]), "33fe248b");
        let call = attestCall::abi_decode(&tx.data).unwrap();
        assert_eq!(call.bookingId, heaven_eth::U256::from(17u8));
        assert_eq!(call.outcome, 1);
        let signer =
            heaven_eth::signature::recover_prehash(&tx.signing_hash(), &signature).unwrap();
        assert_eq!(heaven_eth::address::to_checksum(&signer), oracle);
    }
    assert_eq!(
        heaven_eth::abi::hex0x(heaven_eth::keccak256(&sent[1]).as_slice()),
        tx_hash
    );
    let call = attestCall::abi_decode(&Eip1559Tx::decode_signed(&sent[1]).unwrap().0.data).unwrap();
    assert_eq!(
        heaven_eth::abi::hex0x(call.metricsHash.as_slice()),
        metrics_hash
    );
}

fn stats(s: &mut dyn Scenario, c: Principal) -> Stats {
    s.query(c, "stats", ()).unwrap()
}

fn an_upgrade_between_sweep_steps_keeps_the_run_and_rearms_the_timer(s: &mut dyn Scenario) {
    let c = install_credits(s);
    let now = now_secs(s);
    // Slots that start now: every verdict is "not due yet" (no transaction is needed).
    let log = Arc::new(Mutex::new(NodeLog::default()));
    s.set_outcall_handler(Some(fake_node(FakeEscrow { slot_start: now }, log.clone())));
    for booking in 1..=30 {
        report(s, c, &booking.to_string(), HOST, now);
    }
    // The first timer firing starts the sweep and looks at 25 of the 30 bookings.
    s.advance_time(Duration::from_secs(15)).unwrap();
    assert_eq!(stats(s, c).sweep_progress, Some((25, 30)));
    let reads_before = log.lock().unwrap().methods.len();
    s.upgrade(
        c,
        &credits_chain::credits_wasm(),
        candid::encode_one(None::<credits_canister::lifecycle::UpgradeArg>).unwrap(),
    )
    .unwrap();
    assert_eq!(
        stats(s, c).sweep_progress,
        Some((25, 30)),
        "kept across the upgrade"
    );
    // The re-armed timer goes on with the last five, and only those.
    s.advance_time(Duration::from_secs(15)).unwrap();
    let summaries: Vec<SweepSummary> = s.query(c, "sweeps", (10u32,)).unwrap();
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert_eq!((summaries[0].scanned, summaries[0].noop), (30, 30));
    assert_eq!(summaries[0].noop_reasons, [("not_due_yet".to_owned(), 30)]);
    let reads_after = log.lock().unwrap().methods.len();
    assert_eq!(
        reads_after - reads_before,
        5 * 2,
        "booking and slot reads of five bookings"
    );
    assert_eq!(stats(s, c).sweep_progress, None);
}

scenario_tests!(
    settles_one_signature_once_under_100_duplicate_claims,
    only_listed_workers_may_report_and_anonymous_updates_are_refused,
    the_attest_transaction_is_the_escrows_and_signed_by_the_oracle,
    an_upgrade_between_sweep_steps_keeps_the_run_and_rearms_the_timer
);
