//! The health-aware put policy: Load first; on a Load outage (connection error, timeout, 5xx:
//! [`Unavailable`](PortabilityError::Unavailable)) the put goes to Irys and the result names
//! `irys` as its backend. A 4xx from Load (bad key, too large) is returned as is: it would fail
//! the same way anywhere. After `threshold` consecutive outages a [`Breaker`] skips Load for
//! `cooldown`; then one put probes Load again, closing the breaker on success.

use std::ops::Range;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use portability::{Anchor, BlobStream, BlobTag, PortabilityError, Result};

use crate::index::BlobRecord;
use crate::irys::IrysBundler;
use crate::load::LoadAgent;
use crate::spool::Spooled;
use crate::store::{BlobBackend, Uploaded};

/// Breaker settings (`BLOB_BREAKER_THRESHOLD`, `BLOB_BREAKER_COOLDOWN_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive outages that open the breaker (at least 1).
    pub threshold: u32,
    /// How long an open breaker skips the primary.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            threshold: 3,
            cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    Probing,
}

/// A consecutive-failure circuit breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the primary may be tried now. After the cool-down the first caller gets `true`
    /// (the probe) and others `false` until the probe reports.
    pub fn allow(&self) -> bool {
        let mut state = self.state();
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if Instant::now() >= until => {
                *state = State::Probing;
                true
            }
            State::Open { .. } | State::Probing => false,
        }
    }

    /// The primary answered (successfully or with a client error): close.
    pub fn success(&self) {
        *self.state() = State::Closed { failures: 0 };
    }

    /// The primary had an outage: count it, opening the breaker at the threshold (or at once
    /// after a failed probe).
    pub fn failure(&self) {
        let mut state = self.state();
        let open = State::Open {
            until: Instant::now() + self.config.cooldown,
        };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.config.threshold.max(1) => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            _ => open,
        };
    }

    /// Whether the breaker currently skips the primary.
    pub fn is_open(&self) -> bool {
        !matches!(*self.state(), State::Closed { .. })
    }
}

/// Load with Irys as fallback.
#[derive(Debug)]
pub struct FailoverBackend {
    load: LoadAgent,
    irys: Option<IrysBundler>,
    breaker: Breaker,
}

impl FailoverBackend {
    /// Load first, then `irys` (if configured) on outages, under a breaker.
    pub fn new(load: LoadAgent, irys: Option<IrysBundler>, breaker: BreakerConfig) -> Self {
        Self {
            load,
            irys,
            breaker: Breaker::new(breaker),
        }
    }

    /// The breaker.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    fn irys(&self, why: &str) -> Result<&IrysBundler> {
        self.irys
            .as_ref()
            .ok_or_else(|| PortabilityError::Unavailable {
                server: "Load S3 agent (no Irys fallback configured: set IRYS_PRIVATE_KEY)"
                    .to_owned(),
                message: why.to_owned(),
            })
    }

    async fn to_irys(
        &self,
        blob: Spooled,
        content_type: &str,
        tags: &[BlobTag],
        why: String,
    ) -> Result<Uploaded> {
        let irys = self.irys(&why)?;
        if blob.size > irys.max_size() {
            return Err(PortabilityError::InvalidInput(format!(
                "Load is unavailable ({why}) and the blob ({} bytes) exceeds the Irys limit of {} bytes",
                blob.size,
                irys.max_size()
            )));
        }
        tracing::warn!(reason = %why, "blob put fails over from Load to Irys");
        irys.upload(blob, content_type, tags).await
    }
}

#[async_trait]
impl BlobBackend for FailoverBackend {
    fn max_size(&self) -> u64 {
        self.load.max_size()
    }

    async fn upload(
        &self,
        blob: Spooled,
        content_type: &str,
        tags: &[BlobTag],
    ) -> Result<Uploaded> {
        if !self.breaker.allow() {
            return self
                .to_irys(
                    blob,
                    content_type,
                    tags,
                    "breaker open after repeated Load outages".to_owned(),
                )
                .await;
        }
        match self.load.upload_spooled(&blob, content_type, tags).await {
            Ok(id) => {
                self.breaker.success();
                Ok(Uploaded {
                    gateway_url: self.load.gateway_url(&id),
                    id,
                    backend: "load".to_owned(),
                })
            }
            Err(e @ PortabilityError::Unavailable { .. }) => {
                self.breaker.failure();
                self.to_irys(blob, content_type, tags, e.to_string()).await
            }
            Err(e) => {
                self.breaker.success();
                Err(e)
            }
        }
    }

    async fn read(&self, record: &BlobRecord, range: Option<Range<u64>>) -> Result<BlobStream> {
        match record.backend.as_str() {
            "irys" => {
                self.irys("blob was stored on Irys")?
                    .read(record, range)
                    .await
            }
            _ => self.load.read(record, range).await,
        }
    }

    async fn anchor(&self, record: &BlobRecord) -> Result<Anchor> {
        match record.backend.as_str() {
            "irys" => self.irys("blob was stored on Irys")?.anchor(record).await,
            _ => self.load.anchor(record).await,
        }
    }
}
