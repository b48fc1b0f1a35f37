//! The resolver's configuration, read once at start from environment variables.
//!
//! Every variable has an embedded default, so `cargo run` serves the resolver with no account;
//! only rehosting needs `LOAD_S3_AGENT_API_KEY` (without it `/rehost/image` answers the
//! original's 500; the upload itself goes through the stack's blob store, which reads the
//! Load agent's variables). Upstream base URLs are configurable so tests point them at local
//! fakes.

use std::time::Duration;

use http_common::{ConfigError, EnvSource};

/// The User-Agent sent to MusicBrainz, Wikimedia and image hosts when `MB_USER_AGENT` is unset.
/// MusicBrainz asks for an application name, version and contact.
pub const DEFAULT_USER_AGENT: &str =
    "HeavenMetadataResolver/0.1.0 ( https://github.com/techno-hippies/dotheaven )";
/// The Load gateway of the original.
pub const DEFAULT_LOAD_GATEWAY_URL: &str = "https://gateway.s3-node-1.load.network";

/// What the resolver itself needs of Load: whether rehosting is on, and where rehosted ids
/// are read (the answer's `ipfsUrl`, also for ids cached by the original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadConfig {
    /// `LOAD_GATEWAY_URL`, trailing slashes removed.
    pub gateway_url: String,
    /// `LOAD_S3_AGENT_API_KEY` (Bearer token); `None` disables rehosting.
    pub api_key: Option<String>,
}

/// How MusicBrainz calls are spaced and retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Minimum time between two request starts, across all replicas (`MB_SPACING_MS`, 1100).
    pub spacing: Duration,
    /// Requests one process lets wait for a turn at once (`MB_QUEUE_LIMIT`, 16); more get 503.
    pub queue_limit: usize,
    /// Longest a request waits for its turn (`MB_MAX_WAIT_MS`, 20000); longer gets 503.
    pub max_wait: Duration,
    /// Retries after a MusicBrainz 503 (`MB_RETRIES`, 2).
    pub retries_on_503: u32,
    /// First back-off after a 503 when MusicBrainz sends no `Retry-After` (`MB_BACKOFF_MS`,
    /// 2000); doubled on each further 503.
    pub backoff: Duration,
    /// Timeout of one MusicBrainz request (`MB_TIMEOUT_MS`, 15000).
    pub request_timeout: Duration,
}

/// Everything the resolver needs besides its cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// `MB_USER_AGENT`.
    pub user_agent: String,
    /// `MUSICBRAINZ_URL` (`https://musicbrainz.org`).
    pub musicbrainz_url: String,
    /// `COMMONS_URL` (`https://commons.wikimedia.org`).
    pub commons_url: String,
    /// `WIKIDATA_URL` (`https://www.wikidata.org`).
    pub wikidata_url: String,
    /// `COVER_ART_ARCHIVE_URL` (`https://coverartarchive.org`): the base of `coverArtUrl`.
    pub cover_art_url: String,
    /// The Load agent used by rehosting.
    pub load: LoadConfig,
    /// The MusicBrainz limiter.
    pub limiter: LimiterConfig,
    /// Download timeout of one rehosted image (15 s, as the original).
    pub image_timeout: Duration,
    /// Largest rehosted image (10 MiB, as the original).
    pub image_max_bytes: usize,
}

fn base_url(env: &EnvSource, var: &str, default: &str) -> String {
    env.optional(var)
        .unwrap_or_else(|| default.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

fn millis(env: &EnvSource, var: &str, default: u64) -> Result<Duration, ConfigError> {
    env.parse_or(var, default).map(Duration::from_millis)
}

impl ResolverConfig {
    /// Reads the configuration; a malformed number is a one-line [`ConfigError`].
    pub fn from_env(env: &EnvSource) -> Result<Self, ConfigError> {
        let spacing = millis(env, "MB_SPACING_MS", 1100)?;
        if spacing.is_zero() {
            return Err(ConfigError::Invalid {
                var: "MB_SPACING_MS".into(),
                value: "0".into(),
                message: "must be positive".into(),
            });
        }
        Ok(Self {
            user_agent: env
                .optional("MB_USER_AGENT")
                .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned()),
            musicbrainz_url: base_url(env, "MUSICBRAINZ_URL", "https://musicbrainz.org"),
            commons_url: base_url(env, "COMMONS_URL", "https://commons.wikimedia.org"),
            wikidata_url: base_url(env, "WIKIDATA_URL", "https://www.wikidata.org"),
            cover_art_url: base_url(env, "COVER_ART_ARCHIVE_URL", "https://coverartarchive.org"),
            load: LoadConfig {
                gateway_url: base_url(env, "LOAD_GATEWAY_URL", DEFAULT_LOAD_GATEWAY_URL),
                api_key: env.optional("LOAD_S3_AGENT_API_KEY"),
            },
            limiter: LimiterConfig {
                spacing,
                queue_limit: env.parse_or("MB_QUEUE_LIMIT", 16)?,
                max_wait: millis(env, "MB_MAX_WAIT_MS", 20_000)?,
                retries_on_503: env.parse_or("MB_RETRIES", 2)?,
                backoff: millis(env, "MB_BACKOFF_MS", 2000)?,
                request_timeout: millis(env, "MB_TIMEOUT_MS", 15_000)?,
            },
            image_timeout: Duration::from_secs(15),
            image_max_bytes: 10 * 1024 * 1024,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_variable() {
        let config = ResolverConfig::from_env(&EnvSource::from_pairs([])).unwrap();
        assert_eq!(config.user_agent, DEFAULT_USER_AGENT);
        assert_eq!(config.musicbrainz_url, "https://musicbrainz.org");
        assert_eq!(config.load.gateway_url, DEFAULT_LOAD_GATEWAY_URL);
        assert_eq!(config.load.api_key, None);
        assert_eq!(config.limiter.spacing, Duration::from_millis(1100));
    }

    #[test]
    fn trailing_slashes_are_trimmed_and_bad_numbers_named() {
        let env = EnvSource::from_pairs([
            ("LOAD_GATEWAY_URL", "https://gw.example//"),
            ("MB_QUEUE_LIMIT", "many"),
        ]);
        let err = ResolverConfig::from_env(&env).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("MB_QUEUE_LIMIT has an invalid value")
        );
        let env = EnvSource::from_pairs([("LOAD_GATEWAY_URL", "https://gw.example//")]);
        let config = ResolverConfig::from_env(&env).unwrap();
        assert_eq!(config.load.gateway_url, "https://gw.example");
    }
}
