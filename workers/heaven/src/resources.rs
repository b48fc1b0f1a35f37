//! Opening what the services share: the data directory, the configured state and cache stores,
//! the blob store, the native identity canister, the background-task set and each built
//! service's configuration.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use blob_store::anchor_service::{AnchorService, AnchorSettings};
use http_common::{BackgroundTasks, ConfigError, EnvSource};
use identity_canister::native::{NativeIdentity, NativeSettings};
use portability::{CacheStore, ContentAddressedBlobStore, StateStore};

use crate::config::StackConfig;
use crate::error::HeavenError;
use crate::random_token::random_hex_32;
use crate::services::api::identity::IdentityBackend;

/// Resources opened once at start and shared by every service of the process.
#[derive(Clone)]
pub struct LocalResources {
    /// Durable worker state (SQLite by default).
    pub state: Arc<dyn StateStore>,
    /// Cache entries and shared rate-limit slots (SQLite by default).
    pub cache: Arc<dyn CacheStore>,
    /// Work requests leave running (memory writes, rehosts), drained on shutdown.
    pub background: BackgroundTasks,
    /// Local content-addressed blob directory.
    pub blob_dir: PathBuf,
    /// The blob store (`BLOB_BACKEND`, local disk under `blob_dir` by default; see
    /// docs/blob-store.md), indexed in `state`.
    pub blobs: Arc<dyn ContentAddressedBlobStore>,
    /// voice-agent's configuration (its env vars, a dev JWT secret when none is set).
    pub voice_agent: voice_agent::VoiceAgentConfig,
    /// voice-rooms' configuration (its env vars, a dev JWT secret of its own when none is set).
    pub voice_rooms: voice_rooms::VoiceRoomsConfig,
    /// metadata-resolver's configuration (embedded defaults; `MB_USER_AGENT`, `LOAD_*`...).
    pub metadata_resolver: metadata_resolver::ResolverConfig,
    /// The api service's identity canister: running natively (its state file must have one
    /// process at a time), or the deployed one through ic-agent when `ICP_URL` and
    /// `ICP_IDENTITY_CANISTER_ID` are set; only when the api service is served.
    pub identity: Option<IdentityBackend>,
    /// The credits canister's `POST /internal/anchor` on the api origin (ADR 0025): built when
    /// `ANCHOR_CANISTER_PUBLIC_KEY` is set, uploading through `blobs`, deduplicating in
    /// `state`.
    pub anchor: Option<AnchorService>,
    /// The media worker (`/api/music`, `/api/load`, `/api/arweave`); only when the api service
    /// is served (it asks the identity canister above who is Self-verified).
    pub media: Option<media::MediaState>,
    /// The credits canister running natively; only when voice-rooms is served without the
    /// canister bridge.
    pub credits: Option<credits_canister::native::NativeCredits>,
    /// voice-rooms' credits client: the native canister in-process, or the deployed canister
    /// through ic-agent when `ICP_URL` and `ICP_CREDITS_CANISTER_ID` are set; only when
    /// voice-rooms is served.
    pub credits_client: Option<Arc<dyn voice_rooms::CreditsClient>>,
    /// The publishing signer (issue #18) the media worker's finalize calls: the deployed
    /// identity canister through ic-agent when `ICP_URL` and `ICP_IDENTITY_CANISTER_ID` are
    /// set, else the native identity canister in process (when this process runs it).
    pub publishing: Option<Arc<dyn canister_bridge::PublishingClient>>,
    /// voice-rooms' `song_registry` table, in the state store's database; only when
    /// voice-rooms is served.
    pub songs: Option<voice_rooms::songs::SongRegistry>,
    /// voice-rooms' free rooms (actors reloaded from `state`, tables in `ROOMS_DB` or the
    /// state store's database); only when voice-rooms is served.
    pub rooms: Option<voice_rooms::rooms::Rooms>,
    /// voice-rooms' duet rooms (actors reloaded from `state`, index beside the free rooms'
    /// tables); only when voice-rooms is served.
    pub duet: Option<voice_rooms::duet::DuetRooms>,
}

/// The identity canister on its own thread, and the key this process's edge presents with the
/// client IP (installed as the canister's `edge_key` secret at start).
#[derive(Clone)]
pub struct LocalIdentity {
    /// The canister.
    pub canister: NativeIdentity,
    /// Random per process; never logged.
    pub edge_key: Arc<str>,
}

impl LocalIdentity {
    /// Starts the canister on `<data_dir>/identity-canister.stable` with the original api-core
    /// variables from `env` and a fresh edge key.
    pub fn start(data_dir: &Path, env: &EnvSource) -> Result<Self, HeavenError> {
        let edge_key: Arc<str> = random_hex_32().into();
        let mut settings = NativeSettings::from_env(|name| env.optional(name));
        settings.secrets.edge_key = Some(edge_key.to_string());
        let canister = NativeIdentity::start(data_dir, settings)?;
        Ok(Self { canister, edge_key })
    }
}

/// Opens the configured state store (`STATE_STORE`).
pub async fn open_state_store(config: &StackConfig) -> Result<Arc<dyn StateStore>, HeavenError> {
    portability::open_state_store(&config.state_store_url())
        .await
        .map_err(|source| HeavenError::Store {
            what: "state store",
            source,
        })
}

/// Opens the configured cache store (`CACHE_STORE`).
pub async fn open_cache_store(config: &StackConfig) -> Result<Arc<dyn CacheStore>, HeavenError> {
    portability::open_cache_store(&config.cache_store_url())
        .await
        .map_err(|source| HeavenError::Store {
            what: "cache store",
            source,
        })
}

/// Opens the blob store configured by the `BLOB_*`, `LOAD_*`, `IRYS_*` variables, on local disk
/// under `blob_dir` unless `BLOB_BACKEND` says otherwise.
pub async fn open_blob_store(
    blob_dir: &Path,
    state: Arc<dyn StateStore>,
) -> Result<Arc<dyn ContentAddressedBlobStore>, HeavenError> {
    let store = |source| HeavenError::Store {
        what: "blob store",
        source,
    };
    let config = blob_store::BlobStoreConfig::from_env(blob_dir).map_err(store)?;
    blob_store::open_blob_store(&config, state)
        .await
        .map_err(store)
}

/// voice-agent's configuration; without `JWT_SECRET` a random dev secret is generated once and
/// kept in the data dir, so local tokens survive restarts.
fn voice_agent_config(config: &StackConfig) -> Result<voice_agent::VoiceAgentConfig, HeavenError> {
    let env = EnvSource::Process;
    let dev_secret = match env.optional("JWT_SECRET") {
        Some(_) => None,
        None => Some(dev_jwt_secret(&config.data_dir, "voice-agent-jwt-secret")?),
    };
    Ok(voice_agent::VoiceAgentConfig::from_env(&env, dev_secret)?)
}

/// voice-rooms' configuration; without `JWT_SECRET` its own dev secret is generated once and
/// kept in the data dir (the two originals were separate workers with separate secrets).
pub(crate) fn voice_rooms_config(
    config: &StackConfig,
) -> Result<voice_rooms::VoiceRoomsConfig, HeavenError> {
    let env = EnvSource::Process;
    let dev_secret = match env.optional("JWT_SECRET") {
        Some(_) => None,
        None => Some(dev_jwt_secret(&config.data_dir, "voice-rooms-jwt-secret")?),
    };
    Ok(voice_rooms::VoiceRoomsConfig::from_env(&env, dev_secret)?)
}

/// Reads `<data dir>/<file>`, creating it (owner-only) with a random secret on first use.
fn dev_jwt_secret(data_dir: &Path, file: &str) -> Result<String, HeavenError> {
    let path = data_dir.join(file);
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
    let secret = random_hex_32();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(io_error)?;
    file.write_all(secret.as_bytes()).map_err(io_error)?;
    Ok(secret)
}

/// Which canisters a process's services need: run natively (each state file has one process
/// at a time) unless the canister bridge names a deployed one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NativeCanisters {
    /// The identity canister (the api service).
    pub identity: bool,
    /// The credits canister (voice-rooms).
    pub credits: bool,
}

/// Opens the data directory, state store, cache store and blob store, and starts the native
/// canisters `canisters` asks for.
pub async fn open_resources(
    config: &StackConfig,
    canisters: NativeCanisters,
) -> Result<LocalResources, HeavenError> {
    // Checked first: a refused start opens nothing.
    let bridge = canister_bridge::BridgeConfig::from_env()
        .map_err(|e| HeavenError::Bridge(e.to_string()))?;
    let deployed_identity = bridge.as_ref().and_then(|b| b.identity_canister);
    let deployed_credits = bridge.as_ref().and_then(|b| b.credits_canister);
    refuse_dev_key(
        config,
        canisters,
        deployed_identity.is_some(),
        deployed_credits.is_some(),
    )?;
    let blob_dir = config.blob_dir();
    std::fs::create_dir_all(&blob_dir).map_err(|source| HeavenError::DataDir {
        path: blob_dir.display().to_string(),
        source,
    })?;
    let state = open_state_store(config).await?;
    let cache = open_cache_store(config).await?;
    let blobs = open_blob_store(&blob_dir, state.clone()).await?;
    let voice_agent = voice_agent_config(config)?;
    let voice_rooms = voice_rooms_config(config)?;
    if canisters.credits {
        refuse_mock_payments(config, &voice_rooms)?;
    }
    let metadata_resolver = metadata_resolver::ResolverConfig::from_env(&EnvSource::Process)?;
    let anchor = anchor_service(&EnvSource::Process, blobs.clone(), state.clone())?;
    let agent = match &bridge {
        Some(bridge)
            if (canisters.identity && deployed_identity.is_some())
                || (canisters.credits && deployed_credits.is_some()) =>
        {
            Some(
                canister_bridge::CanisterAgent::connect(bridge)
                    .await
                    .map_err(|e| HeavenError::Bridge(e.to_string()))?,
            )
        }
        _ => None,
    };
    let identity = match (canisters.identity, deployed_identity, &agent) {
        (false, _, _) => None,
        (true, Some(canister), Some(agent)) => {
            tracing::info!(%canister, principal = %agent.principal(),
                "the api service forwards the identity routes to the deployed identity canister through ic-agent");
            Some(IdentityBackend::Deployed(Arc::new(
                canister_bridge::AgentIdentity::new(agent.clone(), canister),
            )))
        }
        (true, _, _) => Some(IdentityBackend::Native(LocalIdentity::start(
            &config.data_dir,
            &EnvSource::Process,
        )?)),
    };
    let publishing = publishing_client(identity.as_ref(), agent.as_ref(), deployed_identity);
    let media = match &identity {
        Some(identity) => Some(media_state(
            config,
            &blob_dir,
            state.clone(),
            blobs.clone(),
            identity,
            publishing.clone(),
            Arc::new(media::scrobble::resolve::Lookups::from_env(
                &EnvSource::Process,
                &metadata_resolver,
                cache.clone(),
            )),
        )?),
        None => None,
    };
    let (credits, credits_client) = match (canisters.credits, deployed_credits, &agent) {
        (true, Some(canister), Some(agent)) => {
            tracing::info!(%canister, principal = %agent.principal(),
                "voice-rooms uses the deployed credits canister through ic-agent");
            let client: Arc<dyn voice_rooms::CreditsClient> =
                Arc::new(canister_bridge::AgentCredits::new(agent.clone(), canister));
            (None, Some(client))
        }
        (true, _, _) => {
            let native = crate::credits::start(&config.data_dir)?;
            let client: Arc<dyn voice_rooms::CreditsClient> = Arc::new(
                crate::services::credits_client::InProcessCredits(native.clone()),
            );
            (Some(native), Some(client))
        }
        (false, _, _) => (None, None),
    };
    // The credits canister is started exactly when voice-rooms is served.
    let songs = if canisters.credits {
        Some(voice_rooms::songs::SongRegistry::open(&config.state_store_url()).await?)
    } else {
        None
    };
    let background = BackgroundTasks::new();
    let rooms = match &credits_client {
        Some(client) => Some(
            open_rooms(
                config,
                &voice_rooms,
                state.clone(),
                client.clone(),
                background.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let duet = match (&credits_client, &rooms) {
        (Some(client), Some(rooms)) => Some(
            voice_rooms::duet::DuetRooms::start(
                state.clone(),
                rooms.db().clone(),
                client.clone(),
                voice_rooms::Clock::system(),
                voice_rooms::duet::DuetSettings {
                    agora: voice_rooms.agora.clone(),
                    facilitator: voice_rooms.x402.clone(),
                    checkout_secret: voice_rooms.jwt_secret.clone(),
                },
                replication(config, &voice_rooms, voice_rooms::rooms::peers::DUET_ROOMS),
            )
            .await
            .map_err(|e| HeavenError::Rooms(e.to_string()))?,
        ),
        _ => None,
    };
    Ok(LocalResources {
        rooms,
        duet,
        state,
        cache,
        background,
        blob_dir,
        blobs,
        voice_agent,
        voice_rooms,
        metadata_resolver,
        identity,
        anchor,
        media,
        credits,
        credits_client,
        publishing,
        songs,
    })
}

/// The publishing client of the identity canister the api service uses: ic-agent to the
/// deployed canister, or the native canister this process runs; none when api is not served.
fn publishing_client(
    identity: Option<&IdentityBackend>,
    agent: Option<&canister_bridge::CanisterAgent>,
    deployed: Option<canister_bridge::Principal>,
) -> Option<Arc<dyn canister_bridge::PublishingClient>> {
    match (identity?, agent, deployed) {
        (IdentityBackend::Deployed(_), Some(agent), Some(canister)) => Some(Arc::new(
            canister_bridge::AgentPublishing::new(agent.clone(), canister),
        )),
        (IdentityBackend::Native(local), _, _) => Some(Arc::new(
            crate::services::publishing_client::InProcessPublishing(local.canister.clone()),
        )),
        (IdentityBackend::Deployed(_), _, _) => None,
    }
}

/// `POST /internal/anchor`'s service when `ANCHOR_CANISTER_PUBLIC_KEY` (the credits
/// canister's `anchor_public_key`, SEC1 hex) is set.
fn anchor_service(
    env: &EnvSource,
    blobs: Arc<dyn ContentAddressedBlobStore>,
    state: Arc<dyn StateStore>,
) -> Result<Option<AnchorService>, ConfigError> {
    let Some(key) = env.optional("ANCHOR_CANISTER_PUBLIC_KEY") else {
        return Ok(None);
    };
    let settings = AnchorSettings::from_hex(&key).map_err(|message| ConfigError::Invalid {
        var: "ANCHOR_CANISTER_PUBLIC_KEY".into(),
        value: key.clone(),
        message,
    })?;
    Ok(Some(AnchorService::new(settings, blobs, state)))
}

/// Refuses, in production (`HEAVEN_ENV=production`) without `HEAVEN_ALLOW_DEV_KEY=true`, to
/// run a canister natively (signing with a dev key in the data dir) for a served service.
fn refuse_dev_key(
    config: &StackConfig,
    canisters: NativeCanisters,
    deployed_identity: bool,
    deployed_credits: bool,
) -> Result<(), HeavenError> {
    if config.deployment.native_canisters_allowed() {
        return Ok(());
    }
    if canisters.identity && !deployed_identity {
        return Err(HeavenError::DevKeyInProduction {
            service: "api",
            canister: "identity",
            canister_var: "ICP_IDENTITY_CANISTER_ID",
        });
    }
    if canisters.credits && !deployed_credits {
        return Err(HeavenError::DevKeyInProduction {
            service: "voice-rooms",
            canister: "credits",
            canister_var: "ICP_CREDITS_CANISTER_ID",
        });
    }
    Ok(())
}

/// Refuses, in production without `HEAVEN_ALLOW_MOCK_PAYMENTS=true`, to serve voice-rooms with
/// the mock x402 facilitator (the original's default: every paid duet entry granted, nothing
/// settled) or mock escrow reads (every booking confirmed).
fn refuse_mock_payments(
    config: &StackConfig,
    rooms: &voice_rooms::VoiceRoomsConfig,
) -> Result<(), HeavenError> {
    if config.deployment.mock_payments_allowed() {
        return Ok(());
    }
    if rooms.x402.mode.trim() == "mock" {
        return Err(HeavenError::MockPaymentsInProduction {
            what: "the x402 facilitator",
            var: "X402_FACILITATOR_MODE, default mock",
            fix: "set X402_FACILITATOR_MODE=self with PAYMENT_FACILITATOR_BASE_URL and \
                  X402_FACILITATOR_AUTH_TOKEN",
        });
    }
    if rooms.escrow.mock {
        return Err(HeavenError::MockPaymentsInProduction {
            what: "the session escrow",
            var: "ESCROW_MODE / SESSION_ESCROW_MODE",
            fix: "unset it so bookings are read from the escrow contract over RPC_URL",
        });
    }
    Ok(())
}

/// The media worker's state: its variables, the stack's state and blob stores, the native
/// identity canister the api service uses (in-process or deployed) with its publishing
/// signer, scrobble lookups (MusicBrainz on the resolver's shared limiter slot in the cache
/// store), and a private spool directory `<data dir>/media-spool`.
fn media_state(
    config: &StackConfig,
    blob_dir: &Path,
    state: Arc<dyn StateStore>,
    blobs: Arc<dyn ContentAddressedBlobStore>,
    identity: &IdentityBackend,
    publishing: Option<Arc<dyn canister_bridge::PublishingClient>>,
    scrobble_lookups: Arc<media::scrobble::resolve::Lookups>,
) -> Result<media::MediaState, HeavenError> {
    let blob_config =
        blob_store::BlobStoreConfig::from_env(blob_dir).map_err(|source| HeavenError::Store {
            what: "blob store",
            source,
        })?;
    let spool_dir = config.data_dir.join("media-spool");
    std::fs::create_dir_all(&spool_dir).map_err(|source| HeavenError::DataDir {
        path: spool_dir.display().to_string(),
        source,
    })?;
    let media_config = media::MediaConfig::from_env(&EnvSource::Process, &blob_config, spool_dir)?;
    let identity: Arc<dyn canister_bridge::IdentityClient> = match identity {
        IdentityBackend::Native(local) => Arc::new(
            crate::services::identity_client::InProcessIdentity(local.clone()),
        ),
        IdentityBackend::Deployed(client) => client.clone(),
    };
    let photos = photo_service(config, state.clone(), blobs.clone())?;
    let resources = media::MediaResources {
        state,
        blobs,
        identity,
        publishing,
        scrobble_lookups: Some(scrobble_lookups),
        clock: media::Clock::system(),
    };
    Ok(match photos {
        Some(photos) => media::MediaState::with_photos(media_config, resources, photos),
        None => {
            tracing::warn!("WATERMARK_SECRET is not set: /api/photos answers 501");
            media::MediaState::new(media_config, resources)
        }
    })
}

/// The photo pipeline (`/api/photos`): its variables, the hot object store
/// (`PHOTOS_HOT_STORE_URL`, else `<data dir>/photos-hot` on local disk) and the `image`-crate
/// transformer (`PHOTOS_MAX_PIXELS`, 50 megapixels). `None` in production without
/// `WATERMARK_SECRET`.
fn photo_service(
    config: &StackConfig,
    state: Arc<dyn StateStore>,
    blobs: Arc<dyn ContentAddressedBlobStore>,
) -> Result<Option<media::photos::PhotoService>, HeavenError> {
    let env = EnvSource::Process;
    let Some(photos_config) =
        media::photos::PhotosConfig::from_env(&env, !config.deployment.production)?
    else {
        return Ok(None);
    };
    let hot_url = match env.optional("PHOTOS_HOT_STORE_URL") {
        Some(url) => url,
        None => {
            let dir = config.data_dir.join("photos-hot");
            format!("file://{}", dir.display())
        }
    };
    let store = |what, source| HeavenError::Store { what, source };
    let hot = blob_store::HotStore::open(&hot_url).map_err(|e| store("photo hot store", e))?;
    let max_pixels = env.positive_or("PHOTOS_MAX_PIXELS", portability::DEFAULT_MAX_PIXELS)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let images = Arc::new(portability::RasterImageTransformer::new(max_pixels, cores));
    media::photos::PhotoService::new(
        photos_config,
        media::photos::PhotoResources { hot, images },
        state,
        blobs,
        media::Clock::system(),
    )
    .map(Some)
    .map_err(|e| {
        store(
            "photo watermark font",
            portability::PortabilityError::InvalidInput(e.to_string()),
        )
    })
}

/// The free rooms of voice-rooms: tables at `ROOMS_DB`, else in the state store's database
/// (`DATABASE_URL` with `STATE_STORE=postgres`, the SQLite state file otherwise); room actors
/// in the state store, reopened here after a restart. The AI hosts' Agora calls run on
/// `background` (drained on shutdown).
async fn open_rooms(
    config: &StackConfig,
    voice_rooms: &voice_rooms::VoiceRoomsConfig,
    state: Arc<dyn StateStore>,
    credits: Arc<dyn voice_rooms::CreditsClient>,
    background: BackgroundTasks,
) -> Result<voice_rooms::rooms::Rooms, HeavenError> {
    let url = voice_rooms
        .rooms_db
        .clone()
        .unwrap_or_else(|| config.state_store_url());
    let db = voice_rooms::rooms::RoomsDb::open(&url, None)
        .await
        .map_err(|e| HeavenError::Rooms(e.to_string()))?;
    voice_rooms::rooms::Rooms::start(
        state,
        db,
        credits,
        voice_rooms::Clock::system(),
        voice_rooms.agora.clone(),
        voice_rooms::rooms::AiHost::new(
            voice_rooms.ai_host.clone(),
            voice_rooms.agora.clone(),
            background,
        ),
        replication(config, voice_rooms, voice_rooms::rooms::peers::FREE_ROOMS),
    )
    .await
    .map_err(|e| HeavenError::Rooms(e.to_string()))
}

/// This process as a replica of voice-rooms, for the rooms of family `kind`.
fn replication(
    config: &StackConfig,
    voice_rooms: &voice_rooms::VoiceRoomsConfig,
    kind: &'static str,
) -> voice_rooms::rooms::Replication {
    let auto = voice_rooms.replica.peer_url.as_deref() == Some("auto");
    voice_rooms::rooms::Replication::from_settings(
        &voice_rooms.replica,
        own_peer_url(config, auto),
        kind,
    )
}

/// Where this process's voice-rooms listener is reached by its peers: on the same host by
/// default (`ROOMS_PEER_URL` unset), or at this host's outbound interface address with
/// `ROOMS_PEER_URL=auto` (replicas in containers, whose addresses are only known at start).
fn own_peer_url(config: &StackConfig, auto: bool) -> String {
    let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
    let host = if auto {
        outbound_address().unwrap_or_else(|| {
            tracing::warn!("ROOMS_PEER_URL=auto: no outbound interface address, using 127.0.0.1");
            loopback
        })
    } else if config.bind_addr.is_unspecified() {
        loopback
    } else {
        config.bind_addr
    };
    format!(
        "http://{}",
        std::net::SocketAddr::new(host, config.ports.voice_rooms)
    )
}

/// The address of the interface this host routes outbound traffic through (a UDP "connect"
/// picks it without sending anything).
fn outbound_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_default_to_local_disk_under_the_blob_dir() {
        if std::env::var_os("BLOB_BACKEND").is_some() {
            panic!("unset BLOB_BACKEND to run this test: it checks the embedded default");
        }
        let dir = tempfile::tempdir().unwrap();
        let state: Arc<dyn StateStore> = Arc::new(
            portability::SqliteStateStore::open_in_memory()
                .await
                .unwrap(),
        );
        let blobs = open_blob_store(dir.path(), state).await.unwrap();
        let stored = blobs
            .put(bytes::Bytes::from_static(b"cover"), "image/png", &[])
            .await
            .unwrap();
        assert_eq!(stored.backend, "local");
        assert!(dir.path().join("blobs").join(&stored.id).is_file());
    }
}
