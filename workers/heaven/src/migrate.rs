//! `heaven migrate`: loading the original services' Cloudflare exports into our stores.

pub mod credits_deployed;
pub mod credits_import;
pub mod identity_deployed;
pub mod identity_dump;
pub mod identity_import;
pub mod rooms_import;

use std::path::Path;

use http_common::EnvSource;

use crate::config::StackConfig;
use crate::error::HeavenError;
use crate::resources::{LocalIdentity, open_cache_store, open_state_store};

/// `heaven migrate kv-import <file>`: loads metadata-resolver's KV export into the cache store.
pub async fn kv_import(config: &StackConfig, file: &Path) -> Result<(), HeavenError> {
    let cache = open_cache_store(config).await?;
    let report = metadata_resolver::kv_import::import_kv_file(cache.as_ref(), file).await?;
    println!(
        "imported {} cache entries ({} already expired, skipped) from {}",
        report.imported,
        report.expired,
        file.display()
    );
    Ok(())
}

/// `heaven migrate d1-import <file>`: loads voice-agent's D1 dump into the state store.
pub async fn d1_import(config: &StackConfig, file: &Path) -> Result<(), HeavenError> {
    let dump = std::fs::read_to_string(file).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    let state = open_state_store(config).await?;
    let report = voice_agent::d1_import::import_d1_dump(state, &dump)
        .await
        .map_err(HeavenError::Import)?;
    println!(
        "imported {} nonces and {} sessions from {}",
        report.nonces,
        report.sessions,
        file.display()
    );
    Ok(())
}

/// `heaven migrate media-import <file>`: api-core's music jobs and upload bans from a D1 dump
/// into the state store, checked by reading every record back.
pub async fn media_import(config: &StackConfig, file: &Path) -> Result<(), HeavenError> {
    let dump = std::fs::read_to_string(file).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    let state = open_state_store(config).await?;
    let report = media::d1_import::import_d1_dump(state, &dump)
        .await
        .map_err(|e| HeavenError::MediaImport {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
    println!(
        "imported music_publish_jobs: {} rows in the dump, {} stored; music_upload_bans: {} rows in the dump, {} stored; from {}",
        report.jobs_in_dump,
        report.jobs_stored,
        report.bans_in_dump,
        report.bans_stored,
        file.display()
    );
    Ok(())
}

/// `heaven migrate identity-import <file>`: a `wrangler d1 export` SQL dump of api-core's
/// database (every identity table, all or nothing, with per-table counts and checksums), or
/// the JSON document of shadow profiles, identities and reserved labels, into the native
/// identity canister's state (the stack must be stopped).
/// With `canister`, the dump goes to the deployed canister ([`identity_deployed`]).
pub async fn identity_import(
    config: &StackConfig,
    file: &Path,
    canister: bool,
) -> Result<(), HeavenError> {
    let refused = |message: String| HeavenError::IdentityImport {
        file: file.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    if canister {
        return identity_deployed::import(file, &text).await;
    }
    if !text.trim_start().starts_with('{') {
        return identity_dump_import(config, file, &text).await;
    }
    let now = identity_import::now();
    let checked = identity_import::IdentityImport::parse(&text)
        .and_then(|doc| doc.check(now))
        .map_err(refused)?;
    let identity = LocalIdentity::start(&config.data_dir, &EnvSource::Process)?;
    let report = identity
        .canister
        .run(move || checked.apply(now))
        .await?
        .map_err(refused)?;
    println!(
        "imported {} shadow profiles, {} identities and {} reserved labels from {}",
        report.shadow_profiles,
        report.identities,
        report.reserved,
        file.display()
    );
    Ok(())
}

/// The SQL dump path of [`identity_import`]: read, check, import in one canister job whose
/// writes are undone unless what the canister then holds matches the dump table by table.
async fn identity_dump_import(
    config: &StackConfig,
    file: &Path,
    dump: &str,
) -> Result<(), HeavenError> {
    use identity_canister::import::{self, TableSummary};
    let refused = |message: String| HeavenError::IdentityImport {
        file: file.display().to_string(),
        message,
    };
    println!("reading {} ...", file.display());
    let rows = identity_dump::read(dump).await.map_err(refused)?;
    let rows = import::check_rows(rows).map_err(refused)?;
    let expected = import::summarize(&rows);
    println!(
        "checked {} rows of {} tables; importing in one run",
        import::row_count(&rows),
        import::TABLES.len()
    );
    let identity = LocalIdentity::start(&config.data_dir, &EnvSource::Process)?;
    let now = identity_import::now();
    let stored_slot = std::sync::Arc::new(std::sync::Mutex::new(None::<Vec<TableSummary>>));
    let slot = stored_slot.clone();
    let want = expected.clone();
    let outcome = identity
        .canister
        .run(move || {
            let stored = identity_import::apply_rows(rows, now);
            if stored != want {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(stored);
                // The canister thread undoes every write of a panicking job.
                panic!("imported rows differ from the dump");
            }
            stored
        })
        .await;
    let stored = match outcome {
        Ok(stored) => stored,
        Err(_) => {
            let stored = stored_slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(stored) = &stored {
                print_summaries(&expected, stored);
            }
            return Err(refused(
                "the canister's rows differ from the dump; nothing was imported".into(),
            ));
        }
    };
    print_summaries(&expected, &stored);
    println!(
        "imported {} tables from {}",
        import::TABLES.len(),
        file.display()
    );
    Ok(())
}

pub(crate) fn print_summaries(
    dump: &[identity_canister::import::TableSummary],
    canister: &[identity_canister::import::TableSummary],
) {
    println!(
        "{:<22} {:>8}  {:<64}  {:<64}",
        "table", "rows", "dump sha256", "canister sha256"
    );
    for (d, c) in dump.iter().zip(canister) {
        let mark = if d == c { "ok" } else { "MISMATCH" };
        println!(
            "{:<22} {:>8}  {}  {}  {mark}",
            d.table, d.rows, d.sha256, c.sha256
        );
    }
}

/// `heaven migrate credits-import <file>`: voice-control-plane's credit tables into the local
/// credits canister (the stack must be stopped: the state file has one process at a time), or
/// with `canister` into the deployed one ([`credits_deployed`]).
pub async fn credits_import(
    config: &StackConfig,
    file: &Path,
    canister: bool,
) -> Result<(), HeavenError> {
    let refused = |message: String| HeavenError::CreditsImport {
        file: file.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    let dump = credits_import::read(&text).await.map_err(refused)?;
    if canister {
        return credits_deployed::import(file, dump).await;
    }
    let credits = crate::credits::start(&config.data_dir)?;
    let report = credits
        .import(dump.accounts, dump.events)
        .await?
        .map_err(|e| refused(e.to_string()))?;
    println!(
        "imported {} credit accounts and {} credit events from {}",
        report.accounts,
        report.credit_events,
        file.display()
    );
    Ok(())
}

/// `heaven migrate rooms-import <file>`: voice-control-plane's `rooms`, `room_participants`,
/// `duet_rooms` and `song_registry` into voice-rooms' tables (`ROOMS_DB`, else the state store's
/// database; the songs always in the state store's database, as the stack opens them). The
/// dump is checked whole first; the rows are then written in one transaction (two when
/// `ROOMS_DB` names another database than the state store: rooms first, then songs). Run it
/// with the stack stopped; re-running replaces the same ids with the same rows.
pub async fn rooms_import(config: &StackConfig, file: &Path) -> Result<(), HeavenError> {
    let refused = |message: String| HeavenError::RoomsImport {
        file: file.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    let dump = rooms_import::read(&text).await.map_err(refused)?;
    let songs_url = config.state_store_url();
    let rooms_url = crate::resources::voice_rooms_config(config)?
        .rooms_db
        .unwrap_or_else(|| songs_url.clone());
    // Creates the song table where the stack has it.
    let songs = voice_rooms::songs::SongRegistry::open(&songs_url).await?;
    let rooms = voice_rooms::rooms::RoomsDb::open(&rooms_url, None)
        .await
        .map_err(|e| HeavenError::Rooms(e.to_string()))?;
    let together = rooms_url == songs_url;
    let mut counts = rooms
        .import(&dump, together)
        .await
        .map_err(|e| refused(e.to_string()))?;
    if !together {
        counts.songs = songs
            .import(&dump.songs)
            .await
            .map_err(|e| refused(e.to_string()))?;
    }
    println!(
        "imported {} rooms, {} room participants, {} duet rooms and {} songs from {} \
         (active rooms closed, duet rooms not ended marked ended)",
        counts.rooms,
        counts.participants,
        counts.duet_rooms,
        counts.songs,
        file.display()
    );
    Ok(())
}
