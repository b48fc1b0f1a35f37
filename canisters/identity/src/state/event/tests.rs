//! Tests of the event encoding: entries written by older builds still decode, with the
//! numbers they were written with.

use minicbor::Encode;

use super::*;

/// The entry layout older builds wrote (a subset of their variants, copied as they were).
#[derive(Encode)]
struct OldEvent {
    #[n(0)]
    at_ns: u64,
    #[n(1)]
    kind: OldKind,
}

#[derive(Encode)]
enum OldKind {
    #[n(0)]
    Installed {
        #[n(0)]
        ecdsa_key_name: String,
        #[n(1)]
        installs: u64,
    },
    #[n(1)]
    ConfigChanged,
    #[n(2)]
    SecretChanged {
        #[n(0)]
        which: String,
    },
    #[n(5)]
    ClaimCompleted {
        #[n(0)]
        claim_id: String,
        #[n(1)]
        address: String,
    },
    #[n(6)]
    NameRegistered {
        #[n(0)]
        label: String,
        #[n(1)]
        owner: String,
        #[n(2)]
        expires_at: u64,
    },
    #[n(17)]
    ClaimCodeRejected {
        #[n(0)]
        shadow_profile_id: String,
    },
}

fn reencoded(old: OldEvent) -> Event {
    minicbor::decode(&minicbor::to_vec(&old).unwrap()).unwrap()
}

#[test]
fn entries_of_older_builds_decode_with_their_numbers() {
    let cases = [
        (
            OldKind::Installed {
                ecdsa_key_name: "key_1".into(),
                installs: 3,
            },
            EventType::Installed {
                ecdsa_key_name: "key_1".into(),
                installs: 3,
            },
        ),
        (OldKind::ConfigChanged, EventType::LegacyConfigChanged),
        (
            OldKind::SecretChanged {
                which: "edge_key".into(),
            },
            EventType::LegacySecretChanged {
                which: "edge_key".into(),
            },
        ),
        (
            OldKind::ClaimCompleted {
                claim_id: "c".into(),
                address: "0xab".into(),
            },
            EventType::ClaimCompleted {
                claim_id: "c".into(),
                address: "0xab".into(),
            },
        ),
        (
            OldKind::NameRegistered {
                label: "alice".into(),
                owner: "0xab".into(),
                expires_at: 9,
            },
            EventType::LegacyNameRegistered {
                label: "alice".into(),
                owner: "0xab".into(),
                expires_at: 9,
            },
        ),
        (
            OldKind::ClaimCodeRejected {
                shadow_profile_id: "p".into(),
            },
            EventType::ClaimCodeRejected {
                shadow_profile_id: "p".into(),
            },
        ),
    ];
    for (old, new) in cases {
        let event = reencoded(OldEvent {
            at_ns: 7,
            kind: old,
        });
        assert_eq!(event.timestamp, 7);
        assert_eq!(event.payload, new);
    }
}

#[test]
fn legacy_variants_are_exactly_those_without_their_data() {
    assert!(EventType::LegacyConfigChanged.is_legacy());
    assert!(
        EventType::LegacySwept {
            challenges: 1,
            permit_windows: 2
        }
        .is_legacy()
    );
    assert!(
        !EventType::ClaimCodeRejected {
            shadow_profile_id: "p".into()
        }
        .is_legacy()
    );
    assert!(
        !EventType::Installed {
            ecdsa_key_name: String::new(),
            installs: 1
        }
        .is_legacy()
    );
}

#[test]
fn new_events_round_trip() {
    let event = Event {
        timestamp: 5,
        payload: EventType::SignerKeyFetched {
            key_name: "dfx_test_key".into(),
            role: "names-policy-signer".into(),
            public_key: vec![2; 33],
            address: "0x00".into(),
        },
    };
    let bytes = minicbor::to_vec(&event).unwrap();
    assert_eq!(minicbor::decode::<Event>(&bytes).unwrap(), event);
}
