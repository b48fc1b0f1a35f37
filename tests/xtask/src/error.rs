//! The one error type of xtask: every step reports its failure through [`Error`], and `main`
//! prints it and exits non-zero.

use std::{
    io,
    path::{Path, PathBuf},
    process::ExitStatus,
};

use crate::imports::Import;

/// Everything that can make an xtask command fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file (or another I/O operation) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `reading dfx.json`.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A program could not be started at all (usually: not installed).
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A program ran and exited unsuccessfully.
    #[error("`{command}` failed ({status}){}", fmt_detail(.detail))]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// Captured stderr (or other detail), empty when it was shown already.
        detail: String,
    },
    /// A file that must be JSON is not.
    #[error("{}: invalid JSON: {source}", .path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// dfx.json does not describe the project correctly.
    #[error("dfx.json is invalid:\n  - {}", .0.join("\n  - "))]
    Dfx(Vec<String>),
    /// A canister named on the command line is not in dfx.json.
    #[error("unknown canister `{name}` (dfx.json lists: {known})")]
    UnknownCanister {
        /// The requested name.
        name: String,
        /// The canisters dfx.json lists, comma separated.
        known: String,
    },
    /// No workspace package builds the canister.
    #[error(
        "no workspace package for canister `{0}` (tried `package` in dfx.json, `{0}`, `{0}_canister`, canisters/{0})"
    )]
    NoPackage(String),
    /// The checked-in `.did` differs from what candid-extractor reads from the wasm.
    #[error(
        "candid drift for canister `{canister}`: {} differs from the wasm's interface\n{diff}\nrun `cargo xtask build-canisters --write-candid` to update it",
        .path.display()
    )]
    CandidDrift {
        /// The canister.
        canister: String,
        /// The checked-in `.did` file.
        path: PathBuf,
        /// A unified-style line diff (checked-in vs extracted).
        diff: String,
    },
    /// A wasm could not be parsed.
    #[error("{}: not a valid wasm module: {message}", .path.display())]
    Wasm {
        /// The file (empty when parsing bytes).
        path: PathBuf,
        /// The parser message.
        message: String,
    },
    /// A canister wasm imports from modules other than `ic0`.
    #[error(
        "{} imports from modules other than `ic0` (the IC only provides `ic0`):\n  - {}",
        .path.display(),
        .imports.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  - ")
    )]
    ForeignImports {
        /// The wasm file.
        path: PathBuf,
        /// The offending imports.
        imports: Vec<Import>,
    },
    /// A required server does not accept TCP connections.
    #[error(
        "{name} is not accepting connections on {addr} (tried to start it; still down after {secs} s)"
    )]
    ServiceDown {
        /// The server, e.g. `PostgreSQL`.
        name: String,
        /// The address probed.
        addr: String,
        /// How long we waited.
        secs: u64,
    },
    /// A tool's output was not what we expected.
    #[error("{0}")]
    Unexpected(String),
}

impl Error {
    /// An [`Error::Io`] about `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            context: path.display().to_string(),
            source,
        }
    }
}

fn fmt_detail(detail: &str) -> String {
    if detail.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{}", detail.trim_end())
    }
}

/// Shorthand for results in xtask.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an [`io::Error`] with what was being done.
pub fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}
