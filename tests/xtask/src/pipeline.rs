//! `cargo xtask test`: everything a fresh CI machine needs, in order, each step under a
//! `== step ==` header, stopping at the first failure.
//!
//! toolchain (wasm32 target, candid-extractor, ic-wasm) → Debian tools (sqlite3, caddy, postgresql-client, chromium, chromium-driver) → PostgreSQL and Redis → arlocal (npm ci)
//! → the Akash SDL check (npm ci, Akash's parser, env drift)
//! → canister build → test fixture build → Candid drift → wasm imports → dfx.json → `cargo fmt --check` → clippy
//! (host, then wasm for the canister and fixture packages) → the worker profile unwinds →
//! `cargo test --workspace` with a one-line summary (and how many PocketIC scenarios skipped)
//! → the minimal image (`cargo xtask image --profile image-check`).

use std::{env, path::Path};

use crate::{
    canisters::{self, Built, Workspace},
    dfx,
    error::{Error, Result},
    fixtures, image, imports, proc, profile, services,
    summary::Summary,
    tools::{self, CANDID_EXTRACTOR, IC_WASM},
};

/// Set to `1` to skip the rustup target and `cargo install` steps.
pub const SKIP_INSTALL_ENV: &str = "XTASK_SKIP_INSTALL";

/// Prints a step header.
fn step(title: &str) {
    println!("\n== {title} ==");
}

/// Runs the whole test command.
pub fn test(root: &Path) -> Result<()> {
    setup()?;
    install_arlocal(root)?;
    check_akash_sdl(root)?;
    let built = check_canisters(root)?;
    lint_and_test(root, &built)?;
    step(&format!(
        "minimal image ({}, static {}, buildah, profile {IMAGE_CHECK_PROFILE})",
        image::CONTAINERFILE,
        image::MUSL_TARGET
    ));
    image::build(root, IMAGE_CHECK_PROFILE)
}

/// The cargo profile CI builds the minimal image's binary with: the production image uses
/// `release`; the recipe's checks (static, scratch, non-root, runs) do not depend on
/// optimisation, and an unoptimised musl build costs minutes instead of twenty (ADR 0004).
pub const IMAGE_CHECK_PROFILE: &str = "image-check";

/// Steps a–c: the wasm32 target and the pinned tools (unless [`SKIP_INSTALL_ENV`] is `1`),
/// then PostgreSQL and Redis. Also `cargo xtask setup`.
pub fn setup() -> Result<()> {
    if env::var(SKIP_INSTALL_ENV).is_ok_and(|v| v == "1") {
        step(&format!("toolchain (skipped: {SKIP_INSTALL_ENV}=1)"));
    } else {
        step(&format!("rustup target {}", tools::WASM_TARGET));
        tools::ensure_wasm_target()?;
        step(&format!(
            "install {} and {}",
            CANDID_EXTRACTOR.spec(),
            IC_WASM.spec()
        ));
        CANDID_EXTRACTOR.ensure_installed()?;
        IC_WASM.ensure_installed()?;
    }

    step(
        "Debian tools (sqlite3 for the wrangler shim, caddy for the TLS front, pg_dump for the \
         backup test, chromium and chromedriver for the duet pages)",
    );
    tools::ensure_debian_tools()?;

    step("PostgreSQL and Redis");
    services::ensure_all()
}

/// Where the blob store's Arweave tests keep their npm `arlocal` install.
pub const ARLOCAL_DIR: &str = "workers/blob-store/tests/arlocal";

/// Whether `npm ci` must run in `dir`: no install yet, or `package-lock.json` is newer than
/// the installed tree's `node_modules/.package-lock.json`.
pub fn npm_needs_install(dir: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (
        modified(&dir.join("package-lock.json")),
        modified(&dir.join("node_modules/.package-lock.json")),
    ) {
        (Some(lock), Some(installed)) => lock > installed,
        _ => true,
    }
}

/// `npm ci` of the local Arweave gateway `arlocal` the blob-store tests start (its
/// package.json pins `avsc` from the registry: the upstream dependency points at GitHub).
fn install_arlocal(root: &Path) -> Result<()> {
    npm_ci(&root.join(ARLOCAL_DIR), "arlocal", &[])
}

/// Where the Akash SDL check keeps its npm install and script.
pub const AKASH_CHECK_DIR: &str = "deploy/akash/check";

/// Parses `deploy/akash/*.yaml` with Akash's SDL parser and checks them against the variables
/// `heaven` reads (`deploy/akash/check/check.mjs`). Install scripts are skipped: the parser
/// (`@akashnetwork/chain-sdk`) needs none, and none may download from GitHub here.
fn check_akash_sdl(root: &Path) -> Result<()> {
    let dir = root.join(AKASH_CHECK_DIR);
    npm_ci(&dir, "Akash SDL parser", &["--ignore-scripts"])?;
    step("Akash SDL (parse, manifest, groups, env drift)");
    proc::run(
        std::process::Command::new("node")
            .arg("check.mjs")
            .current_dir(&dir),
    )
}

/// `npm ci` in `dir` unless its install is up to date.
fn npm_ci(dir: &Path, what: &str, extra: &[&str]) -> Result<()> {
    if !npm_needs_install(dir) {
        step(&format!("{what} (npm, up to date)"));
        return Ok(());
    }
    step(&format!("{what} (npm ci)"));
    proc::run(
        std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .args(extra)
            .current_dir(dir),
    )
}

/// Steps h–j: `cargo fmt --check`, clippy (host, then wasm for the `built` canister packages),
/// `cargo test --workspace` and its summary line.
fn lint_and_test(root: &Path, built: &[Built]) -> Result<()> {
    step("cargo fmt");
    proc::run(
        proc::cargo()
            .current_dir(root)
            .args(["fmt", "--all", "--", "--check"]),
    )?;

    step("cargo clippy (host)");
    proc::run(proc::cargo().current_dir(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step(&format!("cargo clippy ({})", tools::WASM_TARGET));
    let mut clippy = proc::cargo();
    clippy
        .current_dir(root)
        .args(["clippy", "--target", tools::WASM_TARGET]);
    for b in built {
        clippy.args(["-p", &b.package]);
    }
    for fixture in fixtures::FIXTURES {
        clippy.args(["-p", fixture]);
    }
    proc::run(clippy.args(["--", "-D", "warnings"]))?;

    step("worker release profile unwinds (panic rollback built with it)");
    profile::check_worker_profile_unwinds(root)?;

    step("cargo test");
    let mut cmd = proc::cargo();
    cmd.current_dir(root).args(["test", "--workspace"]);
    let (status, output) = proc::tee(&mut cmd)?;
    let summary = Summary::parse(&output);
    println!("{summary}");
    if let Some(note) = summary.pocket_ic_note() {
        println!("{note}");
    }
    proc::check(&cmd, status, String::new())
}

/// Steps d–g: build every canister and test fixture, then check Candid drift, wasm imports and
/// dfx.json.
/// Also `cargo xtask check-canisters`.
pub fn check_canisters(root: &Path) -> Result<Vec<Built>> {
    step("build canisters");
    let built = canisters::build(root, &[], false)?;
    step("build test fixtures");
    fixtures::build(root)?;

    step("candid drift");
    let extractor = CANDID_EXTRACTOR.require()?;
    for b in &built {
        canisters::check_candid(root, &extractor, b)?;
    }

    step("wasm imports (ic0 only)");
    for b in &built {
        imports::check_file(&b.final_wasm)?;
        println!("{} imports only from ic0", b.final_wasm.display());
    }

    step("dfx.json");
    let dfx = dfx::load(root)?;
    let missing = dfx::missing_files(&dfx, root);
    if !missing.is_empty() {
        return Err(Error::Dfx(missing));
    }
    // Every canister must still resolve to a package with a wasm.
    let workspace = Workspace::load(root)?;
    for c in &dfx.canisters {
        workspace.cargo_wasm(workspace.package_for(c)?)?;
    }
    println!("dfx.json is valid ({} canisters)", dfx.canisters.len());
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arlocal_installs_when_missing_or_stale() {
        let dir = tempfile::tempdir().unwrap();
        assert!(npm_needs_install(dir.path()), "nothing installed");
        std::fs::write(dir.path().join("package-lock.json"), "{}").unwrap();
        assert!(npm_needs_install(dir.path()), "no node_modules");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::create_dir(dir.path().join("node_modules")).unwrap();
        std::fs::write(dir.path().join("node_modules/.package-lock.json"), "{}").unwrap();
        assert!(!npm_needs_install(dir.path()), "installed after the lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("package-lock.json"), "{ }").unwrap();
        assert!(npm_needs_install(dir.path()), "lock changed since");
    }

    #[test]
    fn arlocal_package_pins_avsc_from_the_registry() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let package = std::fs::read_to_string(root.join(ARLOCAL_DIR).join("package.json")).unwrap();
        assert!(package.contains("\"avsc\": \"5.7.7\""), "{package}");
        assert!(root.join(ARLOCAL_DIR).join("package-lock.json").exists());
    }
}
