//! Known-answer tests against vectors produced independently by `eth-account` / `eth-abi`
//! (`tests/vectors/generate.py`, run once; its output `vectors.json` is committed data), plus the
//! values our contract notes give.

use alloy_sol_types::{SolCall, SolStruct, sol};
use heaven_eth::abi::{
    Quote, buyWithPermitCall, quoteCall, registerForCall, setProfileWithSigCall,
};
use heaven_eth::eip712::{NamePermit, SetProfile};
use heaven_eth::tx::Eip1559Tx;
use heaven_eth::{Address, B256, U256, abi, address, eip191, eip712, hex32, keccak256, signature};
use k256::ecdsa::SigningKey;
use serde_json::Value;

sol! {
    struct Person {
        string name;
        address wallet;
    }

    struct Mail {
        Person from;
        Person to;
        string contents;
    }
}

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/vectors.json")).expect("vectors.json is JSON")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn b256(v: &Value, key: &str) -> B256 {
    hex32::parse_b256(text(v, key)).unwrap_or_else(|| panic!("{key} is not bytes32"))
}

fn addr(v: &Value, key: &str) -> Address {
    address::parse(text(v, key)).unwrap_or_else(|| panic!("{key} is not an address"))
}

fn bytes(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(text(v, key).strip_prefix("0x").unwrap()).unwrap()
}

fn uint(v: &Value, key: &str) -> U256 {
    match &v[key] {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => U256::from(n.as_u64().unwrap()),
        other => panic!("{key} is not a number: {other}"),
    }
}

fn small<T: TryFrom<i64>>(v: &Value, key: &str) -> T {
    let n = match &v[key] {
        Value::String(s) => s.parse::<i64>().unwrap(),
        other => other.as_i64().unwrap(),
    };
    T::try_from(n).unwrap_or_else(|_| panic!("{key} out of range"))
}

fn signer() -> SigningKey {
    let key =
        hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap();
    SigningKey::from_slice(&key).unwrap()
}

fn signer_address() -> Address {
    address::parse("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap()
}

/// Signs a digest the way eth_account does (RFC 6979) and returns `r || s || (27 + parity)`.
fn sign(digest: &B256) -> [u8; 65] {
    let (sig, id) = signer()
        .sign_prehash_recoverable(digest.as_slice())
        .unwrap();
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + id.to_byte();
    out
}

/// The signature in the vectors equals ours, recovers to the signer, and `from_threshold`
/// rebuilds it from `r || s` and the public key.
fn check_signature(digest: &B256, expected_hex: &str) {
    let ours = sign(digest);
    assert_eq!(signature::to_hex(&ours), expected_hex);
    assert_eq!(
        signature::recover_prehash(digest, &ours).unwrap(),
        signer_address()
    );
    let rs: [u8; 64] = ours[..64].try_into().unwrap();
    let public = signer().verifying_key().to_encoded_point(true);
    assert_eq!(
        signature::from_threshold(&rs, digest, public.as_bytes()).unwrap(),
        ours
    );
}

fn name_permit(v: &Value) -> NamePermit {
    NamePermit {
        buyer: addr(v, "buyer"),
        recipient: addr(v, "recipient"),
        parentNode: b256(v, "parentNode"),
        labelHash: b256(v, "labelHash"),
        duration: uint(v, "duration"),
        maxPrice: uint(v, "maxPrice"),
        policyType: small(v, "policyType"),
        nullifierHash: b256(v, "nullifierHash"),
        nonce: uint(v, "nonce"),
        deadline: uint(v, "deadline"),
    }
}

fn set_profile(v: &Value) -> SetProfile {
    SetProfile {
        user: addr(v, "user"),
        gender: small(v, "gender"),
        interestedMask: small(v, "interestedMask"),
        locationMode: small(v, "locationMode"),
        locationLat: small(v, "locationLat"),
        locationLng: small(v, "locationLng"),
        heightCm: small(v, "heightCm"),
        birthYear: small(v, "birthYear"),
        nationalityCode: small(v, "nationalityCode"),
        ethnicityMask: small(v, "ethnicityMask"),
        relationshipMode: small(v, "relationshipMode"),
        privateCidHash: b256(v, "privateCidHash"),
        nonce: uint(v, "nonce"),
        deadline: uint(v, "deadline"),
    }
}

#[test]
fn eip712_spec_mail_example() {
    let v = &vectors()["mail"];
    let domain = alloy_sol_types::eip712_domain! {
        name: "Ether Mail",
        version: "1",
        chain_id: 1,
        verifying_contract: address::parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC").unwrap(),
    };
    let mail = Mail {
        from: Person {
            name: "Cow".into(),
            wallet: address::parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826").unwrap(),
        },
        to: Person {
            name: "Bob".into(),
            wallet: address::parse("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB").unwrap(),
        },
        contents: "Hello, Bob!".into(),
    };
    assert_eq!(domain.separator(), b256(v, "domain_separator"));
    assert_eq!(mail.eip712_hash_struct(), b256(v, "struct_hash"));
    let digest = mail.eip712_signing_hash(&domain);
    assert_eq!(
        hex32::b256_hex(&digest),
        "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    );
    assert_eq!(digest, b256(v, "digest"));
    check_signature(&digest, text(v, "signature"));
}

#[test]
fn name_permit_matches_contract_notes() {
    let v = &vectors()["name_permits"][0];
    let permit = name_permit(&v["permit"]);
    assert_eq!(permit.labelHash, keccak256("alice-long"));
    assert_eq!(permit.nullifierHash, B256::ZERO);
    let store = address::parse("0x46Bcae2625157b562c974bb5a912dfcb811a234A").unwrap();
    let domain = eip712::name_permit_domain(42431, store);
    assert_eq!(
        hex32::b256_hex(&domain.separator()),
        "0xbd3c8c78352896f2c55d6b0f890e727e53e4417c9d37ead98ab263c765a920fd"
    );
    assert_eq!(
        hex32::b256_hex(&permit.eip712_hash_struct()),
        "0x7ef26af3a17ad3a264bf22cc201f7ac46c1f2e708c5390bf3a89368ce0f155a3"
    );
    let digest = eip712::name_permit_digest(&permit, 42431, store);
    assert_eq!(
        hex32::b256_hex(&digest),
        "0x8b4df293480da3961797520bccbf0bd2443a841760628ca5b10dbe137ba44057"
    );
    check_signature(
        &digest,
        "0xcd8d6b1ebcad283d2848ee4a032ed0e8411809dc499680e919ca98ba1f91c5026ba4a218bcd661bbcce487743527194da4ba24ea51a2fe74c1adbccaa287df9d1b",
    );
}

#[test]
fn name_permits_match_eth_account() {
    let all = vectors();
    let permits = all["name_permits"].as_array().unwrap();
    assert_eq!(permits.len(), 2);
    for v in permits {
        let permit = name_permit(&v["permit"]);
        let chain_id = v["chain_id"].as_u64().unwrap();
        let store = addr(v, "store");
        let domain = eip712::name_permit_domain(chain_id, store);
        assert_eq!(domain.separator(), b256(v, "domain_separator"));
        assert_eq!(permit.eip712_hash_struct(), b256(v, "struct_hash"));
        let digest = eip712::name_permit_digest(&permit, chain_id, store);
        assert_eq!(digest, b256(v, "digest"));
        check_signature(&digest, text(v, "signature"));
    }
    // The second permit is the other policy, with a nullifier and a price above 2^128.
    let second = name_permit(&permits[1]["permit"]);
    assert_eq!(second.policyType, 0);
    assert_ne!(second.nullifierHash, B256::ZERO);
    assert!(second.maxPrice > U256::from(u128::MAX));
}

#[test]
fn buy_with_permit_calldata_matches_eth_abi() {
    for v in vectors()["name_permits"].as_array().unwrap() {
        let call = buyWithPermitCall {
            label: text(v, "label").to_owned(),
            permit: name_permit(&v["permit"]),
            signature: bytes(v, "signature").into(),
        };
        let encoded = call.abi_encode();
        assert_eq!(abi::hex0x(&encoded), text(v, "buy_with_permit_calldata"));
        assert_eq!(
            buyWithPermitCall::SIGNATURE,
            text(v, "buy_with_permit_signature")
        );
        let decoded = buyWithPermitCall::abi_decode(&encoded).unwrap();
        assert_eq!(decoded.permit, call.permit);
    }
}

#[test]
fn selectors_are_the_deployed_ones() {
    assert_eq!(buyWithPermitCall::SELECTOR, [0x31, 0x0e, 0xe8, 0xa3]);
    assert_eq!(setProfileWithSigCall::SELECTOR, [0xb6, 0x58, 0x6a, 0xcb]);
    assert_eq!(registerForCall::SELECTOR, [0x99, 0x1d, 0x6f, 0xde]);
}

#[test]
fn set_profile_matches_eth_account() {
    let v = &vectors()["set_profile"];
    let profile = set_profile(&v["profile"]);
    assert!(profile.locationLat < 0);
    let chain_id = v["chain_id"].as_u64().unwrap();
    let contract = addr(v, "contract");
    let domain = eip712::dating_profile_domain(chain_id, contract);
    assert_eq!(
        hex32::b256_hex(&domain.separator()),
        "0xc0942f1029a49754ecf6d5801213cd1bdb4446b7f93f8003ccd125bf1e324a64"
    );
    assert_eq!(domain.separator(), b256(v, "domain_separator"));
    assert_eq!(profile.eip712_hash_struct(), b256(v, "struct_hash"));
    let digest = eip712::set_profile_digest(&profile, chain_id, contract);
    assert_eq!(digest, b256(v, "digest"));
    check_signature(&digest, text(v, "signature"));

    let private_cid = bytes(v, "private_cid");
    assert_eq!(keccak256(&private_cid), profile.privateCidHash);
    let call = setProfileWithSigCall {
        user: profile.user,
        gender: profile.gender,
        interestedMask: profile.interestedMask,
        locationMode: profile.locationMode,
        locationLat: profile.locationLat,
        locationLng: profile.locationLng,
        heightCm: profile.heightCm,
        birthYear: profile.birthYear,
        nationalityCode: profile.nationalityCode,
        ethnicityMask: profile.ethnicityMask,
        relationshipMode: profile.relationshipMode,
        privateCid: private_cid.into(),
        deadline: profile.deadline,
        sig: bytes(v, "signature").into(),
    };
    assert_eq!(
        setProfileWithSigCall::SIGNATURE,
        text(v, "set_profile_with_sig_signature")
    );
    assert_eq!(
        abi::hex0x(&call.abi_encode()),
        text(v, "set_profile_with_sig_calldata")
    );
}

#[test]
fn register_for_calldata_matches_eth_abi() {
    let v = &vectors()["register_for"];
    let call = registerForCall {
        parentNode: b256(v, "parent_node"),
        label: text(v, "label").to_owned(),
        to: addr(v, "to"),
        duration: uint(v, "duration"),
    };
    assert_eq!(registerForCall::SIGNATURE, text(v, "signature"));
    assert_eq!(abi::hex0x(&call.abi_encode()), text(v, "calldata"));
}

#[test]
fn quote_returns_decode() {
    let mut returned = vec![0u8; 96];
    returned[31] = 7;
    returned[63] = 9;
    returned[95] = 1;
    let quote: Quote = quoteCall::abi_decode_returns(&returned).unwrap();
    assert_eq!(
        quote,
        Quote {
            price: U256::from(7),
            duration: U256::from(9),
            enabled: true
        }
    );
}

#[test]
fn eip191_messages_match_eth_account() {
    let all = vectors();
    let messages = all["eip191"].as_array().unwrap();
    let expected_hashes = [
        "0x2d8eaf411b3ba2b59f917a7fdc0bdef43384a406b58c702f7daa01aa7fc2e56e",
        "0x0cf43c89eda8f7c29e1d58c2f56e439c97ac57c5d44d28660420a2fa1968c782",
    ];
    for (v, expected) in messages.iter().zip(expected_hashes) {
        assert_eq!(text(v, "hash"), expected);
    }
    assert_eq!(
        text(&messages[0], "signature"),
        "0x14ec874dcc9257331ea537a449751d8911926f703cb872f575fa69d139f85eca2c4654dd747c37f522f70495546426048f2f2f19ca9f0d374960f88bdc201fde1c"
    );
    for v in messages {
        let message = text(v, "message");
        let hash = eip191::message_hash(message);
        assert_eq!(hash, b256(v, "hash"), "{message}");
        let sig = text(v, "signature");
        assert_eq!(eip191::recover(message, sig).unwrap(), signer_address());
        assert_eq!(
            eip191::recover(message, &sig[2..]).unwrap(),
            signer_address()
        );
        check_signature(&hash, sig);
    }
}

#[test]
fn eip1559_transactions_match_eth_account() {
    for v in vectors()["eip1559"].as_array().unwrap() {
        let tx = Eip1559Tx {
            chain_id: v["chain_id"].as_u64().unwrap(),
            nonce: v["nonce"].as_u64().unwrap(),
            max_priority_fee_per_gas: v["max_priority_fee_per_gas"].as_u64().unwrap().into(),
            max_fee_per_gas: v["max_fee_per_gas"].as_u64().unwrap().into(),
            gas_limit: v["gas_limit"].as_u64().unwrap(),
            to: addr(v, "to"),
            value: uint(v, "value"),
            data: bytes(v, "data"),
        };
        let sig = sign(&tx.signing_hash());
        assert_eq!(u64::from(sig[64] - 27), v["y_parity"].as_u64().unwrap());
        let raw = tx.encode_signed(&sig).unwrap();
        assert_eq!(abi::hex0x(&raw), text(v, "raw"));
        assert_eq!(tx.hash_signed(&sig).unwrap(), b256(v, "hash"));
        // v as 0/1 encodes the same transaction.
        let mut raw_v = sig;
        raw_v[64] -= 27;
        assert_eq!(tx.encode_signed(&raw_v).unwrap(), raw);
    }
}

#[test]
fn eip55_checksums_match_eth_utils() {
    for expected in vectors()["checksum"].as_array().unwrap() {
        let expected = expected.as_str().unwrap();
        let parsed = address::parse(&expected.to_lowercase().replace("0X", "0x")).unwrap();
        assert_eq!(address::to_checksum(&parsed), expected);
    }
}
