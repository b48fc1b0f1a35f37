//! The original's signature check of a login: EIP-191 `personal_sign` recovery (EOAs only),
//! over the trimmed nonce as UTF-8 text, then, if that nonce looks like 32 bytes of hex (with
//! or without `0x`), over those raw 32 bytes (wallets disagree on how to sign hex). Anything
//! that does not parse or recover is simply "no match".

use alloy_primitives::eip191_hash_message;

use super::Wallet;

/// Whether `signature` (`0x` + 65 bytes hex) over `nonce` recovers to `wallet`.
pub fn signature_matches(wallet: &str, nonce: &str, signature: &str) -> bool {
    // viem refuses a wallet that is not an address, and a signature that is not 0x-hex.
    let Some(wallet) = Wallet::parse(wallet) else {
        return false;
    };
    let Some(hex_digits) = signature.strip_prefix("0x") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_digits) else {
        return false;
    };
    let signer_is = |digest| {
        heaven_eth::signature::recover_prehash(&digest, &sig)
            .is_ok_and(|a| heaven_eth::address::to_lower_hex(&a) == wallet.as_str())
    };
    // JavaScript's trim also removes the byte-order mark.
    let message = nonce.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if signer_is(eip191_hash_message(message)) {
        return true;
    }
    let raw = message.strip_prefix("0x").unwrap_or(message);
    match <[u8; 32]>::try_from(hex::decode(raw).unwrap_or_default()) {
        Ok(bytes) if raw.len() == 64 => signer_is(eip191_hash_message(bytes)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;

    fn sign(key: &SigningKey, message: &[u8]) -> String {
        let digest = eip191_hash_message(message);
        let (sig, id) = key.sign_prehash_recoverable(digest.as_slice()).unwrap();
        let mut bytes = sig.to_bytes().to_vec();
        bytes.push(27 + id.to_byte());
        format!("0x{}", hex::encode(bytes))
    }

    fn address(key: &SigningKey) -> String {
        let point = key.verifying_key().to_encoded_point(false);
        let a = heaven_eth::address::from_public_key(point.as_bytes()).unwrap();
        heaven_eth::address::to_checksum(&a)
    }

    #[test]
    fn text_and_raw_hex_forms_are_both_accepted() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let wallet = address(&key);
        let nonce = "ab".repeat(32);
        let as_text = sign(&key, nonce.as_bytes());
        assert!(signature_matches(&wallet, &nonce, &as_text));
        assert!(signature_matches(
            &wallet,
            &format!("  {nonce}\n"),
            &as_text
        ));
        assert!(signature_matches(&wallet.to_lowercase(), &nonce, &as_text));
        let as_raw = sign(&key, &[0xab; 32]);
        assert!(signature_matches(&wallet, &nonce, &as_raw));
        assert!(signature_matches(&wallet, &format!("0x{nonce}"), &as_raw));
        assert!(!signature_matches(&wallet, "hello", &as_raw));
    }

    #[test]
    fn anything_else_is_no_match() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let other = address(&SigningKey::from_slice(&[8u8; 32]).unwrap());
        let nonce = "cd".repeat(32);
        let sig = sign(&key, nonce.as_bytes());
        assert!(!signature_matches(&other, &nonce, &sig));
        assert!(!signature_matches(&address(&key)[2..], &nonce, &sig));
        assert!(!signature_matches(&address(&key), &nonce, &sig[2..]));
        for bad in ["0x", "0xzz", "0x1234", &format!("0x{}", "00".repeat(65))] {
            assert!(!signature_matches(&address(&key), &nonce, bad), "{bad}");
        }
    }
}
