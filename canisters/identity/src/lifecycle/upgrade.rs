//! Upgrade: stable memory is kept; the argument may change the key name; plain-text secrets
//! older builds stored are replaced by their SHA-256.

use candid::{CandidType, Deserialize};

use crate::secret::sha256_hex;
use crate::state::{self, audit::process_event, event::EventType};
use crate::time::Now;

/// Upgrade argument: every field optional, `None` keeps what is stored. The install argument
/// (`record { ecdsa_key_name = "..." }`, which dfx sends again on upgrade) decodes as this too.
#[derive(Clone, Debug, Default, CandidType, Deserialize, PartialEq, Eq)]
pub struct UpgradeArg {
    /// A new threshold-ECDSA key name.
    pub ecdsa_key_name: Option<String>,
}

/// Upgrade at `now`.
pub fn post_upgrade(arg: Option<UpgradeArg>, now: Now) {
    state::mutate(|s| {
        let config = s.config();
        let ecdsa_key_name = arg
            .and_then(|a| a.ecdsa_key_name)
            .unwrap_or_else(|| config.ecdsa_key_name.clone());
        let installs = config.installs + 1;
        let migrated: Vec<_> = s
            .secrets()
            .legacy_values()
            .into_iter()
            .map(|(which, value)| EventType::SecretSet {
                which,
                sha256: Some(sha256_hex(value)),
            })
            .collect();
        process_event(
            s,
            now,
            EventType::Installed {
                ecdsa_key_name,
                installs,
            },
        );
        for event in migrated {
            process_event(s, now, event);
        }
        if state::audit::directory::profile_indexes_missing(s) {
            process_event(s, now, EventType::ProfileIndexesBuilt);
        }
    });
}
