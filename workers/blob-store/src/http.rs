//! HTTP helpers shared by the remote backends: how a response status maps onto
//! [`PortabilityError`] (5xx and transport failures are outages that fail over; 4xx are the
//! caller's problem and do not), and streaming a response body.

use std::ops::Range;

use futures_util::StreamExt;
use portability::{BlobStream, PortabilityError, Result};

/// A transport failure (connection refused, timeout, reset) as an outage of `server`.
pub fn transport(server: &str, e: reqwest::Error) -> PortabilityError {
    let kind = if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    PortabilityError::Unavailable {
        server: server.to_owned(),
        message: format!("{kind}: {e}"),
    }
}

/// Fails unless `response` is 2xx: 5xx as [`Unavailable`](PortabilityError::Unavailable)
/// (`what:<status>:<body>`), 404 as [`NotFound`](PortabilityError::NotFound) when `not_found`
/// names the key, other 4xx as [`Backend`](PortabilityError::Backend).
pub async fn check(
    response: reqwest::Response,
    backend: &'static str,
    server: &str,
    what: &str,
    not_found: Option<&str>,
) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let message = format!("{what}:{}:{}", status.as_u16(), body.trim());
    Err(if status.is_server_error() {
        PortabilityError::Unavailable {
            server: server.to_owned(),
            message,
        }
    } else if status == reqwest::StatusCode::NOT_FOUND && not_found.is_some() {
        PortabilityError::NotFound {
            key: not_found.unwrap_or_default().to_owned(),
        }
    } else {
        PortabilityError::Backend { backend, message }
    })
}

/// `GET url` (with a `Range` header for `range`) streamed as a blob.
pub async fn get_stream(
    http: &reqwest::Client,
    url: &str,
    range: Option<Range<u64>>,
    backend: &'static str,
    server: &str,
    id: &str,
) -> Result<BlobStream> {
    let mut request = http.get(url);
    if let Some(r) = &range {
        request = request.header(
            reqwest::header::RANGE,
            format!("bytes={}-{}", r.start, r.end - 1),
        );
    }
    let response = request.send().await.map_err(|e| transport(server, e))?;
    let response = check(response, backend, server, "read_failed", Some(id)).await?;
    let partial = response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
    let server = server.to_owned();
    let body = response
        .bytes_stream()
        .map(move |r| r.map_err(|e| transport(&server, e)))
        .boxed();
    Ok(match range {
        // A gateway that ignores Range answers 200 with everything: cut the range out.
        Some(r) if !partial => portability::blob::slice_stream(body, r),
        _ => body,
    })
}

/// Trims trailing slashes from a base URL.
pub fn base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}
