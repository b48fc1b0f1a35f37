//! The shared edge, exercised through a small router: CORS per original service, request ids,
//! metrics, body limit and timeout.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use http_body_util::BodyExt;
use http_common::{CorsPolicy, RouteMetrics, ServiceEdge, json_error};
use tower::ServiceExt;

fn app(cors: CorsPolicy) -> Router {
    let routes = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({"ok": true})) }),
        )
        .route("/items/{id}", get(|| async { "item" }))
        .route(
            "/boom",
            get(|| async { json_error(StatusCode::BAD_GATEWAY, "upstream_error") }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let mut edge = ServiceEdge::new("test", cors);
    edge.body_limit = 16;
    edge.timeout = Duration::from_millis(200);
    edge.wrap(routes)
}

async fn send(app: &Router, request: Request<Body>) -> Response {
    app.clone()
        .oneshot(request)
        .await
        .expect("router is infallible")
}

async fn body_text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn api_core_echoes_only_listed_origins() {
    let app = app(CorsPolicy::api_core());
    let listed = Request::get("/health")
        .header("origin", "https://heaven.xyz")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, listed).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("https://heaven.xyz")
    );
    assert_eq!(header(&response, "vary"), Some("Origin"));

    let other = Request::get("/health")
        .header("origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, other).await;
    assert_eq!(response.status(), StatusCode::OK, "request is still served");
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    assert_eq!(header(&response, "vary"), Some("Origin"));
    assert_eq!(body_text(response).await, r#"{"ok":true}"#);
}

#[tokio::test]
async fn api_core_preflight_on_any_path() {
    let app = app(CorsPolicy::api_core());
    let request = Request::options("/api/names/anything")
        .header("origin", "http://localhost:5173")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        header(&response, "access-control-allow-methods"),
        Some("GET,POST,OPTIONS")
    );
    assert_eq!(
        header(&response, "access-control-allow-headers"),
        Some(
            "Content-Type,Authorization,X-User-Address,X-Claim-Start-Secret,Idempotency-Key,X-Device-Id"
        )
    );
    assert_eq!(
        header(&response, "vary"),
        Some("Origin, Access-Control-Request-Headers")
    );
    assert_eq!(header(&response, "access-control-max-age"), None);
    assert_eq!(body_text(response).await, "");
}

#[tokio::test]
async fn other_services_keep_their_own_cors() {
    let resolver = send(&app(CorsPolicy::metadata_resolver()), get_req("/health")).await;
    assert_eq!(header(&resolver, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&resolver, "access-control-allow-methods"),
        Some("GET, POST, OPTIONS")
    );
    assert_eq!(
        header(&resolver, "access-control-allow-headers"),
        Some("Content-Type")
    );

    let agent_app = app(CorsPolicy::voice_agent());
    let agent = send(&agent_app, get_req("/health")).await;
    assert_eq!(header(&agent, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&agent, "access-control-allow-methods"), None);
    let preflight = Request::options("/chat/stream")
        .body(Body::empty())
        .unwrap();
    let agent = send(&agent_app, preflight).await;
    assert_eq!(agent.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&agent, "access-control-allow-headers"),
        Some("content-type,authorization")
    );
    assert_eq!(
        header(&agent, "vary"),
        Some("Access-Control-Request-Headers")
    );

    let rooms = send(&app(CorsPolicy::voice_rooms()), get_req("/health")).await;
    assert_eq!(
        header(&rooms, "access-control-expose-headers"),
        Some("PAYMENT-REQUIRED,PAYMENT-RESPONSE")
    );
}

#[tokio::test]
async fn request_id_is_generated_or_propagated() {
    let app = app(CorsPolicy::voice_agent());
    let response = send(&app, get_req("/health")).await;
    let generated = header(&response, "x-request-id").expect("an id is generated");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let request = Request::get("/health")
        .header("x-request-id", "client-chosen-1")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, request).await;
    assert_eq!(header(&response, "x-request-id"), Some("client-chosen-1"));
}

#[tokio::test]
async fn metrics_count_requests_errors_and_latency_by_route_template() {
    let metrics = RouteMetrics::new("test");
    let app = ServiceEdge::new("test", CorsPolicy::voice_agent()).wrap_with_metrics(
        Router::new()
            .route("/items/{id}", get(|| async { "item" }))
            .route(
                "/boom",
                get(|| async { json_error(StatusCode::INTERNAL_SERVER_ERROR, "x") }),
            ),
        metrics.clone(),
    );
    for id in ["a", "b", "c"] {
        send(&app, get_req(&format!("/items/{id}"))).await;
    }
    send(&app, get_req("/boom")).await;
    send(&app, get_req("/nowhere")).await;

    let response = send(&app, get_req("/metrics")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = body_text(response).await;
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/items/{id}",service="test",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_errors_total{method="GET",route="/boom",service="test"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="<unmatched>",service="test",status="404"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="GET",route="/items/{id}",service="test"} 3"#),
        "{text}"
    );
    assert!(!text.contains("/items/a"), "raw paths never become labels");
}

#[tokio::test(start_paused = true)]
async fn oversized_bodies_and_slow_handlers_are_cut_off() {
    let app = app(CorsPolicy::voice_agent());
    let small = Request::post("/echo").body(Body::from("hello")).unwrap();
    let response = send(&app, small).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "hello");

    let big = Request::post("/echo")
        .body(Body::from("x".repeat(64)))
        .unwrap();
    let response = send(&app, big).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(
        body_text(response).await,
        r#"{"error":"Request body too large (limit 16 bytes)"}"#
    );

    let response = send(&app, get_req("/slow")).await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("*"),
        "CORS on errors too"
    );
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(
        body_text(response).await,
        r#"{"error":"Request timed out"}"#
    );
}

#[tokio::test]
async fn json_error_body_is_compact() {
    let response = send(&app(CorsPolicy::voice_agent()), get_req("/boom")).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(body_text(response).await, r#"{"error":"upstream_error"}"#);
}

/// Log lines written by this test binary up to the end of `f`, as JSON objects with their span
/// fields. The subscriber is the binary's global default, installed once: a thread-local one
/// (`set_default`) loses events whenever another test thread caches a callsite as unwanted in
/// tracing's global interest cache, which made this flaky in CI. Callers pick their own lines
/// out (tests run concurrently and share the buffer).
async fn captured_logs<F: std::future::Future>(f: F) -> (F::Output, String) {
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOGS: std::sync::OnceLock<Buffer> = std::sync::OnceLock::new();
    let buffer = LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        buffer
    });
    let out = f.await;
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (out, logs)
}

async fn panicking_handler() -> &'static str {
    panic!("handler bug {}", 42)
}

#[tokio::test]
async fn a_panicking_handler_answers_the_services_json_500_and_the_rest_keeps_working() {
    let metrics = RouteMetrics::new("test");
    let mut edge = ServiceEdge::new("test", CorsPolicy::api_core());
    edge.internal_error = "Internal server error";
    let app = edge.wrap_with_metrics(
        Router::new()
            .route("/panic", get(panicking_handler))
            .route("/fine", get(|| async { "fine" })),
        metrics.clone(),
    );
    let request = Request::get("/panic")
        .header("x-request-id", "req-panic-1")
        .body(Body::empty())
        .unwrap();
    let (response, logs) = captured_logs(send(&app, request)).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(header(&response, "x-request-id"), Some("req-panic-1"));
    assert_eq!(
        body_text(response).await,
        r#"{"error":"Internal server error"}"#
    );
    let line = logs
        .lines()
        .find(|l| l.contains("handler panicked"))
        .unwrap_or_else(|| panic!("no panic log line in {logs}"));
    assert!(line.contains("handler bug 42"), "{line}");
    assert!(
        line.contains("req-panic-1"),
        "the request id is on the line: {line}"
    );

    let response = send(&app, get_req("/fine")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = body_text(send(&app, get_req("/metrics")).await).await;
    assert!(
        text.contains(r#"http_handler_panics_total{service="test"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_errors_total{method="GET",route="/panic",service="test"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn client_chosen_methods_never_become_metric_labels() {
    let metrics = RouteMetrics::new("test");
    let app = ServiceEdge::new("test", CorsPolicy::voice_agent()).wrap_with_metrics(
        Router::new().route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({"ok": true})) }),
        ),
        metrics.clone(),
    );
    for i in 0..10_000 {
        let request = Request::builder()
            .method(format!("X{i:05}ABC").as_str())
            .uri("/health")
            .body(Body::empty())
            .unwrap();
        send(&app, request).await;
    }
    send(&app, get_req("/health")).await;
    let text = metrics.render();
    assert!(text.len() < 16 * 1024, "{} bytes of metrics", text.len());
    let methods: std::collections::BTreeSet<&str> = text
        .split("method=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(
        methods.into_iter().collect::<Vec<_>>(),
        ["GET", "other"],
        "{text}"
    );
    let others: u64 = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{method=\"other\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(others, 10_000, "{text}");
}

#[tokio::test]
async fn responses_carry_security_headers_unless_the_handler_chose_its_own() {
    let app = ServiceEdge::new("test", CorsPolicy::voice_agent()).wrap(
        Router::new().route("/plain", get(|| async { "x" })).route(
            "/framed",
            get(|| async { ([("x-frame-options", "SAMEORIGIN")], "page") }),
        ),
    );
    let response = send(&app, get_req("/plain")).await;
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
    let response = send(&app, get_req("/framed")).await;
    assert_eq!(header(&response, "x-frame-options"), Some("SAMEORIGIN"));
    let response = send(&app, get_req("/nowhere")).await;
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_configured() {
    let mut edge = ServiceEdge::new("test", CorsPolicy::voice_agent());
    edge.metrics_token = Some("scrape-secret".into());
    let app = edge.wrap(Router::new());
    let response = send(&app, get_req("/metrics")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_text(response).await,
        r#"{"error":"metrics token required"}"#
    );
    let wrong = Request::get("/metrics")
        .header("authorization", "Bearer scrape-secreT")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, wrong).await.status(), StatusCode::UNAUTHORIZED);
    let right = Request::get("/metrics")
        .header("authorization", "Bearer scrape-secret")
        .body(Body::empty())
        .unwrap();
    let response = send(&app, right).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body_text(response).await.contains("http_requests_total"));
}
