//! The audit log rebuilds the state: a long scenario goes through every route, controller
//! method and lifecycle hook (every event type), then the state replayed from the log alone is
//! compared with the live one, structure by structure.

use std::collections::BTreeSet;

use canister_runtime::native::NativeRuntime;
use heaven_eth::abi::{SolCall, availableCall, noncesCall};
use heaven_eth::eip712::{SetProfile, set_profile_digest};
use heaven_eth::{Address, B256, U256};
use serde_json::{Value, json};

use super::*;
use crate::admin;
use crate::api::{ApiRequest, ApiResponse};
use crate::endpoints::SecretName;
use crate::lifecycle::{self, InitArg, UpgradeArg};
use crate::names::pow;
use crate::router;
use crate::state::{NamesPolicyConfig, ShadowProfile, WalletRelayConfig, mutate, with};
use crate::testing::{FakeChain, address_hex, key_from_seed, personal_sign, sign_digest};

const T0: u64 = 1_771_600_000;
const STORE: &str = "0x46Bcae2625157b562c974bb5a912dfcb811a234A";
const TX_HASH: &str = "0xabababababababababababababababababababababababababababababababab";

/// Every event type this build writes, by name (an exhaustive match: a new variant must be
/// added here, and so to the scenario).
fn kind(event: &EventType) -> Option<&'static str> {
    Some(match event {
        EventType::Installed { .. } => "Installed",
        EventType::ClaimCompleted { .. } => "ClaimCompleted",
        EventType::PowChallengeConsumed { .. } => "PowChallengeConsumed",
        EventType::ReservedChanged { .. } => "ReservedChanged",
        EventType::TransactionSent { .. } => "TransactionSent",
        EventType::RelayerNonceSynced { .. } => "RelayerNonceSynced",
        EventType::ClaimCodeRejected { .. } => "ClaimCodeRejected",
        EventType::NamesPolicyConfigured { .. } => "NamesPolicyConfigured",
        EventType::WalletRelayConfigured { .. } => "WalletRelayConfigured",
        EventType::AccessConfigured { .. } => "AccessConfigured",
        EventType::SecretSet { .. } => "SecretSet",
        EventType::ShadowProfileImported { .. } => "ShadowProfileImported",
        EventType::ClaimStarted { .. } => "ClaimStarted",
        EventType::IdentityImported { .. } => "IdentityImported",
        EventType::NameRegistered { .. } => "NameRegistered",
        EventType::NameRenewed { .. } => "NameRenewed",
        EventType::NameProfileUpdated { .. } => "NameProfileUpdated",
        EventType::NameMirrored { .. } => "NameMirrored",
        EventType::PowChallengeIssued { .. } => "PowChallengeIssued",
        EventType::PermitIssued { .. } => "PermitIssued",
        EventType::SignerKeyFetched { .. } => "SignerKeyFetched",
        EventType::SweepRan { .. } => "SweepRan",
        EventType::RelayerNonceReserved { .. } => "RelayerNonceReserved",
        EventType::RelayerNonceReleased { .. } => "RelayerNonceReleased",
        EventType::RelayerNonceForgotten { .. } => "RelayerNonceForgotten",
        EventType::ProfileRelayCounted { .. } => "ProfileRelayCounted",
        EventType::SelfConfigured { .. } => "SelfConfigured",
        EventType::LikesConfigured { .. } => "LikesConfigured",
        EventType::SelfSessionCreated { .. } => "SelfSessionCreated",
        EventType::SelfSessionExpired { .. } => "SelfSessionExpired",
        EventType::SelfSessionFailed { .. } => "SelfSessionFailed",
        EventType::SelfVerified { .. } => "SelfVerified",
        EventType::LikeSubmitted { .. } => "LikeSubmitted",
        EventType::ProfileIndexesBuilt => "ProfileIndexesBuilt",
        EventType::RowsImported { .. } => "RowsImported",
        EventType::PublishingConfigured { .. } => "PublishingConfigured",
        EventType::PublicationRequested { .. } => "PublicationRequested",
        EventType::PublicationTransactionSigned { .. } => "PublicationTransactionSigned",
        EventType::PublicationTransactionDropped { .. } => "PublicationTransactionDropped",
        EventType::PublicationCompleted { .. } => "PublicationCompleted",
        EventType::PublisherNonceSet { .. } => "PublisherNonceSet",
        EventType::PublisherNonceForgotten { .. } => "PublisherNonceForgotten",
        EventType::LegacyConfigChanged
        | EventType::LegacySecretChanged { .. }
        | EventType::LegacyShadowProfileUpserted { .. }
        | EventType::LegacyClaimStarted { .. }
        | EventType::LegacyNameRegistered { .. }
        | EventType::LegacyNameRenewed { .. }
        | EventType::LegacyNameUpdated { .. }
        | EventType::LegacyPowChallengeIssued { .. }
        | EventType::LegacyPermitIssued { .. }
        | EventType::LegacyIdentityUpserted { .. }
        | EventType::LegacySwept { .. }
        | EventType::LegacySignerKeyFetched { .. } => return None,
    })
}

const ALL_KINDS: [&str; 42] = [
    "Installed",
    "ClaimCompleted",
    "PowChallengeConsumed",
    "ReservedChanged",
    "TransactionSent",
    "RelayerNonceSynced",
    "ClaimCodeRejected",
    "NamesPolicyConfigured",
    "WalletRelayConfigured",
    "AccessConfigured",
    "SecretSet",
    "ShadowProfileImported",
    "ClaimStarted",
    "IdentityImported",
    "NameRegistered",
    "NameRenewed",
    "NameProfileUpdated",
    "NameMirrored",
    "PowChallengeIssued",
    "PermitIssued",
    "SignerKeyFetched",
    "SweepRan",
    "RelayerNonceReserved",
    "RelayerNonceReleased",
    "RelayerNonceForgotten",
    "ProfileRelayCounted",
    "SelfConfigured",
    "LikesConfigured",
    "SelfSessionCreated",
    "SelfSessionExpired",
    "SelfSessionFailed",
    "SelfVerified",
    "LikeSubmitted",
    "ProfileIndexesBuilt",
    "RowsImported",
    "PublishingConfigured",
    "PublicationRequested",
    "PublicationTransactionSigned",
    "PublicationTransactionDropped",
    "PublicationCompleted",
    "PublisherNonceSet",
    "PublisherNonceForgotten",
];

/// The canister's surroundings: a runtime, a Tempo node and a Base node.
struct World {
    rt: NativeRuntime,
    tempo: FakeChain,
    base: FakeChain,
    _dir: tempfile::TempDir,
}

fn at(offset: u64) -> Now {
    Now::from_secs(T0 + offset)
}

impl World {
    async fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Value) -> Value {
        self.call_at(method, path, headers, body, at(0)).await
    }

    async fn call_at(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Value,
        now: Now,
    ) -> Value {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = if body.is_null() {
            vec![]
        } else {
            serde_json::to_vec(&body).unwrap()
        };
        let req = ApiRequest::new(method, path, headers, body);
        let ApiResponse { status, body } = router::update(&self.rt, &req, now).await;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(status == 200, "{method} {path}: {status} {json}");
        json
    }
}

fn registry_message(
    action: &str,
    label: &str,
    owner: &str,
    nonce: &str,
    cid: Option<&str>,
) -> String {
    let mut lines = vec![
        "heaven-registry:v1".to_string(),
        format!("action={action}"),
        "tld=heaven".into(),
        format!("label={label}"),
        format!("pkp={owner}"),
        format!("nonce={nonce}"),
        format!("issued_at={T0}"),
        format!("expires_at={}", T0 + 120),
    ];
    if let Some(cid) = cid {
        lines.push(format!("profile_cid={cid}"));
    }
    lines.join("\n")
}

fn profile(id: &str) -> ShadowProfile {
    ShadowProfile {
        id: id.into(),
        source: "dateme".into(),
        display_name: Some("Alex".into()),
        created_at_ms: 1,
        updated_at_ms: 1,
        ..ShadowProfile::default()
    }
}

#[tokio::test]
async fn the_state_replayed_from_the_log_equals_the_live_state() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    crate::chain::register_native_transform(&rt);
    let w = World {
        rt,
        tempo: FakeChain::start(1_000).await,
        base: FakeChain::start(1_000).await,
        _dir: dir,
    };
    let owner_key = key_from_seed(7);
    let owner = address_hex(&owner_key);

    // ---- install and controllers ----
    let arg = InitArg {
        ecdsa_key_name: "dfx_test_key".into(),
    };
    lifecycle::init(arg, at(0));
    let policy = NamesPolicyConfig {
        rpc_url: w.tempo.url(),
        store: Some(STORE.into()),
        pow_difficulty: 1,
        ..NamesPolicyConfig::default()
    };
    admin::set_names_policy_config(policy, at(0)).unwrap();
    let relay = WalletRelayConfig {
        rpc_url: w.base.url(),
        enabled: true,
        ..WalletRelayConfig::default()
    };
    admin::set_wallet_relay_config(relay.clone(), at(0)).unwrap();
    admin::set_access(false, vec!["aaaaa-aa".into()], at(0)).unwrap();
    admin::set_secret(SecretName::ClaimStart, Some("op".into()), at(0));
    admin::set_secret(SecretName::DnsShared, Some("dns".into()), at(0));
    admin::set_secret(SecretName::EdgeKey, Some("edge".into()), at(0));
    admin::import_shadow_profiles(vec![profile("p"), profile("q")], at(0)).unwrap();
    let nullifier = format!("0x{}", "11".repeat(32));
    let identity = crate::state::IdentityRecord {
        address: owner.clone(),
        nullifier_hash: Some(nullifier),
        verified_at: T0,
        ..Default::default()
    };
    admin::import_identities(vec![identity], at(0)).unwrap();
    admin::set_reserved("brand", Some("trademark".into()), at(0));
    admin::set_reserved("brand", None, at(0));

    // ---- claim: start, a wrong and a right DM code, complete; a bio claim ----
    let op = [("x-claim-start-secret", "op")];
    let started = w
        .call(
            "POST",
            "/api/claim/start",
            &op,
            json!({"shadowProfileId": "p", "method": "dm"}),
        )
        .await;
    let claim_id = started["claimId"].as_str().unwrap().to_string();
    let code = started["verificationCode"].as_str().unwrap().to_string();
    let token = started["token"].as_str().unwrap().to_string();
    let wrong = ApiRequest::new(
        "POST",
        "/api/claim/verify-dm",
        vec![],
        serde_json::to_vec(&json!({"shadowProfileId": "p", "code": "HVN-WRONG2"})).unwrap(),
    );
    assert_eq!(router::update(&w.rt, &wrong, at(1)).await.status, 400);
    w.call(
        "POST",
        "/api/claim/verify-dm",
        &[],
        json!({"shadowProfileId": "p", "code": code}),
    )
    .await;
    w.call("GET", &format!("/api/claim/{token}"), &[], Value::Null)
        .await;
    let message = [
        "heaven-claim:v1".to_string(),
        format!("claim_id={claim_id}"),
        "shadow_profile_id=p".into(),
        format!("address={owner}"),
        "nonce=claim-nonce-000001".into(),
        format!("issued_at={T0}"),
        format!("expires_at={}", T0 + 120),
    ]
    .join("\n");
    w.call(
        "POST",
        "/api/claim/complete",
        &[],
        json!({"claimId": claim_id, "address": owner, "signature": personal_sign(&owner_key, &message),
               "timestamp": T0, "nonce": "claim-nonce-000001"}),
    )
    .await;
    let bio = w
        .call(
            "POST",
            "/api/claim/start",
            &op,
            json!({"shadowProfileId": "q", "method": "bio_edit"}),
        )
        .await;
    w.call(
        "POST",
        "/api/claim/verify-bio",
        &[],
        json!({"claimId": bio["claimId"]}),
    )
    .await;

    // ---- legacy names: register, renew, update, lookups ----
    let nonces = [
        "name-nonce-000001",
        "name-nonce-000002",
        "name-nonce-000003",
    ];
    let msg = registry_message("register", "skyline", &owner, nonces[0], Some(""));
    w.call(
        "POST",
        "/api/names/register",
        &[],
        json!({"label": "Skyline", "pkpAddress": owner, "signature": personal_sign(&owner_key, &msg),
               "nonce": nonces[0], "timestamp": T0}),
    )
    .await;
    let msg = registry_message("renew", "skyline", &owner, nonces[1], None);
    w.call(
        "POST",
        "/api/names/renew",
        &[],
        json!({"label": "skyline", "signature": personal_sign(&owner_key, &msg),
               "nonce": nonces[1], "timestamp": T0}),
    )
    .await;
    let msg = registry_message("update", "skyline", &owner, nonces[2], Some("bafycid"));
    w.call(
        "POST",
        "/api/names/update",
        &[],
        json!({"label": "skyline", "profileCid": "bafycid", "signature": personal_sign(&owner_key, &msg),
               "nonce": nonces[2], "timestamp": T0}),
    )
    .await;
    w.call("GET", "/api/names/skyline", &[], Value::Null).await;
    w.call(
        "GET",
        &format!("/api/names/reverse/{owner}"),
        &[],
        Value::Null,
    )
    .await;
    w.call("GET", "/api/names/available/skyline", &[], Value::Null)
        .await;
    w.call(
        "GET",
        "/api/names/dns/resolve?label=skyline",
        &[("authorization", "Bearer dns")],
        Value::Null,
    )
    .await;

    // ---- names policy: a long name through PoW (client IP from the edge), a short name ----
    w.tempo.store_quote(0, 0, false).await;
    w.tempo.registry(false, 0, 1_000_000).await;
    let issued = w
        .call(
            "POST",
            "/api/names/challenge",
            &[],
            json!({"label": "moonlight", "tld": "heaven", "wallet": owner}),
        )
        .await;
    let difficulty = issued["difficulty"].as_u64().unwrap() as u32;
    let pow_nonce = pow::solve(issued["challenge"].as_str().unwrap(), difficulty);
    let edge = [
        ("x-heaven-edge-key", "edge"),
        ("x-heaven-client-ip", "203.0.113.9"),
        ("x-device-id", "device-1"),
    ];
    w.call(
        "POST",
        "/api/names/permit",
        &edge,
        json!({"label": "moonlight", "tld": "heaven", "wallet": owner,
               "challengeId": issued["challengeId"], "powNonce": pow_nonce}),
    )
    .await;
    w.call("GET", "/api/names/policy/signer", &[], Value::Null)
        .await;
    // The short name is quoted by another node (a paid listing); switching nodes is a
    // configuration event too.
    let listed = FakeChain::start(1_000).await;
    listed.store_quote(5_000_000, 63_072_000, true).await;
    listed.short_purchases(0).await;
    let policy = NamesPolicyConfig {
        rpc_url: listed.url(),
        store: Some(STORE.into()),
        pow_difficulty: 1,
        ..NamesPolicyConfig::default()
    };
    admin::set_names_policy_config(policy, at(2)).unwrap();
    w.call(
        "POST",
        "/api/names/permit",
        &[],
        json!({"label": "abc", "tld": "heaven", "wallet": owner}),
    )
    .await;

    // ---- wallet relay: a profile and a name, relayed by the relayer key ----
    w.base
        .on_call(
            noncesCall::SELECTOR,
            noncesCall::abi_encode_returns(&U256::from(7u64)),
        )
        .await;
    w.base
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    w.base.on_method("eth_gasPrice", json!("0x3b9aca00")).await;
    w.base
        .on_method("eth_getTransactionCount", json!("0x2a"))
        .await;
    w.base
        .on_method("eth_sendRawTransaction", json!(TX_HASH))
        .await;
    w.base
        .on_method(
            "eth_getTransactionReceipt",
            json!({"transactionHash": TX_HASH, "status": "0x1", "blockNumber": "0x4d2", "gasUsed": "0x5208"}),
        )
        .await;
    let user = crate::testing::address_of(&owner_key);
    let profile = SetProfile {
        user,
        gender: 2,
        interestedMask: 0xffff,
        locationMode: 1,
        locationLat: -33_868_800,
        locationLng: 151_209_300,
        heightCm: 170,
        birthYear: 1990,
        nationalityCode: 36,
        ethnicityMask: 4,
        relationshipMode: 3,
        privateCidHash: B256::ZERO,
        nonce: U256::from(7u64),
        deadline: U256::from(T0 + 600),
    };
    let dating_profile = heaven_eth::address::parse(&relay.dating_profile).unwrap();
    let digest = set_profile_digest(&profile, relay.chain_id, dating_profile);
    let signature = heaven_eth::abi::hex0x(&sign_digest(&owner_key, digest));
    w.call(
        "POST",
        "/api/wallet/set-profile",
        &[],
        json!({"userAddress": owner, "gender": 2, "interestedMask": 0xffff, "locationMode": 1,
               "locationLat": -33_868_800, "locationLng": 151_209_300, "heightCm": 170,
               "birthYear": 1990, "nationalityCode": 36, "ethnicityMask": 4,
               "relationshipMode": 3, "deadline": (T0 + 600).to_string(), "signature": signature}),
    )
    .await;
    w.call(
        "POST",
        "/api/wallet/register-name",
        &[],
        json!({"userAddress": owner, "label": "stardust"}),
    )
    .await;
    // A nonce handed back after a failed signing, then forgotten after a failed send.
    mutate(|s| {
        process_event(
            s,
            at(3),
            EventType::RelayerNonceReserved {
                chain_id: 84532,
                nonce: 44,
            },
        );
        process_event(
            s,
            at(3),
            EventType::RelayerNonceReleased {
                chain_id: 84532,
                nonce: 44,
            },
        );
        process_event(
            s,
            at(3),
            EventType::RelayerNonceForgotten { chain_id: 84532 },
        );
    });

    // ---- Self: a verified, a failed and an expired session ----
    let self_config = crate::state::SelfConfig {
        mock: true,
        ..Default::default()
    };
    admin::set_self_config(self_config, at(0)).unwrap();
    admin::set_likes_config(crate::state::LikesConfig::default(), at(0)).unwrap();
    let viewer = address_hex(&key_from_seed(8));
    let minor = address_hex(&key_from_seed(9));
    let late = address_hex(&key_from_seed(10));
    let mut sessions = Vec::new();
    for address in [&viewer, &minor, &late] {
        let answer = w
            .call(
                "POST",
                "/api/self/session",
                &[],
                json!({"userAddress": address}),
            )
            .await;
        sessions.push(answer["sessionId"].as_str().unwrap().to_string());
    }
    for (id, dob) in [(&sessions[0], "1990-05-05"), (&sessions[1], "2015-05-05")] {
        let context = format!("{id}|dob:{dob}");
        w.call(
            "POST",
            "/api/self/verify",
            &[],
            json!({"attestationId": 1, "proof": {}, "publicSignals": [], "userContextData": context}),
        )
        .await;
    }
    let polled = w
        .call_at(
            "GET",
            &format!("/api/self/session/{}", sessions[2]),
            &[],
            Value::Null,
            at(700),
        )
        .await;
    assert_eq!(polled, json!({"status": "expired"}));

    // ---- likes: a shadow like, then a mutual pair ----
    for (liker, target_type, target) in [
        (&viewer, "shadow", "p"),
        (&viewer, "user", owner.as_str()),
        (&owner, "user", viewer.as_str()),
    ] {
        w.call(
            "POST",
            "/api/likes",
            &[],
            json!({"viewerAddress": liker, "targetType": target_type, "targetId": target}),
        )
        .await;
    }
    assert_eq!(with(|s| s.matches().len()), 1);

    // ---- an import batch with a row of every table, and the profile index build ----
    let rows = crate::state::event::ImportRows {
        users: vec![crate::state::User {
            address: late.clone(),
            created_at_ms: 5,
            last_active_at_ms: None,
            directory_tier: "handoff".into(),
        }],
        shadow_profiles: vec![self::profile("imported")],
        claim_tokens: vec![crate::state::ClaimToken {
            id: "c-1".into(),
            shadow_profile_id: "imported".into(),
            token_hash: "aa".repeat(32),
            human_code_hash: "bb".repeat(32),
            method: "dm".into(),
            issued_at_ms: 1,
            expires_at_ms: 2,
            ..Default::default()
        }],
        likes: vec![crate::state::Like {
            id: 40,
            liker_address: late.clone(),
            target_type: "shadow".into(),
            target_id: "imported".into(),
            created_at_ms: 3,
        }],
        matches: vec![crate::state::Match {
            id: 7,
            user1: late.clone().min(minor.clone()),
            user2: late.clone().max(minor.clone()),
            created_at_ms: 3,
        }],
        self_sessions: vec![crate::state::SelfSession {
            session_id: "cd".repeat(16),
            user_address: late.clone(),
            status: "failed".into(),
            created_at: 1,
            expires_at: 601,
            failure_reason: Some("Must be 18 or older".into()),
            ..Default::default()
        }],
        identities: vec![crate::state::IdentityRecord {
            address: late.clone(),
            verified_at: 9,
            ..Default::default()
        }],
        names: vec![crate::state::HeavenName {
            label: "imported".into(),
            owner: late.clone(),
            status: "active".into(),
            expires_at: T0 + 400 * 86_400,
            grace_ends_at: T0 + 430 * 86_400,
            ..Default::default()
        }],
        reserved: vec![crate::state::event::ReservedLabel {
            label: "heaven".into(),
            reason: "brand".into(),
        }],
        permit_issuance: vec![crate::state::event::PermitIssuance {
            wallet: late.clone(),
            label_hash: "0x01".into(),
            parent_node: "0x02".into(),
            issued_at: T0,
            ..Default::default()
        }],
    };
    let outcome = admin::import_batch("run".into(), 0, rows.clone(), at(4)).unwrap();
    assert!(outcome.applied);
    assert_eq!(
        outcome.summary,
        crate::import::summarize(&crate::import::check_rows(rows).unwrap())
    );
    mutate(|s| process_event(s, at(4), EventType::ProfileIndexesBuilt));

    // ---- the publishing signer: a refused write, then the retry that finalizes ----
    publish_a_track(&w.rt.with_caller(canister_runtime::native::dev_controller())).await;

    // ---- the sweep, after the windows and the challenge's retention passed ----
    crate::names::sweep(at(2 * 3600));
    assert!(with(
        |s| s.pow_challenges().is_empty() && s.permit_windows().is_empty()
    ));

    // ---- an upgrade ----
    lifecycle::post_upgrade(Some(UpgradeArg::default()), at(3 * 3600));

    let written: BTreeSet<&str> =
        with(|s| s.events_from(0).filter_map(|e| kind(&e.payload)).collect());
    let expected: BTreeSet<&str> = ALL_KINDS.into_iter().collect();
    assert_eq!(written, expected, "the scenario writes every event type");

    let events = with(|s| s.event_count());
    assert_eq!(check_against_log(), Ok(events));
    let replayed = replay_events().unwrap();
    with(|live| {
        assert_eq!(compare(live, &replayed), Ok(()));
        assert_eq!(replayed.names().len(), 3);
        assert_eq!(replayed.counter(keys::SWEEPS), 1);
        assert_eq!(replayed.counter(keys::PERMIT_SEQ), 3);
        assert_eq!(replayed.counter(keys::LIKE_SEQ), 40);
        assert_eq!(replayed.counter(keys::MATCH_SEQ), 7);
        assert_eq!(replayed.config(), live.config());
        assert_eq!(replayed.event_count(), 0, "a replay records nothing");
    });
}

#[test]
fn a_replayed_state_differs_from_a_live_one_where_an_event_is_missing() {
    let events = [
        Event {
            timestamp: 1,
            payload: EventType::ReservedChanged {
                label: "alice".into(),
                reason: Some("team".into()),
            },
        },
        Event {
            timestamp: 2,
            payload: EventType::ProfileRelayCounted {
                user: "0xab".into(),
            },
        },
    ];
    let full = replay(events.clone()).unwrap();
    let partial = replay(events[..1].to_vec()).unwrap();
    assert_eq!(compare(&full, &full), Ok(()));
    assert_eq!(
        compare(&full, &partial),
        Err(AuditFinding::Differs {
            structure: "wallet_limits",
            key: Some("\"0xab\"".into())
        })
    );
}

/// `finalize_track` against a fake Tempo node: the first send is refused (the transaction is
/// dropped, the nonce forgotten), the retry registers track and content.
async fn publish_a_track(rt: &NativeRuntime) {
    use heaven_eth::abi::registerTracksBatchCall;

    let scrobble = Address::from([0x5c; 20]);
    let registry = Address::from([0xc0; 20]);
    let node = crate::testing::tempo::FakeTempo::start(42431, scrobble, registry).await;
    admin::set_publishing_config(node.publishing_config(), at(5)).unwrap();
    let addresses = crate::publishing::publisher_addresses(rt).await.unwrap();
    node.authorize(
        heaven_eth::address::parse(&addresses.tempo_operator).unwrap(),
        heaven_eth::address::parse(&addresses.tempo_sponsor).unwrap(),
    );
    let request = crate::testing::tempo::sample_finalize("job-1");
    node.refuse_next(registerTracksBatchCall::SELECTOR);
    assert!(
        crate::publishing::finalize_track(rt, request.clone(), at(5))
            .await
            .is_err()
    );
    let reply = crate::publishing::finalize_track(rt, request, at(6))
        .await
        .unwrap();
    assert!(reply.track_registered && reply.content_registered);
}
