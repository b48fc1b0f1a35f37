//! Import check for canister wasm: the Internet Computer only provides the `ic0` module, so a
//! wasm that imports anything else (`__wbindgen_placeholder__` from wasm-bindgen,
//! `wasi_snapshot_preview1` from WASI std, `env` from C code or a missing symbol) cannot be
//! installed. The check names every offending module and function.

use std::{fmt, path::Path};

use wasmparser::{Parser, Payload};

use crate::error::{Error, Result, io_err};

/// The only import module the IC provides.
pub const ALLOWED_MODULE: &str = "ic0";

/// One import of a wasm module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The module imported from, e.g. `ic0`.
    pub module: String,
    /// The imported item, e.g. `msg_reply`.
    pub name: String,
}

impl fmt::Display for Import {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// Every import of the wasm module in `wasm`, in order.
pub fn imports(wasm: &[u8]) -> Result<Vec<Import>> {
    let wasm_err = |e: wasmparser::BinaryReaderError| Error::Wasm {
        path: Default::default(),
        message: e.to_string(),
    };
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ImportSection(reader) = payload.map_err(wasm_err)? {
            for import in reader {
                let import = import.map_err(wasm_err)?;
                out.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// The imports of `wasm` that come from a module other than [`ALLOWED_MODULE`].
pub fn foreign_imports(wasm: &[u8]) -> Result<Vec<Import>> {
    Ok(imports(wasm)?
        .into_iter()
        .filter(|i| i.module != ALLOWED_MODULE)
        .collect())
}

/// Checks the wasm file at `path`: fails with [`Error::ForeignImports`] naming every import
/// that is not from `ic0`.
pub fn check_file(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(io_err(format!("reading {}", path.display())))?;
    let foreign = foreign_imports(&bytes).map_err(|e| match e {
        Error::Wasm { message, .. } => Error::Wasm {
            path: path.to_path_buf(),
            message,
        },
        other => other,
    })?;
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(Error::ForeignImports {
            path: path.to_path_buf(),
            imports: foreign,
        })
    }
}

#[cfg(test)]
mod tests;
