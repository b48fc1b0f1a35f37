//! `heaven migrate credits-import <dump.sql>`: voice-control-plane's `credit_accounts`,
//! `credit_events` and `verifications` rows, from a `wrangler d1 export`, into the credits
//! canister (natively: its state file). The whole dump is read and checked before anything is
//! written; one bad row refuses it all. Re-running replaces the same accounts and rows.

use credits_canister::admin::ImportedAccount;
use credits_canister::ledger::Account;
use credits_canister::state::{CreditEvent, CreditEventKind};
use credits_canister::units::{Seconds, UnixSeconds};
use credits_canister::wallet::Wallet;
use portability::d1_dump;

/// The original's tables the import reads (migrations/0001_credits_rooms.sql), for data-only
/// dumps.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS credit_accounts (wallet TEXT PRIMARY KEY,
  base_granted_seconds INTEGER NOT NULL DEFAULT 0, bonus_granted_seconds INTEGER NOT NULL DEFAULT 0,
  consumed_seconds INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS credit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, wallet TEXT NOT NULL,
  delta_seconds INTEGER NOT NULL, event_type TEXT NOT NULL, balance_after_seconds INTEGER NOT NULL,
  connection_id TEXT, metadata_json TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS verifications (wallet TEXT PRIMARY KEY,
  celo_verified INTEGER NOT NULL DEFAULT 0, bonus_granted_at TEXT);";

/// `(id, wallet, delta_seconds, event_type, balance_after_seconds, connection_id, created_at)`.
type EventRow = (i64, String, i64, String, i64, Option<String>, String);

/// The checked rows of a dump.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CreditsDump {
    /// Accounts with their bonus gate.
    pub accounts: Vec<ImportedAccount>,
    /// `credit_events` rows.
    pub events: Vec<CreditEvent>,
}

/// Seconds of an ISO-8601 time as D1 stores them (`toISOString`, or SQLite's
/// `CURRENT_TIMESTAMP` `YYYY-MM-DD HH:MM:SS`).
pub fn parse_time(text: &str) -> Option<UnixSeconds> {
    let t = text.trim();
    let parsed = chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .map(|d| d.and_utc().timestamp())
        })
        .ok()?;
    u64::try_from(parsed).ok().map(UnixSeconds)
}

fn seconds(n: i64, what: &str, key: &str) -> Result<Seconds, String> {
    u64::try_from(n)
        .map(Seconds)
        .map_err(|_| format!("{key}: {what} is negative ({n})"))
}

fn wallet(text: &str, table: &str) -> Result<Wallet, String> {
    Wallet::parse(text.trim()).map_err(|e| format!("{table}: {e}"))
}

/// Reads and checks the credit tables of `dump`.
pub async fn read(dump: &str) -> Result<CreditsDump, String> {
    let mut db = d1_dump::replay(dump, SCHEMA)
        .await
        .map_err(|e| e.to_string())?;
    let failed = |e: sqlx::Error| e.to_string();
    let accounts: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT wallet, base_granted_seconds, bonus_granted_seconds, consumed_seconds \
         FROM credit_accounts ORDER BY wallet",
    )
    .fetch_all(&mut db)
    .await
    .map_err(failed)?;
    let verified: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT wallet, bonus_granted_at FROM verifications ORDER BY wallet")
            .fetch_all(&mut db)
            .await
            .map_err(failed)?;
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT id, wallet, delta_seconds, event_type, balance_after_seconds, connection_id, \
         created_at FROM credit_events ORDER BY id",
    )
    .fetch_all(&mut db)
    .await
    .map_err(failed)?;

    let mut out = CreditsDump::default();
    for (address, base, bonus, consumed) in accounts {
        let w = wallet(&address, "credit_accounts")?;
        let account = Account {
            base_granted: seconds(base, "base_granted_seconds", &address)?,
            bonus_granted: seconds(bonus, "bonus_granted_seconds", &address)?,
            consumed: seconds(consumed, "consumed_seconds", &address)?,
        };
        if account.consumed > account.granted() {
            return Err(format!(
                "credit_accounts {address}: consumed {} exceeds the grants {}",
                account.consumed,
                account.granted()
            ));
        }
        let bonus_granted_at =
            match verified
                .iter()
                .find(|(v, _)| v.eq_ignore_ascii_case(&address))
            {
                None => None,
                Some((_, at)) => Some(at.as_deref().and_then(parse_time).ok_or_else(|| {
                    format!("verifications {address}: bad bonus_granted_at {at:?}")
                })?),
            };
        out.accounts.push(ImportedAccount {
            wallet: w,
            account,
            bonus_granted_at,
        });
    }
    if let Some((orphan, _)) = verified.iter().find(|(v, _)| {
        !out.accounts
            .iter()
            .any(|a| a.wallet.as_str() == v.to_lowercase())
    }) {
        return Err(format!("verifications {orphan}: no credit_accounts row"));
    }
    for (id, address, delta, kind, balance_after, connection_id, created_at) in events {
        let key = format!("credit_events {id}");
        out.events.push(CreditEvent {
            id: u64::try_from(id).map_err(|_| format!("{key}: negative id"))?,
            wallet: wallet(&address, "credit_events")?,
            delta_seconds: delta,
            event_type: CreditEventKind::parse(&kind)
                .ok_or_else(|| format!("{key}: unknown event_type {kind:?}"))?,
            balance_after_seconds: seconds(balance_after, "balance_after_seconds", &key)?,
            connection_id,
            created_at: parse_time(&created_at)
                .ok_or_else(|| format!("{key}: bad created_at {created_at:?}"))?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "
PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE credit_accounts (wallet TEXT PRIMARY KEY, base_granted_seconds INTEGER NOT NULL DEFAULT 0,
  bonus_granted_seconds INTEGER NOT NULL DEFAULT 0, consumed_seconds INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO \"credit_accounts\" VALUES('0x00000000000000000000000000000000000000aa',1800,1800,600,'2026-01-10T12:00:00.000Z');
CREATE TABLE credit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, wallet TEXT NOT NULL, delta_seconds INTEGER NOT NULL,
  event_type TEXT NOT NULL, balance_after_seconds INTEGER NOT NULL, connection_id TEXT, metadata_json TEXT,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO \"credit_events\" VALUES(4,'0x00000000000000000000000000000000000000aa',1800,'grant_base',1800,NULL,NULL,'2026-01-10T11:00:00.000Z');
INSERT INTO \"credit_events\" VALUES(9,'0x00000000000000000000000000000000000000aa',-600,'debit_usage',3000,'conn-1',NULL,'2026-01-10 12:00:00');
CREATE TABLE verifications (wallet TEXT PRIMARY KEY, celo_verified INTEGER NOT NULL DEFAULT 0, bonus_granted_at TEXT);
INSERT INTO \"verifications\" VALUES('0x00000000000000000000000000000000000000aa',1,'2026-01-10T11:30:00.000Z');
";

    #[tokio::test]
    async fn a_dump_reads_into_accounts_gates_and_events() {
        let dump = read(DUMP).await.unwrap();
        assert_eq!(dump.accounts.len(), 1);
        let a = &dump.accounts[0];
        assert_eq!(a.account.remaining(), Seconds(3000));
        assert_eq!(a.bonus_granted_at, parse_time("2026-01-10T11:30:00Z"));
        assert_eq!(dump.events.len(), 2);
        assert_eq!(dump.events[1].id, 9);
        assert_eq!(dump.events[1].event_type, CreditEventKind::DebitUsage);
        assert_eq!(dump.events[1].connection_id.as_deref(), Some("conn-1"));
        assert_eq!(
            dump.events[1].created_at,
            parse_time("2026-01-10T12:00:00Z").unwrap()
        );
    }

    #[tokio::test]
    async fn one_bad_row_refuses_the_dump() {
        let overdrawn = DUMP.replace("1800,1800,600", "10,0,600");
        assert!(
            read(&overdrawn)
                .await
                .unwrap_err()
                .contains("exceeds the grants")
        );
        let bad_kind = DUMP.replace("'grant_base'", "'gift'");
        assert!(
            read(&bad_kind)
                .await
                .unwrap_err()
                .contains("unknown event_type")
        );
        let bad_wallet = DUMP.replace(
            "INSERT INTO \"credit_events\" VALUES(4,'0x00000000000000000000000000000000000000aa'",
            "INSERT INTO \"credit_events\" VALUES(4,'nobody'",
        );
        assert!(read(&bad_wallet).await.is_err());
        // Data only (no CREATE TABLE): the original's tables are made first.
        let data_only: String = DUMP
            .lines()
            .filter(|l| l.starts_with("INSERT"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(read(&data_only).await.unwrap().events.len(), 2);
    }
}
