//! Tests of the state's invariants that need its private parts: what older builds stored is
//! migrated or still read, and the audit check finds a write that bypassed the events.

use ic_stable_structures::Memory;

use super::audit::{AuditFinding, check_against_log, process_event};
use super::event::EventType;
use super::*;
use crate::lifecycle::{self, InitArg};
use crate::secret::{self, sha256_hex};
use crate::time::Now;

fn install() {
    let arg = InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    };
    lifecycle::init(arg, Now::from_secs(1));
}

/// Writes `secrets` as an older build would have, bypassing the events.
fn store_secrets_directly<M: Memory + Clone>(state: &mut State<M>, secrets: Secrets) {
    state.secrets.set(Cbor(secrets));
}

#[test]
fn an_upgrade_replaces_plain_text_secrets_by_their_hash() {
    install();
    mutate(|s| {
        store_secrets_directly(
            s,
            Secrets {
                legacy_claim_start: Some("claim-s3cret".into()),
                legacy_edge_key: Some("edge-s3cret".into()),
                ..Secrets::default()
            },
        )
    });
    lifecycle::post_upgrade(None, Now::from_secs(2));
    with(|s| {
        assert_eq!(
            s.secrets(),
            &Secrets {
                claim_start: Some(sha256_hex("claim-s3cret")),
                edge_key: Some(sha256_hex("edge-s3cret")),
                ..Secrets::default()
            }
        );
        assert!(secret::matches(
            s.secrets().sha256(SecretKind::EdgeKey).unwrap(),
            "edge-s3cret"
        ));
        let logged: Vec<EventType> = s.events_from(1).map(|e| e.payload).collect();
        assert_eq!(
            logged[1..],
            [
                EventType::SecretSet {
                    which: SecretKind::ClaimStart,
                    sha256: Some(sha256_hex("claim-s3cret"))
                },
                EventType::SecretSet {
                    which: SecretKind::EdgeKey,
                    sha256: Some(sha256_hex("edge-s3cret"))
                },
            ]
        );
    });
}

#[test]
fn a_stored_name_without_a_display_label_answers_null() {
    // No write stores such a row any more; the original's table has them.
    mutate(|s| {
        let name = HeavenName {
            label: "bobby".into(),
            owner: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266".into(),
            status: "active".into(),
            registered_at: 1,
            expires_at: 100,
            grace_ends_at: 200,
            ..HeavenName::default()
        };
        s.names.insert("bobby".into(), Cbor(name));
    });
    let answer = crate::names::registry::details("bobby", Now::from_secs(2))
        .unwrap()
        .body_json();
    assert_eq!(answer["label_display"], serde_json::Value::Null);
    assert_eq!(answer["profile_cid"], serde_json::Value::Null);
}

#[test]
fn the_audit_check_finds_a_write_that_bypassed_the_events() {
    install();
    mutate(|s| {
        process_event(
            s,
            Now::from_secs(2),
            EventType::ReservedChanged {
                label: "alice".into(),
                reason: Some("team".into()),
            },
        )
    });
    assert_eq!(check_against_log(), Ok(2));
    mutate(|s| {
        s.reserved.insert("bobby".into(), "sneaked in".into());
    });
    assert_eq!(
        check_against_log(),
        Err(AuditFinding::Differs {
            structure: "reserved",
            key: Some("\"bobby\"".into())
        })
    );
}

#[test]
fn a_log_with_entries_of_older_builds_is_not_replayable() {
    install();
    mutate(|s| {
        let legacy = event::Event {
            timestamp: 3,
            payload: EventType::LegacyConfigChanged,
        };
        s.events.append(&Cbor(legacy)).unwrap();
    });
    assert_eq!(
        check_against_log(),
        Err(AuditFinding::LegacyEvent { index: 1 })
    );
}
