//! The toolchain pieces a fresh machine lacks: the `wasm32-unknown-unknown` rustup target and
//! the pinned `candid-extractor` and `ic-wasm` binaries (found on `PATH` or in
//! `$CARGO_HOME/bin`, installed with `cargo install --locked` when missing).

use std::{env, path::PathBuf, process::Command};

use crate::{
    error::{Error, Result},
    proc,
};

/// The rustup target canisters are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The cargo profile canister wasm is built with (workspace Cargo.toml: size-optimised, LTO,
/// `panic = "abort"`).
pub const CANISTER_PROFILE: &str = "canister";

/// A binary installed with `cargo install`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tool {
    /// The crate and binary name.
    pub bin: &'static str,
    /// The pinned version.
    pub version: &'static str,
}

/// Reads a canister's Candid interface out of its wasm (`get_candid_pointer`).
pub const CANDID_EXTRACTOR: Tool = Tool {
    bin: "candid-extractor",
    version: "0.1.6",
};

/// Shrinks canister wasm and adds `candid:service` metadata.
pub const IC_WASM: Tool = Tool {
    bin: "ic-wasm",
    version: "0.11.1",
};

impl Tool {
    /// The binary to run: its name when it is on `PATH`, else its path in `$CARGO_HOME/bin`
    /// (`~/.cargo/bin`); `None` when neither answers `--version`.
    pub fn find(&self) -> Option<PathBuf> {
        let mut candidates = vec![PathBuf::from(self.bin)];
        if let Some(home) = cargo_home() {
            candidates.push(home.join("bin").join(self.bin));
        }
        candidates
            .into_iter()
            .find(|c| proc::succeeds(Command::new(c).arg("--version")))
    }

    /// Like [`Tool::find`], but a missing binary is an error telling how to install it.
    pub fn require(&self) -> Result<PathBuf> {
        self.find().ok_or_else(|| {
            Error::Unexpected(format!(
                "`{}` is not on PATH nor in ~/.cargo/bin; install it with `cargo install --locked {}` \
                 (`cargo xtask test` does this)",
                self.bin,
                self.spec()
            ))
        })
    }

    /// `name@version`, as `cargo install` takes it.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.bin, self.version)
    }

    /// Installs the pinned version unless the binary is already there.
    pub fn ensure_installed(&self) -> Result<()> {
        if let Some(path) = self.find() {
            let version = proc::output(Command::new(&path).arg("--version")).unwrap_or_default();
            println!("{} is installed: {}", self.bin, version.trim());
            if !version.contains(self.version) {
                println!(
                    "note: the pinned version is {}; `cargo install --locked {} --force` to switch",
                    self.version,
                    self.spec()
                );
            }
            return Ok(());
        }
        proc::run(proc::cargo().args(["install", "--locked"]).arg(self.spec()))?;
        self.require().map(|_| ())
    }
}

/// `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

/// Adds the [`WASM_TARGET`] with rustup unless it is installed already.
pub fn ensure_wasm_target() -> Result<()> {
    ensure_target(WASM_TARGET)
}

/// Adds the rustup `target` unless it is installed already.
pub fn ensure_target(target: &str) -> Result<()> {
    let installed = proc::output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == target) {
        println!("{target} is installed");
        return Ok(());
    }
    proc::run(Command::new("rustup").args(["target", "add", target]))
}

/// The Debian packages the tests run as programs: `sqlite3` (the wrangler shim's SQL shell),
/// `caddy` (the TLS front of deploy/caddy), `pg_dump` (the Postgres backup test) and Chromium
/// with its WebDriver (the duet pages' browser test), `musl-gcc` and `buildah` (the minimal image
/// of `cargo xtask image`). Each is installed with `apt-get` (through `sudo`
/// unless root) when its binary does not answer `<binary> <version_arg>`.
pub const DEBIAN_TOOLS: [(&str, &str, &str); 7] = [
    ("sqlite3", "--version", "sqlite3"),
    ("caddy", "version", "caddy"),
    ("pg_dump", "--version", "postgresql-client"),
    ("chromium", "--version", "chromium"),
    ("chromedriver", "--version", "chromium-driver"),
    ("musl-gcc", "--version", "musl-tools"),
    ("buildah", "--version", "buildah"),
];

/// Installs every [`DEBIAN_TOOLS`] entry that is missing, with one `apt-get update`.
pub fn ensure_debian_tools() -> Result<()> {
    let missing: Vec<&str> = DEBIAN_TOOLS
        .iter()
        .filter(|(binary, version_arg, _)| {
            let found = Command::new(binary)
                .arg(version_arg)
                .output()
                .is_ok_and(|o| o.status.success());
            if found {
                println!("{binary} is installed");
            }
            !found
        })
        .map(|(_, _, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    proc::run(&mut apt(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(missing);
    proc::run(&mut apt(&install))
}

/// Whether this process runs as root (`id -u` is 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
