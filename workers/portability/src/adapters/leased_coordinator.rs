//! [`LeasedCoordinator`]: the [`SessionCoordinator`] adapter for several worker replicas on one
//! shared [`StateStore`]. Each room runs on exactly one replica at a time, in that replica's
//! [`ActorCoordinator`]; the others forward its commands there through a [`PeerTransport`].
//!
//! Who runs a room is decided by records in the store (see [`lease`]): a room lease names the
//! replica, and a replica counts as alive while it keeps renewing its own record. A replica
//! that reaches a room whose replica is dead (or whose lease is missing) takes the room over
//! by compare-and-swap on the lease, then *fences* the room: it rewrites the room's state
//! record once, so a stale actor left on a paused replica fails its next write (the actor
//! adapter stops on a lost compare-and-swap) instead of overwriting newer state. A background
//! task renews this replica's record, lets go of rooms that ended, and adopts rooms left
//! behind by dead replicas, which re-arms their alarms within `ttl + scan_every` of the death.
//!
//! Correctness of a room's state rests on the compare-and-swap of its record, not on clocks:
//! two replicas that both believe they run a room cannot both write it. The clocks only decide
//! how fast a dead replica's rooms move (see [`ReplicaConfig`]).

mod lease;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use lease::{ReplicaRecord, RoomLease};

use self::lease::{LeaseKeys, ms_after, now_ms};
use crate::adapters::actor_coordinator::{ActorCoordinator, RoomLogic};
use crate::error::{PortabilityError, Result};
use crate::session::SessionCoordinator;
use crate::state::{StateStore, StateStoreJsonExt};

/// How many times a command chases a room whose ownership moves under it before giving up.
const MAX_ROUTE_ATTEMPTS: usize = 4;

/// This replica, as its peers see it, and the timings of its leases.
#[derive(Clone, Debug)]
pub struct ReplicaConfig {
    /// Unique among the replicas sharing the store, and stable across restarts of one replica
    /// (a restarted replica takes its rooms back at once). Two live processes with one id are
    /// refused at start.
    pub id: String,
    /// Base URL the other replicas forward room commands to.
    pub peer_url: String,
    /// How long a replica counts as alive after renewing its record.
    pub ttl: Duration,
    /// How often the record is renewed. A replica stops running rooms when `ttl -
    /// renew_every` has passed since its last renewal, before its peers may take them over.
    pub renew_every: Duration,
    /// How often dead replicas' rooms, and rooms without a lease, are looked for.
    pub scan_every: Duration,
}

impl ReplicaConfig {
    /// A replica with the default timings: alive 6 s after each renewal, renewed every 2 s,
    /// orphaned rooms looked for every 2 s.
    pub fn new(id: impl Into<String>, peer_url: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            peer_url: peer_url.into(),
            ttl: Duration::from_secs(6),
            renew_every: Duration::from_secs(2),
            scan_every: Duration::from_secs(2),
        }
    }
}

/// Why a forwarded command was not applied.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The peer does not run the room (any more): the sender looks the room up again.
    #[error("the peer does not run this room")]
    NotOwner,
    /// The peer could not be reached or failed the command.
    #[error(transparent)]
    Failed(#[from] PortabilityError),
}

/// Carries a room command to the replica that runs the room, which applies it with
/// [`LeasedCoordinator::apply_here`].
#[async_trait]
pub trait PeerTransport: Send + Sync {
    /// Applies `command` to `room_id` on the replica at `peer_url` and returns its event.
    async fn apply(
        &self,
        peer_url: &str,
        room_id: &str,
        command: Vec<u8>,
    ) -> std::result::Result<Vec<u8>, PeerError>;
}

/// Where a room runs.
enum Owner {
    Here,
    Peer(String),
}

/// Rooms over an [`ActorCoordinator`], each run by one replica at a time.
pub struct LeasedCoordinator<L: RoomLogic> {
    core: Core<L>,
    maintenance: Arc<Maintenance>,
}

impl<L: RoomLogic> Clone for LeasedCoordinator<L> {
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
            maintenance: self.maintenance.clone(),
        }
    }
}

/// Stops the background task when the last handle on the coordinator goes.
struct Maintenance(Mutex<Option<JoinHandle<()>>>);

impl Drop for Maintenance {
    fn drop(&mut self) {
        if let Some(task) = self.0.lock().expect("maintenance lock").take() {
            task.abort();
        }
    }
}

/// The coordinator without its [`Maintenance`] handle: what the background task holds, so
/// it does not keep itself alive.
struct Core<L: RoomLogic> {
    inner: ActorCoordinator<L>,
    shared: Arc<Shared>,
}

impl<L: RoomLogic> Clone for Core<L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

struct Shared {
    store: Arc<dyn StateStore>,
    keys: LeaseKeys,
    state_prefix: String,
    config: ReplicaConfig,
    transport: Arc<dyn PeerTransport>,
    incarnation: String,
    heartbeat: Mutex<Heartbeat>,
    /// Rooms this replica runs, with their lease record's version.
    owned: Mutex<HashMap<String, u64>>,
    /// Other replicas' records, as last read (only used to forward; taking a room over
    /// always reads afresh).
    peers: Mutex<HashMap<String, (ReplicaRecord, Instant)>>,
}

struct Heartbeat {
    version: u64,
    expires_ms: u64,
    /// Another process took this replica's record, or this one resigned: it runs nothing.
    fenced: bool,
}

impl<L: RoomLogic> LeasedCoordinator<L> {
    /// Registers this replica in `store` (waiting for a previous incarnation of the same id to
    /// expire, at most `ttl`), adopts its rooms and those of dead replicas, and starts the
    /// background task. Room states live at `<state_prefix><room>`, lease records under
    /// `lease_prefix`.
    pub async fn start(
        store: Arc<dyn StateStore>,
        logic: Arc<L>,
        state_prefix: &str,
        lease_prefix: &str,
        config: ReplicaConfig,
        transport: Arc<dyn PeerTransport>,
    ) -> Result<Self> {
        crate::state::validate_key(&config.id)?;
        if lease_prefix.starts_with(state_prefix) || state_prefix.starts_with(lease_prefix) {
            return Err(PortabilityError::InvalidInput(
                "room states and room leases need prefixes that do not contain each other".into(),
            ));
        }
        if config.renew_every >= config.ttl {
            return Err(PortabilityError::InvalidInput(
                "the lease renewal interval must be shorter than its ttl".into(),
            ));
        }
        let keys = LeaseKeys::new(lease_prefix);
        let incarnation = random_incarnation();
        let heartbeat = register(store.as_ref(), &keys, &config, &incarnation).await?;
        let core = Core {
            inner: ActorCoordinator::new(store.clone(), logic, state_prefix),
            shared: Arc::new(Shared {
                store,
                keys,
                state_prefix: state_prefix.to_owned(),
                config,
                transport,
                incarnation,
                heartbeat: Mutex::new(heartbeat),
                owned: Mutex::new(HashMap::new()),
                peers: Mutex::new(HashMap::new()),
            }),
        };
        let adopted = core.scan().await?;
        if adopted > 0 {
            tracing::info!(adopted, replica = %core.shared.config.id, "rooms adopted at start");
        }
        let task = tokio::spawn(core.clone().maintain());
        Ok(Self {
            core,
            maintenance: Arc::new(Maintenance(Mutex::new(Some(task)))),
        })
    }

    /// This replica's id.
    pub fn replica_id(&self) -> &str {
        &self.core.shared.config.id
    }

    /// Applies a command forwarded by a peer: only if this replica runs the room (or may take
    /// it, when nobody live does); never forwards again.
    pub async fn apply_here(
        &self,
        room_id: &str,
        command: Vec<u8>,
    ) -> std::result::Result<Vec<u8>, PeerError> {
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            match self.core.locate(room_id).await? {
                Owner::Peer(_) => return Err(PeerError::NotOwner),
                Owner::Here => match self.core.apply_local(room_id, command.clone()).await {
                    Err(PortabilityError::Conflict { .. }) => self.core.forget(room_id).await,
                    other => return Ok(other?),
                },
            }
        }
        Err(PeerError::NotOwner)
    }

    /// Whether this replica runs `room_id` now (its actor is open).
    pub fn runs(&self, room_id: &str) -> bool {
        self.core.owned().contains_key(room_id) && self.core.inner.is_open(room_id)
    }

    /// Rooms this replica holds the lease of.
    pub fn rooms_here(&self) -> Vec<String> {
        self.core.owned().keys().cloned().collect()
    }

    /// Hands every room over and leaves: stops the background task, lets each room's actor
    /// finish the commands it accepted, deletes its leases and this replica's record, so the
    /// peers take the rooms at once instead of after `ttl`. Later commands answer
    /// unavailable.
    pub async fn resign(&self) {
        if let Some(task) = self.maintenance.0.lock().expect("maintenance lock").take() {
            task.abort();
        }
        let shared = &self.core.shared;
        let version = {
            let mut heartbeat = shared.heartbeat.lock().expect("heartbeat lock");
            heartbeat.fenced = true;
            heartbeat.version
        };
        let owned: Vec<(String, u64)> = self.core.owned().drain().collect();
        for (room, lease_version) in owned {
            let _ = self.core.inner.close(&room).await;
            if let Err(err) = shared
                .store
                .delete(&shared.keys.room(&room), Some(lease_version))
                .await
            {
                tracing::warn!(%room, %err, "room lease not released");
            }
        }
        let key = shared.keys.replica(&shared.config.id);
        if let Err(err) = shared.store.delete(&key, Some(version)).await {
            tracing::warn!(%err, "replica record not removed (peers wait for its expiry)");
        }
        tracing::info!(replica = %shared.config.id, "resigned: rooms handed over");
    }
}

#[async_trait]
impl<L: RoomLogic> SessionCoordinator for LeasedCoordinator<L> {
    /// Makes the room live on the replica that runs it (this one when nobody live does).
    async fn open(&self, room_id: &str) -> Result<()> {
        self.core.locate(room_id).await.map(|_| ())
    }

    async fn apply(&self, room_id: &str, command: Vec<u8>) -> Result<Vec<u8>> {
        let core = &self.core;
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            match core.locate(room_id).await? {
                Owner::Here => match core.apply_local(room_id, command.clone()).await {
                    // Our copy was stale: the room moved. Look it up again.
                    Err(PortabilityError::Conflict { .. }) => core.forget(room_id).await,
                    other => return other,
                },
                Owner::Peer(url) => {
                    let sent = core.shared.transport.apply(&url, room_id, command.clone());
                    match sent.await {
                        Ok(event) => return Ok(event),
                        Err(PeerError::NotOwner) => core.shared.forget_peers(),
                        Err(PeerError::Failed(err)) => return Err(err),
                    }
                }
            }
        }
        Err(moving(room_id))
    }

    /// Stops the room's actor here and releases its lease; a room run elsewhere is left alone.
    async fn close(&self, room_id: &str) -> Result<()> {
        let version = self.core.owned().remove(room_id);
        self.core.inner.close(room_id).await?;
        if let Some(version) = version {
            let key = self.core.shared.keys.room(room_id);
            match self.core.shared.store.delete(&key, Some(version)).await {
                Ok(_) | Err(PortabilityError::Conflict { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

impl<L: RoomLogic> Core<L> {
    fn owned(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.shared.owned.lock().expect("owned lock")
    }

    /// Finds who runs `room_id`, taking it when nobody live does.
    async fn locate(&self, room_id: &str) -> Result<Owner> {
        self.shared.ensure_live()?;
        if self.owned().contains_key(room_id) {
            return Ok(Owner::Here);
        }
        crate::state::validate_key(room_id)?;
        let key = self.shared.keys.room(room_id);
        let me = &self.shared.config.id;
        for _ in 0..MAX_ROUTE_ATTEMPTS {
            let taken = match self.shared.store.get_json::<RoomLease>(&key).await? {
                None => {
                    let lease = RoomLease {
                        replica: me.clone(),
                        epoch: 1,
                    };
                    self.shared.store.insert_json(&key, &lease).await
                }
                Some((lease, version)) if &lease.replica == me => {
                    self.adopt(room_id, version, false).await?;
                    return Ok(Owner::Here);
                }
                Some((lease, version)) => {
                    if let Some(url) = self.shared.live_peer(&lease.replica).await? {
                        return Ok(Owner::Peer(url));
                    }
                    let next = RoomLease {
                        replica: me.clone(),
                        epoch: lease.epoch + 1,
                    };
                    tracing::info!(room = room_id, from = %lease.replica, epoch = next.epoch, "taking over a room from a dead replica");
                    self.shared.store.put_json(&key, &next, Some(version)).await
                }
            };
            match taken {
                Ok(version) => {
                    self.adopt(room_id, version, true).await?;
                    return Ok(Owner::Here);
                }
                // Another replica took it first: look again.
                Err(PortabilityError::Conflict { .. }) => continue,
                Err(err) => return Err(err),
            }
        }
        Err(moving(room_id))
    }

    /// Starts running `room_id` under the lease at `version`. `fence`: the room may have run
    /// elsewhere until now, so any actor of it here is dropped and its record rewritten.
    async fn adopt(&self, room_id: &str, version: u64, fence: bool) -> Result<()> {
        if fence {
            self.inner.close(room_id).await?;
            fence_record(self.shared.store.as_ref(), &self.state_key(room_id)).await?;
        }
        self.owned().insert(room_id.to_owned(), version);
        self.inner.open(room_id).await
    }

    fn state_key(&self, room_id: &str) -> String {
        format!("{}{room_id}", self.shared.state_prefix)
    }

    /// Stops running `room_id` here (its record was written by another replica).
    async fn forget(&self, room_id: &str) {
        self.owned().remove(room_id);
        let _ = self.inner.close(room_id).await;
    }

    async fn apply_local(&self, room_id: &str, command: Vec<u8>) -> Result<Vec<u8>> {
        let mut attempts = 0;
        loop {
            self.inner.open(room_id).await?;
            match self.inner.apply(room_id, command.clone()).await {
                // The actor stopped between open and apply (its room ended): open it again.
                Err(PortabilityError::NotFound { .. }) if attempts < 3 => attempts += 1,
                other => return other,
            }
        }
    }

    async fn maintain(self) {
        let mut last_scan = Instant::now();
        loop {
            tokio::time::sleep(self.shared.config.renew_every).await;
            if !self.renew().await {
                return;
            }
            self.release_stopped().await;
            if last_scan.elapsed() >= self.shared.config.scan_every {
                last_scan = Instant::now();
                match self.scan().await {
                    Ok(0) => {}
                    Ok(adopted) => tracing::info!(adopted, "rooms adopted from dead replicas"),
                    Err(err) => tracing::warn!(%err, "room lease scan failed"),
                }
            }
        }
    }

    /// Renews this replica's record. `false` when another process took it: this replica
    /// runs nothing any more.
    async fn renew(&self) -> bool {
        let shared = &self.shared;
        let (version, previous_expiry) = {
            let heartbeat = shared.heartbeat.lock().expect("heartbeat lock");
            (heartbeat.version, heartbeat.expires_ms)
        };
        let now = now_ms();
        let record = ReplicaRecord {
            peer_url: shared.config.peer_url.clone(),
            incarnation: shared.incarnation.clone(),
            expires_ms: ms_after(now, shared.config.ttl),
        };
        let key = shared.keys.replica(&shared.config.id);
        match shared.store.put_json(&key, &record, Some(version)).await {
            Ok(version) => {
                if now >= previous_expiry {
                    // Peers may have taken rooms while this replica counted as dead: run
                    // none until each is looked up again.
                    tracing::warn!("replica record had expired: rooms are looked up again");
                    self.drop_all().await;
                }
                let mut heartbeat = shared.heartbeat.lock().expect("heartbeat lock");
                heartbeat.version = version;
                heartbeat.expires_ms = record.expires_ms;
                true
            }
            Err(PortabilityError::Conflict { .. }) => {
                tracing::error!(replica = %shared.config.id, "another process took this replica's record: it stops running rooms");
                shared.heartbeat.lock().expect("heartbeat lock").fenced = true;
                self.drop_all().await;
                false
            }
            Err(err) => {
                tracing::warn!(%err, "replica record not renewed");
                true
            }
        }
    }

    async fn drop_all(&self) {
        let rooms: Vec<String> = self.owned().drain().map(|(room, _)| room).collect();
        for room in rooms {
            let _ = self.inner.close(&room).await;
        }
    }

    /// Rooms whose actor stopped: released when their state is gone (the room ended),
    /// forgotten when another replica holds the lease now, reopened otherwise.
    async fn release_stopped(&self) {
        let stopped: Vec<(String, u64)> = self
            .owned()
            .iter()
            .filter(|(room, _)| !self.inner.is_open(room))
            .map(|(room, version)| (room.clone(), *version))
            .collect();
        for (room, version) in stopped {
            if let Err(err) = self.settle_stopped(&room, version).await {
                tracing::warn!(%room, %err, "stopped room not settled (tried again later)");
            }
        }
    }

    async fn settle_stopped(&self, room: &str, version: u64) -> Result<()> {
        let store = &self.shared.store;
        let lease_key = self.shared.keys.room(room);
        let still_mine = matches!(store.get(&lease_key).await?, Some(r) if r.version == version);
        if !still_mine {
            self.owned().remove(room);
            return Ok(());
        }
        if store.get(&self.state_key(room)).await?.is_some() {
            return self.inner.open(room).await;
        }
        self.owned().remove(room);
        match store.delete(&lease_key, Some(version)).await {
            Ok(_) | Err(PortabilityError::Conflict { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Adopts the rooms this replica's id holds (after a restart), the rooms of dead replicas
    /// and the rooms with state but no lease. Returns how many it adopted.
    async fn scan(&self) -> Result<usize> {
        let shared = &self.shared;
        let me = &shared.config.id;
        let room_prefix = shared.keys.room_prefix();
        let mut leased = HashSet::new();
        let mut dead: HashMap<String, bool> = HashMap::new();
        let mut adopted = 0;
        for (key, value, version) in list_all(shared.store.as_ref(), &room_prefix).await? {
            let room = key[room_prefix.len()..].to_owned();
            leased.insert(room.clone());
            let Ok(lease) = serde_json::from_slice::<RoomLease>(&value) else {
                tracing::warn!(%key, "unreadable room lease left alone");
                continue;
            };
            if &lease.replica == me {
                if !self.owned().contains_key(&room) {
                    self.adopt(&room, version, false).await?;
                    adopted += 1;
                }
                continue;
            }
            let is_dead = match dead.get(&lease.replica) {
                Some(is_dead) => *is_dead,
                None => {
                    let is_dead = shared.read_peer(&lease.replica).await?.is_none();
                    dead.insert(lease.replica.clone(), is_dead);
                    is_dead
                }
            };
            if !is_dead {
                continue;
            }
            if shared.store.get(&self.state_key(&room)).await?.is_none() {
                // The room ended with its replica: drop the lease.
                let _ = shared.store.delete(&key, Some(version)).await;
                continue;
            }
            let next = RoomLease {
                replica: me.clone(),
                epoch: lease.epoch + 1,
            };
            match shared.store.put_json(&key, &next, Some(version)).await {
                Ok(version) => {
                    tracing::info!(%room, from = %lease.replica, epoch = next.epoch, "adopted a dead replica's room");
                    self.adopt(&room, version, true).await?;
                    adopted += 1;
                }
                Err(PortabilityError::Conflict { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        for (key, _, _) in list_all(shared.store.as_ref(), &shared.state_prefix).await? {
            let room = &key[shared.state_prefix.len()..];
            if leased.contains(room) {
                continue;
            }
            let lease = RoomLease {
                replica: me.clone(),
                epoch: 1,
            };
            match shared
                .store
                .insert_json(&shared.keys.room(room), &lease)
                .await
            {
                Ok(version) => {
                    self.adopt(room, version, true).await?;
                    adopted += 1;
                }
                Err(PortabilityError::Conflict { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(adopted)
    }
}

impl Shared {
    /// Refuses to run or route rooms when this replica may already count as dead to its peers.
    fn ensure_live(&self) -> Result<()> {
        let heartbeat = self.heartbeat.lock().expect("heartbeat lock");
        let margin = u64::try_from(self.config.renew_every.as_millis()).unwrap_or(u64::MAX);
        if heartbeat.fenced || now_ms() >= heartbeat.expires_ms.saturating_sub(margin) {
            return Err(PortabilityError::Unavailable {
                server: format!("room leases of replica {}", self.config.id),
                message: "this replica's record is not renewed; rooms are not served here".into(),
            });
        }
        Ok(())
    }

    /// The peer URL of `replica` if it is alive. A cached record serves while it is fresh
    /// and alive; anything else is read again, so a room is never taken on a stale reading.
    async fn live_peer(&self, replica: &str) -> Result<Option<String>> {
        let cached = self
            .peers
            .lock()
            .expect("peers lock")
            .get(replica)
            .filter(|(record, read)| {
                read.elapsed() < self.config.renew_every && record.is_live(now_ms())
            })
            .map(|(record, _)| record.peer_url.clone());
        if cached.is_some() {
            return Ok(cached);
        }
        Ok(self.read_peer(replica).await?.map(|record| record.peer_url))
    }

    /// Reads `replica`'s record afresh; `None` when it is missing or expired.
    async fn read_peer(&self, replica: &str) -> Result<Option<ReplicaRecord>> {
        let key = self.keys.replica(replica);
        let record = match self.store.get_json::<ReplicaRecord>(&key).await {
            Ok(found) => found.map(|(record, _)| record),
            Err(PortabilityError::Encoding(err)) => {
                tracing::warn!(%key, %err, "unreadable replica record counts as dead");
                None
            }
            Err(err) => return Err(err),
        };
        let mut peers = self.peers.lock().expect("peers lock");
        match record.filter(|r| r.is_live(now_ms())) {
            Some(record) => {
                peers.insert(replica.to_owned(), (record.clone(), Instant::now()));
                Ok(Some(record))
            }
            None => {
                peers.remove(replica);
                Ok(None)
            }
        }
    }

    fn forget_peers(&self) {
        self.peers.lock().expect("peers lock").clear();
    }
}

/// Writes this replica's record, after the previous incarnation of the same id (a crashed
/// process) has expired. A record renewed meanwhile belongs to a live process: refused.
async fn register(
    store: &dyn StateStore,
    keys: &LeaseKeys,
    config: &ReplicaConfig,
    incarnation: &str,
) -> Result<Heartbeat> {
    let key = keys.replica(&config.id);
    let mut first_seen: Option<u64> = None;
    loop {
        let now = now_ms();
        let record = ReplicaRecord {
            peer_url: config.peer_url.clone(),
            incarnation: incarnation.to_owned(),
            expires_ms: ms_after(now, config.ttl),
        };
        let written = match store.get(&key).await? {
            None => store.insert_json(&key, &record).await,
            Some(stored) => match serde_json::from_slice::<ReplicaRecord>(&stored.value) {
                Ok(previous) if previous.is_live(now) => {
                    if first_seen.is_some_and(|seen| seen != stored.version) {
                        return Err(PortabilityError::InvalidInput(format!(
                            "replica id {:?} is in use by a live process (peer URL {})",
                            config.id, previous.peer_url
                        )));
                    }
                    first_seen = Some(stored.version);
                    let left = Duration::from_millis(previous.expires_ms - now + 1);
                    tracing::info!(replica = %config.id, wait_ms = left.as_millis() as u64, "waiting for this replica's previous run to expire");
                    tokio::time::sleep(left.min(config.renew_every)).await;
                    continue;
                }
                // Expired, or unreadable: ours now.
                _ => store.put_json(&key, &record, Some(stored.version)).await,
            },
        };
        match written {
            Ok(version) => {
                return Ok(Heartbeat {
                    version,
                    expires_ms: record.expires_ms,
                    fenced: false,
                });
            }
            Err(PortabilityError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Rewrites the room's record unchanged, raising its version, so a stale actor elsewhere
/// loses its next compare-and-swap. A room without a record needs no fence.
async fn fence_record(store: &dyn StateStore, key: &str) -> Result<()> {
    for _ in 0..MAX_ROUTE_ATTEMPTS {
        let Some(record) = store.get(key).await? else {
            return Ok(());
        };
        match store.put(key, record.value, Some(record.version)).await {
            Ok(_) => return Ok(()),
            Err(PortabilityError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(moving(key))
}

/// Every record under `prefix`, page by page.
async fn list_all(store: &dyn StateStore, prefix: &str) -> Result<Vec<(String, Vec<u8>, u64)>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list(prefix, after.as_deref(), crate::MAX_LIST_LIMIT)
            .await?;
        let full = page.len() >= crate::MAX_LIST_LIMIT;
        after = page.last().map(|(key, _)| key.clone());
        out.extend(
            page.into_iter()
                .map(|(key, record)| (key, record.value, record.version)),
        );
        if !full {
            return Ok(out);
        }
    }
}

fn moving(room: &str) -> PortabilityError {
    PortabilityError::Unavailable {
        server: "room leases".into(),
        message: format!("ownership of {room} kept changing; try again"),
    }
}

fn random_incarnation() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Unique enough to tell two starts of one replica apart: process id, time and the
    // randomly keyed std hasher.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(now_ms());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests;
