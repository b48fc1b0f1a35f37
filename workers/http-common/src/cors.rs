//! CORS exactly as each original service sends it.
//!
//! The clients already live with these headers, so each policy reproduces the original's header
//! names, values and spelling (commas with or without spaces) rather than a generic CORS setup.
//! Any `OPTIONS` request is a preflight answered 204 with an empty body, on any path.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Which `Access-Control-Allow-Origin` a response carries.
#[derive(Debug, Clone, Copy)]
enum OriginRule {
    /// `*` on every response.
    Any,
    /// The request's `Origin` echoed when it is in the list, absent otherwise; `Vary: Origin`
    /// on every response.
    Echo(&'static [&'static str]),
}

/// The CORS behaviour of one service.
#[derive(Debug, Clone, Copy)]
pub struct CorsPolicy {
    origin: OriginRule,
    every_response: &'static [(&'static str, &'static str)],
    preflight: &'static [(&'static str, &'static str)],
}

/// Origins api-core accepts (contracts/api-core.md §0.1).
pub const API_CORE_ORIGINS: &[&str] = &[
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:4173",
    "https://heaven.computer",
    "https://heaven.xyz",
];

impl CorsPolicy {
    /// api-core: listed origins echoed, `Vary: Origin` everywhere, its own header list.
    pub const fn api_core() -> Self {
        Self {
            origin: OriginRule::Echo(API_CORE_ORIGINS),
            every_response: &[],
            preflight: &[
                ("access-control-allow-methods", "GET,POST,OPTIONS"),
                (
                    "access-control-allow-headers",
                    "Content-Type,Authorization,X-User-Address,X-Claim-Start-Secret,Idempotency-Key,X-Device-Id",
                ),
                ("vary", "Origin, Access-Control-Request-Headers"),
            ],
        }
    }

    /// metadata-resolver: `*` plus methods and headers on every response.
    pub const fn metadata_resolver() -> Self {
        Self {
            origin: OriginRule::Any,
            every_response: &[
                ("access-control-allow-methods", "GET, POST, OPTIONS"),
                ("access-control-allow-headers", "Content-Type"),
            ],
            preflight: &[],
        }
    }

    /// voice-agent: `*` everywhere; preflight lists lower-case headers.
    pub const fn voice_agent() -> Self {
        Self {
            origin: OriginRule::Any,
            every_response: &[],
            preflight: &[
                ("access-control-allow-methods", "GET,POST,OPTIONS"),
                ("access-control-allow-headers", "content-type,authorization"),
                ("vary", "Access-Control-Request-Headers"),
            ],
        }
    }

    /// voice-rooms (the voice-control-plane routes): `*` and the x402 payment headers exposed.
    pub const fn voice_rooms() -> Self {
        Self {
            origin: OriginRule::Any,
            every_response: &[(
                "access-control-expose-headers",
                "PAYMENT-REQUIRED,PAYMENT-RESPONSE",
            )],
            preflight: &[
                (
                    "access-control-allow-methods",
                    "GET,HEAD,PUT,POST,DELETE,PATCH",
                ),
                (
                    "access-control-allow-headers",
                    "Content-Type,Authorization,PAYMENT-SIGNATURE",
                ),
            ],
        }
    }

    /// Adds this policy's headers to a response for a request that carried `origin`.
    fn decorate(&self, headers: &mut HeaderMap, origin: Option<&HeaderValue>, preflight: bool) {
        match self.origin {
            OriginRule::Any => {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            OriginRule::Echo(allowed) => {
                if let Some(origin) = origin.filter(|o| allowed.iter().any(|a| o == a)) {
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                }
                headers.insert(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
        let extra = if preflight { self.preflight } else { &[] };
        for (name, value) in self.every_response.iter().chain(extra) {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
    }
}

/// Middleware: answers preflights and decorates every other response with `policy`'s headers.
pub async fn apply_cors(policy: CorsPolicy, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    if request.method() == Method::OPTIONS {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        policy.decorate(response.headers_mut(), origin.as_ref(), true);
        return response;
    }
    let mut response = next.run(request).await;
    policy.decorate(response.headers_mut(), origin.as_ref(), false);
    response
}
