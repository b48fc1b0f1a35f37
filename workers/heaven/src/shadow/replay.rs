//! Replaying recorded requests against both services and tallying agreement per route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::diff::{Observed, compare};
use super::log::RecordedRequest;
use super::rules::Rules;

/// Methods replayed without a rule allowing it: they do not change state.
pub const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// The tally of one route template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTally {
    /// Pairs compared (both services answered).
    pub compared: usize,
    /// Of those, pairs that agreed.
    pub agreed: usize,
    /// Requests not sent: unsafe method without `allow_unsafe`.
    pub skipped_unsafe: usize,
    /// Requests where a service could not be reached (counted as disagreement).
    pub unreachable: usize,
}

/// One pair that disagreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// Position of the request in the log (0-based).
    pub index: usize,
    /// `METHOD /path?query`.
    pub request: String,
    /// The route template.
    pub template: String,
    /// What differed.
    pub differences: Vec<String>,
}

/// The outcome of a replay.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per route template.
    pub routes: BTreeMap<String, RouteTally>,
    /// Every disagreeing pair, in log order.
    pub disagreements: Vec<Disagreement>,
}

impl Report {
    /// Percent of compared (or unreachable) requests that agreed; 100 when none was compared.
    pub fn agreement(&self) -> f64 {
        let (agreed, total) = self.routes.values().fold((0, 0), |(a, t), r| {
            (a + r.agreed, t + r.compared + r.unreachable)
        });
        if total == 0 {
            100.0
        } else {
            agreed as f64 * 100.0 / total as f64
        }
    }

    /// The printed report: one line per route, the overall agreement, then the first `first`
    /// disagreeing pairs.
    pub fn render(&self, first: usize) -> String {
        let mut out = String::new();
        let width = self
            .routes
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            out,
            "{:<width$}  {:>8}  {:>8}  {:>9}  {:>11}  {:>7}",
            "route", "compared", "agreed", "agreement", "unreachable", "skipped"
        );
        for (route, t) in &self.routes {
            let total = t.compared + t.unreachable;
            let pct = if total == 0 {
                "-".to_string()
            } else {
                format!("{:.1} %", t.agreed as f64 * 100.0 / total as f64)
            };
            let _ = writeln!(
                out,
                "{route:<width$}  {:>8}  {:>8}  {pct:>9}  {:>11}  {:>7}",
                t.compared, t.agreed, t.unreachable, t.skipped_unsafe
            );
        }
        let _ = writeln!(
            out,
            "overall agreement: {:.2} % ({} disagreeing)",
            self.agreement(),
            self.disagreements.len()
        );
        for d in self.disagreements.iter().take(first) {
            let _ = writeln!(out, "\n#{} {} ({})", d.index + 1, d.request, d.template);
            for line in &d.differences {
                let _ = writeln!(out, "  {line}");
            }
        }
        if self.disagreements.len() > first {
            let _ = writeln!(
                out,
                "\n... {} more disagreeing pairs",
                self.disagreements.len() - first
            );
        }
        out
    }
}

/// Sends each request of `requests` to `primary` and `shadow` (at most `concurrency` requests
/// at once, both bases of one request concurrently) and compares the answers under `rules`.
pub async fn replay(
    client: &reqwest::Client,
    requests: &[RecordedRequest],
    primary: &str,
    shadow: &str,
    rules: &Rules,
    concurrency: usize,
) -> Report {
    let limit = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut report = Report::default();
    for (index, request) in requests.iter().enumerate() {
        let rule = rules.apply(&request.method, request.route_path());
        let tally = report.routes.entry(rule.template.clone()).or_default();
        if !SAFE_METHODS.contains(&request.method.as_str()) && !rule.allow_unsafe {
            tally.skipped_unsafe += 1;
            continue;
        }
        let (client, request, limit) = (client.clone(), request.clone(), limit.clone());
        let (primary, shadow) = (primary.to_string(), shadow.to_string());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore never closed");
            let (a, b) = tokio::join!(
                send(&client, &primary, &request),
                send(&client, &shadow, &request)
            );
            (index, request, rule, a, b)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (index, request, rule, a, b) = joined.expect("replay task panicked");
        let tally = report.routes.entry(rule.template.clone()).or_default();
        let differences = match (a, b) {
            (Ok(a), Ok(b)) => {
                tally.compared += 1;
                compare(&a, &b, &rule)
            }
            (a, b) => {
                tally.unreachable += 1;
                [("primary", a.err()), ("shadow", b.err())]
                    .into_iter()
                    .filter_map(|(which, e)| e.map(|e| format!("{which} unreachable: {e}")))
                    .collect()
            }
        };
        if differences.is_empty() {
            tally.agreed += 1;
        } else {
            report.disagreements.push(Disagreement {
                index,
                request: format!("{} {}", request.method, request.path),
                template: rule.template,
                differences,
            });
        }
    }
    report.disagreements.sort_by_key(|d| d.index);
    report
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    request: &RecordedRequest,
) -> Result<Observed, String> {
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let url = format!("{}{}", base.trim_end_matches('/'), request.path);
    let mut builder = client.request(method, url);
    for (k, v) in &request.headers {
        builder = builder.header(k, v);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
    Ok(Observed {
        status,
        headers,
        body,
    })
}
