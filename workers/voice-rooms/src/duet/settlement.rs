//! Settling a payment, with the reconciliation of a settlement whose answer was lost (new;
//! docs/adr/0023).
//!
//! The facilitator refuses an authorization it already settled, so a payer whose first
//! attempt reached the facilitator and settled there, but whose answer was lost (the worker was
//! killed before the commit, or the call timed out), could never get what it paid for: its
//! retry is refused. Before a `self`-mode settlement, the worker records which signature (by
//! its hash) first carried the EIP-3009 authorization (`from`, `nonce`); when a settlement then
//! fails and the **same** signature had been sent before, or the facilitator did not answer,
//! the payment network is asked whether the authorization was used (`authorizationState` on
//! the asset, payee and amount as required): if it was, the payment is committed as settled
//! (no transaction hash known). A different signature wrapping an authorization already used
//! (another resource, another encoding) is never reconciled, so one payment cannot open two
//! doors.

use portability::StateStoreJsonExt;
use serde::{Deserialize, Serialize};

use super::DuetRooms;
use super::x402::{self, Authorization, Requirement, Settled};

/// StateStore prefix of the authorization records.
pub const AUTHORIZATION_PREFIX: &str = "voice-rooms/x402-authorization/";

/// Which signature first carried an authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FirstCarrier {
    signature_hash: String,
}

fn key(network: &str, auth: &Authorization) -> String {
    format!(
        "{AUTHORIZATION_PREFIX}{network}/{:#x}/{:#x}",
        auth.from, auth.nonce
    )
}

impl DuetRooms {
    /// Settles `signature` (hash `signature_hash`) for `req`, reconciling with the payment
    /// network when the facilitator's refusal may hide an earlier settlement of it.
    pub(super) async fn settle(
        &self,
        signature: &str,
        signature_hash: &str,
        req: &Requirement,
    ) -> Result<Settled, String> {
        let config = &self.settings().facilitator;
        let auth = (config.mode == "self")
            .then(|| x402::authorization(signature))
            .flatten();
        let sent_before = match &auth {
            Some(auth) => {
                self.record_carrier(&req.network, auth, signature_hash)
                    .await
            }
            None => false,
        };
        let reason = match x402::settle(config, self.http(), signature, req).await {
            Ok(settled) => return Ok(settled),
            Err(reason) => reason,
        };
        let Some(auth) = auth else {
            return Err(reason);
        };
        if !sent_before && reason != "facilitator_unreachable" {
            return Err(reason);
        }
        match x402::authorization_used(config, req, &auth).await {
            Some(true) => {
                tracing::warn!(
                    payer = %format!("{:#x}", auth.from),
                    %reason,
                    "x402 settlement reconciled: the authorization was used on chain"
                );
                Ok(Settled {
                    facilitator: "self",
                    payer: Some(format!("{:#x}", auth.from)),
                    transaction_hash: None,
                })
            }
            _ => Err(reason),
        }
    }

    /// Records `signature_hash` as the first carrier of `auth`; whether this same signature
    /// had already been recorded (sent to the facilitator before).
    async fn record_carrier(&self, network: &str, auth: &Authorization, hash: &str) -> bool {
        let key = key(network, auth);
        let mine = FirstCarrier {
            signature_hash: hash.to_owned(),
        };
        match self.store().insert_json(&key, &mine).await {
            Ok(_) => false,
            Err(_) => match self.store().get_json::<FirstCarrier>(&key).await {
                Ok(Some((first, _))) => first == mine,
                Ok(None) => false,
                Err(err) => {
                    tracing::warn!(%err, "x402 authorization record unreadable");
                    false
                }
            },
        }
    }
}
