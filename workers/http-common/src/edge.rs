//! Wrapping a service's router with the production edge, and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::cors::{CorsPolicy, apply_cors};
use crate::metrics::{self, RouteMetrics};

/// Header carrying the request id (set when the client sent none, echoed on the response).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Everything around one service's handlers.
#[derive(Debug, Clone)]
pub struct ServiceEdge {
    /// Service name: metrics label and log field.
    pub name: &'static str,
    /// CORS as the original service sends it.
    pub cors: CorsPolicy,
    /// Largest request body accepted (413 above it).
    pub body_limit: usize,
    /// Time allowed to produce the response head (408 after it).
    pub timeout: Duration,
}

impl ServiceEdge {
    /// An edge with the defaults used by JSON services: 1 MiB bodies, 30 s to answer.
    pub fn new(name: &'static str, cors: CorsPolicy) -> Self {
        Self {
            name,
            cors,
            body_limit: 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }

    /// Adds `GET /metrics` to `router` and wraps it in request ids, tracing, CORS, metrics,
    /// timeout and body limit.
    pub fn wrap(&self, router: Router) -> Router {
        let metrics = RouteMetrics::new(self.name);
        self.wrap_with_metrics(router, metrics)
    }

    /// Like [`ServiceEdge::wrap`] with a metrics registry the caller keeps (tests read it).
    pub fn wrap_with_metrics(&self, router: Router, metrics: Arc<RouteMetrics>) -> Router {
        let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
        let cors = self.cors;
        let service = self.name;
        let metrics_route = Router::new()
            .route("/metrics", get(metrics::render))
            .with_state(metrics.clone());
        router
            .merge(metrics_route)
            .layer(DefaultBodyLimit::max(self.body_limit))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                self.timeout,
            ))
            .layer(middleware::from_fn_with_state(metrics, metrics::record))
            .layer(middleware::from_fn(move |req, next| {
                apply_cors(cors, req, next)
            }))
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(
                TraceLayer::new_for_http()
                    .on_response(DefaultOnResponse::new().level(Level::INFO))
                    .make_span_with(move |req: &Request| {
                        let id = req
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!(
                            "request",
                            service,
                            method = %req.method(),
                            uri = %req.uri(),
                            request_id = %id,
                        )
                    }),
            )
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    }
}

/// Installs the Ctrl-C and SIGTERM (what Akash and docker send on stop) handlers now, and
/// returns a future that resolves on the first of them.
///
/// Call it before announcing that the service is up: a signal that arrives between the
/// announcement and the first poll is then still caught instead of killing the process.
/// Must be called inside a tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
                tracing::error!("cannot install signal handlers; stop with SIGKILL");
                return std::future::pending().await;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
