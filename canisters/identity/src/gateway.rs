//! The canister's HTTP gateway: `http_request` (query) and `http_request_update` (update), as
//! the boundary node's gateway calls them.
//!
//! Certified reads: responses that depend only on stored state are kept in an
//! [`HttpCertificationTree`] (heap; rebuilt in `post_upgrade`) and served from the query with
//! an `IC-Certificate` header: `GET /health`, `GET /api/names/<label>` for every name still
//! within its grace period, `GET /api/names/policy/signer` once the key is known, and the
//! per-address answers Self clients poll: `GET /api/self/session/<id>` (unless pending past
//! expiry, which an update marks expired) and `GET /api/self/identity/<lowercase address>`
//! (served only while its `currentAge` is still the certified one). Everything else — writes, and reads whose answer moves with the clock (claim links, name
//! availability, reverse lookups, DNS) — is upgraded to `http_request_update`, whose answer
//! goes through consensus. Every update (HTTP, candid, timer) ends with [`Recertify::finish`]:
//! the answers the events it appended may have changed ([`touched`], one mapping for every
//! event type) are re-certified in the same message and the certified data is set; the expiry
//! sweep removes names whose grace ended.
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
use crate::names::{policy, registry};
use crate::state::event::EventType;
use crate::{router, selfxyz, state};

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
            canister_runtime::print(&format!("certifying {path} failed: {e}"));
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
        s.names()
            .iter()
            .filter(|e| e.value().0.grace_ends_at >= now.secs())
            .map(|e| e.key().clone())
            .collect()
    });
    for label in labels {
        recertify_name(&label, now);
    }
    refresh_signer();
    recertify_self(now);
}

/// Re-certifies `GET /api/self/session/<id>`: certified unless it is missing or pending past
/// its expiry (then an update marks it expired).
pub fn recertify_session(session_id: &str, now: Now) {
    let path = selfxyz::session_path(session_id);
    match selfxyz::session_status_query(session_id, now) {
        Some(Ok(response)) => certify(&path, &response),
        _ => uncertify(&path),
    }
}

/// Re-certifies `GET /api/self/identity/<address>` (lowercase address).
pub fn recertify_identity(address: &str, now: Now) {
    let path = selfxyz::identity_path(address);
    match selfxyz::identity(address, now) {
        Ok(response) => certify(&path, &response),
        Err(_) => uncertify(&path),
    }
}

/// Re-certifies every Self session and identity answer.
fn recertify_self(now: Now) {
    let (sessions, identities) = selfxyz::all_keys();
    for id in sessions {
        recertify_session(&id, now);
    }
    for address in identities {
        recertify_identity(&address, now);
    }
}

/// A certified answer an event can change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Touched {
    /// `GET /api/names/<label>`.
    Name(String),
    /// `GET /api/names/<label>` of every name whose grace ended (the sweep ran).
    NamesPastGrace,
    /// `GET /api/names/policy/signer` (its key, key name, chain or store).
    Signer,
    /// `GET /api/self/session/<id>` and the identity of its address.
    SelfSession(String),
    /// `GET /api/self/identity/<address>`.
    SelfIdentity(String),
    /// Every Self session and identity answer (rows were imported).
    SelfAll,
}

/// The certified answers `event` can change. Every event type is named here, so a new one
/// has to say what it touches.
pub fn touched(event: &EventType) -> Option<Touched> {
    match event {
        EventType::NameRegistered { label, .. }
        | EventType::NameRenewed { label, .. }
        | EventType::NameProfileUpdated { label, .. }
        | EventType::NameMirrored { label, .. }
        | EventType::LegacyNameRegistered { label, .. }
        | EventType::LegacyNameRenewed { label, .. }
        | EventType::LegacyNameUpdated { label } => Some(Touched::Name(label.clone())),
        EventType::SweepRan { .. } | EventType::LegacySwept { .. } => Some(Touched::NamesPastGrace),
        EventType::IdentityImported { record } => {
            Some(Touched::SelfIdentity(record.address.clone()))
        }
        EventType::LegacyIdentityUpserted { address } => {
            Some(Touched::SelfIdentity(address.clone()))
        }
        // The signer answer shows the key's address and name, the chain id and the store.
        EventType::SignerKeyFetched { .. }
        | EventType::LegacySignerKeyFetched { .. }
        | EventType::NamesPolicyConfigured { .. }
        | EventType::LegacyConfigChanged
        | EventType::Installed { .. } => Some(Touched::Signer),
        // `GET /api/names/<label>` does not consult `heaven_reserved` (the original's did not
        // either), so reserving a label changes no certified answer.
        EventType::ReservedChanged { .. }
        | EventType::WalletRelayConfigured { .. }
        | EventType::AccessConfigured { .. }
        | EventType::SecretSet { .. }
        | EventType::LegacySecretChanged { .. }
        | EventType::ShadowProfileImported { .. }
        | EventType::LegacyShadowProfileUpserted { .. }
        | EventType::ClaimStarted { .. }
        | EventType::LegacyClaimStarted { .. }
        | EventType::ClaimCompleted { .. }
        | EventType::ClaimCodeRejected { .. }
        | EventType::PowChallengeIssued { .. }
        | EventType::LegacyPowChallengeIssued { .. }
        | EventType::PowChallengeConsumed { .. }
        | EventType::PermitIssued { .. }
        | EventType::LegacyPermitIssued { .. }
        | EventType::TransactionSent { .. }
        | EventType::RelayerNonceSynced { .. }
        | EventType::RelayerNonceReserved { .. }
        | EventType::RelayerNonceReleased { .. }
        | EventType::RelayerNonceForgotten { .. }
        | EventType::ProfileRelayCounted { .. }
        | EventType::LikesConfigured { .. }
        | EventType::LikeSubmitted { .. }
        | EventType::ProfileIndexesBuilt
        // The publishing signer answers over candid only.
        | EventType::PublishingConfigured { .. }
        | EventType::PublicationRequested { .. }
        | EventType::PublicationTransactionSigned { .. }
        | EventType::PublicationTransactionDropped { .. }
        | EventType::PublicationCompleted { .. }
        | EventType::PublisherNonceSet { .. }
        | EventType::PublisherNonceForgotten { .. } => None,
        EventType::SelfSessionCreated { session_id, .. }
        | EventType::SelfSessionExpired { session_id }
        | EventType::SelfSessionFailed { session_id, .. }
        | EventType::SelfVerified { session_id, .. } => {
            Some(Touched::SelfSession(session_id.clone()))
        }
        // The identity answer shows the address's verification; a changed scope or mock mode
        // changes no stored answer.
        EventType::SelfConfigured { .. } => None,
        EventType::RowsImported { .. } => Some(Touched::SelfAll),
    }
}

/// Brings the certified answers in step with the events a message appends: taken before the
/// message changes anything, finished after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recertify {
    events_before: u64,
}

impl Recertify {
    /// Notes where the audit log ends now.
    pub fn start() -> Self {
        Self {
            events_before: state::with(|s| s.event_count()),
        }
    }

    /// Re-certifies what the events appended since [`Recertify::start`] touched, then sets
    /// the certified data to the new root hash.
    pub fn finish<R: Runtime>(self, rt: &R, now: Now) {
        recertify_since(self.events_before, now);
        rt.set_certified_data(&root_hash());
    }
}

/// Runs the synchronous change `f` at the runtime's time and re-certifies what it touched.
pub fn certified<R: Runtime, T>(rt: &R, f: impl FnOnce(Now) -> T) -> T {
    let now = Now::from_ns(rt.time_ns());
    let recertify = Recertify::start();
    let result = f(now);
    recertify.finish(rt, now);
    result
}

/// Re-certifies what events `since..` of the audit log touched.
pub fn recertify_since(since: u64, now: Now) {
    let mut touched: Vec<Touched> = state::with(|s| {
        s.events_from(since)
            .filter_map(|e| touched(&e.payload))
            .collect()
    });
    touched.sort();
    touched.dedup();
    for t in touched {
        match t {
            Touched::Name(label) => recertify_name(&label, now),
            Touched::NamesPastGrace => {
                for label in registry::past_grace(now) {
                    uncertify(&name_path(&label));
                }
            }
            Touched::Signer => refresh_signer(),
            Touched::SelfSession(id) => {
                recertify_session(&id, now);
                if let Some(owner) = selfxyz::session_owner(&id) {
                    recertify_identity(&owner, now);
                }
            }
            Touched::SelfIdentity(address) => recertify_identity(&address, now),
            Touched::SelfAll => recertify_self(now),
        }
    }
}

/// Whether the certified answer of `path` still holds at `now` (a name past its grace must
/// be answered by an update even before the sweep removes its certification).
fn still_valid(path: &str, now: Now, certified_body: &[u8]) -> bool {
    if let Some(id) = path.strip_prefix("/api/self/session/") {
        return matches!(
            selfxyz::session_status_query(id, now),
            Some(Ok(fresh)) if fresh.body == certified_body
        );
    }
    if let Some(address) = path.strip_prefix("/api/self/identity/") {
        // `currentAge` moves on the birthday: answer by update until re-certified.
        return selfxyz::identity(address, now).is_ok_and(|fresh| fresh.body == certified_body);
    }
    match path.strip_prefix("/api/names/") {
        Some(label) if path != SIGNER_PATH => state::with(|s| {
            s.names()
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
    let found = CERTIFIED.with_borrow(|c| {
        c.get(path)
            .map(|cert| (cert.response.clone(), cert.certification))
    });
    let Some((mut response, certification)) = found else {
        return upgrade();
    };
    if !still_valid(path, now, response.body()) {
        return upgrade();
    }
    let http_path = HttpCertificationPath::exact(path.to_string());
    let entry = HttpCertificationTreeEntry::new(&http_path, certification);
    let witness = match TREE.with_borrow(|t| t.witness(&entry, path)) {
        Ok(w) => w,
        Err(e) => {
            canister_runtime::print(&format!("witness for {path} failed: {e}"));
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

/// The `http_request_update` update: runs the route, re-certifies what it changed and sets the
/// certified data.
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
    let recertify = Recertify::start();
    let api = router::update(rt, &api_request, now).await;
    recertify.finish(rt, now);
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(cors_headers(origin.as_deref()));
    HttpResponse::builder()
        .with_status_code(status(api.status))
        .with_headers(headers)
        .with_body(api.body)
        .build_update()
}

/// Certifies the policy signer answer once the key is known (it also carries the key name,
/// the configured chain and the store); without a key for the configured key name the query
/// answers nothing and the update fetches it.
pub fn refresh_signer() {
    match policy::signer_info_cached() {
        Some(signer) => certify(SIGNER_PATH, &signer),
        None => uncertify(SIGNER_PATH),
    }
}

/// The periodic expiry sweep (the timer's job): stale challenges and rate-limit windows go,
/// names past grace lose their certified answer.
pub fn sweep<R: Runtime>(rt: &R, now: Now) {
    let recertify = Recertify::start();
    crate::names::sweep(now);
    recertify.finish(rt, now);
}

#[cfg(test)]
mod tests;
