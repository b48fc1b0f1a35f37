//! `heaven cutover check <service>`: the rollback triggers of the migration plan as one
//! go / no-go. It reads the service's own Prometheus metrics twice, `window` apart, and judges
//! what happened in between against the service's thresholds (`deploy/cutover/thresholds.json`):
//! the 5xx rate, the p95 latency of every route together, enough traffic to judge at all, and,
//! when a shadow summary is given (`heaven shadow replay --summary`), the shadow agreement.
//! Prints every figure next to its limit; exits 0 for go, 1 for no-go, 2 for bad input.

pub mod snapshot;
pub mod thresholds;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

pub use snapshot::Snapshot;
pub use thresholds::{Thresholds, ThresholdsFile};

/// What `heaven cutover check` was asked (its command line).
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The service: api, metadata-resolver, voice-agent or voice-rooms (a key of the thresholds
    /// file; also its `service` metric label).
    pub service: String,
    /// The service's /metrics URL. With several replicas behind the front, name one replica's
    /// address: two reads through the front can reach different processes.
    #[arg(long)]
    pub metrics: String,
    /// The bearer token `/metrics` wants outside development (the service's `METRICS_TOKEN`).
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Seconds between the two reads.
    #[arg(long = "window", default_value = "300", value_parser = parse_seconds)]
    pub window: Duration,
    /// The thresholds file.
    #[arg(long, default_value = "deploy/cutover/thresholds.json")]
    pub thresholds: PathBuf,
    /// A summary written by `heaven shadow replay --summary`.
    #[arg(long)]
    pub shadow_summary: Option<PathBuf>,
}

/// `--window`: whole seconds.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("{text:?} is not a number of seconds"))
}

/// Why the check could not judge.
#[derive(Debug, thiserror::Error)]
pub enum CutoverError {
    /// A file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The thresholds file has no entry for the service.
    #[error("{path} has no thresholds for service {service:?} (it has: {known})")]
    UnknownService {
        /// The file.
        path: String,
        /// The service asked for.
        service: String,
        /// The services it lists.
        known: String,
    },
    /// The metrics could not be read.
    #[error("metrics {url}: {message}")]
    Metrics {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The verdict is no-go (the report says why).
    #[error("no-go for {service}: {reasons}")]
    NoGo {
        /// The service.
        service: String,
        /// The failed checks, joined.
        reasons: String,
    },
}

impl CutoverError {
    /// 1 for a no-go verdict, 2 when the check could not run.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NoGo { .. } => 1,
            _ => 2,
        }
    }
}

/// One judged figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What (`error rate`).
    pub name: &'static str,
    /// The measured value, as printed.
    pub value: String,
    /// The limit, as printed.
    pub limit: String,
    /// Whether it is within the limit.
    pub pass: bool,
}

/// The verdict over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The service.
    pub service: String,
    /// Requests answered in the window.
    pub requests: u64,
    /// Every check, passed or not.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Go when every check passed.
    pub fn go(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }

    /// The printed report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "cutover check: {}", self.service);
        for c in &self.checks {
            let _ = writeln!(
                out,
                "  {:<20} {:>12}  limit {:<12} {}",
                c.name,
                c.value,
                c.limit,
                if c.pass { "ok" } else { "FAIL" }
            );
        }
        let _ = writeln!(out, "{}", if self.go() { "GO" } else { "NO-GO" });
        out
    }
}

/// Judges the change from `before` to `after` (cumulative metrics of `service`) against
/// `limits`, with the shadow agreement in percent if one is given.
pub fn evaluate(
    service: &str,
    before: &Snapshot,
    after: &Snapshot,
    limits: &Thresholds,
    shadow_agreement: Option<f64>,
) -> Verdict {
    let window = after.since(before, service);
    let mut checks = vec![Check {
        name: "requests",
        value: window.requests.to_string(),
        limit: format!(">= {}", limits.min_requests),
        pass: window.requests >= limits.min_requests,
    }];
    let error_rate = if window.requests == 0 {
        0.0
    } else {
        window.errors as f64 * 100.0 / window.requests as f64
    };
    checks.push(Check {
        name: "error rate (5xx)",
        value: format!("{error_rate:.2} %"),
        limit: format!("<= {:.2} %", limits.max_error_rate_percent),
        pass: error_rate <= limits.max_error_rate_percent,
    });
    let p95 = window.quantile_ms(0.95);
    checks.push(Check {
        name: "p95 latency",
        value: p95.map_or("-".into(), |v| format!("{v:.1} ms")),
        limit: format!("<= {:.1} ms", limits.max_p95_ms),
        pass: p95.is_none_or(|v| v <= limits.max_p95_ms),
    });
    if let Some(min) = limits.min_shadow_agreement_percent {
        checks.push(Check {
            name: "shadow agreement",
            value: shadow_agreement.map_or("not given".into(), |a| format!("{a:.2} %")),
            limit: format!(">= {min:.2} %"),
            pass: shadow_agreement.is_some_and(|a| a >= min),
        });
    }
    Verdict {
        service: service.to_string(),
        requests: window.requests,
        checks,
    }
}

/// Runs the check: two reads `window` apart, the verdict printed; `Err(NoGo)` for no-go.
pub async fn run_check(args: &CheckArgs) -> Result<Verdict, CutoverError> {
    let path = args.thresholds.display().to_string();
    let file = ThresholdsFile::load(&args.thresholds)?;
    let limits = file
        .services
        .get(&args.service)
        .ok_or_else(|| CutoverError::UnknownService {
            path: path.clone(),
            service: args.service.clone(),
            known: file.services.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
    let shadow_agreement = args
        .shadow_summary
        .as_ref()
        .map(read_shadow_agreement)
        .transpose()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a reqwest client with static settings builds");
    let token = args.metrics_token.as_deref();
    let before = Snapshot::fetch(&client, &args.metrics, token).await?;
    tokio::time::sleep(args.window).await;
    let after = Snapshot::fetch(&client, &args.metrics, token).await?;
    let verdict = evaluate(&args.service, &before, &after, limits, shadow_agreement);
    print!("{}", verdict.render());
    if verdict.go() {
        Ok(verdict)
    } else {
        Err(CutoverError::NoGo {
            service: args.service.clone(),
            reasons: verdict
                .checks
                .iter()
                .filter(|c| !c.pass)
                .map(|c| format!("{} {} (limit {})", c.name, c.value, c.limit))
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

/// The `agreement` field of a shadow summary file.
fn read_shadow_agreement(path: &PathBuf) -> Result<f64, CutoverError> {
    let err = |message: String| CutoverError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    value
        .get("agreement")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| err("no numeric \"agreement\" field".into()))
}

#[cfg(test)]
mod tests;
