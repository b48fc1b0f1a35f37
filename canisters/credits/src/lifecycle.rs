//! Install and upgrade, as the ckETH minter's `lifecycle`: [`init`] records the first
//! `Installed` event from an [`InitArg`]; [`post_upgrade`] records the next one from an
//! optional [`UpgradeArg`] (stable memory is kept; a missing argument or field keeps the stored
//! value). Timers live on the heap, so the entry points re-arm them after either.

use std::time::Duration;

use candid::{CandidType, Deserialize};

use crate::state::{self, audit::process_event, event::EventType};

/// How often an attestation sweep starts (the original's cron `*/2 * * * *`).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(2 * 60);
/// How often the sweep timer fires: each firing starts a due sweep or goes on with the one in
/// progress by up to `sessions::SWEEP_BATCH` bookings (200 bookings within 2 minutes).
pub const SWEEP_STEP_INTERVAL: Duration = Duration::from_secs(15);
/// How often pending receipts are anchored through the worker (one signature and one
/// replicated outcall per batch: ADR 0025).
pub const ANCHOR_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// How often settlement markers, replay tokens and old connections are pruned.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Install argument.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct InitArg {
    /// Threshold-ECDSA key name: `dfx_test_key` locally, `test_key_1` / `key_1` on mainnet.
    pub ecdsa_key_name: String,
}

/// Upgrade argument; every field optional.
#[derive(Clone, Debug, Default, CandidType, Deserialize, PartialEq, Eq)]
pub struct UpgradeArg {
    /// A new threshold-ECDSA key name.
    pub ecdsa_key_name: Option<String>,
}

/// First install at `now_ns`.
pub fn init(arg: InitArg, now_ns: u64) {
    state::mutate(|s| {
        process_event(
            s,
            now_ns,
            EventType::Installed {
                ecdsa_key_name: arg.ecdsa_key_name,
                installs: 1,
            },
        );
    });
}

/// Upgrade at `now_ns`.
pub fn post_upgrade(arg: Option<UpgradeArg>, now_ns: u64) {
    state::mutate(|s| {
        let config = s.config().clone();
        let ecdsa_key_name = arg
            .and_then(|a| a.ecdsa_key_name)
            .unwrap_or(config.ecdsa_key_name);
        process_event(
            s,
            now_ns,
            EventType::Installed {
                ecdsa_key_name,
                installs: config.installs + 1,
            },
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_keeps_config_unless_args_change_it() {
        init(
            InitArg {
                ecdsa_key_name: "dfx_test_key".into(),
            },
            1,
        );
        post_upgrade(None, 2);
        state::with_config(|c| {
            assert_eq!(c.ecdsa_key_name, "dfx_test_key");
            assert_eq!(c.installs, 2);
        });
        post_upgrade(
            Some(UpgradeArg {
                ecdsa_key_name: Some("key_1".into()),
            }),
            3,
        );
        state::with_config(|c| {
            assert_eq!(c.ecdsa_key_name, "key_1");
            assert_eq!(c.installs, 3);
        });
        assert_eq!(state::with(|s| s.event_count()), 3);
    }
}
