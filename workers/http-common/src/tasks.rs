//! Work a request starts but does not wait for (a memory write after a chat, a rehost after a
//! lookup): spawned through [`BackgroundTasks`], so shutdown waits for it up to a deadline and
//! names whatever it had to cut off, instead of the process exit dropping it silently.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::task::TaskTracker;

/// A set of named background tasks, drained on shutdown. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct BackgroundTasks {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tracker: TaskTracker,
    running: Mutex<BTreeMap<u64, String>>,
    next_id: AtomicU64,
}

/// What [`BackgroundTasks::drain`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drained {
    /// Every task finished within the deadline.
    Complete,
    /// These tasks (their names, oldest first) were still running at the deadline; they are
    /// abandoned when the runtime shuts down.
    CutOff(Vec<String>),
}

/// Removes a task's name when it ends, however it ends (completion, panic, abort).
struct Running {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&self.id);
    }
}

impl BackgroundTasks {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns `task` on the current tokio runtime under `name` (what a cut-off log line shows:
    /// say what the work is for, e.g. `honcho chat exchange for 0xabc…`).
    pub fn spawn<F>(&self, name: impl Into<String>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id, name.into());
        let running = Running {
            inner: self.inner.clone(),
            id,
        };
        self.inner.tracker.spawn(async move {
            let _running = running;
            task.await;
        });
    }

    /// Names of the tasks still running, oldest first.
    pub fn running(&self) -> Vec<String> {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Waits up to `deadline` for every task spawned so far (and any they spawn meanwhile);
    /// logs one warning naming each task it had to give up on.
    pub async fn drain(&self, deadline: Duration) -> Drained {
        self.inner.tracker.close();
        let finished = tokio::time::timeout(deadline, self.inner.tracker.wait()).await;
        self.inner.tracker.reopen();
        if finished.is_ok() {
            return Drained::Complete;
        }
        let cut = self.running();
        for name in &cut {
            tracing::warn!(task = %name, ?deadline, "background task cut off at shutdown");
        }
        Drained::CutOff(cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn drain_waits_for_tasks_and_names_the_ones_cut_off() {
        let tasks = BackgroundTasks::new();
        let done = Arc::new(AtomicU64::new(0));
        let counter = done.clone();
        tasks.spawn("quick write", async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            counter.fetch_add(1, Ordering::SeqCst);
        });
        tasks.spawn("slow upload", async {
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        assert_eq!(tasks.running(), ["quick write", "slow upload"]);
        let drained = tasks.drain(Duration::from_secs(5)).await;
        assert_eq!(drained, Drained::CutOff(vec!["slow upload".into()]));
        assert_eq!(
            done.load(Ordering::SeqCst),
            1,
            "the quick task ran to its end"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn finished_and_panicking_tasks_leave_the_list() {
        let tasks = BackgroundTasks::new();
        tasks.spawn("fine", async {});
        tasks.spawn("broken", async { panic!("task fails") });
        assert_eq!(tasks.drain(Duration::from_secs(1)).await, Drained::Complete);
        assert!(tasks.running().is_empty());
    }
}
