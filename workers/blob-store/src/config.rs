//! Configuration from environment variables, and [`open_blob_store`] that builds the store a
//! worker uses. Every variable is documented in `docs/blob-store.md`; the defaults give the
//! embedded local-disk store for `cargo run`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use portability::{ContentAddressedBlobStore, PortabilityError, Result, StateStore};

use crate::ans104::EthereumSigner;
use crate::arweave::{ArweaveGateway, DEFAULT_ARWEAVE_URL};
use crate::failover::{BreakerConfig, FailoverBackend};
use crate::index::BlobIndex;
use crate::irys::{IrysBundler, IrysConfig};
use crate::load::{LoadAgent, LoadConfig};
use crate::local::{DEFAULT_LOCAL_MAX_SIZE, LocalDisk};
use crate::store::BlobStore;

/// Which backend stores published blobs (`BLOB_BACKEND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// `local` (default): files under `BLOB_DIR`.
    Local,
    /// `load`: the Load S3 agent, with Irys as fallback when `IRYS_PRIVATE_KEY` is set.
    Load,
    /// `irys`: Irys only (the swap procedure's "Load is gone for good" step).
    Irys,
}

/// Everything [`open_blob_store`] needs.
#[derive(Debug, Clone)]
pub struct BlobStoreConfig {
    /// `BLOB_BACKEND`.
    pub backend: BackendKind,
    /// `BLOB_DIR`: local blobs (and the local spool).
    pub dir: PathBuf,
    /// `BLOB_LOCAL_MAX_BYTES`.
    pub local_max_size: u64,
    /// `BLOB_SPOOL_DIR`: where remote puts are spooled (default `<BLOB_DIR>/spool`).
    pub spool_dir: PathBuf,
    /// Load settings (`LOAD_*`).
    pub load: LoadConfig,
    /// `ARWEAVE_GATEWAY_URL`.
    pub arweave_url: String,
    /// Irys settings (`IRYS_*`).
    pub irys: IrysConfig,
    /// `IRYS_PRIVATE_KEY` (hex secp256k1 key); `None` disables the fallback.
    pub irys_private_key: Option<String>,
    /// `BLOB_BREAKER_THRESHOLD`, `BLOB_BREAKER_COOLDOWN_SECS`.
    pub breaker: BreakerConfig,
    /// `BLOB_HTTP_CONNECT_TIMEOUT_SECS` (10).
    pub connect_timeout: Duration,
    /// `BLOB_HTTP_READ_TIMEOUT_SECS` (60): a Load upload or read stalled this long is an
    /// outage (and fails over).
    pub read_timeout: Duration,
}

fn parse<T: std::str::FromStr>(name: &str, value: Option<String>, default: T) -> Result<T> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| PortabilityError::InvalidInput(format!("{name}={v:?} is not valid"))),
    }
}

impl BlobStoreConfig {
    /// Reads the configuration through `var` (e.g. `|k| std::env::var(k).ok()`), with
    /// `default_dir` as `BLOB_DIR` when unset.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>, default_dir: &Path) -> Result<Self> {
        let text = |name: &str, default: &str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let backend = match text("BLOB_BACKEND", "local").trim() {
            "local" => BackendKind::Local,
            "load" => BackendKind::Load,
            "irys" => BackendKind::Irys,
            other => {
                return Err(PortabilityError::InvalidInput(format!(
                    "BLOB_BACKEND={other:?}: use local, load or irys"
                )));
            }
        };
        let dir = var("BLOB_DIR")
            .filter(|v| !v.is_empty())
            .map_or_else(|| default_dir.to_owned(), PathBuf::from);
        let spool_dir = var("BLOB_SPOOL_DIR")
            .filter(|v| !v.is_empty())
            .map_or_else(|| dir.join("spool"), PathBuf::from);
        let mut load =
            LoadConfig::new(var("LOAD_S3_AGENT_API_KEY").filter(|k| !k.trim().is_empty()));
        load.agent_url = text("LOAD_S3_AGENT_URL", &load.agent_url);
        load.gateway_url = text("LOAD_GATEWAY_URL", &load.gateway_url);
        load.max_size = parse("LOAD_MAX_BYTES", var("LOAD_MAX_BYTES"), load.max_size)?;
        load.anchor_max_size = parse(
            "LOAD_ANCHOR_MAX_BYTES",
            var("LOAD_ANCHOR_MAX_BYTES"),
            load.anchor_max_size,
        )?;
        let defaults = IrysConfig::default();
        let irys = IrysConfig {
            node_url: text("IRYS_NODE_URL", &defaults.node_url),
            gateway_url: text("IRYS_GATEWAY_URL", &defaults.gateway_url),
            token: text("IRYS_TOKEN", &defaults.token),
            max_size: parse("IRYS_MAX_BYTES", var("IRYS_MAX_BYTES"), defaults.max_size)?,
        };
        let breaker = BreakerConfig {
            threshold: parse(
                "BLOB_BREAKER_THRESHOLD",
                var("BLOB_BREAKER_THRESHOLD"),
                3u32,
            )?
            .max(1),
            cooldown: Duration::from_secs(parse(
                "BLOB_BREAKER_COOLDOWN_SECS",
                var("BLOB_BREAKER_COOLDOWN_SECS"),
                30u64,
            )?),
        };
        Ok(Self {
            backend,
            local_max_size: parse(
                "BLOB_LOCAL_MAX_BYTES",
                var("BLOB_LOCAL_MAX_BYTES"),
                DEFAULT_LOCAL_MAX_SIZE,
            )?,
            dir,
            spool_dir,
            load,
            arweave_url: text("ARWEAVE_GATEWAY_URL", DEFAULT_ARWEAVE_URL),
            irys,
            irys_private_key: var("IRYS_PRIVATE_KEY").filter(|k| !k.trim().is_empty()),
            breaker,
            connect_timeout: Duration::from_secs(parse(
                "BLOB_HTTP_CONNECT_TIMEOUT_SECS",
                var("BLOB_HTTP_CONNECT_TIMEOUT_SECS"),
                10u64,
            )?),
            read_timeout: Duration::from_secs(parse(
                "BLOB_HTTP_READ_TIMEOUT_SECS",
                var("BLOB_HTTP_READ_TIMEOUT_SECS"),
                60u64,
            )?),
        })
    }

    /// [`from_lookup`](Self::from_lookup) over the process environment.
    pub fn from_env(default_dir: &Path) -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok(), default_dir)
    }
}

/// Builds the configured store, indexing in `state`.
pub async fn open_blob_store(
    config: &BlobStoreConfig,
    state: Arc<dyn StateStore>,
) -> Result<Arc<dyn ContentAddressedBlobStore>> {
    let index = BlobIndex::new(state);
    if config.backend == BackendKind::Local {
        let disk = LocalDisk::open(&config.dir, config.local_max_size).await?;
        let spool = disk.spool_dir();
        return Ok(Arc::new(BlobStore::new(disk, index, spool)));
    }
    let http = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .build()
        .map_err(|e| PortabilityError::Backend {
            backend: "blob-store",
            message: format!("HTTP client: {e}"),
        })?;
    let arweave = ArweaveGateway::new(http.clone(), &config.arweave_url);
    let irys = match &config.irys_private_key {
        Some(key) => Some(IrysBundler::new(
            http.clone(),
            config.irys.clone(),
            EthereumSigner::from_hex(key)?,
            arweave.clone(),
        )),
        None => None,
    };
    if config.backend == BackendKind::Irys {
        let irys = irys.ok_or_else(|| {
            PortabilityError::InvalidInput("BLOB_BACKEND=irys needs IRYS_PRIVATE_KEY".to_owned())
        })?;
        return Ok(Arc::new(BlobStore::new(
            irys,
            index,
            config.spool_dir.clone(),
        )));
    }
    let load = LoadAgent::new(http, config.load.clone(), arweave);
    let backend = FailoverBackend::new(load, irys, config.breaker);
    Ok(Arc::new(BlobStore::new(
        backend,
        index,
        config.spool_dir.clone(),
    )))
}
