//! The checks of Self's backend verifier that need no chain, made before any outcall: allowed
//! attestation id, the user context data (its hash is the proof's user identifier, and the
//! user id it carries is the session's address), the scope, the circuit's date window, the
//! forbidden-countries list and `olderThan` against the configuration, OFAC, and the disclosed
//! nationality and date of birth this canister records.

use heaven_eth::U256;
use ripemd::Ripemd160;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::age::{Date, age_on};
use super::celo::Groth16Proof;
use super::disclose::{self, SIGNAL_COUNT, Signals};
use crate::state::SelfVerifierConfig;

const DAY_SECS: u64 = 86_400;

/// A proof that passed every local check: what the chain must still confirm and what is
/// recorded afterwards.
#[derive(Clone, Debug)]
pub struct Checked {
    /// 1 or 2.
    pub attestation_id: u8,
    /// The proof's Merkle root.
    pub root: U256,
    /// The proof.
    pub proof: Groth16Proof,
    /// The 21 signals.
    pub signals: [U256; SIGNAL_COUNT],
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Whole years at verification.
    pub age: i64,
    /// Alpha-3 nationality.
    pub nationality: String,
}

/// What the webhook brings, read.
pub struct Submission<'a> {
    /// The webhook's attestation id.
    pub attestation_id: i64,
    /// `proof` as sent.
    pub proof: Option<&'a Value>,
    /// `publicSignals` (non-strings are `None`; numbers are printed).
    pub public_signals: &'a [Option<String>],
    /// `userContextData` as sent.
    pub user_context_data: &'a str,
    /// The session's address (lowercase `0x` hex).
    pub session_address: &'a str,
    /// Now, in seconds.
    pub now_secs: u64,
}

/// `RIPEMD-160(SHA-256(bytes))` as a number (Self's `calculateUserIdentifierHash`).
pub fn user_identifier_hash(context: &[u8]) -> U256 {
    let inner = Sha256::digest(context);
    let outer = Ripemd160::digest(inner);
    U256::from_be_slice(&outer)
}

fn number(v: &Value) -> Option<U256> {
    match v {
        Value::String(s) => disclose::parse_signal(s),
        Value::Number(n) => n.as_u64().map(U256::from),
        _ => None,
    }
}

fn pair(v: Option<&Value>) -> Option<[U256; 2]> {
    match v? {
        Value::Array(items) if items.len() == 2 => Some([number(&items[0])?, number(&items[1])?]),
        _ => None,
    }
}

/// `{a: [2], b: [[2], [2]], c: [2]}` of numbers (decimal or hex strings).
pub fn read_proof(proof: Option<&Value>) -> Option<Groth16Proof> {
    let proof = proof?;
    let b = match proof.get("b")? {
        Value::Array(rows) if rows.len() == 2 => [pair(rows.first())?, pair(rows.get(1))?],
        _ => return None,
    };
    Some(Groth16Proof {
        a: pair(proof.get("a"))?,
        b,
        c: pair(proof.get("c"))?,
    })
}

/// The circuit date's window (Self's `checkCircuitTimestamp`): not more than a day ahead of
/// now, and its day's end not older than `max_age_secs`.
fn date_issue(circuit: Option<Date>, now_secs: u64, max_age_secs: u64) -> Option<&'static str> {
    let Some(date) = circuit else {
        return Some("Circuit date is invalid");
    };
    let start = date.unix_secs();
    if start > now_secs.saturating_add(DAY_SECS) {
        return Some("Circuit date is in the future");
    }
    let end_of_day = start + DAY_SECS - 1;
    if end_of_day < now_secs.saturating_sub(max_age_secs) {
        return Some("Circuit date is too old");
    }
    None
}

/// Runs the local checks in Self's order; `Err` is the reason the session fails with.
pub fn check(config: &SelfVerifierConfig, s: &Submission) -> Result<Checked, String> {
    let attestation_id = u8::try_from(s.attestation_id)
        .ok()
        .filter(|id| config.allowed_attestation_ids.contains(id))
        .ok_or_else(|| format!("Attestation ID is not allowed: {}", s.attestation_id))?;
    let signals = Signals::read(attestation_id, s.public_signals)
        .ok_or("Invalid publicSignals: expected 21 numbers")?;
    let proof = read_proof(s.proof).ok_or("Invalid proof")?;
    let context_hex = s
        .user_context_data
        .strip_prefix("0x")
        .unwrap_or(s.user_context_data);
    let context = hex::decode(context_hex)
        .ok()
        .filter(|c| c.len() >= 64)
        .ok_or("Invalid userContextData")?;
    if signals.user_identifier() != user_identifier_hash(&context) {
        return Err("User context hash does not match the proof".into());
    }
    let scope = disclose::parse_signal(&config.scope_signal).ok_or("Scope is not configured")?;
    if signals.scope() != scope {
        return Err("Scope does not match the proof".into());
    }
    if signals.attestation_id() != U256::from(attestation_id) {
        return Err("Attestation ID does not match the proof".into());
    }
    // `userIdType: hex`: the user id is the address in the low 20 bytes of the second word.
    let user_id = format!("0x{}", hex::encode(&context[44..64]));
    if context[32..44].iter().any(|b| *b != 0) || user_id != s.session_address {
        return Err("User identifier does not match the session".into());
    }
    let disclosed = signals.disclosed();
    if let Some(missing) = config
        .excluded_countries
        .iter()
        .find(|c| !disclosed.forbidden_countries.contains(c))
    {
        return Err(format!(
            "Forbidden countries list of the proof lacks {missing}"
        ));
    }
    if let Some(minimum) = config.minimum_age {
        let older_than: Option<u32> = disclosed.older_than.parse().ok();
        if older_than != Some(minimum) {
            return Err(format!(
                "Minimum age of the proof ({}) is not {minimum}",
                disclosed.older_than.trim_matches('\0')
            ));
        }
    }
    if let Some(issue) = date_issue(
        signals.current_date(),
        s.now_secs,
        config.max_proof_age_seconds,
    ) {
        return Err(issue.into());
    }
    if config.ofac && disclosed.ofac_flagged.iter().any(|f| *f) {
        return Err("OFAC check failed".into());
    }
    let nationality = disclosed.nationality.ok_or("Nationality not disclosed")?;
    if config.excluded_countries.contains(&nationality) {
        return Err("Nationality not allowed".into());
    }
    let today = Date::from_unix_secs(s.now_secs);
    let birth = disclosed
        .date_of_birth
        .as_deref()
        .ok_or("Date of birth not disclosed")?;
    let birth = disclose::birth_date(birth, today).ok_or("Verification failed")?;
    let age = age_on(birth, today);
    if age < 18 {
        return Err("Must be 18 or older".into());
    }
    Ok(Checked {
        attestation_id,
        root: signals.merkle_root(),
        proof,
        signals: signals
            .values()
            .try_into()
            .expect("Signals::read checked the count"),
        date_of_birth: birth.to_string(),
        age,
        nationality,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_identifier_hash_is_bitcoins_hash160() {
        // RIPEMD-160(SHA-256("")), the well-known HASH160 of the empty string.
        let want = U256::from_str_radix("b472a266d0bd89c13706a4132ccfb16f7c3b9fcb", 16).unwrap();
        assert_eq!(user_identifier_hash(b""), want);
    }

    #[test]
    fn proofs_read_numbers_in_both_notations() {
        let v =
            serde_json::json!({"a": ["1", "0x2"], "b": [["3", "4"], ["5", 6]], "c": ["7", "8"]});
        let p = read_proof(Some(&v)).unwrap();
        assert_eq!(p.a, [U256::from(1u8), U256::from(2u8)]);
        assert_eq!(p.b[1], [U256::from(5u8), U256::from(6u8)]);
        assert!(read_proof(Some(&serde_json::json!({"a": ["1"], "b": [], "c": []}))).is_none());
        assert!(read_proof(None).is_none());
    }

    #[test]
    fn the_date_window_is_selfs() {
        let day = |y, m, d| {
            Some(Date {
                year: y,
                month: m,
                day: d,
            })
        };
        let noon = day(2026, 2, 20).unwrap().unix_secs() + 12 * 3600;
        assert_eq!(date_issue(day(2026, 2, 20), noon, DAY_SECS), None);
        assert_eq!(date_issue(day(2026, 2, 21), noon, DAY_SECS), None);
        // Yesterday's end is 12 h ago: within a day.
        assert_eq!(date_issue(day(2026, 2, 19), noon, DAY_SECS), None);
        assert_eq!(
            date_issue(day(2026, 2, 18), noon, DAY_SECS),
            Some("Circuit date is too old")
        );
        assert_eq!(
            date_issue(day(2026, 2, 22), noon, DAY_SECS),
            Some("Circuit date is in the future")
        );
        assert_eq!(
            date_issue(None, noon, DAY_SECS),
            Some("Circuit date is invalid")
        );
    }
}
