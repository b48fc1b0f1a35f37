//! The worker binary's build profile must unwind: the edge turns a panicking handler into a
//! 500 and the native canisters roll a panicking message back, both by catching the unwind.
//! With `panic = "abort"` one bad request would kill every service of the process.
//!
//! `cargo xtask test` reads which profile `deploy/Dockerfile` builds `heaven` with, resolves
//! that profile's `panic` strategy from the workspace Cargo.toml (following `inherits`), and
//! then proves it by running the native identity canister's panic-rollback check
//! (`canisters/identity/examples/panic_rollback.rs`) built with that very profile: under
//! `abort` the process dies instead of printing its verdict.

use std::path::Path;

use crate::error::{Error, Result, io_err};
use crate::proc;

/// The package, example and feature of the rollback check.
pub const ROLLBACK_CHECK: (&str, &str, &str) = ("identity_canister", "panic_rollback", "native");

/// What the rollback check prints last when every case held.
pub const ROLLBACK_OK: &str = "panic rollback: ok";

/// The cargo profile `deploy/Dockerfile` builds the `heaven` package with.
pub fn dockerfile_profile(dockerfile: &str) -> Result<String> {
    let build = dockerfile
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("RUN ") && line.contains("cargo build"))
        .find(|line| line.split_whitespace().any(|w| w == "heaven"))
        .ok_or_else(|| {
            Error::Unexpected("deploy/Dockerfile has no `RUN cargo build ... heaven` line".into())
        })?;
    let words: Vec<&str> = build.split_whitespace().collect();
    if words.contains(&"--release") {
        return Ok("release".into());
    }
    for (i, word) in words.iter().enumerate() {
        if let Some(name) = word.strip_prefix("--profile=") {
            return Ok(name.into());
        }
        if *word == "--profile"
            && let Some(name) = words.get(i + 1)
        {
            return Ok((*name).into());
        }
    }
    Ok("dev".into())
}

/// The `panic` strategy of `profile` in the workspace manifest `cargo_toml`, following
/// `inherits` down to cargo's built-in profiles (which all unwind).
pub fn panic_strategy(cargo_toml: &str, profile: &str) -> Result<String> {
    let manifest: toml::Table = cargo_toml
        .parse()
        .map_err(|e| Error::Unexpected(format!("Cargo.toml is not valid TOML: {e}")))?;
    let profiles = manifest.get("profile").and_then(toml::Value::as_table);
    let mut current = profile.to_owned();
    for _ in 0..16 {
        let table = profiles
            .and_then(|p| p.get(&current))
            .and_then(toml::Value::as_table);
        if let Some(panic) = table
            .and_then(|t| t.get("panic"))
            .and_then(toml::Value::as_str)
        {
            return Ok(panic.into());
        }
        match table
            .and_then(|t| t.get("inherits"))
            .and_then(toml::Value::as_str)
        {
            Some(parent) => current = parent.into(),
            None if matches!(current.as_str(), "dev" | "release" | "test" | "bench") => {
                return Ok("unwind".into());
            }
            None => {
                return Err(Error::Unexpected(format!(
                    "profile `{current}` is not defined in Cargo.toml"
                )));
            }
        }
    }
    Err(Error::Unexpected(format!(
        "profile `{profile}` inherits in a loop"
    )))
}

/// The whole check: the Dockerfile's profile unwinds on paper, then in a real build.
pub fn check_worker_profile_unwinds(root: &Path) -> Result<()> {
    let read = |name: &str| {
        std::fs::read_to_string(root.join(name)).map_err(io_err(format!("reading {name}")))
    };
    let profile = dockerfile_profile(&read("deploy/Dockerfile")?)?;
    let panic = panic_strategy(&read("Cargo.toml")?, &profile)?;
    if panic != "unwind" {
        return Err(Error::Unexpected(format!(
            "deploy/Dockerfile builds heaven with profile `{profile}`, whose panic strategy is \
             `{panic}`: the worker binary must unwind (a panicking handler would kill every \
             service, and native canister messages could not be rolled back)"
        )));
    }
    println!("deploy/Dockerfile builds heaven with profile `{profile}` (panic = \"{panic}\")");
    let (package, example, feature) = ROLLBACK_CHECK;
    let output = proc::output(proc::cargo().current_dir(root).args([
        "run",
        "--quiet",
        "--locked",
        "--profile",
        &profile,
        "-p",
        package,
        "--features",
        feature,
        "--example",
        example,
    ]))?;
    print!("{output}");
    if output.lines().last() != Some(ROLLBACK_OK) {
        return Err(Error::Unexpected(format!(
            "the panic-rollback check built with profile `{profile}` did not report `{ROLLBACK_OK}`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dockerfile_profile_is_read_from_its_build_line() {
        let docker = |line: &str| format!("FROM rust AS build\nRUN apt-get update\n{line}\n");
        assert_eq!(
            dockerfile_profile(&docker("RUN cargo build --release --locked -p heaven")).unwrap(),
            "release"
        );
        assert_eq!(
            dockerfile_profile(&docker("RUN cargo build --profile fast -p heaven")).unwrap(),
            "fast"
        );
        assert_eq!(
            dockerfile_profile(&docker("RUN cargo build --profile=fast -p heaven")).unwrap(),
            "fast"
        );
        assert_eq!(
            dockerfile_profile(&docker("RUN cargo build -p heaven")).unwrap(),
            "dev"
        );
        assert!(dockerfile_profile(&docker("RUN cargo build -p other")).is_err());
    }

    #[test]
    fn panic_strategies_follow_inherits() {
        let manifest = r#"
            [profile.release]
            opt-level = 3
            [profile.canister]
            inherits = "release"
            panic = "abort"
            [profile.fast]
            inherits = "canister"
            [profile.loop]
            inherits = "loop"
        "#;
        assert_eq!(panic_strategy(manifest, "release").unwrap(), "unwind");
        assert_eq!(panic_strategy(manifest, "dev").unwrap(), "unwind");
        assert_eq!(panic_strategy(manifest, "canister").unwrap(), "abort");
        assert_eq!(panic_strategy(manifest, "fast").unwrap(), "abort");
        assert!(panic_strategy(manifest, "missing").is_err());
        assert!(panic_strategy(manifest, "loop").is_err());
    }

    #[test]
    fn the_workspace_ships_an_unwinding_worker_and_aborting_canisters() {
        let root = crate::workspace_root();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let docker = std::fs::read_to_string(root.join("deploy/Dockerfile")).unwrap();
        let profile = dockerfile_profile(&docker).unwrap();
        assert_eq!(panic_strategy(&manifest, &profile).unwrap(), "unwind");
        assert_eq!(
            panic_strategy(&manifest, crate::tools::CANISTER_PROFILE).unwrap(),
            "abort"
        );
    }
}
