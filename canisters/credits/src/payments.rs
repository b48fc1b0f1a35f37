//! The duet money state as the worker's room actors use it: claim a payment signature, commit
//! (or release) it with the facilitator's answer, extend free entitlements, read entitlements,
//! issue and redeem one-time replay tokens, and prune what expired. Each is one message: the
//! decision and its event happen in one step.

use crate::api::{
    ClaimSettlement, CommitError, CommitOutcome, CommitSettlement, EntitlementView,
    ExtendEntitlement, IssueReplayToken, ReplayAccess, SettlementResult,
};
use crate::duet::entitlement::Entitlement;
use crate::duet::replay::{REPLAY_TOKEN_TTL_SECONDS, ReplayGrant};
use crate::duet::settlement::{ClaimOutcome, Marker, SettledPayment, decide_claim};
use crate::duet::{RoomId, Sha256Hex};
use crate::state::{self, State, audit::process_event, event::EventType, keys};
use crate::units::UnixSeconds;
use crate::wallet::Wallet;

fn marker(s: &State, room: &RoomId, hash: &Sha256Hex) -> Option<Marker> {
    s.markers().get(&keys::marker_key(room, hash)).map(|m| m.0)
}

fn entitlement_of(s: &State, room: &RoomId, wallet: &Wallet) -> Entitlement {
    s.entitlements()
        .get(&keys::entitlement_key(room, wallet))
        .map(|e| e.0)
        .unwrap_or_default()
}

/// Claims a payment signature before the facilitator is called (see
/// [`crate::duet::settlement`]).
pub fn claim(request: ClaimSettlement, now_ns: u64) -> ClaimOutcome {
    let now = UnixSeconds::from_nanos(now_ns);
    state::mutate(|s| {
        let existing = marker(s, &request.room_id, &request.signature_hash);
        let outcome = decide_claim(
            existing.as_ref(),
            request.wallet.as_ref(),
            request.entitlement,
            now,
        );
        if outcome == ClaimOutcome::Claimed {
            process_event(
                s,
                now_ns,
                EventType::SettlementClaimed {
                    room_id: request.room_id,
                    signature_hash: request.signature_hash,
                    wallet: request.wallet,
                    entitlement: request.entitlement,
                },
            );
        }
        outcome
    })
}

/// Commits the facilitator's answer to a claimed signature: settled (the entitlement extended
/// from its value now, not from before the facilitator call) or failed (claim released).
pub fn commit(request: CommitSettlement, now_ns: u64) -> CommitOutcome {
    let now = UnixSeconds::from_nanos(now_ns);
    state::mutate(|s| {
        match marker(s, &request.room_id, &request.signature_hash) {
            Some(Marker::Pending { entitlement, .. }) if entitlement == request.entitlement => {}
            _ => return Err(CommitError::NotClaimed),
        }
        let SettlementResult::Settled {
            wallet,
            window_seconds,
            segment_id,
            pay_to,
            amount,
            facilitator,
            transaction_hash,
        } = request.result
        else {
            process_event(
                s,
                now_ns,
                EventType::SettlementReleased {
                    room_id: request.room_id,
                    signature_hash: request.signature_hash,
                },
            );
            return Ok(None);
        };
        let expires_at = wallet.as_ref().map(|w| {
            entitlement_of(s, &request.room_id, w).extended_expiry(
                request.entitlement,
                now,
                window_seconds,
            )
        });
        let payment = SettledPayment {
            processed_at: now,
            wallet,
            entitlement: request.entitlement,
            expires_at,
            segment_id,
            pay_to,
            amount,
            facilitator,
            transaction_hash,
        };
        process_event(
            s,
            now_ns,
            EventType::SettlementCommitted {
                room_id: request.room_id,
                signature_hash: request.signature_hash,
                payment: payment.clone(),
            },
        );
        Ok(Some(payment))
    })
}

/// A viewer's entitlements in a room.
pub fn entitlement(room: &RoomId, wallet: &Wallet) -> EntitlementView {
    let e = state::with(|s| entitlement_of(s, room, wallet));
    EntitlementView {
        live_expires_at: e.live_expires_at,
        replay_expires_at: e.replay_expires_at,
    }
}

/// Extends an entitlement without a payment (a free room or free replay); returns the expiry.
pub fn extend(request: ExtendEntitlement, now_ns: u64) -> UnixSeconds {
    let now = UnixSeconds::from_nanos(now_ns);
    state::mutate(|s| {
        let expires_at = entitlement_of(s, &request.room_id, &request.wallet).extended_expiry(
            request.entitlement,
            now,
            request.window_seconds,
        );
        process_event(
            s,
            now_ns,
            EventType::EntitlementExtended {
                room_id: request.room_id,
                wallet: request.wallet,
                entitlement: request.entitlement,
                expires_at,
            },
        );
        expires_at
    })
}

/// Records a one-time replay token (valid 60 s); returns its expiry.
pub fn issue_replay_token(request: IssueReplayToken, now_ns: u64) -> UnixSeconds {
    let now = UnixSeconds::from_nanos(now_ns);
    let grant = ReplayGrant {
        wallet: request.wallet,
        replay_url: request.replay_url,
        created_at: now,
        expires_at: now.plus(REPLAY_TOKEN_TTL_SECONDS),
    };
    let expires_at = grant.expires_at;
    state::mutate(|s| {
        process_event(
            s,
            now_ns,
            EventType::ReplayTokenIssued {
                token_hash: request.token_hash,
                grant,
            },
        );
    });
    expires_at
}

/// Redeems a replay token: valid once, within its 60 s (an expired one is dropped too).
pub fn redeem_replay_token(token_hash: Sha256Hex, now_ns: u64) -> Option<ReplayAccess> {
    let now = UnixSeconds::from_nanos(now_ns);
    state::mutate(|s| {
        let grant = s
            .replay_tokens()
            .get(&token_hash.as_str().to_owned())
            .map(|g| g.0)?;
        process_event(s, now_ns, EventType::ReplayTokenSpent { token_hash });
        grant.is_valid(now).then_some(ReplayAccess {
            wallet: grant.wallet,
            replay_url: grant.replay_url,
        })
    })
}

/// Drops settlement markers older than 48 h, expired replay tokens and long-closed
/// connections.
pub fn prune(now_ns: u64) {
    state::mutate(|s| process_event(s, now_ns, EventType::Pruned));
}

#[cfg(test)]
mod tests;
