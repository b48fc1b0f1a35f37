use super::*;
use alloy_primitives::{Address, B256, U256};

#[test]
fn call_signatures_are_the_contracts() {
    let tuple = "(address,address,bytes32,bytes32,uint256,uint256,uint8,bytes32,uint256,uint256)";
    assert_eq!(quoteCall::SIGNATURE, "quote(bytes32,string)");
    assert_eq!(
        shortPurchasesByNullifierCall::SIGNATURE,
        "shortPurchasesByNullifier(bytes32)"
    );
    assert_eq!(
        buyWithPermitCall::SIGNATURE,
        format!("buyWithPermit(string,{tuple},bytes)")
    );
    assert_eq!(priceCall::SIGNATURE, "price(bytes32,string,uint256)");
    assert_eq!(isReservedCall::SIGNATURE, "isReserved(bytes32,string)");
    assert_eq!(
        premiumPriceForLabelCall::SIGNATURE,
        "premiumPriceForLabel(bytes32,string)"
    );
    assert_eq!(noncesCall::SIGNATURE, "nonces(address)");
    assert_eq!(DOMAIN_SEPARATORCall::SIGNATURE, "DOMAIN_SEPARATOR()");
    assert_eq!(
        registerForCall::SIGNATURE,
        "registerFor(bytes32,string,address,uint256)"
    );
    assert_eq!(availableCall::SIGNATURE, "available(bytes32,string)");
}

#[test]
fn calls_round_trip_and_returns_decode() {
    let call = priceCall {
        parentNode: B256::repeat_byte(1),
        label: "alice".into(),
        duration: U256::from(31_536_000u64),
    };
    let encoded = call.abi_encode();
    assert_eq!(&encoded[..4], priceCall::SELECTOR.as_slice());
    assert_eq!(priceCall::abi_decode(&encoded).unwrap().label, "alice");

    let word = |n: u8| {
        let mut w = [0u8; 32];
        w[31] = n;
        w
    };
    assert_eq!(
        priceCall::abi_decode_returns(&word(5)).unwrap(),
        U256::from(5)
    );
    assert!(isReservedCall::abi_decode_returns(&word(1)).unwrap());
    assert!(!availableCall::abi_decode_returns(&word(0)).unwrap());
    assert_eq!(
        shortPurchasesByNullifierCall::abi_decode_returns(&word(3)).unwrap(),
        3
    );
    assert_eq!(
        noncesCall::abi_decode_returns(&word(9)).unwrap(),
        U256::from(9)
    );
    assert_eq!(
        DOMAIN_SEPARATORCall::abi_decode_returns(&word(7)).unwrap(),
        B256::from(word(7))
    );
    assert!(isReservedCall::abi_decode_returns(&[0u8; 5]).is_err());
    assert_eq!(
        noncesCall {
            user: Address::ZERO
        }
        .abi_encode()
        .len(),
        36
    );
}

#[test]
fn hex0x_is_lowercase() {
    assert_eq!(hex0x(&[]), "0x");
    assert_eq!(hex0x(&[0xAB, 0x01]), "0xab01");
}

#[test]
fn voice_control_plane_selectors_are_the_originals() {
    assert_eq!(hex0x(&getSlotCall::SELECTOR), "0x7eba7ba6");
    assert_eq!(hex0x(&getBookingCall::SELECTOR), "0x6a5c841a");
    assert_eq!(hex0x(&attestCall::SELECTOR), "0x33fe248b");
    assert_eq!(hex0x(&primaryNameCall::SELECTOR), "0xeba951aa");
    assert_eq!(hex0x(&verifiedAtCall::SELECTOR), "0xdd612c2e");
}

#[test]
fn a_booking_answer_decodes_as_the_escrow_returns_it() {
    let booking = Booking {
        slotId: U256::from(9u8),
        guest: Address::repeat_byte(0x11),
        amount: U256::from(1_000_000_000_000_000u64),
        status: 1,
        oracleOutcome: 0,
        metricsHash: B256::ZERO,
        attestedAt: 0,
        finalizableAt: 0,
        challenger: Address::ZERO,
        bondAmount: U256::ZERO,
        disputedAt: 0,
    };
    let encoded = <Booking as alloy_sol_types::SolValue>::abi_encode(&booking);
    assert_eq!(encoded.len(), 11 * 32, "a static struct is encoded inline");
    let decoded = getBookingCall::abi_decode_returns(&encoded).unwrap();
    assert_eq!(decoded, booking);
}

#[test]
fn publishing_selectors_are_the_originals() {
    assert_eq!(registerTracksBatchCall::SELECTOR, [0x54, 0x7d, 0x70, 0x35]);
    assert_eq!(setTrackCoverBatchCall::SELECTOR, [0x73, 0xf7, 0xf8, 0xdc]);
    assert_eq!(registerContentForCall::SELECTOR, [0xd8, 0x7f, 0x04, 0x2a]);
    assert_eq!(easAttestCall::SELECTOR, [0xf1, 0x73, 0x25, 0xe7]);
    assert_eq!(
        hex0x(Attested::SIGNATURE_HASH.as_slice()),
        "0x8bf46bf4cfd674fa735a3d63ec1c9ad4153f033c290341f3a588b75685141b35"
    );
}
