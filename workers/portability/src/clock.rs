//! [`Clock`]: wall-clock Unix seconds for workers, or a settable time in tests (expiry of
//! nonces, tokens, quotas and leases read it).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock Unix seconds, or a settable time in tests.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that reads `start` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(start: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(start))))
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, seconds: i64) {
        if let Some(now) = &self.0 {
            now.fetch_add(seconds, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock (no effect on the system clock).
    pub fn set(&self, seconds: i64) {
        if let Some(now) = &self.0 {
            now.store(seconds, Ordering::SeqCst);
        }
    }

    /// Unix seconds (floor), as the originals' `Math.floor(Date.now() / 1000)`.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(now) => now.load(Ordering::SeqCst),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }
}
