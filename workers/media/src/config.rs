//! The media worker's configuration, read once at start: whether the blob store can take
//! uploads (the original's `LOAD_S3_AGENT_API_KEY` check), the Load agent probed by
//! `/api/load/health`, the job lease and the spool directory.

use std::path::PathBuf;
use std::time::Duration;

use blob_store::{BackendKind, BlobStoreConfig};
use http_common::{ConfigError, EnvSource};

/// Default lease of a job step in progress (`MUSIC_JOB_LEASE_SECS`).
pub const DEFAULT_LEASE_SECS: u64 = 120;
/// Default period of the expired-lease sweep (`MUSIC_LEASE_SWEEP_SECS`).
pub const DEFAULT_SWEEP_SECS: u64 = 30;

/// Tempo's JSON-RPC endpoint (`TEMPO_RPC_URL`'s default).
pub const DEFAULT_TEMPO_RPC_URL: &str = "https://rpc.moderato.tempo.xyz";

/// Where `GET /api/study-sets/:trackId` reads and fetches.
#[derive(Debug, Clone)]
pub struct StudySetsConfig {
    /// `TEMPO_STUDY_SET_REGISTRY` as set (checked per request, as the original: missing or
    /// not an address answers its 500).
    pub registry: Option<String>,
    /// `TEMPO_RPC_URL`.
    pub tempo_rpc_url: String,
    /// The Arweave gateway tried first for `ar://` refs (`ARWEAVE_GATEWAY_URL`).
    pub arweave_url: String,
    /// The Load gateway (`LOAD_GATEWAY_URL`): `<gateway>/resolve/<id>`.
    pub load_gateway_url: String,
}

/// Story's PIL license template (`STORY_PIL_LICENSE_TEMPLATE`'s default): the template a
/// derivative registration names when the request does not.
pub const DEFAULT_STORY_PIL_LICENSE_TEMPLATE: &str = "0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316";

/// Everything the routes read from the environment.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Whether uploads can be stored: the local and Irys backends always can, the Load backend
    /// only with `LOAD_S3_AGENT_API_KEY` (without it every upload route answers the original's
    /// 500 "... not configured (LOAD_S3_AGENT_API_KEY)").
    pub uploads_configured: bool,
    /// `LOAD_S3_AGENT_URL` (trailing slashes trimmed): what `/api/load/health` probes.
    pub load_agent_url: String,
    /// `MUSIC_JOB_LEASE_SECS` (120): how long a worker owns a job in `checking`, `anchoring`
    /// or `registering` (or its metadata anchoring) without renewing it; renewed every third
    /// of it while the step runs. After it expires the job is resumed or released.
    pub lease: Duration,
    /// `MUSIC_LEASE_SWEEP_SECS` (30): how often expired leases are looked for.
    pub sweep_every: Duration,
    /// Where request bodies are spooled while they are read (`<data dir>/media-spool`).
    pub spool_dir: PathBuf,
    /// `STORY_PIL_LICENSE_TEMPLATE`: the license template of derivative registrations whose
    /// request names none.
    pub story_license_template: String,
    /// Study-set reads.
    pub study_sets: StudySetsConfig,
    /// `ENVIRONMENT == "development"`: the scrobble routes take `X-User-Address` or an
    /// unverified token; elsewhere they answer the original's 501 (ADR 0030).
    pub development: bool,
}

impl MediaConfig {
    /// Reads the media variables from `env`; `blobs` is the stack's blob-store configuration.
    pub fn from_env(
        env: &EnvSource,
        blobs: &BlobStoreConfig,
        spool_dir: PathBuf,
    ) -> Result<Self, ConfigError> {
        let uploads_configured = match blobs.backend {
            BackendKind::Local | BackendKind::Irys => true,
            BackendKind::Load => blobs.load.api_key.is_some(),
        };
        Ok(Self {
            uploads_configured,
            load_agent_url: blobs.load.agent_url.trim_end_matches('/').to_owned(),
            lease: Duration::from_secs(
                env.positive_or("MUSIC_JOB_LEASE_SECS", DEFAULT_LEASE_SECS)?,
            ),
            sweep_every: Duration::from_secs(
                env.positive_or("MUSIC_LEASE_SWEEP_SECS", DEFAULT_SWEEP_SECS)?,
            ),
            spool_dir,
            story_license_template: env
                .optional("STORY_PIL_LICENSE_TEMPLATE")
                .unwrap_or_else(|| DEFAULT_STORY_PIL_LICENSE_TEMPLATE.to_owned()),
            development: env.optional("ENVIRONMENT").as_deref() == Some("development"),
            study_sets: StudySetsConfig {
                registry: env
                    .optional("TEMPO_STUDY_SET_REGISTRY")
                    .map(|r| r.trim().to_owned()),
                tempo_rpc_url: env
                    .optional("TEMPO_RPC_URL")
                    .unwrap_or_else(|| DEFAULT_TEMPO_RPC_URL.to_owned())
                    .trim()
                    .to_owned(),
                arweave_url: blobs.arweave_url.trim_end_matches('/').to_owned(),
                load_gateway_url: blobs.load.gateway_url.trim_end_matches('/').to_owned(),
            },
        })
    }

    /// A configuration for tests: uploads configured, the given agent URL and spool dir, the
    /// default lease and sweep period, development mode (scrobblers by header).
    pub fn for_tests(load_agent_url: &str, spool_dir: PathBuf) -> Self {
        Self {
            uploads_configured: true,
            load_agent_url: load_agent_url.trim_end_matches('/').to_owned(),
            lease: Duration::from_secs(DEFAULT_LEASE_SECS),
            sweep_every: Duration::from_secs(DEFAULT_SWEEP_SECS),
            spool_dir,
            story_license_template: DEFAULT_STORY_PIL_LICENSE_TEMPLATE.to_owned(),
            development: true,
            study_sets: StudySetsConfig {
                registry: None,
                tempo_rpc_url: DEFAULT_TEMPO_RPC_URL.to_owned(),
                arweave_url: load_agent_url.trim_end_matches('/').to_owned(),
                load_gateway_url: load_agent_url.trim_end_matches('/').to_owned(),
            },
        }
    }
}
