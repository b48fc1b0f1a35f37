//! Sending a transaction from a canister's threshold-ECDSA key: fee caps from the gas price,
//! a nonce from the canister's [`NonceBook`] (read from the chain only when unknown), the
//! EIP-1559 transaction signed and sent with `eth_sendRawTransaction`.
//!
//! The nonce is reserved — taken and advanced in one state change with no await in between —
//! before signing, so concurrent sends never share one. A reservation whose transaction was
//! never signed is handed back; after a failed send (which may or may not have reached the
//! node) the known nonce is forgotten, so the next send re-reads the chain's count instead of
//! either reusing a nonce or leaving a gap that would stall every later transaction.

use canister_runtime::Runtime;
use heaven_eth::tx::Eip1559Tx;
use heaven_eth::{Address, B256, U256};

use crate::chain::{Chain, ChainError};
use crate::fees::fee_caps;
use crate::signer::{PublicKeyCache, SignerError, ThresholdKey};

/// Where a canister keeps its next nonce per chain (in stable state, changed by its events).
pub trait NonceBook {
    /// Takes the next nonce of `chain_id` and advances the book past it. When the book does not
    /// know it, `on_chain` (the chain's count) is used; `None` with an unknown nonce: `None`.
    fn reserve(&self, chain_id: u64, on_chain: Option<u64>) -> Option<u64>;
    /// Gives back `nonce`, reserved but never signed (only if it is still the last one taken).
    fn release(&self, chain_id: u64, nonce: u64);
    /// Forgets the book's nonce of `chain_id` (a send failed: re-read the chain next time).
    fn forget(&self, chain_id: u64);
}

/// A call to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The contract.
    pub to: Address,
    /// Calldata.
    pub data: Vec<u8>,
    /// Gas limit.
    pub gas_limit: u64,
}

/// A sent transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Its hash.
    pub hash: B256,
    /// The nonce it used.
    pub nonce: u64,
}

/// Why a transaction was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The key could not be had or could not sign.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// A chain request failed (gas price, nonce, or the send itself).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The signed transaction could not be encoded (a bug: signatures are low-s).
    #[error("cannot encode the signed transaction: {0}")]
    Encoding(String),
}

/// A transaction signed but not yet sent: its raw bytes can be sent (and sent again: a node
/// that has it answers "already known", which the transform maps to the same hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// `eth_sendRawTransaction`'s argument.
    pub raw: Vec<u8>,
    /// Its hash.
    pub hash: B256,
    /// The nonce it uses.
    pub nonce: u64,
}

/// Signs `call` with `key` and sends it through `chain`.
pub async fn send<R: Runtime>(
    rt: &R,
    chain: &Chain<'_, R>,
    key: &ThresholdKey,
    keys: &impl PublicKeyCache,
    nonces: &impl NonceBook,
    call: Call,
) -> Result<Sent, SendError> {
    let chain_id = call.chain_id;
    let signed = sign(rt, chain, key, keys, nonces, call).await?;
    match chain.send_raw_transaction(&signed.raw).await {
        Ok(hash) => Ok(Sent {
            hash,
            nonce: signed.nonce,
        }),
        Err(e) => {
            nonces.forget(chain_id);
            Err(e.into())
        }
    }
}

/// Builds `call` as an EIP-1559 transaction (fee caps from the gas price, the next nonce of
/// the book) and signs it with `key`, without sending it: callers that must be able to send
/// the very same transaction again (after an ambiguous outcome) record it first. A nonce
/// reserved for a transaction that could not be signed is handed back.
pub async fn sign<R: Runtime>(
    rt: &R,
    chain: &Chain<'_, R>,
    key: &ThresholdKey,
    keys: &impl PublicKeyCache,
    nonces: &impl NonceBook,
    call: Call,
) -> Result<Signed, SendError> {
    // Everything that can fail without a nonce comes first, so no reservation is wasted.
    let from = key.address(rt, keys).await?;
    let (max_priority_fee_per_gas, max_fee_per_gas) = fee_caps(chain.gas_price().await?);
    let nonce = match nonces.reserve(call.chain_id, None) {
        Some(nonce) => nonce,
        None => {
            let on_chain = chain.pending_nonce(from).await?;
            nonces
                .reserve(call.chain_id, Some(on_chain))
                .unwrap_or(on_chain)
        }
    };
    let tx = Eip1559Tx {
        chain_id: call.chain_id,
        nonce,
        max_priority_fee_per_gas,
        max_fee_per_gas,
        gas_limit: call.gas_limit,
        to: call.to,
        value: U256::ZERO,
        data: call.data,
    };
    let signed = match key.sign(rt, keys, tx.signing_hash()).await {
        Ok(sig) => tx
            .encode_signed(&sig)
            .map_err(|e| SendError::Encoding(e.to_string())),
        Err(e) => Err(e.into()),
    };
    match signed {
        Ok(raw) => Ok(Signed {
            hash: heaven_eth::keccak256(&raw),
            raw,
            nonce,
        }),
        Err(e) => {
            nonces.release(call.chain_id, nonce);
            Err(e)
        }
    }
}
