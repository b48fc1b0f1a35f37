//! The MusicBrainz web service client: every call waits for a turn on the shared
//! [`MbLimiter`], sends `User-Agent: MB_USER_AGENT` and `Accept: application/json`, does not
//! follow redirects (a 301/302 for a merged MBID is handled by the lookup routes, which cache a
//! `{redirect}` entry), and retries a 503 after a back-off shared by all replicas.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use bytes::Bytes;

use crate::config::{LimiterConfig, ResolverConfig};
use crate::error::AppError;
use crate::limiter::MbLimiter;

/// What MusicBrainz answered.
#[derive(Debug)]
pub struct MbResponse {
    /// HTTP status.
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl MbResponse {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why no MusicBrainz answer could be had.
#[derive(Debug, thiserror::Error)]
pub enum MbError {
    /// The limiter refused to queue the call (503 with `Retry-After` to the client).
    #[error("MusicBrainz queue is full")]
    Busy(Duration),
    /// The call failed before a status arrived (connection, timeout, body).
    #[error("MusicBrainz request failed: {0}")]
    Transport(String),
    /// The cache store holding the limiter failed.
    #[error("{0}")]
    Limiter(String),
}

impl From<MbError> for AppError {
    fn from(err: MbError) -> Self {
        match err {
            MbError::Busy(wait) => AppError::Busy(wait),
            MbError::Transport(detail) => AppError::UpstreamUnreachable(detail),
            MbError::Limiter(detail) => AppError::StoreUnavailable(detail),
        }
    }
}

fn limiter_error(err: AppError) -> MbError {
    match err {
        AppError::Busy(wait) => MbError::Busy(wait),
        other => MbError::Limiter(other.to_string()),
    }
}

/// A rate-limited MusicBrainz client.
pub struct MusicBrainz {
    http: reqwest::Client,
    base_url: String,
    user_agent: String,
    limiter: Arc<MbLimiter>,
    retries_on_503: u32,
    backoff: Duration,
}

impl MusicBrainz {
    /// A client for `config.musicbrainz_url` spacing its calls with `limiter`.
    pub fn new(config: &ResolverConfig, limiter: Arc<MbLimiter>) -> Self {
        let LimiterConfig {
            retries_on_503,
            backoff,
            request_timeout,
            ..
        } = config.limiter.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(request_timeout)
            .build()
            .unwrap_or_default();
        Self {
            http,
            base_url: config.musicbrainz_url.clone(),
            user_agent: config.user_agent.clone(),
            limiter,
            retries_on_503,
            backoff,
        }
    }

    /// `GET {base}/ws/2/{path_and_query}` in turn. After a 503 it backs off (the
    /// `Retry-After` seconds, else `backoff` doubled per attempt) and retries up to
    /// `retries_on_503` times while the back-off fits in the limiter's `max_wait`; then the
    /// last 503 is returned as is.
    pub async fn get(&self, path_and_query: &str) -> Result<MbResponse, MbError> {
        let url = format!("{}/ws/2/{path_and_query}", self.base_url);
        let mut attempt = 0u32;
        loop {
            self.limiter.acquire().await.map_err(limiter_error)?;
            let response = self
                .http
                .get(&url)
                .header(header::USER_AGENT, &self.user_agent)
                .header(header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| MbError::Transport(e.to_string()))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| MbError::Transport(e.to_string()))?;
            if status == 503 && attempt < self.retries_on_503 {
                let delay = retry_after(&headers)
                    .unwrap_or_else(|| self.backoff * 2u32.saturating_pow(attempt));
                if delay <= self.limiter.max_wait() {
                    tracing::warn!(
                        url,
                        delay_ms = delay.as_millis() as u64,
                        "MusicBrainz 503: backing off"
                    );
                    self.limiter.back_off(delay).await.map_err(limiter_error)?;
                    attempt += 1;
                    continue;
                }
            }
            let location = headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Ok(MbResponse {
                status,
                location,
                body,
            });
        }
    }
}

/// `Retry-After` in seconds, if present and numeric.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The MBID in a redirect `Location` after `{entity}/`: 36 characters of `[a-f0-9-]`.
pub fn redirect_target(location: &str, entity: &str) -> Option<String> {
    let marker = format!("{entity}/");
    let mut rest = location;
    while let Some(at) = rest.find(&marker) {
        let after = &rest[at + marker.len()..];
        let candidate: String = after.chars().take(36).collect();
        if candidate.len() == 36
            && candidate
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
        {
            return Some(candidate);
        }
        rest = &rest[at + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_redirect_target() {
        assert_eq!(
            redirect_target(
                "https://musicbrainz.org/ws/2/artist/a74b1b7f-71a5-4011-9441-d0b5e4122711?inc=genres",
                "artist"
            )
            .as_deref(),
            Some("a74b1b7f-71a5-4011-9441-d0b5e4122711")
        );
        assert_eq!(redirect_target("/ws/2/artist/short", "artist"), None);
    }
}
