use super::*;
use crate::api::SettlementResult;
use crate::duet::EntitlementKind;

const T0: u64 = 1_800_000_000;
const DAY: u64 = 24 * 60 * 60;

fn ns(secs: u64) -> u64 {
    secs * 1_000_000_000
}

fn wallet(last: u8) -> Wallet {
    Wallet::parse(&format!("0x{}{:02x}", "00".repeat(19), last)).unwrap()
}

fn room() -> RoomId {
    RoomId::parse("duet-1").unwrap()
}

fn claim_by(w: Option<Wallet>, signature: &[u8], at: u64) -> ClaimOutcome {
    claim(
        ClaimSettlement {
            room_id: room(),
            signature_hash: Sha256Hex::of(signature),
            wallet: w,
            entitlement: EntitlementKind::Live,
        },
        ns(at),
    )
}

fn settle(w: Option<Wallet>, signature: &[u8], at: u64) -> CommitOutcome {
    commit(
        CommitSettlement {
            room_id: room(),
            signature_hash: Sha256Hex::of(signature),
            entitlement: EntitlementKind::Live,
            result: SettlementResult::Settled {
                wallet: w,
                window_seconds: DAY,
                segment_id: Some("seg-1".into()),
                pay_to: None,
                amount: Some("100000".into()),
                facilitator: "mock".into(),
                transaction_hash: None,
            },
        },
        ns(at),
    )
}

#[test]
fn one_signature_settles_once_and_is_then_an_idempotent_grant() {
    let payer = Some(wallet(1));
    assert_eq!(claim_by(payer.clone(), b"sig", T0), ClaimOutcome::Claimed);
    // A concurrent second request with the same signature while the first is settling.
    assert_eq!(
        claim_by(payer.clone(), b"sig", T0),
        ClaimOutcome::InProgress
    );
    let paid = settle(payer.clone(), b"sig", T0 + 1).unwrap().unwrap();
    assert_eq!(paid.expires_at, Some(UnixSeconds(T0 + 1 + DAY)));
    assert_eq!(
        entitlement(&room(), &wallet(1)).live_expires_at,
        paid.expires_at
    );
    // Commit twice: refused (nothing is pending any more).
    assert_eq!(
        settle(payer.clone(), b"sig", T0 + 2),
        Err(CommitError::NotClaimed)
    );
    assert!(matches!(
        claim_by(payer, b"sig", T0 + 5),
        ClaimOutcome::AlreadySettled(p) if p == paid
    ));
    assert_eq!(
        claim_by(Some(wallet(2)), b"sig", T0 + 5),
        ClaimOutcome::Reused
    );
    assert_eq!(
        claim_by(Some(wallet(1)), b"sig", T0 + 2 + DAY),
        ClaimOutcome::AlreadyConsumed
    );
}

#[test]
fn a_failed_settlement_frees_the_signature_and_paying_again_stacks() {
    let payer = Some(wallet(3));
    assert_eq!(claim_by(payer.clone(), b"bad", T0), ClaimOutcome::Claimed);
    let failed = commit(
        CommitSettlement {
            room_id: room(),
            signature_hash: Sha256Hex::of(b"bad"),
            entitlement: EntitlementKind::Live,
            result: SettlementResult::Failed,
        },
        ns(T0),
    );
    assert_eq!(failed, Ok(None));
    assert_eq!(claim_by(payer.clone(), b"bad", T0), ClaimOutcome::Claimed);
    settle(payer.clone(), b"bad", T0).unwrap();
    assert_eq!(
        claim_by(payer.clone(), b"second", T0 + 10),
        ClaimOutcome::Claimed
    );
    let second = settle(payer, b"second", T0 + 10).unwrap().unwrap();
    assert_eq!(second.expires_at, Some(UnixSeconds(T0 + 2 * DAY)));
}

#[test]
fn free_extensions_replay_tokens_and_pruning() {
    let w = wallet(4);
    let expiry = extend(
        ExtendEntitlement {
            room_id: room(),
            wallet: w.clone(),
            entitlement: EntitlementKind::Replay,
            window_seconds: 60,
        },
        ns(T0),
    );
    assert_eq!(expiry, UnixSeconds(T0 + 60));
    assert_eq!(entitlement(&room(), &w).replay_expires_at, Some(expiry));
    let hash = Sha256Hex::of(b"token");
    issue_replay_token(
        IssueReplayToken {
            room_id: room(),
            token_hash: hash.clone(),
            wallet: w.clone(),
            replay_url: "https://load.example/rec".into(),
        },
        ns(T0),
    );
    let access = redeem_replay_token(hash.clone(), ns(T0 + 59)).unwrap();
    assert_eq!(access.replay_url, "https://load.example/rec");
    assert_eq!(redeem_replay_token(hash, ns(T0 + 59)), None, "one use");
    let late = Sha256Hex::of(b"late");
    issue_replay_token(
        IssueReplayToken {
            room_id: room(),
            token_hash: late.clone(),
            wallet: w,
            replay_url: "u".into(),
        },
        ns(T0),
    );
    assert_eq!(redeem_replay_token(late, ns(T0 + 60)), None, "expired");
    // Markers live 48 h.
    claim_by(Some(wallet(5)), b"old", T0);
    settle(Some(wallet(5)), b"old", T0).unwrap();
    prune(ns(T0 + 48 * 3600));
    assert_eq!(state::with(|s| s.markers().len()), 1);
    prune(ns(T0 + 48 * 3600 + 1));
    assert_eq!(state::with(|s| s.markers().len()), 0);
}
