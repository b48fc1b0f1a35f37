//! Starting the stack: open the embedded resources, bind each selected service's port, print
//! the service table, serve until Ctrl-C / SIGTERM, then drain in-flight requests and the
//! background work they left (each up to `SHUTDOWN_DRAIN_SECS`).

use std::io::Write;
use std::net::SocketAddr;

use http_common::tasks::Drained;
use http_common::{EnvSource, init_tracing, shutdown_signal};
use portability::{Scheduler, TokioScheduler};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::{Cli, Command, CutoverAction, MigrateAction, ShadowAction};
use crate::config::StackConfig;
use crate::error::HeavenError;
use crate::migrate::{
    credits_import, d1_import, identity_import, kv_import, media_import, rooms_import,
};
use crate::resources::{NativeCanisters, open_resources};
use crate::services::ServiceId;

/// Runs the command given on the command line.
pub async fn run(cli: Cli) -> Result<(), HeavenError> {
    // Shadow traffic reads files and talks to two base URLs: no stack configuration, no data
    // dir.
    match cli.command() {
        Command::Shadow { action } => return shadow(action).await,
        Command::Cutover { action } => return cutover(action).await,
        _ => {}
    }
    let config = StackConfig::from_env(&EnvSource::Process)?;
    init_tracing(config.json_logs);
    crate::data_dir::prepare(&config.data_dir)?;
    match cli.command() {
        Command::Serve { service } => serve(&config, &ServiceId::selected(service)).await,
        Command::Migrate {
            action: MigrateAction::D1Import { file },
        } => d1_import(&config, &file).await,
        Command::Migrate {
            action: MigrateAction::KvImport { file },
        } => kv_import(&config, &file).await,
        Command::Migrate {
            action: MigrateAction::IdentityImport { file, canister },
        } => identity_import(&config, &file, canister).await,
        Command::Migrate {
            action: MigrateAction::CreditsImport { file, canister },
        } => credits_import(&config, &file, canister).await,
        Command::Migrate {
            action: MigrateAction::RoomsImport { file },
        } => rooms_import(&config, &file).await,
        Command::Migrate {
            action: MigrateAction::MediaImport { file },
        } => media_import(&config, &file).await,
        Command::Credits { action } => crate::credits::run(&config, action).await,
        Command::Shadow { action } => shadow(action).await,
        Command::Cutover { action } => cutover(action).await,
    }
}

/// `heaven cutover ...`.
async fn cutover(action: CutoverAction) -> Result<(), HeavenError> {
    let CutoverAction::Check(args) = action;
    crate::cutover::run_check(&args).await?;
    Ok(())
}

/// `heaven shadow ...`.
async fn shadow(action: ShadowAction) -> Result<(), HeavenError> {
    let ShadowAction::Replay(args) = action;
    crate::shadow::run_replay(&args).await?;
    Ok(())
}

/// Serves `selected` services until a shutdown signal.
pub async fn serve(config: &StackConfig, selected: &[ServiceId]) -> Result<(), HeavenError> {
    // Handlers first: a Ctrl-C right after the table is printed must still drain cleanly.
    let shutdown = shutdown_signal();
    let canisters = NativeCanisters {
        identity: selected.contains(&ServiceId::Api),
        credits: selected.contains(&ServiceId::VoiceRooms),
    };
    let resources = open_resources(config, canisters).await?;

    let scheduler = TokioScheduler::new(resources.state.clone());
    let mut rows = Vec::new();
    let mut servers = Vec::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    for &service in selected {
        let addr = SocketAddr::new(config.bind_addr, service.port(&config.ports));
        let Some(routes) = service.routes(&resources) else {
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
        #[cfg(debug_assertions)]
        let routes = crate::services::panic_probe::with_panic_route(routes);
        let router = service.edge(&config.edge).wrap(routes);
        for (name, schedule, job) in service.scheduled_jobs(&resources) {
            scheduler
                .schedule(name, schedule, job)
                .await
                .map_err(|source| HeavenError::Store {
                    what: "scheduler",
                    source,
                })?;
        }
        let mut stop = stop_rx.clone();
        servers.push(tokio::spawn(http_common::serve(
            listener,
            router,
            config.edge.limits.clone(),
            async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            },
            config.edge.drain,
        )));
    }
    // The operator endpoint `heaven credits` reaches while the stack runs.
    let _local_admin = match &resources.credits {
        Some(credits) => {
            let mut stop = stop_rx.clone();
            let routes = crate::credits::admin_routes(credits.clone());
            Some(
                crate::local_admin::start(&config.data_dir, routes, async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await?,
            )
        }
        None => None,
    };
    print_table(&rows, config);
    tracing::info!(data_dir = %config.data_dir.display(), "local stack started");

    shutdown.await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = stop_tx.send(true);
    scheduler.shutdown().await;
    for server in servers {
        if let Err(join) = server.await {
            tracing::error!(error = %join, "a server task panicked");
        }
    }
    // Requests have drained: hand this replica's rooms to its peers now rather than after
    // their leases expire.
    if let Some(rooms) = &resources.rooms {
        rooms.resign().await;
    }
    if let Some(duet) = &resources.duet {
        duet.resign().await;
    }
    if let Drained::CutOff(tasks) = resources.background.drain(config.edge.drain).await {
        tracing::warn!(
            cut_off = tasks.len(),
            "stopped before all background work ended"
        );
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
