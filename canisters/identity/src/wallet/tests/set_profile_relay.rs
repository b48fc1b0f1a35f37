//! POST /api/wallet/set-profile: relaying, relayer nonces, receipts.

use super::*;

#[tokio::test]
async fn set_profile_relays_a_transaction_signed_by_the_relayer() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    let k = key(1);
    let user = address_of(&k);
    let body = profile_body(&k);

    let r = set_profile_with(&s, &body).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body_json(),
        json!({ "success": true, "hash": TX_HASH, "blockNumber": "1234", "nonceUsed": "7" })
    );

    let raws = s.raw_transactions().await;
    assert_eq!(raws.len(), 1);
    let tx = relayed_tx(&s.rt, &raws[0], DATING_PROFILE).await;
    assert_eq!(tx.nonce, RELAYER_COUNT);
    let call = setProfileWithSigCall::abi_decode(&tx.data).unwrap();
    let p = profile_of(user, USER_NONCE, NOW + 600);
    assert_eq!(call.user, user);
    assert_eq!(
        (call.gender, call.interestedMask, call.locationMode),
        (p.gender, p.interestedMask, p.locationMode)
    );
    assert_eq!(
        (
            call.locationLat,
            call.locationLng,
            call.heightCm,
            call.birthYear
        ),
        (p.locationLat, p.locationLng, p.heightCm, p.birthYear)
    );
    assert_eq!(
        (
            call.nationalityCode,
            call.ethnicityMask,
            call.relationshipMode
        ),
        (p.nationalityCode, p.ethnicityMask, p.relationshipMode)
    );
    assert!(call.privateCid.is_empty());
    assert_eq!(call.deadline, p.deadline);
    assert_eq!(hex0x(&call.sig), body["signature"].as_str().unwrap());

    assert_eq!(
        events(),
        vec![
            EventType::RelayerNonceSynced {
                chain_id: CHAIN_ID,
                nonce: RELAYER_COUNT
            },
            EventType::RelayerNonceReserved {
                chain_id: CHAIN_ID,
                nonce: RELAYER_COUNT
            },
            EventType::TransactionSent {
                chain_id: CHAIN_ID,
                nonce: RELAYER_COUNT,
                hash: TX_HASH.into(),
                kind: "set-profile".into()
            },
            EventType::ProfileRelayCounted {
                user: address::to_lower_hex(&user)
            },
        ]
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
    // The success starts the user's rate-limit window.
    assert_eq!(
        state::with(|st| st.wallet_limits().get(&address::to_lower_hex(&user))),
        Some(NOW)
    );
    assert_eq!(
        err(set_profile_with(&s, &body).await),
        (429, "Rate limited. Try again in 60s".into())
    );
}

#[tokio::test]
async fn relayer_nonces_increase_without_rereading_the_chain() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(1).await;
    for seed in [1, 2] {
        let r = set_profile_with(&s, &profile_body(&key(seed)))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    // A lowercase address and a relationshipMode left out (defaults to 0) are fine too.
    let k = key(3);
    let user = address_of(&k);
    let p = SetProfile {
        relationshipMode: 0,
        ..profile_of(user, USER_NONCE, NOW + 600)
    };
    let mut body = profile_body(&k);
    body.as_object_mut().unwrap().remove("relationshipMode");
    body["userAddress"] = json!(address::to_lower_hex(&user));
    body["signature"] = json!(hex0x(&sign_digest(
        &k,
        set_profile_digest(&p, CHAIN_ID, dating_profile())
    )));
    assert_eq!(set_profile_with(&s, &body).await.unwrap().status, 200);

    assert_eq!(s.count("eth_getTransactionCount").await, 1);
    let mut nonces = Vec::new();
    for raw in s.raw_transactions().await {
        nonces.push(relayed_tx(&s.rt, &raw, DATING_PROFILE).await.nonce);
    }
    assert_eq!(
        nonces,
        vec![RELAYER_COUNT, RELAYER_COUNT + 1, RELAYER_COUNT + 2]
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 3));
}

#[tokio::test]
async fn a_reverted_profile_transaction_is_a_500_with_hash_and_nonce() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.receipt(0).await;
    let body = profile_body(&key(1));
    let e = set_profile_with(&s, &body).await.unwrap_err();
    assert_eq!(e.status, 500);
    assert_eq!(
        e.body,
        format!(r#"{{"error":"Transaction reverted","hash":"{TX_HASH}","nonceUsed":"7"}}"#)
    );
    // Only successes start the rate-limit window; the nonce was used all the same.
    assert!(state::with(|st| st.wallet_limits().is_empty()));
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
}

#[tokio::test]
async fn an_unmined_transaction_is_a_202_after_polling() {
    let s = setup().await;
    s.user_nonce().await;
    s.accepts_transactions().await;
    s.chain
        .on_method("eth_getTransactionReceipt", Value::Null)
        .await;
    let r = set_profile_with(&s, &profile_body(&key(1))).await.unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(
        r.body_json(),
        json!({ "success": true, "pending": true, "hash": TX_HASH, "nonceUsed": "7" })
    );
    assert_eq!(s.count("eth_getTransactionReceipt").await, RECEIPT_POLLS);
    // The relayer paid for it, so the window starts.
    assert_eq!(state::with(|st| st.wallet_limits().len()), 1);
}

#[tokio::test]
async fn a_failed_send_forgets_the_nonce_so_the_next_relay_rereads_it() {
    let s = setup().await;
    s.user_nonce().await;
    s.chain.on_method("eth_gasPrice", json!(GAS_PRICE)).await;
    s.chain
        .on_method("eth_getTransactionCount", json!("0x2a"))
        .await;
    // No eth_sendRawTransaction answer: the node is unreachable for it.
    let body = profile_body(&key(1));
    let (status, message) = err(set_profile_with(&s, &body).await);
    assert_eq!(status, 500);
    assert!(
        message.starts_with("Transaction failed: eth_sendRawTransaction"),
        "{message}"
    );
    assert_eq!(relayer_next(), None);
    assert!(state::with(|st| st.wallet_limits().is_empty()));

    // The node is back: the retry re-reads the chain's count and goes out with it.
    s.chain
        .on_method("eth_sendRawTransaction", json!(TX_HASH))
        .await;
    s.receipt(1).await;
    assert_eq!(set_profile_with(&s, &body).await.unwrap().status, 200);
    assert_eq!(s.count("eth_getTransactionCount").await, 2);
    let mut nonces = Vec::new();
    for raw in s.raw_transactions().await {
        nonces.push(relayed_tx(&s.rt, &raw, DATING_PROFILE).await.nonce);
    }
    assert_eq!(nonces, vec![RELAYER_COUNT, RELAYER_COUNT]);
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
}

/// Answers `rpc_method` with the JSON-RPC `body`; with `times`, only that many times and ahead
/// of the other answers.
async fn answer(server: &MockServer, rpc_method: &str, body: Value, times: Option<u64>) {
    let mut mock = Mock::given(method("POST"))
        .and(body_partial_json(json!({ "method": rpc_method })))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    if let Some(n) = times {
        mock = mock.up_to_n_times(n).with_priority(1);
    }
    server.register(mock).await;
}

fn rpc_ok(result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "result": result })
}

#[tokio::test]
async fn a_nonce_conflict_resyncs_from_the_chain() {
    // FakeChain has no error answers for plain methods, so this node is built by hand.
    let server = MockServer::start().await;
    let (rt, _dir) = runtime(&server.uri(), true);
    answer(&server, "eth_blockNumber", rpc_ok(json!("0x3e8")), None).await;
    answer(
        &server,
        "eth_call",
        rpc_ok(json!(hex0x(&noncesCall::abi_encode_returns(&U256::from(
            USER_NONCE
        ))))),
        None,
    )
    .await;
    answer(&server, "eth_gasPrice", rpc_ok(json!(GAS_PRICE)), None).await;
    answer(
        &server,
        "eth_getTransactionCount",
        rpc_ok(json!("0x2a")),
        None,
    )
    .await;
    answer(
        &server,
        "eth_sendRawTransaction",
        json!({ "jsonrpc": "2.0", "id": 1, "error": { "code": -32000, "message": "nonce too low" } }),
        Some(1),
    )
    .await;
    answer(
        &server,
        "eth_sendRawTransaction",
        rpc_ok(json!(TX_HASH)),
        None,
    )
    .await;
    answer(
        &server,
        "eth_getTransactionReceipt",
        rpc_ok(receipt_json(1)),
        None,
    )
    .await;

    // A stale nonce from before (e.g. transactions sent by another tool).
    given(
        now(),
        EventType::RelayerNonceSynced {
            chain_id: CHAIN_ID,
            nonce: 5,
        },
    );
    let req = post("/api/wallet/set-profile", &profile_body(&key(1)));
    assert_eq!(
        err(set_profile(&rt, &req, now()).await),
        (
            500,
            "Transaction failed: eth_sendRawTransaction: JSON-RPC error -32000: nonce too low"
                .into()
        )
    );
    assert_eq!(relayer_next(), Some(RELAYER_COUNT));
    assert_eq!(
        events(),
        vec![
            EventType::RelayerNonceSynced {
                chain_id: CHAIN_ID,
                nonce: 5
            },
            EventType::RelayerNonceReserved {
                chain_id: CHAIN_ID,
                nonce: 5
            },
            EventType::RelayerNonceSynced {
                chain_id: CHAIN_ID,
                nonce: RELAYER_COUNT
            },
        ]
    );

    // The retry goes out with the chain's nonce.
    let r = set_profile(&rt, &req, now()).await.unwrap();
    assert_eq!(r.status, 200);
    let raws: Vec<Vec<u8>> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|r| r["method"] == "eth_sendRawTransaction")
        .map(|r| hex::decode(&r["params"][0].as_str().unwrap()[2..]).unwrap())
        .collect();
    let nonces: Vec<u64> = raws.iter().map(|raw| decode_raw(raw).0.nonce).collect();
    assert_eq!(nonces, vec![5, RELAYER_COUNT]);
    assert_eq!(relayer_next(), Some(RELAYER_COUNT + 1));
}
