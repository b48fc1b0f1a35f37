//! The candid shapes of a canister's HTTP gateway entry points (`http_request` query and
//! `http_request_update`), as the boundary node's gateway sends and expects them. Certificate
//! headers are passed through, never verified.

use candid::{CandidType, Deserialize};

/// The request the gateway sends to `http_request`.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct GatewayRequest {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Path and query.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
    /// Certificate version the gateway understands (`Some(2)`).
    pub certificate_version: Option<u16>,
}

impl GatewayRequest {
    /// A `method` request for `url` with no headers and `body`.
    pub fn new(method: &str, url: &str, body: Vec<u8>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body,
            certificate_version: Some(2),
        }
    }
}

/// The request the gateway sends to `http_request_update`.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct GatewayUpdateRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

impl From<GatewayRequest> for GatewayUpdateRequest {
    fn from(r: GatewayRequest) -> Self {
        Self {
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
        }
    }
}

/// The response of either entry point.
#[derive(Clone, Debug, CandidType, Deserialize, PartialEq, Eq)]
pub struct GatewayResponse {
    /// HTTP status.
    pub status_code: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
    /// `Some(true)`: the gateway must repeat the request as `http_request_update`.
    pub upgrade: Option<bool>,
}
