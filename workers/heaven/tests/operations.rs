//! Migration operations from outside:
//! - `heaven shadow replay` against two local servers that answer alike except for planted
//!   differences: each planted difference is found and counted, ignored volatile fields and
//!   identical answers are not, and unsafe requests reach neither server unless a rule allows
//!   them;
//! - `heaven cutover check` against a synthetic `/metrics` whose counters move between its two
//!   reads: go, no-go, and the shadow summary the replay writes.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use heaven::shadow::{LogFormat, Rules, log, replay};
use serde_json::json;

/// Which of the two servers, and how many requests each unsafe route received.
#[derive(Clone)]
struct Side {
    shadow: bool,
    rooms_create: Arc<AtomicUsize>,
    nonces: Arc<AtomicUsize>,
}

fn random_nonce() -> String {
    format!("neo:{:016x}", rand::random::<u64>())
}

async fn names(State(side): State<Side>, Path(label): Path<String>) -> Json<serde_json::Value> {
    // Planted: the shadow says bob's name expired.
    let status = if side.shadow && label == "bob" {
        "expired"
    } else {
        "active"
    };
    Json(json!({"label": label, "status": status, "requestId": random_nonce()}))
}

async fn artist(State(side): State<Side>, Path(id): Path<String>) -> Response {
    let body = json!({"mbid": id, "name": "Artist"}).to_string();
    // Planted: the shadow labels x2 as text.
    let content_type = if side.shadow && id == "x2" {
        "text/plain"
    } else {
        "application/json"
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn missing(State(side): State<Side>) -> Response {
    // Planted: the shadow answers a path the primary does not have.
    if side.shadow {
        (StatusCode::OK, Json(json!({"ok": true}))).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"error": "Not found"}))).into_response()
    }
}

async fn nonce(State(side): State<Side>) -> Json<serde_json::Value> {
    side.nonces.fetch_add(1, Ordering::SeqCst);
    Json(json!({"wallet": "0xAb", "nonce": random_nonce(), "expiresAt": rand::random::<u32>()}))
}

async fn rooms_create(State(side): State<Side>) -> Json<serde_json::Value> {
    side.rooms_create.fetch_add(1, Ordering::SeqCst);
    Json(json!({"room_id": random_nonce()}))
}

async fn serve(shadow: bool) -> (String, Side) {
    let side = Side {
        shadow,
        rooms_create: Arc::default(),
        nonces: Arc::default(),
    };
    let app = Router::new()
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/api/names/{label}", get(names))
        .route("/artist/{id}", get(artist))
        .route("/missing", get(missing))
        .route("/auth/nonce", post(nonce))
        .route("/rooms/create", post(rooms_create))
        .with_state(side.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, side)
}

const LOG: &str = r#"{"method":"GET","path":"/health"}
{"method":"GET","path":"/api/names/alice"}
{"method":"GET","path":"/api/names/bob"}
{"method":"GET","path":"/api/names/carol?fresh=1"}
{"method":"GET","path":"/artist/x1"}
{"method":"GET","path":"/artist/x2"}
{"method":"GET","path":"/missing"}
{"method":"POST","path":"/auth/nonce","headers":{"content-type":"application/json"},"body":"{\"wallet\":\"0xab\"}"}
{"method":"POST","path":"/rooms/create","headers":{"content-type":"application/json"},"body":"{}"}
"#;

const RULES: &str = r#"{"version":1,
  "default":{"headers":["content-type"],"ignore":["**/requestId"]},
  "routes":[
    {"route":"/auth/nonce","methods":["POST"],"allow_unsafe":true,"ignore":["/nonce","/expiresAt"]},
    {"route":"/api/names/:label"},
    {"route":"/artist/:id"}]}"#;

#[tokio::test]
async fn planted_differences_are_found_counted_and_nothing_else() {
    let (primary, p) = serve(false).await;
    let (shadow, s) = serve(true).await;
    let requests = log::parse(LOG, LogFormat::Jsonl).unwrap();
    let rules = Rules::parse(RULES).unwrap();
    let report = replay(
        &reqwest::Client::new(),
        &requests,
        &primary,
        &shadow,
        &rules,
        4,
    )
    .await;

    let found: Vec<(String, Vec<String>)> = report
        .disagreements
        .iter()
        .map(|d| (d.request.clone(), d.differences.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "GET /api/names/bob".to_string(),
                vec![r#"body /status: "active" != "expired""#.to_string()]
            ),
            (
                "GET /artist/x2".to_string(),
                vec!["header content-type: application/json != text/plain".to_string()]
            ),
            (
                "GET /missing".to_string(),
                vec![
                    "status 404 != 200".to_string(),
                    r#"body /error: "Not found" != (absent)"#.to_string(),
                    "body /ok: (absent) != true".to_string(),
                ]
            ),
        ]
    );
    let names = &report.routes["/api/names/:label"];
    assert_eq!((names.compared, names.agreed), (3, 2));
    let nonce = &report.routes["/auth/nonce"];
    assert_eq!(
        (nonce.compared, nonce.agreed),
        (1, 1),
        "volatile fields ignored"
    );
    let create = &report.routes["/rooms/create"];
    assert_eq!((create.compared, create.skipped_unsafe), (0, 1));
    // 8 compared (the create skipped), 5 agreed.
    assert!((report.agreement() - 5.0 * 100.0 / 8.0).abs() < 1e-9);

    // Side effects: the allowed POST reached each server once, the other POST neither.
    assert_eq!(p.nonces.load(Ordering::SeqCst), 1);
    assert_eq!(s.nonces.load(Ordering::SeqCst), 1);
    assert_eq!(p.rooms_create.load(Ordering::SeqCst), 0);
    assert_eq!(s.rooms_create.load(Ordering::SeqCst), 0);

    let printed = report.render(2);
    assert!(
        printed.contains("overall agreement: 62.50 % (3 disagreeing)"),
        "{printed}"
    );
    assert!(printed.contains("#3 GET /api/names/bob"), "{printed}");
    assert!(printed.contains("#6 GET /artist/x2"), "{printed}");
    assert!(
        !printed.contains("#7 GET /missing"),
        "only the first 2: {printed}"
    );
    assert!(
        printed.contains("... 1 more disagreeing pairs"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_unreachable_shadow_counts_as_disagreement() {
    let (primary, _) = serve(false).await;
    let requests = log::parse(r#"{"method":"GET","path":"/health"}"#, LogFormat::Jsonl).unwrap();
    let report = replay(
        &reqwest::Client::new(),
        &requests,
        &primary,
        "http://127.0.0.1:1",
        &Rules::default(),
        1,
    )
    .await;
    assert_eq!(report.routes["/health"].unreachable, 1);
    assert_eq!(report.agreement(), 0.0);
    assert!(report.disagreements[0].differences[0].starts_with("shadow unreachable"));
}

/// Runs `heaven shadow replay` and returns its exit code and stdout.
fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_heaven"))
        .args(["shadow", "replay"])
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_gates_on_agreement_and_refuses_bad_input() {
    let (primary, _) = serve(false).await;
    let (shadow, _) = serve(true).await;
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("requests.jsonl");
    let rules_path = dir.path().join("rules.json");
    std::fs::write(&log_path, LOG).unwrap();
    std::fs::write(&rules_path, RULES).unwrap();
    let (log_arg, rules_arg) = (
        log_path.to_str().unwrap().to_string(),
        rules_path.to_str().unwrap().to_string(),
    );
    let base = [
        "--log",
        log_arg.as_str(),
        "--rules",
        rules_arg.as_str(),
        "--primary",
        primary.as_str(),
        "--shadow",
        shadow.as_str(),
    ];

    let run = |extra: Vec<String>| {
        let args: Vec<String> = base.iter().map(|s| s.to_string()).chain(extra).collect();
        tokio::task::spawn_blocking(move || {
            cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let (code, stdout, stderr) = run(vec![]).await.unwrap();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("/api/names/:label"), "{stdout}");
    assert!(
        stderr.contains("agreement 62.50 % is below the required 100.00 %"),
        "{stderr}"
    );
    let summary = dir.path().join("summary.json");
    let (code, stdout, _) = run(vec![
        "--min-agreement".into(),
        "60".into(),
        "--summary".into(),
        summary.to_str().unwrap().into(),
    ])
    .await
    .unwrap();
    assert_eq!(code, 0, "{stdout}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"agreement": 62.5, "compared": 8, "disagreeing": 3})
    );

    std::fs::write(&log_path, "{\"method\":\"GET\"}\n").unwrap();
    let (code, _, stderr) = run(vec![]).await.unwrap();
    assert_eq!(code, 2);
    assert!(stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("requests.jsonl"), "{stderr}");
}

/// A `/metrics` endpoint answering `first` on its first read and `later` afterwards, and 401
/// without `Authorization: Bearer metrics-secret`.
async fn synthetic_metrics(first: String, later: String) -> String {
    let reads = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/metrics",
        get(move |headers: axum::http::HeaderMap| {
            let authorized = headers
                .get(header::AUTHORIZATION)
                .is_some_and(|v| v == "Bearer metrics-secret");
            let n = if authorized {
                reads.fetch_add(1, Ordering::SeqCst)
            } else {
                0
            };
            let body = if n == 0 { first.clone() } else { later.clone() };
            async move {
                if authorized {
                    (StatusCode::OK, body)
                } else {
                    (StatusCode::UNAUTHORIZED, String::new())
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn rooms_metrics(ok: u64, errors: u64) -> String {
    let total = ok + errors;
    format!(
        "http_requests_total{{method=\"POST\",route=\"/rooms/heartbeat\",service=\"voice-rooms\",status=\"200\"}} {ok}\n\
         http_requests_total{{method=\"POST\",route=\"/rooms/heartbeat\",service=\"voice-rooms\",status=\"503\"}} {errors}\n\
         http_request_errors_total{{method=\"POST\",route=\"/rooms/heartbeat\",service=\"voice-rooms\"}} {errors}\n\
         http_request_duration_seconds_bucket{{method=\"POST\",route=\"/rooms/heartbeat\",service=\"voice-rooms\",le=\"0.01\"}} {total}\n\
         http_request_duration_seconds_bucket{{method=\"POST\",route=\"/rooms/heartbeat\",service=\"voice-rooms\",le=\"+Inf\"}} {total}\n\
         http_request_duration_seconds_count{{method=\"POST\",route=\"/rooms/heartbeat\",service=\"voice-rooms\"}} {total}\n"
    )
}

fn cutover(args: Vec<String>) -> (i32, String, String) {
    cutover_with_token(args, Some("metrics-secret"))
}

fn cutover_with_token(args: Vec<String>, token: Option<&str>) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heaven"));
    command.env_clear();
    if let Some(token) = token {
        command.env("METRICS_TOKEN", token);
    }
    let out = command
        .args(["cutover", "check"])
        .args(&args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_check_says_go_or_no_go_from_the_window_and_the_shadow_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("shadow.json");
    std::fs::write(
        &summary,
        r#"{"agreement":99.6,"compared":500,"disagreeing":2}"#,
    )
    .unwrap();
    let summary = summary.to_str().unwrap().to_string();
    let check = |metrics: String, extra: Vec<&str>| {
        let mut args = vec![
            "voice-rooms".to_string(),
            "--metrics".into(),
            metrics,
            "--window".into(),
            "1".into(),
        ];
        args.extend(extra.into_iter().map(String::from));
        tokio::task::spawn_blocking(move || cutover(args))
    };

    // 1 000 heartbeats, 2 of them 503, with the shadow at 99.6 %: go (the checked-in file).
    let healthy = synthetic_metrics(rooms_metrics(100, 0), rooms_metrics(1098, 2)).await;
    let (code, stdout, stderr) = check(healthy.clone(), vec!["--shadow-summary", &summary])
        .await
        .unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0.20 %"), "{stdout}");
    assert!(stdout.trim_end().ends_with("GO"), "{stdout}");

    // The same window without the shadow summary the thresholds ask for: no-go.
    let healthy = synthetic_metrics(rooms_metrics(100, 0), rooms_metrics(1098, 2)).await;
    let (code, stdout, stderr) = check(healthy, vec![]).await.unwrap();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("shadow agreement not given"), "{stderr}");

    // 5 % errors: no-go, the figure named.
    let failing = synthetic_metrics(rooms_metrics(0, 0), rooms_metrics(950, 50)).await;
    let (code, stdout, stderr) = check(failing, vec!["--shadow-summary", &summary])
        .await
        .unwrap();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("5.00 %"), "{stdout}");
    assert!(stdout.trim_end().ends_with("NO-GO"), "{stdout}");

    // Without the token /metrics answers 401: the check cannot judge.
    let guarded = synthetic_metrics(rooms_metrics(0, 0), rooms_metrics(1000, 0)).await;
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        cutover_with_token(
            vec![
                "voice-rooms".into(),
                "--metrics".into(),
                guarded,
                "--window".into(),
                "0".into(),
            ],
            None,
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");

    // Bad input: an unknown service, an unreachable /metrics.
    let (code, _, stderr) = tokio::task::spawn_blocking(|| {
        cutover(vec![
            "nope".into(),
            "--metrics".into(),
            "http://127.0.0.1:1/metrics".into(),
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no thresholds for service \"nope\""),
        "{stderr}"
    );
    let (code, _, stderr) = tokio::task::spawn_blocking(|| {
        cutover(vec![
            "api".into(),
            "--metrics".into(),
            "http://127.0.0.1:1/metrics".into(),
            "--window".into(),
            "0".into(),
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("metrics http://127.0.0.1:1/metrics"),
        "{stderr}"
    );
}
