//! Per-service rollback thresholds (`deploy/cutover/thresholds.json`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::CutoverError;

/// One service's limits over a window.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Fewest requests in the window to judge at all (fewer is no-go: not enough evidence).
    pub min_requests: u64,
    /// Highest share of 5xx answers, in percent.
    pub max_error_rate_percent: f64,
    /// Highest p95 latency of all routes together, in milliseconds.
    pub max_p95_ms: f64,
    /// Lowest shadow agreement, in percent; when set, a check without a shadow summary is
    /// no-go.
    #[serde(default)]
    pub min_shadow_agreement_percent: Option<f64>,
}

/// The whole file: `{"version": 1, "services": {"<service>": {...}}}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsFile {
    /// Format version (1).
    pub version: u32,
    /// By service name (the `service` label of its metrics).
    pub services: BTreeMap<String, Thresholds>,
}

impl ThresholdsFile {
    /// Parses and checks the file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.version != 1 {
            return Err(format!(
                "version {} is not supported (expected 1)",
                file.version
            ));
        }
        for (name, t) in &file.services {
            if !(0.0..=100.0).contains(&t.max_error_rate_percent)
                || t.min_shadow_agreement_percent
                    .is_some_and(|a| !(0.0..=100.0).contains(&a))
            {
                return Err(format!(
                    "services.{name}: percentages must be within 0..=100"
                ));
            }
            if t.max_p95_ms <= 0.0 {
                return Err(format!("services.{name}.max_p95_ms must be positive"));
            }
        }
        Ok(file)
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, CutoverError> {
        let err = |message: String| CutoverError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }
}
