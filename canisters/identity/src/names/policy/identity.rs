//! The Self credentials the short-name policy reads (`user_identity`): imported by controllers
//! and the migration, read when a short-name permit is asked for.

use crate::api::{ApiError, Now};
use crate::primitives::{Address, Bytes32};
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, Cbor, IdentityRecord, State};

/// Checks a Self identity record for import: its address (stored lowercase) and nullifier.
pub fn check_identity(record: IdentityRecord) -> Result<IdentityRecord, String> {
    let Some(address) = Address::parse_normalized(&record.address) else {
        return Err(format!("invalid address {:?}", record.address));
    };
    if let Some(n) = &record.nullifier_hash
        && Bytes32::parse(&n.trim().to_lowercase()).is_none()
    {
        return Err(format!("invalid nullifier hash for {address}"));
    }
    Ok(IdentityRecord {
        address: address.lower_hex(),
        ..record
    })
}

/// Imports a checked Self identity (replaces by address).
pub fn import_identity(record: IdentityRecord, now: Now) {
    state::mutate(|s| process_event(s, now, EventType::IdentityImported { record }));
}

/// Controller/migration import of the Self identity the short-name policy reads.
pub fn upsert_identity(record: IdentityRecord, now: Now) -> Result<(), String> {
    import_identity(check_identity(record)?, now);
    Ok(())
}

/// The short-name credential of `wallet`.
pub(super) fn short_name_nullifier(s: &State, wallet: Address) -> Result<Bytes32, ApiError> {
    let Some(Cbor(identity)) = s.identities().get(&wallet.lower_hex()) else {
        return Err(ApiError::error(
            403,
            "Short names (5 characters or less) require one-time Self verification. Open Verify Identity, complete it, then try again.",
        ));
    };
    identity
        .nullifier_hash
        .as_deref()
        .and_then(|n| Bytes32::parse(&n.trim().to_lowercase()))
        .ok_or_else(|| {
            ApiError::error(
                403,
                "This wallet has an older verification record without a short-name credential. Run Self verification once to refresh, then try again.",
            )
        })
}
