//! Tests of the request and response shapes.

use super::*;

#[test]
fn splits_path_query_and_decodes_segments() {
    let req = ApiRequest::new(
        "get",
        "https://x.icp0.io/api/names/Al%20ice?label=a+b&tld=heaven",
        vec![("Authorization".into(), "Bearer s".into())],
        vec![],
    );
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/api/names/Al%20ice");
    assert_eq!(req.query_param("label"), Some("a b"));
    assert_eq!(req.header("authorization"), Some("Bearer s"));
    assert_eq!(
        req.segments_after("/api/names"),
        Some(vec!["Al ice".to_string()])
    );
    assert_eq!(req.segments_after("/api/claim"), None);
    assert_eq!(
        ApiRequest::new("GET", "/api/namesx", vec![], vec![]).segments_after("/api/names"),
        None
    );
}

#[test]
fn error_bodies_keep_the_original_shapes() {
    let e = ApiError::failure(409, "Nonce already used (replay detected)");
    assert_eq!(
        String::from_utf8(e.clone().into_response().body).unwrap(),
        r#"{"success":false,"error":"Nonce already used (replay detected)"}"#
    );
    assert_eq!(e.message(), "Nonce already used (replay detected)");
    assert_eq!(
        ApiError::error(404, "Not found").into_response().body,
        br#"{"error":"Not found"}"#.to_vec()
    );
}

/// A body of JavaScript-ish fields, as the routes declare theirs.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Loose {
    a: Field,
    b: Field,
    c: Field,
    d: Field,
    e: Field,
    f: Field,
    g: Field,
    h: Field,
    missing: Field,
}

#[test]
fn javascript_style_field_reads() {
    let req = ApiRequest {
        body: br#"{"a":"","b":"x","c":0,"d":5.0,"e":"5","f":1.5,"g":null,"h":[],"x":1}"#.to_vec(),
        ..Default::default()
    };
    let body: Loose = req.json(|| ApiError::error(400, "bad")).unwrap();
    assert!(!body.a.is_truthy());
    assert!(body.b.is_truthy());
    assert!(!body.c.is_truthy());
    assert!(!body.g.is_truthy());
    assert!(!body.missing.is_truthy());
    assert!(body.h.is_truthy());
    assert_eq!(body.d.integer(), Some(5));
    assert_eq!(body.e.integer(), None);
    assert_eq!(body.f.integer(), None);
    assert!(body.g.is_nullish() && body.missing.is_nullish() && !body.a.is_nullish());
    assert_eq!(body.missing, Field::Absent);
    assert_eq!(body.g, Field::Sent(Value::Null));
    assert_eq!(body.b.as_str(), Some("x"));
    assert_eq!(body.c.as_str(), None);
}

#[test]
fn oversized_and_non_object_bodies_are_rejected() {
    let bad = || ApiError::error(400, "Invalid JSON body");
    for body in [&b"[1]"[..], b"[\"x\", 1]", b"1", b"", b"{"] {
        let req = ApiRequest {
            body: body.to_vec(),
            ..Default::default()
        };
        assert_eq!(req.json::<Loose>(bad).unwrap_err().status, 400);
    }
    let req = ApiRequest {
        body: vec![b' '; MAX_BODY_BYTES + 1],
        ..Default::default()
    };
    assert_eq!(req.json::<Loose>(bad).unwrap_err().status, 413);
}
