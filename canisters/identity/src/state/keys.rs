//! Keys of the secondary indexes, sliding windows and counters. Their formats are part of the
//! stable layout: the state written by one build is read by the next.

/// How long a failed DM code counts toward a profile's attempts limit (not in the original).
/// Part of how [`super::event::EventType::ClaimCompleted`]'s neighbour `ClaimCodeRejected` is
/// applied, so it is permanent.
pub const CLAIM_ATTEMPT_WINDOW_NS: u64 = 60 * 60 * 1_000_000_000;

/// Counter of issued permits (the `<seq>` of window keys).
pub const PERMIT_SEQ: &str = "permit_issuance";
/// Counter of legacy registrations (the `<seq>` of their window keys).
pub const REGISTER_SEQ: &str = "name_registration";
/// Counter of expiry sweeps.
pub const SWEEPS: &str = "sweeps";
/// IC time (ns) of the last expiry sweep.
pub const LAST_SWEEP_NS: &str = "last_sweep_ns";

/// `names_by_owner` key.
pub fn owner_key(owner: &str, label: &str) -> String {
    format!("{owner}|{label}")
}

/// `claim_token_by_code` key.
pub fn code_index_key(code_hash: &str, claim_id: &str) -> String {
    format!("{code_hash}|{claim_id}")
}

/// `claim_attempts` key of a failure at `at_ns`.
pub fn attempt_key(profile_id: &str, at_ns: u64) -> String {
    format!("{profile_id}|{at_ns:020}")
}

/// The prefix of every `claim_attempts` key of `profile_id`.
pub fn attempt_prefix(profile_id: &str) -> String {
    format!("{profile_id}|")
}

/// The time of an attempt key's record, when `key` (which starts with `prefix`) is one of the
/// profile's and not of another id that merely starts with `<profile_id>|`.
pub fn attempt_time(key: &str, prefix: &str) -> Option<u64> {
    let at = key.strip_prefix(prefix)?;
    (at.len() == 20 && at.bytes().all(|b| b.is_ascii_digit()))
        .then(|| at.parse().ok())
        .flatten()
}

/// A sliding-window key: `<kind>|<value>|<at, 20 digits>|<seq, 20 digits>`.
pub fn window_key(kind: char, value: &str, at: u64, seq: u64) -> String {
    format!("{kind}|{value}|{at:020}|{seq:020}")
}

/// The prefix of `kind` keys of `value`, and the first key at or after `since`.
pub fn window_range(kind: char, value: &str, since: u64) -> (String, String) {
    let prefix = format!("{kind}|{value}|");
    let start = format!("{prefix}{since:020}");
    (prefix, start)
}

/// Whether `rest` (a window key after its `<kind>|<value>|` prefix) is `<at>|<seq>`: keys of
/// another value that merely starts with `<value>|` (device ids are client text) are not.
pub fn is_window_tail(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.len() == 41
        && bytes[20] == b'|'
        && bytes[..20]
            .iter()
            .chain(&bytes[21..])
            .all(u8::is_ascii_digit)
}

/// The time a window key was written at.
pub fn window_time(key: &str) -> Option<u64> {
    // The value may itself contain `|` (device ids are client text), so count from the end.
    let mut parts = key.rsplitn(3, '|');
    let _seq = parts.next()?;
    parts.next()?.parse().ok()
}

/// The window a permit counts toward for its wallet: the wallet's own (`w|<wallet>`) when the
/// request was signed by the wallet, else the wallet as asked for by that requester
/// (`u|<wallet>|<requester>`), so a stranger cannot spend the wallet's own limit
/// (docs/adr/0010-permit-wallet-limit.md).
pub fn wallet_window(wallet: &str, requester: Option<&str>) -> (char, String) {
    match requester {
        None => ('w', wallet.to_string()),
        Some(requester) => ('u', format!("{wallet}|{requester}")),
    }
}

/// `signer_keys` key of `role` under the threshold key `key_name`.
pub fn signer_key_id(key_name: &str, role: &str) -> String {
    format!("{key_name}|{role}")
}

/// Counter of likes (the `likes.id` sequence; imports raise it to the highest imported id).
pub const LIKE_SEQ: &str = "like_seq";
/// Counter of matches (the `matches.id` sequence).
pub const MATCH_SEQ: &str = "match_seq";
/// Counter of like rate-limit window keys.
pub const LIKE_WINDOW_SEQ: &str = "like_window_seq";

/// `likes` key: the original's unique `(liker_address, target_type, target_id)`.
pub fn like_key(liker: &str, target_type: &str, target_id: &str) -> String {
    format!("{liker}|{target_type}|{target_id}")
}

/// The prefix of every `likes` key of `liker`.
pub fn liker_prefix(liker: &str) -> String {
    format!("{liker}|")
}

/// How a like's target is matched: `user` ids case-insensitively, `shadow` ids as sent.
pub fn target_key(target_type: &str, target_id: &str) -> String {
    if target_type == "user" {
        target_id.to_lowercase()
    } else {
        target_id.to_string()
    }
}

/// `likes_by_target` key.
pub fn like_target_key(target_type: &str, target_id: &str, created_at_ms: u64, id: u64) -> String {
    format!(
        "{}|{}|{created_at_ms:020}|{id:020}",
        target_type,
        target_key(target_type, target_id)
    )
}

/// The prefix of every `likes_by_target` key of a target (`target_id` already a target key).
pub fn like_target_prefix(target_type: &str, target_key: &str) -> String {
    format!("{target_type}|{target_key}|")
}

/// `matches` key of two lowercase addresses (ordered).
pub fn match_key(user1: &str, user2: &str) -> String {
    format!("{user1}|{user2}")
}

/// `featured_profiles` key.
pub fn featured_key(rank: u64, id: &str) -> String {
    format!("{rank:020}|{id}")
}

/// `claimed_profiles` key.
pub fn claimed_key(address: &str, id: &str) -> String {
    format!("{address}|{id}")
}

/// `self_sessions_by_user` key.
pub fn session_user_key(address: &str, created_at: u64, session_id: &str) -> String {
    format!("{address}|{created_at:020}|{session_id}")
}

/// `import_batches` key.
pub fn import_batch_key(run: &str, batch: u64) -> String {
    format!("{run}|{batch:020}")
}
