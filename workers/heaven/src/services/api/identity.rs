//! The identity routes: an axum request handed to the native identity canister as an
//! [`ApiRequest`], its [`ApiResponse`] sent back as JSON.
//!
//! The local server is itself the trusted edge (docs/adr/0003-client-ip-for-rate-limits.md):
//! client-sent `X-Heaven-*` headers are dropped, and the client IP the shared edge determined
//! ([`ClientIp`]: forwarding headers believed only from `TRUSTED_PROXIES`, else the TCP peer;
//! docs/adr/0005-trusted-proxies.md) is added with this process's edge key.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_common::{ClientIp, json_error};
use identity_canister::api::{ApiRequest, ApiResponse, MAX_BODY_BYTES};
use identity_canister::router::{CLIENT_IP_HEADER, EDGE_KEY_HEADER};

use crate::resources::LocalIdentity;

/// Prefix of the headers only the edge may set.
const EDGE_HEADER_PREFIX: &str = "x-heaven-";

/// Any method under an identity group: forwards to the canister thread.
pub async fn forward(State(identity): State<LocalIdentity>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Reading fails past the limit (or when the client goes away mid-body, where the answer
    // reaches nobody anyway).
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return json_error(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    };
    let request = api_request(&parts, body.to_vec(), &identity.edge_key);
    json_response(identity.canister.handle(request).await)
}

/// The canister's view of the request: method, path and query, headers without client-sent
/// edge headers plus the edge's own, body.
pub fn api_request(parts: &Parts, body: Vec<u8>, edge_key: &str) -> ApiRequest {
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !name.as_str().starts_with(EDGE_HEADER_PREFIX))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(ClientIp(Some(ip))) = parts.extensions.get::<ClientIp>() {
        headers.push((EDGE_KEY_HEADER.to_owned(), edge_key.to_owned()));
        headers.push((CLIENT_IP_HEADER.to_owned(), ip.to_string()));
    }
    let url = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    ApiRequest::new(parts.method.as_str(), url, headers, body)
}

fn json_response(response: ApiResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = (status, Body::from(response.body)).into_response();
    out.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    out
}
