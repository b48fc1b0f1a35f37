//! The one place the state changes: [`process_event`] applies an event and appends it to the
//! audit log in the same step, so the log and the state cannot drift. [`replay_events`]
//! rebuilds a state from the log alone, on a fresh volatile memory, and
//! [`check_against_log`] compares every stable structure of the live state with that replay.
//!
//! [`apply_state_transition`] is deterministic: it reads only the state and the event (whose
//! timestamp stands for "now"), never the clock, the caller or randomness.

use ic_stable_structures::Memory;

pub use super::event::{Event, EventType};
use super::keys::{self, CLAIM_ATTEMPT_WINDOW_NS, LAST_SWEEP_NS, PERMIT_SEQ, REGISTER_SEQ, SWEEPS};
use super::publishing::{self, Publication};
use super::records::{
    ClaimToken, HeavenName, IdentityRecord, PowChallenge, SecretKind, Secrets, SelfSession,
    UsedNonce, User,
};
use super::{Cbor, State};
use crate::time::Now;

pub mod directory;
mod replay;

pub use replay::{AuditFinding, check_against_log, compare, replay, replay_events};

/// Applies `payload` at `now` and appends it to the audit log.
pub fn process_event(state: &mut State, now: Now, payload: EventType) {
    debug_assert!(!payload.is_legacy(), "legacy events are never written");
    let event = Event {
        timestamp: now.ns,
        payload,
    };
    apply_state_transition(state, &event);
    state
        .events
        .append(&Cbor(event))
        .expect("the event log can grow");
}

/// Changes `state` as `event` says. Legacy variants (written by older builds without their
/// data) change nothing; [`replay`] refuses logs that hold them.
pub fn apply_state_transition<M: Memory + Clone>(state: &mut State<M>, event: &Event) {
    let at_ns = event.timestamp;
    let at = at_ns / 1_000_000_000;
    let at_ms = at_ns / 1_000_000;
    match &event.payload {
        EventType::Installed {
            ecdsa_key_name,
            installs,
        } => update_config(state, |c| {
            c.ecdsa_key_name = ecdsa_key_name.clone();
            c.installs = *installs;
        }),
        EventType::NamesPolicyConfigured { config } => {
            update_config(state, |c| c.names_policy = config.clone());
        }
        EventType::WalletRelayConfigured { config } => {
            update_config(state, |c| c.wallet = config.clone());
        }
        EventType::AccessConfigured {
            development,
            trusted_edges,
        } => update_config(state, |c| {
            c.development = *development;
            c.trusted_edges = trusted_edges.clone();
        }),
        EventType::SecretSet { which, sha256 } => {
            let mut secrets = state.secrets.get().0.clone();
            set_secret(&mut secrets, *which, sha256.clone());
            state.secrets.set(Cbor(secrets));
        }
        EventType::ShadowProfileImported { profile } => {
            directory::put_profile(state, profile.clone());
        }
        EventType::ClaimStarted {
            claim_id,
            shadow_profile_id,
            method,
            token_hash,
            human_code_hash,
            expires_at_ms,
        } => {
            state
                .claim_token_by_hash
                .insert(token_hash.clone(), claim_id.clone());
            state
                .claim_token_by_code
                .insert(keys::code_index_key(human_code_hash, claim_id), ());
            let claim = ClaimToken {
                id: claim_id.clone(),
                shadow_profile_id: shadow_profile_id.clone(),
                token_hash: token_hash.clone(),
                human_code_hash: human_code_hash.clone(),
                method: method.clone(),
                issued_at_ms: at_ms,
                expires_at_ms: *expires_at_ms,
                used: false,
                used_at_ms: None,
                used_by: None,
            };
            state.claim_tokens.insert(claim_id.clone(), Cbor(claim));
        }
        EventType::ClaimCompleted { claim_id, address } => {
            complete_claim(state, claim_id, address, at_ms);
        }
        EventType::ClaimCodeRejected { shadow_profile_id } => {
            reject_claim_code(state, shadow_profile_id, at_ns);
        }
        EventType::IdentityImported { record } => {
            state
                .identities
                .insert(record.address.clone(), Cbor(IdentityRecord::clone(record)));
        }
        EventType::ReservedChanged { label, reason } => match reason {
            Some(reason) => {
                state.reserved.insert(label.clone(), reason.clone());
            }
            None => {
                state.reserved.remove(label);
            }
        },
        EventType::NameRegistered {
            label,
            label_display,
            owner,
            profile_cid,
            expires_at,
            grace_ends_at,
            nonce,
            ip_hash,
        } => {
            spend_nonce(state, nonce, owner, at);
            let seq = bump_counter(state, REGISTER_SEQ);
            let windows = &mut state.register_windows;
            windows.insert(keys::window_key('o', owner, at, seq), ());
            if let Some(ip) = ip_hash {
                windows.insert(keys::window_key('i', ip, at, seq), ());
            }
            if let Some(Cbor(previous)) = state.names.get(label) {
                state
                    .names_by_owner
                    .remove(&keys::owner_key(&previous.owner, label));
            }
            let name = HeavenName {
                label: label.clone(),
                label_display: Some(label_display.clone()),
                owner: owner.clone(),
                status: "active".into(),
                registered_at: at,
                expires_at: *expires_at,
                grace_ends_at: *grace_ends_at,
                profile_cid: profile_cid.clone(),
                created_at: at,
                updated_at: at,
            };
            state.names.insert(label.clone(), Cbor(name));
            state
                .names_by_owner
                .insert(keys::owner_key(owner, label), ());
        }
        EventType::NameRenewed {
            label,
            expires_at,
            grace_ends_at,
            nonce,
        } => {
            if let Some(Cbor(mut name)) = state.names.get(label) {
                spend_nonce(state, nonce, &name.owner, at);
                name.expires_at = *expires_at;
                name.grace_ends_at = *grace_ends_at;
                name.status = "active".into();
                name.updated_at = at;
                state.names.insert(label.clone(), Cbor(name));
            }
        }
        EventType::NameProfileUpdated {
            label,
            profile_cid,
            nonce,
        } => {
            if let Some(Cbor(mut name)) = state.names.get(label) {
                spend_nonce(state, nonce, &name.owner, at);
                name.profile_cid = profile_cid.clone();
                name.updated_at = at;
                state.names.insert(label.clone(), Cbor(name));
            }
        }
        EventType::NameMirrored {
            label,
            owner,
            expires_at,
            grace_ends_at,
        } => mirror_name(state, label, owner, *expires_at, *grace_ends_at, at),
        EventType::PowChallengeIssued {
            challenge_id,
            wallet,
            label_hash,
            parent_node,
            challenge,
            difficulty,
            expires_at,
        } => {
            let record = PowChallenge {
                wallet: wallet.clone(),
                label_hash: label_hash.clone(),
                parent_node: parent_node.clone(),
                challenge: challenge.clone(),
                difficulty: *difficulty,
                expires_at: *expires_at,
                consumed_at: None,
                created_at: at,
            };
            state
                .pow_challenges
                .insert(challenge_id.clone(), Cbor(record));
        }
        EventType::PowChallengeConsumed { challenge_id } => {
            if let Some(Cbor(mut challenge)) = state.pow_challenges.get(challenge_id) {
                challenge.consumed_at = Some(at);
                state
                    .pow_challenges
                    .insert(challenge_id.clone(), Cbor(challenge));
            }
        }
        EventType::PermitIssued {
            wallet,
            ip_hash,
            device_id,
            requester,
            ..
        } => {
            let seq = bump_counter(state, PERMIT_SEQ);
            let windows = &mut state.permit_windows;
            let (kind, value) = keys::wallet_window(wallet, requester.as_deref());
            windows.insert(keys::window_key(kind, &value, at, seq), ());
            if let Some(ip) = ip_hash {
                windows.insert(keys::window_key('i', ip, at, seq), ());
            }
            if let Some(device) = device_id {
                windows.insert(keys::window_key('d', device, at, seq), ());
            }
        }
        EventType::SignerKeyFetched {
            key_name,
            role,
            public_key,
            ..
        } => {
            state
                .signer_keys
                .insert(keys::signer_key_id(key_name, role), public_key.clone());
        }
        EventType::SweepRan {
            challenges_expired_before,
            windows_before,
            register_windows_before,
            ..
        } => {
            let cutoffs = SweepCutoffs {
                challenges_expired_before: *challenges_expired_before,
                windows_before: *windows_before,
                register_windows_before: *register_windows_before,
            };
            sweep(state, &cutoffs);
            bump_counter(state, SWEEPS);
            state.counters.insert(LAST_SWEEP_NS.to_string(), at_ns);
        }
        EventType::RelayerNonceSynced { chain_id, nonce } => {
            state.relayer_nonces.insert(*chain_id, *nonce);
        }
        EventType::RelayerNonceReserved { chain_id, nonce } => {
            state.relayer_nonces.insert(*chain_id, nonce + 1);
        }
        EventType::RelayerNonceReleased { chain_id, nonce } => {
            if state.relayer_nonces.get(chain_id) == Some(nonce + 1) {
                state.relayer_nonces.insert(*chain_id, *nonce);
            } else {
                state.relayer_nonces.remove(chain_id);
            }
        }
        EventType::RelayerNonceForgotten { chain_id } => {
            state.relayer_nonces.remove(chain_id);
        }
        EventType::ProfileRelayCounted { user } => {
            state.wallet_limits.insert(user.clone(), at);
        }
        EventType::TransactionSent { .. } => {}
        EventType::SelfConfigured { config } => {
            update_config(state, |c| c.self_verification = config.clone());
        }
        EventType::LikesConfigured { config } => {
            update_config(state, |c| c.likes = config.clone());
        }
        EventType::SelfSessionCreated {
            session_id,
            user_address,
            expires_at,
        } => directory::put_session(
            state,
            SelfSession {
                session_id: session_id.clone(),
                user_address: user_address.clone(),
                status: "pending".into(),
                created_at: at,
                expires_at: *expires_at,
                ..SelfSession::default()
            },
        ),
        EventType::SelfSessionExpired { session_id } => {
            directory::update_session(state, session_id, |s| s.status = "expired".into());
        }
        EventType::SelfSessionFailed { session_id, reason } => {
            directory::update_session(state, session_id, |s| {
                s.status = "failed".into();
                s.failure_reason = Some(reason.clone());
            });
        }
        EventType::SelfVerified {
            session_id,
            date_of_birth,
            age,
            nationality,
            attestation_id,
            proof_hash,
            nullifier_hash,
        } => {
            let verified = directory::Verified {
                session_id,
                date_of_birth,
                age: *age,
                nationality,
                attestation_id: *attestation_id,
                proof_hash,
                nullifier_hash,
            };
            directory::self_verified(state, &verified, at);
        }
        EventType::LikeSubmitted {
            viewer,
            target_type,
            target_id,
            ip_hash,
            window_seconds,
        } => {
            let like = directory::LikeSubmission {
                viewer,
                target_type,
                target_id,
                ip_hash: ip_hash.as_deref(),
                window_seconds: *window_seconds,
            };
            directory::submit_like(state, &like, at_ns);
        }
        EventType::ProfileIndexesBuilt => directory::build_profile_indexes(state),
        EventType::RowsImported { run, batch, rows } => {
            directory::import_rows(state, run.as_deref(), *batch, rows);
        }
        EventType::PublishingConfigured { config } => {
            update_config(state, |c| c.publishing = config.clone());
        }
        EventType::PublicationRequested { key, kind, digest } => {
            let publication = Publication {
                kind: kind.clone(),
                digest: digest.clone(),
                started_at: at,
                transactions: Vec::new(),
                reply: None,
            };
            state.publications.insert(key.clone(), Cbor(publication));
        }
        EventType::PublicationTransactionSigned { key, transaction } => {
            change_publication(state, key, |p| {
                p.transactions.retain(|t| t.step != transaction.step);
                p.transactions.push(transaction.clone());
            });
        }
        EventType::PublicationTransactionDropped { key, step } => {
            change_publication(state, key, |p| p.transactions.retain(|t| &t.step != step));
        }
        EventType::PublicationCompleted { key, reply } => {
            change_publication(state, key, |p| p.reply = Some(reply.clone()));
        }
        EventType::PublisherNonceSet {
            role,
            chain_id,
            nonce,
        } => {
            state
                .publisher_nonces
                .insert(publishing::nonce_key(role, *chain_id), *nonce);
        }
        EventType::PublisherNonceForgotten { role, chain_id } => {
            state
                .publisher_nonces
                .remove(&publishing::nonce_key(role, *chain_id));
        }
        EventType::LegacyConfigChanged
        | EventType::LegacySecretChanged { .. }
        | EventType::LegacyShadowProfileUpserted { .. }
        | EventType::LegacyClaimStarted { .. }
        | EventType::LegacyNameRegistered { .. }
        | EventType::LegacyNameRenewed { .. }
        | EventType::LegacyNameUpdated { .. }
        | EventType::LegacyPowChallengeIssued { .. }
        | EventType::LegacyPermitIssued { .. }
        | EventType::LegacyIdentityUpserted { .. }
        | EventType::LegacySwept { .. }
        | EventType::LegacySignerKeyFetched { .. } => {}
    }
}

fn change_publication<M: Memory + Clone>(
    state: &mut State<M>,
    key: &str,
    change: impl FnOnce(&mut Publication),
) {
    if let Some(Cbor(mut publication)) = state.publications.get(&key.to_string()) {
        change(&mut publication);
        state
            .publications
            .insert(key.to_string(), Cbor(publication));
    }
}

fn update_config<M: Memory + Clone>(state: &mut State<M>, change: impl FnOnce(&mut super::Config)) {
    let mut config = state.config.get().0.clone();
    change(&mut config);
    state.config.set(Cbor(config));
}

fn set_secret(secrets: &mut Secrets, which: SecretKind, sha256: Option<String>) {
    let (hash, legacy) = match which {
        SecretKind::ClaimStart => (&mut secrets.claim_start, &mut secrets.legacy_claim_start),
        SecretKind::DnsShared => (&mut secrets.dns_shared, &mut secrets.legacy_dns_shared),
        SecretKind::EdgeKey => (&mut secrets.edge_key, &mut secrets.legacy_edge_key),
    };
    *hash = sha256;
    *legacy = None;
}

fn bump_counter<M: Memory + Clone>(state: &mut State<M>, name: &str) -> u64 {
    let next = state.counter(name) + 1;
    state.counters.insert(name.to_string(), next);
    next
}

/// Marks `nonce` used by `owner` at `at` (the request checked it was unused).
fn spend_nonce<M: Memory + Clone>(state: &mut State<M>, nonce: &str, owner: &str, at: u64) {
    state.nonces.insert(
        nonce.to_string(),
        Cbor(UsedNonce {
            owner: owner.to_string(),
            used_at: at,
        }),
    );
}

/// The claim's effects: the user row (if absent), the profile's owner, the token's use.
fn complete_claim<M: Memory + Clone>(
    state: &mut State<M>,
    claim_id: &str,
    address: &str,
    at_ms: u64,
) {
    let Some(Cbor(mut claim)) = state.claim_tokens.get(&claim_id.to_string()) else {
        return;
    };
    if !state.users.contains_key(&address.to_string()) {
        let user = User {
            address: address.to_string(),
            created_at_ms: at_ms,
            last_active_at_ms: None,
            directory_tier: "claimed".to_string(),
        };
        state.users.insert(address.to_string(), Cbor(user));
    }
    if let Some(Cbor(mut profile)) = state.shadow_profiles.get(&claim.shadow_profile_id) {
        profile.claimed_address = Some(address.to_string());
        profile.claimed_at_ms = Some(at_ms);
        profile.updated_at_ms = at_ms;
        directory::put_profile(state, profile);
    }
    claim.used = true;
    claim.used_at_ms = Some(at_ms);
    claim.used_by = Some(address.to_string());
    state.claim_tokens.insert(claim.id.clone(), Cbor(claim));
}

/// Counts a failed code for `profile_id` at `at_ns` and drops its records older than the
/// window.
fn reject_claim_code<M: Memory + Clone>(state: &mut State<M>, profile_id: &str, at_ns: u64) {
    let since = at_ns.saturating_sub(CLAIM_ATTEMPT_WINDOW_NS);
    let prefix = keys::attempt_prefix(profile_id);
    let stale: Vec<String> = state
        .claim_attempts
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .filter(|k| keys::attempt_time(k, &prefix).is_some_and(|t| t <= since))
        .collect();
    for key in stale {
        state.claim_attempts.remove(&key);
    }
    let key = keys::attempt_key(profile_id, at_ns);
    let failures = state.claim_attempts.get(&key).unwrap_or(0) + 1;
    state.claim_attempts.insert(key, failures);
}

/// Upserts the `heaven_names` row of a relayed registration as the original's
/// `INSERT .. ON CONFLICT(label) DO UPDATE`: a new row is registered now; an existing one keeps
/// its registration and creation times, display label and profile CID, and takes the new owner,
/// status, expiry and grace.
fn mirror_name<M: Memory + Clone>(
    state: &mut State<M>,
    label: &str,
    owner: &str,
    expires_at: u64,
    grace_ends_at: u64,
    at: u64,
) {
    let name = match state.names.get(&label.to_string()) {
        Some(Cbor(previous)) => {
            state
                .names_by_owner
                .remove(&keys::owner_key(&previous.owner, label));
            HeavenName {
                owner: owner.to_string(),
                status: "active".into(),
                expires_at,
                grace_ends_at,
                updated_at: at,
                ..previous
            }
        }
        None => HeavenName {
            label: label.to_string(),
            label_display: Some(label.to_string()),
            owner: owner.to_string(),
            status: "active".into(),
            registered_at: at,
            expires_at,
            grace_ends_at,
            profile_cid: None,
            created_at: at,
            updated_at: at,
        },
    };
    state.names.insert(label.to_string(), Cbor(name));
    state
        .names_by_owner
        .insert(keys::owner_key(owner, label), ());
}

/// What the expiry sweep drops: challenges that expired before, and window keys written
/// before, these seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepCutoffs {
    /// Challenges with `expires_at` below this go (their retention passed).
    pub challenges_expired_before: u64,
    /// Permit window keys older than this go.
    pub windows_before: u64,
    /// Registration window keys older than this go.
    pub register_windows_before: u64,
}

fn stale_challenges<M: Memory + Clone>(state: &State<M>, before: u64) -> Vec<String> {
    state
        .pow_challenges
        .iter()
        .filter(|e| e.value().0.expires_at < before)
        .map(|e| e.key().clone())
        .collect()
}

fn stale_keys<M: Memory + Clone>(windows: &super::KeySet<M>, before: u64) -> Vec<String> {
    windows
        .keys()
        .filter(|k| keys::window_time(k).is_some_and(|t| t < before))
        .collect()
}

/// Drops what is older than the cutoffs.
fn sweep<M: Memory + Clone>(state: &mut State<M>, cutoffs: &SweepCutoffs) {
    for id in stale_challenges(state, cutoffs.challenges_expired_before) {
        state.pow_challenges.remove(&id);
    }
    for key in stale_keys(&state.permit_windows, cutoffs.windows_before) {
        state.permit_windows.remove(&key);
    }
    for key in stale_keys(&state.register_windows, cutoffs.register_windows_before) {
        state.register_windows.remove(&key);
    }
}

/// What the expiry sweep at these cutoffs would remove from `state` now: (challenges, permit
/// window keys, registration window keys). The sweep records these counts in its event.
pub fn sweep_preview(state: &State, cutoffs: &SweepCutoffs) -> (u64, u64, u64) {
    (
        stale_challenges(state, cutoffs.challenges_expired_before).len() as u64,
        stale_keys(&state.permit_windows, cutoffs.windows_before).len() as u64,
        stale_keys(&state.register_windows, cutoffs.register_windows_before).len() as u64,
    )
}

#[cfg(test)]
mod tests;
