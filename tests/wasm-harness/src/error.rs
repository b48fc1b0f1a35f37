//! The crate's one error type, and the IC reject (code + message) a call can end with.

use std::fmt;

use candid::Principal;

/// The reject codes of the IC interface specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// `SYS_FATAL` (1): a fatal system error.
    SysFatal = 1,
    /// `SYS_TRANSIENT` (2): a transient system error; retrying may help.
    SysTransient = 2,
    /// `DESTINATION_INVALID` (3): no such canister or method.
    DestinationInvalid = 3,
    /// `CANISTER_REJECT` (4): the canister rejected the message (`msg_reject`, inspect).
    CanisterReject = 4,
    /// `CANISTER_ERROR` (5): the canister trapped or did not respond.
    CanisterError = 5,
}

impl RejectCode {
    /// The code for a number, if it is one of the five.
    pub fn from_u32(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::SysFatal,
            2 => Self::SysTransient,
            3 => Self::DestinationInvalid,
            4 => Self::CanisterReject,
            5 => Self::CanisterError,
            _ => return None,
        })
    }
}

/// A rejected call: what `msg_reject_code` / `msg_reject_msg` show a callback, or what an
/// ingress call ends with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The reject code.
    pub code: RejectCode,
    /// The reject message.
    pub message: String,
}

impl Reject {
    /// A reject with `code` and `message`.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reject {:?} ({}): {}",
            self.code, self.code as u32, self.message
        )
    }
}

/// Everything that can go wrong in the harness and the scenario backends.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The wasm imports a function the harness does not implement (or not from `ic0`).
    #[error("canister wasm imports `{module}.{name}`, which the harness does not implement")]
    UnsupportedImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// The wasm could not be parsed, instrumented, compiled or instantiated.
    #[error("invalid canister wasm: {0}")]
    InvalidWasm(String),
    /// No canister with this id is installed.
    #[error("canister {0} does not exist")]
    CanisterNotFound(Principal),
    /// `canister_init`, `canister_pre_upgrade` or `canister_post_upgrade` trapped.
    #[error("installing code on canister {canister} failed: {message}")]
    InstallFailed {
        /// The canister.
        canister: Principal,
        /// The trap message.
        message: String,
    },
    /// A call ended with a reject.
    #[error("{0}")]
    Rejected(Reject),
    /// Candid encoding or decoding failed.
    #[error("candid: {0}")]
    Candid(String),
    /// A canister wasm file the tests need is not there.
    #[error("{path} is missing: run `cargo xtask build-canisters` first")]
    WasmMissing {
        /// The expected path.
        path: String,
    },
    /// An HTTP outcall could not be forwarded.
    #[error("outcall: {0}")]
    Outcall(String),
    /// The PocketIC backend failed.
    #[error("PocketIC: {0}")]
    PocketIc(String),
    /// The harness ran into its own limit (e.g. a message loop that never settles).
    #[error("harness: {0}")]
    Harness(String),
}

impl From<Reject> for HarnessError {
    fn from(reject: Reject) -> Self {
        Self::Rejected(reject)
    }
}

impl From<candid::Error> for HarnessError {
    fn from(e: candid::Error) -> Self {
        Self::Candid(e.to_string())
    }
}

/// Result with [`HarnessError`].
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
