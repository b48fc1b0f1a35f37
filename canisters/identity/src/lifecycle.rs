//! Install and upgrade, as the ckETH minter's `lifecycle`: [`init`] records the first
//! `Installed` event from [`InitArg`]; [`post_upgrade`] records the next one from the optional
//! [`UpgradeArg`] (stable memory is kept; a missing argument or field keeps the stored value)
//! and migrates what older builds stored. Timers and certified responses live on the heap, so
//! the entry points re-arm and rebuild them after either.

mod init;
mod upgrade;

use std::time::Duration;

pub use init::{InitArg, init};
pub use upgrade::{UpgradeArg, post_upgrade};

/// How often the expiry sweep runs on the IC.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

#[cfg(test)]
mod tests;
