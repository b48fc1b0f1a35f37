//! The legacy gasless relay `/api/wallet/*` (api-core `routes/wallet.ts`, Base Sepolia): users
//! sign a `SetProfile` EIP-712 message or ask for a `.heaven` name, and the canister's relayer
//! key (threshold ECDSA, replacing `BASE_SEPOLIA_RELAY_PK`) sends the transaction and pays gas.
//!
//! The request checks live in [`profile`], transaction building, nonces and receipts in
//! [`relay`]. Deliberate differences from the original, all on paths that used to throw:
//! invalid JSON is a 400 (the original's uncaught exception made it a 500); a chain node that
//! cannot be reached on `nonce` / `domain` is a 503 and one answering with an error a 502 (the
//! original: 500 "Internal server error"); and a transaction not yet mined after a few receipt
//! polls is a 202 (a canister cannot sleep inside a call).

use canister_runtime::Runtime;
use heaven_eth::abi::{
    DOMAIN_SEPARATORCall, availableCall, noncesCall, registerForCall, setProfileWithSigCall,
};
use heaven_eth::rpc::BlockTag;
use heaven_eth::{Address, B256, U256, address, hex32};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now};
use crate::chain::{Chain, ChainError};
use crate::names::label::valid_relay_label;
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, WalletRelayConfig};

mod profile;
mod relay;
#[cfg(test)]
mod tests;

use relay::Receipt;

/// One successful `set-profile` per address per this many seconds.
pub const RATE_LIMIT_SECS: u64 = 60;
/// A `SetProfile` deadline must be later than now plus this many seconds.
pub const DEADLINE_MARGIN_SECS: u64 = 15;
/// Duration of a relayed `.heaven` registration (365 days).
pub const REGISTRATION_SECS: u64 = 365 * 24 * 60 * 60;
/// Grace after expiry the mirrored `heaven_names` row gets. The relay used 90 days where the
/// off-chain registry uses 30; kept as the original wrote it.
pub const GRACE_SECS: u64 = 90 * 24 * 60 * 60;
/// EIP-712 domain name and version of DatingProfileV3.
const DOMAIN_NAME: &str = "DatingProfileV3";
const DOMAIN_VERSION: &str = "1";

/// The relay's configuration with its contract addresses parsed.
struct Relay {
    config: WalletRelayConfig,
    dating_profile: Address,
    registrar: Address,
    heaven_node: B256,
}

impl Relay {
    /// The configured relay; a malformed address is a configuration error.
    fn load() -> Result<Self, ApiError> {
        let config = state::with_config(|c| c.wallet.clone());
        let bad = |what: &str| {
            canister_runtime::print(&format!(
                "wallet: invalid {what} in the relay configuration"
            ));
            config_error()
        };
        Ok(Self {
            dating_profile: address::parse(&config.dating_profile)
                .ok_or_else(|| bad("dating_profile"))?,
            registrar: address::parse(&config.registrar).ok_or_else(|| bad("registrar"))?,
            heaven_node: hex32::parse_b256(&config.heaven_node)
                .ok_or_else(|| bad("heaven_node"))?,
            config,
        })
    }

    /// The relay, when it may send transactions (the original's "relay key is set").
    fn enabled() -> Result<Self, ApiError> {
        let relay = Self::load()?;
        if !relay.config.enabled {
            canister_runtime::print("wallet: relay disabled (no relayer configured)");
            return Err(config_error());
        }
        Ok(relay)
    }

    fn chain<'a, R: Runtime>(&self, rt: &'a R) -> Chain<'a, R> {
        Chain::new(rt, self.config.rpc_url.clone())
    }
}

fn config_error() -> ApiError {
    ApiError::error(500, "Server configuration error")
}

/// What the original's framework answered for an exception nobody caught.
fn internal_error() -> ApiError {
    ApiError::error(500, "Internal server error")
}

/// A chain read that failed where the original let the exception escape (500): the node could
/// not be reached (503, retry) or answered with an error (502). Logged with the cause.
fn upstream_error(route: &str, e: ApiError) -> ApiError {
    canister_runtime::print(&format!("wallet {route}: {}", e.message()));
    if e.status == 503 {
        ApiError::error(503, "Chain RPC unavailable")
    } else {
        ApiError::error(502, "Chain RPC failed")
    }
}

/// Deliberate fix: the original let the JSON parser throw (500); a malformed body is the
/// client's mistake.
fn bad_json() -> ApiError {
    ApiError::error(400, "Invalid JSON body")
}

fn missing_fields() -> ApiError {
    ApiError::error(400, "Missing required fields")
}

/// `nonces(user)` of DatingProfileV3 at the pinned block (every replica reads the same block).
async fn profile_nonce<R: Runtime>(
    chain: &Chain<'_, R>,
    contract: Address,
    user: Address,
) -> Result<U256, ApiError> {
    let block = chain.pinned_block().await?;
    chain
        .call(contract, &noncesCall { user }, BlockTag::Number(block))
        .await
        .map_err(ApiError::from)
}

#[derive(Serialize)]
struct NonceBody {
    nonce: String,
}

/// GET /api/wallet/nonce?user=0x..: the user's next `SetProfile` nonce, in decimal.
pub async fn nonce<R: Runtime>(rt: &R, req: &ApiRequest) -> ApiResult {
    let user = req
        .query_param("user")
        .and_then(address::parse)
        .ok_or_else(|| ApiError::error(400, "Missing or invalid user address"))?;
    let relay = Relay::load()?;
    let nonce = profile_nonce(&relay.chain(rt), relay.dating_profile, user)
        .await
        .map_err(|e| upstream_error("nonce", e))?;
    Ok(ApiResponse::ok(&NonceBody {
        nonce: nonce.to_string(),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DomainFields {
    name: &'static str,
    version: &'static str,
    chain_id: u64,
    verifying_contract: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DomainBody {
    domain: DomainFields,
    domain_separator: String,
    contract: String,
    chain_id: u64,
}

/// GET /api/wallet/domain: the EIP-712 domain clients sign `SetProfile` under, and the
/// contract's own `DOMAIN_SEPARATOR()` to compare it with.
pub async fn domain<R: Runtime>(rt: &R) -> ApiResult {
    let relay = Relay::load()?;
    // A constant of the contract: any block answers the same, so no pinning is needed.
    let separator = relay
        .chain(rt)
        .call(
            relay.dating_profile,
            &DOMAIN_SEPARATORCall {},
            BlockTag::Latest,
        )
        .await
        .map_err(|e| upstream_error("domain", e.into()))?;
    let contract = address::to_checksum(&relay.dating_profile);
    Ok(ApiResponse::ok(&DomainBody {
        domain: DomainFields {
            name: DOMAIN_NAME,
            version: DOMAIN_VERSION,
            chain_id: relay.config.chain_id,
            verifying_contract: contract.clone(),
        },
        domain_separator: hex32::b256_hex(&separator),
        contract,
        chain_id: relay.config.chain_id,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileSet {
    success: bool,
    hash: String,
    block_number: String,
    nonce_used: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileReverted {
    error: &'static str,
    hash: String,
    nonce_used: String,
}

/// Our 202 for a `set-profile` transaction sent but not yet mined.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfilePending {
    success: bool,
    pending: bool,
    hash: String,
    nonce_used: String,
}

/// POST /api/wallet/set-profile: checks the user's `SetProfile` signature off-chain, then
/// relays `setProfileWithSig` and reports its receipt.
pub async fn set_profile<R: Runtime>(rt: &R, req: &ApiRequest, now: Now) -> ApiResult {
    let relay = Relay::enabled()?;
    let body: profile::ProfileBody = req.json(bad_json)?;
    let request = profile::ProfileRequest::parse(&body)?;
    request.check_deadline(now)?;
    let user_key = address::to_lower_hex(&request.user);
    check_rate_limit(&user_key, now)?;

    let chain = relay.chain(rt);
    let nonce = profile_nonce(&chain, relay.dating_profile, request.user)
        .await
        .map_err(|e| {
            canister_runtime::print(&format!("wallet set-profile: nonce read: {}", e.message()));
            ApiError::error(500, "Failed to verify nonce")
        })?;
    let authorised = request.verify(nonce, relay.config.chain_id, relay.dating_profile)?;

    let p = &authorised.profile;
    let call = setProfileWithSigCall {
        user: p.user,
        gender: p.gender,
        interestedMask: p.interestedMask,
        locationMode: p.locationMode,
        locationLat: p.locationLat,
        locationLng: p.locationLng,
        heightCm: p.heightCm,
        birthYear: p.birthYear,
        nationalityCode: p.nationalityCode,
        ethnicityMask: p.ethnicityMask,
        relationshipMode: p.relationshipMode,
        // No survey envelope during onboarding: empty bytes (signed as privateCidHash = 0).
        privateCid: Default::default(),
        deadline: p.deadline,
        sig: authorised.signature.into(),
    };
    let sent = relay::send(
        rt,
        &chain,
        &relay.config,
        relay.dating_profile,
        heaven_eth::abi::SolCall::abi_encode(&call),
        relay::Kind::SetProfile,
        now,
    )
    .await?;

    let hash = hex32::b256_hex(&sent);
    let nonce_used = nonce.to_string();
    match relay::wait_for_receipt(&chain, &sent).await {
        Receipt::Succeeded { block } => {
            record_profile_set(&user_key, now);
            Ok(ApiResponse::ok(&ProfileSet {
                success: true,
                hash,
                block_number: block.to_string(),
                nonce_used,
            }))
        }
        Receipt::Reverted => Err(ApiError::with_body(
            500,
            &ProfileReverted {
                error: "Transaction reverted",
                hash,
                nonce_used,
            },
        )),
        Receipt::Pending => {
            // The relayer has paid for it either way, so the rate limit counts it too.
            record_profile_set(&user_key, now);
            Ok(ApiResponse::json(
                202,
                &ProfilePending {
                    success: true,
                    pending: true,
                    hash,
                    nonce_used,
                },
            ))
        }
    }
}

/// 429 while the address's last successful relay is younger than [`RATE_LIMIT_SECS`].
fn check_rate_limit(user_key: &str, now: Now) -> Result<(), ApiError> {
    let Some(last) = state::with(|s| s.wallet_limits().get(&user_key.to_string())) else {
        return Ok(());
    };
    // Signed, as the original's arithmetic: a `last` in the future waits longer, not less.
    let elapsed = now.secs() as i64 - last as i64;
    let limit = RATE_LIMIT_SECS as i64;
    if elapsed < limit {
        return Err(ApiError::error(
            429,
            format!("Rate limited. Try again in {}s", limit - elapsed),
        ));
    }
    Ok(())
}

fn record_profile_set(user_key: &str, now: Now) {
    state::mutate(|s| {
        process_event(
            s,
            now,
            EventType::ProfileRelayCounted {
                user: user_key.to_string(),
            },
        )
    });
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NameRegistered<'a> {
    success: bool,
    hash: String,
    block_number: String,
    label: &'a str,
    full_name: String,
}

#[derive(Serialize)]
struct NameReverted {
    error: &'static str,
    hash: String,
}

/// Our 202 for a `register-name` transaction sent but not yet mined.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamePending<'a> {
    success: bool,
    pending: bool,
    hash: String,
    label: &'a str,
    full_name: String,
}

/// Body of `POST /api/wallet/register-name` (presence is JavaScript truthiness).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RegisterNameBody {
    user_address: Field,
    label: Field,
}

/// POST /api/wallet/register-name: relays `registerFor(heaven node, label, user, 1 year)` on
/// the subname registrar and mirrors the name into the legacy `heaven_names` table.
pub async fn register_name<R: Runtime>(rt: &R, req: &ApiRequest, now: Now) -> ApiResult {
    let relay = Relay::enabled()?;
    let body: RegisterNameBody = req.json(bad_json)?;
    if !body.user_address.is_truthy() || !body.label.is_truthy() {
        return Err(missing_fields());
    }
    let user = body
        .user_address
        .as_str()
        .and_then(address::parse)
        .ok_or_else(|| ApiError::error(400, "Invalid userAddress format"))?;
    // A non-string label (which the original let through to viem) is refused here.
    let label = body
        .label
        .as_str()
        .filter(|l| valid_relay_label(l))
        .ok_or_else(|| {
            ApiError::error(
                400,
                "Invalid label (3+ chars, lowercase alphanumeric + hyphen)",
            )
        })?;

    let chain = relay.chain(rt);
    let availability_failed =
        |e: ChainError| ApiError::error(500, format!("Availability check failed: {e}"));
    let block = chain.pinned_block().await.map_err(availability_failed)?;
    let available = chain
        .call(
            relay.registrar,
            &availableCall {
                parentNode: relay.heaven_node,
                label: label.to_string(),
            },
            BlockTag::Number(block),
        )
        .await
        .map_err(availability_failed)?;
    if !available {
        return Err(ApiError::error(409, "Name not available"));
    }

    let call = registerForCall {
        parentNode: relay.heaven_node,
        label: label.to_string(),
        to: user,
        duration: U256::from(REGISTRATION_SECS),
    };
    let sent = relay::send(
        rt,
        &chain,
        &relay.config,
        relay.registrar,
        heaven_eth::abi::SolCall::abi_encode(&call),
        relay::Kind::RegisterName,
        now,
    )
    .await?;

    let hash = hex32::b256_hex(&sent);
    let full_name = format!("{label}.heaven");
    match relay::wait_for_receipt(&chain, &sent).await {
        Receipt::Succeeded { block } => {
            mirror_name(label, &address::to_lower_hex(&user), now);
            Ok(ApiResponse::ok(&NameRegistered {
                success: true,
                hash,
                block_number: block.to_string(),
                label,
                full_name,
            }))
        }
        Receipt::Reverted => Err(ApiError::with_body(
            500,
            &NameReverted {
                error: "Transaction reverted",
                hash,
            },
        )),
        // Not mirrored: the registration may still revert. `/api/names/available` learns of
        // it when a later registration or sync writes the row.
        Receipt::Pending => Ok(ApiResponse::json(
            202,
            &NamePending {
                success: true,
                pending: true,
                hash,
                label,
                full_name,
            },
        )),
    }
}

/// Mirrors a relayed registration into the legacy `heaven_names` table (the original's
/// `INSERT .. ON CONFLICT(label) DO UPDATE`, see [`EventType::NameMirrored`]).
fn mirror_name(label: &str, owner: &str, now: Now) {
    let expires_at = now.secs() + REGISTRATION_SECS;
    state::mutate(|s| {
        process_event(
            s,
            now,
            EventType::NameMirrored {
                label: label.to_string(),
                owner: owner.to_string(),
                expires_at,
                grace_ends_at: expires_at + GRACE_SECS,
            },
        )
    });
}
