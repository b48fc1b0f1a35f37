//! The session oracle: the canister's threshold-ECDSA key for the role
//! `heaven/session-oracle/v1` (it replaces the original's `ORACLE_PRIVATE_KEY`; the escrow's
//! owner points `setOracle` at its address, docs/credits-oracle.md), and the `attest`
//! transaction it sends. Its public key and nonces live in stable state through events.

use canister_runtime::Runtime;
use heaven_eth::abi::{SolCall, attestCall};
use heaven_eth::{Address, B256, U256};
use heaven_evm::sender::{self, Call, NonceBook, SendError, Sent};
use heaven_evm::signer::{PublicKeyCache, ThresholdKey};

use crate::attestation::Outcome;
use crate::state::{self, audit::process_event, event::EventType};

/// The role's name (cache key and logs).
pub const ORACLE_ROLE: &str = "session-oracle";
/// The role's derivation path.
pub const ORACLE_PATH: &[u8] = b"heaven/session-oracle/v1";
/// Gas limit of an `attest` transaction (one storage write and an event: well under this).
pub const ATTEST_GAS_LIMIT: u64 = 300_000;

/// The oracle key for the configured key name.
pub fn oracle_key() -> ThresholdKey {
    ThresholdKey::new(
        state::with_config(|c| c.ecdsa_key_name.clone()),
        ORACLE_ROLE,
        ORACLE_PATH,
    )
}

/// Public keys and nonces kept in the canister's state; writes are events at `now_ns`.
pub struct StateBook {
    /// Time of the message writing.
    pub now_ns: u64,
}

impl PublicKeyCache for StateBook {
    fn get(&self, id: &str) -> Option<Vec<u8>> {
        state::with(|s| s.signer_keys().get(&id.to_owned()))
    }

    fn put(&self, id: &str, public_key: &[u8], _address: &Address) {
        state::mutate(|s| {
            process_event(
                s,
                self.now_ns,
                EventType::SignerKeyFetched {
                    key: id.to_owned(),
                    public_key: public_key.to_vec(),
                },
            )
        });
    }
}

impl NonceBook for StateBook {
    fn reserve(&self, chain_id: u64, on_chain: Option<u64>) -> Option<u64> {
        state::mutate(|s| {
            let nonce = s.oracle_nonces().get(&chain_id).or(on_chain)?;
            process_event(
                s,
                self.now_ns,
                EventType::OracleNonceSet {
                    chain_id,
                    nonce: nonce + 1,
                },
            );
            Some(nonce)
        })
    }

    fn release(&self, chain_id: u64, nonce: u64) {
        state::mutate(|s| {
            if s.oracle_nonces().get(&chain_id) == Some(nonce + 1) {
                process_event(
                    s,
                    self.now_ns,
                    EventType::OracleNonceSet { chain_id, nonce },
                );
            }
        });
    }

    fn forget(&self, chain_id: u64) {
        state::mutate(|s| {
            process_event(s, self.now_ns, EventType::OracleNonceForgotten { chain_id })
        });
    }
}

/// The oracle's address (fetching its key on first use).
pub async fn address<R: Runtime>(rt: &R) -> Result<Address, heaven_evm::SignerError> {
    let book = StateBook {
        now_ns: rt.time_ns(),
    };
    oracle_key().address(rt, &book).await
}

/// The oracle's address if its key was fetched already.
pub fn cached_address() -> Option<Address> {
    oracle_key().cached_address(&StateBook { now_ns: 0 })
}

/// The calldata of `attest(bookingId, outcome, metricsHash)`.
pub fn attest_calldata(booking_id: U256, outcome: Outcome, metrics_hash: [u8; 32]) -> Vec<u8> {
    attestCall {
        bookingId: booking_id,
        outcome: outcome.code(),
        metricsHash: B256::from(metrics_hash),
    }
    .abi_encode()
}

/// Signs and sends the `attest` transaction to `escrow` on `chain_id`.
pub async fn send_attest<R: Runtime>(
    rt: &R,
    chain: &heaven_evm::Chain<'_, R>,
    chain_id: u64,
    escrow: Address,
    data: Vec<u8>,
) -> Result<Sent, SendError> {
    let book = StateBook {
        now_ns: rt.time_ns(),
    };
    let call = Call {
        chain_id,
        to: escrow,
        data,
        gas_limit: ATTEST_GAS_LIMIT,
    };
    sender::send(rt, chain, &oracle_key(), &book, &book, call).await
}
