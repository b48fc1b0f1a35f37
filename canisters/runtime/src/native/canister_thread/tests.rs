//! Tests of the canister thread with a tiny canister: one counter in a host memory.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use ic_stable_structures::Memory;

use super::*;
use crate::native::memory::HostMemory;

thread_local! {
    static MEMORY: RefCell<Option<HostMemory>> = const { RefCell::new(None) };
}

fn counter() -> u8 {
    MEMORY.with_borrow(|m| {
        let mut byte = [0u8];
        m.as_ref().unwrap().read(0, &mut byte);
        byte[0]
    })
}

fn bump() {
    MEMORY.with_borrow(|m| m.as_ref().unwrap().write(0, &[counter() + 1]));
}

/// Requests: "get" (a query), "bump" (an update that yields once), "bump-then-panic".
struct Counter {
    ticks: Arc<AtomicU64>,
}

impl NativeCanister for Counter {
    type Request = &'static str;
    type Response = String;

    fn query(&self, request: &&'static str) -> Option<String> {
        (*request == "get").then(|| counter().to_string())
    }

    // An `async fn` would borrow `self`; the trait wants a future that outlives it.
    #[allow(clippy::manual_async_fn)]
    fn update(&self, request: &'static str) -> impl Future<Output = String> + 'static {
        async move {
            bump();
            tokio::task::yield_now().await;
            if request == "bump-then-panic" {
                bump();
                panic!("trap");
            }
            counter().to_string()
        }
    }

    fn describe(request: &&'static str) -> String {
        request.to_string()
    }

    fn trapped(&self) -> String {
        "trapped".into()
    }

    fn periodic(&self) -> Vec<Periodic> {
        let ticks = self.ticks.clone();
        vec![Periodic {
            name: "tick",
            interval: Duration::from_millis(5),
            job: Box::new(move || {
                ticks.fetch_add(1, Ordering::Relaxed);
            }),
        }]
    }
}

fn start(ticks: Arc<AtomicU64>) -> CanisterThread<Counter> {
    CanisterThread::start("counter-canister", move || {
        let memory = HostMemory::volatile();
        memory.grow(1);
        MEMORY.with_borrow_mut(|m| *m = Some(memory));
        Ok::<_, String>(Counter { ticks })
    })
    .unwrap()
}

#[tokio::test]
async fn queries_updates_and_traps_on_the_thread() {
    let canister = start(Arc::default());
    assert_eq!(canister.call("get").await.unwrap(), "0");
    assert_eq!(canister.call("bump").await.unwrap(), "1");
    // The trap undoes the stretch after the await only, as on the IC.
    assert_eq!(canister.call("bump-then-panic").await.unwrap(), "trapped");
    assert_eq!(canister.call("get").await.unwrap(), "2");
    let name = canister
        .run(|| std::thread::current().name().map(str::to_string))
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("counter-canister"));
    let err = canister
        .run(|| {
            bump();
            panic!("job fails")
        })
        .await
        .unwrap_err();
    assert_eq!(err, ThreadError::Panicked);
    assert_eq!(canister.call("get").await.unwrap(), "2");
}

#[tokio::test]
async fn periodic_jobs_run_on_the_thread() {
    let ticks = Arc::new(AtomicU64::new(0));
    let canister = start(ticks.clone());
    for _ in 0..200 {
        if ticks.load(Ordering::Relaxed) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(ticks.load(Ordering::Relaxed) >= 2);
    drop(canister);
}

#[test]
fn an_open_error_is_returned() {
    let err = CanisterThread::<Counter>::start("failing-canister", || Err::<Counter, _>("no"))
        .unwrap_err();
    assert!(matches!(err, StartError::Open("no")));
}
