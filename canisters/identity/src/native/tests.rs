//! Tests of the native service: settings from the environment, restarts, panics, the file lock.

use std::collections::HashMap;

use super::*;
use crate::names::registry;
use crate::native::settings::{js_integer, parse_int_env};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn from_env_defaults_are_the_originals() {
    let s = NativeSettings::from_env(env(&[]));
    assert_eq!(s, NativeSettings::default());
    assert!(s.development);
    assert_eq!(s.names_policy.store, None);
    assert!(!s.wallet.enabled);
    assert_eq!(s.secrets, RouteSecrets::default());
}

#[test]
fn from_env_reads_every_variable() {
    let s = NativeSettings::from_env(env(&[
        ("ENVIRONMENT", "production"),
        ("CLAIM_START_SECRET", "claim"),
        ("DNS_SHARED_SECRET", ""),
        ("TEMPO_RPC_URL", " http://127.0.0.1:9/ "),
        ("TEMPO_CHAIN_ID", "7"),
        (
            "TEMPO_NAME_REGISTRY_V2",
            "0x0000000000000000000000000000000000000001",
        ),
        (
            "TEMPO_PREMIUM_NAME_STORE_V2",
            "0x46Bcae2625157b562c974bb5a912dfcb811a234A",
        ),
        ("TEMPO_HEAVEN_NODE", "0xAA"),
        ("NAMES_SECONDARY_NODE", "0xBB"),
        ("TEMPO_PIRATE_NODE", "0xCC"),
        ("TEMPO_POLICY_SIGNER_ADDRESS", "  "),
        ("NAMES_POW_DIFFICULTY_HEX", "0x3"),
        ("NAMES_POW_TTL_SECONDS", "60.0"),
        ("NAMES_PERMIT_TTL_SECONDS", "1e2"),
        ("NAMES_LONG_WALLET_LIMIT_10M", "301"),
        ("NAMES_LONG_IP_LIMIT_10M", "abc"),
        ("NAMES_LONG_DEVICE_LIMIT_10M", " 5 "),
        ("BASE_SEPOLIA_RPC", "http://base.local"),
        ("WALLET_RELAY_ENABLED", "true"),
    ]));
    assert!(!s.development);
    assert_eq!(s.secrets.claim_start.as_deref(), Some("claim"));
    assert_eq!(s.secrets.dns_shared, None);
    let p = &s.names_policy;
    assert_eq!(p.rpc_url, "http://127.0.0.1:9/");
    assert_eq!(p.chain_id, 7);
    assert_eq!(p.registry, "0x0000000000000000000000000000000000000001");
    assert_eq!(
        p.store.as_deref(),
        Some("0x46Bcae2625157b562c974bb5a912dfcb811a234A")
    );
    assert_eq!(p.primary_node, "0xaa", "TEMPO_HEAVEN_NODE is the fallback");
    assert_eq!(p.secondary_node, "0xbb", "NAMES_SECONDARY_NODE wins");
    assert_eq!(p.expected_signer, None);
    assert_eq!(p.pow_difficulty, 3);
    assert_eq!(p.pow_ttl_seconds, 60);
    assert_eq!(p.permit_ttl_seconds, 100);
    assert_eq!(p.wallet_limit_10m, 8, "out of range falls back");
    assert_eq!(p.ip_limit_10m, 24, "not a number falls back");
    assert_eq!(p.device_limit_10m, 5);
    assert_eq!(s.wallet.rpc_url, "http://base.local");
    assert!(s.wallet.enabled);
    let relay_off = NativeSettings::from_env(env(&[("WALLET_RELAY_ENABLED", "TRUE")]));
    assert!(!relay_off.wallet.enabled, "only the exact text \"true\"");
}

#[test]
fn integers_follow_javascript_number() {
    assert_eq!(js_integer(" 12 "), Some(12));
    assert_eq!(js_integer(""), Some(0));
    assert_eq!(js_integer("0x1f"), Some(31));
    assert_eq!(js_integer("1.5"), None);
    assert_eq!(js_integer("12px"), None);
    assert_eq!(js_integer("inf"), None);
    assert_eq!(parse_int_env(Some("0"), 4, 1, 12), 4);
    assert_eq!(parse_int_env(None, 4, 1, 12), 4);
    assert_eq!(parse_int_env(Some("12"), 4, 1, 12), 12);
}

#[tokio::test]
async fn invalid_policy_settings_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = NativeSettings::default();
    settings.names_policy.store = Some("0x1234".into());
    let err = NativeIdentity::start(dir.path(), settings).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid names policy settings (TEMPO_* / NAMES_* variables): store must be a 0x address"
    );
    assert!(!dir.path().join(STABLE_MEMORY_FILE).exists());
}

#[tokio::test]
async fn a_restart_is_an_upgrade_that_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let settings = NativeSettings {
        secrets: RouteSecrets {
            edge_key: Some("edge-1".into()),
            ..RouteSecrets::default()
        },
        ..NativeSettings::default()
    };
    let identity = NativeIdentity::start(dir.path(), settings.clone()).unwrap();
    let clone = identity.clone();
    clone
        .run(|| registry::set_reserved("alice", Some("team".into()), Now::from_secs(1)))
        .await
        .unwrap();
    let health = identity
        .handle(ApiRequest::new("GET", "/health", vec![], vec![]))
        .await;
    assert_eq!(
        (health.status, health.body),
        (200, br#"{"ok":true}"#.to_vec())
    );
    let available = identity
        .handle(ApiRequest::new(
            "GET",
            "/api/names/available/alice",
            vec![],
            vec![],
        ))
        .await;
    assert_eq!(available.body_json()["available"], false);
    drop(identity);
    drop(clone);

    let again = NativeIdentity::start(dir.path(), settings).unwrap();
    let (installs, reason, kinds) = again
        .run(|| {
            state::with(|s| {
                let kinds: Vec<EventType> = s.events_from(0).map(|e| e.payload).collect();
                (
                    s.config().installs,
                    s.reserved().get(&"alice".into()),
                    kinds,
                )
            })
        })
        .await
        .unwrap();
    assert_eq!(installs, 2);
    assert_eq!(reason.as_deref(), Some("team"));
    let changes = |kind: &EventType| {
        matches!(
            kind,
            EventType::NamesPolicyConfigured { .. }
                | EventType::WalletRelayConfigured { .. }
                | EventType::AccessConfigured { .. }
                | EventType::SecretSet { .. }
        )
    };
    // First start: development on, edge key set; the restart with the same settings
    // records no change.
    assert_eq!(kinds.iter().filter(|k| changes(k)).count(), 2, "{kinds:?}");
    assert!(matches!(
        kinds.last(),
        Some(EventType::Installed { installs: 2, .. })
    ));
}

#[tokio::test]
async fn updates_run_on_the_thread_and_panicking_jobs_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let identity = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
    let signer = identity
        .handle(ApiRequest::new(
            "GET",
            "/api/names/policy/signer",
            vec![],
            vec![],
        ))
        .await;
    assert_eq!(signer.status, 200);
    assert_eq!(signer.body_json()["ecdsaKeyName"], NATIVE_ECDSA_KEY_NAME);
    let err = identity
        .run::<()>(|| panic!("job fails"))
        .await
        .unwrap_err();
    assert!(matches!(err, NativeIdentityError::Panicked));
    let name = identity
        .run(|| std::thread::current().name().map(str::to_string))
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some(THREAD_NAME));
}

#[tokio::test]
async fn a_panicking_job_leaves_no_trace_in_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let identity = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
    let events_before = identity
        .run(|| state::with(|s| s.event_count()))
        .await
        .unwrap();
    let err = identity
        .run::<()>(|| {
            registry::set_reserved("bob", Some("team".into()), Now::from_secs(1));
            panic!("fails after a write");
        })
        .await
        .unwrap_err();
    assert!(matches!(err, NativeIdentityError::Panicked));
    let (reserved, events) = identity
        .run(|| state::with(|s| (s.reserved().get(&"bob".into()), s.event_count())))
        .await
        .unwrap();
    assert_eq!(reserved, None);
    assert_eq!(events, events_before);
    drop(identity);

    // Nor in the file: a restart sees the same.
    let again = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
    let reserved = again
        .run(|| state::with(|s| s.reserved().get(&"bob".into())))
        .await
        .unwrap();
    assert_eq!(reserved, None);
}

#[tokio::test]
async fn a_second_canister_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
    let err = NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(STABLE_MEMORY_FILE)
            && message.contains("in use by another identity canister"),
        "{message}"
    );
    drop(first);
    NativeIdentity::start(dir.path(), NativeSettings::default()).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn the_state_file_is_private_and_so_is_a_data_dir_the_start_creates() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let identity = NativeIdentity::start(&data, NativeSettings::default()).unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(STABLE_MEMORY_FILE)), 0o600);
    drop(identity);
}
