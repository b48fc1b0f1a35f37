//! [`ActorCoordinator`]: the [`SessionCoordinator`] adapter for one worker process — one tokio
//! task per open room applies that room's commands one at a time and writes the room's state to
//! a [`StateStore`] (compare-and-swap on the record's version) before it answers.
//!
//! What a command does is the [`RoomLogic`]'s business; the actor only orders, persists and
//! wakes the room when the logic asks for an alarm. A step that deletes the room's persisted
//! state stops its actor (the next `open` starts a fresh one), and so does a write that loses
//! its compare-and-swap: another writer (a replica that took the room over) owns the record
//! now, and this actor's copy is stale. After a restart, [`ActorCoordinator::resume`] reopens
//! every persisted room and re-arms its alarm.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::error::{PortabilityError, Result};
use crate::session::SessionCoordinator;
use crate::state::StateStore;

/// How long a room whose alarm command failed waits before ringing again.
pub const ALARM_RETRY: Duration = Duration::from_secs(1);

/// What one command did to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The room's state afterwards; `None` deletes the persisted record.
    pub state: Option<Vec<u8>>,
    /// The answer for the caller.
    pub event: Vec<u8>,
}

/// The behaviour of a room, run by its actor.
#[async_trait]
pub trait RoomLogic: Send + Sync + 'static {
    /// Applies `command` to `state` (`None`: the room has no persisted state). May await
    /// external calls: the actor applies nothing else to this room meanwhile. An error leaves
    /// the persisted state unchanged and is returned to the caller.
    async fn apply(&self, room_id: &str, state: Option<&[u8]>, command: &[u8]) -> Result<Applied>;

    /// When the room wants to be woken, as a delay from now (`None`: no alarm).
    fn alarm_after(&self, state: Option<&[u8]>) -> Option<Duration>;

    /// The command applied when the alarm rings.
    fn alarm_command(&self) -> Vec<u8>;
}

enum Message {
    Apply(Vec<u8>, oneshot::Sender<Result<Vec<u8>>>),
    Close(oneshot::Sender<()>),
}

/// Single-writer actors per room over a [`StateStore`], room `id` stored at `<prefix><id>`.
pub struct ActorCoordinator<L: RoomLogic> {
    shared: Arc<Shared<L>>,
}

struct Shared<L> {
    store: Arc<dyn StateStore>,
    logic: Arc<L>,
    prefix: String,
    rooms: Mutex<HashMap<String, mpsc::Sender<Message>>>,
}

impl<L: RoomLogic> Clone for ActorCoordinator<L> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<L: RoomLogic> ActorCoordinator<L> {
    /// A coordinator with no open room.
    pub fn new(store: Arc<dyn StateStore>, logic: Arc<L>, prefix: impl Into<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                logic,
                prefix: prefix.into(),
                rooms: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Opens every room persisted under the prefix (after a restart), re-arming alarms.
    /// Returns how many rooms were opened.
    pub async fn resume(&self) -> Result<usize> {
        let mut after: Option<String> = None;
        let mut opened = 0;
        loop {
            let page = self
                .shared
                .store
                .list(&self.shared.prefix, after.as_deref(), crate::MAX_LIST_LIMIT)
                .await?;
            for (key, _) in &page {
                self.open(&key[self.shared.prefix.len()..]).await?;
                opened += 1;
            }
            if page.len() < crate::MAX_LIST_LIMIT {
                return Ok(opened);
            }
            after = page.last().map(|(key, _)| key.clone());
        }
    }

    /// Whether `room_id` has a running actor.
    pub fn is_open(&self, room_id: &str) -> bool {
        self.sender(room_id).is_some()
    }

    fn sender(&self, room_id: &str) -> Option<mpsc::Sender<Message>> {
        let rooms = self.shared.rooms.lock().expect("rooms lock");
        rooms.get(room_id).filter(|tx| !tx.is_closed()).cloned()
    }
}

#[async_trait]
impl<L: RoomLogic> SessionCoordinator for ActorCoordinator<L> {
    async fn open(&self, room_id: &str) -> Result<()> {
        if self.sender(room_id).is_some() {
            return Ok(());
        }
        let key = format!("{}{room_id}", self.shared.prefix);
        crate::state::validate_key(room_id)?;
        let record = self.shared.store.get(&key).await?;
        let mut rooms = self.shared.rooms.lock().expect("rooms lock");
        if rooms.get(room_id).is_some_and(|tx| !tx.is_closed()) {
            return Ok(());
        }
        let (tx, rx) = mpsc::channel(64);
        let actor = RoomActor {
            room_id: room_id.to_owned(),
            key,
            state: record.as_ref().map(|r| r.value.clone()),
            version: record.map(|r| r.version),
            stopped: false,
            shared: self.shared.clone(),
        };
        tokio::spawn(actor.run(rx));
        rooms.insert(room_id.to_owned(), tx);
        Ok(())
    }

    async fn apply(&self, room_id: &str, command: Vec<u8>) -> Result<Vec<u8>> {
        let tx = self
            .sender(room_id)
            .ok_or_else(|| PortabilityError::NotFound {
                key: format!("room {room_id} is not open"),
            })?;
        let (reply, answer) = oneshot::channel();
        tx.send(Message::Apply(command, reply))
            .await
            .map_err(|_| PortabilityError::NotFound {
                key: format!("room {room_id} is not open"),
            })?;
        answer.await.map_err(|_| PortabilityError::NotFound {
            key: format!("room {room_id} was closed"),
        })?
    }

    async fn close(&self, room_id: &str) -> Result<()> {
        let tx = self
            .shared
            .rooms
            .lock()
            .expect("rooms lock")
            .remove(room_id);
        if let Some(tx) = tx {
            let (done, wait) = oneshot::channel();
            if tx.send(Message::Close(done)).await.is_ok() {
                let _ = wait.await;
            }
        }
        Ok(())
    }
}

struct RoomActor<L> {
    room_id: String,
    key: String,
    state: Option<Vec<u8>>,
    version: Option<u64>,
    /// Set by a step that deleted the record or lost a compare-and-swap: the actor ends.
    stopped: bool,
    shared: Arc<Shared<L>>,
}

impl<L: RoomLogic> RoomActor<L> {
    async fn run(mut self, mut rx: mpsc::Receiver<Message>) {
        let mut alarm = self.next_alarm();
        loop {
            let message = match alarm {
                Some(at) => tokio::select! {
                    message = rx.recv() => message,
                    () = tokio::time::sleep_until(at) => {
                        let command = self.shared.logic.alarm_command();
                        alarm = match self.step(&command).await {
                            _ if self.stopped => return,
                            Ok(_) => self.next_alarm(),
                            Err(err) => {
                                // The state is unchanged, so the alarm is still due: wait a
                                // little before ringing again rather than spin.
                                tracing::warn!(room = %self.room_id, %err, "room alarm failed");
                                self.next_alarm()
                                    .map(|next| next.max(Instant::now() + ALARM_RETRY))
                            }
                        };
                        continue;
                    }
                },
                None => rx.recv().await,
            };
            match message {
                Some(Message::Apply(command, reply)) => {
                    let _ = reply.send(self.step(&command).await);
                    if self.stopped {
                        return;
                    }
                    alarm = self.next_alarm();
                }
                Some(Message::Close(done)) => {
                    let _ = done.send(());
                    return;
                }
                None => return,
            }
        }
    }

    fn next_alarm(&self) -> Option<Instant> {
        self.shared
            .logic
            .alarm_after(self.state.as_deref())
            .map(|after| Instant::now() + after)
    }

    /// Applies one command and persists the result before answering.
    async fn step(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let applied = self
            .shared
            .logic
            .apply(&self.room_id, self.state.as_deref(), command)
            .await?;
        match self.persist(&applied.state).await {
            Ok(()) => {}
            Err(err @ PortabilityError::Conflict { .. }) => {
                tracing::warn!(room = %self.room_id, %err, "room record written elsewhere: actor stops");
                self.stopped = true;
                return Err(err);
            }
            Err(err) => return Err(err),
        }
        if applied.state.is_none() && self.state.is_some() {
            self.stopped = true;
        }
        self.state = applied.state;
        Ok(applied.event)
    }

    /// Writes `next` over the record this actor last read or wrote (compare-and-swap).
    async fn persist(&mut self, next: &Option<Vec<u8>>) -> Result<()> {
        let store = &self.shared.store;
        match (next, self.version) {
            (Some(state), Some(version)) if self.state.as_ref() != Some(state) => {
                self.version = Some(store.put(&self.key, state.clone(), Some(version)).await?);
            }
            (Some(state), None) => {
                self.version = Some(store.insert(&self.key, state.clone()).await?);
            }
            (None, Some(version)) => {
                if !store.delete(&self.key, Some(version)).await? {
                    return Err(PortabilityError::Conflict {
                        key: self.key.clone(),
                        expected: Some(version),
                        actual: None,
                    });
                }
                self.version = None;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
