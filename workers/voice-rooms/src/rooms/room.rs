//! One room as the original's RoomDO ran it (contract §3), as a [`RoomLogic`] for the
//! room's actor: commands `init`, `join`, `heartbeat`, `renew`, `leave`, `close`, `destroy` and
//! the 30 s `alarm`, each answered with the status and body the DO gave.
//!
//! A booked room (`booked-<id>`, [`RoomState::booked`]) is the same actor without money: its
//! join mints a 3600 s publisher token and never reaches the credits canister, its leave debits
//! nothing, and it has no alarm.
//!
//! Differences from the DO (ADR 0020): metering is the credits canister's watermark (the
//! worker never computes a debit); the alarm evicts a participant 90 s after its last client
//! call (join, heartbeat, renew), not after its last metering; credit events raised by the
//! alarm are kept and delivered with the participant's next heartbeat or renewal; a room that
//! ends (last leave, host close, alarm finding it empty, destroy) deletes its actor state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portability::{Applied, PortabilityError, RoomLogic};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::agora::AgoraKeys;
use super::ai_host::AiHost;
use super::answer::{
    BookedJoinAnswer, CreditEvent, DeniedAnswer, HeartbeatAnswer, JoinAnswer, LeaveAnswer,
    RenewAnswer, RoomAnswer,
};
use super::db::RoomsDb;
use crate::auth::Wallet;
use crate::credits::{CreditAlert, CreditsClient, MeterRequest, Metered};
use crate::state::Clock;

/// Seats in a free room.
pub const FREE_CAPACITY: i64 = 6;
/// Advertised token lifetime (and the real one: tokens get the relative TTL, ADR 0020).
pub const TOKEN_TTL_SECONDS: u32 = 90;
/// When clients should renew.
pub const RENEW_AFTER_SECONDS: u64 = 45;
/// Heartbeat and alarm interval.
pub const HEARTBEAT_INTERVAL_SECONDS: i64 = 30;
/// Seconds needed to create, join or renew.
pub const MIN_SECONDS: u64 = 90;
/// A participant silent this long is evicted by the alarm.
pub const STALE_AFTER_SECONDS: i64 = 90;
/// Seats in a booked room.
pub const BOOKED_CAPACITY: i64 = 2;
/// Token lifetime in a booked room.
pub const BOOKED_TOKEN_TTL_SECONDS: u32 = 3600;

/// What the room's actor keeps (persisted as JSON after every command).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomState {
    /// Room id.
    pub room_id: String,
    /// Host wallet (lowercase).
    pub host_wallet: String,
    /// Seats.
    pub capacity: i64,
    /// Agora channel.
    pub channel: String,
    /// AI host asked for at creation: an Agora agent joins with the first participant.
    pub ai_enabled: bool,
    /// The running AI host's Agora agent id (stopped when the room ends, even after a
    /// restart).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// An agent start is under way (its answer not back yet).
    #[serde(default)]
    pub agent_starting: bool,
    /// Participants by connection id.
    pub participants: BTreeMap<String, Participant>,
    /// Next alarm (Unix seconds), while participants remain.
    pub alarm_at: Option<i64>,
    /// A booked session's room: no metering, no alarm (absent in free rooms' records).
    #[serde(default)]
    pub booked: bool,
}

/// One connection in the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Wallet (lowercase).
    pub wallet: String,
    /// Agora uid.
    pub agora_uid: u32,
    /// Join second.
    pub joined_at: i64,
    /// The canister's watermark after the last metering.
    pub last_metered_at: i64,
    /// The last join, heartbeat or renewal (eviction reads it).
    pub last_seen_at: i64,
    /// `credits_low` raised.
    pub warned_low: bool,
    /// `credits_exhausted` raised.
    pub exhausted: bool,
    /// Debited on this connection.
    pub debited_seconds: u64,
    /// Events raised by the alarm, delivered with the next heartbeat or renewal.
    pub pending_events: Vec<CreditEvent>,
}

/// A command to a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoomCommand {
    /// Create the room state (idempotent).
    Init {
        /// Host wallet.
        host_wallet: String,
        /// Seats.
        capacity: i64,
        /// Channel.
        channel: String,
        /// AI host asked for.
        ai_enabled: bool,
        /// A booked session's room.
        #[serde(default)]
        booked: bool,
    },
    /// Take a seat.
    Join {
        /// New connection id.
        connection_id: String,
        /// Wallet.
        wallet: String,
        /// Agora uid.
        agora_uid: u32,
    },
    /// Meter one connection.
    Heartbeat {
        /// Connection.
        connection_id: String,
    },
    /// Meter, then a fresh token unless credits are short.
    Renew {
        /// Connection.
        connection_id: String,
    },
    /// Final metering and leave.
    Leave {
        /// Connection.
        connection_id: String,
    },
    /// The host ends the room for everyone.
    Close {
        /// The host's connection.
        connection_id: String,
    },
    /// Create rollback: wipe the room.
    Destroy,
    /// The AI host's start finished: its agent id, or `None` if it failed.
    AgentStarted {
        /// Agora's agent id.
        agent_id: Option<String>,
    },
    /// The 30 s alarm.
    Alarm,
}

/// The room logic and what it reaches: credits canister, room tables, clock, Agora keys and
/// the AI host.
pub struct FreeRoom {
    pub(super) credits: Arc<dyn CreditsClient>,
    pub(super) db: RoomsDb,
    pub(super) clock: Clock,
    pub(super) agora: AgoraKeys,
    pub(super) ai: AiHost,
}

/// What a step did: the answer, and the state to keep (`None`: unchanged, `Some(None)`:
/// deleted).
pub(super) type Step = (RoomAnswer, Option<Option<RoomState>>);

pub(super) fn unavailable(err: impl std::fmt::Display) -> Step {
    tracing::warn!(%err, "room command failed on the credits canister");
    (RoomAnswer::error(503, "service unavailable"), None)
}

pub(super) fn internal(err: impl std::fmt::Display) -> Step {
    tracing::error!(%err, "room command failed");
    (RoomAnswer::error(500, "internal_error"), None)
}

/// ISO-8601 with milliseconds and `Z`, as JavaScript's `toISOString`.
pub fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl FreeRoom {
    pub(super) fn wallet(text: &str) -> Option<Wallet> {
        Wallet::parse(text)
    }

    /// Applies a metering outcome to a participant; returns the events it raised.
    pub(super) fn absorb(p: &mut Participant, m: &Metered, now: i64) -> Vec<CreditEvent> {
        p.last_metered_at = m.metered_up_to;
        p.debited_seconds = m.connection_debited_seconds;
        m.alerts
            .iter()
            .map(|alert| {
                let (kind, remaining) = match alert {
                    CreditAlert::Low => {
                        p.warned_low = true;
                        ("credits_low", m.remaining_seconds)
                    }
                    CreditAlert::Exhausted => {
                        p.exhausted = true;
                        ("credits_exhausted", 0)
                    }
                };
                CreditEvent {
                    kind: kind.to_owned(),
                    wallet: p.wallet.clone(),
                    remaining_seconds: remaining,
                    at_epoch: now,
                }
            })
            .collect()
    }

    /// Meters one participant up to now through the canister.
    async fn meter(&self, connection_id: &str, p: &Participant, now: i64) -> Result<Metered, Step> {
        let wallet = Self::wallet(&p.wallet).ok_or_else(|| internal("stored wallet invalid"))?;
        let mut outcomes = self
            .credits
            .meter(vec![MeterRequest {
                connection_id: connection_id.to_owned(),
                wallet,
                up_to: now,
            }])
            .await
            .map_err(unavailable)?;
        match outcomes.pop() {
            Some(Ok(metered)) => Ok(metered),
            Some(Err(refused)) => Err(internal(refused)),
            None => Err(internal("empty metering answer")),
        }
    }

    fn token(&self, state: &RoomState, uid: u32, now: i64) -> String {
        self.agora
            .publisher_token(&state.channel, uid, now, TOKEN_TTL_SECONDS)
    }

    async fn step(&self, state: Option<RoomState>, command: RoomCommand) -> Step {
        let now = self.clock.now();
        if let RoomCommand::Init {
            host_wallet,
            capacity,
            channel,
            ai_enabled,
            booked,
        } = command
        {
            if state.is_some() {
                return (
                    RoomAnswer::ok(json!({"ok": true, "already_initialized": true})),
                    None,
                );
            }
            return (
                RoomAnswer::ok(json!({"ok": true})),
                Some(Some(RoomState {
                    room_id: String::new(),
                    host_wallet,
                    capacity,
                    channel,
                    ai_enabled,
                    agent_id: None,
                    agent_starting: false,
                    participants: BTreeMap::new(),
                    alarm_at: None,
                    booked,
                })),
            );
        }
        if matches!(command, RoomCommand::Destroy) {
            let answer = RoomAnswer::ok(json!({"ok": true, "destroyed": true})).ended();
            return (answer, Some(None));
        }
        if let RoomCommand::AgentStarted { agent_id } = command {
            return self.agent_started(state, agent_id);
        }
        let Some(mut state) = state else {
            if matches!(command, RoomCommand::Alarm) {
                return (RoomAnswer::ok(json!({"ok": true})), None);
            }
            return (RoomAnswer::error(400, "room_not_initialized"), None);
        };
        match command {
            RoomCommand::Init { .. } | RoomCommand::Destroy | RoomCommand::AgentStarted { .. } => {
                unreachable!("handled above")
            }
            RoomCommand::Join {
                connection_id,
                wallet,
                agora_uid,
            } => {
                if state.participants.len() as i64 >= state.capacity {
                    return (RoomAnswer::error(409, "room_full"), None);
                }
                let Some(parsed) = Self::wallet(&wallet) else {
                    return internal("join with an invalid wallet");
                };
                if state.booked {
                    return self.join_booked(state, connection_id, parsed, agora_uid, now);
                }
                let balance = match self.credits.balance(&parsed).await {
                    Ok(balance) => balance,
                    Err(err) => return unavailable(err),
                };
                match self
                    .credits
                    .open_connection(&connection_id, &parsed, now)
                    .await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(refused)) => return internal(refused),
                    Err(err) => return unavailable(err),
                }
                state.participants.insert(
                    connection_id,
                    Participant {
                        wallet: parsed.to_string(),
                        agora_uid,
                        joined_at: now,
                        last_metered_at: now,
                        last_seen_at: now,
                        warned_low: false,
                        exhausted: false,
                        debited_seconds: 0,
                        pending_events: Vec::new(),
                    },
                );
                state.alarm_at = Some(now + HEARTBEAT_INTERVAL_SECONDS);
                let token = self.token(&state, agora_uid, now);
                let mut answer = RoomAnswer::ok(JoinAnswer {
                    agora_token: token,
                    token_expires_in_seconds: TOKEN_TTL_SECONDS,
                    renew_after_seconds: RENEW_AFTER_SECONDS,
                    heartbeat_interval_seconds: HEARTBEAT_INTERVAL_SECONDS,
                    remaining_seconds: balance.remaining_seconds,
                });
                // The original's rule: AI asked for, no agent yet, this is the only participant.
                if state.ai_enabled
                    && state.agent_id.is_none()
                    && !state.agent_starting
                    && state.participants.len() == 1
                {
                    state.agent_starting = true;
                    answer.start_agent = Some(state.channel.clone());
                }
                (answer, Some(Some(state)))
            }
            RoomCommand::Heartbeat { connection_id } => {
                let Some(p) = state.participants.get(&connection_id).cloned() else {
                    return (RoomAnswer::error(404, "participant_not_found"), None);
                };
                let metered = match self.meter(&connection_id, &p, now).await {
                    Ok(m) => m,
                    Err(step) => return step,
                };
                let p = state.participants.get_mut(&connection_id).expect("checked");
                let mut events = std::mem::take(&mut p.pending_events);
                events.extend(Self::absorb(p, &metered, now));
                p.last_seen_at = now;
                (
                    RoomAnswer::ok(HeartbeatAnswer {
                        ok: true,
                        remaining_seconds: metered.remaining_seconds,
                        events,
                    }),
                    Some(Some(state)),
                )
            }
            RoomCommand::Renew { connection_id } => {
                let Some(p) = state.participants.get(&connection_id).cloned() else {
                    return (RoomAnswer::error(404, "participant_not_found"), None);
                };
                let metered = match self.meter(&connection_id, &p, now).await {
                    Ok(m) => m,
                    Err(step) => return step,
                };
                let p = state.participants.get_mut(&connection_id).expect("checked");
                let mut events = std::mem::take(&mut p.pending_events);
                events.extend(Self::absorb(p, &metered, now));
                p.last_seen_at = now;
                let uid = p.agora_uid;
                let answer = if metered.remaining_seconds < MIN_SECONDS {
                    RoomAnswer::ok(DeniedAnswer {
                        denied: true,
                        reason: "credits_exhausted",
                        remaining_seconds: metered.remaining_seconds,
                        events,
                    })
                } else {
                    RoomAnswer::ok(RenewAnswer {
                        agora_token: self.token(&state, uid, now),
                        token_expires_in_seconds: TOKEN_TTL_SECONDS,
                        remaining_seconds: metered.remaining_seconds,
                        events,
                    })
                };
                (answer, Some(Some(state)))
            }
            RoomCommand::Leave { connection_id } => {
                if !state.participants.contains_key(&connection_id) {
                    return (RoomAnswer::error(404, "participant_not_found"), None);
                }
                if state.booked {
                    return self.leave_booked(state, &connection_id, now).await;
                }
                let metered = match self.credits.close_connection(&connection_id, now).await {
                    Ok(Ok(m)) => m,
                    Ok(Err(refused)) => return internal(refused),
                    Err(err) => return unavailable(err),
                };
                state.participants.remove(&connection_id);
                if let Err(err) = self
                    .db
                    .mark_left(&connection_id, now, metered.connection_debited_seconds)
                    .await
                {
                    return internal(err);
                }
                let closed = state.participants.is_empty();
                if closed && let Err(err) = self.db.close_room(&state.room_id, &iso(now)).await {
                    return internal(err);
                }
                let mut answer = RoomAnswer::ok(LeaveAnswer {
                    ok: true,
                    debited_seconds: metered.connection_debited_seconds,
                    remaining_seconds: metered.remaining_seconds,
                    closed,
                });
                answer.ended = closed;
                (answer, Some(if closed { None } else { Some(state) }))
            }
            RoomCommand::Close { connection_id } => {
                if !state.participants.contains_key(&connection_id) {
                    return (RoomAnswer::error(404, "participant_not_found"), None);
                }
                let mut order: Vec<String> = vec![connection_id.clone()];
                order.extend(
                    state
                        .participants
                        .keys()
                        .filter(|c| **c != connection_id)
                        .cloned(),
                );
                let mut host = None;
                for id in &order {
                    let metered = match self.credits.close_connection(id, now).await {
                        Ok(Ok(m)) => m,
                        Ok(Err(refused)) => return internal(refused),
                        Err(err) => return unavailable(err),
                    };
                    if let Err(err) = self
                        .db
                        .mark_left(id, now, metered.connection_debited_seconds)
                        .await
                    {
                        return internal(err);
                    }
                    host.get_or_insert(metered);
                }
                if let Err(err) = self.db.close_room(&state.room_id, &iso(now)).await {
                    return internal(err);
                }
                let host = host.expect("the host's connection is metered first");
                let answer = RoomAnswer::ok(LeaveAnswer {
                    ok: true,
                    debited_seconds: host.connection_debited_seconds,
                    remaining_seconds: host.remaining_seconds,
                    closed: true,
                })
                .ended();
                (answer, Some(None))
            }
            // A booked room arms no alarm; one rung by hand changes nothing.
            RoomCommand::Alarm if state.booked => (RoomAnswer::ok(json!({"ok": true})), None),
            RoomCommand::Alarm => self.alarm(state, now).await,
        }
    }
}

impl FreeRoom {
    /// The answer of a spawned agent start: kept in the room, or stopped again when the room
    /// ended (or got another agent) meanwhile.
    fn agent_started(&self, state: Option<RoomState>, agent_id: Option<String>) -> Step {
        let ok = RoomAnswer::ok(json!({"ok": true}));
        match (state, agent_id) {
            (None, Some(id)) => {
                self.ai.spawn_stop("(ended)", id);
                (ok.ended(), None)
            }
            (None, None) => (ok.ended(), None),
            (Some(mut state), Some(id)) if state.agent_id.is_none() => {
                state.agent_starting = false;
                state.agent_id = Some(id);
                (ok, Some(Some(state)))
            }
            (Some(mut state), id) => {
                state.agent_starting = false;
                if let Some(id) = id {
                    self.ai.spawn_stop(&state.room_id, id);
                }
                (ok, Some(Some(state)))
            }
        }
    }

    /// A booked room's join: a seat and a 3600 s publisher token, no credits, no alarm.
    fn join_booked(
        &self,
        mut state: RoomState,
        connection_id: String,
        wallet: Wallet,
        agora_uid: u32,
        now: i64,
    ) -> Step {
        state.participants.insert(
            connection_id,
            Participant {
                wallet: wallet.to_string(),
                agora_uid,
                joined_at: now,
                last_metered_at: now,
                last_seen_at: now,
                warned_low: false,
                exhausted: false,
                debited_seconds: 0,
                pending_events: Vec::new(),
            },
        );
        let token =
            self.agora
                .publisher_token(&state.channel, agora_uid, now, BOOKED_TOKEN_TTL_SECONDS);
        (
            RoomAnswer::ok(BookedJoinAnswer {
                agora_token: token,
                token_expires_in_seconds: BOOKED_TOKEN_TTL_SECONDS,
                renew_after_seconds: None,
                heartbeat_interval_seconds: None,
                remaining_seconds: 0,
            }),
            Some(Some(state)),
        )
    }

    /// A booked room's leave: the row marked left (nothing debited), the room closed and its
    /// state deleted when it is now empty.
    async fn leave_booked(&self, mut state: RoomState, connection_id: &str, now: i64) -> Step {
        state.participants.remove(connection_id);
        if let Err(err) = self.db.mark_left(connection_id, now, 0).await {
            return internal(err);
        }
        let closed = state.participants.is_empty();
        if closed && let Err(err) = self.db.close_room(&state.room_id, &iso(now)).await {
            return internal(err);
        }
        let mut answer = RoomAnswer::ok(LeaveAnswer {
            ok: true,
            debited_seconds: 0,
            remaining_seconds: 0,
            closed,
        });
        answer.ended = closed;
        (answer, Some(if closed { None } else { Some(state) }))
    }
}

fn encode<T: Serialize>(value: &T) -> portability::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| PortabilityError::InvalidInput(e.to_string()))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> portability::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| PortabilityError::InvalidInput(e.to_string()))
}

#[async_trait]
impl RoomLogic for FreeRoom {
    async fn apply(
        &self,
        room_id: &str,
        state: Option<&[u8]>,
        command: &[u8],
    ) -> portability::Result<Applied> {
        let current: Option<RoomState> = state.map(decode).transpose()?;
        let command: RoomCommand = decode(command)?;
        let is_alarm = command == RoomCommand::Alarm;
        let (mut answer, next) = self.step(current.clone(), command).await;
        let agent = current.as_ref().and_then(|s| s.agent_id.clone());
        let next = match next {
            // A failed alarm (canister or tables unavailable) tries again an interval later
            // instead of ringing at once in a loop.
            None if is_alarm && answer.status >= 500 => current.map(|mut s| {
                s.alarm_at = Some(self.clock.now() + HEARTBEAT_INTERVAL_SECONDS);
                s
            }),
            None => current,
            Some(Some(mut s)) => {
                room_id.clone_into(&mut s.room_id);
                Some(s)
            }
            Some(None) => None,
        };
        if answer.ended {
            answer.ended = next.is_none();
        }
        // The room lost its agent (it ended, whichever way): stop it in the background.
        if let Some(agent) = agent
            && next.as_ref().and_then(|s| s.agent_id.as_ref()) != Some(&agent)
        {
            self.ai.spawn_stop(room_id, agent);
        }
        Ok(Applied {
            state: next.as_ref().map(encode).transpose()?,
            event: encode(&answer)?,
        })
    }

    fn alarm_after(&self, state: Option<&[u8]>) -> Option<Duration> {
        let state: RoomState = decode(state?).ok()?;
        let at = state.alarm_at?;
        Some(Duration::from_secs(
            u64::try_from(at - self.clock.now()).unwrap_or(0),
        ))
    }

    fn alarm_command(&self) -> Vec<u8> {
        encode(&RoomCommand::Alarm).unwrap_or_default()
    }
}
