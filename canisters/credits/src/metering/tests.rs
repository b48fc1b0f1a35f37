use proptest::prelude::*;

use super::*;
use crate::ledger::BASE_GRANT;

fn wallet() -> Wallet {
    Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap()
}

fn granted() -> Account {
    Account::default().with_base_grant().unwrap()
}

#[test]
fn bills_exactly_the_seconds_past_the_watermark() {
    let connection = MeteredConnection::opened(wallet(), UnixSeconds(1000));
    let account = granted();
    let first = meter(&connection, Some(&account), UnixSeconds(1030));
    assert_eq!((first.elapsed, first.debited), (Seconds(30), Seconds(30)));
    assert_eq!(first.remaining, Seconds(1770));
    let connection = connection.after(&first);
    let account = account.with_debit(first.debited);
    // The same metering again (a retry), or an older one arriving late: nothing.
    for up_to in [1030, 1010, 999] {
        let again = meter(&connection, Some(&account), UnixSeconds(up_to));
        assert_eq!(again.debited, Seconds::ZERO, "{up_to}");
        assert_eq!(again.watermark, UnixSeconds(1030));
        assert_eq!(again.remaining, Seconds(1770));
    }
}

#[test]
fn alerts_are_raised_once_and_debits_clamp() {
    let mut connection = MeteredConnection::opened(wallet(), UnixSeconds(0));
    let mut account = granted();
    let low = meter(&connection, Some(&account), UnixSeconds(1500));
    assert_eq!(low.alerts, [CreditAlert::Low]);
    connection = connection.after(&low);
    account = account.with_debit(low.debited);
    let quiet = meter(&connection, Some(&account), UnixSeconds(1600));
    assert!(quiet.alerts.is_empty());
    connection = connection.after(&quiet);
    account = account.with_debit(quiet.debited);
    let out = meter(&connection, Some(&account), UnixSeconds(5000));
    assert_eq!(out.debited, Seconds(200), "clamped at the balance");
    assert_eq!(out.alerts, [CreditAlert::Exhausted]);
    connection = connection.after(&out);
    assert_eq!(connection.debited, BASE_GRANT);
    let after = meter(
        &connection,
        Some(&account.with_debit(out.debited)),
        UnixSeconds(6000),
    );
    assert_eq!((after.debited, after.alerts.len()), (Seconds::ZERO, 0));
}

#[test]
fn a_wallet_without_an_account_is_metered_for_nothing() {
    let connection = MeteredConnection::opened(wallet(), UnixSeconds(0));
    let metering = meter(&connection, None, UnixSeconds(40));
    assert_eq!(metering.debited, Seconds::ZERO);
    assert_eq!(metering.watermark, UnixSeconds(40));
    assert_eq!(metering.alerts, [CreditAlert::Low, CreditAlert::Exhausted]);
}

#[test]
fn a_closed_connection_is_not_billed_past_its_close() {
    let mut connection = MeteredConnection::opened(wallet(), UnixSeconds(100));
    connection.closed_at = Some(UnixSeconds(130));
    let metering = meter(&connection, Some(&granted()), UnixSeconds(500));
    assert_eq!(metering.debited, Seconds(30));
}

proptest! {
    /// Any interleaving, duplication and reordering of meterings of one connection bills
    /// exactly the wall-clock seconds up to the latest metering (clamped at the grant), and
    /// remaining + consumed = granted throughout.
    #[test]
    fn any_sequence_of_meterings_bills_each_second_once(
        times in proptest::collection::vec(0u64..4000, 1..60),
        duplicates in proptest::collection::vec(0usize..60, 0..30),
    ) {
        let start = UnixSeconds(0);
        let mut calls: Vec<u64> = times.clone();
        for d in duplicates {
            if let Some(&t) = times.get(d % times.len()) {
                calls.push(t);
            }
        }
        // Interleave: process in the given order, which is arbitrary.
        let mut connection = MeteredConnection::opened(wallet(), start);
        let mut account = granted();
        for &t in &calls {
            let m = meter(&connection, Some(&account), UnixSeconds(t));
            connection = connection.after(&m);
            account = account.with_debit(m.debited);
            prop_assert_eq!(account.remaining().saturating_add(account.consumed), account.granted());
        }
        let latest = *calls.iter().max().unwrap();
        prop_assert_eq!(connection.debited, Seconds(latest.min(BASE_GRANT.0)));
        prop_assert_eq!(account.consumed, connection.debited);
    }
}
