//! Reserved labels, the sweep's list of lapsed names, and the events the writes record.

use super::*;

// ---- controller and sweep --------------------------------------------------------------

#[test]
fn set_reserved_records_only_changes() {
    let events = event_count();
    set_reserved(" Brand ", Some("brand".into()), at(T0));
    assert_eq!(
        state::with(|s| s.reserved().get(&"brand".to_string())),
        Some("brand".into())
    );
    set_reserved("brand", Some("brand".into()), at(T0));
    assert_eq!(event_count(), events + 1);
    set_reserved("brand", Some("trademark".into()), at(T0));
    set_reserved("brand", None, at(T0));
    set_reserved("brand", None, at(T0));
    assert_eq!(event_count(), events + 3);
    let last = state::with(|s| s.event(s.event_count() - 1)).unwrap();
    assert_eq!(
        last.payload,
        EventType::ReservedChanged {
            label: "brand".into(),
            reason: None
        }
    );
    assert_eq!(last.timestamp, at(T0).ns);
    assert_eq!(ok_body(available("brand", at(T0))), r#"{"available":true}"#);
}

#[test]
fn past_grace_lists_only_lapsed_names() {
    let k = key(1);
    register_at(&k, "alice", None, &nonce(1), T0).unwrap();
    register_at(&k, "bobby", None, &nonce(2), T0 + 100).unwrap();
    let end = T0 + YEAR + GRACE;
    assert!(past_grace(at(end)).is_empty());
    assert_eq!(past_grace(at(end + 1)), vec!["alice".to_string()]);
    assert_eq!(
        past_grace(at(end + 101)),
        vec!["alice".to_string(), "bobby".to_string()]
    );
}

#[test]
fn writes_record_their_events() {
    let k = key(1);
    let owner = address(&k);
    let events = event_count();
    register_at(&k, "alice", None, &nonce(1), T0).unwrap();
    renew(&post(&renew_body(&k, "alice", &nonce(2), T0)), at(T0)).unwrap();
    update(
        &post(&update_body(&k, "alice", json!("bafy"), &nonce(3), T0)),
        at(T0),
    )
    .unwrap();
    let kinds: Vec<EventType> = state::with(|s| s.events_from(events).map(|e| e.payload).collect());
    assert_eq!(
        kinds,
        vec![
            EventType::NameRegistered {
                label: "alice".into(),
                label_display: "alice".into(),
                owner,
                profile_cid: None,
                expires_at: T0 + YEAR,
                grace_ends_at: T0 + YEAR + GRACE,
                nonce: nonce(1),
                ip_hash: None,
            },
            EventType::NameRenewed {
                label: "alice".into(),
                expires_at: T0 + 2 * YEAR,
                grace_ends_at: T0 + 2 * YEAR + GRACE,
                nonce: nonce(2),
            },
            EventType::NameProfileUpdated {
                label: "alice".into(),
                profile_cid: Some("bafy".into()),
                nonce: nonce(3),
            },
        ]
    );
}
