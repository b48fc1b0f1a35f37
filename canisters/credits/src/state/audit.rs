//! The one place the state changes: [`process_event`] applies an event and appends it to the
//! audit log in the same step, so the log and the state cannot drift. [`replay_events`]
//! rebuilds a state from the log alone on a fresh volatile memory, and [`check_against_log`]
//! compares every stable structure of the live state with that replay.
//!
//! [`apply_state_transition`] is deterministic: it reads only the state and the event (whose
//! timestamp stands for "now"), never the clock, the caller or randomness.

use ic_stable_structures::{Memory, StableBTreeMap, Storable, VectorMemory};

pub use super::event::{Event, EventType};
use super::keys;
use super::records::{
    AnchorRecord, CreditEvent, CreditEventKind, ReceiptKind, SweepResult, SweepRun,
};
use super::{CREDIT_EVENT_ID, Cbor, KEPT_SWEEPS, Region, SWEEP_SEQ, State};
use crate::api::PresenceChange;
use crate::duet::settlement::{self, Marker};
use crate::ledger::Account;
use crate::metering::{CreditAlert, MeteredConnection};
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;

/// How long a closed connection is kept (for late meterings to find it and stay no-ops).
pub const CLOSED_CONNECTION_TTL_SECONDS: u64 = 48 * 60 * 60;

/// Applies `payload` at `now_ns` and appends it to the audit log.
pub fn process_event(state: &mut State, now_ns: u64, payload: EventType) {
    let event = Event {
        timestamp: now_ns,
        payload,
    };
    apply_state_transition(state, &event);
    state
        .events
        .append(&Cbor(event))
        .expect("the event log can grow");
}

/// Changes `state` as `event` says.
pub fn apply_state_transition<M: Memory + Clone>(state: &mut State<M>, event: &Event) {
    let at = UnixSeconds::from_nanos(event.timestamp);
    if let Some(kind) = receipt_kind(&event.payload) {
        // Applied before it is appended: the log's length is this event's index.
        let index = state.events.len();
        state.pending_receipts.insert(index, Cbor(kind));
    }
    match &event.payload {
        EventType::Installed {
            ecdsa_key_name,
            installs,
        } => update_config(state, |c| {
            c.ecdsa_key_name = ecdsa_key_name.clone();
            c.installs = *installs;
        }),
        EventType::ChainConfigured { config } => update_config(state, |c| c.chain = config.clone()),
        EventType::WorkersSet { workers } => update_config(state, |c| c.workers = workers.clone()),
        EventType::BaseGranted { wallet } => {
            let before = account_of(state, wallet);
            if let Some(after) = before.with_base_grant() {
                set_account(state, wallet, after);
                append_credit_event(
                    state,
                    wallet,
                    &before,
                    &after,
                    CreditEventKind::GrantBase,
                    None,
                    at,
                );
            }
        }
        EventType::CeloBonusGranted { wallet } => {
            state.verifications.insert(wallet.as_str().to_owned(), at.0);
            let before = account_of(state, wallet);
            let after = before.with_bonus();
            set_account(state, wallet, after);
            append_credit_event(
                state,
                wallet,
                &before,
                &after,
                CreditEventKind::GrantCeloBonus,
                None,
                at,
            );
        }
        EventType::AccountAdjusted { wallet, account } => {
            let before = account_of(state, wallet);
            set_account(state, wallet, *account);
            append_credit_event(
                state,
                wallet,
                &before,
                account,
                CreditEventKind::AdminAdjust,
                None,
                at,
            );
        }
        EventType::ConnectionOpened {
            connection_id,
            wallet,
            at: opened,
        } => {
            if state.connections.get(connection_id).is_none() {
                let connection = MeteredConnection::opened(wallet.clone(), *opened);
                state
                    .connections
                    .insert(connection_id.clone(), Cbor(connection));
            }
        }
        EventType::UsageMetered {
            connection_id,
            up_to,
            debited,
            alerts,
        } => apply_metering(state, connection_id, *up_to, *debited, alerts, at),
        EventType::ConnectionClosed {
            connection_id,
            at: closed,
        } => {
            if let Some(Cbor(mut connection)) = state.connections.get(connection_id) {
                connection.closed_at.get_or_insert(*closed);
                state
                    .connections
                    .insert(connection_id.clone(), Cbor(connection));
            }
        }
        EventType::SettlementClaimed {
            room_id,
            signature_hash,
            wallet,
            entitlement,
        } => {
            let marker = Marker::Pending {
                claimed_at: at,
                wallet: wallet.clone(),
                entitlement: *entitlement,
            };
            state
                .markers
                .insert(keys::marker_key(room_id, signature_hash), Cbor(marker));
        }
        EventType::SettlementCommitted {
            room_id,
            signature_hash,
            payment,
        } => {
            if let (Some(wallet), Some(expires_at)) = (&payment.wallet, payment.expires_at) {
                raise_entitlement(
                    state,
                    &keys::entitlement_key(room_id, wallet),
                    payment.entitlement,
                    expires_at,
                );
            }
            state.markers.insert(
                keys::marker_key(room_id, signature_hash),
                Cbor(Marker::Settled(payment.clone())),
            );
        }
        EventType::SettlementReleased {
            room_id,
            signature_hash,
        } => {
            state
                .markers
                .remove(&keys::marker_key(room_id, signature_hash));
        }
        EventType::EntitlementExtended {
            room_id,
            wallet,
            entitlement,
            expires_at,
        } => raise_entitlement(
            state,
            &keys::entitlement_key(room_id, wallet),
            *entitlement,
            *expires_at,
        ),
        EventType::ReplayTokenIssued { token_hash, grant } => {
            state
                .replay_tokens
                .insert(token_hash.as_str().to_owned(), Cbor(grant.clone()));
        }
        EventType::ReplayTokenSpent { token_hash } => {
            state.replay_tokens.remove(&token_hash.as_str().to_owned());
        }
        EventType::Pruned => prune(state, at),
        EventType::PresenceRecorded {
            booking_id,
            wallet,
            change,
            at: when,
        } => {
            let key = keys::presence_key(booking_id, wallet);
            let before = state
                .presence
                .get(&key)
                .map(|Cbor(p)| p)
                .unwrap_or_default();
            let after = match change {
                PresenceChange::Joined => {
                    let booking = keys::booking_key(booking_id);
                    let latest = state.bookings.get(&booking).unwrap_or(0).max(when.0);
                    state.bookings.insert(booking, latest);
                    before.joined(*when)
                }
                PresenceChange::Left => before.left(*when),
            };
            state.presence.insert(key, Cbor(after));
        }
        EventType::SignerKeyFetched { key, public_key } => {
            state.signer_keys.insert(key.clone(), public_key.clone());
        }
        EventType::OracleNonceSet { chain_id, nonce } => {
            state.oracle_nonces.insert(*chain_id, *nonce);
        }
        EventType::AttestationSent { .. } => {}
        EventType::OracleNonceForgotten { chain_id } => {
            state.oracle_nonces.remove(chain_id);
        }
        EventType::SweepStarted { bookings } => {
            let run = SweepRun {
                started_at: at,
                bookings: bookings.clone(),
                next: 0,
                summary: crate::api::SweepSummary {
                    at,
                    ..Default::default()
                },
            };
            state.sweep_run.set(Cbor(Some(run)));
        }
        EventType::SweepBookingDone { booking_id, result } => {
            if let Some(mut run) = state.sweep_run.get().0.clone() {
                run.next += 1;
                record_sweep_result(&mut run.summary, booking_id, result);
                state.sweep_run.set(Cbor(Some(run)));
            }
        }
        EventType::SweepCompleted { summary } => {
            state.sweep_run.set(Cbor(None));
            let seq = next_counter(state, SWEEP_SEQ);
            state.sweeps.insert(seq, Cbor(summary.clone()));
            if seq > KEPT_SWEEPS {
                state.sweeps.remove(&(seq - KEPT_SWEEPS));
            }
        }
        EventType::AccountImported {
            wallet,
            account,
            bonus_granted_at,
        } => {
            set_account(state, wallet, *account);
            match bonus_granted_at {
                Some(at) => state.verifications.insert(wallet.as_str().to_owned(), at.0),
                None => state.verifications.remove(&wallet.as_str().to_owned()),
            };
        }
        EventType::AnchorConfigured { url } => update_config(state, |c| c.anchor_url = url.clone()),
        EventType::ReceiptsAnchored {
            key,
            first,
            last,
            receipts,
            id,
            arweave_url,
        } => {
            let anchored: Vec<u64> = state
                .pending_receipts
                .range(*first..=*last)
                .map(|e| *e.key())
                .collect();
            for index in anchored {
                state.pending_receipts.remove(&index);
            }
            let record = AnchorRecord {
                key: key.clone(),
                first: *first,
                last: *last,
                receipts: *receipts,
                id: id.clone(),
                arweave_url: arweave_url.clone(),
                at,
            };
            state.anchors.insert(*last, Cbor(record));
        }
        EventType::CreditEventImported { row } => {
            let last = state.counters.get(&CREDIT_EVENT_ID.to_owned()).unwrap_or(0);
            state
                .counters
                .insert(CREDIT_EVENT_ID.to_owned(), last.max(row.id));
            state.credit_events.insert(
                keys::credit_event_key(&row.wallet, row.id),
                Cbor(row.clone()),
            );
        }
    }
}

/// Failures kept in a sweep summary.
pub const KEPT_FAILURES: usize = 20;

/// Adds one booking's result to a sweep summary.
fn record_sweep_result(
    summary: &mut crate::api::SweepSummary,
    booking_id: &str,
    result: &SweepResult,
) {
    summary.scanned += 1;
    match result {
        SweepResult::Submitted => summary.submitted += 1,
        SweepResult::Noop(reason) => {
            summary.noop += 1;
            match summary.noop_reasons.iter_mut().find(|(r, _)| r == reason) {
                Some((_, n)) => *n += 1,
                None => summary.noop_reasons.push((reason.clone(), 1)),
            }
        }
        SweepResult::Failed(error) => {
            summary.failed += 1;
            if summary.failures.len() < KEPT_FAILURES {
                summary
                    .failures
                    .push((booking_id.to_owned(), error.clone()));
            }
        }
    }
}

fn update_config<M: Memory + Clone>(state: &mut State<M>, f: impl FnOnce(&mut super::Config)) {
    let mut config = state.config.get().0.clone();
    f(&mut config);
    state.config.set(Cbor(config));
}

fn account_of<M: Memory + Clone>(state: &State<M>, wallet: &Wallet) -> Account {
    state
        .accounts
        .get(&wallet.as_str().to_owned())
        .map(|Cbor(a)| a)
        .unwrap_or_default()
}

fn set_account<M: Memory + Clone>(state: &mut State<M>, wallet: &Wallet, account: Account) {
    state
        .accounts
        .insert(wallet.as_str().to_owned(), Cbor(account));
}

fn next_counter<M: Memory + Clone>(state: &mut State<M>, name: &str) -> u64 {
    let next = state.counters.get(&name.to_owned()).unwrap_or(0) + 1;
    state.counters.insert(name.to_owned(), next);
    next
}

/// Appends the `credit_events` row of a balance change.
fn append_credit_event<M: Memory + Clone>(
    state: &mut State<M>,
    wallet: &Wallet,
    before: &Account,
    after: &Account,
    kind: CreditEventKind,
    connection_id: Option<String>,
    at: UnixSeconds,
) {
    let id = next_counter(state, CREDIT_EVENT_ID);
    let delta = i128::from(after.remaining().0) - i128::from(before.remaining().0);
    let row = CreditEvent {
        id,
        wallet: wallet.clone(),
        delta_seconds: i64::try_from(delta).unwrap_or(i64::MIN),
        event_type: kind,
        balance_after_seconds: after.remaining(),
        connection_id,
        created_at: at,
    };
    state
        .credit_events
        .insert(keys::credit_event_key(wallet, id), Cbor(row));
}

fn apply_metering<M: Memory + Clone>(
    state: &mut State<M>,
    connection_id: &str,
    up_to: UnixSeconds,
    debited: Seconds,
    alerts: &[CreditAlert],
    at: UnixSeconds,
) {
    let Some(Cbor(connection)) = state.connections.get(&connection_id.to_owned()) else {
        return;
    };
    let after = MeteredConnection {
        watermark: up_to.max(connection.watermark),
        debited: connection.debited.saturating_add(debited),
        warned_low: connection.warned_low || alerts.contains(&CreditAlert::Low),
        exhausted: connection.exhausted || alerts.contains(&CreditAlert::Exhausted),
        ..connection.clone()
    };
    state
        .connections
        .insert(connection_id.to_owned(), Cbor(after));
    let wallet = connection.wallet;
    if let Some(Cbor(before)) = state.accounts.get(&wallet.as_str().to_owned()) {
        let account = before.with_debit(debited);
        set_account(state, &wallet, account);
        append_credit_event(
            state,
            &wallet,
            &before,
            &account,
            CreditEventKind::DebitUsage,
            Some(connection_id.to_owned()),
            at,
        );
    }
}

fn raise_entitlement<M: Memory + Clone>(
    state: &mut State<M>,
    key: &str,
    kind: crate::duet::EntitlementKind,
    expires_at: UnixSeconds,
) {
    let current = state
        .entitlements
        .get(&key.to_owned())
        .map(|Cbor(e)| e)
        .unwrap_or_default();
    state
        .entitlements
        .insert(key.to_owned(), Cbor(current.raised_to(kind, expires_at)));
}

fn prune<M: Memory + Clone>(state: &mut State<M>, at: UnixSeconds) {
    let markers: Vec<String> = state
        .markers
        .iter()
        .filter(|e| settlement::is_prunable(&e.value().0, at))
        .map(|e| e.key().clone())
        .collect();
    for key in markers {
        state.markers.remove(&key);
    }
    let tokens: Vec<String> = state
        .replay_tokens
        .iter()
        .filter(|e| !e.value().0.is_valid(at))
        .map(|e| e.key().clone())
        .collect();
    for key in tokens {
        state.replay_tokens.remove(&key);
    }
    let closed: Vec<String> = state
        .connections
        .iter()
        .filter(|e| {
            e.value()
                .0
                .closed_at
                .is_some_and(|c| at > c.plus(CLOSED_CONNECTION_TTL_SECONDS))
        })
        .map(|e| e.key().clone())
        .collect();
    for key in closed {
        state.connections.remove(&key);
    }
}

/// The receipt an event is, if it is one (anchored on Arweave through the worker).
pub fn receipt_kind(payload: &EventType) -> Option<ReceiptKind> {
    match payload {
        EventType::SettlementCommitted { .. } => Some(ReceiptKind::Settlement),
        EventType::AttestationSent { .. } => Some(ReceiptKind::Attestation),
        _ => None,
    }
}

/// A state rebuilt from `events` alone, on a fresh volatile memory.
pub fn replay(events: impl IntoIterator<Item = Event>) -> State<VectorMemory> {
    let mut state = State::open_with_bucket_pages(VectorMemory::default(), 1);
    for event in events {
        apply_state_transition(&mut state, &event);
        state
            .events
            .append(&Cbor(event))
            .expect("the event log can grow");
    }
    state
}

/// The live state's log replayed.
pub fn replay_events() -> State<VectorMemory> {
    super::with(|s| replay((0..s.event_count()).filter_map(|i| s.event(i))))
}

/// The structures where the live state and its replayed log differ (empty: they agree).
pub fn check_against_log() -> Vec<&'static str> {
    let replayed = replay_events();
    super::with(|live| differences(live, &replayed))
}

fn same_map<K, V, A, B>(
    a: &StableBTreeMap<K, V, Region<A>>,
    b: &StableBTreeMap<K, V, Region<B>>,
) -> bool
where
    K: Storable + Ord + Clone,
    V: Storable,
    A: Memory + Clone,
    B: Memory + Clone,
{
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|(x, y)| {
            x.key().to_bytes() == y.key().to_bytes() && x.value().to_bytes() == y.value().to_bytes()
        })
}

/// Names of the structures that differ between `a` and `b`.
pub fn differences<A: Memory + Clone, B: Memory + Clone>(
    a: &State<A>,
    b: &State<B>,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.config() != b.config() {
        out.push("config");
    }
    let checks = [
        ("accounts", same_map(&a.accounts, &b.accounts)),
        (
            "verifications",
            same_map(&a.verifications, &b.verifications),
        ),
        ("connections", same_map(&a.connections, &b.connections)),
        ("markers", same_map(&a.markers, &b.markers)),
        ("entitlements", same_map(&a.entitlements, &b.entitlements)),
        (
            "replay_tokens",
            same_map(&a.replay_tokens, &b.replay_tokens),
        ),
        ("presence", same_map(&a.presence, &b.presence)),
        ("bookings", same_map(&a.bookings, &b.bookings)),
        (
            "credit_events",
            same_map(&a.credit_events, &b.credit_events),
        ),
        ("sweeps", same_map(&a.sweeps, &b.sweeps)),
        ("signer_keys", same_map(&a.signer_keys, &b.signer_keys)),
        (
            "oracle_nonces",
            same_map(&a.oracle_nonces, &b.oracle_nonces),
        ),
        ("counters", same_map(&a.counters, &b.counters)),
        ("sweep_run", a.sweep_run() == b.sweep_run()),
        (
            "pending_receipts",
            same_map(&a.pending_receipts, &b.pending_receipts),
        ),
        ("anchors", same_map(&a.anchors, &b.anchors)),
    ];
    out.extend(
        checks
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| name),
    );
    if a.event_count() != b.event_count() {
        out.push("events");
    }
    out
}
