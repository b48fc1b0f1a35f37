//! The canister build pipeline (`cargo xtask build-canisters`), also what dfx runs as each
//! canister's `build` command:
//!
//! 1. `cargo build --profile canister --target wasm32-unknown-unknown -p <package>` (the
//!    workspace's size-optimised, `panic = "abort"` profile; `release` is the worker binary's);
//! 2. with `--write-candid`, `candid-extractor` on that wasm rewrites `candid/<name>.did`;
//! 3. `ic-wasm shrink`, then `ic-wasm metadata candid:service -f <did> -v public`, written to the
//!    `wasm` path dfx.json names (`target/canisters/<name>.wasm`).
//!
//! Cargo's wasm is left in place: it still exports `get_candid_pointer`, so the Candid drift
//! check ([`check_candid`]) extracts the interface from it rather than from the shrunk wasm.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use crate::{
    dfx::{self, Canister},
    diff,
    error::{Error, Result, io_err},
    proc,
    tools::{self, CANDID_EXTRACTOR, IC_WASM},
};

/// A workspace package, as `cargo metadata` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// The package name (what `-p` takes).
    pub name: String,
    /// The directory of its Cargo.toml.
    pub dir: PathBuf,
    /// The name of its `cdylib` target (the wasm file stem), if it has one.
    pub cdylib: Option<String>,
    /// Its benchmark targets (`[[bench]]`), by name.
    pub benches: Vec<String>,
}

/// The workspace packages and target directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    /// The workspace root.
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target_dir: PathBuf,
    /// The workspace members.
    pub packages: Vec<Package>,
}

impl Workspace {
    /// Runs `cargo metadata --no-deps` in `root`.
    pub fn load(root: &Path) -> Result<Self> {
        let json = proc::output(proc::cargo().current_dir(root).args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
        ]))?;
        Self::from_metadata(&json)
    }

    /// Parses `cargo metadata --format-version 1` output.
    pub fn from_metadata(json: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(json).map_err(|source| Error::Json {
            path: "cargo metadata output".into(),
            source,
        })?;
        let str_field = |v: &Value, key: &str| -> Result<String> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Error::Unexpected(format!("cargo metadata: no `{key}`")))
        };
        let mut packages = Vec::new();
        for p in value
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let manifest = PathBuf::from(str_field(p, "manifest_path")?);
            let cdylib = p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|t| {
                    t.get("crate_types")
                        .and_then(Value::as_array)
                        .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
                })
                .map(|t| str_field(t, "name").map(|n| n.replace('-', "_")))
                .transpose()?;
            let benches = p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|t| {
                    t.get("kind")
                        .and_then(Value::as_array)
                        .is_some_and(|kinds| kinds.iter().any(|k| k == "bench"))
                })
                .map(|t| str_field(t, "name"))
                .collect::<Result<Vec<_>>>()?;
            packages.push(Package {
                name: str_field(p, "name")?,
                dir: manifest.parent().unwrap_or(Path::new("")).to_path_buf(),
                cdylib,
                benches,
            });
        }
        Ok(Self {
            root: str_field(&value, "workspace_root")?.into(),
            target_dir: str_field(&value, "target_directory")?.into(),
            packages,
        })
    }

    /// The package that builds `canister`: the `package` dfx.json names, else a package called
    /// `<name>`, `<name>_canister` or `<name>-canister`, else the one in `canisters/<name>`.
    pub fn package_for(&self, canister: &Canister) -> Result<&Package> {
        let by_name = |n: &str| self.packages.iter().find(|p| p.name == n);
        let name = &canister.name;
        let found = match &canister.package {
            Some(package) => by_name(package),
            None => by_name(name)
                .or_else(|| by_name(&format!("{name}_canister")))
                .or_else(|| by_name(&format!("{name}-canister")))
                .or_else(|| {
                    let dir = self.root.join("canisters").join(name);
                    self.packages.iter().find(|p| p.dir == dir)
                }),
        };
        found.ok_or_else(|| Error::NoPackage(name.clone()))
    }

    /// Where `cargo build --profile canister --target wasm32-unknown-unknown` puts `package`'s
    /// wasm.
    pub fn cargo_wasm(&self, package: &Package) -> Result<PathBuf> {
        let stem = package.cdylib.as_ref().ok_or_else(|| {
            Error::Unexpected(format!(
                "package `{}` has no cdylib target (add `crate-type = [\"cdylib\"]` to [lib])",
                package.name
            ))
        })?;
        Ok(self
            .target_dir
            .join(tools::WASM_TARGET)
            .join(tools::CANISTER_PROFILE)
            .join(format!("{stem}.wasm")))
    }
}

/// A canister the pipeline built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The dfx.json entry.
    pub canister: Canister,
    /// The cargo package.
    pub package: String,
    /// Cargo's wasm before shrinking (still exports `get_candid_pointer`).
    pub cargo_wasm: PathBuf,
    /// The shrunk wasm with `candid:service` metadata, at dfx.json's `wasm` path.
    pub final_wasm: PathBuf,
}

/// Builds the canisters called `names` (all of dfx.json's when empty); with `write_candid`,
/// rewrites each `.did` from the wasm before embedding it.
pub fn build(root: &Path, names: &[String], write_candid: bool) -> Result<Vec<Built>> {
    let dfx = dfx::load(root)?;
    let canisters = dfx.select(names)?;
    let workspace = Workspace::load(root)?;
    let ic_wasm = IC_WASM.require()?;
    let extractor = if write_candid {
        Some(CANDID_EXTRACTOR.require()?)
    } else {
        None
    };
    let mut built = Vec::new();
    for canister in canisters {
        let package = workspace.package_for(&canister)?;
        let cargo_wasm = workspace.cargo_wasm(package)?;
        proc::run(proc::cargo().current_dir(root).args([
            "build",
            "--profile",
            tools::CANISTER_PROFILE,
            "--target",
            tools::WASM_TARGET,
            "-p",
            &package.name,
        ]))?;
        if !cargo_wasm.is_file() {
            return Err(Error::Unexpected(format!(
                "cargo build did not produce {}",
                cargo_wasm.display()
            )));
        }

        let did = root.join(&canister.candid);
        if let Some(extractor) = &extractor {
            write_candid_file(extractor, &cargo_wasm, &did)?;
        }

        let final_wasm = root.join(&canister.wasm);
        let dir = final_wasm.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let tmp = dir.join(format!(".{}.xtask-tmp.wasm", canister.name));
        proc::run(
            Command::new(&ic_wasm)
                .arg(&cargo_wasm)
                .arg("-o")
                .arg(&tmp)
                .arg("shrink"),
        )?;
        proc::run(
            Command::new(&ic_wasm)
                .arg(&tmp)
                .arg("-o")
                .arg(&tmp)
                .args(["metadata", "candid:service", "-f"])
                .arg(&did)
                .args(["-v", "public"]),
        )?;
        std::fs::rename(&tmp, &final_wasm)
            .map_err(io_err(format!("moving wasm to {}", final_wasm.display())))?;
        let size = std::fs::metadata(&final_wasm).map(|m| m.len()).unwrap_or(0);
        println!(
            "built canister `{}`: {} ({size} bytes)",
            canister.name,
            final_wasm.display()
        );
        built.push(Built {
            canister,
            package: package.name.clone(),
            cargo_wasm,
            final_wasm,
        });
    }
    Ok(built)
}

/// The Candid interface `candid-extractor` reads from `wasm`.
pub fn extract_candid(extractor: &Path, wasm: &Path) -> Result<String> {
    proc::output(Command::new(extractor).arg(wasm))
}

/// Rewrites `did` with the interface extracted from `wasm` (if it changed).
fn write_candid_file(extractor: &Path, wasm: &Path, did: &Path) -> Result<()> {
    let extracted = format!("{}\n", extract_candid(extractor, wasm)?.trim_end());
    if std::fs::read_to_string(did).is_ok_and(|old| old == extracted) {
        println!("{} is up to date", did.display());
        return Ok(());
    }
    if let Some(dir) = did.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    }
    std::fs::write(did, extracted).map_err(io_err(format!("writing {}", did.display())))?;
    println!("wrote {}", did.display());
    Ok(())
}

/// Compares the checked-in `.did` of `built` with the interface in cargo's wasm; fails
/// with [`Error::CandidDrift`] and a line diff when they differ.
pub fn check_candid(root: &Path, extractor: &Path, built: &Built) -> Result<()> {
    let did = root.join(&built.canister.candid);
    let checked_in =
        std::fs::read_to_string(&did).map_err(io_err(format!("reading {}", did.display())))?;
    let extracted = extract_candid(extractor, &built.cargo_wasm)?;
    let label = format!("candid-extractor {}", built.cargo_wasm.display());
    match diff::unified(
        &built.canister.candid.display().to_string(),
        &label,
        &checked_in,
        &extracted,
    ) {
        None => {
            println!("{} matches the wasm", built.canister.candid.display());
            Ok(())
        }
        Some(diff) => Err(Error::CandidDrift {
            canister: built.canister.name.clone(),
            path: built.canister.candid.clone(),
            diff,
        }),
    }
}

#[cfg(test)]
mod tests;
