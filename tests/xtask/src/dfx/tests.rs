use serde_json::json;

use super::*;

fn valid() -> Value {
    json!({
        "version": 1,
        "canisters": {
            "identity": {
                "type": "custom",
                "build": "cargo xtask build-canisters identity",
                "wasm": "target/canisters/identity.wasm",
                "candid": "candid/identity.did",
                "metadata": [{ "name": "candid:service", "visibility": "public" }]
            },
            "native": { "type": "rust", "package": "native_canister", "candid": "candid/native.did" }
        },
        "networks": {
            "local": { "bind": "127.0.0.1:4943", "type": "ephemeral" },
            "ic": { "providers": ["https://icp-api.io"], "type": "persistent" }
        }
    })
}

fn problems(value: &Value) -> Vec<String> {
    parse(&value.to_string()).expect_err("dfx.json should be rejected")
}

#[test]
fn accepts_a_valid_file() {
    let dfx = parse(&valid().to_string()).unwrap();
    assert_eq!(dfx.canisters.len(), 2);
    let identity = &dfx.canisters[0];
    assert_eq!(identity.name, "identity");
    assert_eq!(identity.kind, Kind::Custom);
    assert_eq!(
        identity.wasm,
        PathBuf::from("target/canisters/identity.wasm")
    );
    let native = &dfx.canisters[1];
    assert_eq!(native.kind, Kind::Rust);
    assert_eq!(native.package.as_deref(), Some("native_canister"));
    assert_eq!(native.wasm, PathBuf::from("target/canisters/native.wasm"));
}

#[test]
fn accepts_the_project_dfx_json() {
    let dfx = parse(include_str!("../../../../dfx.json")).unwrap();
    assert!(!dfx.canisters.is_empty());
}

#[test]
fn rejects_a_missing_network() {
    let mut value = valid();
    value["networks"].as_object_mut().unwrap().remove("ic");
    assert_eq!(problems(&value), vec!["`networks` has no `ic` network"]);

    value.as_object_mut().unwrap().remove("networks");
    assert_eq!(
        problems(&value),
        vec!["`networks` is missing or not an object"]
    );
}

#[test]
fn rejects_a_missing_wasm_path() {
    let mut value = valid();
    value["canisters"]["identity"]
        .as_object_mut()
        .unwrap()
        .remove("wasm");
    let problems = problems(&value);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("identity") && problems[0].contains("`wasm`"),
        "{problems:?}"
    );
}

#[test]
fn rejects_missing_candid_and_private_metadata() {
    let mut value = valid();
    let identity = value["canisters"]["identity"].as_object_mut().unwrap();
    identity.remove("candid");
    identity["metadata"] = json!([{ "name": "candid:service", "visibility": "private" }]);
    let problems = problems(&value);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`candid`"), "{problems:?}");
    assert!(problems[1].contains("candid:service"), "{problems:?}");
}

#[test]
fn rejects_unknown_types_and_bad_json() {
    let mut value = valid();
    value["canisters"]["identity"]["type"] = json!("motoko");
    assert!(problems(&value)[0].contains("motoko"));

    assert!(parse("{ \"canisters\": ").unwrap_err()[0].starts_with("not valid JSON"));
    assert!(parse("[]").is_err());
}

#[test]
fn rust_canisters_need_a_package() {
    let mut value = valid();
    value["canisters"]["native"]
        .as_object_mut()
        .unwrap()
        .remove("package");
    assert!(problems(&value)[0].contains("`package`"));
}

#[test]
fn missing_files_reports_absent_wasm_and_candid() {
    let dir = tempfile::tempdir().unwrap();
    let dfx = parse(&valid().to_string()).unwrap();
    let missing = missing_files(&dfx, dir.path());
    assert_eq!(missing.len(), 3, "{missing:?}");
    assert!(
        missing
            .iter()
            .any(|p| p.contains("target/canisters/identity.wasm"))
    );

    for file in [
        "target/canisters/identity.wasm",
        "candid/identity.did",
        "candid/native.did",
    ] {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }
    assert_eq!(missing_files(&dfx, dir.path()), Vec::<String>::new());
}

#[test]
fn select_by_name() {
    let dfx = parse(&valid().to_string()).unwrap();
    assert_eq!(dfx.select(&[]).unwrap().len(), 2);
    let picked = dfx.select(&["native".into()]).unwrap();
    assert_eq!(picked[0].name, "native");
    let err = dfx.select(&["nope".into()]).unwrap_err().to_string();
    assert!(
        err.contains("nope") && err.contains("identity, native"),
        "{err}"
    );
}

/// `deploy/ic/deploy.sh <network>` with `DFX=echo`: the dfx commands it would run.
fn deploy_commands(network: &str) -> (bool, Vec<String>) {
    let root = crate::workspace_root();
    let out = std::process::Command::new("bash")
        .arg(root.join("deploy/ic/deploy.sh"))
        .arg(network)
        .env("DFX", "echo")
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (out.status.success(), lines)
}

#[test]
fn the_deploy_script_installs_every_canister_with_each_networks_key() {
    let dfx = load(&crate::workspace_root()).unwrap();
    for (network, key) in [
        ("local", "dfx_test_key"),
        ("staging", "test_key_1"),
        ("ic", "key_1"),
    ] {
        assert!(
            network == "local" || dfx.networks.contains(&network.to_string()),
            "dfx.json defines no `{network}` network"
        );
        let (ok, lines) = deploy_commands(network);
        assert!(ok, "{network}: {lines:?}");
        let expected: Vec<String> = dfx
            .canisters
            .iter()
            .map(|c| {
                format!(
                    "deploy --network {network} {} --argument (record {{ ecdsa_key_name = \"{key}\" }})",
                    c.name
                )
            })
            .collect();
        assert_eq!(lines, expected, "{network}");
    }
    let (ok, lines) = deploy_commands("mainnet");
    assert!(!ok && lines.is_empty(), "an unknown network runs nothing");
}
