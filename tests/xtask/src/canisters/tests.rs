use super::*;
use crate::dfx::Kind;

const METADATA: &str = r#"{
  "packages": [
    { "name": "identity_canister", "manifest_path": "/w/canisters/identity/Cargo.toml",
      "targets": [ { "name": "identity_canister", "kind": ["cdylib", "rlib"], "crate_types": ["cdylib", "rlib"] } ] },
    { "name": "wallet-thing", "manifest_path": "/w/canisters/wallet/Cargo.toml",
      "targets": [ { "name": "wallet-thing", "kind": ["cdylib"], "crate_types": ["cdylib"] } ] },
    { "name": "xtask", "manifest_path": "/w/tests/xtask/Cargo.toml",
      "targets": [ { "name": "xtask", "kind": ["bin"], "crate_types": ["bin"] },
                   { "name": "load", "kind": ["bench"], "crate_types": ["bin"] } ] }
  ],
  "workspace_root": "/w",
  "target_directory": "/w/target",
  "version": 1
}"#;

fn canister(name: &str, package: Option<&str>) -> Canister {
    Canister {
        name: name.into(),
        kind: Kind::Custom,
        package: package.map(Into::into),
        wasm: format!("target/canisters/{name}.wasm").into(),
        candid: format!("candid/{name}.did").into(),
    }
}

#[test]
fn reads_cargo_metadata() {
    let ws = Workspace::from_metadata(METADATA).unwrap();
    assert_eq!(ws.root, PathBuf::from("/w"));
    assert_eq!(ws.target_dir, PathBuf::from("/w/target"));
    assert_eq!(ws.packages.len(), 3);
    assert_eq!(ws.packages[1].cdylib.as_deref(), Some("wallet_thing"));
    assert_eq!(ws.packages[2].cdylib, None);
    assert_eq!(ws.packages[2].benches, ["load"]);
    assert!(ws.packages[0].benches.is_empty());
}

#[test]
fn resolves_canister_packages() {
    let ws = Workspace::from_metadata(METADATA).unwrap();
    let by_suffix = ws.package_for(&canister("identity", None)).unwrap();
    assert_eq!(by_suffix.name, "identity_canister");
    assert_eq!(
        ws.cargo_wasm(by_suffix).unwrap(),
        PathBuf::from("/w/target/wasm32-unknown-unknown/canister/identity_canister.wasm")
    );
    let by_dir = ws.package_for(&canister("wallet", None)).unwrap();
    assert_eq!(by_dir.name, "wallet-thing");
    assert_eq!(
        ws.cargo_wasm(by_dir).unwrap().file_name().unwrap(),
        "wallet_thing.wasm"
    );
    let explicit = ws
        .package_for(&canister("w", Some("wallet-thing")))
        .unwrap();
    assert_eq!(explicit.name, "wallet-thing");

    assert!(matches!(
        ws.package_for(&canister("credits", None)),
        Err(Error::NoPackage(_))
    ));
    let xtask = ws.package_for(&canister("xtask", None)).unwrap();
    assert!(ws.cargo_wasm(xtask).is_err());
}

#[test]
fn the_project_canisters_resolve() {
    let root = crate::workspace_root();
    let ws = Workspace::load(&root).unwrap();
    for c in dfx::load(&root).unwrap().canisters {
        let package = ws.package_for(&c).unwrap();
        assert!(package.cdylib.is_some(), "{} has no cdylib", package.name);
    }
}
