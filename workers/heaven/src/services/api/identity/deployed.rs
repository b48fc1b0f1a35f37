//! The identity routes answered by the deployed identity canister: the request becomes an
//! [`EdgeRequest`] (client headers without `X-Heaven-*`, the client IP this edge vouches for),
//! sent through [`IdentityClient::edge_request`] (ic-agent, a timeout on every attempt), and
//! the canister's status and JSON body are the answer.
//!
//! A call that gets no answer is the api service's JSON error: 503 `{"error":"Service
//! unavailable"}` with `Retry-After` when retrying may help (unreachable, a transient reject),
//! 502 `{"error":"Identity canister error"}` otherwise (a trap, a missing canister, an answer
//! that does not decode). The bridge logs and counts each failure in `/metrics`
//! (`canister_bridge_failures_total{canister="identity",method="edge_request",kind}`).

use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use canister_bridge::{BridgeError, IdentityClient, RETRY_AFTER_SECS};
use http_common::json_error;
use identity_canister::endpoints::EdgeRequest;

use super::{client_headers, client_ip, json_response, path_and_query};

/// The body of a 503 for a canister that could not be reached.
pub const UNAVAILABLE: &str = "Service unavailable";
/// The body of a 502 for a call the IC rejected or answered unusably.
pub const CANISTER_ERROR: &str = "Identity canister error";

/// The canister's view of the request.
pub fn edge_request(parts: &Parts, body: Vec<u8>) -> EdgeRequest {
    EdgeRequest {
        method: parts.method.as_str().to_owned(),
        url: path_and_query(parts).to_owned(),
        headers: client_headers(parts),
        body,
        client_ip: client_ip(parts),
    }
}

/// Sends the request to the canister and answers what it said, or the service's error.
pub async fn forward(client: &dyn IdentityClient, parts: &Parts, body: Vec<u8>) -> Response {
    match client.edge_request(edge_request(parts, body)).await {
        Ok(answer) => json_response(answer.status, answer.body),
        Err(err) => failure(&err),
    }
}

/// The api service's answer to a call that got no usable reply.
pub fn failure(err: &BridgeError) -> Response {
    if err.is_retryable() {
        let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        response
    } else {
        json_error(StatusCode::BAD_GATEWAY, CANISTER_ERROR)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use http_common::ClientIp;

    use super::*;

    #[test]
    fn client_edge_headers_are_dropped_and_the_edge_ip_is_vouched_for() {
        let (mut parts, ()) = Request::post("/api/likes?x=1")
            .header("content-type", "application/json")
            .header("x-heaven-client-ip", "6.6.6.6")
            .header("X-Heaven-Edge-Key", "forged")
            .body(())
            .unwrap()
            .into_parts();
        parts
            .extensions
            .insert(ClientIp(Some("203.0.113.9".parse().unwrap())));
        let request = edge_request(&parts, b"{}".to_vec());
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "/api/likes?x=1");
        assert_eq!(
            request.headers,
            vec![("content-type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(request.client_ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(request.body, b"{}");
    }

    #[test]
    fn unreachable_is_503_with_retry_after_and_rejects_are_502() {
        let unreachable = failure(&BridgeError::Unreachable("refused".into()));
        assert_eq!(unreachable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(unreachable.headers()[RETRY_AFTER], "5");
        let trap = failure(&BridgeError::Rejected {
            code: 5,
            message: "trapped".into(),
            error_code: "IC0503".into(),
        });
        assert_eq!(trap.status(), StatusCode::BAD_GATEWAY);
        assert!(trap.headers().get(RETRY_AFTER).is_none());
        let transient = failure(&BridgeError::Rejected {
            code: 2,
            message: "out of cycles".into(),
            error_code: "IC0207".into(),
        });
        assert_eq!(transient.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
