//! Duet rooms (`/duet/*`, contract §1.6 and §4) without Durable Objects: each room is a
//! [`DuetRoom`] run by its own actor on one replica ([`portability::LeasedCoordinator`], as the
//! free rooms: docs/adr/0022; state in the
//! [`StateStore`] under [`DUET_STATE_PREFIX`]); the discovery index is the `duet_rooms` table of
//! [`RoomsDb`]; the money (settlement markers, entitlements, replay tokens) is the credits
//! canister's, reached through [`CreditsClient`]; payments are settled by [`entry`] outside the
//! actor (claim → facilitator → commit, §9).

pub mod body;
mod broadcast;
pub mod checkout;
pub mod command;
pub mod entry;
pub mod meta;
pub mod pages;
mod replay;
pub mod rights;
pub mod room;
mod settlement;
pub mod x402;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portability::{LeasedCoordinator, PeerError, PortabilityError, SessionCoordinator, StateStore};

pub use room::{DuetAnswer, DuetCommand, DuetRoom, EnterQuote, InitRoom};
pub use x402::FacilitatorConfig;

use crate::credits::CreditsClient;
use crate::error::AppError;
use crate::rooms::{AgoraKeys, RoomsDb};
use crate::state::Clock;

/// StateStore prefix of the duet actors' records.
pub const DUET_STATE_PREFIX: &str = "voice-rooms/duet/";

/// StateStore prefix of the duet rooms' leases and replica records.
pub const DUET_LEASE_PREFIX: &str = "voice-rooms/duet-lease/";

/// What the duet rooms need, handed in by the binary.
#[derive(Clone)]
pub struct DuetSettings {
    /// Agora keys (tokens are empty strings without them).
    pub agora: AgoraKeys,
    /// The facilitator.
    pub facilitator: FacilitatorConfig,
    /// `JWT_SECRET`, which also keys the segment checkout tokens.
    pub checkout_secret: String,
}

/// The duet rooms: their actors, the discovery index and the payment path.
#[derive(Clone)]
pub struct DuetRooms {
    coordinator: LeasedCoordinator<DuetRoom>,
    db: RoomsDb,
    credits: Arc<dyn CreditsClient>,
    settings: Arc<DuetSettings>,
    http: reqwest::Client,
    clock: Clock,
    store: Arc<dyn StateStore>,
    signature_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl DuetRooms {
    /// Starts the duet rooms over `store` (actor state and leases) and `db` (index) as the
    /// replica `replication` describes (its peers reached on the `duet` family's path),
    /// reopening this replica's rooms and those of dead replicas.
    pub async fn start(
        store: Arc<dyn StateStore>,
        db: RoomsDb,
        credits: Arc<dyn CreditsClient>,
        clock: Clock,
        settings: DuetSettings,
        replication: crate::rooms::Replication,
    ) -> Result<Self, PortabilityError> {
        let logic = Arc::new(DuetRoom {
            agora: settings.agora.clone(),
            clock: clock.clone(),
        });
        let coordinator = LeasedCoordinator::start(
            store.clone(),
            logic,
            DUET_STATE_PREFIX,
            DUET_LEASE_PREFIX,
            replication.replica,
            replication.peers,
        )
        .await?;
        let resumed = coordinator.rooms_here().len();
        if resumed > 0 {
            tracing::info!(resumed, "duet rooms reloaded from the state store");
        }
        Ok(Self {
            coordinator,
            db,
            credits,
            settings: Arc::new(settings),
            http: reqwest::Client::new(),
            clock,
            store,
            signature_locks: Arc::default(),
        })
    }

    /// The discovery index.
    pub fn db(&self) -> &RoomsDb {
        &self.db
    }

    /// The credits canister.
    pub fn credits(&self) -> &dyn CreditsClient {
        self.credits.as_ref()
    }

    /// Settings.
    pub fn settings(&self) -> &DuetSettings {
        &self.settings
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Whether `room_id` can name a room at all (the canister's key rules: 1 to 128 bytes, no
    /// `|`, no NUL). Other ids answer 404 `room_not_found` without starting an actor.
    pub fn valid_id(room_id: &str) -> bool {
        !room_id.is_empty() && room_id.len() <= 128 && !room_id.contains(['|', '\0'])
    }

    /// Sends `command` to room `room_id` and waits for its answer (persisted before it
    /// answers). An id with no room stops its actor again.
    pub async fn call(&self, room_id: &str, command: DuetCommand) -> Result<DuetAnswer, AppError> {
        if !Self::valid_id(room_id) {
            return Ok(DuetAnswer {
                status: 404,
                body: body::error("room_not_found"),
                quote: None,
                absent: true,
            });
        }
        let bytes = serde_json::to_vec(&command).map_err(AppError::internal)?;
        let event = self.coordinator.apply(room_id, bytes).await?;
        let answer: DuetAnswer = serde_json::from_slice(&event).map_err(AppError::internal)?;
        if answer.absent {
            self.coordinator.close(room_id).await?;
        }
        Ok(answer)
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

    /// Hands this replica's duet rooms to its peers (graceful stop, after requests drained).
    pub async fn resign(&self) {
        self.coordinator.resign().await;
    }

    /// The lock serialising requests that carry the same payment signature in this process
    /// (other processes are held off by the canister's pending marker).
    pub(crate) fn signature_lock(&self, hash: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.signature_locks.lock().expect("signature locks");
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(hash.to_owned()).or_default().clone()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }
}
