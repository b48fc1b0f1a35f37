//! What the store will charge for a label, read from the Tempo chain at one pinned block: an
//! enabled store listing, else the registry's price (refused for reserved and premium labels,
//! which need a listing); and, for short names, how many the nullifier bought already.

use canister_runtime::Runtime;
use heaven_eth::U256;
use heaven_eth::abi::{
    isReservedCall, premiumPriceForLabelCall, priceCall, quoteCall, shortPurchasesByNullifierCall,
};
use heaven_eth::rpc::BlockTag;

use super::config::Policy;
use crate::api::ApiError;
use crate::chain::Chain;
use crate::primitives::Bytes32;

/// The price and duration the store will charge.
pub(super) struct Quote {
    pub price: U256,
    pub duration: U256,
    pub listing_enabled: bool,
}

/// The quote for `label` under `parent_node` for `requested_duration` seconds.
pub(super) async fn resolve<R: Runtime>(
    chain: &Chain<'_, R>,
    policy: &Policy,
    parent_node: Bytes32,
    label: &str,
    requested_duration: u64,
    block: BlockTag,
) -> Result<Quote, ApiError> {
    let parent_node = parent_node.b256();
    let listing_required = || ApiError::error(409, "Name requires an explicit store listing");
    let listing = chain
        .call(
            policy.store.eth(),
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
            policy.registry.eth(),
            &isReservedCall {
                parentNode: parent_node,
                label: label.to_string(),
            },
            block,
        )
        .await?;
    let premium = chain
        .call(
            policy.registry.eth(),
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
            policy.registry.eth(),
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

/// Short names `nullifier` bought so far (the store's lifetime count).
pub(super) async fn short_purchases<R: Runtime>(
    chain: &Chain<'_, R>,
    policy: &Policy,
    nullifier: Bytes32,
    block: BlockTag,
) -> Result<u16, ApiError> {
    chain
        .call(
            policy.store.eth(),
            &shortPurchasesByNullifierCall {
                nullifierHash: nullifier.b256(),
            },
            block,
        )
        .await
        .map_err(ApiError::from)
}
