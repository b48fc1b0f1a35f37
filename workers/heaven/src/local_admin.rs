//! The local stack's operator endpoint: a listener on 127.0.0.1 (never the service bind
//! address) that `heaven` commands reach while the stack runs, e.g. `heaven credits ...`.
//! Its URL and a random bearer token are written to `<data dir>/local-admin.json` (owner-only)
//! at start and removed at stop, so only the account that runs the stack can use it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use http_common::{constant_time_eq, json_error};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::error::HeavenError;

/// The file the endpoint is announced in.
pub const ANNOUNCEMENT_FILE: &str = "local-admin.json";

/// Where a running stack's operator endpoint is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Bearer token.
    pub token: String,
}

impl Announcement {
    /// The announcement in `data_dir`, if a stack wrote one.
    pub fn read(data_dir: &Path) -> Option<Announcement> {
        let text = std::fs::read_to_string(data_dir.join(ANNOUNCEMENT_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// A running operator endpoint; dropping it removes the announcement.
pub struct LocalAdmin {
    file: PathBuf,
    /// The bound address.
    pub addr: SocketAddr,
}

impl Drop for LocalAdmin {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// Serves `routes` on 127.0.0.1 behind a fresh bearer token until `stop` resolves, and
/// announces it in `data_dir`.
pub async fn start(
    data_dir: &Path,
    routes: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<LocalAdmin, HeavenError> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|source| HeavenError::Bind {
            service: "local admin",
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| HeavenError::Bind {
        service: "local admin",
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        source,
    })?;
    let token: Arc<str> = crate::random_token::random_hex_32().into();
    let file = data_dir.join(ANNOUNCEMENT_FILE);
    let announcement = Announcement {
        url: format!("http://{addr}"),
        token: token.to_string(),
    };
    let text = serde_json::to_string(&announcement).expect("serializes");
    std::fs::write(&file, text).map_err(|source| HeavenError::DataDir {
        path: file.display().to_string(),
        source,
    })?;
    let app = routes.layer(middleware::from_fn_with_state(token, require_token));
    tokio::spawn(http_common::serve(
        listener,
        app,
        http_common::ConnectionLimits::default(),
        stop,
        std::time::Duration::from_secs(5),
    ));
    Ok(LocalAdmin { file, addr })
}

async fn require_token(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        return json_error(StatusCode::UNAUTHORIZED, "local admin token required");
    }
    next.run(request).await
}
