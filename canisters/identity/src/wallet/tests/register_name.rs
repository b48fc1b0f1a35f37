//! POST /api/wallet/register-name.

use super::*;

const NAME_USER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

fn name_body(label: &str) -> Value {
    json!({ "userAddress": NAME_USER, "label": label })
}

#[tokio::test]
async fn register_name_checks_come_in_the_original_order() {
    let s = setup().await;
    let missing = (400, "Missing required fields".to_string());
    for body in [
        json!({}),
        json!({ "userAddress": NAME_USER }),
        json!({ "label": "alice" }),
        json!({ "userAddress": "", "label": "alice" }),
        json!({ "userAddress": NAME_USER, "label": "" }),
    ] {
        assert_eq!(err(register_with(&s, &body).await), missing, "{body}");
    }
    for user in [
        json!("0x12"),
        json!(5),
        json!(NAME_USER.to_lowercase().replace("0x", "0X")),
    ] {
        assert_eq!(
            err(register_with(&s, &json!({ "userAddress": user, "label": "-" })).await),
            (400, "Invalid userAddress format".into())
        );
    }
    let bad_label = (
        400,
        "Invalid label (3+ chars, lowercase alphanumeric + hyphen)".to_string(),
    );
    for label in [
        json!("ab"),
        json!("Alice"),
        json!("-abc"),
        json!("abc-"),
        json!("a_bc"),
        json!(12345),
    ] {
        assert_eq!(
            err(register_with(&s, &json!({ "userAddress": NAME_USER, "label": label })).await),
            bad_label,
            "{label}"
        );
    }
    // No answer for available(): the node's failure in the message.
    let (status, message) = err(register_with(&s, &name_body("alice")).await);
    assert_eq!(status, 500);
    assert!(
        message.starts_with("Availability check failed: "),
        "{message}"
    );
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&false),
        )
        .await;
    assert_eq!(
        err(register_with(&s, &name_body("alice")).await),
        (409, "Name not available".into())
    );
    assert_eq!(s.count("eth_sendRawTransaction").await, 0);
}

#[tokio::test]
async fn register_name_relays_register_for_and_mirrors_the_name() {
    let s = setup().await;
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    let owner = NAME_USER.to_lowercase();
    // A stale mirror row of someone else's lapsed registration is taken over.
    given(
        Now::from_secs(100),
        EventType::NameRegistered {
            label: "alice".into(),
            label_display: "Alice".into(),
            owner: "0x1111111111111111111111111111111111111111".into(),
            profile_cid: Some("bafy".into()),
            expires_at: 200,
            grace_ends_at: 300,
            nonce: "an earlier registration".into(),
            ip_hash: None,
        },
    );

    for label in ["alice", "bob-42"] {
        let r = register_with(&s, &name_body(label)).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body_json(),
            json!({
                "success": true, "hash": TX_HASH, "blockNumber": "1234",
                "label": label, "fullName": format!("{label}.heaven"),
            })
        );
    }

    let raws = s.raw_transactions().await;
    let tx = relayed_tx(&s.rt, &raws[1], REGISTRAR).await;
    assert_eq!(tx.nonce, RELAYER_COUNT + 1);
    let call = registerForCall::abi_decode(&tx.data).unwrap();
    assert_eq!(call.parentNode, hex32::parse_b256(HEAVEN_NODE).unwrap());
    assert_eq!(call.label, "bob-42");
    assert_eq!(call.to, address::parse(NAME_USER).unwrap());
    assert_eq!(call.duration, U256::from(31_536_000u64));

    let expires_at = NOW + REGISTRATION_SECS;
    let grace_ends_at = expires_at + 90 * 24 * 60 * 60;
    let bob = state::with(|st| st.names().get(&"bob-42".to_string()))
        .unwrap()
        .0;
    assert_eq!(
        bob,
        HeavenName {
            label: "bob-42".into(),
            label_display: Some("bob-42".into()),
            owner: owner.clone(),
            status: "active".into(),
            registered_at: NOW,
            expires_at,
            grace_ends_at,
            profile_cid: None,
            created_at: NOW,
            updated_at: NOW,
        }
    );
    let alice = state::with(|st| st.names().get(&"alice".to_string()))
        .unwrap()
        .0;
    assert_eq!(
        alice,
        HeavenName {
            label: "alice".into(),
            label_display: Some("Alice".into()),
            owner: owner.clone(),
            status: "active".into(),
            registered_at: 100,
            expires_at,
            grace_ends_at,
            profile_cid: Some("bafy".into()),
            created_at: 100,
            updated_at: NOW,
        }
    );
    let index: Vec<String> = state::with(|st| st.names_by_owner().keys().collect());
    assert_eq!(
        index,
        vec![format!("{owner}|alice"), format!("{owner}|bob-42")]
    );
    let kinds = events();
    assert!(kinds.contains(&EventType::NameMirrored {
        label: "bob-42".into(),
        owner: owner.clone(),
        expires_at,
        grace_ends_at,
    }));
    assert!(kinds.contains(&EventType::TransactionSent {
        chain_id: CHAIN_ID,
        nonce: RELAYER_COUNT,
        hash: TX_HASH.into(),
        kind: "register-name".into()
    }));
}

#[tokio::test]
async fn register_name_reverted_mirrors_nothing() {
    let s = setup().await;
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    s.accepts_transactions().await;
    s.receipt(0).await;
    let e = register_with(&s, &name_body("alice")).await.unwrap_err();
    assert_eq!(e.status, 500);
    assert_eq!(
        e.body,
        format!(r#"{{"error":"Transaction reverted","hash":"{TX_HASH}"}}"#)
    );
    assert!(state::with(|st| st.names().is_empty()));
}

#[tokio::test]
async fn register_name_pending_mirrors_nothing() {
    let s = setup().await;
    s.chain
        .on_call(
            availableCall::SELECTOR,
            availableCall::abi_encode_returns(&true),
        )
        .await;
    s.accepts_transactions().await;
    s.chain
        .on_method("eth_getTransactionReceipt", Value::Null)
        .await;
    let r = register_with(&s, &name_body("alice")).await.unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(
        r.body_json(),
        json!({
            "success": true, "pending": true, "hash": TX_HASH,
            "label": "alice", "fullName": "alice.heaven",
        })
    );
    assert!(state::with(|st| st.names().is_empty()));
}
