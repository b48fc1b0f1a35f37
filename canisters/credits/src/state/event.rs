//! The audit trail: every change to the credits canister's state is an [`EventType`], applied
//! and appended to a stable log in one step ([`super::audit::process_event`]). Each variant
//! says what happened in business terms and carries everything needed to apply it again, so the
//! state can be rebuilt from the log ([`super::audit::replay_events`]).
//!
//! Variant and field numbers are permanent.

use minicbor::{Decode, Encode};

use super::records::{ChainConfig, CreditEvent, SweepResult};
use crate::api::{PresenceChange, SweepSummary};
use crate::attestation::Outcome;
use crate::duet::replay::ReplayGrant;
use crate::duet::settlement::SettledPayment;
use crate::duet::{EntitlementKind, RoomId, Sha256Hex};
use crate::ledger::Account;
use crate::metering::CreditAlert;
use crate::units::{Seconds, UnixSeconds};
use crate::wallet::Wallet;

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Event {
    /// IC time (nanoseconds) of the message that made the change.
    #[n(0)]
    pub timestamp: u64,
    /// What happened.
    #[n(1)]
    pub payload: EventType,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum EventType {
    /// The canister was installed (`installs` = 1) or upgraded, and signs with `ecdsa_key_name`.
    #[n(0)]
    Installed {
        /// Threshold-ECDSA key name.
        #[n(0)]
        ecdsa_key_name: String,
        /// Installs plus upgrades so far, this one included.
        #[n(1)]
        installs: u64,
    },
    /// A controller set how the chain is read and whether the attestation runs.
    #[n(1)]
    ChainConfigured {
        /// The settings.
        #[n(0)]
        config: ChainConfig,
    },
    /// A controller set the worker principals allowed to call the worker methods.
    #[n(2)]
    WorkersSet {
        /// Principals as text.
        #[n(0)]
        workers: Vec<String>,
    },
    /// A wallet with a `.heaven` name received its one-time base grant (`grant_base`).
    #[n(3)]
    BaseGranted {
        /// The wallet.
        #[n(0)]
        wallet: Wallet,
    },
    /// A Celo-verified wallet received its one-time bonus (`grant_celo_bonus`).
    #[n(4)]
    CeloBonusGranted {
        /// The wallet.
        #[n(0)]
        wallet: Wallet,
    },
    /// A controller corrected an account (`admin_adjust`): these are its new totals.
    #[n(5)]
    AccountAdjusted {
        /// The wallet.
        #[n(0)]
        wallet: Wallet,
        /// The account after.
        #[n(1)]
        account: Account,
    },
    /// A participant joined a free room: its connection is metered from `at`.
    #[n(6)]
    ConnectionOpened {
        /// The worker's connection id.
        #[n(0)]
        connection_id: String,
        /// Whose credit it uses.
        #[n(1)]
        wallet: Wallet,
        /// The first watermark.
        #[n(2)]
        at: UnixSeconds,
    },
    /// A connection was billed up to `up_to` (`debit_usage` when the wallet has an account).
    #[n(7)]
    UsageMetered {
        /// The connection.
        #[n(0)]
        connection_id: String,
        /// The new watermark.
        #[n(1)]
        up_to: UnixSeconds,
        /// Seconds taken from the account.
        #[n(2)]
        debited: Seconds,
        /// Warnings raised.
        #[n(3)]
        alerts: Vec<CreditAlert>,
    },
    /// A participant left: nothing after `at` is billed.
    #[n(8)]
    ConnectionClosed {
        /// The connection.
        #[n(0)]
        connection_id: String,
        /// When.
        #[n(1)]
        at: UnixSeconds,
    },
    /// A worker claimed a payment signature before settling it with the facilitator.
    #[n(9)]
    SettlementClaimed {
        /// The room.
        #[n(0)]
        room_id: RoomId,
        /// sha256 of the signature.
        #[n(1)]
        signature_hash: Sha256Hex,
        /// The payer, when known.
        #[n(2)]
        wallet: Option<Wallet>,
        /// What is bought.
        #[n(3)]
        entitlement: EntitlementKind,
    },
    /// The facilitator settled a claimed signature: the marker is settled and the payer's
    /// entitlement runs until the payment's `expires_at`.
    #[n(10)]
    SettlementCommitted {
        /// The room.
        #[n(0)]
        room_id: RoomId,
        /// sha256 of the signature.
        #[n(1)]
        signature_hash: Sha256Hex,
        /// The payment.
        #[n(2)]
        payment: SettledPayment,
    },
    /// Settling failed: the claim is dropped and the signature may be presented again.
    #[n(11)]
    SettlementReleased {
        /// The room.
        #[n(0)]
        room_id: RoomId,
        /// sha256 of the signature.
        #[n(1)]
        signature_hash: Sha256Hex,
    },
    /// A viewer's entitlement was extended without a payment (a free room or replay).
    #[n(12)]
    EntitlementExtended {
        /// The room.
        #[n(0)]
        room_id: RoomId,
        /// The viewer.
        #[n(1)]
        wallet: Wallet,
        /// Live or replay.
        #[n(2)]
        entitlement: EntitlementKind,
        /// The new expiry.
        #[n(3)]
        expires_at: UnixSeconds,
    },
    /// A one-time replay access token was issued.
    #[n(13)]
    ReplayTokenIssued {
        /// sha256 of the token.
        #[n(0)]
        token_hash: Sha256Hex,
        /// What it opens.
        #[n(1)]
        grant: ReplayGrant,
    },
    /// A replay token was used (or found expired) and is gone.
    #[n(14)]
    ReplayTokenSpent {
        /// sha256 of the token.
        #[n(0)]
        token_hash: Sha256Hex,
    },
    /// Housekeeping at this event's time: settlement markers older than 48 h, expired replay
    /// tokens and connections closed more than 48 h ago were dropped.
    #[n(15)]
    Pruned,
    /// A booked-session participant joined or left.
    #[n(16)]
    PresenceRecorded {
        /// The booking id (decimal).
        #[n(0)]
        booking_id: String,
        /// Who.
        #[n(1)]
        wallet: Wallet,
        /// Join or leave.
        #[n(2)]
        change: PresenceChange,
        /// When.
        #[n(3)]
        at: UnixSeconds,
    },
    /// A threshold-ECDSA public key was fetched and its address is now in use.
    #[n(17)]
    SignerKeyFetched {
        /// `<key name>|<role>`.
        #[n(0)]
        key: String,
        /// SEC1 public key.
        #[n(1)]
        public_key: Vec<u8>,
    },
    /// The oracle's next transaction nonce on a chain (read from the chain, advanced by a
    /// reservation, or handed back).
    #[n(18)]
    OracleNonceSet {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
        /// Next nonce.
        #[n(1)]
        nonce: u64,
    },
    /// The oracle sent an `attest` transaction for a booking (with a nonce reserved before).
    #[n(19)]
    AttestationSent {
        /// The booking id (decimal).
        #[n(0)]
        booking_id: String,
        /// The verdict.
        #[n(1)]
        outcome: Outcome,
        /// `0x` metrics hash.
        #[n(2)]
        metrics_hash: String,
        /// `0x` transaction hash.
        #[n(3)]
        tx_hash: String,
        /// The nonce it used.
        #[n(4)]
        nonce: u64,
        /// The chain it was sent on.
        #[n(5)]
        chain_id: u64,
    },
    /// An attestation sweep ended; its summary is kept for the `sweeps` query.
    #[n(20)]
    SweepCompleted {
        /// What it did.
        #[n(0)]
        summary: SweepSummary,
    },
    /// A wallet's account was imported from the original's D1 (`credit_accounts`,
    /// `verifications`).
    #[n(21)]
    AccountImported {
        /// The wallet.
        #[n(0)]
        wallet: Wallet,
        /// Its totals.
        #[n(1)]
        account: Account,
        /// When its Celo bonus was granted (the once-only gate), if it was.
        #[n(2)]
        bonus_granted_at: Option<UnixSeconds>,
    },
    /// A row of the original's `credit_events` was imported as it was.
    #[n(22)]
    CreditEventImported {
        /// The row.
        #[n(0)]
        row: CreditEvent,
    },
    /// A send of the oracle failed after it may have reached the node: its nonce on that
    /// chain is unknown until read from the chain again.
    #[n(23)]
    OracleNonceForgotten {
        /// Chain id.
        #[n(0)]
        chain_id: u64,
    },
    /// An attestation sweep started over these bookings (highest id first).
    #[n(24)]
    SweepStarted {
        /// The bookings.
        #[n(0)]
        bookings: Vec<String>,
    },
    /// The sweep in progress looked at its next booking.
    #[n(25)]
    SweepBookingDone {
        /// The booking.
        #[n(0)]
        booking_id: String,
        /// What it came to.
        #[n(1)]
        result: SweepResult,
    },
    /// A controller set (or, with `None`, cleared) the worker endpoint receipts are anchored
    /// through.
    #[n(26)]
    AnchorConfigured {
        /// `https://<api host>/internal/anchor`.
        #[n(0)]
        url: Option<String>,
    },
    /// The worker stored the receipts of log entries `first..=last` (the pending ones) as one
    /// blob and anchored it on Arweave: they are no longer pending.
    #[n(27)]
    ReceiptsAnchored {
        /// The `Idempotency-Key` sent.
        #[n(0)]
        key: String,
        /// Log index of the first receipt.
        #[n(1)]
        first: u64,
        /// Log index of the last receipt.
        #[n(2)]
        last: u64,
        /// Receipts in the batch.
        #[n(3)]
        receipts: u64,
        /// The blob id the worker answered.
        #[n(4)]
        id: String,
        /// Its Arweave URL, when the worker's store anchors.
        #[n(5)]
        arweave_url: Option<String>,
    },
}
