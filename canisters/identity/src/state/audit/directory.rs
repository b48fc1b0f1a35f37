//! How the dating-directory and Self events change the state: shadow profiles with their
//! indexes, likes and matches, Self sessions and identities, and imported rows. Read helpers
//! the routes share with these transitions (a like's target address, the reciprocal like)
//! live here too, so the route's answer and the applied event cannot disagree.

use ic_stable_structures::Memory;

use super::super::event::ImportRows;
use super::super::keys::{self, LIKE_SEQ, LIKE_WINDOW_SEQ, MATCH_SEQ, PERMIT_SEQ};
use super::super::records::{IdentityRecord, Like, Match, SelfSession, ShadowProfile, User};
use super::super::{Cbor, KeySet, State};

/// Stores `profile` (replacing the one with its id) and keeps its index entries in step.
pub fn put_profile<M: Memory + Clone>(state: &mut State<M>, profile: ShadowProfile) {
    if let Some(Cbor(old)) = state.shadow_profiles.get(&profile.id) {
        if old.featured_rank > 0 {
            state
                .featured_profiles
                .remove(&keys::featured_key(old.featured_rank as u64, &old.id));
        }
        if let Some(address) = &old.claimed_address {
            state
                .claimed_profiles
                .remove(&keys::claimed_key(address, &old.id));
        }
    }
    index_profile(state, &profile);
    state
        .shadow_profiles
        .insert(profile.id.clone(), Cbor(profile));
}

fn index_profile<M: Memory + Clone>(state: &mut State<M>, profile: &ShadowProfile) {
    if profile.featured_rank > 0 {
        state.featured_profiles.insert(
            keys::featured_key(profile.featured_rank as u64, &profile.id),
            (),
        );
    }
    if let Some(address) = &profile.claimed_address {
        state
            .claimed_profiles
            .insert(keys::claimed_key(address, &profile.id), ());
    }
}

/// Builds both profile indexes from the stored profiles.
pub fn build_profile_indexes<M: Memory + Clone>(state: &mut State<M>) {
    let profiles: Vec<ShadowProfile> = state.shadow_profiles.iter().map(|e| e.value().0).collect();
    for profile in &profiles {
        index_profile(state, profile);
    }
}

/// Whether a build without the profile indexes left profiles that need them.
pub fn profile_indexes_missing<M: Memory + Clone>(state: &State<M>) -> bool {
    state.featured_profiles.is_empty()
        && state.claimed_profiles.is_empty()
        && state
            .shadow_profiles
            .iter()
            .any(|e| e.value().0.featured_rank > 0 || e.value().0.claimed_address.is_some())
}

/// Ids of the profiles `address` claimed, in id order.
pub fn profiles_claimed_by<M: Memory + Clone>(state: &State<M>, address: &str) -> Vec<String> {
    let prefix = keys::claimed_key(address, "");
    state
        .claimed_profiles
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .map(|k| k[prefix.len()..].to_string())
        .collect()
}

/// The address a like's target resolves to: a `user` id lowercased, a `shadow` profile's
/// claimed address (none while unclaimed or unknown).
pub fn target_address<M: Memory + Clone>(
    state: &State<M>,
    target_type: &str,
    target_id: &str,
) -> Option<String> {
    if target_type == "user" {
        return Some(target_id.to_lowercase());
    }
    state
        .shadow_profiles
        .get(&target_id.to_string())
        .and_then(|p| p.0.claimed_address)
        .map(|a| a.to_lowercase())
        .filter(|a| !a.is_empty())
}

/// Whether `liker` liked `viewer`: as a `user` (case-insensitive id) or through a shadow
/// profile `viewer` claimed.
pub fn liked_back<M: Memory + Clone>(state: &State<M>, liker: &str, viewer: &str) -> bool {
    let prefix = keys::liker_prefix(liker);
    state
        .likes
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .any(|key| match key[prefix.len()..].split_once('|') {
            Some(("user", id)) => id.to_lowercase() == viewer,
            Some(("shadow", id)) => state
                .shadow_profiles
                .get(&id.to_string())
                .and_then(|p| p.0.claimed_address)
                .is_some_and(|a| a.to_lowercase() == viewer),
            _ => false,
        })
}

fn bump<M: Memory + Clone>(state: &mut State<M>, name: &str) -> u64 {
    let next = state.counter(name) + 1;
    state.counters.insert(name.to_string(), next);
    next
}

fn raise<M: Memory + Clone>(state: &mut State<M>, name: &str, at_least: u64) {
    if state.counter(name) < at_least {
        state.counters.insert(name.to_string(), at_least);
    }
}

/// Drops `kind|value` window keys written at or before `since`, then adds one at `at`.
fn count_in_window<M: Memory + Clone>(
    windows: &mut KeySet<M>,
    kind: char,
    value: &str,
    since: u64,
    at: u64,
    seq: u64,
) {
    let (prefix, _) = keys::window_range(kind, value, 0);
    let stale: Vec<String> = windows
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .filter(|k| keys::is_window_tail(&k[prefix.len()..]))
        .filter(|k| keys::window_time(k).is_some_and(|t| t <= since))
        .collect();
    for key in stale {
        windows.remove(&key);
    }
    windows.insert(keys::window_key(kind, value, at, seq), ());
}

/// What a submitted like does (see `EventType::LikeSubmitted`).
pub struct LikeSubmission<'a> {
    /// Lowercase viewer.
    pub viewer: &'a str,
    /// `user` or `shadow`.
    pub target_type: &'a str,
    /// As sent.
    pub target_id: &'a str,
    /// Vouched client IP's hash.
    pub ip_hash: Option<&'a str>,
    /// Window length, seconds.
    pub window_seconds: u64,
}

/// Applies a submitted like at `at_ns`.
pub fn submit_like<M: Memory + Clone>(state: &mut State<M>, like: &LikeSubmission, at_ns: u64) {
    let at = at_ns / 1_000_000_000;
    let at_ms = at_ns / 1_000_000;
    let viewer = like.viewer.to_string();
    let user = match state.users.get(&viewer) {
        Some(Cbor(mut user)) => {
            user.last_active_at_ms = Some(at_ms);
            user
        }
        None => User {
            address: viewer.clone(),
            created_at_ms: at_ms,
            last_active_at_ms: Some(at_ms),
            directory_tier: "claimed".into(),
        },
    };
    state.users.insert(viewer.clone(), Cbor(user));

    let since = at.saturating_sub(like.window_seconds);
    let seq = bump(state, LIKE_WINDOW_SEQ);
    count_in_window(&mut state.like_windows, 'v', like.viewer, since, at, seq);
    if let Some(ip) = like.ip_hash {
        count_in_window(&mut state.like_windows, 'i', ip, since, at, seq);
    }

    let key = keys::like_key(like.viewer, like.target_type, like.target_id);
    if state.likes.contains_key(&key) {
        return;
    }
    let id = bump(state, LIKE_SEQ);
    let record = Like {
        id,
        liker_address: viewer.clone(),
        target_type: like.target_type.to_string(),
        target_id: like.target_id.to_string(),
        created_at_ms: at_ms,
    };
    insert_like(state, record);
    if like.target_type == "shadow"
        && let Some(Cbor(mut profile)) = state.shadow_profiles.get(&like.target_id.to_string())
    {
        profile.likes_received += 1;
        state
            .shadow_profiles
            .insert(profile.id.clone(), Cbor(profile));
    }
    let Some(target) = target_address(state, like.target_type, like.target_id) else {
        return;
    };
    if !liked_back(state, &target, like.viewer) {
        return;
    }
    let (user1, user2) = if viewer < target {
        (viewer, target)
    } else {
        (target, viewer)
    };
    let match_key = keys::match_key(&user1, &user2);
    if !state.matches.contains_key(&match_key) {
        let id = bump(state, MATCH_SEQ);
        let record = Match {
            id,
            user1,
            user2,
            created_at_ms: at_ms,
        };
        state.matches.insert(match_key, Cbor(record));
    }
}

/// Stores a like (replacing the one with its key) with its target index entry.
fn insert_like<M: Memory + Clone>(state: &mut State<M>, like: Like) {
    let key = keys::like_key(&like.liker_address, &like.target_type, &like.target_id);
    if let Some(Cbor(old)) = state.likes.get(&key) {
        state.likes_by_target.remove(&keys::like_target_key(
            &old.target_type,
            &old.target_id,
            old.created_at_ms,
            old.id,
        ));
    }
    state.likes_by_target.insert(
        keys::like_target_key(
            &like.target_type,
            &like.target_id,
            like.created_at_ms,
            like.id,
        ),
        key.clone(),
    );
    state.likes.insert(key, Cbor(like));
}

/// Stores a Self session (replacing the one with its id) with its per-user index entry.
pub fn put_session<M: Memory + Clone>(state: &mut State<M>, session: SelfSession) {
    if let Some(Cbor(old)) = state.self_sessions.get(&session.session_id) {
        state.self_sessions_by_user.remove(&keys::session_user_key(
            &old.user_address,
            old.created_at,
            &old.session_id,
        ));
    }
    state.self_sessions_by_user.insert(
        keys::session_user_key(
            &session.user_address,
            session.created_at,
            &session.session_id,
        ),
        (),
    );
    state
        .self_sessions
        .insert(session.session_id.clone(), Cbor(session));
}

/// Changes a stored session with `change`.
pub fn update_session<M: Memory + Clone>(
    state: &mut State<M>,
    session_id: &str,
    change: impl FnOnce(&mut SelfSession),
) {
    if let Some(Cbor(mut session)) = state.self_sessions.get(&session_id.to_string()) {
        change(&mut session);
        state
            .self_sessions
            .insert(session.session_id.clone(), Cbor(session));
    }
}

/// What a successful Self webhook established.
pub struct Verified<'a> {
    /// Session id.
    pub session_id: &'a str,
    /// `YYYY-MM-DD`.
    pub date_of_birth: &'a str,
    /// Whole years.
    pub age: i64,
    /// Nationality.
    pub nationality: &'a str,
    /// Attestation id.
    pub attestation_id: i64,
    /// Proof hash.
    pub proof_hash: &'a str,
    /// App-scoped nullifier.
    pub nullifier_hash: &'a str,
}

/// Applies a successful verification at `at` (seconds).
pub fn self_verified<M: Memory + Clone>(state: &mut State<M>, v: &Verified, at: u64) {
    let Some(Cbor(session)) = state.self_sessions.get(&v.session_id.to_string()) else {
        return;
    };
    update_session(state, v.session_id, |s| {
        s.status = "verified".into();
        s.date_of_birth = Some(v.date_of_birth.to_string());
        s.age = Some(v.age);
        s.nationality = Some(v.nationality.to_string());
        s.attestation_id = Some(v.attestation_id);
        s.proof_hash = Some(v.proof_hash.to_string());
        s.verified_at = Some(at);
    });
    let address = session.user_address;
    let created_at = state
        .identities
        .get(&address)
        .and_then(|r| r.0.created_at)
        .unwrap_or(at);
    let identity = IdentityRecord {
        address: address.clone(),
        nullifier_hash: Some(v.nullifier_hash.to_string()),
        verified_at: at,
        date_of_birth: Some(v.date_of_birth.to_string()),
        age_at_verification: Some(v.age),
        nationality: Some(v.nationality.to_string()),
        verification_session_id: Some(v.session_id.to_string()),
        created_at: Some(created_at),
        updated_at: Some(at),
    };
    state.identities.insert(address.clone(), Cbor(identity));
    if let Some(Cbor(mut user)) = state.users.get(&address) {
        user.directory_tier = "verified".into();
        state.users.insert(address, Cbor(user));
    }
}

/// Applies imported rows (each replaces the row with its key); a run's batch is recorded.
pub fn import_rows<M: Memory + Clone>(
    state: &mut State<M>,
    run: Option<&str>,
    batch: Option<u64>,
    rows: &ImportRows,
) {
    if let (Some(run), Some(batch)) = (run, batch) {
        state
            .import_batches
            .insert(keys::import_batch_key(run, batch), ());
    }
    for user in &rows.users {
        state.users.insert(user.address.clone(), Cbor(user.clone()));
    }
    for profile in &rows.shadow_profiles {
        put_profile(state, profile.clone());
    }
    for claim in &rows.claim_tokens {
        if let Some(Cbor(old)) = state.claim_tokens.get(&claim.id) {
            state.claim_token_by_hash.remove(&old.token_hash);
            state
                .claim_token_by_code
                .remove(&keys::code_index_key(&old.human_code_hash, &old.id));
        }
        state
            .claim_token_by_hash
            .insert(claim.token_hash.clone(), claim.id.clone());
        state
            .claim_token_by_code
            .insert(keys::code_index_key(&claim.human_code_hash, &claim.id), ());
        state
            .claim_tokens
            .insert(claim.id.clone(), Cbor(claim.clone()));
    }
    for like in &rows.likes {
        raise(state, LIKE_SEQ, like.id);
        insert_like(state, like.clone());
    }
    for m in &rows.matches {
        raise(state, MATCH_SEQ, m.id);
        state
            .matches
            .insert(keys::match_key(&m.user1, &m.user2), Cbor(m.clone()));
    }
    for session in &rows.self_sessions {
        put_session(state, session.clone());
    }
    for identity in &rows.identities {
        state
            .identities
            .insert(identity.address.clone(), Cbor(identity.clone()));
    }
    for name in &rows.names {
        if let Some(Cbor(old)) = state.names.get(&name.label) {
            state
                .names_by_owner
                .remove(&keys::owner_key(&old.owner, &old.label));
        }
        state
            .names_by_owner
            .insert(keys::owner_key(&name.owner, &name.label), ());
        state.names.insert(name.label.clone(), Cbor(name.clone()));
    }
    for reserved in &rows.reserved {
        state
            .reserved
            .insert(reserved.label.clone(), reserved.reason.clone());
    }
    for permit in &rows.permit_issuance {
        let seq = bump(state, PERMIT_SEQ);
        let at = permit.issued_at;
        let windows = &mut state.permit_windows;
        windows.insert(keys::window_key('w', &permit.wallet, at, seq), ());
        if let Some(ip) = &permit.ip_hash {
            windows.insert(keys::window_key('i', ip, at, seq), ());
        }
        if let Some(device) = &permit.device_id {
            windows.insert(keys::window_key('d', device, at, seq), ());
        }
    }
}
