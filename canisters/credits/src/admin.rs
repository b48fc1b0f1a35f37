//! Controller methods and operator reads: workers, chain settings, grants and corrections,
//! the migration import of the original's D1 tables, counters, the `credit_events` view and
//! the audit of the state against its log.

use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

use crate::endpoints::{AuditReport, CallError, Stats};
use crate::ledger::Account;
use crate::state::{
    self, ChainConfig, CreditEvent, CreditEventKind, SWEEP_SEQ, audit, audit::process_event,
    event::EventType, keys,
};
use crate::units::UnixSeconds;
use crate::wallet::Wallet;

/// Lists the worker principals (replacing the list).
pub fn set_workers(workers: Vec<String>, now_ns: u64) -> Result<(), CallError> {
    for w in &workers {
        Principal::from_text(w).map_err(|e| CallError::Invalid(format!("{w}: {e}")))?;
    }
    state::mutate(|s| process_event(s, now_ns, EventType::WorkersSet { workers }));
    Ok(())
}

/// Sets how the chain is read and whether the attestation runs, after checking it.
pub fn set_chain_config(config: ChainConfig, now_ns: u64) -> Result<(), CallError> {
    validate_chain_config(&config).map_err(CallError::Invalid)?;
    state::mutate(|s| process_event(s, now_ns, EventType::ChainConfigured { config }));
    Ok(())
}

/// Checks a chain configuration: an http(s) URL and three addresses.
pub fn validate_chain_config(config: &ChainConfig) -> Result<(), String> {
    if !config.rpc_url.starts_with("https://") && !config.rpc_url.starts_with("http://") {
        return Err("rpc_url must be an http(s) URL".into());
    }
    for (name, address) in [
        ("registry", &config.registry),
        ("verification_mirror", &config.verification_mirror),
        ("escrow", &config.escrow),
    ] {
        if heaven_eth::address::parse(address.trim()).is_none() {
            return Err(format!("{name} must be a 0x address"));
        }
    }
    Ok(())
}

/// An account of the original's `credit_accounts` (+ its `verifications` row).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct ImportedAccount {
    /// The wallet.
    pub wallet: Wallet,
    /// Its totals.
    pub account: Account,
    /// When its Celo bonus was granted, if it was.
    pub bonus_granted_at: Option<UnixSeconds>,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, CandidType, Serialize, Deserialize)]
pub struct ImportReport {
    /// Accounts written.
    pub accounts: u64,
    /// `credit_events` rows written.
    pub credit_events: u64,
}

/// Imports the original's credit tables, all or nothing: every account must keep the
/// invariant (consumed ≤ grants) before anything is written. Re-running replaces the same
/// accounts and rows.
pub fn import(
    accounts: Vec<ImportedAccount>,
    events: Vec<CreditEvent>,
    now_ns: u64,
) -> Result<ImportReport, CallError> {
    if let Some(bad) = accounts
        .iter()
        .find(|a| a.account.consumed > a.account.granted())
    {
        return Err(CallError::Invalid(format!(
            "{}: consumed {} exceeds the grants {}",
            bad.wallet,
            bad.account.consumed,
            bad.account.granted()
        )));
    }
    let report = ImportReport {
        accounts: accounts.len() as u64,
        credit_events: events.len() as u64,
    };
    state::mutate(|s| {
        for a in accounts {
            process_event(
                s,
                now_ns,
                EventType::AccountImported {
                    wallet: a.wallet,
                    account: a.account,
                    bonus_granted_at: a.bonus_granted_at,
                },
            );
        }
        for row in events {
            process_event(s, now_ns, EventType::CreditEventImported { row });
        }
    });
    Ok(report)
}

/// The `credit_events` rows of `wallet` in id order, optionally of one kind, after id `after`,
/// at most `limit`.
pub fn credit_events(
    wallet: &Wallet,
    kind: Option<CreditEventKind>,
    after: u64,
    limit: usize,
) -> Vec<CreditEvent> {
    let prefix = keys::credit_events_prefix(wallet);
    state::with(|s| {
        s.credit_events()
            .range(keys::credit_event_key(wallet, after.saturating_add(1))..)
            .take_while(|e| e.key().starts_with(&prefix))
            .map(|e| e.value().0.clone())
            .filter(|row| kind.is_none_or(|k| row.event_type == k))
            .take(limit)
            .collect()
    })
}

/// Counters.
pub fn stats() -> Stats {
    state::with(|s| Stats {
        events: s.event_count(),
        accounts: s.accounts().len(),
        connections: s.connections().len(),
        settlement_markers: s.markers().len(),
        bookings: s.bookings().len(),
        sweeps: s.counter(SWEEP_SEQ),
        last_sweep_at: s
            .sweeps()
            .last_key_value()
            .map_or(0, |(_, summary)| summary.0.at.0),
        sweep_progress: s
            .sweep_run()
            .map(|run| (run.next, run.bookings.len() as u64)),
    })
}

/// Replays the log and compares it with the live state.
pub fn audit() -> AuditReport {
    AuditReport {
        events: state::with(|s| s.event_count()),
        differences: audit::check_against_log()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}
