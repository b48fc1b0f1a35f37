//! Tests of the legacy registry routes, in the original's check order: fixtures here, the
//! routes' tests in the submodules.

use k256::ecdsa::SigningKey;
use serde_json::{Value, json};

use super::lookup::bearer_matches;
use super::signed::{Action, REPLAY_ERROR, RegistryMessage, TIMESTAMP_ERROR};
use super::*;
use crate::admin;
use crate::api::{ApiRequest, ApiResult};
use crate::endpoints::SecretName;
use crate::state::UsedNonce;

mod controller;
mod injection;
mod limits;
mod lookups;
mod register;
mod renew_update;

/// The time of the known vector; most tests register at this second.
const T0: u64 = 1_771_600_000;
const YEAR: u64 = 365 * 24 * 60 * 60;
const GRACE: u64 = 30 * 24 * 60 * 60;
const NONCE: &str = "abcdef0123456789";
const HARDHAT0_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const HARDHAT0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

fn at(secs: u64) -> Now {
    Now::from_secs(secs)
}

use crate::testing::{address_hex as address, key_from_seed as key, personal_sign as sign};

/// The message format written out independently of the code under test.
fn message(
    action: &str,
    label: &str,
    owner: &str,
    nonce: &str,
    ts: i64,
    cid: Option<&str>,
) -> String {
    let mut m = format!(
        "heaven-registry:v1\naction={action}\ntld=heaven\nlabel={label}\npkp={owner}\n\
         nonce={nonce}\nissued_at={ts}\nexpires_at={}",
        ts + 120
    );
    if let Some(cid) = cid {
        m.push_str(&format!("\nprofile_cid={cid}"));
    }
    m
}

fn nonce(n: u32) -> String {
    format!("nonce-{n:012}")
}

fn post(body: &Value) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        body: serde_json::to_vec(body).unwrap(),
        ..Default::default()
    }
}

fn ok_body(result: ApiResult) -> String {
    let response = result.unwrap_or_else(|e| panic!("expected 200, got {e}"));
    assert_eq!(response.status, 200);
    String::from_utf8(response.body).unwrap()
}

fn ok_json(result: ApiResult) -> Value {
    serde_json::from_str(&ok_body(result)).unwrap()
}

/// Asserts a `{success:false, error}` answer.
fn assert_failure(result: ApiResult, status: u16, message: &str) {
    let err = result.expect_err(message);
    assert_eq!(
        (err.status, err.body.as_str()),
        (
            status,
            format!(r#"{{"success":false,"error":"{message}"}}"#).as_str()
        )
    );
}

/// Asserts an `{error}` answer.
fn assert_error(result: ApiResult, status: u16, message: &str) {
    let err = result.expect_err(message);
    assert_eq!(
        (err.status, err.body.as_str()),
        (status, format!(r#"{{"error":"{message}"}}"#).as_str())
    );
}

fn register_body(key: &SigningKey, label: &str, cid: Option<&str>, nonce: &str, ts: u64) -> Value {
    let owner = address(key);
    let normalized = label.trim().to_lowercase();
    let msg = message(
        "register",
        &normalized,
        &owner,
        nonce,
        ts as i64,
        Some(cid.unwrap_or("")),
    );
    let mut body = json!({
        "label": label,
        "pkpAddress": owner,
        "signature": sign(key, &msg),
        "nonce": nonce,
        "timestamp": ts,
    });
    if let Some(cid) = cid {
        body["profileCid"] = json!(cid);
    }
    body
}

fn register_at(
    key: &SigningKey,
    label: &str,
    cid: Option<&str>,
    nonce: &str,
    secs: u64,
) -> ApiResult {
    register(
        &post(&register_body(key, label, cid, nonce, secs)),
        at(secs),
    )
}

fn renew_body(key: &SigningKey, label: &str, nonce: &str, ts: u64) -> Value {
    let msg = message("renew", label, &address(key), nonce, ts as i64, None);
    json!({"label": label, "signature": sign(key, &msg), "nonce": nonce, "timestamp": ts})
}

fn update_body(key: &SigningKey, label: &str, cid: Value, nonce: &str, ts: u64) -> Value {
    let signed = cid.as_str().unwrap_or("").to_string();
    let msg = message(
        "update",
        label,
        &address(key),
        nonce,
        ts as i64,
        Some(&signed),
    );
    json!({
        "label": label,
        "profileCid": cid,
        "signature": sign(key, &msg),
        "nonce": nonce,
        "timestamp": ts,
    })
}

fn event_count() -> u64 {
    state::with(|s| s.event_count())
}

fn stored(label: &str) -> Option<HeavenName> {
    state::with(|s| stored_name(s, label))
}

fn owner_index() -> Vec<String> {
    state::with(|s| s.names_by_owner().keys().collect())
}

fn dns(label: Option<&str>, tld: Option<&str>, auth: Option<&str>, now: Now) -> ApiResult {
    let mut query = Vec::new();
    if let Some(label) = label {
        query.push(("label".to_string(), label.to_string()));
    }
    if let Some(tld) = tld {
        query.push(("tld".to_string(), tld.to_string()));
    }
    let req = ApiRequest {
        method: "GET".into(),
        path: "/api/names/dns/resolve".into(),
        query,
        headers: auth
            .map(|a| vec![("authorization".to_string(), a.to_string())])
            .unwrap_or_default(),
        body: vec![],
    };
    dns_resolve(&req, now)
}

fn set_dns_secret(secret: Option<&str>, development: bool) {
    admin::set_secret(SecretName::DnsShared, secret.map(str::to_string), at(1));
    admin::set_access(development, vec![], at(1)).unwrap();
}
