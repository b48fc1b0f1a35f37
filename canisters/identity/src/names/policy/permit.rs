//! `POST /api/names/permit`, in named stages that follow the original's check order:
//! [`PermitRequest::parse`] (fields), [`check_limits`] (the short-name credential or the
//! long-name rate limits), [`quote`] (chain reads at one pinned block), [`accept`] (short-name
//! terms, the proof of work, the buyer's `maxPrice`), [`commit`] (everything re-checked and
//! recorded in one synchronous step), [`sign`] (the NamePermit, by the threshold key) and
//! [`answer`].

use canister_runtime::Runtime;
use heaven_eth::abi::{SolCall, buyWithPermitCall};
use heaven_eth::eip712::NamePermit;
use heaven_eth::rpc::BlockTag;
use heaven_eth::{B256, U256};
use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::Policy;
use super::identity::short_name_nullifier;
use super::quote::{self, Quote};
use super::{
    ONE_YEAR_SECONDS, PAYMENT_TOKEN, RATE_LIMIT_WINDOW_SECONDS, SHORT_NAME_CAP, SHORT_NAME_MAX_LEN,
    bad_json, count_since,
};
use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now, Rng};
use crate::chain::Chain;
use crate::names::{label, pow};
use crate::primitives::{Address, Bytes32};
use crate::secret::sha256_hex;
use crate::signer::{self, Role};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, Cbor, State, keys};

/// Body of `POST /api/names/permit`, as sent.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PermitBody {
    label: Field,
    tld: Field,
    wallet: Field,
    /// Defaults to the wallet when falsy (JavaScript `||`).
    recipient: Field,
    /// A JSON integer (`Number.isInteger`); absent or `null` is one year.
    duration_seconds: Field,
    /// A decimal string; anything else that is not a string is refused.
    max_price: Field,
    challenge_id: Field,
    pow_nonce: Field,
    /// Ours (docs/adr/0010-permit-wallet-limit.md): the wallet's EIP-191 signature of
    /// [`proof_message`], so the request counts toward the wallet's own limit.
    wallet_signature: Field,
}

/// Who a permit request counts against for its wallet's limit.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requester {
    /// The wallet itself: it signed the request.
    Wallet,
    /// Someone unproven: `ip:<ip hash>`, `device:<id>` or `anonymous`.
    Client(String),
}

impl Requester {
    /// The event's `requester` (`None` for the wallet itself).
    fn key(&self) -> Option<&str> {
        match self {
            Self::Wallet => None,
            Self::Client(key) => Some(key),
        }
    }
}

/// The text a wallet signs (EIP-191) to ask for a long-name permit itself: bound to the
/// challenge, which is single-use, so the signature cannot be replayed.
pub fn proof_message(wallet: &str, challenge_id: &str) -> String {
    format!("heaven-names-permit:v1\nwallet={wallet}\nchallenge_id={challenge_id}")
}

/// Which policy a label falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PolicyType {
    /// ≤ 5 characters: a Self-verified wallet, a paid quote, a lifetime cap.
    ShortSelf,
    /// Longer: a solved proof of work within the rate limits.
    LongPow,
}

impl PolicyType {
    fn of(label: &str) -> Self {
        if label.len() <= SHORT_NAME_MAX_LEN {
            Self::ShortSelf
        } else {
            Self::LongPow
        }
    }

    /// The NamePermit's `policyType`.
    fn code(self) -> u8 {
        match self {
            Self::ShortSelf => 0,
            Self::LongPow => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::ShortSelf => "SHORT_SELF",
            Self::LongPow => "LONG_POW",
        }
    }
}

/// Stage 1: the request's fields, validated and typed.
struct PermitRequest {
    label: String,
    label_hash: Bytes32,
    wallet: Address,
    recipient: Address,
    parent_node: Bytes32,
    duration: u64,
    max_price: Option<U256>,
    challenge_id: String,
    pow_nonce: String,
    device_id: Option<String>,
    ip_hash: Option<String>,
    policy: PolicyType,
    requester: Requester,
}

impl PermitRequest {
    fn parse(req: &ApiRequest, policy: &Policy, client_ip: Option<&str>) -> Result<Self, ApiError> {
        let body: PermitBody = req.json(bad_json)?;
        let label = body.label.as_str().and_then(label::normalize_policy);
        let wallet = body.wallet.as_str().and_then(Address::parse_normalized);
        let recipient = if body.recipient.is_truthy() {
            body.recipient.as_str().and_then(Address::parse_normalized)
        } else {
            wallet
        };
        let parent_node = policy.parent_node(body.tld.as_str().unwrap_or(""));
        let label = label.ok_or_else(|| ApiError::error(400, "Invalid label format"))?;
        let wallet = wallet.ok_or_else(|| ApiError::error(400, "Invalid wallet address"))?;
        let recipient =
            recipient.ok_or_else(|| ApiError::error(400, "Invalid recipient address"))?;
        let parent_node = parent_node.ok_or_else(|| ApiError::error(400, "Unsupported TLD"))?;
        let duration = if body.duration_seconds.is_nullish() {
            Some(ONE_YEAR_SECONDS as i64)
        } else {
            body.duration_seconds.integer()
        };
        let duration = duration
            .filter(|d| *d >= ONE_YEAR_SECONDS as i64)
            .ok_or_else(|| {
                ApiError::error(
                    400,
                    format!("durationSeconds must be >= {ONE_YEAR_SECONDS}"),
                )
            })? as u64;
        let max_price = match body.max_price.value() {
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
        let device_id = req
            .header("x-device-id")
            .map(|d| d.trim().chars().take(128).collect::<String>())
            .filter(|d| !d.is_empty());
        let ip_hash = client_ip
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
            .map(sha256_hex);
        let policy_type = PolicyType::of(&label);
        let challenge_id = body.challenge_id.trimmed().to_string();
        let requester = if policy_type == PolicyType::LongPow && body.wallet_signature.is_truthy() {
            let message = proof_message(&wallet.lower_hex(), &challenge_id);
            let signer = body
                .wallet_signature
                .as_str()
                .and_then(|sig| heaven_eth::eip191::recover(&message, sig).ok());
            if signer.map(Address::from) != Some(wallet) {
                return Err(ApiError::error(401, "Invalid wallet signature"));
            }
            Requester::Wallet
        } else if let Some(ip) = &ip_hash {
            Requester::Client(format!("ip:{ip}"))
        } else if let Some(device) = &device_id {
            Requester::Client(format!("device:{device}"))
        } else {
            Requester::Client("anonymous".into())
        };
        Ok(Self {
            label_hash: Bytes32::label_hash(&label),
            policy: policy_type,
            requester,
            label,
            wallet,
            recipient,
            parent_node,
            duration,
            max_price,
            challenge_id,
            pow_nonce: body.pow_nonce.trimmed().to_string(),
            device_id,
            ip_hash,
        })
    }
}

/// What stage 2 let through: the short-name credential, or a long name within its limits.
#[derive(Clone, Copy)]
enum Admission {
    Short { nullifier: Bytes32 },
    Long,
}

impl Admission {
    fn nullifier(self) -> Option<Bytes32> {
        match self {
            Self::Short { nullifier } => Some(nullifier),
            Self::Long => None,
        }
    }
}

/// Stage 2: a short name needs the wallet's Self credential; a long one must be within the
/// sliding-window limits.
fn check_limits(request: &PermitRequest, now: Now) -> Result<Admission, ApiError> {
    state::with(|s| match request.policy {
        PolicyType::ShortSelf => Ok(Admission::Short {
            nullifier: short_name_nullifier(s, request.wallet)?,
        }),
        PolicyType::LongPow => {
            check_rate_limits(s, request, now)?;
            Ok(Admission::Long)
        }
    })
}

/// The long-name limits, checked against the window ending at `now`.
fn check_rate_limits(s: &State, req: &PermitRequest, now: Now) -> Result<(), ApiError> {
    let config = &s.config().names_policy;
    let since = now.secs().saturating_sub(RATE_LIMIT_WINDOW_SECONDS);
    let (kind, bucket) = keys::wallet_window(&req.wallet.lower_hex(), req.requester.key());
    if count_since(s, kind, &bucket, since) >= u64::from(config.wallet_limit_10m) {
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

/// What stage 3 read from the chain, with the credential stage 2 found.
struct Terms {
    quote: Quote,
    /// The short-name credential (short names only).
    nullifier: Option<Bytes32>,
    /// Short names the nullifier bought already (short names only).
    short_purchases: Option<u16>,
}

/// Stage 3: the quote, and for a short name the nullifier's purchases, at one pinned block.
async fn quote<R: Runtime>(
    rt: &R,
    policy: &Policy,
    request: &PermitRequest,
    admission: Admission,
) -> Result<Terms, ApiError> {
    let chain = Chain::new(rt, policy.rpc_url.clone());
    let quote_failed = |e: ApiError| {
        if e.status == 409 {
            return e;
        }
        canister_runtime::print(&format!("names permit: quote failed: {}", e.message()));
        ApiError::error(500, "Failed to resolve quote")
    };
    let block = BlockTag::Number(
        chain
            .pinned_block()
            .await
            .map_err(|e| quote_failed(e.into()))?,
    );
    let quote = quote::resolve(
        &chain,
        policy,
        request.parent_node,
        &request.label,
        request.duration,
        block,
    )
    .await
    .map_err(quote_failed)?;
    let short_purchases = match admission {
        Admission::Short { nullifier } => {
            if quote.price.is_zero() {
                return Err(ApiError::error(
                    409,
                    "Short names must be paid/listed; resolved quote is zero",
                ));
            }
            let used = quote::short_purchases(&chain, policy, nullifier, block)
                .await
                .map_err(|e| {
                    canister_runtime::print(&format!(
                        "names permit: short-name count failed: {}",
                        e.message()
                    ));
                    ApiError::error(500, "Failed to resolve short-name purchases")
                })?;
            Some(used)
        }
        Admission::Long => None,
    };
    Ok(Terms {
        quote,
        nullifier: admission.nullifier(),
        short_purchases,
    })
}

/// Stage 4: the short name is under its cap, or the long name's proof of work holds; the
/// buyer's `maxPrice` covers the quote. Returns the permit's `maxPrice`.
fn accept(request: &PermitRequest, terms: &Terms, now: Now) -> Result<U256, ApiError> {
    match terms.short_purchases {
        Some(used) if used >= SHORT_NAME_CAP => {
            return Err(ApiError::error(
                409,
                format!("Short-name cap reached ({SHORT_NAME_CAP} lifetime)"),
            ));
        }
        Some(_) => {}
        None => {
            if request.challenge_id.is_empty() || request.pow_nonce.is_empty() {
                return Err(ApiError::error(
                    400,
                    "challengeId and powNonce are required for labels with length >= 6",
                ));
            }
            state::with(|s| check_pow(s, request, now))?;
        }
    }
    let max_price = request.max_price.unwrap_or(terms.quote.price);
    if max_price < terms.quote.price {
        return Err(ApiError::error(400, "maxPrice is below required quote"));
    }
    Ok(max_price)
}

/// Checks the challenge without consuming it.
fn check_pow(s: &State, req: &PermitRequest, now: Now) -> Result<(), ApiError> {
    let Some(Cbor(c)) = s.pow_challenges().get(&req.challenge_id) else {
        return Err(ApiError::error(404, "PoW challenge not found"));
    };
    if c.wallet != req.wallet.lower_hex()
        || c.label_hash != req.label_hash.hex()
        || c.parent_node != req.parent_node.hex()
    {
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

/// Stage 5: everything re-checked and recorded in one synchronous step (other requests may
/// have run during the chain reads): the challenge is consumed and the permit counted.
fn commit(request: &PermitRequest, now: Now) -> Result<(), ApiError> {
    state::mutate(|s| {
        let long = request.policy == PolicyType::LongPow;
        if long {
            check_rate_limits(s, request, now)?;
            check_pow(s, request, now)?;
            let challenge_id = request.challenge_id.clone();
            process_event(s, now, EventType::PowChallengeConsumed { challenge_id });
        }
        process_event(
            s,
            now,
            EventType::PermitIssued {
                wallet: request.wallet.lower_hex(),
                label_hash: request.label_hash.hex(),
                policy_type: request.policy.code(),
                ip_hash: request.ip_hash.clone().filter(|_| long),
                device_id: request.device_id.clone().filter(|_| long),
                requester: request.requester.key().map(str::to_string),
            },
        );
        Ok(())
    })
}

/// A NamePermit and its threshold signature.
struct SignedPermit {
    permit: NamePermit,
    signature: [u8; 65],
}

/// Stage 6: the NamePermit, signed by the policy key (which must be the configured signer).
async fn sign<R: Runtime>(
    rt: &R,
    policy: &Policy,
    request: &PermitRequest,
    terms: &Terms,
    max_price: U256,
    now: Now,
    rng: &mut Rng,
) -> Result<SignedPermit, ApiError> {
    let signer_address = Address::from(signer::address(rt, Role::PolicySigner).await?);
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
    let permit = NamePermit {
        buyer: request.wallet.eth(),
        recipient: request.recipient.eth(),
        parentNode: request.parent_node.b256(),
        labelHash: request.label_hash.b256(),
        duration: terms.quote.duration,
        maxPrice: max_price,
        policyType: request.policy.code(),
        nullifierHash: terms.nullifier.map_or(B256::ZERO, Bytes32::b256),
        nonce: U256::from_be_bytes(nonce),
        deadline: U256::from(now.secs() + policy.config.permit_ttl_seconds),
    };
    let digest =
        heaven_eth::eip712::name_permit_digest(&permit, policy.chain_id, policy.store.eth());
    let signature = signer::sign(rt, Role::PolicySigner, digest).await?;
    Ok(SignedPermit { permit, signature })
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

/// Stage 7: the original's answer, with the `buyWithPermit` calldata.
fn answer(
    policy: &Policy,
    request: &PermitRequest,
    terms: &Terms,
    signed: &SignedPermit,
) -> ApiResponse {
    let SignedPermit { permit, signature } = signed;
    let calldata = buyWithPermitCall {
        label: request.label.clone(),
        permit: permit.clone(),
        signature: signature.to_vec().into(),
    }
    .abi_encode();
    let short = request.policy == PolicyType::ShortSelf;
    ApiResponse::ok(&PermitResponse {
        permit: PermitJson {
            buyer: request.wallet.checksum(),
            recipient: request.recipient.checksum(),
            parent_node: request.parent_node.hex(),
            label_hash: request.label_hash.hex(),
            duration: permit.duration.to_string(),
            max_price: permit.maxPrice.to_string(),
            policy_type: request.policy.code(),
            nullifier_hash: Bytes32::from(permit.nullifierHash).hex(),
            nonce: permit.nonce.to_string(),
            deadline: permit.deadline.to_string(),
        },
        signature: heaven_eth::signature::to_hex(signature),
        policy: request.policy.name(),
        nullifier_source: short.then_some("self"),
        quote: QuoteJson {
            price: terms.quote.price.to_string(),
            duration_seconds: terms.quote.duration.to_string(),
            listing_enabled: terms.quote.listing_enabled,
            payment_token: PAYMENT_TOKEN,
        },
        tx: TxJson {
            to: policy.store_as_configured.clone(),
            data: heaven_eth::abi::hex0x(&calldata),
        },
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
    let request = PermitRequest::parse(req, &policy, client_ip)?;
    let admission = check_limits(&request, now)?;
    let terms = quote(rt, &policy, &request, admission).await?;
    let max_price = accept(&request, &terms, now)?;
    commit(&request, now)?;
    let signed = sign(rt, &policy, &request, &terms, max_price, now, rng).await?;
    Ok(answer(&policy, &request, &terms, &signed))
}
