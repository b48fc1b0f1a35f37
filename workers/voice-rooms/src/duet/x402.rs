//! x402 as the original spoke it (contract §8, §4.3): the PAYMENT-SIGNATURE decoding, the
//! `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE` headers (standard base64 of JSON text), and the
//! facilitator in its two modes — `mock` (checks the claims inside the signature) and `self`
//! (one `POST <base>/settle` with the bearer token). Failures carry the original's reason
//! codes, which the routes answer as 402 `{"error": reason}`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};

use super::body::Body;

/// `maxTimeoutSeconds` of every requirement.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// `X402_FACILITATOR_MODE` and the `self` facilitator's address and token.
#[derive(Clone, PartialEq, Eq)]
pub struct FacilitatorConfig {
    /// `mock` (default when unset), `self`, or anything else (every settlement then fails
    /// with `unsupported_facilitator_mode`, as the original).
    pub mode: String,
    /// `PAYMENT_FACILITATOR_BASE_URL`, else `X402_FACILITATOR_BASE_URL` (trimmed, trailing
    /// slashes removed; empty when neither is set).
    pub base_url: String,
    /// `X402_FACILITATOR_AUTH_TOKEN` (trimmed).
    pub auth_token: Option<String>,
    /// Timeout of the settle call (new: the original set none). `X402_SETTLE_TIMEOUT_MS`,
    /// default 30 000.
    pub timeout: Duration,
    /// How long a request waits for another process's settlement of the same signature
    /// before answering 409 `payment_settlement_in_progress`. `X402_PENDING_WAIT_MS`, default
    /// 30 000.
    pub pending_wait: Duration,
    /// `X402_CHAIN_RPC_URL`: a JSON-RPC node of the payment network, read (EIP-3009
    /// `authorizationState`) to reconcile a settlement whose answer was lost (new; unset: no
    /// reconciliation).
    pub chain_rpc_url: Option<String>,
}

impl std::fmt::Debug for FacilitatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacilitatorConfig")
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .field("auth_token", &self.auth_token.as_ref().map(|_| ".."))
            .field("timeout", &self.timeout)
            .field("pending_wait", &self.pending_wait)
            .field("chain_rpc_url", &self.chain_rpc_url)
            .finish()
    }
}

impl FacilitatorConfig {
    /// Reads the variables.
    pub fn from_env(env: &http_common::EnvSource) -> Result<Self, http_common::ConfigError> {
        let base = env
            .optional("PAYMENT_FACILITATOR_BASE_URL")
            .filter(|v| !v.is_empty())
            .or_else(|| env.optional("X402_FACILITATOR_BASE_URL"))
            .unwrap_or_default();
        Ok(Self {
            mode: env
                .optional("X402_FACILITATOR_MODE")
                .unwrap_or_else(|| "mock".to_owned()),
            base_url: base.trim().trim_end_matches('/').to_owned(),
            auth_token: env
                .optional("X402_FACILITATOR_AUTH_TOKEN")
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            timeout: Duration::from_millis(env.positive_or("X402_SETTLE_TIMEOUT_MS", 30_000)?),
            pending_wait: Duration::from_millis(env.positive_or("X402_PENDING_WAIT_MS", 30_000)?),
            chain_rpc_url: env
                .optional("X402_CHAIN_RPC_URL")
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty()),
        })
    }
}

/// What is being paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Network.
    pub network: String,
    /// Asset.
    pub asset: String,
    /// Base units.
    pub amount: String,
    /// Payee.
    pub pay_to: String,
    /// Resource path.
    pub resource: String,
}

/// A settled payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// `mock` or `self`.
    pub facilitator: &'static str,
    /// The payer the facilitator names (lowercase).
    pub payer: Option<String>,
    /// The transaction.
    pub transaction_hash: Option<String>,
}

/// Decodes a PAYMENT-SIGNATURE: base64 JSON (URL-safe alphabet and missing padding
/// tolerated), else raw JSON.
pub fn decode_signature(raw: &str) -> Option<Value> {
    let normalized: String = raw
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let pad = normalized.len() % 4;
    let padded = if pad == 0 {
        normalized
    } else {
        format!("{normalized}{}", "=".repeat(4 - pad))
    };
    STANDARD
        .decode(padded.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .or_else(|| serde_json::from_str(raw).ok())
}

/// The EIP-3009 `TransferWithAuthorization` inside an `exact` EVM payment (`payload.
/// authorization` of the decoded PAYMENT-SIGNATURE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The payer.
    pub from: heaven_eth::Address,
    /// The payee.
    pub to: heaven_eth::Address,
    /// Base units.
    pub value: heaven_eth::U256,
    /// The authorization's 32-byte nonce.
    pub nonce: heaven_eth::B256,
}

/// The authorization of `raw`, when it carries a well-formed one.
pub fn authorization(raw: &str) -> Option<Authorization> {
    let decoded = decode_signature(raw)?;
    let auth = decoded.get("payload")?.get("authorization")?;
    let text = |key: &str| auth.get(key).and_then(Value::as_str).map(str::trim);
    let address = |key: &str| text(key).and_then(heaven_eth::address::parse);
    let value = match auth.get("value")? {
        Value::String(v) => v.trim().parse::<heaven_eth::U256>().ok()?,
        Value::Number(n) => heaven_eth::U256::from(n.as_u64()?),
        _ => return None,
    };
    Some(Authorization {
        from: address("from")?,
        to: address("to")?,
        value,
        nonce: text("nonce")?.parse().ok()?,
    })
}

/// Whether `auth` was used on the payment network, as a payment of `req` (payee and amount
/// must match it): `None` when that cannot be told (no node configured, the node failing, an
/// asset that is not an address, or an authorization for another payee or amount).
pub async fn authorization_used(
    config: &FacilitatorConfig,
    req: &Requirement,
    auth: &Authorization,
) -> Option<bool> {
    let rpc = config.chain_rpc_url.as_deref()?;
    let asset = heaven_eth::address::parse(req.asset.trim())?;
    let pay_to = heaven_eth::address::parse(req.pay_to.trim())?;
    let amount: heaven_eth::U256 = req.amount.parse().ok()?;
    if auth.to != pay_to || auth.value != amount {
        return None;
    }
    let call = heaven_eth::abi::authorizationStateCall {
        authorizer: auth.from,
        nonce: auth.nonce,
    };
    match crate::chain::EthReader::new(rpc).call(asset, call).await {
        Ok(used) => Some(used),
        Err(err) => {
            tracing::warn!(%err, "x402 authorization state unreadable");
            None
        }
    }
}

/// Standard base64 of the JSON text.
pub fn base64_json(text: &str) -> String {
    STANDARD.encode(text.as_bytes())
}

/// The `PAYMENT-REQUIRED` payload (§4.3).
pub fn payment_required(req: &Requirement, extensions: Option<String>) -> String {
    let accept = Body::new()
        .field("scheme", "exact")
        .field("network", &req.network)
        .field("asset", &req.asset)
        .field("amount", &req.amount)
        .field("payTo", &req.pay_to)
        .field("maxTimeoutSeconds", MAX_TIMEOUT_SECONDS)
        .raw("extra", extra())
        .finish();
    let mut body = Body::new()
        .field("x402Version", 2)
        .raw("accepts", format!("[{accept}]"))
        .field("resource", &req.resource);
    if let Some(ext) = extensions {
        body = body.raw("extensions", ext);
    }
    body.finish()
}

fn extra() -> String {
    Body::new()
        .field("assetTransferMethod", "eip3009")
        .field("name", "USDC")
        .field("version", "2")
        .finish()
}

/// The `PAYMENT-RESPONSE` payload (§4.3).
pub fn payment_response(
    idempotent: bool,
    entitlement: &str,
    expires_at: Option<i64>,
    facilitator: &str,
    transaction_hash: Option<&str>,
) -> String {
    Body::new()
        .field("settled", true)
        .field("idempotent", idempotent)
        .field("entitlement", entitlement)
        .field("expires_at", expires_at)
        .field("facilitator", facilitator)
        .opt("transaction_hash", transaction_hash)
        .finish()
}

/// The original's resource comparison: a full URL is reduced to its path, else a leading `/`
/// is ensured; the query is kept.
pub fn normalize_resource(resource: &str) -> String {
    if resource.contains("://")
        && let Ok(url) = reqwest::Url::parse(resource)
    {
        return url.path().to_owned();
    }
    if resource.starts_with('/') {
        resource.to_owned()
    } else {
        format!("/{resource}")
    }
}

/// Settles `raw` (the header as received) for `req` with the configured facilitator.
pub async fn settle(
    config: &FacilitatorConfig,
    http: &reqwest::Client,
    raw: &str,
    req: &Requirement,
) -> Result<Settled, String> {
    match config.mode.as_str() {
        "mock" => settle_mock(raw, req),
        "self" => settle_self(config, http, raw, req).await,
        _ => Err("unsupported_facilitator_mode".to_owned()),
    }
}

fn settle_mock(raw: &str, req: &Requirement) -> Result<Settled, String> {
    let format = || "invalid_payment_signature_format".to_owned();
    let decoded = decode_signature(raw)
        .filter(Value::is_object)
        .ok_or_else(format)?;
    let claims = decoded
        .get("claims")
        .filter(|c| c.is_object())
        .unwrap_or(&decoded);
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| claims.get(*k).filter(|v| !v.is_null()))
            .map(|v| v.as_str().map(str::to_owned))
    };
    let network = text(&["network"]).flatten().ok_or_else(format)?;
    let asset = text(&["asset"]).flatten().ok_or_else(format)?;
    let amount = text(&["amount"]).flatten().ok_or_else(format)?;
    let pay_to = text(&["payTo", "pay_to", "recipient"])
        .flatten()
        .ok_or_else(format)?;
    let wallet = text(&["wallet", "payer", "from"]).flatten();
    let resource = claims.get("resource").and_then(Value::as_str);
    if network != req.network {
        return Err("payment_network_mismatch".into());
    }
    if !asset.eq_ignore_ascii_case(&req.asset) {
        return Err("payment_asset_mismatch".into());
    }
    if amount != req.amount {
        return Err("payment_amount_mismatch".into());
    }
    if !pay_to.eq_ignore_ascii_case(&req.pay_to) {
        return Err("payment_payto_mismatch".into());
    }
    if let Some(resource) = resource.filter(|r| !r.is_empty())
        && normalize_resource(resource) != normalize_resource(&req.resource)
    {
        return Err("payment_resource_mismatch".into());
    }
    Ok(Settled {
        facilitator: "mock",
        payer: wallet.map(|w| w.to_lowercase()),
        transaction_hash: None,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettleRequest<'a> {
    x402_version: u8,
    payment_payload: &'a Value,
    payment_requirements: Value,
}

fn first_string<'a>(values: impl IntoIterator<Item = Option<&'a Value>>) -> Option<String> {
    values
        .into_iter()
        .flatten()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
}

fn facilitator_error(payload: &Value) -> Option<String> {
    let e = payload.get("error");
    first_string([
        e.and_then(|e| e.get("code")),
        e.and_then(|e| e.get("message")),
        e,
        payload.get("errorReason"),
        payload.get("errorMessage"),
        payload.get("invalidReason"),
        payload.get("invalidMessage"),
        payload.get("message"),
        payload.get("reason"),
    ])
}

fn explicit_success(payload: &Value) -> bool {
    if !payload.is_object() {
        return false;
    }
    if payload.get("success") == Some(&Value::Bool(true))
        || payload.get("settled") == Some(&Value::Bool(true))
    {
        return true;
    }
    first_string([
        payload.get("status"),
        payload.get("result"),
        payload.get("state"),
    ])
    .is_some_and(|s| matches!(s.to_lowercase().as_str(), "settled" | "success" | "paid"))
}

async fn settle_self(
    config: &FacilitatorConfig,
    http: &reqwest::Client,
    raw: &str,
    req: &Requirement,
) -> Result<Settled, String> {
    let payload = decode_signature(raw).ok_or("invalid_payment_signature_format")?;
    if config.base_url.is_empty() {
        return Err("facilitator_base_url_not_configured".into());
    }
    let token = config
        .auth_token
        .as_deref()
        .ok_or("facilitator_auth_not_configured")?;
    let body = SettleRequest {
        x402_version: 2,
        payment_payload: &payload,
        payment_requirements: json!({
            "scheme": "exact",
            "network": req.network,
            "asset": req.asset,
            "payTo": req.pay_to,
            "resource": req.resource,
            "amount": req.amount,
            "maxAmountRequired": req.amount,
            "maxTimeoutSeconds": MAX_TIMEOUT_SECONDS,
            "extra": {"assetTransferMethod": "eip3009", "name": "USDC", "version": "2"},
        }),
    };
    let response = http
        .post(format!("{}/settle", config.base_url))
        .bearer_auth(token)
        .timeout(config.timeout)
        .json(&body)
        .send()
        .await
        .map_err(|err| {
            tracing::warn!(%err, "x402 facilitator unreachable");
            "facilitator_unreachable".to_owned()
        })?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let reason = facilitator_error(&answer)
            .unwrap_or_else(|| format!("facilitator_http_{}", status.as_u16()));
        tracing::warn!(status = status.as_u16(), %reason, "x402 settlement refused");
        return Err(reason);
    }
    if !explicit_success(&answer) {
        return Err(facilitator_error(&answer)
            .unwrap_or_else(|| "payment_settlement_not_explicitly_confirmed".to_owned()));
    }
    let inner = answer.get("paymentPayload");
    let payer = first_string([
        answer.get("payer"),
        answer.get("from"),
        inner.and_then(|p| p.get("payer")),
        inner.and_then(|p| p.get("from")),
        inner.and_then(|p| p.get("wallet")),
    ]);
    let transaction_hash = first_string([
        answer.get("transactionHash"),
        answer.get("transaction_hash"),
        answer.get("txHash"),
        answer.get("tx_hash"),
        answer.get("transaction"),
        answer.get("receipt").and_then(|r| r.get("transactionHash")),
    ]);
    Ok(Settled {
        facilitator: "self",
        payer: payer.map(|p| p.to_lowercase()),
        transaction_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_decode_from_base64_url_safe_unpadded_or_raw_json() {
        let json = r#"{"a":"??>"}"#;
        let b64 = STANDARD.encode(json);
        let url_safe = b64.replace('+', "-").replace('/', "_").replace('=', "");
        assert_eq!(decode_signature(&b64).unwrap()["a"], "??>");
        assert_eq!(decode_signature(&url_safe).unwrap()["a"], "??>");
        assert_eq!(decode_signature(json).unwrap()["a"], "??>");
        assert_eq!(decode_signature("%%%"), None);
    }

    #[test]
    fn resources_compare_by_path_with_the_query_kept() {
        assert_eq!(
            normalize_resource("https://x.org/duet/a/enter?q=1"),
            "/duet/a/enter"
        );
        assert_eq!(
            normalize_resource("duet/a?segment_id=s"),
            "/duet/a?segment_id=s"
        );
    }

    #[test]
    fn success_must_be_explicit() {
        assert!(explicit_success(&json!({"success": true})));
        assert!(explicit_success(&json!({"status": "PAID"})));
        assert!(!explicit_success(&json!({"ok": true})));
        assert_eq!(
            facilitator_error(&json!({"error": {"code": "c", "message": "m"}})),
            Some("c".into())
        );
        assert_eq!(facilitator_error(&json!({"error": "e"})), Some("e".into()));
    }
}
