//! `cargo xtask test`: everything a fresh CI machine needs, in order, each step under a
//! `== step ==` header, stopping at the first failure.
//!
//! toolchain (wasm32 target, candid-extractor, ic-wasm) → PostgreSQL and Redis → canister build
//! → test fixture build → Candid drift → wasm imports → dfx.json → `cargo fmt --check` → clippy
//! (host, then wasm for the canister and fixture packages) → `cargo test --workspace` with a
//! one-line summary (and how many PocketIC scenarios skipped).

use std::{env, path::Path};

use crate::{
    canisters::{self, Built, Workspace},
    dfx,
    error::{Error, Result},
    fixtures, imports, proc, services,
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
    let built = check_canisters(root)?;
    lint_and_test(root, &built)
}

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

    step("PostgreSQL and Redis");
    services::ensure_all()
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
        workspace.release_wasm(workspace.package_for(c)?)?;
    }
    println!("dfx.json is valid ({} canisters)", dfx.canisters.len());
    Ok(built)
}
