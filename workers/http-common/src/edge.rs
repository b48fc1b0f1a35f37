//! Wrapping a service's router with the production edge: request ids, tracing, CORS, metrics,
//! security headers, the client IP, panics turned into 500s, timeout and body limit.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::client_ip::{self, TrustedProxies};
use crate::cors::{CorsPolicy, apply_cors};
use crate::error::json_error;
use crate::metrics::{self, RouteMetrics};
use crate::secret::constant_time_eq;

/// Header carrying the request id (set when the client sent none, echoed on the response).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Headers every response carries unless the handler set them: a JSON API is never sniffed as
/// another type, framed, or followed by a referrer.
pub const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

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
    /// The `error` text of the JSON body this service answers an unexpected failure with
    /// (a panicking handler): `{"error":"<internal_error>"}` with status 500.
    pub internal_error: &'static str,
    /// Proxies whose forwarding headers name the client ([`crate::ClientIp`]).
    pub trusted_proxies: TrustedProxies,
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>` (`METRICS_TOKEN`).
    pub metrics_token: Option<Arc<str>>,
}

impl ServiceEdge {
    /// An edge with the defaults used by JSON services: 1 MiB bodies, 30 s to answer,
    /// `{"error":"Internal Server Error"}` for failures, no trusted proxy, open `/metrics`.
    pub fn new(name: &'static str, cors: CorsPolicy) -> Self {
        Self {
            name,
            cors,
            body_limit: 1024 * 1024,
            timeout: Duration::from_secs(30),
            internal_error: "Internal Server Error",
            trusted_proxies: TrustedProxies::none(),
            metrics_token: None,
        }
    }

    /// Adds `GET /metrics` to `router` and wraps it in the edge.
    pub fn wrap(&self, router: Router) -> Router {
        let metrics = RouteMetrics::new(self.name);
        self.wrap_with_metrics(router, metrics)
    }

    /// Like [`ServiceEdge::wrap`] with a metrics registry the caller keeps (tests read it).
    pub fn wrap_with_metrics(&self, router: Router, metrics: Arc<RouteMetrics>) -> Router {
        let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
        let cors = self.cors;
        let service = self.name;
        let proxies = self.trusted_proxies.clone();
        let limits = ErrorBodies {
            body_limit: self.body_limit,
        };
        let metrics_route = Router::new()
            .route("/metrics", get(render_metrics))
            .with_state(MetricsEndpoint {
                metrics: metrics.clone(),
                token: self.metrics_token.clone(),
            });
        let panics = metrics.clone();
        let internal_error = self.internal_error;
        router
            .merge(metrics_route)
            .layer(DefaultBodyLimit::max(self.body_limit))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                self.timeout,
            ))
            .layer(middleware::from_fn_with_state(limits, json_limit_errors))
            .layer(CatchPanicLayer::custom(
                move |payload: Box<dyn Any + Send + 'static>| {
                    panics.count_panic();
                    tracing::error!(panic = %panic_message(&*payload), "handler panicked");
                    json_error(StatusCode::INTERNAL_SERVER_ERROR, internal_error)
                },
            ))
            .layer(middleware::from_fn(security_headers))
            .layer(middleware::from_fn_with_state(metrics, metrics::record))
            .layer(middleware::from_fn(move |req, next| {
                apply_cors(cors, req, next)
            }))
            .layer(middleware::from_fn(move |req, next| {
                client_ip::resolve(proxies.clone(), req, next)
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

/// The text of a panic payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-text panic payload)")
}

/// What the limit-error rewrite needs to know.
#[derive(Clone, Copy)]
struct ErrorBodies {
    body_limit: usize,
}

/// The framework's own answers to an oversized body (413, plain text) and a slow handler (408,
/// empty) are not JSON; clients of every service parse `{"error": ...}`, so they are rewritten to it. Answers
/// a handler chose (JSON already) pass untouched.
async fn json_limit_errors(
    State(limits): State<ErrorBodies>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !is_json => json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Request body too large (limit {} bytes)", limits.body_limit),
        ),
        StatusCode::REQUEST_TIMEOUT if !is_json => {
            json_error(StatusCode::REQUEST_TIMEOUT, "Request timed out")
        }
        _ => response,
    }
}

/// Adds [`SECURITY_HEADERS`] a handler did not set.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// State of `GET /metrics`.
#[derive(Clone)]
struct MetricsEndpoint {
    metrics: Arc<RouteMetrics>,
    token: Option<Arc<str>>,
}

/// `GET /metrics`: the registry, behind the bearer token when one is configured.
async fn render_metrics(State(endpoint): State<MetricsEndpoint>, request: Request) -> Response {
    if let Some(token) = &endpoint.token {
        let presented = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
            return json_error(StatusCode::UNAUTHORIZED, "metrics token required");
        }
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        Body::from(endpoint.metrics.render()),
    )
        .into_response()
}
