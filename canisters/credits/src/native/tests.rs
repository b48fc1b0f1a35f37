use super::*;
use crate::api::SettlementResult;
use crate::duet::EntitlementKind;

fn wallet() -> Wallet {
    Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap()
}

fn mock_chain() -> ChainConfig {
    ChainConfig {
        escrow_mock: true,
        ..ChainConfig::default()
    }
}

#[tokio::test]
async fn a_restart_is_an_upgrade_that_keeps_balances_and_watermarks() {
    let dir = tempfile::tempdir().unwrap();
    let credits = NativeCredits::start(dir.path(), mock_chain()).unwrap();
    credits.grant(wallet(), Seconds(1800)).await.unwrap();
    let now = UnixSeconds::from_nanos(credits.now_ns());
    credits
        .open_connection(OpenConnection {
            connection_id: "c".into(),
            wallet: wallet(),
            at: UnixSeconds(now.0 - 40),
        })
        .await
        .unwrap()
        .unwrap();
    let metered = credits
        .meter(vec![MeterRequest {
            connection_id: "c".into(),
            wallet: wallet(),
            up_to: UnixSeconds(now.0 - 10),
        }])
        .await
        .unwrap();
    assert_eq!(metered[0].as_ref().unwrap().debited_seconds, Seconds(30));
    drop(credits);

    let again = NativeCredits::start(dir.path(), mock_chain()).unwrap();
    assert_eq!(
        again.balance(wallet()).await.unwrap().remaining_seconds,
        Seconds(1770)
    );
    // The watermark survived: the same metering again bills nothing, later seconds do.
    let repeat = again
        .meter(vec![MeterRequest {
            connection_id: "c".into(),
            wallet: wallet(),
            up_to: UnixSeconds(now.0 - 10),
        }])
        .await
        .unwrap();
    assert_eq!(repeat[0].as_ref().unwrap().debited_seconds, Seconds::ZERO);
    let installs = again
        .run(|| state::with_config(|c| c.installs))
        .await
        .unwrap();
    assert_eq!(installs, 2);
    assert!(again.audit().await.unwrap().differences.is_empty());
}

#[tokio::test]
async fn one_canister_per_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = NativeCredits::start(dir.path(), mock_chain()).unwrap();
    let err = NativeCredits::start(dir.path(), mock_chain()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(STABLE_MEMORY_FILE) && message.contains("credits canister"),
        "{message}"
    );
    drop(first);
    NativeCredits::start(dir.path(), mock_chain()).unwrap();
}

#[tokio::test]
async fn a_hundred_duplicate_claims_of_one_signature_settle_once() {
    let dir = tempfile::tempdir().unwrap();
    let credits = NativeCredits::start(dir.path(), mock_chain()).unwrap();
    let room = RoomId::parse("duet-9").unwrap();
    let hash = Sha256Hex::of(b"PAYMENT-SIGNATURE");
    let claims = (0..100).map(|_| {
        let credits = credits.clone();
        let room = room.clone();
        let hash = hash.clone();
        async move {
            credits
                .claim_settlement(ClaimSettlement {
                    room_id: room,
                    signature_hash: hash,
                    wallet: Some(wallet()),
                    entitlement: EntitlementKind::Live,
                })
                .await
                .unwrap()
        }
    });
    let outcomes = futures::future::join_all(claims).await;
    let claimed = outcomes
        .iter()
        .filter(|o| **o == ClaimOutcome::Claimed)
        .count();
    assert_eq!(claimed, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, ClaimOutcome::Claimed | ClaimOutcome::InProgress))
    );
    let paid = credits
        .commit_settlement(CommitSettlement {
            room_id: room.clone(),
            signature_hash: hash,
            entitlement: EntitlementKind::Live,
            result: SettlementResult::Settled {
                wallet: Some(wallet()),
                window_seconds: 3600,
                segment_id: None,
                pay_to: None,
                amount: None,
                facilitator: "mock".into(),
                transaction_hash: None,
            },
        })
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let view = credits.entitlement(room, wallet()).await.unwrap();
    assert_eq!(view.live_expires_at, paid.expires_at);
}

#[tokio::test]
async fn the_mock_escrow_attests_a_booking_with_both_present() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = mock_chain();
    chain.attestation_enabled = true;
    let credits = NativeCredits::start(dir.path(), chain).unwrap();
    let now = UnixSeconds::from_nanos(credits.now_ns());
    let host = Wallet::parse(&heaven_eth::address::to_lower_hex(
        &crate::chain::MockEscrow::host(),
    ))
    .unwrap();
    let guest = Wallet::parse(&heaven_eth::address::to_lower_hex(
        &crate::chain::MockEscrow::guest(),
    ))
    .unwrap();
    for w in [host, guest] {
        credits
            .record_presence(PresenceReport {
                booking_id: "17".into(),
                wallet: w,
                change: crate::api::PresenceChange::Joined,
                at: UnixSeconds(now.0 - 50),
            })
            .await
            .unwrap()
            .unwrap();
    }
    // The mock slot started a minute ago: too early for any verdict.
    let early = credits.attest_booking("17".into(), None).await.unwrap();
    assert_eq!(
        early,
        AttestOutcome::Refused {
            status: 400,
            error: "grace_not_over".into()
        }
    );
    let forced = credits
        .attest_booking("17".into(), Some("completed".into()))
        .await
        .unwrap();
    assert!(matches!(
        forced,
        AttestOutcome::Submitted { ref tx_hash, .. } if tx_hash == crate::sessions::MOCK_TX_HASH
    ));
    let swept = credits.sweep_now().await.unwrap().unwrap();
    assert_eq!((swept.scanned, swept.noop), (1, 1));
    assert_eq!(swept.noop_reasons, [("not_due_yet".to_owned(), 1)]);
    assert_eq!(credits.sweeps(10).await.unwrap(), [swept]);
}
