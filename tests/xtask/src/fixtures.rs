//! Test fixture canisters: purpose-built wasm that the wasm harness tests run
//! (`tests/wasm-harness`). They are not deployed and not in dfx.json, but are built like the
//! canisters (profile `canister`, `wasm32-unknown-unknown`) into `<target>/canisters/<name>.wasm`, where
//! the tests look for them, by `cargo xtask build-canisters` (with no names) and before
//! `cargo test` in `cargo xtask test`.

use std::path::{Path, PathBuf};

use crate::{
    canisters::Workspace,
    error::{Error, Result, io_err},
    proc, tools,
};

/// The fixture packages.
pub const FIXTURES: &[&str] = &["harness_fixture"];

/// Builds every fixture and copies its wasm to `<target>/canisters/<package>.wasm`.
pub fn build(root: &Path) -> Result<Vec<PathBuf>> {
    let workspace = Workspace::load(root)?;
    let mut built = Vec::new();
    for name in FIXTURES {
        let package = workspace
            .packages
            .iter()
            .find(|p| p.name == *name)
            .ok_or_else(|| Error::NoPackage((*name).to_string()))?;
        proc::run(proc::cargo().current_dir(root).args([
            "build",
            "--profile",
            tools::CANISTER_PROFILE,
            "--target",
            tools::WASM_TARGET,
            "-p",
            name,
        ]))?;
        let cargo_wasm = workspace.cargo_wasm(package)?;
        let dir = workspace.target_dir.join("canisters");
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let wasm = dir.join(format!("{name}.wasm"));
        std::fs::copy(&cargo_wasm, &wasm).map_err(io_err(format!(
            "copying {} to {}",
            cargo_wasm.display(),
            wasm.display()
        )))?;
        println!("built test fixture `{name}`: {}", wasm.display());
        built.push(wasm);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_a_workspace_cdylib() {
        let workspace = Workspace::load(&crate::workspace_root()).unwrap();
        for name in FIXTURES {
            let package = workspace.packages.iter().find(|p| p.name == *name);
            let package = package.unwrap_or_else(|| panic!("{name} is not a workspace member"));
            assert!(
                workspace.cargo_wasm(package).is_ok(),
                "{name} has no cdylib"
            );
        }
    }
}
