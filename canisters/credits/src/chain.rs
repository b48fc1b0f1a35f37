//! What the credits canister needs from the chain, as a trait: the logic (grants, attestation)
//! is written against [`ChainReads`], implemented over JSON-RPC outcalls for the live chain
//! and by [`MockEscrow`] for the original's `ESCROW_MODE=mock`.

use heaven_eth::abi::{Booking, Slot};
use heaven_eth::{Address, B256, U256};

use crate::wallet::Wallet;

/// Booking status `Booked` (the escrow's enum).
pub const BOOKING_BOOKED: u8 = 1;

/// The chain facts the canister reads. Every read answers "not found" / `false` when the node
/// fails or answers something undecodable, as the original's reads did.
#[allow(async_fn_in_trait)]
pub trait ChainReads {
    /// Whether `wallet` has a non-empty primary name on the registry.
    async fn has_primary_name(&self, wallet: &Wallet) -> bool;
    /// Whether the verification mirror's `verifiedAt(wallet)` is above zero.
    async fn is_verified(&self, wallet: &Wallet) -> bool;
    /// The booking `booking_id` (`None` when its status is 0 or the read failed).
    async fn booking(&self, booking_id: U256) -> Option<Booking>;
    /// The slot `slot_id` (`None` when its host is zero or the read failed).
    async fn slot(&self, slot_id: U256) -> Option<Slot>;
}

/// The original's mock escrow: every booking is booked by guest `0x…0001` for slot 1, hosted by
/// `0x…dEaD`, starting a minute before `now`, 30 minutes long, grace 5, overlap 10.
#[derive(Clone, Copy, Debug)]
pub struct MockEscrow {
    /// The time the mock's slot is placed around (Unix seconds).
    pub now: u64,
}

impl MockEscrow {
    /// The mock host.
    pub fn host() -> Address {
        let mut bytes = [0u8; 20];
        bytes[18] = 0xde;
        bytes[19] = 0xad;
        Address::from(bytes)
    }

    /// The mock guest.
    pub fn guest() -> Address {
        let mut bytes = [0u8; 20];
        bytes[19] = 1;
        Address::from(bytes)
    }

    /// The mock booking.
    pub fn booking() -> Booking {
        Booking {
            slotId: U256::from(1u8),
            guest: Self::guest(),
            amount: U256::from(1_000_000_000_000_000u64),
            status: BOOKING_BOOKED,
            oracleOutcome: 0,
            metricsHash: B256::ZERO,
            attestedAt: 0,
            finalizableAt: 0,
            challenger: Address::ZERO,
            bondAmount: U256::ZERO,
            disputedAt: 0,
        }
    }

    /// The mock slot at `now`.
    pub fn slot(now: u64) -> Slot {
        Slot {
            host: Self::host(),
            startTime: heaven_eth::abi::U48::from(now.saturating_sub(60)),
            durationMins: 30,
            price: U256::ZERO,
            graceMins: 5,
            minOverlapMins: 10,
            cancelCutoffMins: 30,
            status: 1,
        }
    }
}

impl ChainReads for MockEscrow {
    async fn has_primary_name(&self, _wallet: &Wallet) -> bool {
        false
    }

    async fn is_verified(&self, _wallet: &Wallet) -> bool {
        false
    }

    async fn booking(&self, _booking_id: U256) -> Option<Booking> {
        Some(Self::booking())
    }

    async fn slot(&self, _slot_id: U256) -> Option<Slot> {
        Some(Self::slot(self.now))
    }
}

/// [`ChainReads`] on the live chain, through JSON-RPC outcalls ([`heaven_evm::Chain`]). Each
/// read goes to the latest block; any failure reads as "no" / "not found", as the original's.
pub struct LiveChain<'a, R: canister_runtime::Runtime> {
    chain: heaven_evm::Chain<'a, R>,
    registry: Option<Address>,
    mirror: Option<Address>,
    escrow: Option<Address>,
}

impl<'a, R: canister_runtime::Runtime> LiveChain<'a, R> {
    /// The chain `config` names, reached through `rt`. Addresses that do not parse make their
    /// reads answer "no".
    pub fn new(rt: &'a R, config: &crate::state::ChainConfig) -> Self {
        let parse = |a: &str| heaven_eth::address::parse(a.trim());
        Self {
            chain: heaven_evm::Chain::new(rt, config.rpc_url.clone()),
            registry: parse(&config.registry),
            mirror: parse(&config.verification_mirror),
            escrow: parse(&config.escrow),
        }
    }

    /// The JSON-RPC client (for the oracle's transactions).
    pub fn rpc(&self) -> &heaven_evm::Chain<'a, R> {
        &self.chain
    }

    async fn read<C: heaven_eth::abi::SolCall>(
        &self,
        to: Option<Address>,
        call: C,
    ) -> Option<C::Return> {
        let to = to?;
        match self
            .chain
            .call(to, &call, heaven_eth::rpc::BlockTag::Latest)
            .await
        {
            Ok(answer) => Some(answer),
            Err(e) => {
                canister_runtime::print(&format!("credits: chain read failed: {e}"));
                None
            }
        }
    }
}

impl<R: canister_runtime::Runtime> ChainReads for LiveChain<'_, R> {
    async fn has_primary_name(&self, wallet: &Wallet) -> bool {
        let call = heaven_eth::abi::primaryNameCall {
            user: Address::from(wallet.to_bytes()),
        };
        self.read(self.registry, call)
            .await
            .is_some_and(|name| !name.label.is_empty())
    }

    async fn is_verified(&self, wallet: &Wallet) -> bool {
        let call = heaven_eth::abi::verifiedAtCall {
            user: Address::from(wallet.to_bytes()),
        };
        self.read(self.mirror, call).await.is_some_and(|at| at > 0)
    }

    async fn booking(&self, booking_id: U256) -> Option<Booking> {
        let call = heaven_eth::abi::getBookingCall {
            bookingId: booking_id,
        };
        self.read(self.escrow, call).await.filter(|b| b.status != 0)
    }

    async fn slot(&self, slot_id: U256) -> Option<Slot> {
        let call = heaven_eth::abi::getSlotCall { slotId: slot_id };
        self.read(self.escrow, call)
            .await
            .filter(|s| s.host != Address::ZERO)
    }
}
