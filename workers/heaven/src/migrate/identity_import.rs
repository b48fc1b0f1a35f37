//! `heaven migrate identity-import`: the identity canister's data from the original D1 tables
//! (`shadow_profiles`, `user_identity`, `heaven_reserved`) as one JSON document, checked as a
//! whole and then written in one job on the canister thread.

use std::time::{SystemTime, UNIX_EPOCH};

use identity_canister::api::Now;
use identity_canister::claim::upsert_shadow_profile;
use identity_canister::names::{policy, registry};
use identity_canister::state::{IdentityRecord, ShadowProfile};
use serde::Deserialize;

/// The import document; every list is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityImport {
    /// Claimable dating-directory profiles.
    #[serde(default, alias = "shadow_profiles")]
    pub shadow_profiles: Vec<ShadowProfileRow>,
    /// Self verifications the short-name policy reads.
    #[serde(default)]
    pub identities: Vec<IdentityRow>,
    /// Reserved legacy labels.
    #[serde(default)]
    pub reserved: Vec<ReservedRow>,
}

/// A `shadow_profiles` row; each field in camelCase or as the D1 column (snake_case).
/// Times are milliseconds (`createdAt` / `updatedAt` default to the import time).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowProfileRow {
    id: String,
    source: String,
    #[serde(default, alias = "source_url")]
    source_url: Option<String>,
    #[serde(default, alias = "display_name")]
    display_name: Option<String>,
    #[serde(default)]
    bio: Option<String>,
    #[serde(default, alias = "age_bucket")]
    age_bucket: Option<i64>,
    #[serde(default, alias = "gender_identity")]
    gender_identity: Option<i64>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default, alias = "anime_cid")]
    anime_cid: Option<String>,
    #[serde(default, alias = "featured_rank")]
    featured_rank: Option<i64>,
    #[serde(default, alias = "created_at")]
    created_at: Option<u64>,
    #[serde(default, alias = "updated_at")]
    updated_at: Option<u64>,
    #[serde(default, alias = "claimed_address")]
    claimed_address: Option<String>,
    #[serde(default, alias = "claimed_at")]
    claimed_at: Option<u64>,
    #[serde(default, alias = "likes_received")]
    likes_received: Option<u64>,
}

/// A `user_identity` row: `verifiedAt` in seconds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRow {
    #[serde(alias = "user_address")]
    address: String,
    #[serde(default, alias = "nullifier_hash", alias = "identity_nullifier_hash")]
    nullifier_hash: Option<String>,
    #[serde(alias = "verified_at")]
    verified_at: u64,
}

/// A `heaven_reserved` row.
#[derive(Debug, Deserialize)]
pub struct ReservedRow {
    label: String,
    reason: String,
}

/// How many records of each kind were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    /// Shadow profiles written (replaced by id).
    pub shadow_profiles: usize,
    /// Identities written (replaced by address).
    pub identities: usize,
    /// Labels reserved.
    pub reserved: usize,
}

/// The records ready to write: every one already checked.
pub struct CheckedImport {
    profiles: Vec<ShadowProfile>,
    identities: Vec<IdentityRecord>,
    reserved: Vec<(String, String)>,
}

impl IdentityImport {
    /// Parses the document; the error names the line and column.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("not an identity import document: {e}"))
    }

    /// Checks every record (the first problem is the error) and builds what will be stored.
    pub fn check(self, now: Now) -> Result<CheckedImport, String> {
        let now_ms = now.millis();
        let profiles = self
            .shadow_profiles
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                row.check(now_ms)
                    .map_err(|e| format!("shadowProfiles[{i}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let identities = self
            .identities
            .into_iter()
            .enumerate()
            .map(|(i, row)| row.check().map_err(|e| format!("identities[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        let reserved = self
            .reserved
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let label = row.label.trim().to_lowercase();
                if label.is_empty() || row.reason.trim().is_empty() {
                    Err(format!("reserved[{i}]: label and reason must not be empty"))
                } else {
                    Ok((label, row.reason))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(CheckedImport {
            profiles,
            identities,
            reserved,
        })
    }
}

impl ShadowProfileRow {
    fn check(self, now_ms: u64) -> Result<ShadowProfile, String> {
        if self.id.trim().is_empty() || self.source.trim().is_empty() {
            return Err("id and source must not be empty".into());
        }
        let claimed_address = match self.claimed_address.filter(|a| !a.trim().is_empty()) {
            Some(a) => Some(address(&a)?),
            None => None,
        };
        let created_at_ms = self.created_at.unwrap_or(now_ms);
        let profile = ShadowProfile {
            id: self.id,
            source: self.source,
            source_url: self.source_url,
            display_name: self.display_name,
            bio: self.bio,
            age_bucket: self.age_bucket,
            gender_identity: self.gender_identity,
            location: self.location,
            anime_cid: self.anime_cid,
            featured_rank: self.featured_rank.unwrap_or(0),
            created_at_ms,
            updated_at_ms: self.updated_at.unwrap_or(created_at_ms),
            claimed_address,
            claimed_at_ms: self.claimed_at,
            likes_received: self.likes_received.unwrap_or(0),
        };
        // The canister's own rules for text it embeds (ids, CIDs).
        identity_canister::claim::check_shadow_profile(&profile)?;
        Ok(profile)
    }
}

impl IdentityRow {
    fn check(self) -> Result<IdentityRecord, String> {
        let nullifier_hash = match self.nullifier_hash.filter(|n| !n.trim().is_empty()) {
            Some(n) => {
                let n = n.trim().to_lowercase();
                let hex = n.strip_prefix("0x").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("nullifierHash {n:?} is not 0x + 64 hex digits"));
                }
                Some(n)
            }
            None => None,
        };
        Ok(IdentityRecord {
            address: address(&self.address)?,
            nullifier_hash,
            verified_at: self.verified_at,
            ..IdentityRecord::default()
        })
    }
}

/// A `0x` address, lower-cased.
fn address(text: &str) -> Result<String, String> {
    let lower = text.trim().to_lowercase();
    heaven_eth::address::parse(&lower)
        .map(|_| lower)
        .ok_or_else(|| format!("{text:?} is not a 0x address"))
}

impl CheckedImport {
    /// Writes everything. Runs on the canister thread; records are checked, so the only
    /// failure left is one the canister's own checks find (reported, with what was written).
    pub fn apply(self, now: Now) -> Result<ImportReport, String> {
        let report = ImportReport {
            shadow_profiles: self.profiles.len(),
            identities: self.identities.len(),
            reserved: self.reserved.len(),
        };
        for (i, record) in self.identities.into_iter().enumerate() {
            policy::upsert_identity(record, now).map_err(|e| {
                format!("identities[{i}]: {e} (the identities before it were imported)")
            })?;
        }
        for profile in self.profiles {
            upsert_shadow_profile(profile, now);
        }
        for (label, reason) in self.reserved {
            registry::set_reserved(&label, Some(reason), now);
        }
        Ok(report)
    }
}

/// Imports checked dump rows as one event and returns the summary of what the state then
/// holds for their keys. Runs on the canister thread.
pub fn apply_rows(
    rows: identity_canister::state::event::ImportRows,
    now: Now,
) -> Vec<identity_canister::import::TableSummary> {
    use identity_canister::state::{self, audit::process_event, event::EventType};
    state::mutate(|s| {
        let event = EventType::RowsImported {
            run: None,
            batch: None,
            rows: rows.clone(),
        };
        process_event(s, now, event);
        identity_canister::import::summarize_stored(s, &rows)
    })
}

/// The import time.
pub fn now() -> Now {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Now::from_ns(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_and_snake_case_rows_are_read() {
        let doc = IdentityImport::parse(
            r#"{"shadowProfiles":[
                 {"id":"shadow-a","source":"dateme","displayName":"A","createdAt":5},
                 {"id":"shadow-b","source":"acx","display_name":"B","likes_received":3,
                  "claimed_address":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}],
               "identities":[{"address":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                 "nullifierHash":"0xAB00000000000000000000000000000000000000000000000000000000000000",
                 "verifiedAt":7}],
               "reserved":[{"label":" Admin ","reason":"team"}]}"#,
        )
        .unwrap();
        let checked = doc.check(Now::from_secs(100)).unwrap();
        assert_eq!(checked.profiles[0].display_name.as_deref(), Some("A"));
        assert_eq!(checked.profiles[0].created_at_ms, 5);
        assert_eq!(checked.profiles[0].updated_at_ms, 5);
        assert_eq!(checked.profiles[1].display_name.as_deref(), Some("B"));
        assert_eq!(checked.profiles[1].likes_received, 3);
        assert_eq!(checked.profiles[1].created_at_ms, 100_000);
        assert_eq!(
            checked.profiles[1].claimed_address.as_deref(),
            Some("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")
        );
        assert_eq!(
            checked.identities[0].nullifier_hash.as_deref(),
            Some("0xab00000000000000000000000000000000000000000000000000000000000000")
        );
        assert_eq!(checked.reserved, [("admin".to_owned(), "team".to_owned())]);
    }

    #[test]
    fn bad_records_are_named() {
        let check = |text: &str| {
            IdentityImport::parse(text)
                .and_then(|d| d.check(Now::from_secs(1)))
                .err()
                .unwrap()
        };
        assert_eq!(
            check(r#"{"identities":[{"address":"0x12","verifiedAt":1}]}"#),
            "identities[0]: \"0x12\" is not a 0x address"
        );
        assert_eq!(
            check(r#"{"shadowProfiles":[{"id":"","source":"x"}]}"#),
            "shadowProfiles[0]: id and source must not be empty"
        );
        assert!(
            check(r#"{"shadowProfiles":[{"id":"a\nb","source":"x"}]}"#)
                .starts_with("shadowProfiles[0]: id \"a\\nb\" must be"),
        );
        assert_eq!(
            check(r#"{"reserved":[{"label":"a","reason":" "}]}"#),
            "reserved[0]: label and reason must not be empty"
        );
        assert!(
            check(r#"{"profiles":[]}"#)
                .starts_with("not an identity import document: unknown field `profiles`")
        );
    }
}
