//! The actor adapter over a real SQLite store: order, persistence before the answer, reload
//! after a restart, rejected commands, and alarms (real clock: the SQLite pool runs on its own
//! thread, so tokio's paused time would race its acquire timeouts; the alarm here is 20 ms).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::SqliteStateStore;

/// A counter room: `add:N` adds, `fail` is refused, `drop` deletes; the alarm (`tick`, every
/// 20 ms while the count is odd) adds 1, so an odd count becomes even and stops ringing.
struct Counter;

fn count(state: Option<&[u8]>) -> u64 {
    state.map_or(0, |s| std::str::from_utf8(s).unwrap().parse().unwrap())
}

#[async_trait]
impl RoomLogic for Counter {
    async fn apply(&self, _room: &str, state: Option<&[u8]>, command: &[u8]) -> Result<Applied> {
        let command = std::str::from_utf8(command).unwrap();
        let now = count(state);
        let next = match command {
            "fail" => return Err(PortabilityError::InvalidInput("refused".into())),
            "drop" => {
                return Ok(Applied {
                    state: None,
                    event: b"dropped".to_vec(),
                });
            }
            "tick" => now + 1,
            add => {
                tokio::task::yield_now().await;
                now + add.strip_prefix("add:").unwrap().parse::<u64>().unwrap()
            }
        };
        Ok(Applied {
            state: Some(next.to_string().into_bytes()),
            event: next.to_string().into_bytes(),
        })
    }

    fn alarm_after(&self, state: Option<&[u8]>) -> Option<Duration> {
        (count(state) % 2 == 1).then_some(Duration::from_millis(20))
    }

    fn alarm_command(&self) -> Vec<u8> {
        b"tick".to_vec()
    }
}

async fn store() -> Arc<dyn StateStore> {
    Arc::new(SqliteStateStore::open_in_memory().await.unwrap())
}

async fn stored(store: &Arc<dyn StateStore>, key: &str) -> Option<u64> {
    store.get(key).await.unwrap().map(|r| count(Some(&r.value)))
}

#[tokio::test]
async fn concurrent_commands_apply_one_at_a_time_and_persist_before_answering() {
    let store = store().await;
    let rooms = ActorCoordinator::new(store.clone(), Arc::new(Counter), "rooms/");
    rooms.open("a").await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let rooms = rooms.clone();
            let store = store.clone();
            tokio::spawn(async move {
                let event = rooms.apply("a", b"add:2".to_vec()).await.unwrap();
                let seen: u64 = String::from_utf8(event).unwrap().parse().unwrap();
                // Persisted before the answer: the store holds at least this count.
                assert!(stored(&store, "rooms/a").await.unwrap() >= seen);
                seen
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (1..=50).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(stored(&store, "rooms/a").await, Some(100));
    assert_eq!(store.get("rooms/a").await.unwrap().unwrap().version, 50);
}

#[tokio::test]
async fn refused_commands_change_nothing_and_unopened_rooms_are_not_found() {
    let store = store().await;
    let rooms = ActorCoordinator::new(store.clone(), Arc::new(Counter), "rooms/");
    assert!(matches!(
        rooms.apply("a", b"add:2".to_vec()).await,
        Err(PortabilityError::NotFound { .. })
    ));
    rooms.open("a").await.unwrap();
    rooms.open("a").await.unwrap();
    rooms.apply("a", b"add:2".to_vec()).await.unwrap();
    assert!(matches!(
        rooms.apply("a", b"fail".to_vec()).await,
        Err(PortabilityError::InvalidInput(_))
    ));
    assert_eq!(rooms.apply("a", b"add:2".to_vec()).await.unwrap(), b"4");
    rooms.close("a").await.unwrap();
    rooms.close("a").await.unwrap();
    assert!(!rooms.is_open("a"));
    assert!(matches!(
        rooms.apply("a", b"add:2".to_vec()).await,
        Err(PortabilityError::NotFound { .. })
    ));
    assert_eq!(stored(&store, "rooms/a").await, Some(4));
    rooms.open("a").await.unwrap();
    assert_eq!(
        rooms.apply("a", b"drop".to_vec()).await.unwrap(),
        b"dropped"
    );
    assert_eq!(stored(&store, "rooms/a").await, None);
    // Deleting the record stopped the actor; the next open starts the room afresh.
    assert!(matches!(
        rooms.apply("a", b"add:2".to_vec()).await,
        Err(PortabilityError::NotFound { .. })
    ));
    rooms.open("a").await.unwrap();
    assert_eq!(rooms.apply("a", b"add:2".to_vec()).await.unwrap(), b"2");
}

#[tokio::test]
async fn an_actor_whose_record_was_written_elsewhere_stops_instead_of_overwriting_it() {
    let store = store().await;
    let rooms = ActorCoordinator::new(store.clone(), Arc::new(Counter), "rooms/");
    rooms.open("a").await.unwrap();
    rooms.apply("a", b"add:2".to_vec()).await.unwrap();
    // Another writer (a replica that took the room over) rewrites the record.
    let record = store.get("rooms/a").await.unwrap().unwrap();
    store
        .put("rooms/a", b"10".to_vec(), Some(record.version))
        .await
        .unwrap();
    assert!(matches!(
        rooms.apply("a", b"add:2".to_vec()).await,
        Err(PortabilityError::Conflict { .. })
    ));
    assert!(!rooms.is_open("a"));
    assert_eq!(stored(&store, "rooms/a").await, Some(10));
    // Reopened, it continues from the other writer's state.
    rooms.open("a").await.unwrap();
    assert_eq!(rooms.apply("a", b"add:2".to_vec()).await.unwrap(), b"12");
}

#[tokio::test]
async fn a_restarted_coordinator_reloads_rooms_and_rearms_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let store: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open(&path).await.unwrap());
        let rooms = ActorCoordinator::new(store, Arc::new(Counter), "rooms/");
        for room in ["a", "b"] {
            rooms.open(room).await.unwrap();
            rooms.apply(room, b"add:2".to_vec()).await.unwrap();
        }
        // Odd: the alarm would ring in 20 ms, but the process "dies" first.
        rooms.apply("b", b"add:1".to_vec()).await.unwrap();
        rooms.close("a").await.unwrap();
        rooms.close("b").await.unwrap();
    }
    let store: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open(&path).await.unwrap());
    let rooms = ActorCoordinator::new(store.clone(), Arc::new(Counter), "rooms/");
    assert_eq!(rooms.resume().await.unwrap(), 2);
    assert!(rooms.is_open("a") && rooms.is_open("b"));
    assert_eq!(rooms.apply("a", b"add:2".to_vec()).await.unwrap(), b"4");
    // The re-armed alarm turns b's 3 into 4, then stops (even).
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stored(&store, "rooms/b").await, Some(4));
}

#[tokio::test]
async fn alarms_ring_while_the_logic_asks_and_commands_reschedule_them() {
    let store = store().await;
    let rooms = ActorCoordinator::new(store.clone(), Arc::new(Counter), "rooms/");
    rooms.open("a").await.unwrap();
    rooms.apply("a", b"add:1".to_vec()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stored(&store, "rooms/a").await, Some(2));
    rooms.apply("a", b"add:3".to_vec()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stored(&store, "rooms/a").await, Some(6));
}

/// Always due, always failing: the alarm must not spin.
struct Broken(std::sync::atomic::AtomicUsize);

#[async_trait]
impl RoomLogic for Broken {
    async fn apply(&self, _room: &str, _state: Option<&[u8]>, command: &[u8]) -> Result<Applied> {
        if command == b"tick" {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(PortabilityError::InvalidInput("down".into()));
        }
        Ok(Applied {
            state: Some(b"1".to_vec()),
            event: Vec::new(),
        })
    }

    fn alarm_after(&self, state: Option<&[u8]>) -> Option<Duration> {
        state.map(|_| Duration::ZERO)
    }

    fn alarm_command(&self) -> Vec<u8> {
        b"tick".to_vec()
    }
}

#[tokio::test]
async fn a_failing_alarm_waits_before_ringing_again() {
    let logic = Arc::new(Broken(std::sync::atomic::AtomicUsize::new(0)));
    let rooms = ActorCoordinator::new(store().await, logic.clone(), "rooms/");
    rooms.open("a").await.unwrap();
    rooms.apply("a", b"set".to_vec()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(logic.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Its alarm rings at once and deletes the room.
struct Vanishing;

#[async_trait]
impl RoomLogic for Vanishing {
    async fn apply(&self, _room: &str, _state: Option<&[u8]>, command: &[u8]) -> Result<Applied> {
        Ok(Applied {
            state: (command != b"tick").then(|| b"1".to_vec()),
            event: command.to_vec(),
        })
    }

    fn alarm_after(&self, state: Option<&[u8]>) -> Option<Duration> {
        state.map(|_| Duration::ZERO)
    }

    fn alarm_command(&self) -> Vec<u8> {
        b"tick".to_vec()
    }
}

#[tokio::test]
async fn an_alarm_that_ends_the_room_stops_its_actor() {
    let store = store().await;
    let rooms = ActorCoordinator::new(store.clone(), Arc::new(Vanishing), "rooms/");
    rooms.open("a").await.unwrap();
    rooms.apply("a", b"set".to_vec()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!rooms.is_open("a"));
    assert!(store.get("rooms/a").await.unwrap().is_none());
    rooms.open("a").await.unwrap();
    assert_eq!(rooms.apply("a", b"again".to_vec()).await.unwrap(), b"again");
}
