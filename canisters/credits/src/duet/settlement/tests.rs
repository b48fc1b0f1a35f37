use super::*;

fn wallet(last: u8) -> Wallet {
    Wallet::parse(&format!("0x{}{:02x}", "00".repeat(19), last)).unwrap()
}

fn settled(payer: Option<Wallet>, expires_at: Option<u64>) -> Marker {
    Marker::Settled(SettledPayment {
        processed_at: UnixSeconds(100),
        wallet: payer,
        entitlement: EntitlementKind::Live,
        expires_at: expires_at.map(UnixSeconds),
        segment_id: Some("seg-1".into()),
        pay_to: None,
        amount: Some("100000".into()),
        facilitator: "mock".into(),
        transaction_hash: None,
    })
}

#[test]
fn a_new_signature_is_claimed_and_a_pending_one_is_in_progress() {
    let now = UnixSeconds(1000);
    let live = EntitlementKind::Live;
    assert_eq!(
        decide_claim(None, Some(&wallet(1)), live, now),
        ClaimOutcome::Claimed
    );
    let pending = Marker::Pending {
        claimed_at: now,
        wallet: Some(wallet(1)),
        entitlement: live,
    };
    assert_eq!(
        decide_claim(Some(&pending), Some(&wallet(1)), live, now),
        ClaimOutcome::InProgress
    );
    assert_eq!(
        decide_claim(Some(&pending), Some(&wallet(2)), live, now),
        ClaimOutcome::InProgress
    );
    // Abandoned: only the same wallet and kind may take it over.
    let later = now.plus(PENDING_TIMEOUT_SECONDS);
    assert_eq!(
        decide_claim(Some(&pending), Some(&wallet(1)), live, later),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        decide_claim(Some(&pending), Some(&wallet(2)), live, later),
        ClaimOutcome::InProgress
    );
}

#[test]
fn settled_markers_grant_their_payer_until_expiry_and_nobody_else() {
    let live = EntitlementKind::Live;
    let marker = settled(Some(wallet(1)), Some(5000));
    let now = UnixSeconds(1000);
    assert!(matches!(
        decide_claim(Some(&marker), Some(&wallet(1)), live, now),
        ClaimOutcome::AlreadySettled(_)
    ));
    assert!(matches!(
        decide_claim(Some(&marker), None, live, now),
        ClaimOutcome::AlreadySettled(_)
    ));
    assert_eq!(
        decide_claim(Some(&marker), Some(&wallet(2)), live, now),
        ClaimOutcome::Reused
    );
    assert_eq!(
        decide_claim(
            Some(&marker),
            Some(&wallet(1)),
            EntitlementKind::Replay,
            now
        ),
        ClaimOutcome::Reused
    );
    assert_eq!(
        decide_claim(Some(&marker), Some(&wallet(1)), live, UnixSeconds(5000)),
        ClaimOutcome::AlreadyConsumed
    );
    let anonymous = settled(None, None);
    assert_eq!(
        decide_claim(Some(&anonymous), None, live, now),
        ClaimOutcome::AlreadyConsumed
    );
}

#[test]
fn markers_are_pruned_after_two_days() {
    let marker = settled(Some(wallet(1)), Some(5000));
    assert!(!is_prunable(&marker, UnixSeconds(100 + MARKER_TTL_SECONDS)));
    assert!(is_prunable(&marker, UnixSeconds(101 + MARKER_TTL_SECONDS)));
}
