//! Relayed transactions: EIP-1559 transactions built here, signed by the relayer's
//! threshold-ECDSA key and sent with `eth_sendRawTransaction`, then a bounded wait for the
//! receipt.
//!
//! The relayer's next nonce per chain is kept in `relayer_nonces`. It is read from the chain
//! only when unknown (or after the node reports a nonce conflict) and is reserved — taken and
//! incremented in one state change with no await in between — before the transaction is
//! signed, so concurrent relays never share a nonce. A reservation whose transaction was
//! never signed is handed back; after a failed send (which may or may not have reached the
//! node) the known nonce is forgotten, so the next relay re-reads the chain's count instead of
//! either reusing a nonce or leaving a gap that would stall every later transaction.

use canister_runtime::Runtime;
use heaven_eth::tx::Eip1559Tx;
use heaven_eth::{Address, B256, U256, hex32};

use crate::api::{ApiError, Now};
use crate::chain::{Chain, ChainError};
use crate::signer::{self, Role};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, WalletRelayConfig};

/// How many times the receipt is asked for before answering "pending". Each ask is an HTTPS
/// outcall (a consensus round, a second or two on a subnet), which is the only way a canister
/// can let time pass inside a call.
pub(super) const RECEIPT_POLLS: usize = 5;

/// The most tip per gas a relayed transaction offers (0.001 gwei; Base orders by tip but its
/// blocks are rarely full), and the fee caps built from the gas price, shared with credits.
#[cfg(test)]
pub(super) use heaven_evm::fees::MAX_PRIORITY_FEE_WEI;
use heaven_evm::fees::fee_caps;

/// What a relayed transaction does (the `kind` of [`EventType::TransactionSent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    SetProfile,
    RegisterName,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::SetProfile => "set-profile",
            Kind::RegisterName => "register-name",
        }
    }
}

/// What the receipt polls found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Receipt {
    /// Mined with status 1 in this block.
    Succeeded { block: u64 },
    /// Mined with status 0.
    Reverted,
    /// Not mined (or not visible) after [`RECEIPT_POLLS`] asks.
    Pending,
}

/// `Transaction failed: <msg>`, the original's answer for anything going wrong while sending.
fn failed(e: impl Into<ApiError>) -> ApiError {
    let e = e.into();
    ApiError::error(500, format!("Transaction failed: {}", e.message()))
}

/// Signs and sends a transaction calling `to` with `data` from the relayer; the node's
/// transaction hash. Every failure is 500 "Transaction failed: <msg>".
pub(super) async fn send<R: Runtime>(
    rt: &R,
    chain: &Chain<'_, R>,
    config: &WalletRelayConfig,
    to: Address,
    data: Vec<u8>,
    kind: Kind,
    now: Now,
) -> Result<B256, ApiError> {
    let chain_id = config.chain_id;
    // Everything that can fail without a nonce comes first, so no reservation is wasted on it.
    let relayer = signer::address(rt, Role::Relayer).await.map_err(failed)?;
    let (max_priority_fee_per_gas, max_fee_per_gas) =
        fee_caps(chain.gas_price().await.map_err(failed)?);
    let nonce = match reserve_nonce(chain_id, None, now) {
        Some(nonce) => nonce,
        None => {
            let on_chain = chain.pending_nonce(relayer).await.map_err(failed)?;
            reserve_nonce(chain_id, Some(on_chain), now).expect("a chain nonce was supplied")
        }
    };

    let tx = Eip1559Tx {
        chain_id,
        nonce,
        max_priority_fee_per_gas,
        max_fee_per_gas,
        gas_limit: config.gas_limit,
        to,
        value: U256::ZERO,
        data,
    };
    let raw = match signer::sign(rt, Role::Relayer, tx.signing_hash()).await {
        Ok(sig) => tx.encode_signed(&sig).map_err(|e| {
            // The signer returns low-s signatures; this is a bug, not a user error.
            canister_runtime::print(&format!("wallet relay: cannot encode signed tx: {e}"));
            ApiError::error(500, "Signing failed")
        }),
        Err(e) => Err(e),
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            release_nonce(chain_id, nonce, now);
            return Err(failed(e));
        }
    };

    match chain.send_raw_transaction(&raw).await {
        Ok(hash) => {
            state::mutate(|s| {
                process_event(
                    s,
                    now,
                    EventType::TransactionSent {
                        chain_id,
                        nonce,
                        hash: hex32::b256_hex(&hash),
                        kind: kind.as_str().into(),
                    },
                )
            });
            Ok(hash)
        }
        Err(e) if is_nonce_conflict(&e) => {
            canister_runtime::print(&format!(
                "wallet relay: nonce {nonce} refused ({e}); resyncing"
            ));
            resync_nonce(chain, chain_id, relayer, now).await;
            Err(failed(e))
        }
        Err(e) => {
            // The transaction may have reached the node even though the answer was lost (on
            // the IC: replicas that saw different answers). Re-reading the chain's count is
            // right either way; handing the nonce back would collide if it did arrive.
            canister_runtime::print(&format!("wallet relay: send failed: {e}"));
            forget_nonce(chain_id, now);
            Err(failed(e))
        }
    }
}

/// Takes the next relayer nonce of `chain_id` and increments it, in one state change. When no
/// nonce is known yet, `from_chain` (the chain's pending count) is adopted and recorded;
/// without it the answer is `None` (read the chain, then call again).
fn reserve_nonce(chain_id: u64, from_chain: Option<u64>, now: Now) -> Option<u64> {
    state::mutate(|s| {
        let nonce = match s.relayer_nonces().get(&chain_id) {
            Some(next) => next,
            None => {
                let nonce = from_chain?;
                process_event(s, now, EventType::RelayerNonceSynced { chain_id, nonce });
                nonce
            }
        };
        process_event(s, now, EventType::RelayerNonceReserved { chain_id, nonce });
        Some(nonce)
    })
}

/// Gives back a reservation whose transaction was never sent (signing failed): restored when
/// it is still the latest one, otherwise the known nonce is dropped so the next relay re-reads
/// the chain (which fills the gap this one would leave).
fn release_nonce(chain_id: u64, nonce: u64, now: Now) {
    state::mutate(|s| process_event(s, now, EventType::RelayerNonceReleased { chain_id, nonce }));
}

/// Drops the known nonce of `chain_id`; the next relay reads the chain's pending count.
fn forget_nonce(chain_id: u64, now: Now) {
    state::mutate(|s| process_event(s, now, EventType::RelayerNonceForgotten { chain_id }));
}

/// Whether the node refused the transaction because its nonce is used or taken.
fn is_nonce_conflict(e: &ChainError) -> bool {
    let message = e.reason.to_ascii_lowercase();
    [
        "nonce too low",
        "already known",
        "replacement transaction underpriced",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Re-reads the relayer's pending count from the chain and records it. If the chain cannot
/// be read the known nonce is dropped, so the next relay reads it.
async fn resync_nonce<R: Runtime>(chain: &Chain<'_, R>, chain_id: u64, relayer: Address, now: Now) {
    match chain.pending_nonce(relayer).await {
        Ok(nonce) => state::mutate(|s| {
            process_event(s, now, EventType::RelayerNonceSynced { chain_id, nonce })
        }),
        Err(e) => {
            canister_runtime::print(&format!("wallet relay: nonce resync failed: {e}"));
            forget_nonce(chain_id, now);
        }
    }
}

/// Asks for the receipt up to [`RECEIPT_POLLS`] times. A failed ask counts as "not yet":
/// the transaction is out, so the honest answer is pending with its hash, not a failure.
pub(super) async fn wait_for_receipt<R: Runtime>(chain: &Chain<'_, R>, hash: &B256) -> Receipt {
    for _ in 0..RECEIPT_POLLS {
        match chain.receipt(hash).await {
            Ok(Some((true, block))) => return Receipt::Succeeded { block },
            Ok(Some((false, _))) => return Receipt::Reverted,
            Ok(None) => {}
            Err(e) => canister_runtime::print(&format!("wallet relay: receipt: {e}")),
        }
    }
    Receipt::Pending
}
