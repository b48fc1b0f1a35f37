//! `cargo xtask`: the project's single test command and its canister build pipeline.
//!
//! - `cargo xtask test`: set-up (wasm32 target, candid-extractor, ic-wasm, PostgreSQL, Redis),
//!   canister build, Candid drift, wasm import and dfx.json checks, fmt, clippy and every test.
//! - `cargo xtask build-canisters [NAME...] [--write-candid]`: build canister wasm the way dfx
//!   expects it (dfx.json's `build` command); with no names, also the test fixture canisters.
//! - `cargo xtask check-canisters`: only the canister steps of `test` (build and checks).
//! - `cargo xtask setup`: only the set-up steps of `test` (toolchain, PostgreSQL, Redis).
//! - `cargo xtask image [--profile P]`: the minimal worker image (static musl binary on
//!   `scratch`, deploy/image/Containerfile), built with buildah and checked.
//! - `cargo xtask bench [NAME...]`: every benchmark of the workspace (or those named), then one
//!   table of their figures with anchors and ratios.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Parser, Subcommand};

mod bench;
mod canisters;
mod dfx;
mod diff;
mod error;
mod fixtures;
mod image;
mod imports;
mod pipeline;
mod proc;
mod profile;
mod services;
mod summary;
mod tools;

/// Command line of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Project automation: tests and canister builds"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Everything CI runs: set-up, canister build and checks, fmt, clippy, all tests.
    Test,
    /// Build canister wasm (shrunk, with candid:service metadata) into dfx.json's `wasm` paths;
    /// with no names, also the test fixture canisters (into `target/canisters/`).
    BuildCanisters {
        /// Canisters to build (dfx.json names); all when none are given.
        names: Vec<String>,
        /// Rewrite each `.did` file from the wasm (candid-extractor) before embedding it.
        #[arg(long)]
        write_candid: bool,
    },
    /// Build all canisters, then check Candid drift, wasm imports and dfx.json.
    CheckCanisters,
    /// Only the set-up steps of `test`: wasm32 target, candid-extractor, ic-wasm, PostgreSQL, Redis.
    Setup,
    /// Build the minimal worker image (static musl `heaven` on `scratch`) with buildah and
    /// check it: static ELF, non-root user, nothing but the staged files, serves `/health`.
    Image {
        /// The cargo profile of the binary (`image-check` is what CI builds, to save time).
        #[arg(long, default_value = "release")]
        profile: String,
    },
    /// Run every benchmark (`cargo bench`, one target at a time) and print one table of the
    /// figures they report: value, the anchor measured in the same run, ratio.
    Bench {
        /// Only these: a package, a bench target, or `package/bench`.
        names: Vec<String>,
    },
}

/// The workspace root (this crate lives in `tests/xtask`).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Cmd::Test => pipeline::test(&root),
        Cmd::BuildCanisters {
            names,
            write_candid,
        } => canisters::build(&root, &names, write_candid).and_then(|_| {
            // With no names, also the test fixtures the wasm harness tests need.
            if names.is_empty() {
                fixtures::build(&root)?;
            }
            Ok(())
        }),
        Cmd::CheckCanisters => pipeline::check_canisters(&root).map(|_| ()),
        Cmd::Setup => pipeline::setup(),
        Cmd::Image { profile } => image::build(&root, &profile),
        Cmd::Bench { names } => bench::run(&root, &names),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::parse_from(["xtask", "build-canisters", "identity", "--write-candid"]);
        assert!(matches!(
            cli.command,
            Cmd::BuildCanisters { ref names, write_candid: true } if names == &["identity"]
        ));
    }

    #[test]
    fn root_has_dfx_json() {
        assert!(workspace_root().join("dfx.json").is_file());
    }
}
