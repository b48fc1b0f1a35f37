//! The MusicBrainz rate limiter: one turn per `spacing` (1.1 s) across every replica and every
//! restart, because turns are reserved atomically in the shared [`CacheStore`] slot
//! [`MUSICBRAINZ_SLOT`](crate::cache::MUSICBRAINZ_SLOT) (a SQLite row or a Redis key), not in
//! process memory as the original's `lastMbRequest` was.
//!
//! Requests wait for their turn in a bounded queue: past `queue_limit` waiters in this process,
//! or when the reserved turn is further away than `max_wait`, the caller gets
//! [`AppError::Busy`] (503 with `Retry-After`). A 503 from MusicBrainz pushes the shared slot
//! forward ([`MbLimiter::back_off`]) so every replica pauses, not just the one that saw it.
//!
//! Turns are handed out ahead of time, so a request whose timer fires late (a busy machine)
//! would otherwise leave less than `spacing` before the next turn. After its wait each request
//! therefore marks its real send time on a second shared slot
//! ([`MUSICBRAINZ_SENT`](crate::cache::MUSICBRAINZ_SENT)) and, if the previous request went out
//! late, waits the difference.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use portability::CacheStore;

use crate::cache::{MUSICBRAINZ_SENT, MUSICBRAINZ_SLOT};
use crate::config::LimiterConfig;
use crate::error::AppError;

/// The shared MusicBrainz gate of one process.
pub struct MbLimiter {
    store: Arc<dyn CacheStore>,
    spacing: Duration,
    queue_limit: usize,
    max_wait: Duration,
    waiting: AtomicUsize,
}

/// Decrements the waiter count when a waiting request ends (turn taken or cancelled).
struct QueuePlace<'a>(&'a AtomicUsize);

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl MbLimiter {
    /// A limiter reserving turns in `store`.
    pub fn new(store: Arc<dyn CacheStore>, config: &LimiterConfig) -> Self {
        Self {
            store,
            spacing: config.spacing,
            queue_limit: config.queue_limit,
            max_wait: config.max_wait,
            waiting: AtomicUsize::new(0),
        }
    }

    /// Requests of this process currently waiting for a turn.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Waits until this caller may send one MusicBrainz request.
    ///
    /// Errors: [`AppError::Busy`] when the queue is full or the turn is more than `max_wait`
    /// away (the turn is then given up; the slot stays reserved, which only spaces later
    /// requests more); [`AppError::Internal`] when the cache store fails.
    pub async fn acquire(&self) -> Result<(), AppError> {
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _place = QueuePlace(&self.waiting);
        if queued >= self.queue_limit {
            let estimate = self.spacing * u32::try_from(self.queue_limit).unwrap_or(u32::MAX);
            return Err(AppError::Busy(estimate));
        }
        let wait = self
            .store
            .reserve_slot(MUSICBRAINZ_SLOT, self.spacing)
            .await?;
        if wait > self.max_wait {
            tracing::warn!(
                wait_ms = wait.as_millis() as u64,
                "MusicBrainz turn too far away"
            );
            return Err(AppError::Busy(wait));
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let late_gap = self
            .store
            .reserve_slot(MUSICBRAINZ_SENT, self.spacing)
            .await?;
        if !late_gap.is_zero() {
            tracing::debug!(
                wait_ms = late_gap.as_millis() as u64,
                "previous MusicBrainz request went out late; keeping the spacing"
            );
            tokio::time::sleep(late_gap.min(self.spacing)).await;
        }
        Ok(())
    }

    /// Pauses every replica's MusicBrainz traffic for `delay` after the turns already given
    /// out (MusicBrainz answered 503).
    pub async fn back_off(&self, delay: Duration) -> Result<(), AppError> {
        if delay.is_zero() {
            return Ok(());
        }
        self.store.reserve_slot(MUSICBRAINZ_SLOT, delay).await?;
        Ok(())
    }

    /// The longest a request may wait for a turn.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portability::SqliteCacheStore;
    use std::time::Instant;

    fn config(queue_limit: usize) -> LimiterConfig {
        LimiterConfig {
            spacing: Duration::from_millis(100),
            queue_limit,
            max_wait: Duration::from_millis(250),
            retries_on_503: 0,
            backoff: Duration::from_millis(100),
            request_timeout: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn spaces_turns_and_refuses_far_turns() {
        let store: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        let limiter = MbLimiter::new(store, &config(8));
        let start = Instant::now();
        limiter.acquire().await.unwrap();
        limiter.acquire().await.unwrap();
        limiter.acquire().await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(195));
        // Reserve far ahead: the next turn is beyond max_wait.
        limiter.back_off(Duration::from_millis(500)).await.unwrap();
        assert!(matches!(limiter.acquire().await, Err(AppError::Busy(_))));
        assert_eq!(limiter.waiting(), 0);
    }

    #[tokio::test]
    async fn a_late_previous_send_pushes_the_next_request_back() {
        let store: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        let limiter = MbLimiter::new(store.clone(), &config(8));
        let spacing = Duration::from_millis(100);
        let start = Instant::now();
        // Another request takes the turn at `start` but only goes out 60 ms later.
        store.reserve_slot(MUSICBRAINZ_SLOT, spacing).await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        store.reserve_slot(MUSICBRAINZ_SENT, spacing).await.unwrap();
        // Our turn is at start + 100 ms, but the spacing counts from the late send.
        limiter.acquire().await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(155),
            "went out {:?} after the previous turn",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let store: Arc<dyn CacheStore> =
            Arc::new(SqliteCacheStore::open_in_memory().await.unwrap());
        let limiter = Arc::new(MbLimiter::new(store, &config(1)));
        limiter.acquire().await.unwrap();
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(limiter.acquire().await, Err(AppError::Busy(_))));
        waiter.await.unwrap().unwrap();
    }
}
