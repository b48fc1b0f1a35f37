//! Rebuilding the state from the audit log alone, and comparing it with the live state
//! structure by structure.

use ic_stable_structures::{Memory, StableBTreeMap, Storable, VectorMemory};

use super::{Event, apply_state_transition};
use crate::state::{Region, State};

/// Bucket size of a replayed state's memory: one 64 KiB page, so a replay in a query grows
/// the heap by what the state holds, not by a bucket per structure.
const REPLAY_BUCKET_PAGES: u16 = 1;

/// Why a log could not be replayed, or where the replay differs from the live state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditFinding {
    /// Entry `index` was written by an older build without the data to apply it.
    LegacyEvent {
        /// Position in the log.
        index: u64,
    },
    /// The replayed state differs from the live one in `structure`, first at `key` (`None`
    /// for a cell).
    Differs {
        /// Which stable structure.
        structure: &'static str,
        /// The first key whose entry differs (or exists on one side only).
        key: Option<String>,
    },
}

/// A state rebuilt from `events` alone, on a fresh volatile memory.
pub fn replay(
    events: impl IntoIterator<Item = Event>,
) -> Result<State<VectorMemory>, AuditFinding> {
    let mut state = State::open_with_bucket_pages(VectorMemory::default(), REPLAY_BUCKET_PAGES);
    for (index, event) in events.into_iter().enumerate() {
        if event.payload.is_legacy() {
            return Err(AuditFinding::LegacyEvent {
                index: index as u64,
            });
        }
        apply_state_transition(&mut state, &event);
    }
    Ok(state)
}

/// The canister's state rebuilt from its audit log.
pub fn replay_events() -> Result<State<VectorMemory>, AuditFinding> {
    crate::state::with(|live| replay(live.events_from(0)))
}

/// Replays the audit log and compares every stable structure with the live state; `Ok` with
/// the number of events when they agree.
pub fn check_against_log() -> Result<u64, AuditFinding> {
    crate::state::with(|live| {
        let replayed = replay(live.events_from(0))?;
        compare(live, &replayed)?;
        Ok(live.event_count())
    })
}

/// The first difference between two states' stable structures (the log excepted).
pub fn compare<A: Memory + Clone, B: Memory + Clone>(
    a: &State<A>,
    b: &State<B>,
) -> Result<(), AuditFinding> {
    let cell = |structure: &'static str, same: bool| {
        if same {
            Ok(())
        } else {
            Err(AuditFinding::Differs {
                structure,
                key: None,
            })
        }
    };
    cell("config", a.config() == b.config())?;
    cell("secrets", a.secrets() == b.secrets())?;
    same_entries("shadow_profiles", &a.shadow_profiles, &b.shadow_profiles)?;
    same_entries("claim_tokens", &a.claim_tokens, &b.claim_tokens)?;
    same_entries(
        "claim_token_by_hash",
        &a.claim_token_by_hash,
        &b.claim_token_by_hash,
    )?;
    same_entries(
        "claim_token_by_code",
        &a.claim_token_by_code,
        &b.claim_token_by_code,
    )?;
    same_entries("users", &a.users, &b.users)?;
    same_entries("names", &a.names, &b.names)?;
    same_entries("names_by_owner", &a.names_by_owner, &b.names_by_owner)?;
    same_entries("reserved", &a.reserved, &b.reserved)?;
    same_entries("nonces", &a.nonces, &b.nonces)?;
    same_entries("pow_challenges", &a.pow_challenges, &b.pow_challenges)?;
    same_entries("permit_windows", &a.permit_windows, &b.permit_windows)?;
    same_entries("identities", &a.identities, &b.identities)?;
    same_entries("wallet_limits", &a.wallet_limits, &b.wallet_limits)?;
    same_entries("relayer_nonces", &a.relayer_nonces, &b.relayer_nonces)?;
    same_entries("counters", &a.counters, &b.counters)?;
    same_entries("signer_keys", &a.signer_keys, &b.signer_keys)?;
    same_entries("claim_attempts", &a.claim_attempts, &b.claim_attempts)?;
    same_entries("register_windows", &a.register_windows, &b.register_windows)?;
    same_entries("self_sessions", &a.self_sessions, &b.self_sessions)?;
    same_entries(
        "self_sessions_by_user",
        &a.self_sessions_by_user,
        &b.self_sessions_by_user,
    )?;
    same_entries("likes", &a.likes, &b.likes)?;
    same_entries("likes_by_target", &a.likes_by_target, &b.likes_by_target)?;
    same_entries("matches", &a.matches, &b.matches)?;
    same_entries(
        "featured_profiles",
        &a.featured_profiles,
        &b.featured_profiles,
    )?;
    same_entries("claimed_profiles", &a.claimed_profiles, &b.claimed_profiles)?;
    same_entries("like_windows", &a.like_windows, &b.like_windows)?;
    same_entries("import_batches", &a.import_batches, &b.import_batches)?;
    same_entries("publications", &a.publications, &b.publications)?;
    same_entries("publisher_nonces", &a.publisher_nonces, &b.publisher_nonces)?;
    Ok(())
}

fn same_entries<K, V, A, B>(
    structure: &'static str,
    a: &StableBTreeMap<K, V, Region<A>>,
    b: &StableBTreeMap<K, V, Region<B>>,
) -> Result<(), AuditFinding>
where
    K: Storable + Ord + Clone + std::fmt::Debug,
    V: Storable + PartialEq,
    A: Memory + Clone,
    B: Memory + Clone,
{
    let differs = |key: &K| AuditFinding::Differs {
        structure,
        key: Some(format!("{key:?}")),
    };
    let mut left = a.iter();
    let mut right = b.iter();
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ok(()),
            (Some(x), None) => return Err(differs(x.key())),
            (None, Some(y)) => return Err(differs(y.key())),
            (Some(x), Some(y)) => {
                if x.key() != y.key() {
                    return Err(differs(x.key().min(y.key())));
                }
                if x.value() != y.value() {
                    return Err(differs(x.key()));
                }
            }
        }
    }
}
