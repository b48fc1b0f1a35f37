//! `/songs/*` over HTTP: a create signed with a real EIP-712 signature, every refusal in the
//! original's order, the duplicate answer, silent cuts and defaults, reading back by id and
//! the search's normalisation, wildcard quirk and ordering.

mod common;

use common::{Service, User, assert_body, assert_error};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token";
const PAYOUT: &str = "0x00000000000000000000000000000000000000Aa";

fn admin_vars() -> [(&'static str, &'static str); 1] {
    [("SONG_REGISTRY_ADMIN_TOKEN", ADMIN)]
}

/// The controller's `StoryPayoutAttestation` signature, as viem's `signTypedData`.
fn attest(user: &User, story_ip_id: &str, payout: &str, bps: u64) -> String {
    let attestation = heaven_eth::eip712::StoryPayoutAttestation {
        storyIpId: story_ip_id.into(),
        payoutChainId: heaven_eth::U256::from(84532u64),
        payoutAddress: heaven_eth::address::parse(payout).unwrap(),
        upstreamRoyaltyBps: heaven_eth::U256::from(bps),
    };
    let digest = heaven_eth::eip712::story_payout_digest(&attestation, 84532);
    let (signature, id) = user
        .key
        .sign_prehash_recoverable(digest.as_slice())
        .unwrap();
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + id.to_byte());
    format!("0x{}", hex::encode(bytes))
}

fn valid_body(user: &User, story: &str) -> Value {
    json!({
        "title": "  Midnight   City ",
        "artist": "M83",
        "story_ip_id": story,
        "controller_wallet": user.wallet,
        "payout_chain_id": 84532,
        "payout_address": PAYOUT,
        "default_upstream_bps": 250,
        "payout_attestation_sig": attest(user, story, PAYOUT, 250),
        "license_preset_id": "commercial-remix",
    })
}

async fn create(service: &Service, token: &str, body: &Value) -> reqwest::Response {
    service
        .http
        .post(format!("{}/songs", service.base))
        .header("authorization", format!("Bearer {token}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn created_id(service: &Service, body: &Value) -> String {
    let response = create(service, ADMIN, body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["ok"], true);
    answer["song_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_signed_song_is_stored_and_read_back_whole() {
    let service = Service::start(&admin_vars()).await;
    let user = User::new(7);
    let response = create(&service, ADMIN, &valid_body(&user, "0xStoryOne")).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let song_id = serde_json::from_str::<Value>(&text).unwrap()["song_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(text, format!(r#"{{"ok":true,"song_id":"{song_id}"}}"#));
    assert!(uuid::Uuid::parse_str(&song_id).is_ok_and(|u| u.get_version_num() == 4));

    let sig = attest(&user, "0xStoryOne", PAYOUT, 250);
    let row = service
        .call("GET", &format!("/songs/{song_id}"), None)
        .await;
    let expected = format!(
        r#"{{"song_id":"{song_id}","title":"Midnight   City","artist":"M83","title_norm":"midnight city","artist_norm":"m83","story_ip_id":"0xStoryOne","controller_wallet":"{}","payout_chain_id":84532,"payout_address":"{}","default_upstream_bps":250,"payout_attestation_sig":"{sig}","license_preset_id":"commercial-remix","created_at":{start},"updated_at":{start}}}"#,
        user.lower(),
        PAYOUT.to_lowercase(),
        start = common::START,
    );
    assert_body(row, 200, &expected).await;
    let missing = service.call("GET", "/songs/nope", None).await;
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn the_admin_token_is_checked_before_anything_else() {
    let service = Service::start(&[]).await;
    let user = User::new(7);
    let response = create(&service, ADMIN, &json!({})).await;
    assert_error(response, 500, "song_registry_admin_not_configured").await;

    let service = Service::start(&admin_vars()).await;
    let response = create(&service, "wrong", &valid_body(&user, "0xS")).await;
    assert_error(response, 401, "unauthorized").await;
    let response = service.call("POST", "/songs", None).await;
    assert_error(response, 401, "unauthorized").await;
    // The header is trimmed before the comparison.
    let response = service
        .http
        .post(format!("{}/songs", service.base))
        .header("authorization", format!("  Bearer {ADMIN}  "))
        .json(&valid_body(&user, "0xS"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A body that is not JSON counts as `{}`.
    let response = service
        .http
        .post(format!("{}/songs", service.base))
        .bearer_auth(ADMIN)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "missing_title").await;
}

#[tokio::test]
async fn each_refusal_comes_in_the_originals_order() {
    let service = Service::start(&admin_vars()).await;
    let user = User::new(7);
    let taken = created_id(&service, &valid_body(&user, "0xTaken")).await;
    // Breaking field i and every later one must answer error i.
    let breaks: [(&str, Value, &str); 8] = [
        ("title", json!(" \t "), "missing_title"),
        ("artist", json!(42), "missing_artist"),
        ("story_ip_id", json!(""), "missing_story_ip_id"),
        (
            "controller_wallet",
            json!("0x1234"),
            "invalid_controller_wallet",
        ),
        (
            "payout_address",
            json!(PAYOUT.replace("0x", "")),
            "invalid_payout_address",
        ),
        ("payout_chain_id", json!(1), "payout_chain_not_allowed"),
        (
            "default_upstream_bps",
            json!(10_001),
            "invalid_default_upstream_bps",
        ),
        (
            "payout_attestation_sig",
            json!("0x1234"),
            "invalid_payout_attestation_sig",
        ),
    ];
    for first in 0..breaks.len() {
        let mut body = valid_body(&user, "0xFresh");
        for (field, bad, _) in &breaks[first..] {
            body[*field] = bad.clone();
        }
        let response = create(&service, ADMIN, &body).await;
        assert_error(response, 400, breaks[first].2).await;
    }
    // A taken story id answers 409 before the signature is verified...
    let mut body = valid_body(&user, "0xTaken");
    body["payout_attestation_sig"] = json!(attest(&User::new(8), "0xTaken", PAYOUT, 250));
    let response = create(&service, ADMIN, &body).await;
    assert_body(
        response,
        409,
        &format!(r#"{{"error":"story_ip_id_already_registered","song_id":"{taken}"}}"#),
    )
    .await;
    // ...and the same body for a free story id fails the signature check.
    body["story_ip_id"] = json!("0xFree");
    body["payout_attestation_sig"] = json!(attest(&User::new(8), "0xFree", PAYOUT, 250));
    let response = create(&service, ADMIN, &body).await;
    assert_error(response, 400, "invalid_attestation_signature").await;
    // A signature by the controller over other terms fails too.
    let mut body = valid_body(&user, "0xFree");
    body["default_upstream_bps"] = json!(300);
    let response = create(&service, ADMIN, &body).await;
    assert_error(response, 400, "invalid_attestation_signature").await;
    // Negative bps and a high v byte are refused.
    let mut body = valid_body(&user, "0xFree");
    body["default_upstream_bps"] = json!(-0.5);
    let response = create(&service, ADMIN, &body).await;
    assert_error(response, 400, "invalid_default_upstream_bps").await;
    let mut body = valid_body(&user, "0xFree");
    let sig = body["payout_attestation_sig"].as_str().unwrap().to_owned();
    body["payout_attestation_sig"] = json!(format!("{}1d", &sig[..130]));
    let response = create(&service, ADMIN, &body).await;
    assert_error(response, 400, "invalid_attestation_signature").await;
}

#[tokio::test]
async fn long_text_is_cut_silently_and_defaults_apply() {
    let service = Service::start(&admin_vars()).await;
    let user = User::new(7);
    let story = "s".repeat(300);
    let body = json!({
        "title": "t".repeat(300),
        "artist": "a".repeat(257),
        "story_ip_id": story,
        "controller_wallet": user.wallet.to_uppercase().replacen("0X", "0x", 1),
        "payout_address": PAYOUT,
        "default_upstream_bps": 12.9,
        // Signed over the story id as cut, with the default chain.
        "payout_attestation_sig": attest(&user, &story[..256], PAYOUT, 12),
        "license_preset_id": "p".repeat(200),
    });
    let id = created_id(&service, &body).await;
    let row: Value = service
        .call("GET", &format!("/songs/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(row["title"].as_str().unwrap().len(), 256);
    assert_eq!(row["artist"].as_str().unwrap().len(), 256);
    assert_eq!(row["story_ip_id"].as_str().unwrap().len(), 256);
    assert_eq!(row["license_preset_id"].as_str().unwrap().len(), 128);
    assert_eq!(row["payout_chain_id"], 84532);
    assert_eq!(row["default_upstream_bps"], 12);
    assert_eq!(row["controller_wallet"], user.lower());
    // Without a license preset the column is null; without bps it is 0.
    let mut body = valid_body(&user, "0xBare");
    body.as_object_mut().unwrap().remove("license_preset_id");
    body.as_object_mut().unwrap().remove("default_upstream_bps");
    body["payout_attestation_sig"] = json!(attest(&user, "0xBare", PAYOUT, 0));
    let id = created_id(&service, &body).await;
    let row: Value = service
        .call("GET", &format!("/songs/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(row["license_preset_id"], Value::Null);
    assert_eq!(row["default_upstream_bps"], 0);
}

async fn search(service: &Service, q: &str) -> Vec<String> {
    let response = service
        .http
        .get(format!("{}/songs/search", service.base))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["songs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_normalises_the_query_and_lists_newest_first() {
    let service = Service::start(&admin_vars()).await;
    let user = User::new(7);
    for (title, artist, story) in [
        ("Hello  World", "Alpha", "0xAAA1"),
        ("Yellow", "Hello Band", "0xBBB2"),
        ("Other", "Nobody", "0xCcC3"),
    ] {
        let mut body = valid_body(&user, story);
        body["title"] = json!(title);
        body["artist"] = json!(artist);
        created_id(&service, &body).await;
        service.clock.advance(10);
    }
    assert_eq!(
        search(&service, "  HELLO\t\n ").await,
        ["Yellow", "Hello  World"]
    );
    assert_eq!(search(&service, "hello   world").await, ["Hello  World"]);
    // Story ids match too, whatever the case.
    assert_eq!(search(&service, "0xccc").await, ["Other"]);
    // `_` and `%` are wildcards (not escaped, as the original).
    assert_eq!(search(&service, "h_llo w").await, ["Hello  World"]);
    assert_eq!(search(&service, "o%o").await, ["Other", "Hello  World"]);
    // Shorter than two characters after normalising: nothing, without a query.
    assert!(search(&service, " h ").await.is_empty());
    assert!(search(&service, "").await.is_empty());
    let response = service.call("GET", "/songs/search", None).await;
    assert_body(response, 200, r#"{"songs":[]}"#).await;
    // The row shape of a hit, byte for byte.
    let id = service
        .songs
        .song_of_story("0xCcC3")
        .await
        .unwrap()
        .unwrap();
    let response = service.call("GET", "/songs/search?q=other", None).await;
    let expected = format!(
        r#"{{"songs":[{{"song_id":"{id}","title":"Other","artist":"Nobody","story_ip_id":"0xCcC3","payout_chain_id":84532,"payout_address":"{}","default_upstream_bps":250,"license_preset_id":"commercial-remix","updated_at":{}}}]}}"#,
        PAYOUT.to_lowercase(),
        common::START + 20,
    );
    assert_body(response, 200, &expected).await;
}
