//! `heaven migrate identity-import <dump.sql>`: every table of api-core's D1 database that the
//! identity canister owns, read from a `wrangler d1 export` dump (replayed into a private
//! in-memory SQLite, `portability::d1_dump`) into [`ImportRows`]. The rows are then checked
//! and imported by the canister's own rules (`identity_canister::import`).
//!
//! Mapping notes: `heaven_names.owner_address` (schema.sql) or `pkp_address` (what names.ts
//! wrote) — whichever the dump has; `shadow_profiles.likes_received` is counted from `likes`
//! (the original counted on each read); `claim_tokens` without a link or code hash keep an
//! empty hash (nothing can look them up, as in D1); `reply_nonce` claims keep their method;
//! `claim_rate_limits` is not read (never written by the original) and neither are
//! `heaven_nonces` (signed requests are only valid for 120 s, so used nonces of a dump can
//! never be replayed).

use identity_canister::state::event::{ImportRows, PermitIssuance, ReservedLabel};
use identity_canister::state::{
    ClaimToken, HeavenName, IdentityRecord, Like, Match, SelfSession, ShadowProfile, User,
};
use portability::d1_dump;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

/// The original's identity tables (schema.sql + migrations 0005 and 0013), for data-only
/// dumps.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (address TEXT PRIMARY KEY, created_at INTEGER NOT NULL,
  last_active_at INTEGER, directory_tier TEXT DEFAULT 'claimed');
CREATE TABLE IF NOT EXISTS shadow_profiles (id TEXT PRIMARY KEY, source TEXT NOT NULL,
  source_url TEXT, display_name TEXT, bio TEXT, age_bucket INTEGER, gender_identity INTEGER,
  location TEXT, photos_json TEXT, anime_cid TEXT, survey_cid TEXT, featured_rank INTEGER DEFAULT 0,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, claimed_address TEXT, claimed_at INTEGER);
CREATE TABLE IF NOT EXISTS claim_tokens (id TEXT PRIMARY KEY, shadow_profile_id TEXT NOT NULL,
  token_hash TEXT, human_code_hash TEXT, method TEXT NOT NULL, pre_html_hash TEXT,
  pre_scraped_at INTEGER, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  verify_window_started_at INTEGER, used INTEGER DEFAULT 0, used_at INTEGER, used_by_address TEXT);
CREATE TABLE IF NOT EXISTS likes (id INTEGER PRIMARY KEY AUTOINCREMENT, liker_address TEXT NOT NULL,
  target_type TEXT NOT NULL, target_id TEXT NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE(liker_address, target_type, target_id));
CREATE TABLE IF NOT EXISTS matches (id INTEGER PRIMARY KEY AUTOINCREMENT, user1 TEXT NOT NULL,
  user2 TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE(user1, user2));
CREATE TABLE IF NOT EXISTS heaven_names (label TEXT PRIMARY KEY, label_display TEXT,
  owner_address TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active', registered_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, grace_ends_at INTEGER NOT NULL, profile_cid TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()), updated_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE TABLE IF NOT EXISTS heaven_reserved (label TEXT PRIMARY KEY, reason TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE TABLE IF NOT EXISTS self_verifications (session_id TEXT PRIMARY KEY, user_address TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', date_of_birth TEXT, age INTEGER, nationality TEXT,
  attestation_id INTEGER, proof_hash TEXT, verified_at INTEGER,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()), expires_at INTEGER NOT NULL, failure_reason TEXT);
CREATE TABLE IF NOT EXISTS user_identity (user_address TEXT PRIMARY KEY, date_of_birth TEXT NOT NULL,
  age_at_verification INTEGER NOT NULL, nationality TEXT NOT NULL,
  verification_session_id TEXT NOT NULL, verified_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()), updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
  identity_nullifier_hash TEXT);
CREATE TABLE IF NOT EXISTS name_permit_issuance (id INTEGER PRIMARY KEY AUTOINCREMENT,
  wallet_address TEXT NOT NULL, ip_hash TEXT, device_id TEXT, label_hash TEXT NOT NULL,
  parent_node TEXT NOT NULL, policy_type INTEGER NOT NULL, issued_at INTEGER NOT NULL DEFAULT (unixepoch()));";

fn failed(table: &str) -> impl Fn(sqlx::Error) -> String + '_ {
    move |e| format!("{table}: {e}")
}

/// A non-negative integer column (times, ids, counts).
fn unsigned(row: &SqliteRow, table: &str, column: &str) -> Result<u64, String> {
    let v: i64 = row.try_get(column).map_err(failed(table))?;
    u64::try_from(v).map_err(|_| format!("{table}.{column} is negative ({v})"))
}

fn optional_unsigned(row: &SqliteRow, table: &str, column: &str) -> Result<Option<u64>, String> {
    let v: Option<i64> = row.try_get(column).map_err(failed(table))?;
    v.map(|v| u64::try_from(v).map_err(|_| format!("{table}.{column} is negative ({v})")))
        .transpose()
}

fn text(row: &SqliteRow, table: &str, column: &str) -> Result<String, String> {
    row.try_get(column).map_err(failed(table))
}

fn optional_text(row: &SqliteRow, table: &str, column: &str) -> Result<Option<String>, String> {
    row.try_get(column).map_err(failed(table))
}

async fn rows(db: &mut SqliteConnection, table: &str, sql: &str) -> Result<Vec<SqliteRow>, String> {
    sqlx::query(sql).fetch_all(db).await.map_err(failed(table))
}

/// The owner column `heaven_names` has in this dump.
async fn owner_column(db: &mut SqliteConnection) -> Result<&'static str, String> {
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('heaven_names')")
            .fetch_all(db)
            .await
            .map_err(failed("heaven_names"))?;
    Ok(if columns.iter().any(|c| c == "pkp_address") {
        "pkp_address"
    } else {
        "owner_address"
    })
}

/// Reads every identity table of `dump`.
pub async fn read(dump: &str) -> Result<ImportRows, String> {
    let mut db = d1_dump::replay(dump, SCHEMA)
        .await
        .map_err(|e| e.to_string())?;
    let db = &mut db;
    let mut out = ImportRows::default();
    for r in rows(db, "users", "SELECT * FROM users ORDER BY address").await? {
        let t = "users";
        out.users.push(User {
            address: text(&r, t, "address")?,
            created_at_ms: unsigned(&r, t, "created_at")?,
            last_active_at_ms: optional_unsigned(&r, t, "last_active_at")?,
            directory_tier: optional_text(&r, t, "directory_tier")?
                .unwrap_or_else(|| "claimed".into()),
        });
    }
    let sql = "SELECT p.*, (SELECT COUNT(*) FROM likes l WHERE l.target_type = 'shadow' \
               AND l.target_id = p.id) AS likes_received FROM shadow_profiles p ORDER BY p.id";
    for r in rows(db, "shadow_profiles", sql).await? {
        let t = "shadow_profiles";
        let rank: Option<i64> = r.try_get("featured_rank").map_err(failed(t))?;
        out.shadow_profiles.push(ShadowProfile {
            id: text(&r, t, "id")?,
            source: text(&r, t, "source")?,
            source_url: optional_text(&r, t, "source_url")?,
            display_name: optional_text(&r, t, "display_name")?,
            bio: optional_text(&r, t, "bio")?,
            age_bucket: r.try_get("age_bucket").map_err(failed(t))?,
            gender_identity: r.try_get("gender_identity").map_err(failed(t))?,
            location: optional_text(&r, t, "location")?,
            anime_cid: optional_text(&r, t, "anime_cid")?,
            featured_rank: rank.unwrap_or(0),
            created_at_ms: unsigned(&r, t, "created_at")?,
            updated_at_ms: unsigned(&r, t, "updated_at")?,
            claimed_address: optional_text(&r, t, "claimed_address")?,
            claimed_at_ms: optional_unsigned(&r, t, "claimed_at")?,
            likes_received: unsigned(&r, t, "likes_received")?,
        });
    }
    for r in rows(db, "claim_tokens", "SELECT * FROM claim_tokens ORDER BY id").await? {
        let t = "claim_tokens";
        out.claim_tokens.push(ClaimToken {
            id: text(&r, t, "id")?,
            shadow_profile_id: text(&r, t, "shadow_profile_id")?,
            token_hash: optional_text(&r, t, "token_hash")?.unwrap_or_default(),
            human_code_hash: optional_text(&r, t, "human_code_hash")?.unwrap_or_default(),
            method: text(&r, t, "method")?,
            issued_at_ms: unsigned(&r, t, "issued_at")?,
            expires_at_ms: unsigned(&r, t, "expires_at")?,
            used: optional_unsigned(&r, t, "used")?.unwrap_or(0) != 0,
            used_at_ms: optional_unsigned(&r, t, "used_at")?,
            used_by: optional_text(&r, t, "used_by_address")?,
        });
    }
    for r in rows(db, "likes", "SELECT * FROM likes ORDER BY id").await? {
        let t = "likes";
        out.likes.push(Like {
            id: unsigned(&r, t, "id")?,
            liker_address: text(&r, t, "liker_address")?,
            target_type: text(&r, t, "target_type")?,
            target_id: text(&r, t, "target_id")?,
            created_at_ms: unsigned(&r, t, "created_at")?,
        });
    }
    for r in rows(db, "matches", "SELECT * FROM matches ORDER BY id").await? {
        let t = "matches";
        out.matches.push(Match {
            id: unsigned(&r, t, "id")?,
            user1: text(&r, t, "user1")?,
            user2: text(&r, t, "user2")?,
            created_at_ms: unsigned(&r, t, "created_at")?,
        });
    }
    let sql = "SELECT * FROM self_verifications ORDER BY created_at, session_id";
    for r in rows(db, "self_verifications", sql).await? {
        let t = "self_verifications";
        out.self_sessions.push(SelfSession {
            session_id: text(&r, t, "session_id")?,
            user_address: text(&r, t, "user_address")?,
            status: text(&r, t, "status")?,
            date_of_birth: optional_text(&r, t, "date_of_birth")?,
            age: r.try_get("age").map_err(failed(t))?,
            nationality: optional_text(&r, t, "nationality")?,
            attestation_id: r.try_get("attestation_id").map_err(failed(t))?,
            proof_hash: optional_text(&r, t, "proof_hash")?,
            verified_at: optional_unsigned(&r, t, "verified_at")?,
            created_at: unsigned(&r, t, "created_at")?,
            expires_at: unsigned(&r, t, "expires_at")?,
            failure_reason: optional_text(&r, t, "failure_reason")?,
        });
    }
    for r in rows(
        db,
        "user_identity",
        "SELECT * FROM user_identity ORDER BY user_address",
    )
    .await?
    {
        let t = "user_identity";
        out.identities.push(IdentityRecord {
            address: text(&r, t, "user_address")?,
            nullifier_hash: optional_text(&r, t, "identity_nullifier_hash")?,
            verified_at: unsigned(&r, t, "verified_at")?,
            date_of_birth: Some(text(&r, t, "date_of_birth")?),
            age_at_verification: Some(r.try_get("age_at_verification").map_err(failed(t))?),
            nationality: Some(text(&r, t, "nationality")?),
            verification_session_id: Some(text(&r, t, "verification_session_id")?),
            created_at: Some(unsigned(&r, t, "created_at")?),
            updated_at: Some(unsigned(&r, t, "updated_at")?),
        });
    }
    let owner = owner_column(db).await?;
    for r in rows(
        db,
        "heaven_names",
        "SELECT * FROM heaven_names ORDER BY label",
    )
    .await?
    {
        let t = "heaven_names";
        out.names.push(HeavenName {
            label: text(&r, t, "label")?,
            label_display: optional_text(&r, t, "label_display")?,
            owner: text(&r, t, owner)?,
            status: text(&r, t, "status")?,
            registered_at: unsigned(&r, t, "registered_at")?,
            expires_at: unsigned(&r, t, "expires_at")?,
            grace_ends_at: unsigned(&r, t, "grace_ends_at")?,
            profile_cid: optional_text(&r, t, "profile_cid")?,
            created_at: unsigned(&r, t, "created_at")?,
            updated_at: unsigned(&r, t, "updated_at")?,
        });
    }
    for r in rows(
        db,
        "heaven_reserved",
        "SELECT * FROM heaven_reserved ORDER BY label",
    )
    .await?
    {
        let t = "heaven_reserved";
        out.reserved.push(ReservedLabel {
            label: text(&r, t, "label")?,
            // The column is nullable; the canister keeps a reason for every reserved label.
            reason: optional_text(&r, t, "reason")?.unwrap_or_else(|| "reserved".into()),
        });
    }
    let sql = "SELECT * FROM name_permit_issuance ORDER BY id";
    for r in rows(db, "name_permit_issuance", sql).await? {
        let t = "name_permit_issuance";
        let policy: i64 = r.try_get("policy_type").map_err(failed(t))?;
        out.permit_issuance.push(PermitIssuance {
            wallet: text(&r, t, "wallet_address")?,
            ip_hash: optional_text(&r, t, "ip_hash")?,
            device_id: optional_text(&r, t, "device_id")?,
            label_hash: text(&r, t, "label_hash")?,
            parent_node: text(&r, t, "parent_node")?,
            policy_type: u8::try_from(policy)
                .map_err(|_| format!("{t}.policy_type {policy} is not 0 or 1"))?,
            issued_at: unsigned(&r, t, "issued_at")?,
        });
    }
    Ok(out)
}
