//! `Scheduler`: periodic jobs whose last run is remembered in a [`StateStore`].
//!
//! A job runs on a fixed interval or a 5-field UTC cron expression. Because the time of its
//! last run is persisted (key `scheduler/<name>`), a restarted worker neither fires a job again
//! before it is due nor replays every period it missed while down, and replicas sharing one
//! store run each due period once. The in-process adapter is
//! [`TokioScheduler`](crate::adapters::TokioScheduler); canisters use ic-cdk timers instead.
//!
//! [`StateStore`]: crate::state::StateStore

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use futures_core::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::{PortabilityError, Result};

/// When a job is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every `period`, measured from the previous run's scheduled time (no drift). A job that
    /// has never run is due at once.
    Every(Duration),
    /// A 5-field cron expression (minute hour day-of-month month day-of-week) evaluated in UTC,
    /// e.g. `"*/2 * * * *"`. A job that has never run is due at the next matching minute.
    Cron(String),
}

/// A job body: called once per run; the returned future is the run. An `Err` is logged and
/// counts as a run (the job is not retried before its next due time).
pub type Job = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Wraps an async closure as a [`Job`].
pub fn job<F, Fut>(body: F) -> Job
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(body()))
}

/// Runs named jobs on schedules, remembering their last run across restarts.
///
/// Contract:
/// - Each name has one schedule per scheduler; scheduling a name twice on the same scheduler,
///   an empty name, a zero period or a malformed cron expression is
///   [`PortabilityError::InvalidInput`]; scheduling after `shutdown` is `InvalidInput` too.
/// - Runs of one job never overlap. A run that outlasts its period delays the next one, which
///   then starts once, right after.
/// - Persisted state: the time slot of the last run is stored at `scheduler/<name>` *before*
///   the run starts (at-most-once per slot: a process killed mid-run does not repeat that slot).
///   After a restart the job fires at its next due time after that slot; if one or more slots
///   were missed while down it fires once at start, not once per missed slot.
/// - Schedulers that share a store coordinate through compare-and-swap on that record, so a
///   due slot runs on exactly one of them.
/// - Store errors are logged and retried; they never stop a job.
#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Registers `job` under `name` and starts its timer. Returns once the job is registered,
    /// not when it first runs.
    async fn schedule(&self, name: &str, schedule: Schedule, job: Job) -> Result<()>;

    /// Stops every job: no run starts after this is called, and it returns once every run in
    /// progress has finished. Idempotent.
    async fn shutdown(&self);
}

/// The state key under which the last run of job `name` is persisted.
pub fn last_run_key(name: &str) -> String {
    format!("scheduler/{name}")
}

/// What is stored at [`last_run_key`] (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// The scheduled slot the last run accounted for, in Unix milliseconds (at or before the
    /// moment it started). The next run is due at the first slot after it.
    pub slot_ms: i64,
    /// When that run actually started, in Unix milliseconds (informational).
    pub started_ms: i64,
}

/// A validated [`Schedule`], ready for due-time arithmetic on Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Every { period_ms: i64 },
    Cron(Box<Cron>),
}

impl Plan {
    /// Validates `schedule`: a period of at least 1 ms, or a 5-field cron expression that
    /// matches at least once after `now_ms`.
    pub(crate) fn new(schedule: &Schedule, now_ms: i64) -> Result<Self> {
        match schedule {
            Schedule::Every(period) => {
                let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX);
                if period_ms < 1 {
                    return Err(PortabilityError::InvalidInput(format!(
                        "schedule period {period:?} is shorter than 1 ms"
                    )));
                }
                Ok(Self::Every { period_ms })
            }
            Schedule::Cron(expression) => {
                let parser = CronParser::builder()
                    .seconds(Seconds::Disallowed)
                    .year(Year::Disallowed)
                    .build();
                let cron = parser.parse(expression).map_err(|err| {
                    PortabilityError::InvalidInput(format!(
                        "cron expression {expression:?} is invalid: {err}"
                    ))
                })?;
                let plan = Self::Cron(Box::new(cron));
                plan.next_due(None, now_ms).map_err(|_| {
                    PortabilityError::InvalidInput(format!(
                        "cron expression {expression:?} never matches"
                    ))
                })?;
                Ok(plan)
            }
        }
    }

    /// When the next run is due, given the slot of the last run (`None`: never ran).
    pub(crate) fn next_due(&self, last_slot_ms: Option<i64>, now_ms: i64) -> Result<i64> {
        match (self, last_slot_ms) {
            (Self::Every { .. }, None) => Ok(now_ms),
            (Self::Every { period_ms }, Some(last)) => Ok(last.saturating_add(*period_ms)),
            (Self::Cron(cron), None) => cron_step(cron, now_ms, true, true),
            (Self::Cron(cron), Some(last)) => cron_step(cron, last, false, true),
        }
    }

    /// The slot a run that was due at `due_ms` and fires at `fire_ms` accounts for: the latest
    /// slot at or before `fire_ms`, so missed slots collapse into this one run.
    pub(crate) fn slot_for(&self, due_ms: i64, fire_ms: i64) -> Result<i64> {
        match self {
            // Slightly late: stay on the grid. A whole period or more late (missed slots):
            // start a new grid here.
            Self::Every { period_ms } if fire_ms - due_ms < *period_ms => Ok(due_ms),
            Self::Every { .. } => Ok(fire_ms),
            Self::Cron(cron) => Ok(cron_step(cron, fire_ms, true, false)?.max(due_ms)),
        }
    }
}

/// The next (`forward`) or previous cron match from `at_ms`, in Unix milliseconds.
fn cron_step(cron: &Cron, at_ms: i64, inclusive: bool, forward: bool) -> Result<i64> {
    let at: DateTime<Utc> = DateTime::from_timestamp_millis(at_ms).ok_or_else(|| {
        PortabilityError::InvalidInput(format!("time {at_ms} ms is out of range"))
    })?;
    let found = if forward {
        cron.find_next_occurrence(&at, inclusive)
    } else {
        cron.find_previous_occurrence(&at, inclusive)
    };
    found
        .map(|time| time.timestamp_millis())
        .map_err(|err| PortabilityError::InvalidInput(format!("cron schedule: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn cron(expression: &str) -> Plan {
        Plan::new(
            &Schedule::Cron(expression.into()),
            ms("2025-01-01T00:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn every_is_due_at_once_then_each_period_after_the_slot() {
        let plan = Plan::new(&Schedule::Every(Duration::from_millis(100)), 0).unwrap();
        assert_eq!(plan.next_due(None, 5_000).unwrap(), 5_000);
        assert_eq!(plan.next_due(Some(5_000), 5_010).unwrap(), 5_100);
    }

    #[test]
    fn every_stays_on_grid_when_slightly_late_and_restarts_it_after_missed_slots() {
        let plan = Plan::new(&Schedule::Every(Duration::from_millis(100)), 0).unwrap();
        assert_eq!(plan.slot_for(5_100, 5_103).unwrap(), 5_100);
        // Down for ten periods: one run now, the next a full period later.
        assert_eq!(plan.slot_for(5_100, 6_150).unwrap(), 6_150);
        assert_eq!(plan.next_due(Some(6_150), 6_150).unwrap(), 6_250);
    }

    #[test]
    fn zero_period_and_bad_cron_are_invalid_input() {
        for schedule in [
            Schedule::Every(Duration::ZERO),
            Schedule::Cron("not a cron".into()),
            Schedule::Cron("0 */2 * * * *".into()),
            Schedule::Cron("0 0 31 2 *".into()),
        ] {
            assert!(
                matches!(
                    Plan::new(&schedule, 0),
                    Err(PortabilityError::InvalidInput(_))
                ),
                "{schedule:?}"
            );
        }
    }

    #[test]
    fn cron_first_run_waits_for_the_next_match() {
        let plan = cron("*/2 * * * *");
        let due = plan.next_due(None, ms("2025-03-01T10:01:30Z")).unwrap();
        assert_eq!(due, ms("2025-03-01T10:02:00Z"));
    }

    #[test]
    fn cron_next_due_is_strictly_after_the_last_slot() {
        let plan = cron("*/2 * * * *");
        let last = ms("2025-03-01T10:02:00Z");
        assert_eq!(
            plan.next_due(Some(last), last).unwrap(),
            ms("2025-03-01T10:04:00Z")
        );
    }

    #[test]
    fn cron_catches_up_missed_slots_once() {
        let plan = cron("*/2 * * * *");
        // Last ran at 10:00, down until 10:07:30: due at 10:02 (in the past) so it fires now,
        // accounting for the 10:06 slot; the next run is 10:08, not 10:04.
        let due = plan.next_due(Some(ms("2025-03-01T10:00:00Z")), 0).unwrap();
        assert_eq!(due, ms("2025-03-01T10:02:00Z"));
        let slot = plan.slot_for(due, ms("2025-03-01T10:07:30Z")).unwrap();
        assert_eq!(slot, ms("2025-03-01T10:06:00Z"));
        assert_eq!(
            plan.next_due(Some(slot), 0).unwrap(),
            ms("2025-03-01T10:08:00Z")
        );
    }

    #[test]
    fn cron_is_evaluated_in_utc() {
        let plan = cron("30 9 * * 1");
        let due = plan.next_due(None, ms("2025-03-01T00:00:00Z")).unwrap();
        assert_eq!(due, ms("2025-03-03T09:30:00Z"));
    }
}
