use super::*;
use crate::api::MeterError;
use crate::grants;
use crate::ledger::Adjustment;
use crate::metering::CreditAlert;
use crate::units::Seconds;
use crate::wallet::Wallet;

const T0: u64 = 1_800_000_000;

fn ns(secs: u64) -> u64 {
    secs * 1_000_000_000
}

fn wallet(last: u8) -> Wallet {
    Wallet::parse(&format!("0x{}{:02x}", "00".repeat(19), last)).unwrap()
}

fn with_credit(w: &Wallet, seconds: u64) {
    grants::adjust(
        w,
        &Adjustment {
            base_granted: Some(Seconds(seconds)),
            ..Adjustment::default()
        },
        ns(T0),
    )
    .unwrap();
}

fn open(id: &str, w: &Wallet, at: u64) {
    open_connection(
        OpenConnection {
            connection_id: id.into(),
            wallet: w.clone(),
            at: UnixSeconds(at),
        },
        ns(at),
    )
    .unwrap();
}

fn request(id: &str, w: &Wallet, up_to: u64) -> MeterRequest {
    MeterRequest {
        connection_id: id.into(),
        wallet: w.clone(),
        up_to: UnixSeconds(up_to),
    }
}

#[test]
fn heartbeats_and_alarms_bill_each_second_once() {
    let w = wallet(1);
    with_credit(&w, 1800);
    open("c1", &w, T0);
    // Ten concurrent heartbeats at +5 s arrive as ten messages: one bills 5, nine bill 0.
    let debits: Vec<u64> = (0..10)
        .map(|_| meter(vec![request("c1", &w, T0 + 5)], ns(T0 + 5)).remove(0))
        .map(|r| r.unwrap().debited_seconds.0)
        .collect();
    assert_eq!(debits.iter().sum::<u64>(), 5);
    // The alarm's batch at +30 bills the rest; a late heartbeat stamped +8 bills nothing.
    let batch = meter(vec![request("c1", &w, T0 + 30)], ns(T0 + 30));
    assert_eq!(batch[0].as_ref().unwrap().debited_seconds, Seconds(25));
    let late = meter(vec![request("c1", &w, T0 + 8)], ns(T0 + 31))
        .remove(0)
        .unwrap();
    assert_eq!(late.debited_seconds, Seconds::ZERO);
    assert_eq!(late.connection_debited_seconds, Seconds(30));
    assert_eq!(grants::balance(&w).remaining_seconds, Seconds(1770));
}

#[test]
fn the_future_is_not_billed_and_closing_stops_the_meter() {
    let w = wallet(2);
    with_credit(&w, 1800);
    open("c2", &w, T0);
    // The worker's clock ahead of the canister's: only up to the canister's now.
    let ahead = meter(vec![request("c2", &w, T0 + 500)], ns(T0 + 10))
        .remove(0)
        .unwrap();
    assert_eq!(ahead.debited_seconds, Seconds(10));
    let closed = close_connection("c2", UnixSeconds(T0 + 20), ns(T0 + 20)).unwrap();
    assert_eq!(closed.debited_seconds, Seconds(10));
    let after = meter(vec![request("c2", &w, T0 + 100)], ns(T0 + 100))
        .remove(0)
        .unwrap();
    assert_eq!(
        after.debited_seconds,
        Seconds::ZERO,
        "nothing after the close"
    );
    // Closing again is harmless.
    assert_eq!(
        close_connection("c2", UnixSeconds(T0 + 50), ns(T0 + 50))
            .unwrap()
            .debited_seconds,
        Seconds::ZERO
    );
}

#[test]
fn connections_are_checked() {
    let w = wallet(3);
    open("c3", &w, T0);
    assert_eq!(
        open_connection(
            OpenConnection {
                connection_id: "c3".into(),
                wallet: wallet(4),
                at: UnixSeconds(T0)
            },
            ns(T0)
        ),
        Err(MeterError::WalletMismatch)
    );
    let results = meter(
        vec![
            request("nope", &w, T0 + 1),
            request("c3", &wallet(4), T0 + 1),
        ],
        ns(T0 + 1),
    );
    assert_eq!(results[0], Err(MeterError::UnknownConnection));
    assert_eq!(results[1], Err(MeterError::WalletMismatch));
    // No account: metered for nothing, alerts raised once.
    let first = meter(vec![request("c3", &w, T0 + 2)], ns(T0 + 2))
        .remove(0)
        .unwrap();
    assert_eq!(first.alerts, [CreditAlert::Low, CreditAlert::Exhausted]);
    let second = meter(vec![request("c3", &w, T0 + 3)], ns(T0 + 3))
        .remove(0)
        .unwrap();
    assert!(second.alerts.is_empty());
}
