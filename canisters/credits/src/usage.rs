//! Metering free-room connections against the ledger, in one message each: the worker opens a
//! connection at join, meters it on heartbeats and on its 30 s alarm (batched per room), and
//! closes it at leave. See [`crate::metering`] for why the watermark makes this exactly-once.

use crate::api::{MeterError, MeterOutcome, MeterRequest, OpenConnection};
use crate::metering::{self, MeteredConnection};
use crate::state::{self, State, audit::process_event, event::EventType};
use crate::units::UnixSeconds;

/// Starts metering a connection (idempotent: opening it again changes nothing).
pub fn open_connection(request: OpenConnection, now_ns: u64) -> Result<(), MeterError> {
    state::mutate(|s| {
        if let Some(existing) = connection(s, &request.connection_id) {
            return if existing.wallet == request.wallet {
                Ok(())
            } else {
                Err(MeterError::WalletMismatch)
            };
        }
        process_event(
            s,
            now_ns,
            EventType::ConnectionOpened {
                connection_id: request.connection_id,
                wallet: request.wallet,
                at: request.at,
            },
        );
        Ok(())
    })
}

fn connection(s: &State, id: &str) -> Option<MeteredConnection> {
    s.connections().get(&id.to_owned()).map(|c| c.0)
}

/// Meters each request in turn, in this one message (a room's alarm sends all of its
/// connections at once). `up_to` is clamped to the canister's clock: no future second is billed.
pub fn meter(requests: Vec<MeterRequest>, now_ns: u64) -> Vec<Result<MeterOutcome, MeterError>> {
    let now = UnixSeconds::from_nanos(now_ns);
    state::mutate(|s| {
        requests
            .into_iter()
            .map(|r| meter_one(s, &r.connection_id, &r.wallet, r.up_to.min(now), now_ns))
            .collect()
    })
}

/// Meters a connection up to `at` (clamped to now) and stops metering it.
pub fn close_connection(
    connection_id: &str,
    at: UnixSeconds,
    now_ns: u64,
) -> Result<MeterOutcome, MeterError> {
    let at = at.min(UnixSeconds::from_nanos(now_ns));
    state::mutate(|s| {
        let wallet = connection(s, connection_id)
            .ok_or(MeterError::UnknownConnection)?
            .wallet;
        let outcome = meter_one(s, connection_id, &wallet, at, now_ns)?;
        if connection(s, connection_id).is_some_and(|c| c.closed_at.is_none()) {
            process_event(
                s,
                now_ns,
                EventType::ConnectionClosed {
                    connection_id: connection_id.to_owned(),
                    at,
                },
            );
        }
        Ok(outcome)
    })
}

fn meter_one(
    s: &mut State,
    connection_id: &str,
    wallet: &crate::wallet::Wallet,
    up_to: UnixSeconds,
    now_ns: u64,
) -> Result<MeterOutcome, MeterError> {
    let current = connection(s, connection_id).ok_or(MeterError::UnknownConnection)?;
    if &current.wallet != wallet {
        return Err(MeterError::WalletMismatch);
    }
    let account = s.account(wallet);
    let metering = metering::meter(&current, account.as_ref(), up_to);
    if metering.elapsed > crate::units::Seconds::ZERO {
        process_event(
            s,
            now_ns,
            EventType::UsageMetered {
                connection_id: connection_id.to_owned(),
                up_to: metering.watermark,
                debited: metering.debited,
                alerts: metering.alerts.clone(),
            },
        );
    }
    let after = connection(s, connection_id).unwrap_or(current);
    Ok(MeterOutcome {
        connection_id: connection_id.to_owned(),
        debited_seconds: metering.debited,
        connection_debited_seconds: after.debited,
        remaining_seconds: metering.remaining,
        alerts: metering.alerts,
        metered_up_to: after.watermark,
    })
}

#[cfg(test)]
mod tests;
