//! Importing the original's identity tables (migration from D1): every row is checked and
//! normalised before anything is written ([`check_rows`]), a batch is one
//! [`EventType::RowsImported`] event, and [`summarize`] / [`summarize_stored`] give each
//! table's row count and the SHA-256 of its canonical form — of the rows sent and of what the
//! state holds for their keys afterwards — so an importer can prove nothing was lost or
//! changed on the way.
//!
//! Canonical form of a table: its rows keyed as the canister keys them, the last row of a key
//! winning, sorted by key, each written as `<key> NUL <CBOR of the record> LF`; the checksum is
//! the SHA-256 of that text. `name_permit_issuance` rows become window keys, so their canonical
//! lines are the window prefixes (`w|<wallet>|<issued_at>`, `i|…`, `d|…`) with multiplicity.

use std::collections::BTreeMap;

use candid::{CandidType, Deserialize};
use ic_stable_structures::Memory;
use minicbor::Encode;
use sha2::{Digest, Sha256};

use crate::primitives::{Address, Bytes32};
use crate::state::event::{ImportRows, ReservedLabel};
use crate::state::{Cbor, State, keys};

/// The tables of an import, in the order summaries list them.
pub const TABLES: [&str; 10] = [
    "users",
    "shadow_profiles",
    "claim_tokens",
    "likes",
    "matches",
    "self_verifications",
    "user_identity",
    "heaven_names",
    "heaven_reserved",
    "name_permit_issuance",
];

/// One table's row count and checksum.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct TableSummary {
    /// The original's table name.
    pub table: String,
    /// Distinct rows (by key).
    pub rows: u64,
    /// Lowercase hex SHA-256 of the canonical form.
    pub sha256: String,
}

fn address(text: &str, what: &str) -> Result<String, String> {
    Address::parse_normalized(text)
        .map(Address::lower_hex)
        .ok_or_else(|| format!("{what} {text:?} is not a 0x address"))
}

fn optional_address(text: &Option<String>, what: &str) -> Result<Option<String>, String> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => address(t, what).map(Some),
        None => Ok(None),
    }
}

fn each<T>(
    table: &str,
    rows: &mut [T],
    mut check: impl FnMut(&mut T) -> Result<(), String>,
) -> Result<(), String> {
    for (i, row) in rows.iter_mut().enumerate() {
        check(row).map_err(|e| format!("{table}[{i}]: {e}"))?;
    }
    Ok(())
}

fn non_empty(value: &str, what: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("{what} must not be empty"))
    } else {
        Ok(())
    }
}

fn one_of(value: &str, allowed: &[&str], what: &str) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(format!("{what} {value:?} is not one of {allowed:?}"))
    }
}

/// Checks every row and normalises addresses to lowercase; the first problem is the error,
/// named `<table>[<index>]`.
pub fn check_rows(mut rows: ImportRows) -> Result<ImportRows, String> {
    each("users", &mut rows.users, |u| {
        u.address = address(&u.address, "address")?;
        one_of(
            &u.directory_tier,
            &["handoff", "claimed", "verified"],
            "directory_tier",
        )
    })?;
    each("shadow_profiles", &mut rows.shadow_profiles, |p| {
        non_empty(&p.source, "source")?;
        p.claimed_address = optional_address(&p.claimed_address, "claimed_address")?;
        crate::claim::check_shadow_profile(p)
    })?;
    each("claim_tokens", &mut rows.claim_tokens, |c| {
        non_empty(&c.id, "id")?;
        non_empty(&c.shadow_profile_id, "shadow_profile_id")?;
        one_of(&c.method, &["dm", "bio_edit", "reply_nonce"], "method")?;
        c.used_by = optional_address(&c.used_by, "used_by_address")?;
        Ok(())
    })?;
    each("likes", &mut rows.likes, |l| {
        l.liker_address = address(&l.liker_address, "liker_address")?;
        one_of(&l.target_type, &["user", "shadow"], "target_type")?;
        non_empty(&l.target_id, "target_id")
    })?;
    each("matches", &mut rows.matches, |m| {
        m.user1 = address(&m.user1, "user1")?;
        m.user2 = address(&m.user2, "user2")?;
        if m.user1 > m.user2 {
            return Err("user1 must sort before user2".into());
        }
        Ok(())
    })?;
    each("self_verifications", &mut rows.self_sessions, |s| {
        non_empty(&s.session_id, "session_id")?;
        s.user_address = address(&s.user_address, "user_address")?;
        one_of(
            &s.status,
            &["pending", "verified", "failed", "expired"],
            "status",
        )
    })?;
    each("user_identity", &mut rows.identities, |r| {
        r.address = address(&r.address, "user_address")?;
        if let Some(n) = &r.nullifier_hash {
            let n = n.trim().to_lowercase();
            r.nullifier_hash = if n.is_empty() {
                None
            } else if Bytes32::parse(&n).is_some() {
                Some(n)
            } else {
                return Err(format!("identity_nullifier_hash {n:?} is not 0x + 64 hex"));
            };
        }
        Ok(())
    })?;
    each("heaven_names", &mut rows.names, |n| {
        non_empty(&n.label, "label")?;
        n.owner = address(&n.owner, "owner_address")?;
        one_of(&n.status, &["active", "expired"], "status")
    })?;
    each(
        "heaven_reserved",
        &mut rows.reserved,
        |r: &mut ReservedLabel| {
            r.label = r.label.trim().to_lowercase();
            non_empty(&r.label, "label")?;
            non_empty(&r.reason, "reason")
        },
    )?;
    each("name_permit_issuance", &mut rows.permit_issuance, |p| {
        p.wallet = address(&p.wallet, "wallet_address")?;
        non_empty(&p.label_hash, "label_hash")?;
        non_empty(&p.parent_node, "parent_node")
    })?;
    Ok(rows)
}

fn cbor<T: Encode<()>>(value: &T) -> Vec<u8> {
    minicbor::to_vec(value).expect("encoding to a Vec cannot fail")
}

/// A table's canonical form being built: key → encoded row (last wins), or counted lines.
#[derive(Default)]
struct Canonical(BTreeMap<String, Vec<u8>>);

impl Canonical {
    fn put(&mut self, key: String, row: Vec<u8>) {
        self.0.insert(key, row);
    }

    fn summary(&self, table: &str) -> TableSummary {
        let mut hasher = Sha256::new();
        for (key, row) in &self.0 {
            hasher.update(key.as_bytes());
            hasher.update([0]);
            hasher.update(row);
            hasher.update(b"\n");
        }
        TableSummary {
            table: table.to_string(),
            rows: self.0.len() as u64,
            sha256: hex::encode(hasher.finalize()),
        }
    }
}

/// The window prefixes a permit row becomes.
fn permit_prefixes(p: &crate::state::event::PermitIssuance) -> Vec<String> {
    let mut out = vec![format!("w|{}|{:020}|", p.wallet, p.issued_at)];
    if let Some(ip) = &p.ip_hash {
        out.push(format!("i|{ip}|{:020}|", p.issued_at));
    }
    if let Some(device) = &p.device_id {
        out.push(format!("d|{device}|{:020}|", p.issued_at));
    }
    out
}

/// Counted lines `<prefix>#<n>` for a multiset of prefixes.
fn counted(prefixes: impl IntoIterator<Item = (String, u64)>) -> Canonical {
    let mut canonical = Canonical::default();
    for (prefix, n) in prefixes {
        for i in 0..n {
            canonical.put(format!("{prefix}#{i:06}"), Vec::new());
        }
    }
    canonical
}

/// Row counts and checksums of the rows of `rows` (checked first).
pub fn summarize(rows: &ImportRows) -> Vec<TableSummary> {
    let mut tables: Vec<Canonical> = (0..TABLES.len()).map(|_| Canonical::default()).collect();
    for u in &rows.users {
        tables[0].put(u.address.clone(), cbor(u));
    }
    for p in &rows.shadow_profiles {
        tables[1].put(p.id.clone(), cbor(p));
    }
    for c in &rows.claim_tokens {
        tables[2].put(c.id.clone(), cbor(c));
    }
    for l in &rows.likes {
        let key = keys::like_key(&l.liker_address, &l.target_type, &l.target_id);
        tables[3].put(key, cbor(l));
    }
    for m in &rows.matches {
        tables[4].put(keys::match_key(&m.user1, &m.user2), cbor(m));
    }
    for s in &rows.self_sessions {
        tables[5].put(s.session_id.clone(), cbor(s));
    }
    for r in &rows.identities {
        tables[6].put(r.address.clone(), cbor(r));
    }
    for n in &rows.names {
        tables[7].put(n.label.clone(), cbor(n));
    }
    for r in &rows.reserved {
        tables[8].put(r.label.clone(), cbor(&r.reason));
    }
    let mut permits: BTreeMap<String, u64> = BTreeMap::new();
    for p in &rows.permit_issuance {
        for prefix in permit_prefixes(p) {
            *permits.entry(prefix).or_default() += 1;
        }
    }
    tables[9] = counted(permits);
    TABLES
        .iter()
        .zip(&tables)
        .map(|(name, t)| t.summary(name))
        .collect()
}

/// Row counts and checksums of what `state` holds under the keys of `rows` (after they were
/// imported): equal to [`summarize`] of `rows` exactly when every row landed as sent.
pub fn summarize_stored<M: Memory + Clone>(
    state: &State<M>,
    rows: &ImportRows,
) -> Vec<TableSummary> {
    let mut tables: Vec<Canonical> = (0..TABLES.len()).map(|_| Canonical::default()).collect();
    let mut put = |i: usize, key: String, row: Option<Vec<u8>>| {
        if let Some(row) = row {
            tables[i].put(key, row);
        }
    };
    for u in &rows.users {
        put(
            0,
            u.address.clone(),
            state.users().get(&u.address).map(|Cbor(r)| cbor(&r)),
        );
    }
    for p in &rows.shadow_profiles {
        put(
            1,
            p.id.clone(),
            state.shadow_profiles().get(&p.id).map(|Cbor(r)| cbor(&r)),
        );
    }
    for c in &rows.claim_tokens {
        put(
            2,
            c.id.clone(),
            state.claim_tokens().get(&c.id).map(|Cbor(r)| cbor(&r)),
        );
    }
    for l in &rows.likes {
        let key = keys::like_key(&l.liker_address, &l.target_type, &l.target_id);
        let row = state.likes().get(&key).map(|Cbor(r)| cbor(&r));
        put(3, key, row);
    }
    for m in &rows.matches {
        let key = keys::match_key(&m.user1, &m.user2);
        let row = state.matches().get(&key).map(|Cbor(r)| cbor(&r));
        put(4, key, row);
    }
    for s in &rows.self_sessions {
        let row = state
            .self_sessions()
            .get(&s.session_id)
            .map(|Cbor(r)| cbor(&r));
        put(5, s.session_id.clone(), row);
    }
    for r in &rows.identities {
        put(
            6,
            r.address.clone(),
            state.identities().get(&r.address).map(|Cbor(r)| cbor(&r)),
        );
    }
    for n in &rows.names {
        put(
            7,
            n.label.clone(),
            state.names().get(&n.label).map(|Cbor(r)| cbor(&r)),
        );
    }
    for r in &rows.reserved {
        put(
            8,
            r.label.clone(),
            state.reserved().get(&r.label).map(|reason| cbor(&reason)),
        );
    }
    let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
    for p in &rows.permit_issuance {
        for prefix in permit_prefixes(p) {
            wanted.entry(prefix).or_default();
        }
    }
    let stored = wanted.into_keys().map(|prefix| {
        let n = state
            .permit_windows()
            .keys_range(prefix.clone()..)
            .take_while(|k| k.starts_with(&prefix))
            .count() as u64;
        (prefix, n)
    });
    tables[9] = counted(stored);
    TABLES
        .iter()
        .zip(&tables)
        .map(|(name, t)| t.summary(name))
        .collect()
}

/// Adds up per-batch summaries of one run: rows summed, checksums chained in batch order
/// (SHA-256 of the previous chain and the batch's checksum).
pub fn combine(batches: &[Vec<TableSummary>]) -> Vec<TableSummary> {
    TABLES
        .iter()
        .enumerate()
        .map(|(i, table)| {
            let mut rows = 0;
            let mut chain = String::new();
            for batch in batches {
                if let Some(s) = batch.get(i) {
                    rows += s.rows;
                    chain = hex::encode(Sha256::digest(format!("{chain}{}", s.sha256)));
                }
            }
            TableSummary {
                table: table.to_string(),
                rows,
                sha256: chain,
            }
        })
        .collect()
}

/// Splits `rows` into batches of at most `max_rows` rows each (tables in import order, so a
/// profile's batch never follows its likes' batch), for the deployed canister's
/// `import_batch` (each call stays well inside the instruction and message limits).
pub fn split(rows: ImportRows, max_rows: usize) -> Vec<ImportRows> {
    let max_rows = max_rows.max(1);
    let mut out = vec![ImportRows::default()];
    macro_rules! spread {
        ($field:ident) => {
            for row in rows.$field {
                let len = row_count(out.last().expect("one batch at least"));
                if len >= max_rows {
                    out.push(ImportRows::default());
                }
                out.last_mut().expect("one batch at least").$field.push(row);
            }
        };
    }
    spread!(users);
    spread!(shadow_profiles);
    spread!(claim_tokens);
    spread!(likes);
    spread!(matches);
    spread!(self_sessions);
    spread!(identities);
    spread!(names);
    spread!(reserved);
    spread!(permit_issuance);
    out
}

/// Rows in a batch (all tables).
pub fn row_count(rows: &ImportRows) -> usize {
    rows.users.len()
        + rows.shadow_profiles.len()
        + rows.claim_tokens.len()
        + rows.likes.len()
        + rows.matches.len()
        + rows.self_sessions.len()
        + rows.identities.len()
        + rows.names.len()
        + rows.reserved.len()
        + rows.permit_issuance.len()
}

#[cfg(test)]
mod tests;
