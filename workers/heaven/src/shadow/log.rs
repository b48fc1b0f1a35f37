//! The recorded request logs `heaven shadow replay` reads: JSON lines (one request per line) or
//! a HAR file (what browsers' developer tools and most proxies export).
//!
//! A JSON line is `{"method","path"|"url","headers"?,"body"?|"body_base64"?}`: `path` is the
//! path with its query; a full `url` is reduced to that. `headers` is an object or a list of
//! `[name, value]` pairs. Hop-by-hop and host headers are dropped: the replay sets its own.

use std::path::Path;

use base64::Engine;
use serde_json::Value;

/// The format of a request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Jsonl,
    /// An HTTP Archive (`log.entries[].request`).
    Har,
}

impl LogFormat {
    /// `.har` files are HAR, anything else JSON lines.
    pub fn guess(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("har") => Self::Har,
            _ => Self::Jsonl,
        }
    }
}

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Upper-case method.
    pub method: String,
    /// Path and query (`/api/names/alice?x=1`), always starting with `/`.
    pub path: String,
    /// Headers to send again (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl RecordedRequest {
    /// The path without its query.
    pub fn route_path(&self) -> &str {
        self.path.split(['?', '#']).next().unwrap_or("/")
    }
}

/// Headers the replay never copies: the client sets them for each connection.
const NOT_REPLAYED: [&str; 8] = [
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "accept-encoding",
];

/// Parses a whole log. On failure: where (`line 3`, `entry 2`) and what.
pub fn parse(text: &str, format: LogFormat) -> Result<Vec<RecordedRequest>, (String, String)> {
    match format {
        LogFormat::Jsonl => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                let at = format!("line {}", i + 1);
                let value: Value =
                    serde_json::from_str(line).map_err(|e| (at.clone(), e.to_string()))?;
                from_jsonl(&value).map_err(|m| (at, m))
            })
            .collect(),
        LogFormat::Har => {
            let value: Value =
                serde_json::from_str(text).map_err(|e| ("the file".to_string(), e.to_string()))?;
            let entries = value
                .pointer("/log/entries")
                .and_then(Value::as_array)
                .ok_or_else(|| ("the file".to_string(), "no log.entries array".to_string()))?;
            entries
                .iter()
                .enumerate()
                .map(|(i, entry)| {
                    from_har(entry.get("request").unwrap_or(&Value::Null))
                        .map_err(|m| (format!("entry {}", i + 1), m))
                })
                .collect()
        }
    }
}

fn from_jsonl(value: &Value) -> Result<RecordedRequest, String> {
    let method = method(value.get("method"))?;
    let path = match (value.get("path"), value.get("url")) {
        (Some(Value::String(p)), _) => path_of(p)?,
        (_, Some(Value::String(u))) => path_of(u)?,
        _ => return Err("needs \"path\" or \"url\" (a string)".into()),
    };
    let headers = match value.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), header_value(v)?)))
            .collect::<Result<_, String>>()?,
        Some(Value::Array(pairs)) => pairs
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), v]) => Ok((k.clone(), header_value(v)?)),
                _ => Err("headers must be an object or [name, value] pairs".to_string()),
            })
            .collect::<Result<_, String>>()?,
        Some(_) => return Err("headers must be an object or [name, value] pairs".into()),
    };
    let body = match (value.get("body"), value.get("body_base64")) {
        (Some(Value::String(b)), _) => Some(b.clone().into_bytes()),
        (Some(Value::Null) | None, Some(Value::String(b))) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|e| format!("body_base64: {e}"))?,
        ),
        (Some(Value::Null) | None, None | Some(Value::Null)) => None,
        (Some(other), _) if !other.is_string() => Some(other.to_string().into_bytes()),
        _ => return Err("body_base64 must be a string".into()),
    };
    Ok(RecordedRequest {
        method,
        path,
        headers: keep(headers),
        body,
    })
}

fn from_har(request: &Value) -> Result<RecordedRequest, String> {
    let method = method(request.get("method"))?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or("request.url missing")?;
    let headers = request
        .get("headers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.as_str()?.to_string(),
                        h.get("value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let body = request
        .pointer("/postData/text")
        .and_then(Value::as_str)
        .map(|t| t.as_bytes().to_vec());
    Ok(RecordedRequest {
        method,
        path: path_of(url)?,
        headers: keep(headers),
        body,
    })
}

fn method(value: Option<&Value>) -> Result<String, String> {
    let m = value
        .and_then(Value::as_str)
        .ok_or("needs \"method\" (a string)")?;
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("bad method {m:?}"));
    }
    Ok(m.to_ascii_uppercase())
}

fn header_value(v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("header value {v} is not a string"))
}

/// `/path?query` of a path or an absolute URL.
fn path_of(s: &str) -> Result<String, String> {
    if s.starts_with('/') {
        return Ok(s.to_string());
    }
    let url = reqwest::Url::parse(s).map_err(|e| format!("bad url {s:?}: {e}"))?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

fn keep(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .filter(|(k, _)| !NOT_REPLAYED.contains(&k.as_str()) && !k.starts_with(':'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_take_paths_urls_header_shapes_and_bodies() {
        let text = r#"
{"method":"get","path":"/api/names/alice?x=1","headers":{"X-User-Address":"0xab","Host":"h"}}
{"method":"POST","url":"https://api.example/auth/nonce","headers":[["content-type","application/json"]],"body":"{\"wallet\":\"0x1\"}"}
{"method":"PUT","path":"/b","body_base64":"AAE="}
"#;
        let got = parse(text, LogFormat::Jsonl).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].method, "GET");
        assert_eq!(got[0].path, "/api/names/alice?x=1");
        assert_eq!(got[0].route_path(), "/api/names/alice");
        assert_eq!(got[0].headers, [("x-user-address".into(), "0xab".into())]);
        assert_eq!(got[1].path, "/auth/nonce");
        assert_eq!(got[1].body.as_deref(), Some(&br#"{"wallet":"0x1"}"#[..]));
        assert_eq!(got[2].body.as_deref(), Some(&[0u8, 1][..]));
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = parse(
            "{\"method\":\"GET\",\"path\":\"/a\"}\n{\"path\":\"/b\"}\n",
            LogFormat::Jsonl,
        )
        .unwrap_err();
        assert_eq!(err.0, "line 2");
        assert!(err.1.contains("method"), "{}", err.1);
        assert_eq!(parse("nope", LogFormat::Jsonl).unwrap_err().0, "line 1");
    }

    #[test]
    fn har_entries_become_requests() {
        let har = r#"{"log":{"entries":[
          {"request":{"method":"GET","url":"https://x.example/artist/abc?inc=1","headers":[{"name":"Accept","value":"application/json"},{"name":":authority","value":"x"}]}},
          {"request":{"method":"POST","url":"https://x.example/auth/verify","headers":[],"postData":{"mimeType":"application/json","text":"{}"}}}
        ]}}"#;
        let got = parse(har, LogFormat::Har).unwrap();
        assert_eq!(got[0].path, "/artist/abc?inc=1");
        assert_eq!(
            got[0].headers,
            [("accept".into(), "application/json".into())]
        );
        assert_eq!(got[1].body.as_deref(), Some(&b"{}"[..]));
        assert_eq!(
            parse("{}", LogFormat::Har).unwrap_err().1,
            "no log.entries array"
        );
        assert_eq!(LogFormat::guess(Path::new("a/b.HAR")), LogFormat::Har);
        assert_eq!(LogFormat::guess(Path::new("a/b.jsonl")), LogFormat::Jsonl);
    }
}
