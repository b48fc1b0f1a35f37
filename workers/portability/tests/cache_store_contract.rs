//! The `CacheStore` contract, written once and run against every adapter: SQLite (file in a
//! temporary directory) and Redis (a private key prefix per test).
//!
//! Timing checks use generous bounds: a wait may be shorter than nominal by however long the
//! calls themselves took, never longer.
//!
//! Real clock: expiry and rate-limit turns are wall-clock milliseconds kept by the backend
//! (Redis's own clock, SQLite rows compared with the system time), which a paused tokio clock
//! does not move.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Backend, another_cache};
use portability::{CacheEntry, CacheStore, PortabilityError};

type Store = Arc<dyn CacheStore>;

const LONG_TTL: Duration = Duration::from_secs(60);

fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}

async fn miss_then_hit(store: Store, _backend: Backend) {
    assert_eq!(store.get("mb/artist/1").await.unwrap(), None);
    store
        .put("mb/artist/1", b"{\"name\":\"x\"}".to_vec(), LONG_TTL)
        .await
        .unwrap();
    assert_eq!(
        store.get("mb/artist/1").await.unwrap(),
        Some(CacheEntry::Hit(b"{\"name\":\"x\"}".to_vec()))
    );
    // Values that look like markers are still values.
    for value in [Vec::new(), b"n".to_vec(), b"v".to_vec(), vec![0, 255]] {
        store.put("odd", value.clone(), LONG_TTL).await.unwrap();
        assert_eq!(
            store.get("odd").await.unwrap(),
            Some(CacheEntry::Hit(value))
        );
    }
}

async fn negative_entries_replace_and_are_replaced_by_values(store: Store, _backend: Backend) {
    store
        .put_negative("mb/search/none", LONG_TTL)
        .await
        .unwrap();
    assert_eq!(
        store.get("mb/search/none").await.unwrap(),
        Some(CacheEntry::Negative)
    );
    store
        .put("mb/search/none", b"found".to_vec(), LONG_TTL)
        .await
        .unwrap();
    assert_eq!(
        store.get("mb/search/none").await.unwrap(),
        Some(CacheEntry::Hit(b"found".to_vec()))
    );
    store
        .put_negative("mb/search/none", LONG_TTL)
        .await
        .unwrap();
    assert_eq!(
        store.get("mb/search/none").await.unwrap(),
        Some(CacheEntry::Negative)
    );
}

async fn expired_entries_are_never_returned(store: Store, _backend: Backend) {
    store
        .put("short", b"v".to_vec(), Duration::from_millis(80))
        .await
        .unwrap();
    store
        .put_negative("short-negative", Duration::from_millis(80))
        .await
        .unwrap();
    store.put("long", b"v".to_vec(), LONG_TTL).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    assert_eq!(store.get("short-negative").await.unwrap(), None);
    assert_eq!(
        store.get("long").await.unwrap(),
        Some(CacheEntry::Hit(b"v".to_vec()))
    );
}

async fn a_new_put_replaces_the_ttl(store: Store, _backend: Backend) {
    store
        .put("refresh", b"1".to_vec(), Duration::from_millis(80))
        .await
        .unwrap();
    store.put("refresh", b"2".to_vec(), LONG_TTL).await.unwrap();
    store.put("shorten", b"1".to_vec(), LONG_TTL).await.unwrap();
    store
        .put("shorten", b"2".to_vec(), Duration::from_millis(80))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        store.get("refresh").await.unwrap(),
        Some(CacheEntry::Hit(b"2".to_vec()))
    );
    assert_eq!(store.get("shorten").await.unwrap(), None);
}

async fn delete_removes_and_is_idempotent(store: Store, _backend: Backend) {
    store.put("del", b"v".to_vec(), LONG_TTL).await.unwrap();
    store.put_negative("del-negative", LONG_TTL).await.unwrap();
    store.delete("del").await.unwrap();
    store.delete("del-negative").await.unwrap();
    store.delete("never-stored").await.unwrap();
    assert_eq!(store.get("del").await.unwrap(), None);
    assert_eq!(store.get("del-negative").await.unwrap(), None);
}

async fn invalid_arguments_are_refused(store: Store, _backend: Backend) {
    let invalid = |result: Result<(), PortabilityError>, what: &str| {
        assert!(
            matches!(result, Err(PortabilityError::InvalidInput(_))),
            "{what}: {result:?}"
        );
    };
    invalid(
        store.put("k", b"v".to_vec(), Duration::ZERO).await,
        "zero ttl",
    );
    invalid(
        store.put_negative("k", Duration::ZERO).await,
        "zero negative ttl",
    );
    invalid(store.put("", b"v".to_vec(), LONG_TTL).await, "empty key");
    invalid(store.get("").await.map(drop), "empty key get");
    invalid(store.delete("").await, "empty key delete");
    invalid(
        store
            .reserve_slot("limiter", Duration::ZERO)
            .await
            .map(drop),
        "zero spacing",
    );
}

async fn reserve_slot_spaces_successive_callers(store: Store, _backend: Backend) {
    let spacing = Duration::from_millis(200);
    let first = store.reserve_slot("mb", spacing).await.unwrap();
    let second = store.reserve_slot("mb", spacing).await.unwrap();
    let third = store.reserve_slot("mb", spacing).await.unwrap();
    assert!(ms(first) <= 5, "first wait {first:?}");
    assert!((100..=205).contains(&ms(second)), "second wait {second:?}");
    assert!((300..=405).contains(&ms(third)), "third wait {third:?}");

    // Another limiter is independent, and so is a cache entry of the same name.
    assert!(ms(store.reserve_slot("other", spacing).await.unwrap()) <= 5);
    assert_eq!(store.get("mb").await.unwrap(), None);

    // After a quiet period longer than the reserved turns, the next caller goes at once.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(ms(store.reserve_slot("mb", spacing).await.unwrap()) <= 5);
}

async fn concurrent_reservations_get_distinct_turns(store: Store, _backend: Backend) {
    let spacing = Duration::from_secs(1);
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.reserve_slot("busy", spacing).await.unwrap() })
        })
        .collect();
    let mut waits = Vec::new();
    for caller in callers {
        waits.push(ms(caller.await.unwrap()));
    }
    waits.sort_unstable();
    for (turn, wait) in waits.iter().enumerate() {
        let nominal = turn as u128 * 1000;
        assert!(
            *wait <= nominal + 5 && *wait + 500 >= nominal,
            "turn {turn}: waits {waits:?}"
        );
    }
}

async fn reserve_slot_is_shared_by_stores_on_the_same_backend(store: Store, backend: Backend) {
    let spacing = Duration::from_millis(200);
    let other = another_cache(&backend).await;
    let first = store.reserve_slot("shared", spacing).await.unwrap();
    let second = other.reserve_slot("shared", spacing).await.unwrap();
    let third = store.reserve_slot("shared", spacing).await.unwrap();
    assert!(ms(first) <= 5, "first wait {first:?}");
    assert!((100..=205).contains(&ms(second)), "second wait {second:?}");
    assert!((300..=405).contains(&ms(third)), "third wait {third:?}");

    other
        .put("seen-by-both", b"v".to_vec(), LONG_TTL)
        .await
        .unwrap();
    assert_eq!(
        store.get("seen-by-both").await.unwrap(),
        Some(CacheEntry::Hit(b"v".to_vec()))
    );
}

async fn reserve_slot_survives_a_reopen(store: Store, backend: Backend) {
    let spacing = Duration::from_secs(2);
    assert!(ms(store.reserve_slot("restart", spacing).await.unwrap()) <= 5);
    drop(store);
    let reopened = another_cache(&backend).await;
    let wait = reopened.reserve_slot("restart", spacing).await.unwrap();
    assert!(
        (1000..=2005).contains(&ms(wait)),
        "wait after reopen {wait:?}"
    );
}

/// Generates one test per contract function for a backend.
macro_rules! cache_store_contract {
    ($backend:ident, $fixture:path) => {
        mod $backend {
            cache_store_contract!(@tests $fixture;
                miss_then_hit,
                negative_entries_replace_and_are_replaced_by_values,
                expired_entries_are_never_returned,
                a_new_put_replaces_the_ttl,
                delete_removes_and_is_idempotent,
                invalid_arguments_are_refused,
                reserve_slot_spaces_successive_callers,
                concurrent_reservations_get_distinct_turns,
                reserve_slot_is_shared_by_stores_on_the_same_backend,
                reserve_slot_survives_a_reopen,
            );
        }
    };
    (@tests $fixture:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let fixture = $fixture().await;
                let store = std::sync::Arc::clone(&fixture.store);
                super::$test(store, fixture.backend.clone()).await;
            }
        )*
    };
}

cache_store_contract!(sqlite_file, crate::common::sqlite_file_cache);
cache_store_contract!(redis, crate::common::redis_cache);

#[tokio::test]
async fn sqlite_memory_cache_works() {
    let store: Store = Arc::new(
        portability::SqliteCacheStore::open_in_memory()
            .await
            .unwrap(),
    );
    store.put("k", b"v".to_vec(), LONG_TTL).await.unwrap();
    assert_eq!(
        store.get("k").await.unwrap(),
        Some(CacheEntry::Hit(b"v".to_vec()))
    );
    assert!(
        ms(store
            .reserve_slot("l", Duration::from_millis(200))
            .await
            .unwrap())
            <= 5
    );
}

#[tokio::test]
async fn sqlite_purge_removes_only_expired_entries() {
    let store = portability::SqliteCacheStore::open_in_memory()
        .await
        .unwrap();
    store
        .put("old", b"v".to_vec(), Duration::from_millis(20))
        .await
        .unwrap();
    store.put("fresh", b"v".to_vec(), LONG_TTL).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    assert_eq!(
        store.get("fresh").await.unwrap(),
        Some(CacheEntry::Hit(b"v".to_vec()))
    );
}

#[tokio::test]
async fn unreachable_redis_is_unavailable_naming_the_server() {
    let result = portability::RedisCacheStore::connect("redis://127.0.0.1:1", "x:").await;
    match result {
        Err(PortabilityError::Unavailable { server, .. }) => {
            assert_eq!(server, "Redis at 127.0.0.1:1");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn open_cache_store_reaches_redis() {
    let url = common::redis_url();
    let store = portability::open_cache_store(&url)
        .await
        .unwrap_or_else(|err| {
            panic!("Redis is not reachable at {url}: start it (CI expects it running) ({err})")
        });
    let key = format!("open-test-{}", common::unique_suffix());
    store
        .put(&key, b"v".to_vec(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        store.get(&key).await.unwrap(),
        Some(CacheEntry::Hit(b"v".to_vec()))
    );
    store.delete(&key).await.unwrap();
}
