//! One publication step's transaction, sent at most once: signed by the step's role (its
//! nonce from the role's own book), recorded *before* it is sent, then sent and its receipt
//! polled. A retry of the request finds the recorded transaction and sends the very same
//! bytes again (a node that has them answers "already known", one that mined them "nonce too
//! low"), so no step ever has two transactions in flight. A transaction the node refused, or
//! one that reverted, is forgotten so the next retry signs a fresh one.

use canister_runtime::Runtime;
use heaven_eth::{Address, B256, hex32};
use heaven_evm::chain::{Chain, ChainError, ChainErrorKind, Log, Receipt};
use heaven_evm::sender::{self, Call, NonceBook};

use super::ledger::{self, Ticket};
use crate::signer::{Role, StateKeys};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, SignedTransaction, publishing::nonce_key};
use crate::time::Now;

/// Where a publishing role keeps its next nonce per chain (`publisher_nonces`), changed by
/// `PublisherNonceSet` / `PublisherNonceForgotten` events.
struct RoleNonces {
    role: Role,
    now: Now,
}

impl RoleNonces {
    fn set(&self, chain_id: u64, nonce: u64) {
        let event = EventType::PublisherNonceSet {
            role: self.role.name().to_string(),
            chain_id,
            nonce,
        };
        state::mutate(|s| process_event(s, self.now, event));
    }

    fn known(&self, chain_id: u64) -> Option<u64> {
        state::with(|s| {
            s.publisher_nonces()
                .get(&nonce_key(self.role.name(), chain_id))
        })
    }
}

impl NonceBook for RoleNonces {
    fn reserve(&self, chain_id: u64, on_chain: Option<u64>) -> Option<u64> {
        // No await between the read and the event: concurrent calls never share a nonce.
        let nonce = self.known(chain_id).or(on_chain)?;
        self.set(chain_id, nonce + 1);
        Some(nonce)
    }

    fn release(&self, chain_id: u64, nonce: u64) {
        if self.known(chain_id) == Some(nonce + 1) {
            self.set(chain_id, nonce);
        }
    }

    fn forget(&self, chain_id: u64) {
        let event = EventType::PublisherNonceForgotten {
            role: self.role.name().to_string(),
            chain_id,
        };
        state::mutate(|s| process_event(s, self.now, event));
    }
}

/// The chain a publication writes to and how long it waits for receipts.
pub(super) struct Writer<'a, R: Runtime> {
    /// The runtime.
    pub rt: &'a R,
    /// The chain's JSON-RPC client.
    pub chain: Chain<'a, R>,
    /// Its chain id.
    pub chain_id: u64,
    /// Receipt reads per transaction at most.
    pub receipt_polls: u32,
    /// Receipt reads stop once this long has passed since the send (ns).
    pub wait_timeout_ns: u64,
}

/// A step's write: who signs what.
pub(super) struct Step<'s> {
    /// The step's name (`register-track`, ...), unique within a publication.
    pub name: &'s str,
    /// The role whose key signs.
    pub role: Role,
    /// The contract.
    pub to: Address,
    /// Calldata.
    pub data: Vec<u8>,
    /// Gas limit.
    pub gas_limit: u64,
}

/// What became of a mined transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Mined {
    /// Its hash.
    pub hash: B256,
    /// The block it is in.
    pub block: u64,
    /// Its logs.
    pub logs: Vec<Log>,
}

fn is_nonce_used(e: &ChainError) -> bool {
    let message = e.reason.to_ascii_lowercase();
    message.contains("nonce too low") || message.contains("already known")
}

impl<R: Runtime> Writer<'_, R> {
    fn now(&self) -> Now {
        Now::from_ns(self.rt.time_ns())
    }

    /// Sends `step`'s transaction (the recorded one, or a newly signed one) and waits for its
    /// receipt; an error says why the step did not succeed.
    pub(super) async fn transact(&self, ticket: &Ticket, step: Step<'_>) -> Result<Mined, String> {
        let name = step.name;
        let (tx, fresh) = match ledger::transaction(ticket, name) {
            Some(tx) => (tx, false),
            None => (self.sign(ticket, step).await?, true),
        };
        let hash = hex32::parse_b256(&tx.hash).ok_or("recorded hash is malformed")?;
        let mut nonce_used = false;
        if let Err(e) = self.chain.send_raw_transaction(&tx.raw).await {
            if !fresh && is_nonce_used(&e) {
                // Sent before: mined, or its nonce went to another transaction.
                nonce_used = true;
            } else if e.kind == ChainErrorKind::Unreachable {
                // It may have arrived: keep it and look for its receipt.
                canister_runtime::print(&format!("publishing {name}: send unanswered: {e}"));
            } else {
                self.abandon(ticket, name, tx.role_nonces(self.now()));
                return Err(format!("{name}: {e}"));
            }
        }
        match self.wait_for_receipt(&hash).await {
            Some(Receipt {
                succeeded: true,
                block,
                logs,
            }) => Ok(Mined { hash, block, logs }),
            Some(_) => {
                ledger::drop_transaction(ticket, name, self.now());
                Err(format!("{name}: transaction {} reverted", tx.hash))
            }
            None if nonce_used => {
                // Its nonce is spent and it is not on chain: it was replaced. Start over.
                self.abandon(ticket, name, tx.role_nonces(self.now()));
                Err(format!("{name}: transaction {} was replaced", tx.hash))
            }
            None => Err(format!(
                "{name}: transaction {} not mined yet (retry with the same request id)",
                tx.hash
            )),
        }
    }

    /// The step's recorded transaction, when an earlier call of this publication sent it and
    /// it succeeded (so a state that shows the step done is this publication's doing).
    pub(super) async fn recorded_success(&self, ticket: &Ticket, step: &str) -> Option<Mined> {
        let tx = ledger::transaction(ticket, step)?;
        let hash = hex32::parse_b256(&tx.hash)?;
        match self.chain.receipt_with_logs(&hash).await {
            Ok(Some(Receipt {
                succeeded: true,
                block,
                logs,
            })) => Some(Mined { hash, block, logs }),
            _ => None,
        }
    }

    /// Forgets the step's transaction and the role's nonce (the next one re-reads the chain).
    fn abandon(&self, ticket: &Ticket, step: &str, nonces: Option<RoleNonces>) {
        ledger::drop_transaction(ticket, step, self.now());
        if let Some(nonces) = nonces {
            nonces.forget(self.chain_id);
        }
    }

    async fn sign(&self, ticket: &Ticket, step: Step<'_>) -> Result<SignedTransaction, String> {
        let now = self.now();
        let key = step.role.key();
        let keys = StateKeys::new(&key, now);
        let nonces = RoleNonces {
            role: step.role,
            now,
        };
        let call = Call {
            chain_id: self.chain_id,
            to: step.to,
            data: step.data,
            gas_limit: step.gas_limit,
        };
        let signed = sender::sign(self.rt, &self.chain, &key, &keys, &nonces, call)
            .await
            .map_err(|e| format!("{}: {e}", step.name))?;
        let tx = SignedTransaction {
            step: step.name.to_string(),
            role: step.role.name().to_string(),
            chain_id: self.chain_id,
            nonce: signed.nonce,
            hash: hex32::b256_hex(&signed.hash),
            raw: signed.raw,
        };
        ledger::record_transaction(ticket, tx.clone(), self.now());
        Ok(tx)
    }

    /// Reads the receipt until it is there, the polls are used up or the wait time passed.
    async fn wait_for_receipt(&self, hash: &B256) -> Option<Receipt> {
        let started = self.rt.time_ns();
        for _ in 0..self.receipt_polls.max(1) {
            match self.chain.receipt_with_logs(hash).await {
                Ok(Some(receipt)) => return Some(receipt),
                Ok(None) => {}
                Err(e) => canister_runtime::print(&format!("publishing: receipt: {e}")),
            }
            if self.rt.time_ns().saturating_sub(started) >= self.wait_timeout_ns {
                break;
            }
        }
        None
    }
}

impl SignedTransaction {
    /// The nonce book of the role that signed it.
    fn role_nonces(&self, now: Now) -> Option<RoleNonces> {
        Role::from_name(&self.role).map(|role| RoleNonces { role, now })
    }
}
