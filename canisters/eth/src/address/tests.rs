use super::*;

/// EIP-55's own examples.
const EIP55: [&str; 8] = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
];

#[test]
fn checksum_matches_eip55_examples() {
    for expected in EIP55 {
        let a = parse(&expected.to_lowercase()).unwrap();
        assert_eq!(to_checksum(&a), expected);
        assert_eq!(parse(expected), Some(a));
        assert_eq!(to_lower_hex(&a), expected.to_lowercase());
    }
}

#[test]
fn parse_is_strict() {
    let good = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
    assert!(parse(good).is_some());
    assert!(parse(&good.to_uppercase().replace("0X", "0x")).is_some());
    for bad in [
        &good[2..],
        &good.replace("0x", "0X"),
        &format!(" {good}"),
        &format!("{good} "),
        &format!("{good}\n"),
        &good[..41],
        &format!("{good}0"),
        &good.replace('e', "g"),
        "0x",
        "",
        "0x+aaeb6053f3e94c9b9a09f33669435e7ef1beae",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}

#[test]
fn from_public_key_hardhat_0() {
    let key = k256::ecdsa::SigningKey::from_slice(
        &hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap(),
    )
    .unwrap();
    let expected = parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").unwrap();
    for compress in [true, false] {
        let point = key.verifying_key().to_encoded_point(compress);
        assert_eq!(point.len(), if compress { 33 } else { 65 });
        assert_eq!(from_public_key(point.as_bytes()), Ok(expected));
    }
    assert_eq!(
        to_checksum(&expected),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    );
    assert_eq!(from_public_key(&[4u8; 65]), Err(EthError::InvalidPublicKey));
    assert_eq!(from_public_key(&[]), Err(EthError::InvalidPublicKey));
    let point = key.verifying_key().to_encoded_point(false);
    assert_eq!(
        from_public_key(&point.as_bytes()[1..]),
        Err(EthError::InvalidPublicKey)
    );
}
