//! HTTP outcalls as the harness sees them, and the plain HTTP/1.1 client that forwards them to a
//! real server (`http://` only: the servers tests run are local; `https://` outcalls need an
//! interceptor).

use std::{
    io::{Read, Write},
    net::{TcpStream, ToSocketAddrs},
    time::Duration,
};

/// An outcall request, after the management canister validated it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcallRequest {
    /// The canister that made the outcall (anonymous on PocketIC, which does not report it).
    pub canister: candid::Principal,
    /// The URL.
    pub url: String,
    /// `GET`, `POST`, `HEAD`, `PUT`, `DELETE`.
    pub method: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Response size limit (2 MB when the canister gives none).
    pub max_response_bytes: u64,
}

/// A raw (untransformed) response to an outcall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcallResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, as the server sent them.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

/// The IC's outcall round-trip limit.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Sends `request` to its server over plain HTTP/1.1 and reads the whole response.
pub fn forward(request: &OutcallRequest) -> Result<OutcallResponse, String> {
    let rest = request.url.strip_prefix("http://").ok_or_else(|| {
        format!(
            "the harness forwards only http:// outcalls; intercept {} instead",
            request.url
        )
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream = connect(&address)?;
    stream.set_read_timeout(Some(TIMEOUT)).ok();
    stream.set_write_timeout(Some(TIMEOUT)).ok();

    let mut head = format!(
        "{} {path} HTTP/1.1\r\nhost: {authority}\r\n",
        request.method
    );
    let skip = ["host", "connection", "content-length", "transfer-encoding"];
    for (name, value) in &request.headers {
        if !skip.contains(&name.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
    {
        head.push_str("user-agent: ic/1.0\r\n");
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        request.body.len()
    ));
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(&request.body))
        .map_err(|e| format!("sending to {address}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading from {address}: {e}"))?;
    parse_response(&raw, request.method == "HEAD")
}

/// Connects to the first address of `address` that accepts (`localhost` may resolve to `::1`
/// and `127.0.0.1`).
fn connect(address: &str) -> Result<TcpStream, String> {
    let mut last = format!("no address for {address}");
    for socket in address
        .to_socket_addrs()
        .map_err(|e| format!("resolving {address}: {e}"))?
    {
        match TcpStream::connect_timeout(&socket, TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("connecting to {address} ({socket}): {e}"),
        }
    }
    Err(last)
}

/// Parses an HTTP/1.1 response (content-length, chunked or read-to-close bodies).
pub fn parse_response(raw: &[u8], head_only: bool) -> Result<OutcallResponse, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("incomplete HTTP response head")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let rest = &raw[split + 4..];
    let body = if head_only {
        Vec::new()
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..len)
            .ok_or("body shorter than content-length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    let headers = headers
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("transfer-encoding"))
        .collect();
    Ok(OutcallResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk size line")?;
        let size_text = String::from_utf8_lossy(&rest[..end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| "bad chunk size")?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("truncated chunk")?);
        rest = rest.get(size + 2..).ok_or("truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_and_chunked_bodies() {
        let r = parse_response(
            b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabcdef",
            false,
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"abc");
        assert_eq!(r.headers[1], ("X-A".to_string(), "b".to_string()));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        assert!(r.headers.is_empty());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n", false).is_err());
    }

    #[test]
    fn https_is_not_forwarded() {
        let request = OutcallRequest {
            canister: candid::Principal::anonymous(),
            url: "https://example.com/".into(),
            method: "GET".into(),
            headers: vec![],
            body: vec![],
            max_response_bytes: 10,
        };
        assert!(forward(&request).unwrap_err().contains("intercept"));
    }
}
