//! [`Scheduler`] on tokio tasks, for workers.
//!
//! Each job is one task that loops: read the job's [`LastRun`] record, sleep until the next
//! due time, claim the slot with a compare-and-swap on that record, run the job, repeat. The
//! claim is what makes restarts and replicas safe: a slot already claimed (by this process
//! before a restart, or by another replica) is never run again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::now_millis;
use crate::error::{PortabilityError, Result};
use crate::scheduler::{Job, LastRun, Plan, Schedule, Scheduler, last_run_key};
use crate::state::{StateStore, StateStoreJsonExt};

/// Pause before retrying after a store error.
const RETRY_DELAY: Duration = Duration::from_millis(500);
/// Longest single sleep; the due time is recomputed after it, so wall-clock jumps are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// A [`Scheduler`] running each job in a tokio task, persisting last runs in a
/// [`StateStore`]. Must be used inside a tokio runtime. Dropping it stops the jobs without
/// waiting; call [`Scheduler::shutdown`] to wait for runs in progress.
pub struct TokioScheduler {
    store: Arc<dyn StateStore>,
    stop: watch::Sender<bool>,
    jobs: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    names: HashSet<String>,
    tasks: Vec<JoinHandle<()>>,
    shut_down: bool,
}

impl TokioScheduler {
    /// A scheduler persisting last runs in `store`. Schedulers sharing a store share the
    /// last-run records of same-named jobs (see the [`Scheduler`] contract).
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self {
            store,
            stop: watch::Sender::new(false),
            jobs: Mutex::new(Registry::default()),
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for TokioScheduler {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

#[async_trait]
impl Scheduler for TokioScheduler {
    async fn schedule(&self, name: &str, schedule: Schedule, job: Job) -> Result<()> {
        if name.is_empty() || name.contains('\0') {
            return Err(PortabilityError::InvalidInput(format!(
                "job name {name:?} must be non-empty and free of NUL characters"
            )));
        }
        let plan = Plan::new(&schedule, now_millis())?;
        let mut registry = self.registry();
        if registry.shut_down {
            return Err(PortabilityError::InvalidInput(format!(
                "cannot schedule {name:?}: the scheduler is shut down"
            )));
        }
        if !registry.names.insert(name.to_owned()) {
            return Err(PortabilityError::InvalidInput(format!(
                "job {name:?} is already scheduled"
            )));
        }
        let runner = JobRunner {
            name: name.to_owned(),
            key: last_run_key(name),
            plan,
            job,
            store: Arc::clone(&self.store),
            stop: self.stop.subscribe(),
        };
        registry.tasks.push(tokio::spawn(runner.run()));
        Ok(())
    }

    async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks = {
            let mut registry = self.registry();
            registry.shut_down = true;
            std::mem::take(&mut registry.tasks)
        };
        for task in tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "scheduler task ended abnormally");
            }
        }
    }
}

/// The loop of one job.
struct JobRunner {
    name: String,
    key: String,
    plan: Plan,
    job: Job,
    store: Arc<dyn StateStore>,
    stop: watch::Receiver<bool>,
}

impl JobRunner {
    async fn run(self) {
        while !*self.stop.borrow() {
            match self.step().await {
                Ok(Some(wait)) => {
                    if self.sleep(wait).await {
                        break;
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(job = %self.name, error = %err, "scheduler store error; retrying");
                    if self.sleep(RETRY_DELAY).await {
                        break;
                    }
                }
            }
        }
    }

    /// One pass: returns how long to sleep if the job is not due yet; otherwise claims the
    /// slot and runs the job (or notices another scheduler claimed it) and returns `None`.
    async fn step(&self) -> Result<Option<Duration>> {
        let record = match self.store.get_json::<LastRun>(&self.key).await {
            Ok(record) => record,
            Err(PortabilityError::Encoding(message)) => {
                tracing::warn!(job = %self.name, %message, "unreadable last-run record; treating the job as never run");
                let version = self
                    .store
                    .get(&self.key)
                    .await?
                    .map(|record| record.version);
                let epoch = LastRun {
                    slot_ms: 0,
                    started_ms: 0,
                };
                version.map(|version| (epoch, version))
            }
            Err(err) => return Err(err),
        };
        let now = now_millis();
        let due = self
            .plan
            .next_due(record.map(|(last, _)| last.slot_ms), now)?;
        if due > now {
            let wait = Duration::from_millis(u64::try_from(due - now).unwrap_or(0));
            return Ok(Some(wait.min(MAX_SLEEP)));
        }
        let claim = LastRun {
            slot_ms: self.plan.slot_for(due, now)?,
            started_ms: now,
        };
        let claimed = match record {
            None => self.store.insert_json(&self.key, &claim).await,
            Some((_, version)) => self.store.put_json(&self.key, &claim, Some(version)).await,
        };
        match claimed {
            Ok(_) => {
                self.run_once().await;
                Ok(None)
            }
            // Another scheduler sharing the store claimed this slot first.
            Err(PortabilityError::Conflict { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Runs the job to completion in its own task, so a panic is contained and logged.
    async fn run_once(&self) {
        tracing::debug!(job = %self.name, "job starting");
        match tokio::spawn((self.job)()).await {
            Ok(Ok(())) => tracing::debug!(job = %self.name, "job finished"),
            Ok(Err(message)) => tracing::warn!(job = %self.name, %message, "job failed"),
            Err(err) => tracing::error!(job = %self.name, error = %err, "job panicked"),
        }
    }

    /// Sleeps for `duration`; returns `true` if the scheduler was stopped meanwhile.
    async fn sleep(&self, duration: Duration) -> bool {
        let mut stop = self.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            _ = stop.wait_for(|stopped| *stopped) => return true,
        }
        *self.stop.borrow()
    }
}
