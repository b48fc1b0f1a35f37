//! Prometheus metrics per route: request count, error count and a latency histogram.
//!
//! Each service owns its own registry (no process-global recorder), so several services in one
//! process — `heaven serve all` — and parallel tests never mix their figures.
//!
//! Every label value comes from a fixed set, never from the client, so a flood of odd requests
//! cannot grow the registry: the route label is the axum route template (`/artist/{mbid}`),
//! never the raw path (requests no route matched are `<unmatched>`); the method label is one of
//! the standard methods or `other` ([`method_label`]); the status is one the server chose.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Label used for requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

/// Label of every method outside [`method_label`]'s fixed set.
pub const OTHER_METHOD: &str = "other";

/// The method label of a request: the standard method names as they are, anything else a
/// client invents (`XABC`, `get` in lower case, ...) folded into [`OTHER_METHOD`].
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => OTHER_METHOD,
    }
}

/// The metric families of one service.
#[derive(Clone)]
pub struct RouteMetrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    duration: HistogramVec,
    panics: IntCounter,
}

impl RouteMetrics {
    /// Creates the families, labelled with `service` as a constant label.
    pub fn new(service: &str) -> Arc<Self> {
        let registry = Registry::new();
        let with_service = |opts: Opts| opts.const_label("service", service);
        let requests = IntCounterVec::new(
            with_service(Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route and status",
            )),
            &["method", "route", "status"],
        )
        .expect("valid metric definition");
        let errors = IntCounterVec::new(
            with_service(Opts::new(
                "http_request_errors_total",
                "HTTP requests answered with a 5xx status, by method and route",
            )),
            &["method", "route"],
        )
        .expect("valid metric definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to the response head, by method and route",
            )
            .const_label("service", service),
            &["method", "route"],
        )
        .expect("valid metric definition");
        let panics = IntCounter::with_opts(with_service(Opts::new(
            "http_handler_panics_total",
            "Handlers that panicked (each answered 500 and counted in the request figures too)",
        )))
        .expect("valid metric definition");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(errors.clone()),
            Box::new(duration.clone()),
            Box::new(panics.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric registered once per registry");
        }
        Arc::new(Self {
            registry,
            requests,
            errors,
            duration,
            panics,
        })
    }

    /// Counts one panicking handler.
    pub fn count_panic(&self) {
        self.panics.inc();
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        if status.is_server_error() {
            self.errors.with_label_values(&[method, route]).inc();
        }
        self.duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The registry in Prometheus text exposition format, followed by the process's default
    /// registry (figures not tied to one service, e.g. `canister_bridge_failures_total`).
    pub fn render(&self) -> String {
        let mut families = self.registry.gather();
        families.extend(prometheus::gather());
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&families, &mut buffer)
            .expect("text encoding of gathered metrics cannot fail");
        String::from_utf8(buffer).expect("prometheus text format is UTF-8")
    }
}

/// Middleware that times every request and records it under its route template.
pub async fn record(
    State(metrics): State<Arc<RouteMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let response = next.run(request).await;
    metrics.observe(
        method,
        &route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}
