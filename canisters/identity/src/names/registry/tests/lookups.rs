//! The reads: availability, details, reverse lookups and DNS answers across a name's lifecycle.

use super::*;

// ---- lookups -------------------------------------------------------------------------

#[test]
fn available_across_the_lifecycle() {
    let cases = [
        ("", "empty"),
        ("abc", "too_short"),
        (&*"a".repeat(64), "too_long"),
        ("ab_cd", "invalid_chars"),
        ("Admin", "reserved"),
    ];
    for (label, reason) in cases {
        assert_eq!(
            ok_body(available(label, at(T0))),
            format!(r#"{{"available":false,"reason":"{reason}"}}"#)
        );
    }
    set_reserved(" Premium ", Some("premium".into()), at(T0));
    assert_eq!(
        ok_body(available("premium", at(T0))),
        r#"{"available":false,"reason":"reserved"}"#
    );
    assert_eq!(ok_body(available("alice", at(T0))), r#"{"available":true}"#);
    register_at(&key(1), "alice", None, &nonce(1), T0).unwrap();
    let taken = r#"{"available":false,"reason":"taken"}"#;
    assert_eq!(ok_body(available("ALICE", at(T0))), taken);
    assert_eq!(ok_body(available("alice", at(T0 + YEAR))), taken);
    let grace = r#"{"available":false,"reason":"expired_grace"}"#;
    assert_eq!(ok_body(available("alice", at(T0 + YEAR + 1))), grace);
    assert_eq!(ok_body(available("alice", at(T0 + YEAR + GRACE))), grace);
    assert_eq!(
        ok_body(available("alice", at(T0 + YEAR + GRACE + 1))),
        r#"{"available":true}"#
    );
    // A reservation added later hides a registered name too.
    set_reserved("alice", Some("trademark".into()), at(T0));
    assert_eq!(
        ok_body(available("alice", at(T0))),
        r#"{"available":false,"reason":"reserved"}"#
    );
}

#[test]
fn details_across_the_lifecycle() {
    assert_error(details("abc", at(T0)), 400, "Invalid label: too_short");
    assert_error(details("www", at(T0)), 400, "Invalid label: too_short");
    assert_error(details("admin", at(T0)), 400, "Invalid label: reserved");
    assert_error(
        details("al ice", at(T0)),
        400,
        "Invalid label: invalid_chars",
    );
    assert_error(details("", at(T0)), 400, "Invalid label: empty");
    assert_error(details("alice", at(T0)), 404, "Name not found");
    let k = key(1);
    let owner = address(&k);
    register_at(&k, "Alice", Some("bafy"), &nonce(1), T0).unwrap();
    let expected = |status: &str| {
        format!(
            r#"{{"label":"alice","label_display":"Alice","pkp_address":"{owner}","status":"{status}","registered_at":{T0},"expires_at":{},"profile_cid":"bafy"}}"#,
            T0 + YEAR
        )
    };
    assert_eq!(ok_body(details(" ALICE ", at(T0))), expected("active"));
    assert_eq!(
        ok_body(details("alice", at(T0 + YEAR + 1))),
        expected("expired")
    );
    assert_eq!(
        ok_body(details("alice", at(T0 + YEAR + GRACE))),
        expected("expired")
    );
    assert_error(
        details("alice", at(T0 + YEAR + GRACE + 1)),
        404,
        "Name not found",
    );
    // A row without a cid shows null (rows without a display label, which no write makes
    // any more, are covered by the state's tests).
    register_at(&k, "bobby", None, &nonce(2), T0).unwrap();
    let answer = ok_json(details("bobby", at(T0)));
    assert_eq!(answer["profile_cid"].clone(), Value::Null);
}

#[test]
fn reverse_across_the_lifecycle() {
    assert_error(reverse("", at(T0)), 400, "Invalid PKP address");
    assert_error(reverse("0x1234", at(T0)), 400, "Invalid PKP address");
    assert_error(
        reverse("f39fd6e51aad88f6f4ce6ab8827279cfffb92266", at(T0)),
        400,
        "Invalid PKP address",
    );
    let k = key(1);
    let owner = address(&k);
    assert_error(reverse(&owner, at(T0)), 404, "No name found for this PKP");
    register_at(&k, "alice", None, &nonce(1), T0).unwrap();
    let expected = |label: &str, display: &str, expires: u64, status: &str| {
        format!(
            r#"{{"label":"{label}","label_display":"{display}","expires_at":{expires},"status":"{status}"}}"#
        )
    };
    let loud = format!(" {} ", owner.to_uppercase().replacen("0X", "0x", 1));
    assert_eq!(
        ok_body(reverse(&loud, at(T0))),
        expected("alice", "alice", T0 + YEAR, "active")
    );
    assert_eq!(
        ok_body(reverse(&owner, at(T0 + YEAR + 1))),
        expected("alice", "alice", T0 + YEAR, "expired")
    );
    assert_error(
        reverse(&owner, at(T0 + YEAR + GRACE + 1)),
        404,
        "No active name found for this PKP",
    );
    // The latest registration wins, even when an older one outlives it.
    let t1 = T0 + 10;
    register_at(&k, "Zebra", None, &nonce(2), t1).unwrap();
    renew(&post(&renew_body(&k, "alice", &nonce(3), t1)), at(t1)).unwrap();
    assert_eq!(
        ok_body(reverse(&owner, at(t1))),
        expected("zebra", "Zebra", t1 + YEAR, "active")
    );
    let t2 = t1 + YEAR + GRACE + 1;
    assert_eq!(ok_json(details("alice", at(t2)))["status"], "active");
    assert_error(
        reverse(&owner, at(t2)),
        404,
        "No active name found for this PKP",
    );
    // Another owner's names are not mixed in.
    assert_error(
        reverse(&address(&key(2)), at(T0)),
        404,
        "No name found for this PKP",
    );
}

// ---- DNS -----------------------------------------------------------------------------

#[test]
fn dns_authentication() {
    // Secret unset outside development: misconfiguration, whatever the request.
    set_dns_secret(None, false);
    assert_error(
        dns(Some("alice"), None, Some("Bearer x"), at(T0)),
        500,
        "Server misconfiguration",
    );
    set_dns_secret(Some(""), false);
    assert_error(
        dns(Some("alice"), None, None, at(T0)),
        500,
        "Server misconfiguration",
    );
    // Unset in development: open.
    set_dns_secret(None, true);
    assert!(dns(Some("alice"), None, None, at(T0)).is_ok());
    // Set: the header must match exactly (development does not matter).
    set_dns_secret(Some("s3cret"), true);
    for bad in [
        None,
        Some("s3cret"),
        Some("Bearer s3cre"),
        Some("Bearer s3cret "),
        Some("bearer s3cret"),
        Some("Bearer S3CRET"),
    ] {
        assert_error(dns(Some("alice"), None, bad, at(T0)), 401, "Unauthorized");
    }
    // Auth comes before the parameter checks.
    assert_error(dns(None, Some("com"), None, at(T0)), 401, "Unauthorized");
    assert!(dns(Some("alice"), None, Some("Bearer s3cret"), at(T0)).is_ok());
    let stored = crate::secret::sha256_hex("s3cret");
    assert!(bearer_matches("Bearer s3cret", &stored));
    assert!(!bearer_matches("Bearer s3cre", &stored));
    assert!(!bearer_matches("bearer s3cret", &stored));
    assert!(!bearer_matches("s3cret", &stored));
}

#[test]
fn dns_parameter_errors_and_invalid_labels() {
    set_dns_secret(Some("s"), false);
    let auth = Some("Bearer s");
    assert_error(dns(None, Some("com"), auth, at(T0)), 400, "Unsupported TLD");
    assert_error(
        dns(None, None, auth, at(T0)),
        400,
        "Missing label parameter",
    );
    assert_error(
        dns(Some(""), Some(""), auth, at(T0)),
        400,
        "Missing label parameter",
    );
    let negative = |label: &str, status: &str| {
        format!(
            r#"{{"tld":"heaven","label":"{label}","status":"{status}","ttl_positive":300,"ttl_negative":60}}"#
        )
    };
    // Invalid labels echo the raw input; only the hard-coded reason says reserved.
    assert_eq!(
        ok_body(dns(Some("ABC"), Some(""), auth, at(T0))),
        negative("ABC", "unregistered")
    );
    assert_eq!(
        ok_body(dns(Some("Al_ice"), Some("heaven"), auth, at(T0))),
        negative("Al_ice", "unregistered")
    );
    assert_eq!(
        ok_body(dns(Some("Admin"), None, auth, at(T0))),
        negative("Admin", "reserved")
    );
    set_reserved("premium", Some("premium".into()), at(T0));
    assert_eq!(
        ok_body(dns(Some("Premium"), None, auth, at(T0))),
        negative("premium", "reserved")
    );
    assert_eq!(
        ok_body(dns(Some("Alice"), None, auth, at(T0))),
        negative("alice", "unregistered")
    );
}

#[test]
fn dns_across_the_lifecycle() {
    set_dns_secret(None, true);
    let k = key(1);
    let owner = address(&k);
    register_at(&k, "alice", Some("bafy"), &nonce(1), T0).unwrap();
    register_at(&k, "bobby", None, &nonce(2), T0).unwrap();
    let exp = T0 + YEAR;
    assert_eq!(
        ok_body(dns(Some("Alice"), None, None, at(T0))),
        format!(
            r#"{{"tld":"heaven","label":"alice","status":"active","records":{{"A":["144.126.205.242"],"AAAA":[],"TXT":["pkp={owner};cid=bafy;v=1"]}},"ttl_positive":300,"ttl_negative":60,"expires_at":{exp}}}"#
        )
    );
    assert_eq!(
        ok_json(dns(Some("bobby"), None, None, at(exp)))["records"]["TXT"],
        json!([format!("pkp={owner};v=1")])
    );
    let in_grace = format!(
        r#"{{"tld":"heaven","label":"alice","status":"expired","expires_at":{exp},"ttl_positive":300,"ttl_negative":60}}"#
    );
    assert_eq!(
        ok_body(dns(Some("alice"), None, None, at(exp + 1))),
        in_grace
    );
    assert_eq!(
        ok_body(dns(Some("alice"), None, None, at(exp + GRACE))),
        in_grace
    );
    assert_eq!(
        ok_body(dns(Some("alice"), None, None, at(exp + GRACE + 1))),
        r#"{"tld":"heaven","label":"alice","status":"unregistered","ttl_positive":300,"ttl_negative":60}"#
    );
    // The reservation table wins over a registration.
    set_reserved("alice", Some("brand".into()), at(T0));
    assert_eq!(
        ok_json(dns(Some("alice"), None, None, at(T0)))["status"],
        "reserved"
    );
}
