//! `GET /api/names/policy/signer` (ours, not in the original): the address that must be the
//! store's `policySigner`, with the key name, derivation path, chain and store it signs for.

use canister_runtime::Runtime;
use serde::Serialize;

use crate::api::{ApiResponse, ApiResult};
use crate::primitives::Address;
use crate::signer::{self, Role};
use crate::state;

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

/// The answer from the cached key; `None` when the key is not cached yet (a query cannot
/// fetch it).
pub fn signer_info_cached() -> Option<ApiResponse> {
    signer::cached_address(Role::PolicySigner).map(|a| signer_response(a.into()))
}

/// The answer, fetching the key if needed.
pub async fn signer_info<R: Runtime>(rt: &R) -> ApiResult {
    Ok(signer_response(
        signer::address(rt, Role::PolicySigner).await?.into(),
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
        address: address.checksum(),
        ecdsa_key_name: key,
        derivation_path: String::from_utf8_lossy(&Role::PolicySigner.derivation_path()[0])
            .into_owned(),
        chain_id,
        store,
    })
}
