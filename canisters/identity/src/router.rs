//! Maps method + path to the route handlers, for both carriers: the canister's HTTP gateway
//! (`http_request` query, then `http_request_update`) and the local stack's axum server.
//!
//! [`query`] answers what can be answered read-only and without the outside world (GETs of
//! stored state); it returns `None` when the request must run as an update. [`update`]
//! answers everything. Unknown paths, wrong methods and trailing slashes are 404
//! `{"error":"Not found"}` as in the original.

use canister_runtime::Runtime;
use serde::Serialize;

use candid::Principal;

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Now, Rng, rng_from_seed};
use crate::dating::{candidates, likes};
use crate::names::{policy, registry};
use crate::state::SecretKind;
use crate::{claim, secret, selfxyz, state, wallet};

/// Header the trusted edge sends its key in (docs/adr/0003-client-ip-for-rate-limits.md).
pub const EDGE_KEY_HEADER: &str = "x-heaven-edge-key";
/// Header the trusted edge puts the client's IP in.
pub const CLIENT_IP_HEADER: &str = "x-heaven-client-ip";

/// What a path names, before the method is considered.
enum Route<'a> {
    Health,
    ClaimToken(&'a str),
    ClaimAction(&'a str),
    DnsResolve,
    Available(&'a str),
    Reverse(&'a str),
    PolicySigner,
    NameAction(&'a str),
    WalletAction(&'a str),
    SelfAction(&'a str),
    SelfSession(&'a str),
    SelfIdentity(&'a str),
    Likes,
    LikesReceived,
    Candidates,
    NotFound,
}

fn route(segments: &[String]) -> Route<'_> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["health"] => Route::Health,
        [
            "api",
            "claim",
            token @ ("start" | "verify-bio" | "verify-dm" | "complete"),
        ] => Route::ClaimAction(token),
        ["api", "claim", token] if !token.is_empty() => Route::ClaimToken(token),
        ["api", "names", "dns", "resolve"] => Route::DnsResolve,
        ["api", "names", "available", label] if !label.is_empty() => Route::Available(label),
        ["api", "names", "reverse", pkp] if !pkp.is_empty() => Route::Reverse(pkp),
        ["api", "names", "policy", "signer"] => Route::PolicySigner,
        ["api", "names", label] if !label.is_empty() => Route::NameAction(label),
        ["api", "wallet", action] => Route::WalletAction(action),
        ["api", "self", action @ ("session" | "verify")] => Route::SelfAction(action),
        ["api", "self", "session", id] if !id.is_empty() => Route::SelfSession(id),
        ["api", "self", "identity", address] if !address.is_empty() => Route::SelfIdentity(address),
        ["api", "likes"] => Route::Likes,
        ["api", "likes", "received"] => Route::LikesReceived,
        ["api", "candidates"] => Route::Candidates,
        _ => Route::NotFound,
    }
}

fn segments(req: &ApiRequest) -> Option<Vec<String>> {
    req.segments_after("")
}

fn not_found() -> ApiResponse {
    ApiError::error(404, "Not found").into_response()
}

fn respond(result: ApiResult) -> ApiResponse {
    result.unwrap_or_else(ApiError::into_response)
}

#[derive(Serialize)]
struct HealthBody {
    ok: bool,
}

/// Names POST actions (the legacy registry and the policy share `/api/names`).
const NAME_POSTS: [&str; 5] = ["register", "renew", "update", "challenge", "permit"];

/// Answers `req` read-only, or `None` when it must run as an update (writes, randomness,
/// outcalls, signing, or a key not fetched yet).
pub fn query(req: &ApiRequest, now: Now) -> Option<ApiResponse> {
    let Some(segments) = segments(req) else {
        return Some(not_found());
    };
    let get = req.method == "GET";
    let response = match route(&segments) {
        Route::Health if get => ApiResponse::ok(&HealthBody { ok: true }),
        Route::ClaimToken(token) if get => respond(claim::get_claim(token, now)),
        Route::DnsResolve if get => respond(registry::dns_resolve(req, now)),
        Route::Available(label) if get => respond(registry::available(label, now)),
        Route::Reverse(pkp) if get => respond(registry::reverse(pkp, now)),
        Route::PolicySigner if get => return policy::signer_info_cached(),
        Route::NameAction(label) if get => respond(registry::details(label, now)),
        Route::ClaimAction(_) if req.method == "POST" => return None,
        Route::NameAction(action) if req.method == "POST" && NAME_POSTS.contains(&action) => {
            return None;
        }
        Route::SelfSession(id) if get => {
            return selfxyz::session_status_query(id, now).map(respond);
        }
        Route::SelfIdentity(address) if get => respond(selfxyz::identity(address, now)),
        Route::LikesReceived if get => respond(likes::received(req)),
        Route::Candidates if get => respond(candidates::candidates(req, now)),
        Route::SelfAction(_) | Route::Likes if req.method == "POST" => return None,
        Route::WalletAction("nonce" | "domain") if get => return None,
        Route::WalletAction("set-profile" | "register-name") if req.method == "POST" => {
            return None;
        }
        _ => not_found(),
    };
    Some(response)
}

/// The client IP a trusted edge vouched for: only when the request carries the edge key the
/// controllers set (its SHA-256 compared in constant time).
pub fn trusted_client_ip(req: &ApiRequest) -> Option<String> {
    let key = state::with(|s| s.secrets().sha256(SecretKind::EdgeKey).map(str::to_string))?;
    let presented = req.header(EDGE_KEY_HEADER)?;
    if !secret::matches(&key, presented) {
        return None;
    }
    req.header(CLIENT_IP_HEADER)
        .map(|ip| ip.split(',').next().unwrap_or("").trim().to_string())
        .filter(|ip| !ip.is_empty())
}

/// The client IP an `edge_request` states, kept only when `caller` is a trusted edge.
pub fn trusted_edge_ip(caller: &Principal, client_ip: Option<String>) -> Option<String> {
    let caller = caller.to_text();
    state::with_config(|c| c.trusted_edges.contains(&caller))
        .then_some(client_ip)
        .flatten()
}

async fn fresh_rng<R: Runtime>(rt: &R) -> Result<Rng, ApiError> {
    let seed = rt.random_bytes().await.map_err(|e| {
        canister_runtime::print(&format!("randomness unavailable: {e}"));
        ApiError::error(503, "Randomness unavailable, try again")
    })?;
    Ok(rng_from_seed(seed))
}

/// Answers any request, with the runtime for randomness, outcalls and signing. The client IP
/// comes from the trusted edge headers ([`trusted_client_ip`]).
pub async fn update<R: Runtime>(rt: &R, req: &ApiRequest, now: Now) -> ApiResponse {
    let ip = trusted_client_ip(req);
    update_with_client_ip(rt, req, now, ip).await
}

/// [`update`] with a client IP the caller already vouches for (an allow-listed edge calling
/// through candid).
pub async fn update_with_client_ip<R: Runtime>(
    rt: &R,
    req: &ApiRequest,
    now: Now,
    client_ip: Option<String>,
) -> ApiResponse {
    let Some(segments) = segments(req) else {
        return not_found();
    };
    let post = req.method == "POST";
    let get = req.method == "GET";
    let result = match route(&segments) {
        Route::ClaimAction("start") if post => match fresh_rng(rt).await {
            Ok(mut rng) => claim::start(req, now, &mut rng),
            Err(e) => Err(e),
        },
        Route::ClaimAction("verify-bio") if post => claim::verify_bio(req, now),
        Route::ClaimAction("verify-dm") if post => claim::verify_dm(req, now),
        Route::ClaimAction("complete") if post => claim::complete(req, now),
        Route::NameAction("register") if post => {
            registry::register_with_client_ip(req, now, client_ip.as_deref())
        }
        Route::NameAction("renew") if post => registry::renew(req, now),
        Route::NameAction("update") if post => registry::update(req, now),
        Route::NameAction("challenge") if post => match fresh_rng(rt).await {
            Ok(mut rng) => policy::challenge(req, now, &mut rng),
            Err(e) => Err(e),
        },
        Route::NameAction("permit") if post => match fresh_rng(rt).await {
            Ok(mut rng) => policy::permit(rt, req, now, client_ip.as_deref(), &mut rng).await,
            Err(e) => Err(e),
        },
        Route::PolicySigner if get => policy::signer_info(rt).await,
        Route::SelfAction("session") if post => match fresh_rng(rt).await {
            Ok(mut rng) => selfxyz::create_session(req, now, &mut rng),
            Err(e) => Err(e),
        },
        Route::SelfAction("verify") if post => selfxyz::verify(rt, req, now).await,
        Route::SelfSession(id) if get => selfxyz::session_status(id, now),
        Route::Likes if post => likes::like(req, now, client_ip.as_deref()),
        Route::WalletAction("nonce") if get => wallet::nonce(rt, req).await,
        Route::WalletAction("domain") if get => wallet::domain(rt).await,
        Route::WalletAction("set-profile") if post => wallet::set_profile(rt, req, now).await,
        Route::WalletAction("register-name") if post => wallet::register_name(rt, req, now).await,
        _ => return query(req, now).unwrap_or_else(not_found),
    };
    respond(result)
}

#[cfg(test)]
mod tests;
