//! `heaven migrate identity-import <dump.sql> --canister`: the dump's identity tables into the
//! deployed identity canister through ic-agent (`ICP_URL`, `ICP_NETWORK`,
//! `ICP_IDENTITY_PEM[_FILE]` of a controller, `ICP_IDENTITY_CANISTER_ID`), in batches of
//! [`BATCH_ROWS`] rows (each one `import_batch` call, well under the instruction limit).
//!
//! The run id is derived from the dump's checked rows, so running the same dump again resumes
//! the run: batches the canister applied before answer "already applied" (with the summary of
//! what it holds for them) and the rest are applied. At the end the per-table row counts and
//! chained checksums of the dump's batches and of the canister's answers are printed side by
//! side; a mismatch fails the command (the canister keeps what it applied: on the IC a run
//! cannot be undone, only resumed or repaired).

use canister_bridge::{AgentIdentity, BridgeConfig, CanisterAgent};
use identity_canister::import::{self, TableSummary};
use identity_canister::secret::sha256_hex;
use identity_canister::state::event::ImportRows;

use crate::HeavenError;

/// Rows per `import_batch` call.
pub const BATCH_ROWS: usize = 200;

/// The run id of a dump's checked rows: `d1-` and the first 16 hex digits of the SHA-256 of
/// their per-table checksums (the same dump resumes the same run).
pub fn run_id(rows: &ImportRows) -> String {
    let tables: String = import::summarize(rows)
        .iter()
        .map(|t| format!("{} {} {}\n", t.table, t.rows, t.sha256))
        .collect();
    format!("d1-{}", &sha256_hex(&tables)[..16])
}

/// Imports the dump `file` (text `dump`) into the deployed canister.
pub async fn import(file: &std::path::Path, dump: &str) -> Result<(), HeavenError> {
    let refused = |message: String| HeavenError::IdentityImport {
        file: file.display().to_string(),
        message,
    };
    let bridge = BridgeConfig::from_env()
        .map_err(|e| HeavenError::Bridge(e.to_string()))?
        .ok_or_else(|| refused("--canister needs ICP_URL and the bridge's variables".into()))?;
    let canister = bridge
        .identity_canister
        .ok_or_else(|| refused("--canister needs ICP_IDENTITY_CANISTER_ID".into()))?;
    println!("reading {} ...", file.display());
    let rows = super::identity_dump::read(dump).await.map_err(refused)?;
    let rows = import::check_rows(rows).map_err(refused)?;
    let run = run_id(&rows);
    let batches = import::split(rows, BATCH_ROWS);
    let agent = CanisterAgent::connect(&bridge)
        .await
        .map_err(|e| HeavenError::Bridge(e.to_string()))?;
    let identity = AgentIdentity::new(agent, canister);
    let bridge_error = |e: canister_bridge::BridgeError| HeavenError::Bridge(e.to_string());
    let done = identity
        .import_progress(&run)
        .await
        .map_err(bridge_error)?
        .map_err(|e| refused(format!("import_progress: {e:?}")))?;
    println!(
        "run {run}: {} batches of at most {BATCH_ROWS} rows into {canister}; {} applied before",
        batches.len(),
        done.len()
    );
    let mut expected: Vec<Vec<TableSummary>> = Vec::with_capacity(batches.len());
    let mut stored: Vec<Vec<TableSummary>> = Vec::with_capacity(batches.len());
    for (index, batch) in batches.iter().enumerate() {
        let outcome = identity
            .import_batch(&run, index as u64, batch)
            .await
            .map_err(|e| {
                refused(format!(
                    "batch {index} failed ({e}); run the same command again to resume"
                ))
            })?
            .map_err(|e| refused(format!("batch {index} refused: {e:?}")))?;
        println!(
            "batch {}/{} ({} rows): {}",
            index + 1,
            batches.len(),
            import::row_count(batch),
            if outcome.applied {
                "applied"
            } else {
                "already applied"
            }
        );
        expected.push(import::summarize(batch));
        stored.push(outcome.summary);
    }
    let (dump_tables, canister_tables) = (import::combine(&expected), import::combine(&stored));
    super::print_summaries(&dump_tables, &canister_tables);
    if dump_tables != canister_tables {
        return Err(refused(
            "the canister's rows differ from the dump (what was applied stays applied)".into(),
        ));
    }
    println!(
        "imported {} tables from {} into {canister}",
        import::TABLES.len(),
        file.display()
    );
    Ok(())
}
