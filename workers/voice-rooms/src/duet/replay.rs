//! Replay access (§4.8): load-gated rooms point at Load's own x402 URL; worker-gated rooms sell
//! a replay entitlement (claim → settle → commit like live entry, payee the split address) and
//! hand out one-time access tokens that `/replay/source` spends.

use super::DuetRooms;
use super::body::Body;
use super::entry::{Claimed, Reply, canister_wallet, room_key, unix};
use super::room::{random_ticket, sha256_hex};
use super::x402::{self, Requirement};
use crate::credits::duet_api::{
    CanisterWallet, ClaimSettlement, EntitlementKind, ExtendEntitlement, IssueReplayToken, RoomId,
    SettlementResult, Sha256Hex,
};
use crate::error::AppError;

impl DuetRooms {
    /// `GET /duet/:id/replay` (the route resolved the optional JWT into `wallet`).
    pub async fn replay(
        &self,
        room_id: &str,
        wallet: Option<String>,
        signature: Option<String>,
    ) -> Result<Reply, AppError> {
        let now = self.now();
        let q = match self.quote(room_id, None).await? {
            Ok(q) => q,
            Err(reply) => return Ok(reply),
        };
        let Some(recording) = q.recording.clone() else {
            return Ok(Reply::error(404, "recording_not_ready"));
        };
        if q.replay_mode == "load_gated" {
            if recording.replay_x402_url.is_none() {
                return Ok(Reply::error(404, "recording_not_ready"));
            }
            return Ok(Reply::json(
                200,
                Body::new()
                    .field("mode", "load_gated")
                    .field("replay_x402_url", &recording.replay_x402_url)
                    .finish(),
            ));
        }
        let Some(wallet) = wallet else {
            return Ok(Reply::error(401, "wallet_required"));
        };
        let Some(replay_url) = recording.replay_url.clone() else {
            return Ok(Reply::error(404, "recording_not_ready"));
        };
        let room = room_key(&q.room_id)?;
        let cw = canister_wallet(&wallet)?;
        let window = u64::try_from(q.access_window_minutes).unwrap_or(0) * 60;
        let view = self.credits().entitlement(&room, &cw).await?;
        if let Some(until) = unix(view.replay_expires_at).filter(|&at| at > now) {
            return self.replay_grant(&room, &cw, &replay_url, until).await;
        }
        if q.replay_amount == "0" {
            let until = self
                .credits()
                .extend_entitlement(ExtendEntitlement {
                    room_id: room.clone(),
                    wallet: cw.clone(),
                    entitlement: EntitlementKind::Replay,
                    window_seconds: window,
                })
                .await?;
            return self.replay_grant(&room, &cw, &replay_url, until).await;
        }
        let requirement = Requirement {
            network: q.network.clone(),
            asset: q.asset_usdc.clone(),
            amount: q.replay_amount.clone(),
            pay_to: q.split_address.clone(),
            resource: format!("/duet/{}/replay", q.room_id),
        };
        let required = || x402::base64_json(&x402::payment_required(&requirement, None));
        let Some(signature) = signature.filter(|s| !s.is_empty()) else {
            return Ok(
                Reply::error(402, "payment_required").with_header("PAYMENT-REQUIRED", required())
            );
        };
        let hash = sha256_hex(&signature);
        let lock = self.signature_lock(&hash);
        let _held = lock.lock().await;
        let signature_hash = Sha256Hex::parse(&hash).map_err(AppError::internal)?;
        let claim = ClaimSettlement {
            room_id: room.clone(),
            signature_hash: signature_hash.clone(),
            wallet: Some(cw.clone()),
            entitlement: EntitlementKind::Replay,
        };
        match self.claim(claim).await? {
            Claimed::Go => {}
            Claimed::Done(paid) => {
                let until = unix(paid.expires_at).unwrap_or(now);
                let reply = self.replay_grant(&room, &cw, &replay_url, until).await?;
                return Ok(reply.with_header(
                    "PAYMENT-RESPONSE",
                    x402::base64_json(&x402::payment_response(
                        true,
                        "replay",
                        Some(until),
                        &paid.facilitator,
                        paid.transaction_hash.as_deref(),
                    )),
                ));
            }
            Claimed::Refused(reply) => return Ok(reply),
        }
        let settled = match self.settle(&signature, &hash, &requirement).await {
            Ok(s) => s,
            Err(reason) => {
                self.commit(
                    &room,
                    &signature_hash,
                    EntitlementKind::Replay,
                    SettlementResult::Failed,
                )
                .await?;
                return Ok(Reply::error(402, &reason).with_header("PAYMENT-REQUIRED", required()));
            }
        };
        let mismatch = settled.payer.as_deref().is_some_and(|p| p != wallet);
        let owner = if mismatch {
            settled.payer.clone()
        } else {
            Some(wallet.clone())
        }
        .filter(|w| super::room::is_address(w));
        let payment = self
            .commit(
                &room,
                &signature_hash,
                EntitlementKind::Replay,
                SettlementResult::Settled {
                    wallet: owner.as_deref().map(canister_wallet).transpose()?,
                    window_seconds: window,
                    segment_id: None,
                    pay_to: None,
                    amount: None,
                    facilitator: settled.facilitator.to_owned(),
                    transaction_hash: settled.transaction_hash.clone(),
                },
            )
            .await?;
        if mismatch {
            return Ok(Reply::error(402, "payment_wallet_mismatch")
                .with_header("PAYMENT-REQUIRED", required()));
        }
        let until = payment
            .as_ref()
            .and_then(|p| unix(p.expires_at))
            .unwrap_or(now);
        let reply = self.replay_grant(&room, &cw, &replay_url, until).await?;
        Ok(reply.with_header(
            "PAYMENT-RESPONSE",
            x402::base64_json(&x402::payment_response(
                false,
                "replay",
                Some(until),
                settled.facilitator,
                settled.transaction_hash.as_deref(),
            )),
        ))
    }

    async fn replay_grant(
        &self,
        room: &RoomId,
        wallet: &CanisterWallet,
        replay_url: &str,
        replay_expires_at: i64,
    ) -> Result<Reply, AppError> {
        let token = random_ticket();
        let hash = Sha256Hex::parse(&sha256_hex(&token)).map_err(AppError::internal)?;
        let expires = self
            .credits()
            .issue_replay_token(IssueReplayToken {
                room_id: room.clone(),
                token_hash: hash,
                wallet: wallet.clone(),
                replay_url: replay_url.to_owned(),
            })
            .await?;
        Ok(Reply::json(
            200,
            Body::new()
                .field("mode", "worker_gated")
                .field("replay_access_token", token)
                .field("replay_access_expires_at", expires)
                .field("replay_expires_at", replay_expires_at)
                .finish(),
        ))
    }

    /// Redeems a replay token once: the recording's URL, or `None`.
    pub async fn redeem_replay(&self, token: &str) -> Result<Option<String>, AppError> {
        let hash = Sha256Hex::parse(&sha256_hex(token)).map_err(AppError::internal)?;
        Ok(self
            .credits()
            .redeem_replay_token(hash)
            .await?
            .map(|access| access.replay_url))
    }
}
