//! voice-rooms' credits client in the local stack: the native credits canister this process
//! runs (no network between them; an ic-agent client takes its place against the IC).

use async_trait::async_trait;
use credits_canister::api as canister;
use credits_canister::native::{NativeCredits, NativeCreditsError};
use credits_canister::units::UnixSeconds;
use voice_rooms::auth::Wallet;
use voice_rooms::credits::duet_api;
use voice_rooms::{
    AttestOutcome, CeloOutcome, CreditAlert, CreditBalance, CreditsClient, CreditsError,
    EnsuredCredits, MeterRefused, MeterRequest, Metered, PresenceChange,
};

/// The in-process credits canister as voice-rooms' credits client.
#[derive(Clone, Debug)]
pub struct InProcessCredits(pub NativeCredits);

fn canister_wallet(wallet: &Wallet) -> Result<credits_canister::wallet::Wallet, CreditsError> {
    credits_canister::wallet::Wallet::parse(wallet.as_str())
        .map_err(|e| CreditsError::Rejected(e.to_string()))
}

fn client_error(err: NativeCreditsError) -> CreditsError {
    match err {
        NativeCreditsError::Panicked => CreditsError::Rejected(err.to_string()),
        other => CreditsError::Unreachable(other.to_string()),
    }
}

fn balance_of(b: canister::CreditBalance) -> CreditBalance {
    CreditBalance {
        remaining_seconds: b.remaining_seconds.0,
        base_granted_seconds: b.base_granted_seconds.0,
        bonus_granted_seconds: b.bonus_granted_seconds.0,
        consumed_seconds: b.consumed_seconds.0,
    }
}

fn unix(at: i64) -> UnixSeconds {
    UnixSeconds(u64::try_from(at).unwrap_or(0))
}

fn metered(
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

fn refused(err: canister::MeterError) -> MeterRefused {
    match err {
        canister::MeterError::UnknownConnection => MeterRefused::UnknownConnection,
        canister::MeterError::WalletMismatch => MeterRefused::WalletMismatch,
    }
}

#[async_trait]
impl CreditsClient for InProcessCredits {
    async fn balance(&self, wallet: &Wallet) -> Result<CreditBalance, CreditsError> {
        let b = self
            .0
            .balance(canister_wallet(wallet)?)
            .await
            .map_err(client_error)?;
        Ok(balance_of(b))
    }

    async fn ensure_credits(&self, wallet: &Wallet) -> Result<EnsuredCredits, CreditsError> {
        let outcome = self
            .0
            .ensure_credits(canister_wallet(wallet)?)
            .await
            .map_err(client_error)?;
        Ok(match outcome {
            canister::EnsureOutcome::Ready(b) => EnsuredCredits::Ready(balance_of(b)),
            canister::EnsureOutcome::NameRequired => EnsuredCredits::NameRequired,
        })
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
        let outcome = self
            .0
            .open_connection(request)
            .await
            .map_err(client_error)?;
        Ok(outcome.map_err(refused))
    }

    async fn meter(
        &self,
        requests: Vec<MeterRequest>,
    ) -> Result<Vec<Result<Metered, MeterRefused>>, CreditsError> {
        let requests = requests
            .into_iter()
            .map(|r| {
                Ok(canister::MeterRequest {
                    connection_id: r.connection_id,
                    wallet: canister_wallet(&r.wallet)?,
                    up_to: unix(r.up_to),
                })
            })
            .collect::<Result<Vec<_>, CreditsError>>()?;
        let outcomes = self.0.meter(requests).await.map_err(client_error)?;
        Ok(outcomes.into_iter().map(metered).collect())
    }

    async fn close_connection(
        &self,
        connection_id: &str,
        at: i64,
    ) -> Result<Result<Metered, MeterRefused>, CreditsError> {
        let outcome = self
            .0
            .close_connection(connection_id.to_owned(), unix(at))
            .await
            .map_err(client_error)?;
        Ok(metered(outcome))
    }

    async fn record_presence(
        &self,
        booking_id: &str,
        wallet: &Wallet,
        change: PresenceChange,
        at: i64,
    ) -> Result<(), CreditsError> {
        let report = canister::PresenceReport {
            booking_id: booking_id.to_owned(),
            wallet: canister_wallet(wallet)?,
            change: match change {
                PresenceChange::Joined => canister::PresenceChange::Joined,
                PresenceChange::Left => canister::PresenceChange::Left,
            },
            at: unix(at),
        };
        self.0
            .record_presence(report)
            .await
            .map_err(client_error)?
            .map_err(|e| CreditsError::Rejected(e.to_string()))
    }

    async fn verify_celo(&self, wallet: &Wallet) -> Result<CeloOutcome, CreditsError> {
        let outcome = self
            .0
            .verify_celo(canister_wallet(wallet)?)
            .await
            .map_err(client_error)?;
        Ok(match outcome {
            canister::CeloOutcome::NotVerified => CeloOutcome::NotVerified,
            canister::CeloOutcome::Verified {
                granted,
                remaining_seconds,
            } => CeloOutcome::Verified {
                granted,
                remaining_seconds: remaining_seconds.0,
            },
        })
    }

    async fn attest_booking(
        &self,
        booking_id: &str,
        force_outcome: Option<&str>,
    ) -> Result<AttestOutcome, CreditsError> {
        let outcome = self
            .0
            .attest_booking(booking_id.to_owned(), force_outcome.map(str::to_owned))
            .await
            .map_err(client_error)?;
        Ok(match outcome {
            canister::AttestOutcome::Submitted {
                outcome, tx_hash, ..
            } => AttestOutcome::Submitted {
                outcome: outcome.name().to_owned(),
                tx_hash,
            },
            canister::AttestOutcome::Refused { status, error } => {
                AttestOutcome::Refused { status, error }
            }
        })
    }

    async fn claim_settlement(
        &self,
        request: duet_api::ClaimSettlement,
    ) -> Result<duet_api::ClaimOutcome, CreditsError> {
        self.0.claim_settlement(request).await.map_err(client_error)
    }

    async fn commit_settlement(
        &self,
        request: duet_api::CommitSettlement,
    ) -> Result<duet_api::CommitOutcome, CreditsError> {
        self.0
            .commit_settlement(request)
            .await
            .map_err(client_error)
    }

    async fn extend_entitlement(
        &self,
        request: duet_api::ExtendEntitlement,
    ) -> Result<i64, CreditsError> {
        let at = self
            .0
            .extend_entitlement(request)
            .await
            .map_err(client_error)?;
        Ok(seconds(at))
    }

    async fn entitlement(
        &self,
        room: &duet_api::RoomId,
        wallet: &duet_api::CanisterWallet,
    ) -> Result<duet_api::EntitlementView, CreditsError> {
        self.0
            .entitlement(room.clone(), wallet.clone())
            .await
            .map_err(client_error)
    }

    async fn issue_replay_token(
        &self,
        request: duet_api::IssueReplayToken,
    ) -> Result<i64, CreditsError> {
        let at = self
            .0
            .issue_replay_token(request)
            .await
            .map_err(client_error)?;
        Ok(seconds(at))
    }

    async fn redeem_replay_token(
        &self,
        token_hash: duet_api::Sha256Hex,
    ) -> Result<Option<duet_api::ReplayAccess>, CreditsError> {
        self.0
            .redeem_replay_token(token_hash)
            .await
            .map_err(client_error)
    }
}

fn seconds(at: UnixSeconds) -> i64 {
    i64::try_from(at.0).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    /// The room metering methods reach the canister's watermark: concurrent meterings of one
    /// connection up to the same second bill it once, and closing bills the rest.
    #[tokio::test]
    async fn metering_goes_through_the_canister_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let native =
            NativeCredits::start(dir.path(), credits_canister::state::ChainConfig::default())
                .unwrap();
        let wallet = Wallet::parse("0x00000000000000000000000000000000000000aa").unwrap();
        native
            .grant(
                canister_wallet(&wallet).unwrap(),
                credits_canister::units::Seconds(1800),
            )
            .await
            .unwrap();
        let credits = InProcessCredits(native);
        assert!(matches!(
            credits.ensure_credits(&wallet).await.unwrap(),
            EnsuredCredits::Ready(b) if b.remaining_seconds == 1800
        ));
        let start = now() - 20;
        credits
            .open_connection("c1", &wallet, start)
            .await
            .unwrap()
            .unwrap();
        let up_to = start + 10;
        let calls = (0..10).map(|_| {
            let credits = credits.clone();
            let wallet = wallet.clone();
            async move {
                credits
                    .meter(vec![MeterRequest {
                        connection_id: "c1".into(),
                        wallet: wallet.clone(),
                        up_to,
                    }])
                    .await
            }
        });
        let mut debited = 0;
        let tasks: Vec<_> = calls.map(tokio::spawn).collect();
        for task in tasks {
            debited += task.await.unwrap().unwrap()[0]
                .as_ref()
                .unwrap()
                .debited_seconds;
        }
        assert_eq!(debited, 10);
        let closed = credits
            .close_connection("c1", start + 15)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.connection_debited_seconds, 15);
        assert_eq!(closed.remaining_seconds, 1785);
        assert_eq!(credits.balance(&wallet).await.unwrap().consumed_seconds, 15);
        assert_eq!(
            credits.close_connection("nope", start).await.unwrap(),
            Err(MeterRefused::UnknownConnection)
        );
    }
}
