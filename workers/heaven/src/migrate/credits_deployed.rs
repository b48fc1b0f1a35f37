//! `heaven migrate credits-import <dump.sql> --canister`: the credit ledger of a
//! `wrangler d1 export` into the deployed credits canister through ic-agent (`ICP_URL`,
//! `ICP_NETWORK`, `ICP_IDENTITY_PEM[_FILE]` of a controller, `ICP_CREDITS_CANISTER_ID`).
//!
//! The dump is read and checked whole first (one bad row refuses it, nothing is sent). Then
//! the controller method `import_credits` is called in batches of at most [`ACCOUNTS_PER_CALL`]
//! accounts or [`EVENTS_PER_CALL`] events, well under the 2 MiB ingress limit. The canister
//! replaces accounts by wallet and events by id, so running the same dump again after a failure
//! rewrites what was applied and goes on: resuming needs no bookkeeping. At the end every
//! account is read back (`balance`, a query) and compared with the dump; a difference fails
//! the command and names the wallets.

use candid::{Encode, Principal};
use canister_bridge::{BridgeConfig, BridgeError, CanisterAgent};
use credits_canister::admin::{ImportReport, ImportedAccount};
use credits_canister::api::CreditBalance;
use credits_canister::endpoints::CallError;
use credits_canister::state::CreditEvent;

use super::credits_import::CreditsDump;
use crate::HeavenError;

/// Accounts per `import_credits` call.
pub const ACCOUNTS_PER_CALL: usize = 500;
/// Credit events per `import_credits` call.
pub const EVENTS_PER_CALL: usize = 1_000;
/// Balance queries in flight while verifying.
const VERIFY_CONCURRENCY: usize = 16;

/// Imports `dump` (read from `file`) into the deployed credits canister and verifies it.
pub async fn import(file: &std::path::Path, dump: CreditsDump) -> Result<(), HeavenError> {
    let refused = |message: String| HeavenError::CreditsImport {
        file: file.display().to_string(),
        message,
    };
    let bridge = BridgeConfig::from_env()
        .map_err(|e| HeavenError::Bridge(e.to_string()))?
        .ok_or_else(|| refused("--canister needs ICP_URL and the bridge's variables".into()))?;
    let canister = bridge
        .credits_canister
        .ok_or_else(|| refused("--canister needs ICP_CREDITS_CANISTER_ID".into()))?;
    let agent = CanisterAgent::connect(&bridge)
        .await
        .map_err(|e| HeavenError::Bridge(e.to_string()))?;

    let batches = batches(&dump);
    println!(
        "{} accounts and {} credit events in {} batches into {canister}",
        dump.accounts.len(),
        dump.events.len(),
        batches.len()
    );
    for (index, (accounts, events)) in batches.iter().enumerate() {
        let report = call_import(&agent, canister, accounts, events)
            .await
            .map_err(|e| {
                refused(format!(
                    "batch {} failed ({e}); run the same command again to resume",
                    index + 1
                ))
            })?
            .map_err(|e| refused(format!("batch {} refused: {e:?}", index + 1)))?;
        println!(
            "batch {}/{}: {} accounts, {} events: applied",
            index + 1,
            batches.len(),
            report.accounts,
            report.credit_events
        );
    }

    let mismatches = verify(&agent, canister, &dump.accounts)
        .await
        .map_err(|e| refused(format!("verifying: {e}; the import itself completed")))?;
    let remaining: u64 = dump.accounts.iter().map(|a| a.account.remaining().0).sum();
    if mismatches.is_empty() {
        println!(
            "verified {} accounts ({remaining} seconds remaining in all): the canister holds \
             what the dump says",
            dump.accounts.len()
        );
        Ok(())
    } else {
        Err(refused(format!(
            "{} accounts differ after the import: {}",
            mismatches.len(),
            mismatches
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )))
    }
}

/// The dump cut into `import_credits` calls: accounts first, then events.
pub fn batches(dump: &CreditsDump) -> Vec<(Vec<ImportedAccount>, Vec<CreditEvent>)> {
    let accounts = dump
        .accounts
        .chunks(ACCOUNTS_PER_CALL)
        .map(|c| (c.to_vec(), Vec::new()));
    let events = dump
        .events
        .chunks(EVENTS_PER_CALL)
        .map(|c| (Vec::new(), c.to_vec()));
    accounts.chain(events).collect()
}

async fn call_import(
    agent: &CanisterAgent,
    canister: Principal,
    accounts: &[ImportedAccount],
    events: &[CreditEvent],
) -> Result<Result<ImportReport, CallError>, BridgeError> {
    let arg = Encode!(&accounts, &events).expect("candid encodes the import arguments");
    let reply = agent.update(canister, "import_credits", arg).await?;
    candid::decode_one(&reply).map_err(|e| BridgeError::Protocol(format!("import_credits: {e}")))
}

/// Reads every account's balance back; the differences, as `wallet: canister … != dump …`.
async fn verify(
    agent: &CanisterAgent,
    canister: Principal,
    accounts: &[ImportedAccount],
) -> Result<Vec<String>, BridgeError> {
    let mut mismatches = Vec::new();
    for chunk in accounts.chunks(VERIFY_CONCURRENCY) {
        let reads = chunk.iter().map(|a| async move {
            let reply = agent
                .query(canister, "balance", Encode!(&a.wallet).expect("candid"))
                .await?;
            let balance: CreditBalance = candid::decode_one(&reply)
                .map_err(|e| BridgeError::Protocol(format!("balance: {e}")))?;
            Ok::<_, BridgeError>((a, balance))
        });
        for read in futures_util::future::join_all(reads).await {
            let (a, got) = read?;
            let want = (
                a.account.base_granted,
                a.account.bonus_granted,
                a.account.consumed,
            );
            let have = (
                got.base_granted_seconds,
                got.bonus_granted_seconds,
                got.consumed_seconds,
            );
            if want != have {
                mismatches.push(format!(
                    "{}: canister (base, bonus, consumed) {have:?} != dump {want:?}",
                    a.wallet
                ));
            }
        }
    }
    Ok(mismatches)
}
