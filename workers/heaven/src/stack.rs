//! Starting the stack: open the embedded resources, bind each selected service's port, print
//! the service table, serve until Ctrl-C / SIGTERM, then drain in-flight requests.

use std::io::Write;
use std::net::SocketAddr;

use canister_runtime::native::NativeRuntime;
use http_common::{EnvSource, init_tracing, shutdown_signal};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{Cli, Command, MigrateAction};
use crate::config::StackConfig;
use crate::error::HeavenError;
use crate::services::{LocalResources, ServiceId};

/// Runs the command given on the command line.
pub async fn run(cli: Cli) -> Result<(), HeavenError> {
    let config = StackConfig::from_env(&EnvSource::Process)?;
    init_tracing(config.json_logs);
    match cli.command() {
        Command::Serve { service } => serve(&config, &ServiceId::selected(service)).await,
        Command::Migrate {
            action: MigrateAction::D1Import { file },
        } => d1_import(&config, &file).await,
        Command::Migrate {
            action: MigrateAction::KvImport { file },
        } => kv_import(&config, &file).await,
    }
}

/// `heaven migrate kv-import <file>`: loads metadata-resolver's KV export into the cache store.
pub async fn kv_import(config: &StackConfig, file: &std::path::Path) -> Result<(), HeavenError> {
    let cache = portability::open_cache_store(&config.cache_store_url())
        .await
        .map_err(|source| HeavenError::Store {
            what: "cache store",
            source,
        })?;
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
pub async fn d1_import(config: &StackConfig, file: &std::path::Path) -> Result<(), HeavenError> {
    let dump = std::fs::read_to_string(file).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    let state = portability::open_state_store(&config.state_store_url())
        .await
        .map_err(|source| HeavenError::Store {
            what: "state store",
            source,
        })?;
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

/// voice-agent's configuration; without `JWT_SECRET` a random dev secret is generated once and
/// kept in the data dir, so local tokens survive restarts.
fn voice_agent_config(config: &StackConfig) -> Result<voice_agent::VoiceAgentConfig, HeavenError> {
    let env = EnvSource::Process;
    let dev_secret = match env.optional("JWT_SECRET") {
        Some(_) => None,
        None => Some(dev_jwt_secret(&config.data_dir)?),
    };
    Ok(voice_agent::VoiceAgentConfig::from_env(&env, dev_secret)?)
}

/// Reads `<data dir>/voice-agent-jwt-secret`, creating it (owner-only) on first use.
fn dev_jwt_secret(data_dir: &std::path::Path) -> Result<String, HeavenError> {
    let path = data_dir.join("voice-agent-jwt-secret");
    let io_error = |source| HeavenError::DataDir {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_error(err)),
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(io_error)?;
    file.write_all(secret.as_bytes()).map_err(io_error)?;
    Ok(secret)
}

/// Opens the data directory, state store, cache store and native runtime.
pub async fn open_resources(config: &StackConfig) -> Result<LocalResources, HeavenError> {
    let blob_dir = config.blob_dir();
    std::fs::create_dir_all(&blob_dir).map_err(|source| HeavenError::DataDir {
        path: blob_dir.display().to_string(),
        source,
    })?;
    let state = portability::open_state_store(&config.state_store_url())
        .await
        .map_err(|source| HeavenError::Store {
            what: "state store",
            source,
        })?;
    let cache = portability::open_cache_store(&config.cache_store_url())
        .await
        .map_err(|source| HeavenError::Store {
            what: "cache store",
            source,
        })?;
    let runtime = NativeRuntime::open(&config.data_dir)?;
    let voice_agent = voice_agent_config(config)?;
    let metadata_resolver = metadata_resolver::ResolverConfig::from_env(&EnvSource::Process)?;
    Ok(LocalResources {
        state,
        cache,
        runtime,
        blob_dir,
        voice_agent,
        metadata_resolver,
    })
}

/// Serves `selected` services until a shutdown signal.
pub async fn serve(config: &StackConfig, selected: &[ServiceId]) -> Result<(), HeavenError> {
    let resources = open_resources(config).await?;

    let mut rows = Vec::new();
    let mut servers = Vec::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    for &service in selected {
        let addr = SocketAddr::new(config.bind_addr, service.port(&config.ports));
        let Some(router) = service.router(&resources) else {
            if selected.len() == 1 {
                return Err(HeavenError::NotBuilt(service.name()));
            }
            rows.push((service.name(), format!("http://{addr}"), "not built yet"));
            continue;
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HeavenError::Bind {
                service: service.name(),
                addr,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| HeavenError::Bind {
            service: service.name(),
            addr,
            source,
        })?;
        rows.push((service.name(), format!("http://{bound}"), "running"));
        let mut stop = stop_rx.clone();
        let name = service.name();
        servers.push(tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await
                .map_err(|source| HeavenError::Serve {
                    service: name,
                    source,
                })
        }));
    }
    print_table(&rows, config);
    tracing::info!(data_dir = %config.data_dir.display(), "local stack started");

    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = stop_tx.send(true);
    for server in servers {
        match server.await {
            Ok(result) => result?,
            Err(join) => tracing::error!(error = %join, "a server task panicked"),
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Prints the service table on stdout (flushed: tests and scripts read it from a pipe).
fn print_table(rows: &[(&str, String, &str)], config: &StackConfig) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:<18} {:<26} status", "service", "url");
    for (name, url, status) in rows {
        let _ = writeln!(out, "{name:<18} {url:<26} {status}");
    }
    let _ = writeln!(out, "data: {}", config.data_dir.display());
    let _ = out.flush();
}
