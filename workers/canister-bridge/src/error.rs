//! What a canister call through the bridge can end with, how each case is classified from
//! ic-agent's errors, and the HTTP status a worker answers for it.

use ic_agent::AgentError;
use ic_agent::agent::RejectCode;

/// The `Retry-After` (seconds) a worker sends with a 503 for an unreachable canister.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Why a canister call gave no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// Nothing conclusive came back (connection refused or lost, timeout, the boundary node or
    /// replica answered 5xx/429, the IC said "transient"): the call may be retried.
    #[error("canister unreachable: {0}")]
    Unreachable(String),
    /// The IC rejected the call (the canister trapped, rejected it, does not exist, or is out
    /// of cycles).
    #[error("canister rejected the call: code {code}, {message} ({error_code})")]
    Rejected {
        /// The IC reject code (1–5).
        code: u8,
        /// The reject message.
        message: String,
        /// The IC error code (`IC0503`, ...), or `-`.
        error_code: String,
    },
    /// The answer could not be used (a certificate that does not verify, a reply that does not
    /// decode as the canister's candid, a request the replica refused as malformed).
    #[error("canister answer unusable: {0}")]
    Protocol(String),
}

impl BridgeError {
    /// The HTTP status a worker answers: 503 for [`Self::Unreachable`] and transient rejects
    /// (with `Retry-After`), 502 for other rejects and protocol failures.
    pub fn http_status(&self) -> u16 {
        if self.is_retryable() { 503 } else { 502 }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Rejected { code, .. } => *code == RejectCode::SysTransient as u8,
            Self::Protocol(_) => false,
        }
    }

    /// A short label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "unreachable",
            Self::Rejected { .. } => "rejected",
            Self::Protocol(_) => "protocol",
        }
    }

    /// Classifies an ic-agent error.
    pub fn from_agent(err: AgentError) -> Self {
        match err {
            AgentError::CertifiedReject { reject, .. }
            | AgentError::UncertifiedReject { reject, .. } => Self::Rejected {
                code: reject.reject_code as u8,
                message: reject.reject_message,
                error_code: reject.error_code.unwrap_or_else(|| "-".into()),
            },
            AgentError::HttpError(payload)
                if payload.status >= 500 || payload.status == 429 || payload.status == 408 =>
            {
                Self::Unreachable(format!(
                    "HTTP {}: {}",
                    payload.status,
                    String::from_utf8_lossy(&payload.content)
                ))
            }
            AgentError::HttpError(payload) => Self::Protocol(format!(
                "HTTP {}: {}",
                payload.status,
                String::from_utf8_lossy(&payload.content)
            )),
            e @ (AgentError::TransportError(_)
            | AgentError::TimeoutWaitingForResponse()
            | AgentError::RouteProviderError(_)) => Self::Unreachable(e.to_string()),
            other => Self::Protocol(other.to_string()),
        }
    }
}

/// `canister_bridge_failures_total{canister,method,kind}`, in the process's default Prometheus
/// registry (every service's `/metrics` appends it).
static FAILURES: std::sync::LazyLock<prometheus::IntCounterVec> = std::sync::LazyLock::new(|| {
    let counter = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "canister_bridge_failures_total",
            "Canister calls through ic-agent that got no usable answer, by canister, method and kind",
        ),
        &["canister", "method", "kind"],
    )
    .expect("valid metric definition");
    prometheus::register(Box::new(counter.clone())).expect("registered once per process");
    counter
});

/// Counts a failed call in `canister_bridge_failures_total{canister,method,kind}` and logs it.
pub(crate) fn record_failure(canister: &'static str, method: &'static str, err: &BridgeError) {
    FAILURES
        .with_label_values(&[canister, method, err.kind()])
        .inc();
    tracing::warn!(canister, method, error = %err, "canister call failed");
}

#[cfg(test)]
mod tests {
    use ic_agent::agent::RejectResponse;

    use super::*;

    fn reject(code: RejectCode, certified: bool) -> AgentError {
        let reject = RejectResponse {
            reject_code: code,
            reject_message: "m".into(),
            error_code: Some("IC0503".into()),
        };
        if certified {
            AgentError::CertifiedReject {
                reject,
                operation: None,
            }
        } else {
            AgentError::UncertifiedReject {
                reject,
                operation: None,
            }
        }
    }

    #[test]
    fn rejects_map_to_502_except_transient_ones() {
        let trap = BridgeError::from_agent(reject(RejectCode::CanisterError, true));
        assert_eq!(
            trap,
            BridgeError::Rejected {
                code: 5,
                message: "m".into(),
                error_code: "IC0503".into()
            }
        );
        assert_eq!(trap.http_status(), 502);
        assert!(!trap.is_retryable());
        for code in [
            RejectCode::DestinationInvalid,
            RejectCode::CanisterReject,
            RejectCode::SysFatal,
        ] {
            assert_eq!(
                BridgeError::from_agent(reject(code, false)).http_status(),
                502
            );
        }
        // Out of cycles and queue-full are SYS_TRANSIENT on the IC: retry later.
        let transient = BridgeError::from_agent(reject(RejectCode::SysTransient, true));
        assert_eq!(transient.http_status(), 503);
        assert!(transient.is_retryable());
    }

    #[test]
    fn http_errors_split_into_unreachable_and_protocol() {
        let payload = |status| {
            AgentError::HttpError(ic_agent::agent_error::HttpErrorPayload {
                status,
                content_type: None,
                content: b"busy".to_vec(),
            })
        };
        for status in [500, 502, 503, 504, 429, 408] {
            assert_eq!(
                BridgeError::from_agent(payload(status)).kind(),
                "unreachable",
                "{status}"
            );
        }
        for status in [400, 403, 404] {
            assert_eq!(
                BridgeError::from_agent(payload(status)).kind(),
                "protocol",
                "{status}"
            );
        }
        assert_eq!(
            BridgeError::from_agent(AgentError::TimeoutWaitingForResponse()).http_status(),
            503
        );
        assert_eq!(
            BridgeError::from_agent(AgentError::CertificateVerificationFailed()).kind(),
            "protocol"
        );
    }
}
