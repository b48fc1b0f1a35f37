//! The photo pipeline's configuration, read once at start (contracts/api-core.md §3.3, §5).

use std::time::Duration;

use http_common::{ConfigError, EnvSource};

use super::fingerprint::DEV_WATERMARK_SECRET;

/// fal's queue API (`FAL_QUEUE_URL` overrides it, for tests and proxies).
pub const DEFAULT_FAL_QUEUE_URL: &str = "https://queue.fal.run";
/// The model the original called (SeedDream v4.5 edit).
pub const FAL_MODEL: &str = "fal-ai/bytedance/seedream/v4.5/edit";

/// What the photo routes read from the environment.
#[derive(Clone)]
pub struct PhotosConfig {
    /// `FAL_KEY`; without it `POST /pipeline` answers 500 `Server misconfiguration`.
    pub fal_key: Option<String>,
    /// `FAL_QUEUE_URL` (trailing slashes trimmed).
    pub fal_queue_url: String,
    /// `WATERMARK_SECRET`, `dev-secret` when unset in development (refused unset otherwise).
    pub watermark_secret: String,
    /// `HEAVEN_ENV=development`: header identities, unverified bearer tokens, `POST /access`.
    pub development: bool,
    /// `JWT_SECRET`: outside development, the key of the HS256 session tokens (the wallet
    /// sessions the voice services issue) that `Authorization: Bearer` must carry (ADR 0032).
    pub jwt_secret: Option<String>,
    /// `PHOTOS_PUBLIC_ORIGIN`: the origin fal fetches sources from and tile URLs name
    /// (else the request's `Host`).
    pub public_origin: Option<String>,
    /// How often a submitted fal request's status is read (`FAL_POLL_MS`, 2000).
    pub fal_poll_every: Duration,
    /// How long a fal request may take before the job fails (`FAL_TIMEOUT_SECS`, 600).
    pub fal_timeout: Duration,
    /// Lease of a job run (`PHOTO_JOB_LEASE_SECS`, 120), renewed while it runs.
    pub lease: Duration,
}

impl std::fmt::Debug for PhotosConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotosConfig")
            .field("fal_key", &self.fal_key.as_ref().map(|_| "<set>"))
            .field("fal_queue_url", &self.fal_queue_url)
            .field("development", &self.development)
            .field("public_origin", &self.public_origin)
            .finish_non_exhaustive()
    }
}

impl PhotosConfig {
    /// Reads the variables; `development` is the stack's `HEAVEN_ENV`. `Ok(None)` outside
    /// development without `WATERMARK_SECRET`: the photo routes are then not served (501),
    /// rather than fingerprinting viewers with a known key.
    pub fn from_env(env: &EnvSource, development: bool) -> Result<Option<Self>, ConfigError> {
        let watermark_secret = match env.optional("WATERMARK_SECRET") {
            Some(secret) => secret,
            None if development => DEV_WATERMARK_SECRET.to_owned(),
            None => return Ok(None),
        };
        Ok(Some(Self {
            fal_key: env.optional("FAL_KEY"),
            fal_queue_url: env
                .optional("FAL_QUEUE_URL")
                .unwrap_or_else(|| DEFAULT_FAL_QUEUE_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            watermark_secret,
            development,
            jwt_secret: env.optional("JWT_SECRET"),
            public_origin: env
                .optional("PHOTOS_PUBLIC_ORIGIN")
                .map(|o| o.trim_end_matches('/').to_owned()),
            fal_poll_every: Duration::from_millis(env.positive_or("FAL_POLL_MS", 2000)?),
            fal_timeout: Duration::from_secs(env.positive_or("FAL_TIMEOUT_SECS", 600)?),
            lease: Duration::from_secs(env.positive_or("PHOTO_JOB_LEASE_SECS", 120)?),
        }))
    }

    /// A development configuration for tests: fal at `fal_queue_url` with key `test-key`.
    pub fn for_tests(fal_queue_url: &str) -> Self {
        Self {
            fal_key: Some("test-key".to_owned()),
            fal_queue_url: fal_queue_url.trim_end_matches('/').to_owned(),
            watermark_secret: DEV_WATERMARK_SECRET.to_owned(),
            development: true,
            jwt_secret: None,
            public_origin: None,
            fal_poll_every: Duration::from_millis(20),
            fal_timeout: Duration::from_secs(30),
            lease: Duration::from_secs(120),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_without_a_watermark_secret_serves_no_photos() {
        let none = EnvSource::from_pairs([]);
        assert!(PhotosConfig::from_env(&none, false).unwrap().is_none());
        let dev = PhotosConfig::from_env(&none, true).unwrap().unwrap();
        assert_eq!(dev.watermark_secret, DEV_WATERMARK_SECRET);
        assert!(dev.fal_key.is_none());
        let set = EnvSource::from_pairs([
            ("WATERMARK_SECRET", "w"),
            ("FAL_KEY", "k"),
            ("FAL_QUEUE_URL", "http://fal.test/"),
            ("FAL_POLL_MS", "0"),
        ]);
        assert!(PhotosConfig::from_env(&set, false).is_err());
        let set = EnvSource::from_pairs([
            ("WATERMARK_SECRET", "w"),
            ("FAL_KEY", "k"),
            ("FAL_QUEUE_URL", "http://fal.test/"),
        ]);
        let config = PhotosConfig::from_env(&set, false).unwrap().unwrap();
        assert_eq!(config.fal_queue_url, "http://fal.test");
        assert!(!config.development);
    }
}
