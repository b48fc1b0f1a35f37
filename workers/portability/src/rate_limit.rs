//! A rate limit shared by every replica: at most `limit` events per `window` per key, with
//! bursts up to `limit`, over [`CacheStore::reserve_slot`] (the generic cell rate algorithm).
//!
//! Each event reserves the next turn of a limiter spaced `window / limit` apart; the event is
//! allowed when its turn is at most `window - spacing` away, i.e. when fewer than `limit`
//! turns are queued. A refused event still takes its turn, so a caller that keeps hammering
//! stays refused until it slows down.

use std::time::Duration;

use crate::cache::CacheStore;
use crate::error::{PortabilityError, Result};

/// `limit` events per `window` for each key of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// Namespace of the limiter keys (`voice-agent/nonce/ip`).
    pub name: String,
    /// Events allowed per window (and the largest burst).
    pub limit: u32,
    /// The window.
    pub window: Duration,
}

/// Whether an event may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Under the limit.
    Allowed,
    /// Over the limit; a retry after this long would be allowed.
    Limited {
        /// Suggested `Retry-After`.
        retry_after: Duration,
    },
}

impl RateLimit {
    /// A limit of `limit` per `window` named `name`.
    pub fn new(name: impl Into<String>, limit: u32, window: Duration) -> Self {
        Self {
            name: name.into(),
            limit,
            window,
        }
    }

    fn spacing(&self) -> Result<Duration> {
        if self.limit == 0 || self.window.is_zero() {
            return Err(PortabilityError::InvalidInput(format!(
                "rate limit {} needs a positive limit and window",
                self.name
            )));
        }
        Ok(self.window / self.limit)
    }

    /// Counts one event for `key` and says whether it is within the limit.
    pub async fn admit(&self, cache: &dyn CacheStore, key: &str) -> Result<Admission> {
        let spacing = self.spacing()?;
        let wait = cache
            .reserve_slot(&format!("ratelimit/{}/{key}", self.name), spacing)
            .await?;
        let allowance = self.window.saturating_sub(spacing);
        if wait <= allowance {
            Ok(Admission::Allowed)
        } else {
            Ok(Admission::Limited {
                retry_after: wait - allowance,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::SqliteCacheStore;

    #[tokio::test]
    async fn a_burst_of_limit_events_is_allowed_then_refused_per_key() {
        let cache = SqliteCacheStore::open_in_memory().await.unwrap();
        let limit = RateLimit::new("test", 3, Duration::from_secs(600));
        for _ in 0..3 {
            assert_eq!(limit.admit(&cache, "a").await.unwrap(), Admission::Allowed);
        }
        let Admission::Limited { retry_after } = limit.admit(&cache, "a").await.unwrap() else {
            panic!("the fourth event in the window must be refused");
        };
        assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(600));
        assert_eq!(
            limit.admit(&cache, "b").await.unwrap(),
            Admission::Allowed,
            "another key has its own budget"
        );
        let zero = RateLimit::new("bad", 0, Duration::from_secs(1));
        assert!(zero.admit(&cache, "a").await.is_err());
    }
}
