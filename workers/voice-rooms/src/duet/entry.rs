//! Paid live entry (§4.3–4.5): `enter` (JWT wallet) and `public-enter` (optional body
//! wallet), and the claim/commit steps `replay` shares (§4.8, [`super::replay`]). The room's terms come from its actor ([`DuetCommand::Quote`]);
//! the money goes claim → facilitator settle → commit through the credits canister, so two
//! requests with one PAYMENT-SIGNATURE settle once (the second waits for the first and is
//! granted from its marker), a signature settled for one wallet is refused to another, and an
//! entitled wallet re-enters without paying until its window ends.

use std::time::Duration;

use serde_json::Value;

use super::body::{Body, error};
use super::checkout::{self, SignatureSegment};
use super::meta::{RoomStatus, VIEWER_TOKEN_TTL_SECONDS};
use super::room::{EnterQuote, QuotedSegment, random_uid, sha256_hex};
use super::x402::{self, Requirement};
use super::{DuetCommand, DuetRooms};
use crate::credits::duet_api::{
    CanisterWallet, ClaimOutcome, ClaimSettlement, CommitSettlement, EntitlementKind,
    ExtendEntitlement, RoomId, SettledPayment, SettlementResult, Sha256Hex,
};
use crate::error::AppError;
use crate::rooms::agora::address_to_uid;

const FOREIGN_SETTLEMENT_POLL: Duration = Duration::from_millis(200);

/// A route's answer: status, JSON body and payment headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON text.
    pub body: String,
    /// `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE`.
    pub headers: Vec<(&'static str, String)>,
    /// A viewer token was handed out (the discovery index counts it).
    pub viewer_granted: bool,
}

impl Reply {
    pub(super) fn json(status: u16, body: String) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
            viewer_granted: false,
        }
    }

    pub(super) fn error(status: u16, code: &str) -> Self {
        Self::json(status, error(code))
    }

    pub(super) fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Who is entering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entrant {
    /// `enter`: the JWT's wallet (lowercase).
    Session(String),
    /// `public-enter`: the body's wallet (lowercase, checked), if any.
    Public(Option<String>),
    /// `public-enter` with a malformed body wallet (400 `invalid_wallet` once the room is
    /// known to be live, as the original checked in that order).
    InvalidPublic,
}

impl Entrant {
    fn wallet(&self) -> Option<&str> {
        match self {
            Self::Session(w) => Some(w),
            Self::Public(w) => w.as_deref(),
            Self::InvalidPublic => None,
        }
    }
}

/// An entry request.
#[derive(Debug, Clone)]
pub struct EntryRequest {
    /// Room id (the raw path segment).
    pub room_id: String,
    /// Who.
    pub entrant: Entrant,
    /// The PAYMENT-SIGNATURE header as received (empty counts as absent).
    pub signature: Option<String>,
    /// `/duet/<id>/enter`, `/duet/<id>/public-enter` or the body's `resource`.
    pub base_resource: String,
}

pub(super) fn canister_wallet(wallet: &str) -> Result<CanisterWallet, AppError> {
    CanisterWallet::parse(wallet).map_err(AppError::internal)
}

pub(super) fn room_key(room_id: &str) -> Result<RoomId, AppError> {
    RoomId::parse(room_id).map_err(AppError::internal)
}

pub(super) fn unix(at: impl Into<Option<credits_canister::units::UnixSeconds>>) -> Option<i64> {
    at.into().map(|s| i64::try_from(s.0).unwrap_or(i64::MAX))
}

impl DuetRooms {
    pub(super) async fn quote(
        &self,
        room_id: &str,
        segment: Option<String>,
    ) -> Result<Result<EnterQuote, Reply>, AppError> {
        let answer = self
            .call(
                room_id,
                DuetCommand::Quote {
                    segment_id: segment,
                },
            )
            .await?;
        Ok(match answer.quote {
            Some(q) if answer.status == 200 => Ok(*q),
            _ => Err(Reply::json(answer.status, answer.body)),
        })
    }

    fn viewer_grant(
        &self,
        q: &EnterQuote,
        uid: u32,
        live_expires_at: Option<i64>,
        free: bool,
    ) -> Reply {
        let now = self.now();
        let agora = &self.settings().agora;
        let body = Body::new()
            .field("ok", true)
            .field("room_id", &q.room_id)
            .field("agora_app_id", &agora.app_id)
            .field("agora_channel", &q.agora_channel)
            .field("agora_uid", uid)
            .field(
                "agora_viewer_token",
                agora.subscriber_token(&q.agora_channel, uid, now, VIEWER_TOKEN_TTL_SECONDS),
            )
            .field("token_expires_in_seconds", VIEWER_TOKEN_TTL_SECONDS)
            .opt("live_expires_at", live_expires_at)
            .opt("audience_mode", free.then_some("free"))
            .finish();
        let mut reply = Reply::json(200, body);
        reply.viewer_granted = true;
        reply
    }

    fn wallet_grant(&self, q: &EnterQuote, wallet: &str, expires_at: i64) -> Reply {
        self.viewer_grant(q, address_to_uid(wallet), Some(expires_at), false)
    }

    fn payment_required(&self, q: &EnterQuote, base: &str, reason: &str) -> Reply {
        let seg = &q.current;
        let requirement = Requirement {
            network: q.network.clone(),
            asset: q.asset_usdc.clone(),
            amount: seg.live_amount.clone(),
            pay_to: seg.pay_to.clone(),
            resource: checkout::with_segment_id(base, &seg.id),
        };
        let ext = checkout::extension(
            &self.settings().checkout_secret,
            &q.room_id,
            &seg.id,
            self.now(),
        );
        Reply::error(402, reason).with_header(
            "PAYMENT-REQUIRED",
            x402::base64_json(&x402::payment_required(&requirement, Some(ext))),
        )
    }

    /// `enter` / `public-enter`.
    pub async fn enter(&self, req: EntryRequest) -> Result<Reply, AppError> {
        let now = self.now();
        let secret = self.settings().checkout_secret.clone();
        let signature = req.signature.clone().filter(|s| !s.is_empty());
        let sig_info = signature
            .as_deref()
            .map(SignatureSegment::of)
            .unwrap_or_default();
        let token = sig_info
            .token
            .as_deref()
            .and_then(|t| checkout::verify(&secret, t, &req.room_id, now));
        let q = match self
            .quote(&req.room_id, token.as_ref().map(|c| c.segment_id.clone()))
            .await?
        {
            Ok(q) => q,
            Err(reply) => return Ok(reply),
        };
        if q.status != RoomStatus::Live {
            return Ok(Reply::json(
                400,
                Body::new()
                    .field("error", "room_not_live")
                    .field("status", q.status)
                    .finish(),
            ));
        }
        if req.entrant == Entrant::InvalidPublic {
            return Ok(Reply::error(400, "invalid_wallet"));
        }
        let room = room_key(&q.room_id)?;
        let window = u64::try_from(q.access_window_minutes).unwrap_or(0) * 60;
        if let Some(wallet) = req.entrant.wallet() {
            let view = self
                .credits()
                .entitlement(&room, &canister_wallet(wallet)?)
                .await?;
            if let Some(until) = unix(view.live_expires_at).filter(|&at| at > now) {
                return Ok(self.wallet_grant(&q, wallet, until));
            }
        }
        if q.current.live_amount == "0" {
            return Ok(match &req.entrant {
                Entrant::Session(wallet) => {
                    let until = self
                        .credits()
                        .extend_entitlement(ExtendEntitlement {
                            room_id: room,
                            wallet: canister_wallet(wallet)?,
                            entitlement: EntitlementKind::Live,
                            window_seconds: window,
                        })
                        .await?;
                    self.wallet_grant(&q, wallet, until)
                }
                Entrant::Public(_) | Entrant::InvalidPublic => {
                    self.viewer_grant(&q, random_uid(), None, true)
                }
            });
        }
        let Some(signature) = signature else {
            return Ok(self.payment_required(&q, &req.base_resource, "payment_required"));
        };
        // Which segment is being paid (§4.4).
        let sig_segment = sig_info
            .resource
            .as_deref()
            .and_then(checkout::segment_id_of);
        match (&token, &sig_segment) {
            (Some(claims), Some(named)) if *named != claims.segment_id => {
                return Ok(self.payment_required(
                    &q,
                    &req.base_resource,
                    "segment_checkout_mismatch",
                ));
            }
            (None, Some(named)) if *named != q.current.id => {
                return Ok(self.payment_required(
                    &q,
                    &req.base_resource,
                    "segment_checkout_required",
                ));
            }
            _ => {}
        }
        let paid: QuotedSegment = match &token {
            Some(_) => q.requested.clone().unwrap_or_else(|| q.current.clone()),
            None => q.current.clone(),
        };
        let requirement = Requirement {
            network: q.network.clone(),
            asset: q.asset_usdc.clone(),
            amount: paid.live_amount.clone(),
            pay_to: paid.pay_to.clone(),
            resource: sig_info
                .resource
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| checkout::with_segment_id(&req.base_resource, &paid.id)),
        };
        let hash = sha256_hex(&signature);
        let lock = self.signature_lock(&hash);
        let _held = lock.lock().await;
        let signature_hash = Sha256Hex::parse(&hash).map_err(AppError::internal)?;
        let claim = ClaimSettlement {
            room_id: room.clone(),
            signature_hash: signature_hash.clone(),
            wallet: req.entrant.wallet().map(canister_wallet).transpose()?,
            entitlement: EntitlementKind::Live,
        };
        match self.claim(claim).await? {
            Claimed::Go => {}
            Claimed::Done(paid) => {
                let Some(wallet) = paid.wallet.as_ref().map(|w| w.as_str().to_owned()) else {
                    return Ok(Reply::error(409, "payment_signature_already_consumed"));
                };
                let until = unix(paid.expires_at).unwrap_or(now);
                return Ok(self.wallet_grant(&q, &wallet, until).with_header(
                    "PAYMENT-RESPONSE",
                    x402::base64_json(&x402::payment_response(
                        true,
                        "live",
                        Some(until),
                        &paid.facilitator,
                        paid.transaction_hash.as_deref(),
                    )),
                ));
            }
            Claimed::Refused(reply) => return Ok(reply),
        }
        let settled = self.settle(&signature, &hash, &requirement).await;
        let settled = match settled {
            Ok(s) => s,
            Err(reason) => {
                self.commit(
                    &room,
                    &signature_hash,
                    EntitlementKind::Live,
                    SettlementResult::Failed,
                )
                .await?;
                return Ok(self.payment_required(&q, &req.base_resource, &reason));
            }
        };
        let mismatch = match (req.entrant.wallet(), settled.payer.as_deref()) {
            (Some(w), Some(payer)) => w != payer,
            _ => false,
        };
        // The facilitator moved the money: it is recorded for whoever paid, even when the
        // caller is told the payer does not match (the original dropped it).
        let owner = if mismatch {
            settled.payer.clone()
        } else {
            req.entrant
                .wallet()
                .map(str::to_owned)
                .or(settled.payer.clone())
        }
        .filter(|w| super::room::is_address(w));
        let result = SettlementResult::Settled {
            wallet: owner.as_deref().map(canister_wallet).transpose()?,
            window_seconds: window,
            segment_id: Some(paid.id.clone()),
            pay_to: Some(paid.pay_to.clone()),
            amount: Some(paid.live_amount.clone()),
            facilitator: settled.facilitator.to_owned(),
            transaction_hash: settled.transaction_hash.clone(),
        };
        let payment = self
            .commit(&room, &signature_hash, EntitlementKind::Live, result)
            .await?;
        let lock_segment = DuetCommand::LockSegment {
            segment_id: paid.id.clone(),
            transaction_hash: settled.transaction_hash.clone(),
        };
        if let Err(err) = self.call(&q.room_id, lock_segment).await {
            tracing::warn!(room = %q.room_id, ?err, "segment lock not recorded");
        }
        if mismatch {
            return Ok(self.payment_required(&q, &req.base_resource, "payment_wallet_mismatch"));
        }
        let expires_at = payment.as_ref().and_then(|p| unix(p.expires_at));
        let response = x402::base64_json(&x402::payment_response(
            false,
            "live",
            expires_at,
            settled.facilitator,
            settled.transaction_hash.as_deref(),
        ));
        let grant = match (owner, expires_at) {
            (Some(wallet), Some(until)) => self.wallet_grant(&q, &wallet, until),
            _ => self.viewer_grant(&q, random_uid(), None, false),
        };
        Ok(grant.with_header("PAYMENT-RESPONSE", response))
    }

    pub(super) async fn claim(&self, claim: ClaimSettlement) -> Result<Claimed, AppError> {
        let deadline = tokio::time::Instant::now() + self.settings().facilitator.pending_wait;
        loop {
            match self.credits().claim_settlement(claim.clone()).await? {
                ClaimOutcome::Claimed => return Ok(Claimed::Go),
                ClaimOutcome::AlreadySettled(paid) => return Ok(Claimed::Done(paid)),
                ClaimOutcome::Reused => {
                    return Ok(Claimed::Refused(Reply::error(
                        409,
                        "payment_signature_reused",
                    )));
                }
                ClaimOutcome::AlreadyConsumed => {
                    return Ok(Claimed::Refused(Reply::error(
                        409,
                        "payment_signature_already_consumed",
                    )));
                }
                ClaimOutcome::InProgress if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(FOREIGN_SETTLEMENT_POLL).await;
                }
                ClaimOutcome::InProgress => {
                    return Ok(Claimed::Refused(Reply::error(
                        409,
                        "payment_settlement_in_progress",
                    )));
                }
            }
        }
    }

    /// Commits a claimed signature; retried a little, because a settled payment whose commit
    /// is lost leaves the payer without the entitlement it paid for.
    pub(super) async fn commit(
        &self,
        room: &RoomId,
        hash: &Sha256Hex,
        entitlement: EntitlementKind,
        result: SettlementResult,
    ) -> Result<Option<SettledPayment>, AppError> {
        let request = CommitSettlement {
            room_id: room.clone(),
            signature_hash: hash.clone(),
            entitlement,
            result,
        };
        let mut attempt = 0;
        loop {
            match self.credits().commit_settlement(request.clone()).await {
                Ok(Ok(payment)) => return Ok(payment),
                Ok(Err(err)) => {
                    tracing::error!(room = room.as_str(), %err, "settlement commit refused");
                    return Err(AppError::internal(err));
                }
                Err(err) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(room = room.as_str(), %err, attempt, "settlement commit retried");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(err) => {
                    tracing::error!(room = room.as_str(), %err, "settlement commit lost; the claim expires in 15 min");
                    return Err(err.into());
                }
            }
        }
    }
}

pub(super) enum Claimed {
    Go,
    Done(SettledPayment),
    Refused(Reply),
}

/// A `public-enter` body wallet that is not an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid_wallet")]
pub struct InvalidWallet;

/// The body's `wallet` of `public-enter`: absent, or `Err` when malformed.
pub fn public_wallet(body: &Value) -> Result<Option<String>, InvalidWallet> {
    match body.get("wallet") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if super::room::is_address(s) => Ok(Some(s.to_lowercase())),
        Some(_) => Err(InvalidWallet),
    }
}
