use super::*;

fn tx() -> Eip1559Tx {
    Eip1559Tx {
        chain_id: 84532,
        nonce: 0,
        max_priority_fee_per_gas: 1,
        max_fee_per_gas: 2,
        gas_limit: 21000,
        to: Address::repeat_byte(0x11),
        value: U256::ZERO,
        data: Vec::new(),
    }
}

/// A low-s signature `r = 1, s = 1` with the given v.
fn sig(v: u8) -> [u8; 65] {
    let mut sig = [0u8; 65];
    sig[31] = 1;
    sig[63] = 1;
    sig[64] = v;
    sig
}

#[test]
fn signing_hash_is_keccak_of_typed_rlp() {
    // 0x02 || rlp([0x014a34, 0x80, 0x01, 0x02, 0x825208, 0x94 11*20, 0x80, 0x80, 0xc0])
    let mut expected = hex::decode("02e283014a3480010282520894").unwrap();
    expected.extend([0x11; 20]);
    expected.extend([0x80, 0x80, 0xc0]);
    assert_eq!(tx().signing_hash(), keccak256(&expected));
}

#[test]
fn encode_signed_appends_parity_r_s() {
    let raw = tx().encode_signed(&sig(28)).unwrap();
    let mut expected = hex::decode("02e583014a3480010282520894").unwrap();
    expected.extend([0x11; 20]);
    expected.extend([0x80, 0x80, 0xc0, 0x01, 0x01, 0x01]);
    assert_eq!(raw, expected);
    assert_eq!(tx().encode_signed(&sig(1)).unwrap(), raw);
    let even = tx().encode_signed(&sig(27)).unwrap();
    assert_eq!(even[even.len() - 3], 0x80, "parity 0 is the empty string");
    assert_eq!(tx().hash_signed(&sig(28)).unwrap(), keccak256(&raw));
}

#[test]
fn encode_signed_rejects_bad_signatures() {
    assert!(matches!(
        tx().encode_signed(&sig(29)),
        Err(EthError::InvalidSignature(_))
    ));
    assert!(matches!(
        tx().encode_signed(&sig(2)),
        Err(EthError::InvalidSignature(_))
    ));
    let mut high = sig(27);
    high[32..64].fill(0xff);
    high[32] = 0x7f; // just above n/2 = 0x7fff...5d576e73_57a4501d_dfe92f46_681b20a0
    assert_eq!(tx().encode_signed(&high), Err(EthError::HighS));
    let mut zero_r = sig(27);
    zero_r[..32].fill(0);
    assert!(tx().encode_signed(&zero_r).is_err());
    assert!(tx().hash_signed(&high).is_err());
}

#[test]
fn a_signed_transaction_reads_back() {
    let mut t = tx();
    t.nonce = 7;
    t.value = U256::from(5u8);
    t.data = vec![0x33, 0xfe, 0x24, 0x8b, 1, 2, 3];
    for v in [27, 28] {
        let raw = t.encode_signed(&sig(v)).unwrap();
        let (back, signature) = Eip1559Tx::decode_signed(&raw).unwrap();
        assert_eq!(back, t);
        assert_eq!(signature, sig(v));
    }
    let raw = t.encode_signed(&sig(27)).unwrap();
    assert_eq!(
        Eip1559Tx::decode_signed(&raw[..raw.len() - 1]),
        Err(EthError::InvalidTransaction)
    );
    assert_eq!(
        Eip1559Tx::decode_signed(&[0x01]),
        Err(EthError::InvalidTransaction)
    );
}
