//! Booked 1:1 sessions: presence the worker reports, and the attestation of a booking's outcome
//! to the escrow, on demand (`/session/:id/attest`) or by the sweep every 2 minutes (the
//! original's cron). Reads come first; the transaction is sent only for a booking still
//! `Booked` whose window is open, and "already attested" from the chain counts as done.

use std::cell::Cell;

use canister_runtime::Runtime;
use heaven_eth::U256;

use crate::api::{AttestOutcome, PresenceReport, SweepSummary};
use crate::attestation::{self, Metrics, Outcome, SlotTerms};
use crate::chain::{BOOKING_BOOKED, ChainReads, LiveChain, MockEscrow};
use crate::oracle;
use crate::state::{self, ChainConfig, SweepResult, audit::process_event, event::EventType};
use crate::units::UnixSeconds;
use crate::wallet::Wallet;

/// Bookings a sweep looks at, at most.
pub const SWEEP_LIMIT: usize = 200;
/// How far back a join makes a booking part of a sweep.
pub const SWEEP_LOOKBACK_SECONDS: u64 = 7 * 24 * 60 * 60;
/// Bookings one sweep step looks at (each step is one timer firing).
pub const SWEEP_BATCH: usize = 25;
/// The mock escrow's transaction hash.
pub const MOCK_TX_HASH: &str = "0x0000000000000000000000000000000000000000000000000000000000000001";

/// A booking id that is not decimal digits (or longer than 30 of them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid booking_id")]
pub struct InvalidBookingId;

/// The booking id of `text` (trimmed): decimal digits, at most 30 (leading zeros dropped).
pub fn parse_booking_id(text: &str) -> Result<(String, U256), InvalidBookingId> {
    let t = text.trim();
    if t.is_empty() || t.len() > 30 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidBookingId);
    }
    let canonical = t.trim_start_matches('0');
    let canonical = if canonical.is_empty() { "0" } else { canonical };
    let id = U256::from_str_radix(canonical, 10).map_err(|_| InvalidBookingId)?;
    Ok((canonical.to_owned(), id))
}

/// Records a join or leave of a booked session.
pub fn record_presence(report: PresenceReport, now_ns: u64) -> Result<(), InvalidBookingId> {
    let (booking_id, _) = parse_booking_id(&report.booking_id)?;
    state::mutate(|s| {
        process_event(
            s,
            now_ns,
            EventType::PresenceRecorded {
                booking_id,
                wallet: report.wallet,
                change: report.change,
                at: report.at,
            },
        )
    });
    Ok(())
}

/// Who runs an attestation: the HTTP route (errors with statuses) or the sweep (noops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `/session/:id/attest`.
    Http,
    /// The timer.
    Sweep,
}

/// What one attestation run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The transaction was sent.
    Submitted {
        /// The verdict.
        outcome: Outcome,
        /// `0x` hash.
        tx_hash: String,
        /// `0x` metrics hash.
        metrics_hash: String,
    },
    /// Nothing to do (sweep only): a reason and a detail.
    Noop(&'static str, Option<String>),
    /// An error with the original's status and text.
    Error(u16, String),
}

impl Attempt {
    /// The answer of the HTTP route.
    pub fn into_outcome(self) -> AttestOutcome {
        match self {
            Attempt::Submitted {
                outcome,
                tx_hash,
                metrics_hash,
            } => AttestOutcome::Submitted {
                outcome,
                tx_hash,
                metrics_hash,
            },
            Attempt::Noop(reason, detail) => AttestOutcome::Refused {
                status: 409,
                error: detail.unwrap_or_else(|| reason.to_owned()),
            },
            Attempt::Error(status, error) => AttestOutcome::Refused { status, error },
        }
    }
}

fn status_label(status: u8) -> String {
    match status {
        0 => "None".into(),
        1 => "Booked".into(),
        2 => "Cancelled".into(),
        3 => "Attested".into(),
        4 => "Disputed".into(),
        5 => "Resolved".into(),
        6 => "Finalized".into(),
        n => format!("Unknown({n})"),
    }
}

/// Runs the attestation of `booking_id` at `now` (the sweep fixes `now` once for all).
pub async fn attest<R: Runtime>(
    rt: &R,
    booking_id: &str,
    force_outcome: Option<&str>,
    mode: Mode,
    now: UnixSeconds,
) -> Attempt {
    let Ok((id_text, id)) = parse_booking_id(booking_id) else {
        return Attempt::Error(400, "invalid booking_id".into());
    };
    let config = state::with_config(|c| c.chain.clone());
    if !config.attestation_enabled {
        return Attempt::Error(503, "oracle key not configured".into());
    }
    if config.escrow_mock {
        let mock = MockEscrow { now: now.0 };
        return run(rt, &mock, &config, &id_text, id, force_outcome, mode, now).await;
    }
    let live = LiveChain::new(rt, &config);
    run(rt, &live, &config, &id_text, id, force_outcome, mode, now).await
}

#[allow(clippy::too_many_arguments)]
async fn run<R: Runtime, C: ChainReads>(
    rt: &R,
    chain: &C,
    config: &ChainConfig,
    id_text: &str,
    id: U256,
    force_outcome: Option<&str>,
    mode: Mode,
    now: UnixSeconds,
) -> Attempt {
    let sweep = mode == Mode::Sweep;
    let Some(booking) = chain.booking(id).await else {
        return if sweep {
            Attempt::Noop("booking_not_found", None)
        } else {
            Attempt::Error(404, "booking not found".into())
        };
    };
    if booking.status != BOOKING_BOOKED {
        let label = status_label(booking.status);
        return if sweep {
            Attempt::Noop(
                "already_settled",
                Some(format!("booking status is {label}")),
            )
        } else {
            Attempt::Error(400, format!("booking status is {label}, expected Booked"))
        };
    }
    let Some(slot) = chain.slot(booking.slotId).await else {
        return Attempt::Error(404, "slot not found".into());
    };
    let forced = match force_outcome {
        None => None,
        Some(name) => match Outcome::from_name(name) {
            Some(o) => Some(o),
            None => return Attempt::Error(400, "invalid force_outcome".into()),
        },
    };
    if forced.is_some() && mode == Mode::Http && !config.development {
        return Attempt::Error(400, "force_outcome not allowed in production".into());
    }
    let host = Wallet::parse(&heaven_eth::address::to_lower_hex(&slot.host)).ok();
    let guest = Wallet::parse(&heaven_eth::address::to_lower_hex(&booking.guest)).ok();
    let (host_stay, guest_stay) = state::with(|s| {
        let stay = |w: &Option<Wallet>| w.as_ref().and_then(|w| s.presence_of(id_text, w).first());
        (stay(&host), stay(&guest))
    });
    let terms = SlotTerms {
        start: UnixSeconds(slot.startTime.to::<u64>()),
        duration_mins: u64::from(slot.durationMins),
        grace_mins: u64::from(slot.graceMins),
        min_overlap_mins: u64::from(slot.minOverlapMins),
    };
    let outcome =
        forced.unwrap_or_else(|| attestation::derive_outcome(&terms, host_stay, guest_stay, now));
    if forced.is_none()
        && let Err(timing) = attestation::check_window(outcome, now, &terms.windows())
    {
        return match (sweep, timing.is_retryable()) {
            (true, true) => Attempt::Noop("not_due_yet", Some(timing.code().into())),
            (true, false) => Attempt::Noop("window_missed", Some(timing.code().into())),
            (false, _) => Attempt::Error(400, timing.code().into()),
        };
    }
    let metrics = Metrics::of(id_text, host_stay, guest_stay, now);
    let metrics_hash = metrics.hash();
    let metrics_hex = heaven_eth::abi::hex0x(&metrics_hash);
    let sent = if config.escrow_mock {
        Ok((MOCK_TX_HASH.to_owned(), 0))
    } else {
        send(rt, config, id, outcome, metrics_hash).await
    };
    match sent {
        Ok((tx_hash, nonce)) => {
            state::mutate(|s| {
                process_event(
                    s,
                    rt.time_ns(),
                    EventType::AttestationSent {
                        booking_id: id_text.to_owned(),
                        outcome,
                        metrics_hash: metrics_hex.clone(),
                        tx_hash: tx_hash.clone(),
                        nonce,
                        chain_id: config.chain_id,
                    },
                )
            });
            Attempt::Submitted {
                outcome,
                tx_hash,
                metrics_hash: metrics_hex,
            }
        }
        Err(error) if sweep && attestation::is_already_settled_error(&error) => {
            Attempt::Noop("already_settled", Some(error))
        }
        Err(error) => Attempt::Error(500, error),
    }
}

async fn send<R: Runtime>(
    rt: &R,
    config: &ChainConfig,
    id: U256,
    outcome: Outcome,
    metrics_hash: [u8; 32],
) -> Result<(String, u64), String> {
    let escrow = heaven_eth::address::parse(config.escrow.trim())
        .ok_or_else(|| format!("invalid escrow address {:?}", config.escrow))?;
    let chain = heaven_evm::Chain::new(rt, config.rpc_url.clone());
    let data = oracle::attest_calldata(id, outcome, metrics_hash);
    oracle::send_attest(rt, &chain, config.chain_id, escrow, data)
        .await
        .map(|sent| (heaven_eth::hex32::b256_hex(&sent.hash), sent.nonce))
        .map_err(|e| e.to_string())
}

thread_local! {
    /// Whether a sweep step is running (heap: an upgrade simply ends it; the persisted run
    /// goes on at the next step).
    static STEPPING: Cell<bool> = const { Cell::new(false) };
}

/// Marks a sweep step as running until dropped.
struct StepGuard;

impl StepGuard {
    fn take() -> Option<StepGuard> {
        (!STEPPING.replace(true)).then_some(StepGuard)
    }
}

impl Drop for StepGuard {
    fn drop(&mut self) {
        STEPPING.set(false);
    }
}

/// The bookings a sweep at `now` looks at: joined within the last 7 days, highest id first.
pub fn due_bookings(s: &state::State, now: UnixSeconds) -> Vec<String> {
    let cutoff = now.0.saturating_sub(SWEEP_LOOKBACK_SECONDS);
    s.bookings()
        .iter()
        .rev()
        .filter(|e| e.value() >= cutoff)
        .take(SWEEP_LIMIT)
        .map(|e| {
            let trimmed = e.key().trim_start_matches('0');
            if trimmed.is_empty() {
                "0".to_owned()
            } else {
                trimmed.to_owned()
            }
        })
        .collect()
}

/// What a sweep step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing: the attestation is off, another step is running, or no sweep is due yet.
    Idle,
    /// Looked at some bookings; the sweep goes on at the next step.
    Progressed,
    /// The sweep ended with this summary.
    Completed(SweepSummary),
}

/// One step of the attestation sweep (what each timer firing runs): starts a sweep when none
/// is in progress and the last one started at least [`crate::lifecycle::SWEEP_INTERVAL`] ago,
/// then looks at up to [`SWEEP_BATCH`] of its bookings. Every booking's result is persisted as
/// it is reached, so an upgrade between steps loses nothing and repeats nothing.
pub async fn sweep_step<R: Runtime>(rt: &R) -> Step {
    if !state::with_config(|c| c.chain.attestation_enabled) {
        return Step::Idle;
    }
    let Some(_running) = StepGuard::take() else {
        return Step::Idle;
    };
    let now_ns = rt.time_ns();
    let now = UnixSeconds::from_nanos(now_ns);
    let started = state::mutate(|s| {
        if s.sweep_run().is_some() {
            return true;
        }
        let last = s.sweeps().last_key_value().map(|(_, summary)| summary.0.at);
        let due = last.is_none_or(|at| now.0 >= at.0 + crate::lifecycle::SWEEP_INTERVAL.as_secs());
        if due {
            let bookings = due_bookings(s, now);
            process_event(s, now_ns, EventType::SweepStarted { bookings });
        }
        due
    });
    if !started {
        return Step::Idle;
    }
    for _ in 0..SWEEP_BATCH {
        let Some((booking, sweep_now)) = state::with(|s| {
            s.sweep_run().and_then(|run| {
                run.bookings
                    .get(run.next as usize)
                    .map(|b| (b.clone(), run.started_at))
            })
        }) else {
            break;
        };
        let result = match attest(rt, &booking, None, Mode::Sweep, sweep_now).await {
            Attempt::Submitted { .. } => SweepResult::Submitted,
            Attempt::Noop(reason, _) => SweepResult::Noop(reason.to_owned()),
            Attempt::Error(_, error) => {
                canister_runtime::print(&format!("attestation sweep: booking {booking}: {error}"));
                SweepResult::Failed(error)
            }
        };
        state::mutate(|s| {
            process_event(
                s,
                rt.time_ns(),
                EventType::SweepBookingDone {
                    booking_id: booking,
                    result,
                },
            )
        });
    }
    state::mutate(|s| {
        let Some(run) = s.sweep_run().cloned() else {
            return Step::Idle;
        };
        if (run.next as usize) < run.bookings.len() {
            return Step::Progressed;
        }
        let summary = run.summary;
        canister_runtime::print(&format!(
            "attestation sweep: scanned {}, submitted {}, noop {}, failed {}",
            summary.scanned, summary.submitted, summary.noop, summary.failed
        ));
        process_event(
            s,
            rt.time_ns(),
            EventType::SweepCompleted {
                summary: summary.clone(),
            },
        );
        Step::Completed(summary)
    })
}

/// A whole sweep now (operators, tests): steps until it completes. `None` when the
/// attestation is off, another step is running or no sweep is due.
pub async fn sweep<R: Runtime>(rt: &R) -> Option<SweepSummary> {
    loop {
        match sweep_step(rt).await {
            Step::Idle => return None,
            Step::Progressed => continue,
            Step::Completed(summary) => return Some(summary),
        }
    }
}

/// The latest sweep summaries, newest first.
pub fn sweeps(limit: usize) -> Vec<SweepSummary> {
    state::with(|s| {
        s.sweeps()
            .iter()
            .rev()
            .take(limit)
            .map(|e| e.value().0.clone())
            .collect()
    })
}
