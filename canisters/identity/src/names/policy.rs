//! The names policy: `POST /api/names/challenge` hands out proof-of-work challenges and
//! `POST /api/names/permit` issues NamePermits for the on-chain Tempo names store, signed with
//! the canister's threshold-ECDSA policy key instead of `TEMPO_POLICY_SIGNER_PRIVATE_KEY`.
//!
//! Short labels (≤ 5 chars) need a Self-verified wallet (nullifier) and a paid quote under the
//! lifetime cap; long labels need a solved challenge and stay under the per-wallet, per-IP and
//! per-device limits of a sliding 10-minute window.
//!
//! Differences from the original, on purpose: a body that is not JSON (or fields of the wrong
//! JSON type) get a 400 instead of a 500; the challenge is only burned once the permit is
//! actually issued (the original burned it before the `maxPrice` check); the rate limits and
//! the challenge are re-checked atomically after the chain reads, so concurrent requests
//! cannot overshoot them.

use canister_runtime::Runtime;
use heaven_eth::abi::{
    SolCall, buyWithPermitCall, isReservedCall, premiumPriceForLabelCall, priceCall, quoteCall,
    shortPurchasesByNullifierCall,
};
use heaven_eth::eip712::NamePermit;
use heaven_eth::rpc::BlockTag;
use heaven_eth::{Address, B256, U256};
use rand_chacha::rand_core::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Now, Rng, field};
use crate::chain::Chain;
use crate::events::EventKind;
use crate::names::{label, pow};
use crate::signer::{self, Role};
use crate::state::{self, Cbor, IdentityRecord, NamesPolicyConfig, PowChallenge, State};

/// Labels up to this length are short names (SHORT_SELF).
pub const SHORT_NAME_MAX_LEN: usize = 5;
/// Lifetime short-name purchases per nullifier.
pub const SHORT_NAME_CAP: u16 = 3;
/// Minimum permit duration (and the default).
pub const ONE_YEAR_SECONDS: u64 = 365 * 24 * 60 * 60;
/// The sliding window of the long-name rate limits.
pub const RATE_LIMIT_WINDOW_SECONDS: u64 = 10 * 60;
/// AlphaUSD, the token the store is paid in (reported in quotes).
pub const PAYMENT_TOKEN: &str = "0x20C0000000000000000000000000000000000001";
/// Expired challenges are kept this long after expiry (for late "expired" answers), then swept.
pub const CHALLENGE_RETENTION_SECONDS: u64 = 3600;

const POLICY_SHORT_SELF: u8 = 0;
const POLICY_LONG_POW: u8 = 1;

/// Validated policy settings (the original validated its env on every call, with these
/// messages as 500s).
struct Policy {
    rpc_url: String,
    chain_id: u64,
    registry: Address,
    store: Address,
    store_as_configured: String,
    primary_node: String,
    secondary_node: String,
    expected_signer: Option<Address>,
    config: NamesPolicyConfig,
}

fn is_bytes32(s: &str) -> bool {
    s.len() == 66 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl Policy {
    fn load() -> Result<Self, ApiError> {
        let config = state::with_config(|c| c.names_policy.clone());
        let fail = |m: &str| ApiError::error(500, m);
        let rpc_url = config.rpc_url.trim().to_string();
        if rpc_url.is_empty() {
            return Err(fail("Missing TEMPO_RPC_URL"));
        }
        let registry = heaven_eth::address::parse(config.registry.trim())
            .ok_or_else(|| fail("Invalid TEMPO_NAME_REGISTRY_V2"))?;
        let store_as_configured = config.store.clone().unwrap_or_default().trim().to_string();
        let store = heaven_eth::address::parse(&store_as_configured)
            .ok_or_else(|| fail("Missing or invalid TEMPO_PREMIUM_NAME_STORE_V2"))?;
        let primary_node = config.primary_node.trim().to_lowercase();
        if !is_bytes32(&primary_node) {
            return Err(fail(
                "Invalid NAMES_PRIMARY_NODE (or TEMPO_HEAVEN_NODE fallback)",
            ));
        }
        let secondary_node = config.secondary_node.trim().to_lowercase();
        if !is_bytes32(&secondary_node) {
            return Err(fail(
                "Invalid NAMES_SECONDARY_NODE (or TEMPO_PIRATE_NODE fallback)",
            ));
        }
        let expected_signer = match config.expected_signer.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(
                heaven_eth::address::parse(s)
                    .ok_or_else(|| fail("Invalid TEMPO_POLICY_SIGNER_ADDRESS"))?,
            ),
        };
        Ok(Self {
            rpc_url,
            chain_id: config.chain_id,
            registry,
            store,
            store_as_configured,
            primary_node,
            secondary_node,
            expected_signer,
            config,
        })
    }

    fn parent_node(&self, tld: &str) -> Option<&str> {
        match tld.trim().to_lowercase().as_str() {
            "heaven" => Some(&self.primary_node),
            "pirate" => Some(&self.secondary_node),
            _ => None,
        }
    }
}

/// Checks a controller-supplied policy configuration with the same rules as every request.
pub fn validate_config(config: &NamesPolicyConfig) -> Result<(), String> {
    let within = |v: u64, lo: u64, hi: u64, name: &str| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(format!("{name} must be within {lo}..={hi}"))
        }
    };
    within(config.chain_id, 1, 100_000_000, "chain_id")?;
    within(u64::from(config.pow_difficulty), 1, 12, "pow_difficulty")?;
    within(config.pow_ttl_seconds, 30, 3600, "pow_ttl_seconds")?;
    within(config.permit_ttl_seconds, 30, 3600, "permit_ttl_seconds")?;
    within(
        u64::from(config.wallet_limit_10m),
        1,
        300,
        "wallet_limit_10m",
    )?;
    within(u64::from(config.ip_limit_10m), 1, 1000, "ip_limit_10m")?;
    within(
        u64::from(config.device_limit_10m),
        1,
        500,
        "device_limit_10m",
    )?;
    if !config.rpc_url.starts_with("https://") && !config.rpc_url.starts_with("http://") {
        return Err("rpc_url must be an http(s) URL".into());
    }
    if let Some(store) = &config.store
        && heaven_eth::address::parse(store.trim()).is_none()
    {
        return Err("store must be a 0x address".into());
    }
    Ok(())
}

fn normalize_address(value: Option<&Value>) -> Option<String> {
    let s = value?.as_str()?.trim().to_lowercase();
    heaven_eth::address::parse(&s).map(|_| s)
}

fn label_hash(label: &str) -> String {
    heaven_eth::hex32::b256_hex(&heaven_eth::keccak256(label.as_bytes()))
}

fn random_hex(rng: &mut Rng, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn bad_json() -> ApiError {
    // The original let the JSON parser throw (500); a malformed body is the client's error.
    ApiError::error(400, "Invalid JSON body")
}

/// Answer of `POST /api/names/challenge`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeResponse {
    challenge_id: String,
    challenge: String,
    difficulty: u32,
    expires_at: u64,
    algorithm: &'static str,
    format: &'static str,
}

/// `POST /api/names/challenge`.
pub fn challenge(req: &ApiRequest, now: Now, rng: &mut Rng) -> ApiResult {
    let policy = Policy::load()?;
    let body = req.json_object(bad_json)?;
    let wallet = normalize_address(body.get("wallet"));
    let label = field::str(&body, "label").and_then(label::normalize_policy);
    let parent_node = policy.parent_node(field::str(&body, "tld").unwrap_or(""));
    let Some(wallet) = wallet else {
        return Err(ApiError::error(400, "Invalid wallet address"));
    };
    let Some(label) = label else {
        return Err(ApiError::error(400, "Invalid label format"));
    };
    let Some(parent_node) = parent_node.map(str::to_string) else {
        return Err(ApiError::error(400, "Unsupported TLD"));
    };
    if label.len() <= SHORT_NAME_MAX_LEN {
        return Err(ApiError::error(
            400,
            "PoW challenge is only required for labels with length >= 6",
        ));
    }
    let challenge_id = random_hex(rng, 16);
    let challenge = random_hex(rng, 32);
    let difficulty = pow::difficulty(policy.config.pow_difficulty, label.len());
    let expires_at = now.secs() + policy.config.pow_ttl_seconds;
    let record = PowChallenge {
        wallet: wallet.clone(),
        label_hash: label_hash(&label),
        parent_node,
        challenge: challenge.clone(),
        difficulty,
        expires_at,
        consumed_at: None,
        created_at: now.secs(),
    };
    state::with_mut(|s| {
        s.pow_challenges.insert(challenge_id.clone(), Cbor(record));
        s.record(
            now.ns,
            EventKind::PowChallengeIssued {
                challenge_id: challenge_id.clone(),
                wallet,
            },
        );
    });
    Ok(ApiResponse::ok(&ChallengeResponse {
        challenge_id,
        challenge,
        difficulty,
        expires_at,
        algorithm: "keccak256",
        format: "keccak256(\"<challenge>:<powNonce>\") must have leading zero hex nibbles",
    }))
}

/// The request fields of `POST /api/names/permit`, validated.
struct PermitRequest {
    label: String,
    wallet: String,
    recipient: String,
    parent_node: String,
    duration: u64,
    max_price: Option<U256>,
    challenge_id: String,
    pow_nonce: String,
    device_id: Option<String>,
    ip_hash: Option<String>,
}

impl PermitRequest {
    fn parse(
        body: &Map<String, Value>,
        policy: &Policy,
        req: &ApiRequest,
        client_ip: Option<&str>,
    ) -> Result<Self, ApiError> {
        let label = field::str(body, "label").and_then(label::normalize_policy);
        let wallet = normalize_address(body.get("wallet"));
        let recipient = if field::truthy(body, "recipient") {
            normalize_address(body.get("recipient"))
        } else {
            normalize_address(body.get("wallet"))
        };
        let parent_node = policy.parent_node(field::str(body, "tld").unwrap_or(""));
        let label = label.ok_or_else(|| ApiError::error(400, "Invalid label format"))?;
        let wallet = wallet.ok_or_else(|| ApiError::error(400, "Invalid wallet address"))?;
        let recipient =
            recipient.ok_or_else(|| ApiError::error(400, "Invalid recipient address"))?;
        let parent_node = parent_node
            .ok_or_else(|| ApiError::error(400, "Unsupported TLD"))?
            .to_string();
        let duration = match body.get("durationSeconds") {
            None | Some(Value::Null) => Some(ONE_YEAR_SECONDS as i64),
            Some(_) => field::integer(body, "durationSeconds"),
        };
        let duration = duration
            .filter(|d| *d >= ONE_YEAR_SECONDS as i64)
            .ok_or_else(|| {
                ApiError::error(
                    400,
                    format!("durationSeconds must be >= {ONE_YEAR_SECONDS}"),
                )
            })? as u64;
        let max_price = match body.get("maxPrice") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    Some(
                        U256::from_str_radix(s, 10)
                            .map_err(|_| ApiError::error(400, "maxPrice must fit in uint256"))?,
                    )
                } else {
                    None
                }
            }
            // The original called `.trim()` on it and crashed into a 500.
            Some(_) => return Err(ApiError::error(400, "maxPrice must be a decimal string")),
        };
        let trimmed = |name: &str| field::str(body, name).unwrap_or("").trim().to_string();
        let device_id = req
            .header("x-device-id")
            .map(|d| d.trim().chars().take(128).collect::<String>())
            .filter(|d| !d.is_empty());
        let ip_hash = client_ip
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
            .map(|ip| hex::encode(Sha256::digest(ip.as_bytes())));
        Ok(Self {
            label,
            wallet,
            recipient,
            parent_node,
            duration,
            max_price,
            challenge_id: trimmed("challengeId"),
            pow_nonce: trimmed("powNonce"),
            device_id,
            ip_hash,
        })
    }

    fn policy_type(&self) -> u8 {
        if self.label.len() <= SHORT_NAME_MAX_LEN {
            POLICY_SHORT_SELF
        } else {
            POLICY_LONG_POW
        }
    }
}

/// The price and duration the store will charge.
struct Quote {
    price: U256,
    duration: U256,
    listing_enabled: bool,
}

async fn resolve_quote<R: Runtime>(
    chain: &Chain<'_, R>,
    policy: &Policy,
    parent_node: B256,
    label: &str,
    requested_duration: u64,
    block: BlockTag,
) -> Result<Quote, ApiError> {
    let listing_required = || ApiError::error(409, "Name requires an explicit store listing");
    let listing = chain
        .call(
            policy.store,
            &quoteCall {
                parentNode: parent_node,
                label: label.to_string(),
            },
            block,
        )
        .await?;
    if listing.enabled {
        if listing.duration.is_zero() {
            return Err(ApiError::error(502, "store listing has a zero duration"));
        }
        return Ok(Quote {
            price: listing.price,
            duration: listing.duration,
            listing_enabled: true,
        });
    }
    let reserved = chain
        .call(
            policy.registry,
            &isReservedCall {
                parentNode: parent_node,
                label: label.to_string(),
            },
            block,
        )
        .await?;
    let premium = chain
        .call(
            policy.registry,
            &premiumPriceForLabelCall {
                parentNode: parent_node,
                label: label.to_string(),
            },
            block,
        )
        .await?;
    if reserved || !premium.is_zero() {
        return Err(listing_required());
    }
    let price = chain
        .call(
            policy.registry,
            &priceCall {
                parentNode: parent_node,
                label: label.to_string(),
                duration: U256::from(requested_duration),
            },
            block,
        )
        .await?;
    Ok(Quote {
        price,
        duration: U256::from(requested_duration),
        listing_enabled: false,
    })
}

fn window_key(kind: char, value: &str, at: u64, seq: u64) -> String {
    format!("{kind}|{value}|{at:020}|{seq:020}")
}

fn count_since(s: &State, kind: char, value: &str, since: u64) -> u64 {
    let prefix = format!("{kind}|{value}|");
    let start = format!("{prefix}{since:020}");
    s.permit_windows
        .keys_range(start..)
        .take_while(|k| k.starts_with(&prefix))
        .count() as u64
}

/// The long-name limits, checked against the window ending at `now`.
fn check_rate_limits(s: &State, req: &PermitRequest, now: Now) -> Result<(), ApiError> {
    let config = &s.config().names_policy;
    let since = now.secs().saturating_sub(RATE_LIMIT_WINDOW_SECONDS);
    if count_since(s, 'w', &req.wallet, since) >= u64::from(config.wallet_limit_10m) {
        return Err(ApiError::error(429, "Rate limited: wallet limit exceeded"));
    }
    if let Some(ip) = &req.ip_hash
        && count_since(s, 'i', ip, since) >= u64::from(config.ip_limit_10m)
    {
        return Err(ApiError::error(429, "Rate limited: IP limit exceeded"));
    }
    if let Some(device) = &req.device_id
        && count_since(s, 'd', device, since) >= u64::from(config.device_limit_10m)
    {
        return Err(ApiError::error(429, "Rate limited: device limit exceeded"));
    }
    Ok(())
}

/// Checks the challenge without consuming it.
fn check_pow(s: &State, req: &PermitRequest, label_hash: &str, now: Now) -> Result<(), ApiError> {
    let Some(Cbor(c)) = s.pow_challenges.get(&req.challenge_id) else {
        return Err(ApiError::error(404, "PoW challenge not found"));
    };
    if c.wallet != req.wallet || c.label_hash != label_hash || c.parent_node != req.parent_node {
        return Err(ApiError::error(
            400,
            "PoW challenge does not match this request",
        ));
    }
    if c.consumed_at.is_some() {
        return Err(ApiError::error(409, "PoW challenge already used"));
    }
    if c.expires_at < now.secs() {
        return Err(ApiError::error(410, "PoW challenge expired"));
    }
    if !pow::satisfies(&c.challenge, &req.pow_nonce, c.difficulty) {
        return Err(ApiError::error(403, "Invalid PoW nonce for challenge"));
    }
    Ok(())
}

/// The short-name credential of `wallet`.
fn short_name_nullifier(s: &State, wallet: &str) -> Result<B256, ApiError> {
    let Some(Cbor(identity)) = s.identities.get(&wallet.to_string()) else {
        return Err(ApiError::error(
            403,
            "Short names (5 characters or less) require one-time Self verification. Open Verify Identity, complete it, then try again.",
        ));
    };
    identity
        .nullifier_hash
        .as_deref()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| is_bytes32(n))
        .and_then(|n| heaven_eth::hex32::parse_b256(&n))
        .ok_or_else(|| {
            ApiError::error(
                403,
                "This wallet has an older verification record without a short-name credential. Run Self verification once to refresh, then try again.",
            )
        })
}

/// `POST /api/names/permit`. `client_ip` is the caller's IP when a trusted edge vouched for it
/// (docs/adr/0003-client-ip-for-rate-limits.md); without it the per-IP limit cannot apply.
pub async fn permit<R: Runtime>(
    rt: &R,
    req: &ApiRequest,
    now: Now,
    client_ip: Option<&str>,
    rng: &mut Rng,
) -> ApiResult {
    let policy = Policy::load()?;
    let body = req.json_object(bad_json)?;
    let request = PermitRequest::parse(&body, &policy, req, client_ip)?;
    let policy_type = request.policy_type();
    let label_hash = label_hash(&request.label);

    let nullifier = if policy_type == POLICY_SHORT_SELF {
        Some(state::with(|s| short_name_nullifier(s, &request.wallet))?)
    } else {
        state::with(|s| check_rate_limits(s, &request, now))?;
        None
    };

    let chain = Chain::new(rt, policy.rpc_url.clone());
    let parent_node =
        heaven_eth::hex32::parse_b256(&request.parent_node).expect("validated bytes32");
    let quote_failed = |e: ApiError| {
        if e.status == 409 {
            return e;
        }
        crate::log(&format!("names permit: quote failed: {}", e.message()));
        ApiError::error(500, "Failed to resolve quote")
    };
    let block = BlockTag::Number(chain.pinned_block().await.map_err(quote_failed)?);
    let quote = resolve_quote(
        &chain,
        &policy,
        parent_node,
        &request.label,
        request.duration,
        block,
    )
    .await
    .map_err(quote_failed)?;

    if let Some(nullifier) = nullifier {
        if quote.price.is_zero() {
            return Err(ApiError::error(
                409,
                "Short names must be paid/listed; resolved quote is zero",
            ));
        }
        let used = chain
            .call(
                policy.store,
                &shortPurchasesByNullifierCall {
                    nullifierHash: nullifier,
                },
                block,
            )
            .await
            .map_err(|e| {
                crate::log(&format!(
                    "names permit: short-name count failed: {}",
                    e.message()
                ));
                ApiError::error(500, "Failed to resolve short-name purchases")
            })?;
        if used >= SHORT_NAME_CAP {
            return Err(ApiError::error(
                409,
                format!("Short-name cap reached ({SHORT_NAME_CAP} lifetime)"),
            ));
        }
    } else {
        if request.challenge_id.is_empty() || request.pow_nonce.is_empty() {
            return Err(ApiError::error(
                400,
                "challengeId and powNonce are required for labels with length >= 6",
            ));
        }
        state::with(|s| check_pow(s, &request, &label_hash, now))?;
    }

    let max_price = request.max_price.unwrap_or(quote.price);
    if max_price < quote.price {
        return Err(ApiError::error(400, "maxPrice is below required quote"));
    }

    // Commit: everything re-checked and written in one synchronous step (other requests may
    // have run during the chain reads).
    state::with_mut(|s| {
        if policy_type == POLICY_LONG_POW {
            check_rate_limits(s, &request, now)?;
            check_pow(s, &request, &label_hash, now)?;
            if let Some(Cbor(mut c)) = s.pow_challenges.get(&request.challenge_id) {
                c.consumed_at = Some(now.secs());
                s.pow_challenges
                    .insert(request.challenge_id.clone(), Cbor(c));
                s.record(
                    now.ns,
                    EventKind::PowChallengeConsumed {
                        challenge_id: request.challenge_id.clone(),
                    },
                );
            }
        }
        let seq = s.next_seq("permit_issuance");
        let at = now.secs();
        s.permit_windows
            .insert(window_key('w', &request.wallet, at, seq), ());
        if policy_type == POLICY_LONG_POW {
            if let Some(ip) = &request.ip_hash {
                s.permit_windows.insert(window_key('i', ip, at, seq), ());
            }
            if let Some(device) = &request.device_id {
                s.permit_windows
                    .insert(window_key('d', device, at, seq), ());
            }
        }
        s.record(
            now.ns,
            EventKind::PermitIssued {
                wallet: request.wallet.clone(),
                label_hash: label_hash.clone(),
                policy_type,
            },
        );
        Ok::<(), ApiError>(())
    })?;

    let signer_address = signer::address(rt, Role::PolicySigner).await?;
    if let Some(expected) = policy.expected_signer
        && expected != signer_address
    {
        return Err(ApiError::error(
            500,
            "Policy signer private key does not match TEMPO_POLICY_SIGNER_ADDRESS",
        ));
    }

    let mut nonce = [0u8; 32];
    rng.fill_bytes(&mut nonce);
    let buyer = heaven_eth::address::parse(&request.wallet).expect("validated address");
    let recipient = heaven_eth::address::parse(&request.recipient).expect("validated address");
    let permit = NamePermit {
        buyer,
        recipient,
        parentNode: parent_node,
        labelHash: heaven_eth::keccak256(request.label.as_bytes()),
        duration: quote.duration,
        maxPrice: max_price,
        policyType: policy_type,
        nullifierHash: nullifier.unwrap_or(B256::ZERO),
        nonce: U256::from_be_bytes(nonce),
        deadline: U256::from(now.secs() + policy.config.permit_ttl_seconds),
    };
    let digest = heaven_eth::eip712::name_permit_digest(&permit, policy.chain_id, policy.store);
    let signature = signer::sign(rt, Role::PolicySigner, digest).await?;
    let calldata = buyWithPermitCall {
        label: request.label.clone(),
        permit: permit.clone(),
        signature: signature.to_vec().into(),
    }
    .abi_encode();

    Ok(ApiResponse::ok(&PermitResponse {
        permit: PermitJson {
            buyer: heaven_eth::address::to_checksum(&permit.buyer),
            recipient: heaven_eth::address::to_checksum(&permit.recipient),
            parent_node: request.parent_node.clone(),
            label_hash,
            duration: permit.duration.to_string(),
            max_price: permit.maxPrice.to_string(),
            policy_type,
            nullifier_hash: heaven_eth::hex32::b256_hex(&permit.nullifierHash),
            nonce: permit.nonce.to_string(),
            deadline: permit.deadline.to_string(),
        },
        signature: heaven_eth::signature::to_hex(&signature),
        policy: if policy_type == POLICY_SHORT_SELF {
            "SHORT_SELF"
        } else {
            "LONG_POW"
        },
        nullifier_source: nullifier.map(|_| "self"),
        quote: QuoteJson {
            price: quote.price.to_string(),
            duration_seconds: quote.duration.to_string(),
            listing_enabled: quote.listing_enabled,
            payment_token: PAYMENT_TOKEN,
        },
        tx: TxJson {
            to: policy.store_as_configured.clone(),
            data: heaven_eth::abi::hex0x(&calldata),
        },
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermitResponse {
    permit: PermitJson,
    signature: String,
    policy: &'static str,
    nullifier_source: Option<&'static str>,
    quote: QuoteJson,
    tx: TxJson,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermitJson {
    buyer: String,
    recipient: String,
    parent_node: String,
    label_hash: String,
    duration: String,
    max_price: String,
    policy_type: u8,
    nullifier_hash: String,
    nonce: String,
    deadline: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuoteJson {
    price: String,
    duration_seconds: String,
    listing_enabled: bool,
    payment_token: &'static str,
}

#[derive(Serialize)]
struct TxJson {
    to: String,
    data: String,
}

/// Answer of `GET /api/names/policy/signer`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignerResponse {
    address: String,
    ecdsa_key_name: String,
    derivation_path: String,
    chain_id: u64,
    store: Option<String>,
}

/// `GET /api/names/policy/signer` (ours, not in the original): the address that must be the
/// store's `policySigner`. `None` when the key is not cached yet (a query cannot fetch it).
pub fn signer_info_cached() -> Option<ApiResponse> {
    signer::cached_address(Role::PolicySigner).map(signer_response)
}

/// `GET /api/names/policy/signer`, fetching the key if needed.
pub async fn signer_info<R: Runtime>(rt: &R) -> ApiResult {
    Ok(signer_response(
        signer::address(rt, Role::PolicySigner).await?,
    ))
}

fn signer_response(address: Address) -> ApiResponse {
    let (key, chain_id, store) = state::with_config(|c| {
        (
            c.ecdsa_key_name.clone(),
            c.names_policy.chain_id,
            c.names_policy.store.clone(),
        )
    });
    ApiResponse::ok(&SignerResponse {
        address: heaven_eth::address::to_checksum(&address),
        ecdsa_key_name: key,
        derivation_path: String::from_utf8_lossy(&Role::PolicySigner.derivation_path()[0])
            .into_owned(),
        chain_id,
        store,
    })
}

/// Controller/migration import of the Self identity the short-name policy reads.
pub fn upsert_identity(record: IdentityRecord, now: Now) -> Result<(), String> {
    let address = record.address.trim().to_lowercase();
    if heaven_eth::address::parse(&address).is_none() {
        return Err(format!("invalid address {:?}", record.address));
    }
    if let Some(n) = &record.nullifier_hash
        && !is_bytes32(&n.trim().to_lowercase())
    {
        return Err(format!("invalid nullifier hash for {address}"));
    }
    state::with_mut(|s| {
        s.identities.insert(
            address.clone(),
            Cbor(IdentityRecord {
                address: address.clone(),
                ..record
            }),
        );
        s.record(now.ns, EventKind::IdentityUpserted { address });
    });
    Ok(())
}

/// Expiry sweep: drops challenges past their retention and window keys older than the window.
/// Returns (challenges, window keys) removed.
pub fn sweep(now: Now) -> (u64, u64) {
    state::with_mut(|s| {
        let stale_challenges: Vec<String> = s
            .pow_challenges
            .iter()
            .filter(|e| e.value().0.expires_at + CHALLENGE_RETENTION_SECONDS < now.secs())
            .map(|e| e.key().clone())
            .collect();
        for id in &stale_challenges {
            s.pow_challenges.remove(id);
        }
        let cutoff = now.secs().saturating_sub(RATE_LIMIT_WINDOW_SECONDS);
        let stale_windows: Vec<String> = s
            .permit_windows
            .keys()
            .filter(|k| {
                k.split('|')
                    .nth(2)
                    .and_then(|at| at.parse::<u64>().ok())
                    .is_some_and(|at| at < cutoff)
            })
            .collect();
        for k in &stale_windows {
            s.permit_windows.remove(k);
        }
        let removed = (stale_challenges.len() as u64, stale_windows.len() as u64);
        if removed != (0, 0) {
            s.record(
                now.ns,
                EventKind::Swept {
                    challenges: removed.0,
                    permit_windows: removed.1,
                },
            );
        }
        removed
    })
}

#[cfg(test)]
mod tests;
