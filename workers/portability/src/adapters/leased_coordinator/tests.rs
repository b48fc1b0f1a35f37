//! Two or three replicas in one process over one SQLite store, forwarding to each other
//! directly: one owner per room, forwarding, handover on death (with the stale actor fenced
//! off), handover on resignation, restart under the same id, and alarms re-armed by the
//! replica that adopts a room. Real clock with short leases (the SQLite pool runs on its own
//! thread, so paused time would race its timeouts).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::adapters::actor_coordinator::Applied;
use crate::{SqliteStateStore, StateStore};

/// A counter room: `add:N` adds, `drop` deletes; while the count is odd an alarm (`tick`,
/// after 50 ms) adds 1. Every event names the replica that applied it.
struct Counter {
    replica: String,
}

fn count(state: Option<&[u8]>) -> u64 {
    state.map_or(0, |s| std::str::from_utf8(s).unwrap().parse().unwrap())
}

#[async_trait]
impl RoomLogic for Counter {
    async fn apply(&self, _room: &str, state: Option<&[u8]>, command: &[u8]) -> Result<Applied> {
        let now = count(state);
        let next = match std::str::from_utf8(command).unwrap() {
            "drop" => {
                return Ok(Applied {
                    state: None,
                    event: format!("dropped@{}", self.replica).into_bytes(),
                });
            }
            "tick" => now + 1,
            add => now + add.strip_prefix("add:").unwrap().parse::<u64>().unwrap(),
        };
        Ok(Applied {
            state: Some(next.to_string().into_bytes()),
            event: format!("{next}@{}", self.replica).into_bytes(),
        })
    }

    fn alarm_after(&self, state: Option<&[u8]>) -> Option<Duration> {
        (count(state) % 2 == 1).then_some(Duration::from_millis(50))
    }

    fn alarm_command(&self) -> Vec<u8> {
        b"tick".to_vec()
    }
}

/// Peers reached by calling their `apply_here` directly; a missing peer is unreachable.
#[derive(Default)]
struct Direct {
    peers: Mutex<HashMap<String, LeasedCoordinator<Counter>>>,
    forwarded: Mutex<usize>,
}

#[async_trait]
impl PeerTransport for Direct {
    async fn apply(
        &self,
        peer_url: &str,
        room_id: &str,
        command: Vec<u8>,
    ) -> std::result::Result<Vec<u8>, PeerError> {
        let peer = self.peers.lock().unwrap().get(peer_url).cloned();
        let Some(peer) = peer else {
            return Err(PeerError::Failed(PortabilityError::Unavailable {
                server: peer_url.into(),
                message: "connection refused".into(),
            }));
        };
        *self.forwarded.lock().unwrap() += 1;
        peer.apply_here(room_id, command).await
    }
}

const STATES: &str = "rooms/";
const LEASES: &str = "leases/";

fn fast(id: &str) -> ReplicaConfig {
    ReplicaConfig {
        id: id.into(),
        peer_url: format!("peer://{id}"),
        ttl: Duration::from_millis(600),
        renew_every: Duration::from_millis(150),
        scan_every: Duration::from_millis(150),
    }
}

async fn replica(
    store: &Arc<dyn StateStore>,
    net: &Arc<Direct>,
    config: ReplicaConfig,
) -> LeasedCoordinator<Counter> {
    let url = config.peer_url.clone();
    let logic = Arc::new(Counter {
        replica: config.id.clone(),
    });
    let coordinator =
        LeasedCoordinator::start(store.clone(), logic, STATES, LEASES, config, net.clone())
            .await
            .unwrap();
    net.peers.lock().unwrap().insert(url, coordinator.clone());
    coordinator
}

async fn store() -> Arc<dyn StateStore> {
    Arc::new(SqliteStateStore::open_in_memory().await.unwrap())
}

fn event(bytes: Vec<u8>) -> (u64, String) {
    let text = String::from_utf8(bytes).unwrap();
    let (n, who) = text.split_once('@').unwrap();
    (n.parse().unwrap_or(0), who.to_owned())
}

async fn lease_of(store: &Arc<dyn StateStore>, room: &str) -> Option<RoomLease> {
    store
        .get_json::<RoomLease>(&format!("{LEASES}room/{room}"))
        .await
        .unwrap()
        .map(|(lease, _)| lease)
}

async fn stored(store: &Arc<dyn StateStore>, room: &str) -> Option<u64> {
    store
        .get(&format!("{STATES}{room}"))
        .await
        .unwrap()
        .map(|r| count(Some(&r.value)))
}

/// Simulates a process that stops renewing (killed, or paused) while its actors live on.
fn stop_renewing(replica: &LeasedCoordinator<Counter>) {
    if let Some(task) = replica.maintenance.0.lock().unwrap().take() {
        task.abort();
    }
}

#[tokio::test]
async fn a_room_runs_on_one_replica_and_commands_sent_elsewhere_are_forwarded_in_order() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    let a = replica(&store, &net, ReplicaConfig::new("a", "peer://a")).await;
    let b = replica(&store, &net, ReplicaConfig::new("b", "peer://b")).await;

    let (n, who) = event(a.apply("r1", b"add:2".to_vec()).await.unwrap());
    assert_eq!((n, who.as_str()), (2, "a"));
    assert_eq!(lease_of(&store, "r1").await.unwrap().replica, "a");

    // 40 concurrent commands through both replicas: all applied by a, one at a time.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let via = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { event(via.apply("r1", b"add:2".to_vec()).await.unwrap()) })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        let (n, who) = task.await.unwrap();
        assert_eq!(who, "a", "every command runs where the room lives");
        seen.push(n);
    }
    seen.sort_unstable();
    assert_eq!(seen, (2..=41).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(stored(&store, "r1").await, Some(82));
    assert_eq!(*net.forwarded.lock().unwrap(), 20);
    assert!(a.runs("r1") && !b.runs("r1"));

    // A room first reached through b lives on b.
    let (_, who) = event(b.apply("r3", b"add:2".to_vec()).await.unwrap());
    assert_eq!(who, "b");
    assert!(b.runs("r3") && !a.runs("r3"));
}

#[tokio::test]
async fn a_dead_replicas_rooms_move_within_the_ttl_and_its_stale_actor_is_fenced_off() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    let a = replica(&store, &net, fast("a")).await;
    let b = replica(&store, &net, fast("b")).await;
    a.apply("r1", b"add:4".to_vec()).await.unwrap();
    assert!(a.runs("r1"));

    // a stops renewing but stays reachable with its actor open (a paused process).
    stop_renewing(&a);
    let started = Instant::now();
    loop {
        if b.runs("r1") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "b never took r1"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        lease_of(&store, "r1").await.unwrap(),
        RoomLease {
            replica: "b".into(),
            epoch: 2
        }
    );
    // b continues from a's last state.
    let (n, who) = event(b.apply("r1", b"add:2".to_vec()).await.unwrap());
    assert_eq!((n, who.as_str()), (6, "b"));

    // a, waking up, refuses to serve: its record expired.
    let refused = a.apply("r1", b"add:100".to_vec()).await.unwrap_err();
    assert!(
        matches!(refused, PortabilityError::Unavailable { .. }),
        "{refused}"
    );
    // Even its stale actor, driven directly, cannot overwrite the room: the fence made its
    // compare-and-swap fail and it stopped.
    let stale = a.core.inner.apply("r1", b"add:100".to_vec()).await;
    assert!(
        matches!(stale, Err(PortabilityError::Conflict { .. })),
        "{stale:?}"
    );
    assert!(!a.core.inner.is_open("r1"));
    assert_eq!(stored(&store, "r1").await, Some(6));
}

#[tokio::test]
async fn the_adopting_replica_rings_the_alarms_of_rooms_nobody_talks_to() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    let a = replica(&store, &net, fast("a")).await;
    let b = replica(&store, &net, fast("b")).await;
    // Odd counts ring after 50 ms; stop a before that by keeping the room even first.
    a.apply("quiet", b"add:2".to_vec()).await.unwrap();
    stop_renewing(&a);
    a.core.inner.close("quiet").await.unwrap();
    // The stored state is made odd behind everyone's back, as a's last write before death.
    let record = store.get("rooms/quiet").await.unwrap().unwrap();
    store
        .put("rooms/quiet", b"3".to_vec(), Some(record.version))
        .await
        .unwrap();

    let started = Instant::now();
    while stored(&store, "quiet").await != Some(4) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the alarm never rang on b"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(b.runs("quiet"));
}

#[tokio::test]
async fn a_resigning_replica_hands_its_rooms_over_at_once() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    // Long leases: only the resignation can explain a prompt handover.
    let a = replica(&store, &net, ReplicaConfig::new("a", "peer://a")).await;
    let b = replica(&store, &net, ReplicaConfig::new("b", "peer://b")).await;
    a.apply("r1", b"add:2".to_vec()).await.unwrap();
    a.resign().await;
    assert!(lease_of(&store, "r1").await.is_none());
    assert!(store.get("leases/replica/a").await.unwrap().is_none());
    let (n, who) = event(b.apply("r1", b"add:2".to_vec()).await.unwrap());
    assert_eq!((n, who.as_str()), (4, "b"));
    assert!(a.apply("r1", b"add:2".to_vec()).await.is_err());
}

#[tokio::test]
async fn a_restarted_replica_takes_its_rooms_back_and_a_live_duplicate_id_is_refused() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    let first = replica(&store, &net, fast("a")).await;
    first.apply("r1", b"add:2".to_vec()).await.unwrap();
    let _keep_peer_alive = replica(&store, &net, fast("b")).await;

    // A second live process with id a is refused once it sees the record renewed.
    let duplicate = LeasedCoordinator::start(
        store.clone(),
        Arc::new(Counter {
            replica: "a2".into(),
        }),
        STATES,
        LEASES,
        fast("a"),
        net.clone(),
    )
    .await;
    assert!(
        matches!(&duplicate, Err(PortabilityError::InvalidInput(m)) if m.contains("in use")),
        "{:?}",
        duplicate.err()
    );

    // Killed: no renewal, actors gone. The restart waits for the old record, then owns r1.
    stop_renewing(&first);
    drop(first);
    net.peers.lock().unwrap().remove("peer://a");
    let again = replica(&store, &net, fast("a")).await;
    assert!(again.runs("r1"));
    let (n, who) = event(again.apply("r1", b"add:2".to_vec()).await.unwrap());
    assert_eq!((n, who.as_str()), (4, "a"));
    assert_eq!(
        lease_of(&store, "r1").await.unwrap().epoch,
        1,
        "no takeover needed"
    );
}

#[tokio::test]
async fn an_ended_room_releases_its_lease_and_an_unreachable_owner_is_an_outage() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    let a = replica(&store, &net, fast("a")).await;
    let b = replica(&store, &net, fast("b")).await;
    a.apply("r1", b"add:2".to_vec()).await.unwrap();
    let (_, who) = event(b.apply("r1", b"drop".to_vec()).await.unwrap());
    assert_eq!(who, "a");
    let started = Instant::now();
    while lease_of(&store, "r1").await.is_some() {
        assert!(started.elapsed() < Duration::from_secs(5), "lease kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // a's process is unreachable but its record still live: b answers unavailable rather
    // than taking a room that may still be running.
    a.apply("r2", b"add:2".to_vec()).await.unwrap();
    net.peers.lock().unwrap().remove("peer://a");
    let outage = b.apply("r2", b"add:2".to_vec()).await.unwrap_err();
    assert!(
        matches!(outage, PortabilityError::Unavailable { .. }),
        "{outage}"
    );
}

#[tokio::test]
async fn prefixes_that_overlap_are_refused() {
    let store = store().await;
    let net = Arc::new(Direct::default());
    let refused = LeasedCoordinator::start(
        store,
        Arc::new(Counter {
            replica: "a".into(),
        }),
        "rooms/",
        "rooms/leases/",
        fast("a"),
        net,
    )
    .await;
    assert!(matches!(refused, Err(PortabilityError::InvalidInput(_))));
}
