//! [`AgentCredits`]: voice-rooms' [`CreditsClient`] over ic-agent, speaking the credits
//! canister's candid with the canister crate's own types (`credits_canister::api`), and the
//! conversions between those types and voice-rooms' (shared with the in-process client).
//!
//! Retrying is safe method by method: metering advances a per-connection watermark (a second
//! is billed once), `open_connection` and `close_connection` answer the same for the same
//! connection, grants are given once; on top of that an update is submitted under one IC
//! request id however often it is retried ([`CanisterAgent::update`]).

use async_trait::async_trait;
use candid::{CandidType, Decode, Principal, encode_args};
use credits_canister::api as canister;
use credits_canister::endpoints::CallError;
use credits_canister::units::UnixSeconds;
use serde::de::DeserializeOwned;
use voice_rooms::auth::Wallet;
use voice_rooms::credits::duet_api;
use voice_rooms::{
    AttestOutcome, CeloOutcome, CreditAlert, CreditBalance, CreditsClient, CreditsError,
    EnsuredCredits, MeterRefused, MeterRequest, Metered, PresenceChange,
};

use crate::agent::CanisterAgent;
use crate::error::{BridgeError, record_failure};

/// The credits canister through ic-agent.
#[derive(Clone, Debug)]
pub struct AgentCredits {
    agent: CanisterAgent,
    canister: Principal,
}

impl AgentCredits {
    /// The client of `canister` through `agent`.
    pub fn new(agent: CanisterAgent, canister: Principal) -> Self {
        Self { agent, canister }
    }

    async fn update<R: CandidType + DeserializeOwned>(
        &self,
        method: &'static str,
        arg: impl candid::utils::ArgumentEncoder,
    ) -> Result<R, CreditsError> {
        let bytes = encode_args(arg).map_err(|e| CreditsError::Rejected(e.to_string()))?;
        let reply = self.agent.update(self.canister, method, bytes).await;
        self.answer::<Result<R, CallError>>(method, reply)?
            .map_err(|e| CreditsError::Rejected(format!("{method}: {e}")))
    }

    async fn query<R: CandidType + DeserializeOwned>(
        &self,
        method: &'static str,
        arg: impl candid::utils::ArgumentEncoder,
    ) -> Result<R, CreditsError> {
        let bytes = encode_args(arg).map_err(|e| CreditsError::Rejected(e.to_string()))?;
        let reply = self.agent.query(self.canister, method, bytes).await;
        self.answer(method, reply)
    }

    fn answer<R: CandidType + DeserializeOwned>(
        &self,
        method: &'static str,
        reply: Result<Vec<u8>, BridgeError>,
    ) -> Result<R, CreditsError> {
        let decoded = reply.and_then(|bytes| {
            Decode!(&bytes, R).map_err(|e| BridgeError::Protocol(format!("{method} reply: {e}")))
        });
        decoded.map_err(|err| {
            record_failure("credits", method, &err);
            credits_error(err)
        })
    }
}

/// voice-rooms' two cases: an unreachable canister, or one that failed the call.
pub fn credits_error(err: BridgeError) -> CreditsError {
    if err.is_retryable() {
        CreditsError::Unreachable(err.to_string())
    } else {
        CreditsError::Rejected(err.to_string())
    }
}

/// The canister's wallet type for a voice-rooms wallet.
pub fn canister_wallet(wallet: &Wallet) -> Result<credits_canister::wallet::Wallet, CreditsError> {
    credits_canister::wallet::Wallet::parse(wallet.as_str())
        .map_err(|e| CreditsError::Rejected(e.to_string()))
}

/// voice-rooms' balance for the canister's.
pub fn balance_of(b: canister::CreditBalance) -> CreditBalance {
    CreditBalance {
        remaining_seconds: b.remaining_seconds.0,
        base_granted_seconds: b.base_granted_seconds.0,
        bonus_granted_seconds: b.bonus_granted_seconds.0,
        consumed_seconds: b.consumed_seconds.0,
    }
}

/// A Unix second as the canister takes it (negative clamps to 0).
pub fn unix(at: i64) -> UnixSeconds {
    UnixSeconds(u64::try_from(at).unwrap_or(0))
}

/// voice-rooms' metering outcome for the canister's.
pub fn metered(
    outcome: Result<canister::MeterOutcome, canister::MeterError>,
) -> Result<Metered, MeterRefused> {
    let o = outcome.map_err(refused)?;
    Ok(Metered {
        debited_seconds: o.debited_seconds.0,
        connection_debited_seconds: o.connection_debited_seconds.0,
        remaining_seconds: o.remaining_seconds.0,
        alerts: o
            .alerts
            .into_iter()
            .map(|a| match a {
                credits_canister::metering::CreditAlert::Low => CreditAlert::Low,
                credits_canister::metering::CreditAlert::Exhausted => CreditAlert::Exhausted,
            })
            .collect(),
        metered_up_to: i64::try_from(o.metered_up_to.0).unwrap_or(i64::MAX),
    })
}

/// voice-rooms' refusal for the canister's.
pub fn refused(err: canister::MeterError) -> MeterRefused {
    match err {
        canister::MeterError::UnknownConnection => MeterRefused::UnknownConnection,
        canister::MeterError::WalletMismatch => MeterRefused::WalletMismatch,
    }
}

/// The canister's meter requests for voice-rooms'.
pub fn meter_requests(
    requests: Vec<MeterRequest>,
) -> Result<Vec<canister::MeterRequest>, CreditsError> {
    requests
        .into_iter()
        .map(|r| {
            Ok(canister::MeterRequest {
                connection_id: r.connection_id,
                wallet: canister_wallet(&r.wallet)?,
                up_to: unix(r.up_to),
            })
        })
        .collect()
}

/// The canister's presence report for voice-rooms' arguments.
pub fn presence_report(
    booking_id: &str,
    wallet: &Wallet,
    change: PresenceChange,
    at: i64,
) -> Result<canister::PresenceReport, CreditsError> {
    Ok(canister::PresenceReport {
        booking_id: booking_id.to_owned(),
        wallet: canister_wallet(wallet)?,
        change: match change {
            PresenceChange::Joined => canister::PresenceChange::Joined,
            PresenceChange::Left => canister::PresenceChange::Left,
        },
        at: unix(at),
    })
}

/// voice-rooms' Celo outcome for the canister's.
pub fn celo_outcome(outcome: canister::CeloOutcome) -> CeloOutcome {
    match outcome {
        canister::CeloOutcome::NotVerified => CeloOutcome::NotVerified,
        canister::CeloOutcome::Verified {
            granted,
            remaining_seconds,
        } => CeloOutcome::Verified {
            granted,
            remaining_seconds: remaining_seconds.0,
        },
    }
}

/// voice-rooms' attestation outcome for the canister's.
pub fn attest_outcome(outcome: canister::AttestOutcome) -> AttestOutcome {
    match outcome {
        canister::AttestOutcome::Submitted {
            outcome, tx_hash, ..
        } => AttestOutcome::Submitted {
            outcome: outcome.name().to_owned(),
            tx_hash,
        },
        canister::AttestOutcome::Refused { status, error } => {
            AttestOutcome::Refused { status, error }
        }
    }
}

/// voice-rooms' ensured credits for the canister's.
pub fn ensured(outcome: canister::EnsureOutcome) -> EnsuredCredits {
    match outcome {
        canister::EnsureOutcome::Ready(b) => EnsuredCredits::Ready(balance_of(b)),
        canister::EnsureOutcome::NameRequired => EnsuredCredits::NameRequired,
    }
}

#[async_trait]
impl CreditsClient for AgentCredits {
    async fn balance(&self, wallet: &Wallet) -> Result<CreditBalance, CreditsError> {
        let b: canister::CreditBalance = self.query("balance", (canister_wallet(wallet)?,)).await?;
        Ok(balance_of(b))
    }

    async fn verify_celo(&self, wallet: &Wallet) -> Result<CeloOutcome, CreditsError> {
        let outcome: canister::CeloOutcome = self
            .update("verify_celo", (canister_wallet(wallet)?,))
            .await?;
        Ok(celo_outcome(outcome))
    }

    async fn attest_booking(
        &self,
        booking_id: &str,
        force_outcome: Option<&str>,
    ) -> Result<AttestOutcome, CreditsError> {
        let outcome: canister::AttestOutcome = self
            .update(
                "attest_booking",
                (booking_id.to_owned(), force_outcome.map(str::to_owned)),
            )
            .await?;
        Ok(attest_outcome(outcome))
    }

    async fn ensure_credits(&self, wallet: &Wallet) -> Result<EnsuredCredits, CreditsError> {
        let outcome: canister::EnsureOutcome = self
            .update("ensure_credits", (canister_wallet(wallet)?,))
            .await?;
        Ok(ensured(outcome))
    }

    async fn open_connection(
        &self,
        connection_id: &str,
        wallet: &Wallet,
        at: i64,
    ) -> Result<Result<(), MeterRefused>, CreditsError> {
        let request = canister::OpenConnection {
            connection_id: connection_id.to_owned(),
            wallet: canister_wallet(wallet)?,
            at: unix(at),
        };
        let outcome: Result<(), canister::MeterError> =
            self.update("open_connection", (request,)).await?;
        Ok(outcome.map_err(refused))
    }

    async fn meter(
        &self,
        requests: Vec<MeterRequest>,
    ) -> Result<Vec<Result<Metered, MeterRefused>>, CreditsError> {
        let outcomes: Vec<Result<canister::MeterOutcome, canister::MeterError>> =
            self.update("meter", (meter_requests(requests)?,)).await?;
        Ok(outcomes.into_iter().map(metered).collect())
    }

    async fn close_connection(
        &self,
        connection_id: &str,
        at: i64,
    ) -> Result<Result<Metered, MeterRefused>, CreditsError> {
        let outcome: Result<canister::MeterOutcome, canister::MeterError> = self
            .update("close_connection", (connection_id.to_owned(), unix(at)))
            .await?;
        Ok(metered(outcome))
    }

    async fn record_presence(
        &self,
        booking_id: &str,
        wallet: &Wallet,
        change: PresenceChange,
        at: i64,
    ) -> Result<(), CreditsError> {
        let report = presence_report(booking_id, wallet, change, at)?;
        self.update("record_presence", (report,)).await
    }

    async fn claim_settlement(
        &self,
        request: duet_api::ClaimSettlement,
    ) -> Result<duet_api::ClaimOutcome, CreditsError> {
        self.update("claim_settlement", (request,)).await
    }

    async fn commit_settlement(
        &self,
        request: duet_api::CommitSettlement,
    ) -> Result<duet_api::CommitOutcome, CreditsError> {
        self.update("commit_settlement", (request,)).await
    }

    async fn extend_entitlement(
        &self,
        request: duet_api::ExtendEntitlement,
    ) -> Result<i64, CreditsError> {
        let at: UnixSeconds = self.update("extend_entitlement", (request,)).await?;
        Ok(seconds(at))
    }

    async fn entitlement(
        &self,
        room: &duet_api::RoomId,
        wallet: &duet_api::CanisterWallet,
    ) -> Result<duet_api::EntitlementView, CreditsError> {
        self.query("entitlement", (room.clone(), wallet.clone()))
            .await
    }

    async fn issue_replay_token(
        &self,
        request: duet_api::IssueReplayToken,
    ) -> Result<i64, CreditsError> {
        let at: UnixSeconds = self.update("issue_replay_token", (request,)).await?;
        Ok(seconds(at))
    }

    async fn redeem_replay_token(
        &self,
        token_hash: duet_api::Sha256Hex,
    ) -> Result<Option<duet_api::ReplayAccess>, CreditsError> {
        self.update("redeem_replay_token", (token_hash,)).await
    }
}

/// Unix seconds as voice-rooms counts them (saturating).
pub fn seconds(at: UnixSeconds) -> i64 {
    i64::try_from(at.0).unwrap_or(i64::MAX)
}
