//! POST /api/names/renew and /update.

use super::*;

// ---- renew ---------------------------------------------------------------------------

#[test]
fn renew_errors_come_in_the_original_order() {
    let k = key(1);
    register_at(&k, "alice", None, &nonce(1), T0).unwrap();
    let events = event_count();
    let step = |body: &Value, now, status, message| {
        assert_failure(renew(&post(body), at(now)), status, message)
    };

    assert_failure(
        renew(
            &ApiRequest {
                body: b"".to_vec(),
                ..Default::default()
            },
            at(T0),
        ),
        400,
        "Invalid JSON body",
    );
    let mut body = json!({"label": "abc", "nonce": "short", "timestamp": T0 - 121});
    step(&body, T0, 400, "Invalid nonce");
    body["nonce"] = json!(NONCE);
    step(&body, T0, 400, "Invalid label: too_short");
    body["label"] = json!("bobby");
    step(&body, T0, 404, "Name not found");
    body["label"] = json!("alice");
    step(
        &body,
        T0 + YEAR + GRACE + 1,
        400,
        "Name has expired and passed grace period",
    );
    step(&body, T0, 400, TIMESTAMP_ERROR);
    body["timestamp"] = json!(T0);
    step(&body, T0, 401, "Invalid signature");
    // Signed by someone other than the owner.
    let mut forged = renew_body(&key(2), "alice", NONCE, T0);
    forged["signature"] = json!(sign(
        &key(2),
        &message("renew", "alice", &address(&k), NONCE, T0 as i64, None)
    ));
    step(&forged, T0, 401, "Invalid signature");
    // A renewal signature that includes a profile_cid line is not a renewal signature.
    body["signature"] = json!(sign(
        &k,
        &message("renew", "alice", &address(&k), NONCE, T0 as i64, Some(""))
    ));
    step(&body, T0, 401, "Invalid signature");
    // The nonce of the registration cannot be replayed.
    step(
        &renew_body(&k, "alice", &nonce(1), T0),
        T0,
        409,
        REPLAY_ERROR,
    );
    assert_eq!(event_count(), events);
    assert_eq!(stored("alice").unwrap().expires_at, T0 + YEAR);
}

#[test]
fn renew_extends_from_expiry_when_active_and_from_now_in_grace() {
    let k = key(1);
    register_at(&k, "alice", None, &nonce(1), T0).unwrap();
    // Active: one year more from the current expiry.
    let t1 = T0 + 1000;
    assert_eq!(
        ok_body(renew(
            &post(&renew_body(&k, "alice", &nonce(2), t1)),
            at(t1)
        )),
        format!(r#"{{"success":true,"expires_at":{}}}"#, T0 + 2 * YEAR)
    );
    let name = stored("alice").unwrap();
    assert_eq!(
        (name.grace_ends_at, name.updated_at, name.registered_at),
        (T0 + 2 * YEAR + GRACE, t1, T0)
    );
    // In grace: one year from now.
    let t2 = T0 + 2 * YEAR + GRACE;
    assert_eq!(ok_json(details("alice", at(t2)))["status"], "expired");
    assert_eq!(
        ok_json(renew(
            &post(&renew_body(&k, "alice", &nonce(3), t2)),
            at(t2)
        )),
        json!({"success": true, "expires_at": t2 + YEAR})
    );
    assert_eq!(ok_json(details("alice", at(t2)))["status"], "active");
    assert_eq!(
        ok_json(available("alice", at(t2))),
        json!({"available": false, "reason": "taken"})
    );
    // Mixed-case label in the request: the normalized one is signed and renewed.
    let mut body = renew_body(&k, "alice", &nonce(4), t2);
    body["label"] = json!(" Alice");
    assert!(renew(&post(&body), at(t2)).is_ok());
}

// ---- update --------------------------------------------------------------------------

#[test]
fn update_errors_come_in_the_original_order() {
    let k = key(1);
    register_at(&k, "alice", None, &nonce(1), T0).unwrap();
    let events = event_count();
    let step = |body: &Value, now, status, message| {
        assert_failure(update(&post(body), at(now)), status, message)
    };

    assert_failure(
        update(
            &ApiRequest {
                body: b"[]".to_vec(),
                ..Default::default()
            },
            at(T0),
        ),
        400,
        "Invalid JSON body",
    );
    let mut body =
        json!({"label": "", "profileCid": "x".repeat(257), "nonce": 5, "timestamp": "now"});
    step(&body, T0, 400, "Invalid nonce");
    body["nonce"] = json!(NONCE);
    step(&body, T0, 400, "profileCid too long");
    body["profileCid"] = json!("bafy");
    step(&body, T0, 400, "Invalid label: empty");
    body["label"] = json!("bobby");
    step(&body, T0, 404, "Name not found");
    body["label"] = json!("alice");
    // Grace does not help an update; lapsed neither.
    step(&body, T0 + YEAR + 1, 400, "Name has expired");
    step(&body, T0 + YEAR + GRACE + 1, 400, "Name has expired");
    step(&body, T0, 400, TIMESTAMP_ERROR);
    body["timestamp"] = json!(T0);
    step(&body, T0, 401, "Invalid signature");
    // profileCid absent but validly signed (as empty): our 400 where the original 500'd.
    let mut absent = update_body(&k, "alice", json!(""), NONCE, T0);
    absent.as_object_mut().unwrap().remove("profileCid");
    step(&absent, T0, 400, "profileCid is required");
    step(
        &update_body(&k, "alice", json!("bafy"), &nonce(1), T0),
        T0,
        409,
        REPLAY_ERROR,
    );
    assert_eq!(event_count(), events);
    assert_eq!(stored("alice").unwrap().profile_cid, None);
}

#[test]
fn update_sets_and_clears_the_profile_cid() {
    let k = key(1);
    register_at(&k, "alice", Some("bafyold"), &nonce(1), T0).unwrap();
    let t = T0 + 50;
    assert_eq!(
        ok_body(update(
            &post(&update_body(&k, "alice", json!("bafynew"), &nonce(2), t)),
            at(t)
        )),
        r#"{"success":true}"#
    );
    let name = stored("alice").unwrap();
    assert_eq!(
        (
            name.profile_cid.as_deref(),
            name.updated_at,
            name.expires_at
        ),
        (Some("bafynew"), t, T0 + YEAR)
    );
    // null clears (signed as an empty cid).
    assert!(
        update(
            &post(&update_body(&k, "alice", Value::Null, &nonce(3), t)),
            at(t)
        )
        .is_ok()
    );
    assert_eq!(stored("alice").unwrap().profile_cid, None);
    // "" is stored as given; the TXT record leaves it out.
    assert!(
        update(
            &post(&update_body(&k, "alice", json!(""), &nonce(4), t)),
            at(t)
        )
        .is_ok()
    );
    assert_eq!(stored("alice").unwrap().profile_cid.as_deref(), Some(""));
    set_dns_secret(None, true);
    let answer = ok_json(dns(Some("alice"), None, None, at(t)));
    assert_eq!(
        answer["records"]["TXT"],
        json!([format!("pkp={};v=1", address(&k))])
    );
    assert_eq!(ok_json(details("alice", at(t)))["profile_cid"], "");
    // Only the owner can update.
    let other = key(2);
    let mut forged = update_body(&other, "alice", json!("evil"), &nonce(5), t);
    forged["signature"] = json!(sign(
        &other,
        &message(
            "update",
            "alice",
            &address(&other),
            &nonce(5),
            t as i64,
            Some("evil")
        )
    ));
    assert_failure(update(&post(&forged), at(t)), 401, "Invalid signature");
}
