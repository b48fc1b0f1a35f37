//! One read of a service's `/metrics` (the Prometheus text exposition format), and the
//! difference between two reads.
//!
//! The format is parsed here: `prometheus-parse` silently drops every sample whose label values
//! hold `{` or `}`, and axum's route templates (`/api/names/{label}`) put braces in the `route`
//! label of most samples.

use super::CutoverError;

/// One sample line: `name{label="value",...} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    metric: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses one non-comment line; the error says what is wrong.
    fn parse(line: &str) -> Result<Self, String> {
        let name_end = line
            .find(|c: char| c == '{' || c.is_whitespace())
            .ok_or("no value")?;
        let metric = line[..name_end].to_string();
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices().peekable();
            let close;
            loop {
                // Skip separators, then read `key="value"` or the closing brace.
                while let Some((_, c)) = chars.peek()
                    && (*c == ',' || c.is_whitespace())
                {
                    chars.next();
                }
                let (start, c) = chars.next().ok_or("unterminated labels")?;
                if c == '}' {
                    close = start;
                    break;
                }
                let mut end = start;
                for (i, c) in chars.by_ref() {
                    if c == '=' {
                        end = i;
                        break;
                    }
                }
                let key = inner[start..end].trim().to_string();
                if key.is_empty() || chars.next().map(|(_, c)| c) != Some('"') {
                    return Err("a label needs key=\"value\"".into());
                }
                let mut value = String::new();
                loop {
                    match chars.next().ok_or("unterminated label value")?.1 {
                        '"' => break,
                        '\\' => match chars.next().ok_or("unterminated escape")?.1 {
                            'n' => value.push('\n'),
                            other => value.push(other),
                        },
                        other => value.push(other),
                    }
                }
                labels.push((key, value));
            }
            rest = &inner[close + 1..];
        }
        let value_text = rest.split_whitespace().next().ok_or("no value")?;
        let value = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse::<f64>()
                .map_err(|_| format!("value {v:?} is not a number"))?,
        };
        Ok(Self {
            metric,
            labels,
            value,
        })
    }
}

/// The samples of one read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    samples: Vec<Sample>,
}

/// What happened between two reads, for one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    /// Requests answered.
    pub requests: u64,
    /// Of those, 5xx.
    pub errors: u64,
    /// Latency histogram over every route: (upper bound in seconds, cumulative count).
    pub buckets: Vec<(f64, f64)>,
}

impl Snapshot {
    /// Parses the text of a `/metrics` answer; the error names the first bad line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let samples = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(i, l)| Sample::parse(l.trim()).map_err(|e| format!("line {}: {e}", i + 1)))
            .collect::<Result<_, _>>()?;
        Ok(Self { samples })
    }

    /// Reads `url`, with `token` as a bearer token when given.
    pub async fn fetch(
        client: &reqwest::Client,
        url: &str,
        token: Option<&str>,
    ) -> Result<Self, CutoverError> {
        let err = |message: String| CutoverError::Metrics {
            url: url.to_string(),
            message,
        };
        let mut request = client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| err(e.to_string()))?;
        if !response.status().is_success() {
            return Err(err(format!("answered {}", response.status())));
        }
        let text = response.text().await.map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    /// Sum of the counter `metric` over the samples labelled `service`.
    fn counter(&self, metric: &str, service: &str) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.metric == metric && s.label("service") == Some(service))
            .map(|s| s.value)
            .sum()
    }

    /// The duration histogram of `service`, every route merged: (bound, cumulative count).
    fn histogram(&self, service: &str) -> Vec<(f64, f64)> {
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for s in self.samples.iter().filter(|s| {
            s.metric == "http_request_duration_seconds_bucket"
                && s.label("service") == Some(service)
        }) {
            let Some(le) = s.label("le").and_then(|v| match v {
                "+Inf" => Some(f64::INFINITY),
                v => v.parse::<f64>().ok(),
            }) else {
                continue;
            };
            match merged.iter_mut().find(|(b, _)| *b == le) {
                Some((_, n)) => *n += s.value,
                None => merged.push((le, s.value)),
            }
        }
        merged.sort_by(|a, b| a.0.total_cmp(&b.0));
        merged
    }

    /// What `service` did between `earlier` and this read (a counter that went down, as after
    /// a restart, counts from zero).
    pub fn since(&self, earlier: &Snapshot, service: &str) -> Window {
        let delta = |now: f64, then: f64| if now >= then { now - then } else { now };
        let requests = delta(
            self.counter("http_requests_total", service),
            earlier.counter("http_requests_total", service),
        );
        let errors = delta(
            self.counter("http_request_errors_total", service),
            earlier.counter("http_request_errors_total", service),
        );
        let before = earlier.histogram(service);
        let buckets = self
            .histogram(service)
            .into_iter()
            .map(|(le, n)| {
                let then = before
                    .iter()
                    .find(|(b, _)| *b == le)
                    .map_or(0.0, |(_, m)| *m);
                (le, delta(n, then))
            })
            .collect();
        Window {
            requests: requests.round() as u64,
            errors: errors.round() as u64,
            buckets,
        }
    }
}

impl Window {
    /// The `q` quantile in milliseconds, interpolated linearly inside its bucket as
    /// Prometheus' `histogram_quantile` does; `None` without observations. Beyond the last
    /// finite bound the answer is that bound.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last().map(|(_, n)| *n).filter(|n| *n > 0.0)?;
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(le, n) in &self.buckets {
            if n >= rank {
                if le.is_infinite() {
                    return Some(lower.0 * 1000.0);
                }
                let in_bucket = n - lower.1;
                let fraction = if in_bucket > 0.0 {
                    (rank - lower.1) / in_bucket
                } else {
                    1.0
                };
                return Some((lower.0 + (le - lower.0) * fraction) * 1000.0);
            }
            lower = (le, n);
        }
        Some(lower.0 * 1000.0)
    }
}
