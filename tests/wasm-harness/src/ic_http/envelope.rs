//! Reading a request envelope as a replica does: CBOR decoding, the request id (the
//! representation-independent hash, computed by `ic-transport-types`), the ingress-expiry
//! window, and the sender's authentication (anonymous, or a self-authenticating secp256k1 key
//! whose signature over `"\x0Aic-request" ‖ request id` verifies). Delegations and other key
//! types are refused with a 400 saying so.

use std::time::Duration;

use candid::Principal;
use ic_transport_types::{Envelope, EnvelopeContent, RequestId};
use k256::ecdsa::{Signature, VerifyingKey, signature::Verifier};
use k256::pkcs8::DecodePublicKey;

/// How far in the future an ingress expiry may be: the IC's 5 minutes plus 30 s of clock drift.
pub const MAX_INGRESS_EXPIRY: Duration = Duration::from_secs(5 * 60 + 30);

/// A request the harness accepts: its content and id.
#[derive(Debug)]
pub struct AuthenticatedRequest {
    /// What was signed.
    pub content: EnvelopeContent,
    /// Its request id.
    pub request_id: RequestId,
}

/// Why a request is refused (HTTP 400, as a replica answers malformed or unauthenticated
/// requests; the message is the body).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefusedRequest(pub String);

fn refused(message: impl Into<String>) -> RefusedRequest {
    RefusedRequest(message.into())
}

/// Decodes and authenticates `body` at wall-clock time `now_nanos`.
pub fn authenticate(body: &[u8], now_nanos: u64) -> Result<AuthenticatedRequest, RefusedRequest> {
    let envelope: Envelope<'static> = serde_cbor::from_slice(body)
        .map_err(|e| refused(format!("could not decode the request envelope: {e}")))?;
    let content = envelope.content.into_owned();
    let request_id = content.to_request_id();
    let expiry = content.ingress_expiry();
    if expiry < now_nanos {
        return Err(refused(format!(
            "ingress_expiry {expiry} is in the past (now {now_nanos})"
        )));
    }
    if expiry > now_nanos + MAX_INGRESS_EXPIRY.as_nanos() as u64 {
        return Err(refused(format!(
            "ingress_expiry {expiry} is more than {}s after now ({now_nanos})",
            MAX_INGRESS_EXPIRY.as_secs()
        )));
    }
    if envelope.sender_delegation.is_some() {
        return Err(refused(
            "sender delegations are not supported by the wasm harness",
        ));
    }
    let sender = *content.sender();
    match (envelope.sender_pubkey, envelope.sender_sig) {
        (None, None) if sender == Principal::anonymous() => {}
        (None, None) => {
            return Err(refused(format!(
                "request from {sender} carries no signature"
            )));
        }
        (Some(public_key), Some(signature)) => {
            if Principal::self_authenticating(&public_key) != sender {
                return Err(refused(format!(
                    "sender {sender} is not the principal of the request's public key"
                )));
            }
            let key = VerifyingKey::from_public_key_der(&public_key).map_err(|_| {
                refused("only secp256k1 sender keys are supported by the wasm harness")
            })?;
            let signature = Signature::from_slice(&signature)
                .map_err(|_| refused("malformed secp256k1 sender signature"))?;
            key.verify(&request_id.signable(), &signature)
                .map_err(|_| refused("the sender signature does not verify"))?;
        }
        _ => return Err(refused("sender_pubkey and sender_sig go together")),
    }
    Ok(AuthenticatedRequest {
        content,
        request_id,
    })
}
