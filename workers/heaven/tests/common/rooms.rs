//! voice-rooms from a test's side: test wallets that sign like a browser wallet, the login
//! (nonce → personal_sign → JWT) and authenticated JSON posts.

use std::time::{SystemTime, UNIX_EPOCH};

use k256::ecdsa::SigningKey;
use serde_json::{Value, json};

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A wallet with a known key.
pub struct Wallet {
    pub key: SigningKey,
    pub address: String,
}

impl Wallet {
    /// The wallet of the private key `[seed; 32]`.
    pub fn new(seed: u8) -> Wallet {
        let key = SigningKey::from_slice(&[seed; 32]).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        let address = heaven_eth::address::from_public_key(point.as_bytes()).unwrap();
        Wallet {
            key,
            address: heaven_eth::address::to_checksum(&address),
        }
    }

    /// The same wallet with its address in lowercase, as the original's suites write it.
    pub fn lowercase(seed: u8) -> Wallet {
        let wallet = Wallet::new(seed);
        Wallet {
            address: wallet.address.to_lowercase(),
            ..wallet
        }
    }

    /// EIP-191 `personal_sign` of `message`, 0x hex.
    pub fn sign(&self, message: &str) -> String {
        let digest = heaven_eth::eip191::message_hash(message);
        let (signature, id) = self
            .key
            .sign_prehash_recoverable(digest.as_slice())
            .unwrap();
        let mut bytes = signature.to_bytes().to_vec();
        bytes.push(27 + id.to_byte());
        format!("0x{}", hex::encode(bytes))
    }
}

/// Logs `wallet` in; its JWT.
pub async fn login(http: &reqwest::Client, base: &str, wallet: &Wallet) -> String {
    let nonce: Value = http
        .post(format!("{base}/auth/nonce"))
        .json(&json!({ "wallet": wallet.address }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce = nonce["nonce"].as_str().unwrap();
    let verified: Value = http
        .post(format!("{base}/auth/verify"))
        .json(&json!({"wallet": wallet.address, "signature": wallet.sign(nonce), "nonce": nonce}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    verified["token"].as_str().unwrap().to_owned()
}

/// POSTs `body` with the bearer `token`; status and JSON body.
pub async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) -> (u16, Value) {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// `(consumed_seconds, remaining_seconds)` of the logged-in wallet (`GET /credits`).
pub async fn credits(http: &reqwest::Client, base: &str, token: &str) -> (u64, u64) {
    let balance: Value = http
        .get(format!("{base}/credits"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let field = |name: &str| {
        balance[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} in {balance}"))
    };
    (field("consumed_seconds"), field("remaining_seconds"))
}

/// Creates a free room as the holder of `token` (asserting 200); its id.
pub async fn create_room(http: &reqwest::Client, base: &str, token: &str) -> String {
    let (status, created) = post(http, format!("{base}/rooms/create"), token, json!({})).await;
    assert_eq!(status, 200, "{created}");
    created["room_id"].as_str().unwrap().to_owned()
}

/// Joins `room` as the holder of `token` (asserting 200); the connection id.
pub async fn join_room(http: &reqwest::Client, base: &str, token: &str, room: &str) -> String {
    let (status, joined) = post(
        http,
        format!("{base}/rooms/join"),
        token,
        json!({ "room_id": room }),
    )
    .await;
    assert_eq!(status, 200, "{joined}");
    joined["connection_id"].as_str().unwrap().to_owned()
}
