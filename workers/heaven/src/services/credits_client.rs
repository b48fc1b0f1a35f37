//! voice-rooms' credits client in the local stack: the native credits canister this process
//! runs (no network between them; an ic-agent client takes its place against the IC).

use async_trait::async_trait;
use credits_canister::api as canister;
use credits_canister::native::{NativeCredits, NativeCreditsError};
use voice_rooms::auth::Wallet;
use voice_rooms::{AttestOutcome, CeloOutcome, CreditBalance, CreditsClient, CreditsError};

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

#[async_trait]
impl CreditsClient for InProcessCredits {
    async fn balance(&self, wallet: &Wallet) -> Result<CreditBalance, CreditsError> {
        let b = self
            .0
            .balance(canister_wallet(wallet)?)
            .await
            .map_err(client_error)?;
        Ok(CreditBalance {
            remaining_seconds: b.remaining_seconds.0,
            base_granted_seconds: b.base_granted_seconds.0,
            bonus_granted_seconds: b.bonus_granted_seconds.0,
            consumed_seconds: b.consumed_seconds.0,
        })
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
}
