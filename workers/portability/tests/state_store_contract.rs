//! The `StateStore` contract, written once and run against every adapter: SQLite (file in a
//! temporary directory, and in memory) and PostgreSQL (a private schema per test).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use portability::{PortabilityError, StateStore, StateStoreJsonExt, Versioned};
use serde::{Deserialize, Serialize};

type Store = Arc<dyn StateStore>;

fn conflict(result: Result<impl std::fmt::Debug, PortabilityError>) -> (Option<u64>, Option<u64>) {
    match result {
        Err(PortabilityError::Conflict {
            expected, actual, ..
        }) => (expected, actual),
        other => panic!("expected Conflict, got {other:?}"),
    }
}

fn record(value: &[u8], version: u64) -> Versioned {
    Versioned {
        value: value.to_vec(),
        version,
    }
}

async fn get_of_missing_key_is_none(store: Store) {
    assert_eq!(store.get("missing/key").await.unwrap(), None);
}

async fn insert_creates_version_1_and_refuses_an_existing_key(store: Store) {
    assert_eq!(
        store.insert("sessions/a", b"one".to_vec()).await.unwrap(),
        1
    );
    assert_eq!(
        store.get("sessions/a").await.unwrap(),
        Some(record(b"one", 1))
    );
    let (expected, actual) = conflict(store.insert("sessions/a", b"two".to_vec()).await);
    assert_eq!((expected, actual), (None, Some(1)));
    assert_eq!(
        store.get("sessions/a").await.unwrap(),
        Some(record(b"one", 1))
    );
}

async fn unconditional_put_upserts_and_bumps_the_version(store: Store) {
    assert_eq!(store.put("k", b"v1".to_vec(), None).await.unwrap(), 1);
    assert_eq!(store.put("k", b"v2".to_vec(), None).await.unwrap(), 2);
    assert_eq!(store.put("k", b"v3".to_vec(), None).await.unwrap(), 3);
    assert_eq!(store.get("k").await.unwrap(), Some(record(b"v3", 3)));
}

async fn compare_and_swap_succeeds_only_on_the_current_version(store: Store) {
    store.insert("jobs/1", b"queued".to_vec()).await.unwrap();
    assert_eq!(
        store
            .put("jobs/1", b"running".to_vec(), Some(1))
            .await
            .unwrap(),
        2
    );

    let stale = store.put("jobs/1", b"lost".to_vec(), Some(1)).await;
    assert_eq!(conflict(stale), (Some(1), Some(2)));
    assert_eq!(
        store.get("jobs/1").await.unwrap(),
        Some(record(b"running", 2))
    );

    let missing = store.put("jobs/none", b"x".to_vec(), Some(1)).await;
    assert_eq!(conflict(missing), (Some(1), None));
    assert_eq!(store.get("jobs/none").await.unwrap(), None);
}

async fn concurrent_compare_and_swap_has_exactly_one_winner(store: Store) {
    store.insert("race", b"start".to_vec()).await.unwrap();
    let writers = (0..10u8).map(|writer| {
        let store = Arc::clone(&store);
        tokio::spawn(async move { (writer, store.put("race", vec![writer], Some(1)).await) })
    });
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for writer in writers {
        match writer.await.unwrap() {
            (id, Ok(version)) => winners.push((id, version)),
            (_, Err(PortabilityError::Conflict { .. })) => conflicts += 1,
            (_, Err(err)) => panic!("unexpected error: {err}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(conflicts, 9);
    let (winner, version) = winners[0];
    assert_eq!(version, 2);
    assert_eq!(store.get("race").await.unwrap(), Some(record(&[winner], 2)));
}

async fn concurrent_unconditional_puts_each_get_their_own_version(store: Store) {
    let writers: Vec<_> = (0..10u8)
        .map(|writer| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.put("counter", vec![writer], None).await })
        })
        .collect();
    let mut versions = BTreeSet::new();
    for writer in writers {
        versions.insert(writer.await.unwrap().unwrap());
    }
    assert_eq!(versions, (1..=10).collect());
    assert_eq!(store.get("counter").await.unwrap().unwrap().version, 10);
}

async fn delete_honours_the_expected_version(store: Store) {
    assert!(!store.delete("gone", None).await.unwrap());
    assert!(!store.delete("gone", Some(3)).await.unwrap());

    store.insert("d", b"x".to_vec()).await.unwrap();
    store.put("d", b"y".to_vec(), None).await.unwrap();
    assert_eq!(
        conflict(store.delete("d", Some(1)).await),
        (Some(1), Some(2))
    );
    assert_eq!(store.get("d").await.unwrap(), Some(record(b"y", 2)));

    assert!(store.delete("d", Some(2)).await.unwrap());
    assert_eq!(store.get("d").await.unwrap(), None);
    assert!(!store.delete("d", Some(2)).await.unwrap());

    // A record created again starts over at version 1.
    assert_eq!(store.insert("d", b"z".to_vec()).await.unwrap(), 1);
    assert!(store.delete("d", None).await.unwrap());
}

async fn list_filters_by_prefix_in_key_order(store: Store) {
    let keys = [
        "a/2", "a/10", "a/1", "a/b", "a/Z", "a/é", "a", "a0", "ab", "b/1",
    ];
    for (i, key) in keys.iter().enumerate() {
        store.insert(key, vec![i as u8]).await.unwrap();
    }
    let listed = |entries: Vec<(String, Versioned)>| -> Vec<String> {
        entries.into_iter().map(|(key, _)| key).collect()
    };

    // Code-point order: digits < uppercase < lowercase < non-ASCII.
    let all_a = listed(store.list("a/", None, 100).await.unwrap());
    assert_eq!(all_a, ["a/1", "a/10", "a/2", "a/Z", "a/b", "a/é"]);

    let after = listed(store.list("a/", Some("a/2"), 100).await.unwrap());
    assert_eq!(after, ["a/Z", "a/b", "a/é"]);
    // `after` need not be an existing key.
    let after = listed(store.list("a/", Some("a/1z"), 2).await.unwrap());
    assert_eq!(after, ["a/2", "a/Z"]);

    let first_two = store.list("a/", None, 2).await.unwrap();
    assert_eq!(first_two[0].1, record(&[2], 1));
    assert_eq!(listed(first_two), ["a/1", "a/10"]);

    assert!(store.list("a/", None, 0).await.unwrap().is_empty());
    assert!(store.list("c/", None, 10).await.unwrap().is_empty());
    assert!(store.list("a/", Some("a/é"), 10).await.unwrap().is_empty());
    assert_eq!(store.list("", None, 100).await.unwrap().len(), keys.len());
}

async fn list_pages_through_a_prefix_and_caps_the_limit(store: Store) {
    let total = portability::MAX_LIST_LIMIT + 5;
    let writers: Vec<_> = (0..8)
        .map(|worker| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in (worker..total).step_by(8) {
                    store
                        .put(&format!("page/{i:05}"), Vec::new(), None)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    store.put("pagf", Vec::new(), None).await.unwrap();

    let capped = store.list("page/", None, usize::MAX).await.unwrap();
    assert_eq!(capped.len(), portability::MAX_LIST_LIMIT);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list("page/", after.as_deref(), 300).await.unwrap();
        let done = page.len() < 300;
        after = page.last().map(|(key, _)| key.clone());
        seen.extend(page.into_iter().map(|(key, _)| key));
        if done {
            break;
        }
    }
    let expected: Vec<String> = (0..total).map(|i| format!("page/{i:05}")).collect();
    assert_eq!(seen, expected);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Job {
    state: String,
    attempts: u32,
}

async fn json_helpers_round_trip_with_versions(store: Store) {
    let job = Job {
        state: "queued".into(),
        attempts: 0,
    };
    assert_eq!(store.insert_json("jobs/j", &job).await.unwrap(), 1);
    assert_eq!(
        store.get_json::<Job>("jobs/j").await.unwrap(),
        Some((job, 1))
    );

    let running = Job {
        state: "running".into(),
        attempts: 1,
    };
    assert_eq!(
        store.put_json("jobs/j", &running, Some(1)).await.unwrap(),
        2
    );
    conflict(store.put_json("jobs/j", &running, Some(1)).await);
    assert_eq!(
        store.get_json::<Job>("jobs/j").await.unwrap(),
        Some((running, 2))
    );
    assert_eq!(store.get_json::<Job>("jobs/none").await.unwrap(), None);

    store
        .put("jobs/bad", b"not json".to_vec(), None)
        .await
        .unwrap();
    assert!(matches!(
        store.get_json::<Job>("jobs/bad").await,
        Err(PortabilityError::Encoding(_))
    ));
}

async fn values_are_stored_byte_for_byte(store: Store) {
    let every_byte: Vec<u8> = (0..=255).collect();
    store.put("bytes", every_byte.clone(), None).await.unwrap();
    assert_eq!(
        store.get("bytes").await.unwrap(),
        Some(record(&every_byte, 1))
    );
    store.put("empty", Vec::new(), None).await.unwrap();
    assert_eq!(store.get("empty").await.unwrap(), Some(record(b"", 1)));
}

async fn invalid_keys_are_refused(store: Store) {
    for key in ["", "nul\0key"] {
        let invalid = |result: Result<_, PortabilityError>| {
            assert!(
                matches!(result, Err(PortabilityError::InvalidInput(_))),
                "{key:?}"
            );
        };
        invalid(store.get(key).await.map(drop));
        invalid(store.insert(key, Vec::new()).await.map(drop));
        invalid(store.put(key, Vec::new(), None).await.map(drop));
        invalid(store.delete(key, None).await.map(drop));
    }
}

/// Generates one test per contract function for a backend.
macro_rules! state_store_contract {
    ($backend:ident, $fixture:path) => {
        mod $backend {
            state_store_contract!(@tests $fixture;
                get_of_missing_key_is_none,
                insert_creates_version_1_and_refuses_an_existing_key,
                unconditional_put_upserts_and_bumps_the_version,
                compare_and_swap_succeeds_only_on_the_current_version,
                concurrent_compare_and_swap_has_exactly_one_winner,
                concurrent_unconditional_puts_each_get_their_own_version,
                delete_honours_the_expected_version,
                list_filters_by_prefix_in_key_order,
                list_pages_through_a_prefix_and_caps_the_limit,
                json_helpers_round_trip_with_versions,
                values_are_stored_byte_for_byte,
                invalid_keys_are_refused,
            );
        }
    };
    (@tests $fixture:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let fixture = $fixture().await;
                super::$test(std::sync::Arc::clone(&fixture.store)).await;
            }
        )*
    };
}

state_store_contract!(sqlite_file, crate::common::sqlite_file_state);
state_store_contract!(sqlite_memory, crate::common::sqlite_memory_state);
state_store_contract!(postgres, crate::common::postgres_state);

#[tokio::test]
async fn sqlite_file_records_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let store = portability::SqliteStateStore::open(&path).await.unwrap();
        store.insert("durable", b"yes".to_vec()).await.unwrap();
    }
    let store = portability::SqliteStateStore::open(&path).await.unwrap();
    assert_eq!(store.get("durable").await.unwrap(), Some(record(b"yes", 1)));
}

#[tokio::test]
async fn postgres_schemas_isolate_stores() {
    let first = common::postgres_state().await;
    let second = common::postgres_state().await;
    first
        .store
        .insert("shared/key", b"first".to_vec())
        .await
        .unwrap();
    assert_eq!(second.store.get("shared/key").await.unwrap(), None);
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_naming_the_server() {
    let result =
        portability::PostgresStateStore::connect("postgres://postgres@127.0.0.1:1/test", None)
            .await;
    match result {
        Err(PortabilityError::Unavailable { server, .. }) => {
            assert_eq!(server, "PostgreSQL at 127.0.0.1:1");
        }
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn open_state_store_reaches_postgres() {
    // Reuse a fixture's private schema through libpq's `options` URL parameter.
    let fixture = common::postgres_state().await;
    let common::Backend::Postgres { url, schema } = &fixture.backend else {
        unreachable!("postgres fixture")
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let store = portability::open_state_store(&url).await.unwrap();
    store.insert("opened", b"yes".to_vec()).await.unwrap();
    assert_eq!(
        fixture.store.get("opened").await.unwrap(),
        Some(record(b"yes", 1))
    );
}
