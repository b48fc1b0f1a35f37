//! Where tests find canister wasm: `target/canisters/<name>.wasm`, written by
//! `cargo xtask build-canisters` (real canisters and the harness fixtures alike).

use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};

/// The workspace root (this crate lives in `tests/wasm-harness`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the workspace root when
/// relative), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The path of canister `name`'s wasm: `<target>/canisters/<name>.wasm`, or, when only that
/// exists, `<workspace>/target/canisters/<name>.wasm` (dfx.json's fixed `wasm` paths).
pub fn canister_wasm_path(name: &str) -> PathBuf {
    let file = format!("{name}.wasm");
    let primary = target_dir().join("canisters").join(&file);
    let fixed = workspace_root()
        .join("target")
        .join("canisters")
        .join(&file);
    if !primary.is_file() && fixed.is_file() {
        fixed
    } else {
        primary
    }
}

/// The bytes of canister `name`'s wasm, or [`HarnessError::WasmMissing`] telling to run
/// `cargo xtask build-canisters`.
pub fn canister_wasm(name: &str) -> Result<Vec<u8>> {
    let path = canister_wasm_path(name);
    std::fs::read(&path).map_err(|_| HarnessError::WasmMissing {
        path: path.display().to_string(),
    })
}
