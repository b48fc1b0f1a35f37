//! dfx.json: reading the canister list the build pipeline works from, and validating the file.
//!
//! [`parse`] checks the structure (every canister is `rust` or `custom`; a `custom` canister
//! names its `wasm` and `candid` files and publishes `candid:service` metadata; `networks` has
//! `local` and `ic`) and collects every problem rather than stopping at the first.
//! [`missing_files`] checks, after a build, that the files dfx.json names exist.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result, io_err};

/// The networks dfx.json must define.
pub const REQUIRED_NETWORKS: [&str; 2] = ["local", "ic"];

/// How dfx builds a canister.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `type: rust`: dfx runs cargo itself.
    Rust,
    /// `type: custom`: dfx runs the `build` command and takes `wasm` / `candid`.
    Custom,
}

/// One canister of dfx.json.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canister {
    /// The canister name (the key in `canisters`).
    pub name: String,
    /// Its dfx type.
    pub kind: Kind,
    /// The cargo package, when dfx.json names it (`package`, as `type: rust` requires).
    pub package: Option<String>,
    /// The final wasm, relative to the project root (`wasm`, or `target/canisters/<name>.wasm`).
    pub wasm: PathBuf,
    /// The checked-in Candid interface, relative to the project root.
    pub candid: PathBuf,
}

/// The parts of dfx.json xtask uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DfxJson {
    /// The canisters, sorted by name.
    pub canisters: Vec<Canister>,
    /// The network names, sorted.
    pub networks: Vec<String>,
}

impl DfxJson {
    /// The canisters called `names`, or all of them when `names` is empty.
    pub fn select(&self, names: &[String]) -> Result<Vec<Canister>> {
        if names.is_empty() {
            return Ok(self.canisters.clone());
        }
        names
            .iter()
            .map(|name| {
                self.canisters
                    .iter()
                    .find(|c| &c.name == name)
                    .cloned()
                    .ok_or_else(|| Error::UnknownCanister {
                        name: name.clone(),
                        known: self
                            .canisters
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            })
            .collect()
    }
}

/// Reads and validates `<root>/dfx.json`.
pub fn load(root: &Path) -> Result<DfxJson> {
    let path = root.join("dfx.json");
    let text =
        std::fs::read_to_string(&path).map_err(io_err(format!("reading {}", path.display())))?;
    parse(&text).map_err(Error::Dfx)
}

/// Parses and validates dfx.json text; on failure returns every problem found.
pub fn parse(text: &str) -> Result<DfxJson, Vec<String>> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| vec![format!("not valid JSON: {e}")])?;
    let Some(root) = root.as_object() else {
        return Err(vec!["the top level is not a JSON object".into()]);
    };
    let mut problems = Vec::new();
    let mut canisters = Vec::new();
    let mut network_names = Vec::new();

    match root.get("canisters").and_then(Value::as_object) {
        None => problems.push("`canisters` is missing or not an object".into()),
        Some(map) if map.is_empty() => problems.push("`canisters` is empty".into()),
        Some(map) => {
            for (name, value) in map {
                match value.as_object() {
                    Some(fields) => {
                        if let Some(c) = canister(name, fields, &mut problems) {
                            canisters.push(c);
                        }
                    }
                    None => problems.push(format!("canister `{name}` is not an object")),
                }
            }
        }
    }

    match root.get("networks").and_then(Value::as_object) {
        None => problems.push("`networks` is missing or not an object".into()),
        Some(networks) => {
            network_names = networks.keys().cloned().collect();
            for network in REQUIRED_NETWORKS {
                if !networks.contains_key(network) {
                    problems.push(format!("`networks` has no `{network}` network"));
                }
            }
        }
    }

    if problems.is_empty() {
        canisters.sort_by(|a, b| a.name.cmp(&b.name));
        network_names.sort();
        Ok(DfxJson {
            canisters,
            networks: network_names,
        })
    } else {
        Err(problems)
    }
}

/// Validates one canister entry, pushing problems; returns it when it is usable.
fn canister(
    name: &str,
    fields: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> Option<Canister> {
    let before = problems.len();
    let string = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let kind = match string("type").as_deref() {
        Some("rust") => Kind::Rust,
        Some("custom") => Kind::Custom,
        Some(other) => {
            problems.push(format!(
                "canister `{name}`: type `{other}` is not supported (use `rust` or `custom`)"
            ));
            return None;
        }
        None => {
            problems.push(format!("canister `{name}`: `type` is missing"));
            return None;
        }
    };
    let candid = string("candid");
    if candid.is_none() {
        problems.push(format!("canister `{name}`: `candid` path is missing"));
    }
    let wasm = string("wasm");
    let package = string("package");
    match kind {
        Kind::Custom => {
            if wasm.is_none() {
                problems.push(format!("canister `{name}`: `wasm` path is missing"));
            }
            if !has_public_candid_service(fields.get("metadata")) {
                problems.push(format!(
                    "canister `{name}`: `metadata` has no `candid:service` entry with visibility `public`"
                ));
            }
        }
        Kind::Rust => {
            if package.is_none() {
                problems.push(format!(
                    "canister `{name}`: `package` is missing (type rust)"
                ));
            }
        }
    }
    if problems.len() != before {
        return None;
    }
    Some(Canister {
        name: name.to_string(),
        kind,
        package,
        wasm: wasm
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("target/canisters/{name}.wasm"))),
        candid: PathBuf::from(candid?),
    })
}

/// Whether `metadata` lists `{ "name": "candid:service", "visibility": "public" }`.
fn has_public_candid_service(metadata: Option<&Value>) -> bool {
    metadata.and_then(Value::as_array).is_some_and(|entries| {
        entries.iter().any(|entry| {
            entry.get("name").and_then(Value::as_str) == Some("candid:service")
                && entry.get("visibility").and_then(Value::as_str) == Some("public")
        })
    })
}

/// After a build: the files dfx.json names that do not exist under `root` (the `wasm` and
/// `candid` of `custom` canisters, the `candid` of `rust` ones), as problem messages.
pub fn missing_files(dfx: &DfxJson, root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for c in &dfx.canisters {
        let mut files = vec![("candid", &c.candid)];
        if c.kind == Kind::Custom {
            files.push(("wasm", &c.wasm));
        }
        for (key, path) in files {
            if !root.join(path).is_file() {
                problems.push(format!(
                    "canister `{}`: {key} file {} does not exist",
                    c.name,
                    path.display()
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests;
