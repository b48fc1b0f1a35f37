//! Shared pieces of the bridge's tests: a worker identity as PEM, a harness serving real
//! canister wasm over the IC HTTP interface, and a [`CanisterAgent`] connected to it through
//! the production configuration path (`ICP_NETWORK=local`, so the root key is fetched).

#![allow(dead_code)]

pub mod scenarios;

use std::time::Duration;

use candid::{Encode, Principal};
use canister_bridge::{BridgeConfig, CanisterAgent, Network, PemSource};
use credits_canister::endpoints::CallError;
use credits_canister::lifecycle::InitArg;
use ic_wasm_harness::ic_http::IcHttpServer;
use ic_wasm_harness::{Harness, Scenario, canister_wasm};
use k256::pkcs8::LineEnding;

/// A secp256k1 key as the SEC1 PEM `openssl ecparam -genkey` writes.
pub fn worker_pem(seed: u8) -> String {
    let secret = k256::SecretKey::from_slice(&[seed; 32]).expect("a valid scalar");
    secret.to_sec1_pem(LineEnding::LF).expect("pem").to_string()
}

/// The principal of [`worker_pem`]`(seed)`.
pub fn worker_principal(seed: u8) -> Principal {
    use k256::pkcs8::EncodePublicKey;
    let secret = k256::SecretKey::from_slice(&[seed; 32]).unwrap();
    let der = secret.public_key().to_public_key_der().unwrap();
    Principal::self_authenticating(der.as_bytes())
}

/// The bridge configuration of a local network at `url` with identity `seed`.
pub fn local_config(url: String, seed: u8, timeout: Duration) -> BridgeConfig {
    BridgeConfig {
        url,
        network: Network::Local,
        identity: PemSource::Inline(worker_pem(seed)),
        credits_canister: None,
        identity_canister: None,
        call_timeout: timeout,
    }
}

/// Connects through [`CanisterAgent::connect`] (fetches the harness's root key).
pub async fn connect(url: String, seed: u8) -> CanisterAgent {
    CanisterAgent::connect(&local_config(url, seed, Duration::from_secs(10)))
        .await
        .expect("connects to the harness")
}

/// Installs the shipped credits wasm on `s` (key `dfx_test_key`) with `workers` as its workers.
pub fn install_credits(s: &mut dyn Scenario, workers: &[Principal]) -> Principal {
    let wasm = canister_wasm("credits").unwrap_or_else(|e| panic!("{e}"));
    let c = s
        .install(
            &wasm,
            Encode!(&InitArg {
                ecdsa_key_name: "dfx_test_key".into()
            })
            .unwrap(),
        )
        .unwrap();
    let list: Vec<String> = workers.iter().map(Principal::to_text).collect();
    let reply = s
        .update_raw(
            c,
            Harness::controller(),
            "set_workers",
            Encode!(&list).unwrap(),
        )
        .unwrap();
    let set = candid::decode_one::<Result<(), CallError>>(&reply).unwrap();
    assert_eq!(set, Ok(()));
    c
}

/// A harness following the wall clock with the shipped credits wasm, `workers` listed as its
/// workers.
pub fn credits_harness(workers: &[Principal]) -> (Harness, Principal) {
    let mut harness = Harness::at_wall_clock();
    let c = install_credits(&mut harness, workers);
    (harness, c)
}

/// Installs the shipped identity wasm on `s` (key `dfx_test_key`).
pub fn install_identity(s: &mut dyn Scenario) -> Principal {
    let wasm = canister_wasm("identity").unwrap_or_else(|e| panic!("{e}"));
    let arg = identity_canister::lifecycle::InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    };
    s.install(&wasm, Encode!(&arg).unwrap()).unwrap()
}

/// A harness following the wall clock with the shipped identity wasm installed (key
/// `dfx_test_key`).
pub fn identity_harness() -> (Harness, Principal) {
    let mut harness = Harness::at_wall_clock();
    let c = install_identity(&mut harness);
    (harness, c)
}

/// Grants `seconds` to `wallet` as the controller.
pub fn grant(s: &mut dyn Scenario, c: Principal, wallet: &str, seconds: u64) {
    let reply = s
        .update_raw(
            c,
            Harness::controller(),
            "grant_credits",
            Encode!(&wallet, &seconds).unwrap(),
        )
        .unwrap();
    let granted =
        candid::decode_one::<Result<credits_canister::api::CreditBalance, CallError>>(&reply)
            .unwrap();
    assert!(granted.is_ok(), "{granted:?}");
}

/// Serves `harness` on 127.0.0.1.
pub async fn serve(harness: Harness) -> IcHttpServer {
    IcHttpServer::start(harness).await.expect("binds")
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
