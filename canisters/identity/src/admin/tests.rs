//! Tests of the controller methods: typed errors, secrets kept as hashes, whole-import checks.

use canister_runtime::native::{NativeRuntime, dev_controller};

use super::*;
use crate::secret;

fn at(secs: u64) -> Now {
    Now::from_secs(secs)
}

#[test]
fn only_controllers_pass() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    assert_eq!(require_controller(&rt), Err(AdminError::NotController));
    assert_eq!(
        require_controller(&rt.with_caller(dev_controller())),
        Ok(())
    );
}

#[test]
fn invalid_settings_are_typed_errors_and_change_nothing() {
    let events = state::with(|s| s.event_count());
    let config = NamesPolicyConfig {
        pow_difficulty: 13,
        ..NamesPolicyConfig::default()
    };
    assert_eq!(
        set_names_policy_config(config, at(1)),
        Err(AdminError::InvalidConfig {
            field: "pow_difficulty".into(),
            reason: "must be within 1..=12".into()
        })
    );
    let relay = WalletRelayConfig {
        registrar: "0x12".into(),
        ..WalletRelayConfig::default()
    };
    assert_eq!(
        set_wallet_relay_config(relay, at(1)),
        Err(AdminError::InvalidConfig {
            field: "registrar".into(),
            reason: "must be a 0x address".into()
        })
    );
    let refused = set_access(true, vec!["not a principal".into()], at(1));
    assert!(
        matches!(&refused, Err(AdminError::InvalidPrincipal { principal, .. }) if principal == "not a principal"),
        "{refused:?}"
    );
    assert_eq!(state::with(|s| s.event_count()), events);
    assert_eq!(
        AdminError::InvalidRecord {
            index: 2,
            reason: "empty id".into()
        }
        .to_string(),
        "record 2: empty id"
    );
}

#[test]
fn secrets_are_kept_and_logged_as_their_sha256_only() {
    set_secret(SecretName::DnsShared, Some("dns-s3cret".into()), at(1));
    let hash = secret::sha256_hex("dns-s3cret");
    state::with(|s| {
        assert_eq!(s.secrets().dns_shared.as_deref(), Some(hash.as_str()));
        assert_eq!(s.secrets().legacy_dns_shared, None);
        let last = s.event(s.event_count() - 1).unwrap();
        assert_eq!(
            last.payload,
            EventType::SecretSet {
                which: SecretKind::DnsShared,
                sha256: Some(hash.clone())
            }
        );
        let logged = format!("{:?}", s.events_from(0).collect::<Vec<_>>());
        assert!(!logged.contains("dns-s3cret"), "{logged}");
    });
    // An empty value clears it.
    set_secret(SecretName::DnsShared, Some(String::new()), at(2));
    state::with(|s| assert_eq!(s.secrets().dns_shared, None));
}

#[test]
fn an_import_with_a_bad_record_writes_nothing() {
    let good = IdentityRecord {
        address: " 0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266 ".into(),
        nullifier_hash: None,
        verified_at: 1,
        ..Default::default()
    };
    let bad = IdentityRecord {
        address: "0x12".into(),
        ..good.clone()
    };
    assert_eq!(
        import_identities(vec![good.clone(), bad], at(1)),
        Err(AdminError::InvalidRecord {
            index: 1,
            reason: "invalid address \"0x12\"".into()
        })
    );
    assert_eq!(state::with(|s| s.identities().len()), 0);
    assert_eq!(import_identities(vec![good], at(1)), Ok(1));
    let view = identity_of("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap();
    assert_eq!(view.verified_at, 1);

    let profiles = vec![
        ShadowProfile {
            id: "p".into(),
            ..ShadowProfile::default()
        },
        ShadowProfile::default(),
    ];
    assert!(matches!(
        import_shadow_profiles(profiles, at(1)),
        Err(AdminError::InvalidRecord { index: 1, .. })
    ));
    assert_eq!(state::with(|s| s.shadow_profiles().len()), 0);
}

#[test]
fn the_audit_check_reports_a_consistent_log() {
    set_reserved("alice", Some("team".into()), at(1));
    set_secret(SecretName::EdgeKey, Some("edge".into()), at(2));
    assert_eq!(audit_check(), AuditReport::Consistent { events: 2 });
}

#[test]
fn imported_profiles_keep_embedded_text_to_its_format() {
    // The id goes into the signed claim message and the avatar URL, the anime CID into the
    // avatar URL.
    let bad_ids = ["p\nq", "p q", "p/q", "p?q", ""];
    for (i, id) in bad_ids.into_iter().enumerate() {
        let profiles = vec![ShadowProfile {
            id: id.into(),
            ..ShadowProfile::default()
        }];
        assert!(
            matches!(
                import_shadow_profiles(profiles, at(1)),
                Err(AdminError::InvalidRecord { index: 0, .. })
            ),
            "{i}: {id:?}"
        );
    }
    for cid in ["bafy/../x", "bafy\n", "bafy?x=1"] {
        let profiles = vec![ShadowProfile {
            id: "shadow-alex-sf".into(),
            anime_cid: Some(cid.into()),
            ..ShadowProfile::default()
        }];
        assert!(
            matches!(
                import_shadow_profiles(profiles, at(1)),
                Err(AdminError::InvalidRecord { index: 0, .. })
            ),
            "{cid:?}"
        );
    }
    assert_eq!(state::with(|s| s.shadow_profiles().len()), 0);
    let good = ShadowProfile {
        id: "shadow-alex.sf_1".into(),
        anime_cid: Some("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".into()),
        ..ShadowProfile::default()
    };
    assert_eq!(import_shadow_profiles(vec![good], at(1)), Ok(1));
}
