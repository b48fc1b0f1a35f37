//! The canister's HTTP gateway: `http_request` (query) and `http_request_update` (update), as
//! the boundary node's gateway calls them.
//!
//! Certified reads: responses that depend only on stored state are kept in an
//! [`HttpCertificationTree`] (heap; rebuilt in `post_upgrade`) and served from the query with
//! an `IC-Certificate` header: `GET /health`, `GET /api/names/<label>` for every name still
//! within its grace period, and `GET /api/names/policy/signer` once the key is known.
//! Everything else — writes, and reads whose answer moves with the clock (claim links, name
//! availability, reverse lookups, DNS) — is upgraded to `http_request_update`, whose answer
//! goes through consensus. After each update, the names the update touched (read from the
//! audit log) are re-certified in the same message; the expiry sweep removes names whose grace
//! ended.
//!
//! CORS is answered here (the local stack's axum edge does it natively) with the original's
//! allow-list; the CORS headers are not certified because they depend on the request.

use std::cell::RefCell;
use std::collections::BTreeMap;

use canister_runtime::Runtime;
use ic_http_certification::utils::add_v2_certificate_header;
use ic_http_certification::{
    CERTIFICATE_EXPRESSION_HEADER_NAME, DefaultCelBuilder, DefaultResponseCertification,
    DefaultResponseOnlyCelExpression, HeaderField, HttpCertification, HttpCertificationPath,
    HttpCertificationTree, HttpCertificationTreeEntry, HttpRequest, HttpResponse,
    HttpUpdateRequest, HttpUpdateResponse, StatusCode,
};

use crate::api::{ApiRequest, ApiResponse, Now};
use crate::events::EventKind;
use crate::names::{policy, registry};
use crate::{router, state};

/// Origins the original api-core allows (contracts/api-core.md §0.1).
pub const ALLOWED_ORIGINS: [&str; 5] = [
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:4173",
    "https://heaven.computer",
    "https://heaven.xyz",
];
const ALLOW_METHODS: &str = "GET,POST,OPTIONS";
const ALLOW_HEADERS: &str =
    "Content-Type,Authorization,X-User-Address,X-Claim-Start-Secret,Idempotency-Key,X-Device-Id";

/// Path of the certified health answer.
pub const HEALTH_PATH: &str = "/health";
/// Path of the policy signer answer.
pub const SIGNER_PATH: &str = "/api/names/policy/signer";

struct Certified {
    response: HttpResponse<'static>,
    certification: HttpCertification,
}

thread_local! {
    static TREE: RefCell<HttpCertificationTree> = RefCell::new(HttpCertificationTree::default());
    static CERTIFIED: RefCell<BTreeMap<String, Certified>> = const { RefCell::new(BTreeMap::new()) };
}

fn cel() -> DefaultResponseOnlyCelExpression<'static> {
    DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::certified_response_headers(
            &["content-type"][..],
        ))
        .build()
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn name_path(label: &str) -> String {
    format!("/api/names/{label}")
}

/// Certifies `api` as the answer to `GET path`, replacing an earlier certification.
pub fn certify(path: &str, api: &ApiResponse) {
    let cel = cel();
    let response = HttpResponse::builder()
        .with_status_code(status(api.status))
        .with_headers(vec![
            ("content-type".to_string(), "application/json".to_string()),
            (
                CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(),
                cel.to_string(),
            ),
        ])
        .with_body(api.body.clone())
        .build();
    let certification = match HttpCertification::response_only(&cel, &response, None) {
        Ok(c) => c,
        Err(e) => {
            crate::log(&format!("certifying {path} failed: {e}"));
            return;
        }
    };
    uncertify(path);
    let http_path = HttpCertificationPath::exact(path.to_string());
    TREE.with_borrow_mut(|t| t.insert(&HttpCertificationTreeEntry::new(&http_path, certification)));
    CERTIFIED.with_borrow_mut(|c| {
        c.insert(
            path.to_string(),
            Certified {
                response,
                certification,
            },
        )
    });
}

/// Removes the certified answer of `GET path`, if any.
pub fn uncertify(path: &str) {
    if let Some(old) = CERTIFIED.with_borrow_mut(|c| c.remove(path)) {
        let http_path = HttpCertificationPath::exact(path.to_string());
        TREE.with_borrow_mut(|t| {
            t.delete(&HttpCertificationTreeEntry::new(
                &http_path,
                old.certification,
            ))
        });
    }
}

/// The tree's root hash: what `certified_data_set` must hold.
pub fn root_hash() -> [u8; 32] {
    TREE.with_borrow(|t| t.root_hash())
}

/// Paths currently certified (tests, stats).
pub fn certified_paths() -> Vec<String> {
    CERTIFIED.with_borrow(|c| c.keys().cloned().collect())
}

/// Re-certifies `GET /api/names/<label>` from the stored name: certified while the name is
/// within its grace period, removed otherwise.
pub fn recertify_name(label: &str, now: Now) {
    let path = name_path(label);
    match registry::details(label, now) {
        Ok(response) if response.status == 200 => certify(&path, &response),
        _ => uncertify(&path),
    }
}

/// Rebuilds every certification from stable state (install and upgrade: the tree is heap).
pub fn rebuild(now: Now) {
    TREE.with_borrow_mut(|t| *t = HttpCertificationTree::default());
    CERTIFIED.with_borrow_mut(BTreeMap::clear);
    certify(
        HEALTH_PATH,
        &ApiResponse::ok(&serde_json::json!({ "ok": true })),
    );
    let labels: Vec<String> = state::with(|s| {
        s.names
            .iter()
            .filter(|e| e.value().0.grace_ends_at >= now.secs())
            .map(|e| e.key().clone())
            .collect()
    });
    for label in labels {
        recertify_name(&label, now);
    }
    if let Some(signer) = policy::signer_info_cached() {
        certify(SIGNER_PATH, &signer);
    }
}

/// Labels whose stored record changed in events `since..` of the audit log.
fn labels_changed_since(since: u64) -> Vec<String> {
    state::with(|s| {
        (since..s.events.len())
            .filter_map(|i| s.events.get(i))
            .filter_map(|e| match e.0.kind {
                EventKind::NameRegistered { label, .. }
                | EventKind::NameRenewed { label, .. }
                | EventKind::NameUpdated { label } => Some(label),
                _ => None,
            })
            .collect()
    })
}

/// Whether the certified answer of `path` still holds at `now` (a name past its grace must
/// be answered by an update even before the sweep removes its certification).
fn still_valid(path: &str, now: Now) -> bool {
    match path.strip_prefix("/api/names/") {
        Some(label) if path != SIGNER_PATH => state::with(|s| {
            s.names
                .get(&label.to_string())
                .is_some_and(|n| now.secs() <= n.0.grace_ends_at)
        }),
        _ => true,
    }
}

fn header<'a>(headers: &'a [HeaderField], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// CORS headers for a request from `origin` (the original's: echo an allowed origin, always
/// `Vary: Origin`).
fn cors_headers(origin: Option<&str>) -> Vec<HeaderField> {
    let mut headers = vec![("vary".to_string(), "Origin".to_string())];
    if let Some(origin) = origin.filter(|o| ALLOWED_ORIGINS.contains(o)) {
        headers.push((
            "access-control-allow-origin".to_string(),
            origin.to_string(),
        ));
    }
    headers
}

fn path_of(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() { "/" } else { path }
}

/// The `http_request` query: a certified answer when there is one, otherwise "upgrade".
/// `data_certificate` is the system's certificate (present in non-replicated queries).
pub fn serve_query(
    req: &HttpRequest,
    now: Now,
    data_certificate: Option<Vec<u8>>,
) -> HttpResponse<'static> {
    let upgrade = || HttpResponse::builder().with_upgrade(true).build();
    if req.method().as_str() != "GET" {
        return upgrade();
    }
    let Some(certificate) = data_certificate else {
        return upgrade();
    };
    let path = path_of(req.url());
    if !still_valid(path, now) {
        return upgrade();
    }
    let found = CERTIFIED.with_borrow(|c| {
        c.get(path)
            .map(|cert| (cert.response.clone(), cert.certification))
    });
    let Some((mut response, certification)) = found else {
        return upgrade();
    };
    let http_path = HttpCertificationPath::exact(path.to_string());
    let entry = HttpCertificationTreeEntry::new(&http_path, certification);
    let witness = match TREE.with_borrow(|t| t.witness(&entry, path)) {
        Ok(w) => w,
        Err(e) => {
            crate::log(&format!("witness for {path} failed: {e}"));
            return upgrade();
        }
    };
    add_v2_certificate_header(
        &certificate,
        &mut response,
        &witness,
        &http_path.to_expr_path(),
    );
    for h in cors_headers(header(req.headers(), "origin")) {
        response.add_header(h);
    }
    response
}

/// The `http_request_update` update: runs the route, re-certifies what it changed. The caller
/// sets the certified data to [`root_hash`] afterwards.
pub async fn serve_update<R: Runtime>(
    rt: &R,
    req: &HttpUpdateRequest<'_>,
    now: Now,
) -> HttpUpdateResponse<'static> {
    let origin = header(req.headers(), "origin").map(str::to_string);
    if req.method().as_str() == "OPTIONS" {
        let mut headers = cors_headers(origin.as_deref());
        headers.push((
            "access-control-allow-methods".to_string(),
            ALLOW_METHODS.to_string(),
        ));
        headers.push((
            "access-control-allow-headers".to_string(),
            ALLOW_HEADERS.to_string(),
        ));
        headers[0].1 = "Origin, Access-Control-Request-Headers".to_string();
        return HttpResponse::builder()
            .with_status_code(StatusCode::NO_CONTENT)
            .with_headers(headers)
            .build_update();
    }
    let api_request = ApiRequest::new(
        req.method().as_str(),
        req.url(),
        req.headers().to_vec(),
        req.body().to_vec(),
    );
    let events_before = state::with(|s| s.events.len());
    let api = router::update(rt, &api_request, now).await;
    after_update(events_before, now);
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(cors_headers(origin.as_deref()));
    HttpResponse::builder()
        .with_status_code(status(api.status))
        .with_headers(headers)
        .with_body(api.body)
        .build_update()
}

/// Keeps the certified answers in step after an update: names it touched, and the signer
/// answer once the key is known.
pub fn after_update(events_before: u64, now: Now) {
    for label in labels_changed_since(events_before) {
        recertify_name(&label, now);
    }
    refresh_signer();
}

/// Certifies the policy signer answer (it also carries the configured chain and store, so
/// controllers' config changes call this too).
pub fn refresh_signer() {
    if let Some(signer) = policy::signer_info_cached() {
        certify(SIGNER_PATH, &signer);
    }
}

/// The periodic expiry sweep: stale challenges and rate-limit windows, names past grace.
pub fn sweep(now: Now) {
    policy::sweep(now);
    for label in registry::past_grace(now) {
        uncertify(&name_path(&label));
    }
    state::with_mut(|s| {
        s.next_seq("sweeps");
        s.counters.insert("last_sweep_ns".to_string(), now.ns);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_http_certification::HttpRequest;

    fn register(label: &str, expires_at: u64, grace_ends_at: u64) {
        state::with_mut(|s| {
            s.names.insert(
                label.to_string(),
                state::Cbor(state::HeavenName {
                    label: label.into(),
                    label_display: Some(label.into()),
                    owner: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".into(),
                    status: "active".into(),
                    registered_at: 1,
                    expires_at,
                    grace_ends_at,
                    profile_cid: None,
                    created_at: 1,
                    updated_at: 1,
                }),
            );
        });
    }

    #[test]
    fn certified_names_are_served_from_the_query_until_grace_ends() {
        register("alice", 100, 200);
        rebuild(Now::from_secs(50));
        assert_eq!(certified_paths(), vec!["/api/names/alice", "/health"]);
        let root = root_hash();

        let req = HttpRequest::get("/api/names/alice")
            .with_headers(vec![("Origin".into(), "https://heaven.xyz".into())])
            .build();
        let resp = serve_query(&req, Now::from_secs(150), Some(vec![1, 2, 3]));
        assert_eq!(resp.upgrade(), None);
        assert_eq!(resp.status_code(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body["label"], "alice");
        assert!(
            header(resp.headers(), "ic-certificate")
                .unwrap()
                .contains("version=2")
        );
        assert_eq!(
            header(resp.headers(), "access-control-allow-origin"),
            Some("https://heaven.xyz")
        );

        // Past grace: upgrade (the update answers 404) even before the sweep.
        let resp = serve_query(&req, Now::from_secs(201), Some(vec![1]));
        assert_eq!(resp.upgrade(), Some(true));
        sweep(Now::from_secs(201));
        assert_eq!(certified_paths(), vec!["/health"]);
        assert_ne!(root_hash(), root);
    }

    #[test]
    fn uncertified_reads_writes_and_missing_certificates_upgrade() {
        rebuild(Now::from_secs(1));
        let upgrade = |req: HttpRequest, cert: Option<Vec<u8>>| {
            serve_query(&req, Now::from_secs(1), cert).upgrade()
        };
        assert_eq!(
            upgrade(HttpRequest::get("/api/names/nobody").build(), Some(vec![1])),
            Some(true)
        );
        assert_eq!(
            upgrade(HttpRequest::get("/api/claim/abc").build(), Some(vec![1])),
            Some(true)
        );
        assert_eq!(
            upgrade(
                HttpRequest::post("/api/names/register").build(),
                Some(vec![1])
            ),
            Some(true)
        );
        assert_eq!(
            upgrade(HttpRequest::get("/health").build(), None),
            Some(true)
        );
        assert_eq!(
            upgrade(HttpRequest::get("/health?x=1").build(), Some(vec![1])),
            None
        );
    }

    #[test]
    fn touched_names_are_recertified_from_the_audit_log() {
        rebuild(Now::from_secs(1));
        let before = state::with(|s| s.events.len());
        register("bobby", 100, 200);
        state::with_mut(|s| {
            s.record(
                1,
                EventKind::NameRegistered {
                    label: "bobby".into(),
                    owner: "0x".into(),
                    expires_at: 100,
                },
            )
        });
        after_update(before, Now::from_secs(2));
        assert!(certified_paths().contains(&"/api/names/bobby".to_string()));
    }

    #[tokio::test]
    async fn options_preflight_and_cors_on_updates() {
        let dir = tempfile::tempdir().unwrap();
        let rt = canister_runtime::native::NativeRuntime::open(dir.path()).unwrap();
        let req: HttpUpdateRequest = HttpRequest::builder()
            .with_method(ic_http_certification::Method::OPTIONS)
            .with_url("/api/names/permit")
            .with_headers(vec![("Origin".into(), "http://evil.example".into())])
            .build()
            .into();
        let resp = serve_update(&rt, &req, Now::from_secs(1)).await;
        assert_eq!(resp.status_code(), StatusCode::NO_CONTENT);
        assert_eq!(header(resp.headers(), "access-control-allow-origin"), None);
        assert_eq!(
            header(resp.headers(), "access-control-allow-methods"),
            Some(ALLOW_METHODS)
        );
        let req: HttpUpdateRequest = HttpRequest::get("/nowhere")
            .with_headers(vec![("origin".into(), "http://localhost:5173".into())])
            .build()
            .into();
        let resp = serve_update(&rt, &req, Now::from_secs(1)).await;
        assert_eq!(resp.status_code(), StatusCode::NOT_FOUND);
        assert_eq!(resp.body(), br#"{"error":"Not found"}"#);
        assert_eq!(
            header(resp.headers(), "access-control-allow-origin"),
            Some("http://localhost:5173")
        );
    }
}
