//! The candid types of the canister's methods (besides the HTTP gateway's, which come from
//! ic-http-certification, and the install and upgrade arguments in [`crate::lifecycle`]).

use candid::{CandidType, Deserialize};

use crate::state::SecretKind;

pub mod publishing;

/// Version of this canister build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Answer of the `health` query.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// Always true when the canister answers.
    pub ok: bool,
    /// Crate version of the running wasm.
    pub version: String,
    /// The configured threshold-ECDSA key name.
    pub ecdsa_key_name: String,
    /// How many times the canister has been installed or upgraded.
    pub installs: u64,
}

/// Counters for operators (no secrets, no personal data).
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct Stats {
    /// Entries in the audit log.
    pub events: u64,
    /// Legacy names stored.
    pub names: u64,
    /// Claim tokens stored.
    pub claim_tokens: u64,
    /// Expiry sweeps run so far.
    pub sweeps: u64,
    /// IC time of the last sweep (ns), 0 before the first.
    pub last_sweep_ns: u64,
    /// Responses currently certified for the query path.
    pub certified_paths: u64,
}

/// The part of `user_identity` other services need (the media worker's music access check):
/// whether `address` is Self-verified and whether it holds a short-name credential.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct IdentityView {
    /// Lowercase address.
    pub address: String,
    /// Verification time (seconds).
    pub verified_at: u64,
    /// Whether a nullifier is stored.
    pub has_short_name_credential: bool,
}

/// A request an allow-listed edge forwards through candid, with the client IP it saw.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct EdgeRequest {
    /// Method.
    pub method: String,
    /// Path and query.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// The client's IP (used only when the caller is a trusted edge).
    pub client_ip: Option<String>,
}

/// The answer to an [`EdgeRequest`].
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct EdgeResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

/// Which route secret a controller sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub enum SecretName {
    /// `X-Claim-Start-Secret` of `POST /api/claim/start`.
    ClaimStart,
    /// Bearer secret of `GET /api/names/dns/resolve`.
    DnsShared,
    /// Key the Akash edge presents to have its client-IP header trusted.
    EdgeKey,
}

impl From<SecretName> for SecretKind {
    fn from(name: SecretName) -> Self {
        match name {
            SecretName::ClaimStart => SecretKind::ClaimStart,
            SecretName::DnsShared => SecretKind::DnsShared,
            SecretName::EdgeKey => SecretKind::EdgeKey,
        }
    }
}

/// Why a controller method refused.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize, thiserror::Error)]
pub enum AdminError {
    /// The caller does not control the canister.
    #[error("only a controller may call this method")]
    NotController,
    /// A setting is out of range or malformed; nothing was changed.
    #[error("{field}: {reason}")]
    InvalidConfig {
        /// The setting (field of the config record).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A trusted-edge principal is not a principal; nothing was changed.
    #[error("{principal}: {reason}")]
    InvalidPrincipal {
        /// The text given.
        principal: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A record of an import is invalid; nothing of the import was written.
    #[error("record {index}: {reason}")]
    InvalidRecord {
        /// Its position in the list.
        index: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Answer of `import_batch`.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub struct ImportBatchOutcome {
    /// False when the batch had been applied before (a resumed run sent it again).
    pub applied: bool,
    /// Row counts and checksums of what the state holds for the batch's keys.
    pub summary: Vec<crate::import::TableSummary>,
}

/// What [`crate::state::audit::check_against_log`] found.
#[derive(Clone, Debug, PartialEq, Eq, CandidType, Deserialize)]
pub enum AuditReport {
    /// The state rebuilt from the log equals the live state in every stable structure.
    Consistent {
        /// Events replayed.
        events: u64,
    },
    /// The log holds an entry written by an older build without the data to apply it.
    NotReplayable {
        /// Its position in the log.
        index: u64,
    },
    /// The rebuilt state differs from the live one.
    Differs {
        /// The stable structure.
        structure: String,
        /// The first key that differs (none for a cell).
        key: Option<String>,
    },
}
