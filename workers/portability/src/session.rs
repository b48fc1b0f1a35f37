//! `SessionCoordinator`: one writer per live room.
//!
//! Live rooms (voice rooms, duets) accept commands from many connections but must apply them
//! one at a time, in one place, like a Durable Object. The coordinator routes each command to
//! the single owner of the room and persists the room's state in a `StateStore`, so the room
//! survives a worker restart. Adapter: [`ActorCoordinator`](crate::ActorCoordinator).

use async_trait::async_trait;

use crate::error::Result;

/// Serializes the commands of each room through a single writer.
///
/// Commands and events are opaque bytes to the coordinator; their encoding belongs to the room
/// logic. Room ids follow the key rules of [`StateStore`](crate::state::StateStore)
/// (non-empty, no NUL), otherwise [`InvalidInput`](crate::PortabilityError::InvalidInput).
#[async_trait]
pub trait SessionCoordinator: Send + Sync {
    /// Makes `room_id` live: loads its persisted state, or creates an empty room. Idempotent:
    /// opening a room that is already open changes nothing.
    async fn open(&self, room_id: &str) -> Result<()>;

    /// Applies one command to the room and returns the event it produced.
    ///
    /// Commands to the same room are applied one at a time, in the order the coordinator
    /// receives them, each seeing the state left by the previous one; rooms are independent.
    /// The resulting state is persisted before this returns, so a returned event is never
    /// lost. A room that is not open is [`NotFound`](crate::PortabilityError::NotFound); a
    /// command the room logic rejects is
    /// [`InvalidInput`](crate::PortabilityError::InvalidInput) and leaves the state unchanged.
    /// Not idempotent: retrying applies the command again.
    async fn apply(&self, room_id: &str, command: Vec<u8>) -> Result<Vec<u8>>;

    /// Stops the room's writer after the commands already accepted have been applied, and
    /// keeps its persisted state. Idempotent: closing a room that is not open is `Ok`.
    async fn close(&self, room_id: &str) -> Result<()>;
}
