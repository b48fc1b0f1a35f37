//! The binary's one error type; each variant knows its exit code.

use std::net::SocketAddr;

use http_common::ConfigError;

/// Why `heaven` stopped.
#[derive(Debug, thiserror::Error)]
pub enum HeavenError {
    /// Configuration is missing or invalid: nothing was started.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The requested service exists in the plan but is not built yet.
    #[error("{0} is not built yet")]
    NotBuilt(&'static str),
    /// A store could not be opened.
    #[error("cannot open the {what}: {source}")]
    Store {
        /// Which store ("state store", "cache store").
        what: &'static str,
        /// The adapter's error.
        source: portability::PortabilityError,
    },
    /// Filesystem error on the data directory.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `heaven migrate d1-import` could not load the dump.
    #[error("import failed: {0}")]
    Import(voice_agent::d1_import::ImportError),
    /// The identity canister could not start natively (state file, settings, dev key).
    #[error("cannot start the identity canister: {0}")]
    Identity(#[from] identity_canister::native::NativeIdentityError),
    /// `heaven migrate identity-import` refused its input; nothing was imported.
    #[error("identity-import {file}: {message}")]
    IdentityImport {
        /// The import file.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// The credits canister could not start natively (state file, settings, dev key) or
    /// answer.
    #[error("credits canister: {0}")]
    CreditsCanister(#[from] credits_canister::native::NativeCreditsError),
    /// The canister bridge (`ICP_URL`, ...) is misconfigured or the agent could not be set up.
    #[error("canister bridge: {0}")]
    Bridge(String),
    /// `HEAVEN_ENV=production` and a service would run a canister natively with the dev key,
    /// without `HEAVEN_ALLOW_DEV_KEY=true`: nothing was started.
    #[error(
        "{service} would run the {canister} canister natively with a dev key, which \
         HEAVEN_ENV=production refuses: set ICP_URL, ICP_IDENTITY_PEM(_FILE) and {canister_var} \
         to use the deployed canister, or HEAVEN_ALLOW_DEV_KEY=true to opt in to the dev key"
    )]
    DevKeyInProduction {
        /// The service.
        service: &'static str,
        /// The canister (`identity`, `credits`).
        canister: &'static str,
        /// The variable naming the deployed canister.
        canister_var: &'static str,
    },
    /// `HEAVEN_ENV=production` and voice-rooms would take payments in mock mode (granting paid
    /// entries or bookings with no money moving), without `HEAVEN_ALLOW_MOCK_PAYMENTS=true`.
    #[error(
        "voice-rooms would run with {what} in mock mode ({var}), which HEAVEN_ENV=production \
         refuses: {fix}, or HEAVEN_ALLOW_MOCK_PAYMENTS=true to opt in"
    )]
    MockPaymentsInProduction {
        /// `the x402 facilitator`, `the session escrow`.
        what: &'static str,
        /// The variable that selects it.
        var: &'static str,
        /// What to set instead.
        fix: &'static str,
    },
    /// A `heaven credits` command was refused.
    #[error("credits: {0}")]
    Credits(String),
    /// `heaven migrate credits-import` refused its input; nothing was imported.
    #[error("credits-import {file}: {message}")]
    CreditsImport {
        /// The dump file.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// `heaven migrate rooms-import` refused its input; nothing was imported.
    #[error("rooms-import {file}: {message}")]
    RoomsImport {
        /// The dump file.
        file: String,
        /// What is wrong with it (table and row).
        message: String,
    },
    /// `heaven migrate media-import` refused its input or could not store it.
    #[error("media-import {file}: {message}")]
    MediaImport {
        /// The dump file.
        file: String,
        /// What is wrong (table and row, or the store).
        message: String,
    },
    /// `heaven migrate kv-import` could not load the KV export.
    #[error("kv-import: {0}")]
    KvImport(#[from] metadata_resolver::kv_import::KvImportError),
    /// voice-rooms' songs registry table could not be opened or created.
    #[error("cannot open the songs registry: {0}")]
    SongRegistry(#[from] sqlx::Error),
    /// A port could not be bound.
    #[error("cannot listen for {service} on {addr}: {source}")]
    Bind {
        /// The service.
        service: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// voice-rooms' free rooms could not open their tables or reload their actors.
    #[error("voice-rooms free rooms: {0}")]
    Rooms(String),
    /// `heaven cutover check`: could not judge, or the verdict is no-go.
    #[error("cutover: {0}")]
    Cutover(#[from] crate::cutover::CutoverError),
    /// `heaven shadow`: bad input, or the services disagreed.
    #[error("shadow: {0}")]
    Shadow(#[from] crate::shadow::ShadowError),
}

impl HeavenError {
    /// Process exit code: 2 for usage and configuration problems, 1 for runtime failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_)
            | Self::NotBuilt(_)
            | Self::DevKeyInProduction { .. }
            | Self::MockPaymentsInProduction { .. } => 2,
            Self::Shadow(e) => e.exit_code(),
            Self::Cutover(e) => e.exit_code(),
            _ => 1,
        }
    }
}
