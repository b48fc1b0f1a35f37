//! The escrow reads of `/session/join` (SessionEscrowV1 `getBooking` / `getSlot`, contract §7),
//! behind [`EscrowReads`]: [`RpcEscrow`] sends `eth_call`s to `RPC_URL` (reads only, no key),
//! [`MockEscrowReads`] answers the original's `ESCROW_MODE=mock` booking and slot, which are
//! the credits canister's [`credits_canister::chain::MockEscrow`] (one definition for both).
//! Every read answers `None` ("not found") when the node fails or answers something
//! undecodable, as the original's reads did.

use std::sync::Arc;

use async_trait::async_trait;
use credits_canister::chain::MockEscrow;
use heaven_eth::abi::{Booking, Slot, SolCall, getBookingCall, getSlotCall};
use heaven_eth::{Address, U256};

use crate::chain::EthReader;

use crate::state::Clock;

/// Where the escrow is read: `ESCROW_MODE` (else `SESSION_ESCROW_MODE`) `mock`, `RPC_URL`,
/// `ESCROW_ADDRESS`, `CHAIN_ID`, with the original's wrangler values as defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscrowConfig {
    /// Mock mode: every booking is the mock booking.
    pub mock: bool,
    /// JSON-RPC endpoint.
    pub rpc_url: String,
    /// SessionEscrowV1/V2 address (unparsable: every read is "not found").
    pub address: String,
    /// Chain id, part of the booked channel name.
    pub chain_id: u64,
}

impl Default for EscrowConfig {
    fn default() -> Self {
        let chain = credits_canister::state::ChainConfig::default();
        Self {
            mock: false,
            rpc_url: chain.rpc_url,
            address: chain.escrow,
            chain_id: chain.chain_id,
        }
    }
}

impl EscrowConfig {
    /// The reader this configuration names (`clock` places the mock slot).
    pub fn reads(&self, clock: Clock) -> Arc<dyn EscrowReads> {
        if self.mock {
            Arc::new(MockEscrowReads(clock))
        } else {
            Arc::new(RpcEscrow::new(&self.rpc_url, &self.address))
        }
    }
}

/// The escrow's view functions the booked sessions need.
#[async_trait]
pub trait EscrowReads: Send + Sync {
    /// `getBooking(id)`; `None` when its status is 0 (None) or the read failed.
    async fn booking(&self, booking_id: U256) -> Option<Booking>;
    /// `getSlot(id)`; `None` when its host is the zero address or the read failed.
    async fn slot(&self, slot_id: U256) -> Option<Slot>;
}

/// The original's mock escrow at the service clock's time.
pub struct MockEscrowReads(pub Clock);

#[async_trait]
impl EscrowReads for MockEscrowReads {
    async fn booking(&self, _booking_id: U256) -> Option<Booking> {
        Some(MockEscrow::booking())
    }

    async fn slot(&self, _slot_id: U256) -> Option<Slot> {
        Some(MockEscrow::slot(u64::try_from(self.0.now()).unwrap_or(0)))
    }
}

/// The live escrow over JSON-RPC `eth_call` at the latest block.
pub struct RpcEscrow {
    reader: EthReader,
    address: Option<Address>,
}

impl RpcEscrow {
    /// Reads `address` through `rpc_url`.
    pub fn new(rpc_url: &str, address: &str) -> Self {
        Self {
            reader: EthReader::new(rpc_url),
            address: heaven_eth::address::parse(address.trim()),
        }
    }

    async fn call<C: SolCall>(&self, call: C) -> Option<C::Return> {
        match self.reader.call(self.address?, call).await {
            Ok(decoded) => Some(decoded),
            Err(err) => {
                tracing::warn!(%err, "escrow read failed");
                None
            }
        }
    }
}

#[async_trait]
impl EscrowReads for RpcEscrow {
    async fn booking(&self, booking_id: U256) -> Option<Booking> {
        let booking = self
            .call(getBookingCall {
                bookingId: booking_id,
            })
            .await?;
        (booking.status != 0).then_some(booking)
    }

    async fn slot(&self, slot_id: U256) -> Option<Slot> {
        let slot = self.call(getSlotCall { slotId: slot_id }).await?;
        (slot.host != Address::ZERO).then_some(slot)
    }
}
