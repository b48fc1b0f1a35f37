//! Command line: `heaven` alone is `heaven serve all`.

use clap::{Parser, Subcommand, ValueEnum};

/// Heaven services: the local stack and the Akash workers.
#[derive(Debug, Parser)]
#[command(name = "heaven", version, about)]
pub struct Cli {
    /// What to do; without a command the whole local stack starts.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The command to run, `serve all` when none was given.
    pub fn command(&self) -> Command {
        self.command.clone().unwrap_or(Command::Serve {
            service: ServiceChoice::All,
        })
    }
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve one service, or all of them, each on its own port.
    Serve {
        /// Which service to start.
        #[arg(value_enum, default_value_t = ServiceChoice::All)]
        service: ServiceChoice,
    },
    /// Move data from the original deployment into the configured stores.
    Migrate {
        /// What to migrate.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Read and correct session credits in the local credits canister: through the running
    /// stack when one serves this data dir, else on its state file directly.
    Credits {
        /// What to do.
        #[command(subcommand)]
        action: CreditsAction,
    },
    /// Cutover gates: judge a service's recent traffic against its rollback thresholds.
    Cutover {
        /// What to do.
        #[command(subcommand)]
        action: CutoverAction,
    },
    /// Shadow traffic: compare the live services with ours on the same requests.
    Shadow {
        /// What to do.
        #[command(subcommand)]
        action: ShadowAction,
    },
}

/// `heaven cutover ...` actions.
#[derive(Debug, Clone, Subcommand)]
pub enum CutoverAction {
    /// Read the service's /metrics twice, `--window` apart, and print go / no-go against its
    /// thresholds (5xx rate, p95, traffic, shadow agreement); exits 0 go, 1 no-go, 2 bad input.
    Check(crate::cutover::CheckArgs),
}

/// `heaven shadow ...` actions.
#[derive(Debug, Clone, Subcommand)]
pub enum ShadowAction {
    /// Replay a recorded request log against both base URLs and diff the answers; exits 1 when
    /// the agreement is below `--min-agreement`, 2 on bad input.
    Replay(crate::shadow::ReplayArgs),
}

/// `heaven credits ...` actions. Each prints the wallet's balance (or its events) as JSON.
#[derive(Debug, Clone, Subcommand)]
pub enum CreditsAction {
    /// The balance: `{"base_granted_seconds","bonus_granted_seconds","consumed_seconds","remaining_seconds"}`.
    Show {
        /// The wallet (0x address).
        wallet: String,
    },
    /// Adds `seconds` to the base grant (an `admin_adjust` event).
    Grant {
        /// The wallet.
        wallet: String,
        /// Seconds to add.
        seconds: u64,
    },
    /// Sets totals (an `admin_adjust` event); consumed may not exceed the grants.
    Adjust {
        /// The wallet.
        wallet: String,
        /// New base grant.
        #[arg(long)]
        base: Option<u64>,
        /// New bonus grant.
        #[arg(long)]
        bonus: Option<u64>,
        /// New consumed total.
        #[arg(long)]
        consumed: Option<u64>,
    },
    /// The wallet's `credit_events`, oldest first, one JSON object per line.
    Events {
        /// The wallet.
        wallet: String,
        /// Only this `event_type` (`grant_base`, `grant_celo_bonus`, `debit_usage`, `admin_adjust`).
        #[arg(long = "type")]
        event_type: Option<String>,
    },
}

/// `heaven migrate ...` actions.
#[derive(Debug, Clone, Subcommand)]
pub enum MigrateAction {
    /// Load voice-agent's D1 tables (`nonces`, `sessions`) from a `wrangler d1 export` SQL
    /// dump into the state store. Re-running it overwrites the same records.
    D1Import {
        /// The dump file (`wrangler d1 export voice-agent --remote --output dump.sql`).
        file: std::path::PathBuf,
    },
    /// Load metadata-resolver's KV namespace from a JSON-lines export (`{"key", "value",
    /// "expiration"}` per line) into the cache store (SQLite, or Redis with CACHE_STORE=redis).
    /// Expired entries are skipped; re-running it overwrites the same keys.
    KvImport {
        /// The export file.
        file: std::path::PathBuf,
    },
    /// Load voice-control-plane's credit tables (`credit_accounts`, `credit_events`,
    /// `verifications`) from a `wrangler d1 export` SQL dump into the local credits canister,
    /// all or nothing. Run it with the stack stopped; re-running replaces the same rows.
    CreditsImport {
        /// The dump file (`wrangler d1 export voice-control-plane --remote --output dump.sql`).
        file: std::path::PathBuf,
        /// Import into the deployed credits canister through ic-agent instead (`ICP_URL`,
        /// `ICP_NETWORK`, `ICP_IDENTITY_PEM[_FILE]` of a controller, `ICP_CREDITS_CANISTER_ID`),
        /// in batches, then read every account back; running it again resumes.
        #[arg(long)]
        canister: bool,
    },
    /// Load voice-control-plane's `rooms`, `room_participants` and `song_registry` from a
    /// `wrangler d1 export` SQL dump into voice-rooms' tables, all or nothing. Rooms still
    /// active in the dump are closed and their participants marked left (their live state was
    /// in Durable Objects). Run it with the stack stopped; re-running replaces the same ids.
    RoomsImport {
        /// The dump file (`wrangler d1 export voice-control-plane --remote --output dump.sql`).
        file: std::path::PathBuf,
    },
    /// Load api-core's `music_publish_jobs` and `music_upload_bans` from a `wrangler d1
    /// export` SQL dump into the state store (the media worker's jobs, their indexes and the
    /// bans). Every row is checked before anything is written; the counts of the dump and of
    /// the records read back are printed. Re-running overwrites the same records.
    MediaImport {
        /// The dump file (`wrangler d1 export api-core --remote --output dump.sql`).
        file: std::path::PathBuf,
    },
    /// Load shadow profiles, Self identities and reserved labels (one JSON document, format in
    /// the README) into the native identity canister's state. Run it with the stack stopped;
    /// the whole file is checked before anything is written.
    IdentityImport {
        /// The JSON file.
        file: std::path::PathBuf,
        /// Import a `wrangler d1 export` dump into the deployed identity canister through
        /// ic-agent instead (`ICP_URL`, `ICP_NETWORK`, `ICP_IDENTITY_PEM[_FILE]` of a
        /// controller, `ICP_IDENTITY_CANISTER_ID`), in batches; running it again resumes.
        #[arg(long)]
        canister: bool,
    },
}

/// Services `heaven serve` can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceChoice {
    /// Every built service.
    All,
    /// api-core's routes (identity logic natively, media groups) on API_PORT.
    Api,
    /// The MusicBrainz caching proxy on METADATA_RESOLVER_PORT.
    Resolver,
    /// Voice agent auth, chat and SSE on VOICE_AGENT_PORT.
    Agent,
    /// Voice rooms (the Durable Object replacement) on VOICE_ROOMS_PORT.
    Rooms,
}
