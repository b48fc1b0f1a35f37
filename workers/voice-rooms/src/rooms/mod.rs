//! Free rooms (`/rooms/*`) and booked-session rooms (`/session/*`, `booked-<id>`) without
//! Durable Objects: each room is a [`FreeRoom`] run by its own actor
//! ([`portability::ActorCoordinator`], state in the [`StateStore`] under `rooms/`), the
//! discovery tables are [`RoomsDb`], money is the credits canister's (free rooms only).
//!
//! The HTTP handlers (`routes::rooms_*`) check the caller against the tables and forward to
//! the room with [`Rooms::call`], as the original's routes forwarded to the RoomDO.

pub mod agora;
pub mod ai_host;
mod alarm;
pub mod answer;
pub mod db;
pub mod import;
pub mod peers;
pub mod room;

use std::sync::Arc;

use portability::{
    LeasedCoordinator, PeerError, PortabilityError, ReplicaConfig, SessionCoordinator, StateStore,
};

pub use agora::AgoraKeys;
pub use ai_host::{AiHost, AiHostConfig};
pub use answer::{BookedJoinAnswer, CreditEvent, JoinAnswer, RoomAnswer};
pub use db::{RoomsDb, RoomsDbError};
pub use room::{FreeRoom, RoomCommand, RoomState};

use crate::credits::CreditsClient;
use crate::error::AppError;
use crate::state::Clock;

/// StateStore prefix of the room actors' records.
pub const ROOM_STATE_PREFIX: &str = "voice-rooms/room/";

/// StateStore prefix of the replicas' records and the room leases (docs/adr/0022).
pub const ROOM_LEASE_PREFIX: &str = "voice-rooms/lease/";

/// Who this process is among the service's replicas, and how it reaches the others.
pub struct Replication {
    /// This replica and its lease timings.
    pub replica: ReplicaConfig,
    /// How commands reach the replica running a room.
    pub peers: Arc<dyn portability::PeerTransport>,
}

impl Replication {
    /// The replica `settings` describe, reached by its peers at `peer_url` unless the settings
    /// name one (`auto` leaves it to the binary, which passes the address it found as
    /// `peer_url`), forwarding the commands of room family `kind` ([`peers::FREE_ROOMS`],
    /// [`peers::DUET_ROOMS`]) over HTTP with the shared secret.
    pub fn from_settings(
        settings: &crate::config::ReplicaSettings,
        peer_url: String,
        kind: &'static str,
    ) -> Self {
        let url = match settings.peer_url.as_deref() {
            Some("auto") | None => peer_url,
            Some(url) => url.to_owned(),
        };
        Self {
            replica: settings.replica_config(url),
            peers: Arc::new(peers::HttpPeers::new(settings.peer_secret.clone(), kind)),
        }
    }

    /// A lone replica named `id` with the default lease timings (tests, tools): nothing to
    /// forward to.
    pub fn single(id: &str) -> Self {
        Self {
            replica: ReplicaConfig::new(id, "http://127.0.0.1"),
            peers: Arc::new(peers::HttpPeers::new(None, peers::FREE_ROOMS)),
        }
    }
}

/// The free rooms: their actors and their tables.
#[derive(Clone)]
pub struct Rooms {
    coordinator: LeasedCoordinator<FreeRoom>,
    db: RoomsDb,
    ai: AiHost,
    clock: Clock,
}

impl Rooms {
    /// Starts the rooms over `store` (actor state and leases) and `db` (tables) as the replica
    /// `replication` describes (a single process is a replica too). The rooms this replica ran
    /// before a restart, and those of dead replicas, are reopened (their alarms re-armed). `ai`
    /// starts and stops the AI hosts of `ai_enabled` rooms.
    pub async fn start(
        store: Arc<dyn StateStore>,
        db: RoomsDb,
        credits: Arc<dyn CreditsClient>,
        clock: Clock,
        agora: AgoraKeys,
        ai: AiHost,
        replication: Replication,
    ) -> Result<Self, PortabilityError> {
        let logic = Arc::new(FreeRoom {
            credits,
            db: db.clone(),
            clock: clock.clone(),
            agora,
            ai: ai.clone(),
        });
        let coordinator = LeasedCoordinator::start(
            store,
            logic,
            ROOM_STATE_PREFIX,
            ROOM_LEASE_PREFIX,
            replication.replica,
            replication.peers,
        )
        .await?;
        let resumed = coordinator.rooms_here().len();
        if resumed > 0 {
            tracing::info!(resumed, "free rooms reloaded from the state store");
        }
        Ok(Self {
            coordinator,
            db,
            ai,
            clock,
        })
    }

    /// Applies a command another replica forwarded (the internal route): only if this
    /// replica runs the room; the caller looks again on [`PeerError::NotOwner`].
    pub async fn apply_forwarded(
        &self,
        room_id: &str,
        command: Vec<u8>,
    ) -> Result<Vec<u8>, PeerError> {
        self.coordinator.apply_here(room_id, command).await
    }

    /// Hands this replica's rooms to its peers (graceful stop, after the requests drained).
    pub async fn resign(&self) {
        self.coordinator.resign().await;
    }

    /// The room tables.
    pub fn db(&self) -> &RoomsDb {
        &self.db
    }

    /// Sends `command` to room `room_id` and waits for its answer (the room's state is
    /// persisted before it answers). A room that ended stops its actor.
    pub async fn call(&self, room_id: &str, command: RoomCommand) -> Result<RoomAnswer, AppError> {
        let bytes = serde_json::to_vec(&command).map_err(AppError::internal)?;
        let event = self.coordinator.apply(room_id, bytes).await?;
        let mut answer: RoomAnswer = serde_json::from_slice(&event).map_err(AppError::internal)?;
        if answer.ended {
            self.coordinator.close(room_id).await?;
        }
        if let Some(channel) = answer.start_agent.take() {
            self.spawn_agent_start(room_id, channel);
        }
        Ok(answer)
    }

    /// Starts the room's AI host in the background and reports the outcome to the room
    /// (which keeps the agent id, or stops the agent if the room ended meanwhile).
    fn spawn_agent_start(&self, room_id: &str, channel: String) {
        let rooms = self.clone();
        let room = room_id.to_owned();
        let now = self.clock.now();
        self.ai
            .tasks()
            .spawn(format!("start AI agent of room {room}"), async move {
                let agent_id = match rooms.ai.start(&channel, now).await {
                    Ok(id) => {
                        tracing::info!(%room, agent_id = %id, "AI agent started");
                        Some(id)
                    }
                    Err(err) => {
                        tracing::warn!(%room, %err, "AI agent start failed (the join stands)");
                        None
                    }
                };
                let command = RoomCommand::AgentStarted { agent_id };
                if let Err(err) = Box::pin(rooms.call(&room, command)).await {
                    tracing::warn!(%room, ?err, "AI agent outcome not recorded");
                }
            });
    }

    /// Rings the room's alarm now, as its timer would (operators and tests: the timer itself
    /// runs on tokio time, the metering on the service clock).
    pub async fn ring_alarm(&self, room_id: &str) -> Result<RoomAnswer, AppError> {
        self.call(room_id, RoomCommand::Alarm).await
    }

    /// Whether the room has a running actor on this replica (tests).
    pub fn is_live(&self, room_id: &str) -> bool {
        self.coordinator.runs(room_id)
    }
}
