//! Tests of the router: route table, 404s, what runs as a query, the trusted client IP.

use super::*;

fn get(path: &str) -> ApiRequest {
    ApiRequest::new("GET", path, vec![], vec![])
}

fn status_and_body(r: ApiResponse) -> (u16, String) {
    (r.status, String::from_utf8(r.body).unwrap())
}

#[test]
fn unknown_paths_methods_and_trailing_slashes_are_404() {
    let now = Now::from_secs(1);
    for path in [
        "/",
        "/health/",
        "/api/names/",
        "/api/claim",
        "/api/nope",
        "/api/names/a/b/c",
    ] {
        assert_eq!(
            status_and_body(query(&get(path), now).unwrap()),
            (404, r#"{"error":"Not found"}"#.to_string()),
            "{path}"
        );
    }
    let put = ApiRequest::new("PUT", "/api/names/register", vec![], vec![]);
    assert_eq!(query(&put, now).unwrap().status, 404);
    let get_start = get("/api/claim/start");
    // GET of an action name is a token lookup, as in the original.
    assert_eq!(query(&get_start, now).unwrap().status, 404);
    assert_eq!(
        status_and_body(query(&get("/health"), now).unwrap()),
        (200, r#"{"ok":true}"#.to_string())
    );
}

#[test]
fn writes_and_outside_calls_are_sent_to_update() {
    let now = Now::from_secs(1);
    let post = |p: &str| ApiRequest::new("POST", p, vec![], vec![]);
    for p in [
        "/api/claim/start",
        "/api/claim/complete",
        "/api/names/register",
        "/api/names/permit",
        "/api/wallet/set-profile",
    ] {
        assert!(query(&post(p), now).is_none(), "{p}");
    }
    assert!(query(&get("/api/wallet/nonce?user=0x1"), now).is_none());
    assert!(query(&get("/api/names/policy/signer"), now).is_none());
    assert!(query(&get("/api/names/alice"), now).is_some());
    assert!(query(&post("/api/names/alice"), now).is_some());
}

#[test]
fn only_the_edge_key_makes_the_client_ip_header_trusted() {
    let with = |headers: &[(&str, &str)]| {
        ApiRequest::new(
            "POST",
            "/api/names/permit",
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            vec![],
        )
    };
    let spoofed = with(&[(CLIENT_IP_HEADER, "1.2.3.4")]);
    assert_eq!(trusted_client_ip(&spoofed), None);
    crate::admin::set_secret(
        crate::endpoints::SecretName::EdgeKey,
        Some("edge-secret".into()),
        Now::from_secs(1),
    );
    assert_eq!(trusted_client_ip(&spoofed), None);
    let wrong = with(&[
        (EDGE_KEY_HEADER, "edge-secreT"),
        (CLIENT_IP_HEADER, "1.2.3.4"),
    ]);
    assert_eq!(trusted_client_ip(&wrong), None);
    let good = with(&[
        ("X-Heaven-Edge-Key", "edge-secret"),
        ("X-Heaven-Client-Ip", " 1.2.3.4, 10.0.0.1"),
    ]);
    assert_eq!(trusted_client_ip(&good).as_deref(), Some("1.2.3.4"));
}
