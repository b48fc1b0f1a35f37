//! The room's 30 s alarm: evict participants silent for more than 90 s (since their last
//! join, heartbeat or renewal: quirk 2 fixed, ADR 0020), close a room left empty, meter
//! everyone else in one canister call (events kept for the next heartbeat), copy the metering
//! to the participant rows, re-arm.

use serde_json::json;

use super::answer::RoomAnswer;
use super::db::MeteringCopy;
use super::room::{
    FreeRoom, HEARTBEAT_INTERVAL_SECONDS, RoomState, STALE_AFTER_SECONDS, Step, internal, iso,
    unavailable,
};
use crate::credits::MeterRequest;

impl FreeRoom {
    /// The 30 s alarm: evict the silent, close an empty room, meter everyone else in one
    /// canister call, copy the metering to the participant rows, re-arm.
    pub(super) async fn alarm(&self, mut state: RoomState, now: i64) -> Step {
        let stale: Vec<String> = state
            .participants
            .iter()
            .filter(|(_, p)| now - p.last_seen_at > STALE_AFTER_SECONDS)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &stale {
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
            state.participants.remove(id);
            tracing::info!(room = %state.room_id, connection = %id, "silent participant evicted");
        }
        if state.participants.is_empty() {
            if let Err(err) = self.db.close_room(&state.room_id, &iso(now)).await {
                return internal(err);
            }
            if let Err(err) = self.db.mark_all_left(&state.room_id, now).await {
                return internal(err);
            }
            let answer = RoomAnswer::ok(json!({"ok": true, "closed": true})).ended();
            return (answer, Some(None));
        }
        let mut requests = Vec::new();
        for (id, p) in &state.participants {
            let Some(wallet) = Self::wallet(&p.wallet) else {
                return internal("stored wallet invalid");
            };
            requests.push(MeterRequest {
                connection_id: id.clone(),
                wallet,
                up_to: now,
            });
        }
        let outcomes = match self.credits.meter(requests).await {
            Ok(outcomes) => outcomes,
            Err(err) => return unavailable(err),
        };
        let mut copies = Vec::new();
        for ((id, p), outcome) in state.participants.iter_mut().zip(outcomes) {
            match outcome {
                Ok(metered) => {
                    let events = Self::absorb(p, &metered, now);
                    p.pending_events.extend(events);
                }
                Err(refused) => {
                    tracing::warn!(connection = %id, %refused, "alarm metering refused")
                }
            }
            copies.push(MeteringCopy {
                connection_id: id.clone(),
                last_metered_at: p.last_metered_at,
                warned_low: p.warned_low,
                exhausted: p.exhausted,
                debited_seconds: p.debited_seconds,
            });
        }
        if let Err(err) = self.db.copy_metering(&copies).await {
            return internal(err);
        }
        state.alarm_at = Some(now + HEARTBEAT_INTERVAL_SECONDS);
        (
            RoomAnswer::ok(json!({"ok": true, "closed": false})),
            Some(Some(state)),
        )
    }
}
