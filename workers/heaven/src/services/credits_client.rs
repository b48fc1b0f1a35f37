//! voice-rooms' credits client in the local stack: the native credits canister this process
//! runs (no network between them; `canister_bridge::AgentCredits` takes its place against a
//! deployed canister). The type conversions are the bridge's, shared by both clients.

use async_trait::async_trait;
use canister_bridge::credits::{
    attest_outcome, balance_of, canister_wallet, celo_outcome, ensured, meter_requests, metered,
    presence_report, refused, seconds, unix,
};
use credits_canister::api as canister;
use credits_canister::native::{NativeCredits, NativeCreditsError};
use voice_rooms::auth::Wallet;
use voice_rooms::credits::duet_api;
use voice_rooms::{
    AttestOutcome, CeloOutcome, CreditBalance, CreditsClient, CreditsError, EnsuredCredits,
    MeterRefused, MeterRequest, Metered, PresenceChange,
};

/// The in-process credits canister as voice-rooms' credits client.
#[derive(Clone, Debug)]
pub struct InProcessCredits(pub NativeCredits);

fn client_error(err: NativeCreditsError) -> CreditsError {
    match err {
        NativeCreditsError::Panicked => CreditsError::Rejected(err.to_string()),
        other => CreditsError::Unreachable(other.to_string()),
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
        let requests = meter_requests(requests)?;
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
        let report = presence_report(booking_id, wallet, change, at)?;
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
        Ok(celo_outcome(outcome))
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
        Ok(attest_outcome(outcome))
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
