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
pub mod room;

use std::sync::Arc;

use portability::{ActorCoordinator, PortabilityError, SessionCoordinator, StateStore};

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

/// The free rooms: their actors and their tables.
#[derive(Clone)]
pub struct Rooms {
    coordinator: ActorCoordinator<FreeRoom>,
    db: RoomsDb,
    ai: AiHost,
    clock: Clock,
}

impl Rooms {
    /// Starts the rooms over `store` (actor state) and `db` (tables), and reopens every room
    /// persisted before a restart (their alarms are re-armed). `ai` starts and stops the AI
    /// hosts of `ai_enabled` rooms.
    pub async fn start(
        store: Arc<dyn StateStore>,
        db: RoomsDb,
        credits: Arc<dyn CreditsClient>,
        clock: Clock,
        agora: AgoraKeys,
        ai: AiHost,
    ) -> Result<Self, PortabilityError> {
        let logic = Arc::new(FreeRoom {
            credits,
            db: db.clone(),
            clock: clock.clone(),
            agora,
            ai: ai.clone(),
        });
        let coordinator = ActorCoordinator::new(store, logic, ROOM_STATE_PREFIX);
        let resumed = coordinator.resume().await?;
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

    /// The room tables.
    pub fn db(&self) -> &RoomsDb {
        &self.db
    }

    /// Sends `command` to room `room_id` and waits for its answer (the room's state is
    /// persisted before it answers). A room that ended stops its actor.
    pub async fn call(&self, room_id: &str, command: RoomCommand) -> Result<RoomAnswer, AppError> {
        let bytes = serde_json::to_vec(&command).map_err(AppError::internal)?;
        let mut attempts = 0;
        let event = loop {
            self.coordinator.open(room_id).await?;
            match self.coordinator.apply(room_id, bytes.clone()).await {
                // The actor stopped between open and apply (its room ended): open it again.
                Err(PortabilityError::NotFound { .. }) if attempts < 3 => attempts += 1,
                other => break other?,
            }
        };
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

    /// Whether the room has a running actor (tests).
    pub fn is_live(&self, room_id: &str) -> bool {
        self.coordinator.is_open(room_id)
    }
}
