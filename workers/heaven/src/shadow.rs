//! `heaven shadow replay`: the shadow-traffic comparison the migration plan asks for before each
//! cutover. A recorded request log (JSON lines, or a HAR file) is replayed against two base URLs
//! (the live Cloudflare service, the primary, and ours, the shadow) and every pair of answers is
//! compared: status, the headers that matter, and JSON bodies with per-route ignore rules
//! (volatile ids, timestamps, nonces) from a versioned rules file. It prints the agreement per
//! route template and the first differing pairs, and exits non-zero below the agreement asked
//! for, so CI and the cutover runbook can gate on it.
//!
//! Only safe methods (GET, HEAD, OPTIONS) are replayed unless a route's rule allows its unsafe
//! methods: replaying a write against the live service would repeat its side effect.

pub mod diff;
pub mod log;
pub mod replay;
pub mod rules;

use std::path::PathBuf;

pub use diff::{Observed, compare};
pub use log::{LogFormat, RecordedRequest};
pub use replay::{Report, replay};
pub use rules::{RouteRule, Rules};

/// What `heaven shadow replay` was asked to do (its command line).
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// The request log: JSON lines, or a HAR file.
    #[arg(long)]
    pub log: PathBuf,
    /// The log's format (by default `.har` files are HAR, others JSON lines).
    #[arg(long, value_enum)]
    pub format: Option<LogFormat>,
    /// The live service's base URL (e.g. the Cloudflare worker).
    #[arg(long)]
    pub primary: String,
    /// Our service's base URL.
    #[arg(long)]
    pub shadow: String,
    /// Ignore rules (deploy/shadow/rules.json); built-in defaults when absent.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// How many disagreeing pairs to print.
    #[arg(long, default_value_t = 10)]
    pub first: usize,
    /// Required agreement in percent of compared requests.
    #[arg(long, default_value_t = 100.0)]
    pub min_agreement: f64,
    /// Requests in flight at once (each sent to both bases).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Also write `{"agreement","compared","disagreeing"}` here (for `heaven cutover check`).
    #[arg(long)]
    pub summary: Option<PathBuf>,
}

/// Why `heaven shadow` failed.
#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The request log is malformed.
    #[error("request log {path}, {location}: {message}")]
    Log {
        /// The file.
        path: String,
        /// Where (`line 3`, `entry 2`).
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The rules file is malformed.
    #[error("rules {path}: {message}")]
    Rules {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A base URL is not an absolute http(s) URL.
    #[error("{which} base URL {url:?} is not an absolute http(s) URL")]
    BaseUrl {
        /// `primary` or `shadow`.
        which: &'static str,
        /// The value given.
        url: String,
    },
    /// The two services agreed less than asked.
    #[error("agreement {agreement:.2} % is below the required {required:.2} %")]
    Disagreement {
        /// Percent of compared requests that agreed.
        agreement: f64,
        /// The threshold.
        required: f64,
    },
}

impl ShadowError {
    /// Exit code: 1 when the services disagree, 2 for bad input.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Disagreement { .. } => 1,
            _ => 2,
        }
    }
}

/// Runs `heaven shadow replay`: reads the log and rules, replays, prints the report, and fails
/// when the agreement is below `args.min_agreement`.
pub async fn run_replay(args: &ReplayArgs) -> Result<Report, ShadowError> {
    for (which, url) in [("primary", &args.primary), ("shadow", &args.shadow)] {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ShadowError::BaseUrl {
                which,
                url: url.clone(),
            });
        }
    }
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|source| ShadowError::File {
            path: path.display().to_string(),
            source,
        })
    };
    let text = read(&args.log)?;
    let format = args.format.unwrap_or_else(|| LogFormat::guess(&args.log));
    let requests = log::parse(&text, format).map_err(|(location, message)| ShadowError::Log {
        path: args.log.display().to_string(),
        location,
        message,
    })?;
    let rules = match &args.rules {
        Some(path) => Rules::parse(&read(path)?).map_err(|message| ShadowError::Rules {
            path: path.display().to_string(),
            message,
        })?,
        None => Rules::default(),
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a reqwest client with static settings builds");
    let report = replay(
        &client,
        &requests,
        &args.primary,
        &args.shadow,
        &rules,
        args.concurrency.max(1),
    )
    .await;
    print!("{}", report.render(args.first));
    let agreement = report.agreement();
    if let Some(path) = &args.summary {
        let compared: usize = report
            .routes
            .values()
            .map(|r| r.compared + r.unreachable)
            .sum();
        let summary = serde_json::json!({
            "agreement": agreement,
            "compared": compared,
            "disagreeing": report.disagreements.len(),
        });
        std::fs::write(path, format!("{summary}\n")).map_err(|source| ShadowError::File {
            path: path.display().to_string(),
            source,
        })?;
    }
    if agreement + f64::EPSILON < args.min_agreement {
        return Err(ShadowError::Disagreement {
            agreement,
            required: args.min_agreement,
        });
    }
    Ok(report)
}
