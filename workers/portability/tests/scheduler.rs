//! The `Scheduler` contract on `TokioScheduler`, with last runs persisted in a SQLite state
//! store. Intervals are tens of milliseconds to a second; assertions only bound timings in the
//! direction a slow machine cannot break (a job never fires early), or with wide margins.
//!
//! Real clock: due times and the persisted last-run slots are wall-clock milliseconds (so
//! replicas and restarts agree on them), which a paused tokio clock does not move.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portability::{
    Job, LastRun, PortabilityError, Schedule, Scheduler, SqliteStateStore, StateStore,
    StateStoreJsonExt, TokioScheduler, job, last_run_key,
};

async fn memory_store() -> Arc<dyn StateStore> {
    Arc::new(SqliteStateStore::open_in_memory().await.unwrap())
}

fn counting(counter: &Arc<AtomicUsize>) -> Job {
    let counter = Arc::clone(counter);
    job(move || {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Polls `condition` every 10 ms; false if it still does not hold after `timeout`.
async fn eventually(timeout: Duration, condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

async fn last_run(store: &Arc<dyn StateStore>, name: &str) -> LastRun {
    store
        .get_json::<LastRun>(&last_run_key(name))
        .await
        .unwrap()
        .expect("a last-run record")
        .0
}

#[tokio::test]
async fn an_interval_job_runs_at_once_and_then_every_period() {
    let store = memory_store().await;
    let scheduler = TokioScheduler::new(Arc::clone(&store));
    let runs = Arc::new(AtomicUsize::new(0));
    scheduler
        .schedule(
            "tick",
            Schedule::Every(Duration::from_millis(50)),
            counting(&runs),
        )
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || runs.load(Ordering::SeqCst) >= 4).await);
    scheduler.shutdown().await;
    let record = last_run(&store, "tick").await;
    assert!(record.slot_ms <= record.started_ms);
}

#[tokio::test]
async fn a_restarted_scheduler_waits_for_the_next_due_time() {
    let store = memory_store().await;
    let period = Schedule::Every(Duration::from_secs(1));

    let first = TokioScheduler::new(Arc::clone(&store));
    let first_runs = Arc::new(AtomicUsize::new(0));
    first
        .schedule("sync", period.clone(), counting(&first_runs))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(2), || first_runs.load(Ordering::SeqCst)
            == 1)
        .await
    );
    first.shutdown().await;
    let before_restart = last_run(&store, "sync").await;

    let second = TokioScheduler::new(Arc::clone(&store));
    let second_runs = Arc::new(AtomicUsize::new(0));
    second
        .schedule("sync", period, counting(&second_runs))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        second_runs.load(Ordering::SeqCst),
        0,
        "fired again right after the restart"
    );

    assert!(
        eventually(Duration::from_secs(3), || second_runs
            .load(Ordering::SeqCst)
            >= 1)
        .await
    );
    second.shutdown().await;
    let after_restart = last_run(&store, "sync").await;
    assert!(
        after_restart.started_ms >= before_restart.slot_ms + 1000,
        "ran at {} although the previous slot was {}",
        after_restart.started_ms,
        before_restart.slot_ms
    );
}

#[tokio::test]
async fn missed_periods_are_caught_up_once() {
    let store = memory_store().await;
    let long_ago = now_ms() - 10_500;
    let seeded = LastRun {
        slot_ms: long_ago,
        started_ms: long_ago,
    };
    store
        .put_json(&last_run_key("report"), &seeded, None)
        .await
        .unwrap();

    let scheduler = TokioScheduler::new(Arc::clone(&store));
    let runs = Arc::new(AtomicUsize::new(0));
    scheduler
        .schedule(
            "report",
            Schedule::Every(Duration::from_secs(1)),
            counting(&runs),
        )
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(2), || runs.load(Ordering::SeqCst) >= 1).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "ten missed periods must give one catch-up run"
    );
    scheduler.shutdown().await;

    // The catch-up run starts a new grid: the next run is a full period after it.
    let record = last_run(&store, "report").await;
    assert!(record.slot_ms >= long_ago + 10_000, "{record:?}");
}

#[tokio::test]
async fn a_missed_cron_slot_is_caught_up_at_start() {
    let store = memory_store().await;
    let minute = 60_000;
    let ten_minutes_ago = (now_ms() / minute - 10) * minute;
    let seeded = LastRun {
        slot_ms: ten_minutes_ago,
        started_ms: ten_minutes_ago,
    };
    store
        .put_json(&last_run_key("attest"), &seeded, None)
        .await
        .unwrap();

    let scheduler = TokioScheduler::new(Arc::clone(&store));
    let runs = Arc::new(AtomicUsize::new(0));
    scheduler
        .schedule(
            "attest",
            Schedule::Cron("* * * * *".into()),
            counting(&runs),
        )
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(2), || runs.load(Ordering::SeqCst) >= 1).await);
    scheduler.shutdown().await;

    // The run accounts for the latest minute slot, so it is not repeated for each missed one.
    let record = last_run(&store, "attest").await;
    assert_eq!(record.slot_ms % minute, 0, "{record:?}");
    assert!(record.slot_ms <= record.started_ms && record.started_ms - record.slot_ms < minute);
    assert!(runs.load(Ordering::SeqCst) <= 2);
}

#[tokio::test]
async fn schedulers_sharing_a_store_run_each_slot_once() {
    let store = memory_store().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let replicas = [
        TokioScheduler::new(Arc::clone(&store)),
        TokioScheduler::new(Arc::clone(&store)),
    ];
    for replica in &replicas {
        replica
            .schedule(
                "cleanup",
                Schedule::Every(Duration::from_millis(200)),
                counting(&runs),
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for replica in &replicas {
        replica.shutdown().await;
    }
    // About six slots (0, 200, ..., 1000 ms); each replica running each would give twelve.
    let total = runs.load(Ordering::SeqCst);
    assert!((2..=8).contains(&total), "{total} runs");
}

#[tokio::test]
async fn shutdown_waits_for_the_running_job_and_stops_the_schedule() {
    let store = memory_store().await;
    let scheduler = TokioScheduler::new(store);
    let started = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let (started_flag, finished_flag) = (Arc::clone(&started), Arc::clone(&finished));
    let slow = job(move || {
        let (started, finished) = (Arc::clone(&started_flag), Arc::clone(&finished_flag));
        async move {
            started.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            finished.store(true, Ordering::SeqCst);
            Ok(())
        }
    });
    scheduler
        .schedule("slow", Schedule::Every(Duration::from_secs(60)), slow)
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(2), || started.load(Ordering::SeqCst)).await);
    scheduler.shutdown().await;
    assert!(
        finished.load(Ordering::SeqCst),
        "shutdown returned before the job finished"
    );

    scheduler.shutdown().await; // idempotent
    let late = scheduler
        .schedule(
            "late",
            Schedule::Every(Duration::from_millis(10)),
            job(|| async { Ok(()) }),
        )
        .await;
    assert!(matches!(late, Err(PortabilityError::InvalidInput(_))));
}

#[tokio::test]
async fn no_run_starts_after_shutdown() {
    let scheduler = TokioScheduler::new(memory_store().await);
    let runs = Arc::new(AtomicUsize::new(0));
    scheduler
        .schedule(
            "fast",
            Schedule::Every(Duration::from_millis(20)),
            counting(&runs),
        )
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(2), || runs.load(Ordering::SeqCst) >= 2).await);
    scheduler.shutdown().await;
    let at_shutdown = runs.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(runs.load(Ordering::SeqCst), at_shutdown);
}

#[tokio::test]
async fn failing_and_panicking_jobs_keep_their_schedule() {
    let scheduler = TokioScheduler::new(memory_store().await);
    let failures = Arc::new(AtomicUsize::new(0));
    let panics = Arc::new(AtomicUsize::new(0));
    let failures_seen = Arc::clone(&failures);
    let panics_seen = Arc::clone(&panics);
    let failing = job(move || {
        let failures = Arc::clone(&failures_seen);
        async move {
            failures.fetch_add(1, Ordering::SeqCst);
            Err("upstream said no".to_owned())
        }
    });
    let panicking = job(move || {
        let panics = Arc::clone(&panics_seen);
        async move {
            if panics.fetch_add(1, Ordering::SeqCst) < 100 {
                panic!("deliberate panic in a scheduled job");
            }
            Ok(())
        }
    });
    let every = Schedule::Every(Duration::from_millis(30));
    scheduler
        .schedule("failing", every.clone(), failing)
        .await
        .unwrap();
    scheduler
        .schedule("panicking", every, panicking)
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(3), || failures.load(Ordering::SeqCst)
            >= 3)
        .await
    );
    assert!(
        eventually(Duration::from_secs(3), || panics.load(Ordering::SeqCst)
            >= 3)
        .await
    );
    scheduler.shutdown().await;
}

#[tokio::test]
async fn invalid_schedules_are_refused() {
    let scheduler = TokioScheduler::new(memory_store().await);
    let noop = || job(|| async { Ok(()) });
    let minute = Schedule::Cron("*/2 * * * *".into());
    for (name, schedule) in [
        ("zero", Schedule::Every(Duration::ZERO)),
        ("garbage", Schedule::Cron("every tuesday".into())),
        ("six-fields", Schedule::Cron("0 */2 * * * *".into())),
        ("", minute.clone()),
    ] {
        let result = scheduler.schedule(name, schedule.clone(), noop()).await;
        assert!(
            matches!(result, Err(PortabilityError::InvalidInput(_))),
            "{name:?} {schedule:?}: {result:?}"
        );
    }
    scheduler
        .schedule("settle", minute.clone(), noop())
        .await
        .unwrap();
    let duplicate = scheduler.schedule("settle", minute, noop()).await;
    assert!(matches!(duplicate, Err(PortabilityError::InvalidInput(_))));
    scheduler.shutdown().await;
}
