//! The TLS front of deploy/caddy/Caddyfile, run as CI can: Caddy (Debian's package, installed
//! by `cargo xtask setup`) with `HEAVEN_TLS=internal` in front of a real `heaven serve rooms`
//! and of a header-echo stand-in worker, reached over HTTPS with Caddy's local CA as the only
//! trusted root:
//!
//! - a request through the front reaches the worker and is answered (`GET /health`);
//! - a client's `X-Heaven-*` headers never reach the worker, and its own `X-Forwarded-For` is
//!   replaced by its real address (what the workers trust with `TRUSTED_PROXIES`);
//! - spoofed `X-Forwarded-For` values do not escape the worker's per-address nonce limit;
//! - the replicas' `/internal/*` route is not reachable from outside.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::get;
use common::{Heaven, free_port};
use serde_json::{Value, json};

/// Caddy, stopped when dropped.
struct Caddy(Child);

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn caddyfile() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/caddy/Caddyfile")
}

fn start_caddy(data: &Path, https_port: u16, upstreams: &[(&str, String)]) -> Caddy {
    let found = Command::new("caddy").arg("version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "caddy is not installed: `cargo xtask setup` installs Debian's package"
    );
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(caddyfile())
        .env("XDG_DATA_HOME", data)
        .env("XDG_CONFIG_HOME", data)
        .env("HEAVEN_TLS", "internal")
        .env("HEAVEN_HTTP_PORT", free_port().to_string())
        .env("HEAVEN_HTTPS_PORT", https_port.to_string())
        .envs(upstreams.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy starts");
    Caddy(child)
}

/// An HTTPS client trusting only Caddy's local CA, resolving the front's hosts to 127.0.0.1.
async fn client(data: &Path, https_port: u16) -> reqwest::Client {
    let root = data.join("caddy/pki/authorities/local/root.crt");
    let started = Instant::now();
    // Caddy writes its CA when it starts serving.
    while !root.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Caddy never created its local CA at {}",
            root.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pem = std::fs::read(&root).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], https_port));
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .resolve("api.localhost", addr)
        .resolve("rooms.localhost", addr)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// GETs `url` until the front answers (its certificate may still be being issued).
async fn get_when_ready(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let mut request = http.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        match request.send().await {
            Ok(response) if response.status() != 502 => return response,
            other => {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "{url} never answered through the front: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test]
async fn the_tls_front_proxies_over_its_certificate_and_is_the_trusted_edge() {
    // The stand-in worker: answers with the headers it received.
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/headers",
            get(|headers: HeaderMap| async move {
                let seen: serde_json::Map<String, Value> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), json!(v.to_str().unwrap_or(""))))
                    .collect();
                Json(Value::Object(seen))
            }),
        );
        axum::serve(echo, app).await.unwrap();
    });

    let data = tempfile::tempdir().unwrap();
    let rooms_port = free_port();
    let rooms_port_text = rooms_port.to_string();
    let heaven = Heaven::start(
        &["serve", "rooms"],
        data.path(),
        &[
            ("VOICE_ROOMS_PORT", rooms_port_text.as_str()),
            ("TRUSTED_PROXIES", "127.0.0.1"),
            ("NONCE_LIMIT_PER_IP_10M", "2"),
        ],
        false,
    );
    assert!(
        heaven
            .url("voice-rooms")
            .ends_with(&format!(":{rooms_port}"))
    );

    let caddy_data = tempfile::tempdir().unwrap();
    let https_port = free_port();
    let _caddy = start_caddy(
        caddy_data.path(),
        https_port,
        &[
            ("HEAVEN_API_UPSTREAM", echo_addr.to_string()),
            ("HEAVEN_ROOMS_UPSTREAM", format!("127.0.0.1:{rooms_port}")),
        ],
    );
    let http = client(caddy_data.path(), https_port).await;

    // A request through the front, answered by heaven.
    let rooms = format!("https://rooms.localhost:{https_port}");
    let health = get_when_ready(&http, &format!("{rooms}/health"), &[]).await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["ok"], true);

    // What a worker receives from a client that forges edge headers.
    let api = format!("https://api.localhost:{https_port}");
    let seen: Value = get_when_ready(
        &http,
        &format!("{api}/headers"),
        &[
            ("X-Heaven-Client-Ip", "6.6.6.6"),
            ("x-heaven-edge-key", "guessed"),
            ("X-Heaven-Peer-Secret", "guessed"),
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Other", "kept"),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let names: Vec<&String> = seen.as_object().unwrap().keys().collect();
    assert!(
        !names.iter().any(|n| n.starts_with("x-heaven-")),
        "client X-Heaven-* headers reached the worker: {seen}"
    );
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1", "{seen}");
    assert_eq!(seen["x-forwarded-proto"], "https", "{seen}");
    assert_eq!(seen["x-other"], "kept", "{seen}");

    // The worker counts the real client, whatever it claims: two nonces per address, then 429.
    let mut statuses = Vec::new();
    for spoofed in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        let response = http
            .post(format!("{rooms}/auth/nonce"))
            .header("X-Forwarded-For", spoofed)
            .json(&json!({ "wallet": format!("0x{}", "ab".repeat(20)) }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);

    // The replicas' peer route stays inside.
    let internal = http
        .post(format!("{rooms}/internal/rooms/r1/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(internal.status(), 404);
    drop(heaven);
}
