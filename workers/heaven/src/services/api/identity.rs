//! The identity routes: an axum request handed to the identity canister, wherever it runs.
//!
//! - [`IdentityBackend::Native`]: the canister running natively in this process (the local
//!   stack's default), as an [`ApiRequest`] whose [`ApiResponse`] is sent back as JSON.
//! - [`IdentityBackend::Deployed`]: the deployed canister's `edge_request` through ic-agent
//!   ([`deployed`]).
//!
//! Either way this server is the trusted edge (docs/adr/0003-client-ip-for-rate-limits.md):
//! client-sent `X-Heaven-*` headers are dropped, and the client IP the shared edge determined
//! ([`ClientIp`]: forwarding headers believed only from `TRUSTED_PROXIES`, else the TCP peer;
//! docs/adr/0005-trusted-proxies.md) is vouched for: natively with this process's edge key,
//! through candid as `EdgeRequest::client_ip` (used when this worker's principal is in the
//! canister's `trusted_edges`).

pub mod deployed;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use canister_bridge::IdentityClient;
use http_common::{ClientIp, json_error};
use identity_canister::api::{ApiRequest, MAX_BODY_BYTES};
use identity_canister::router::{CLIENT_IP_HEADER, EDGE_KEY_HEADER};

use crate::resources::LocalIdentity;

/// Prefix of the headers only the edge may set.
const EDGE_HEADER_PREFIX: &str = "x-heaven-";

/// Where the api service's identity routes are answered.
#[derive(Clone)]
pub enum IdentityBackend {
    /// The identity canister running natively in this process (the local stack).
    Native(LocalIdentity),
    /// The deployed identity canister, through ic-agent (`ICP_URL` and
    /// `ICP_IDENTITY_CANISTER_ID` set).
    Deployed(Arc<dyn IdentityClient>),
}

/// Any method under an identity group: forwards to the canister.
pub async fn forward(State(identity): State<IdentityBackend>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Reading fails past the limit (or when the client goes away mid-body, where the answer
    // reaches nobody anyway).
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return json_error(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    };
    match identity {
        IdentityBackend::Native(local) => {
            let request = api_request(&parts, body.to_vec(), &local.edge_key);
            let response = local.canister.handle(request).await;
            json_response(response.status, response.body)
        }
        IdentityBackend::Deployed(client) => {
            deployed::forward(client.as_ref(), &parts, body.to_vec()).await
        }
    }
}

/// The request's headers without client-sent edge headers.
fn client_headers(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
        .iter()
        .filter(|(name, _)| !name.as_str().starts_with(EDGE_HEADER_PREFIX))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The client IP the shared edge determined, if any.
fn client_ip(parts: &Parts) -> Option<String> {
    match parts.extensions.get::<ClientIp>() {
        Some(ClientIp(Some(ip))) => Some(ip.to_string()),
        _ => None,
    }
}

/// Path and query of the request.
fn path_and_query(parts: &Parts) -> &str {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str())
}

/// The native canister's view of the request: method, path and query, headers without
/// client-sent edge headers plus the edge's own, body.
pub fn api_request(parts: &Parts, body: Vec<u8>, edge_key: &str) -> ApiRequest {
    let mut headers = client_headers(parts);
    if let Some(ip) = client_ip(parts) {
        headers.push((EDGE_KEY_HEADER.to_owned(), edge_key.to_owned()));
        headers.push((CLIENT_IP_HEADER.to_owned(), ip));
    }
    ApiRequest::new(parts.method.as_str(), path_and_query(parts), headers, body)
}

/// The canister's answer (status and JSON body) as an HTTP response.
fn json_response(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = (status, Body::from(body)).into_response();
    out.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    out
}
