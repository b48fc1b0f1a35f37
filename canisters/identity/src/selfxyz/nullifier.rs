//! The app-scoped identity nullifier of contracts/api-core.md §7.5, which the short-name
//! policy caps per passport: the raw nullifier from the attestation type's public signal (or,
//! in mock mode, a stand-in derived from the session), hashed with the namespace and scope.

use heaven_eth::U256;

use crate::secret::sha256_hex;

const ZERO_BYTES32: &str = "0x0000000000000000000000000000000000000000000000000000000000000000";

/// The public-signal index of the nullifier per attestation id (Self's `discloseIndices`):
/// passport, biometric ID card, Aadhaar, Selfrica ID card.
pub fn nullifier_index(attestation_id: &str) -> Option<usize> {
    match attestation_id {
        "1" => Some(7),
        "2" => Some(8),
        "3" => Some(0),
        "4" => Some(14),
        _ => None,
    }
}

/// A public signal as a 32-byte big-endian `0x` hex value: decimal, `0x` hex (lowercase `x`
/// only, as the original's check), or bare hex; `None` when empty, malformed or ≥ 2²⁵⁶.
pub fn signal_as_bytes32(signal: &str) -> Option<String> {
    let raw = signal.trim();
    if raw.is_empty() {
        return None;
    }
    let value = if raw.starts_with("0x") || raw.starts_with("0X") {
        let digits = raw.strip_prefix("0x")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        U256::from_str_radix(digits, 16).ok()?
    } else if raw.bytes().all(|b| b.is_ascii_digit()) {
        U256::from_str_radix(raw, 10).ok()?
    } else if raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        U256::from_str_radix(raw, 16).ok()?
    } else {
        return None;
    };
    Some(format!("0x{value:064x}"))
}

/// `0x` + SHA-256 hex of `text`.
fn hash_to_bytes32(text: &str) -> String {
    format!("0x{}", sha256_hex(text))
}

/// What the derivation reads from the webhook and the settings.
pub struct NullifierInput<'a> {
    /// The webhook's `attestationId` as JavaScript would print it.
    pub attestation_id: &'a str,
    /// `publicSignals` (entries that are not strings are `None`).
    pub public_signals: &'a [Option<String>],
    /// The session's address (lowercase).
    pub user_address: &'a str,
    /// `userContextData` as sent (`""` when absent).
    pub user_context_data: &'a str,
    /// Mock mode.
    pub mock: bool,
    /// `APP_NULLIFIER_NAMESPACE`.
    pub namespace: &'a str,
    /// The app scope (lowercased here).
    pub scope: &'a str,
}

/// The `identity_nullifier_hash` to store, or `None` ("Missing nullifier in publicSignals").
pub fn derive(input: &NullifierInput) -> Option<String> {
    let mock_raw = || {
        hash_to_bytes32(&format!(
            "self-mock-nullifier:v1:{}:{}:{}",
            input.user_address.to_lowercase(),
            input.attestation_id,
            input.user_context_data
        ))
    };
    let raw = match nullifier_index(input.attestation_id) {
        None if input.mock => Some(mock_raw()),
        None => None,
        Some(index) => {
            let parsed = input
                .public_signals
                .get(index)
                .and_then(|s| s.as_deref())
                .and_then(signal_as_bytes32);
            match parsed {
                Some(p) if p != ZERO_BYTES32 => Some(p),
                _ if input.mock => Some(mock_raw()),
                _ => None,
            }
        }
    }?;
    if raw == ZERO_BYTES32 {
        return None;
    }
    Some(hash_to_bytes32(&format!(
        "{}:{}:{}",
        input.namespace,
        input.scope.to_lowercase(),
        raw.to_lowercase()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        attestation: &'a str,
        signals: &'a [Option<String>],
        mock: bool,
    ) -> NullifierInput<'a> {
        NullifierInput {
            attestation_id: attestation,
            public_signals: signals,
            user_address: "0xAbC0000000000000000000000000000000000001",
            user_context_data: "ctx",
            mock,
            namespace: "heaven-names:v1",
            scope: "Heaven",
        }
    }

    #[test]
    fn signals_parse_as_the_original() {
        let one = format!("0x{:064x}", 1);
        assert_eq!(signal_as_bytes32("1").as_deref(), Some(one.as_str()));
        assert_eq!(signal_as_bytes32(" 0x01 ").as_deref(), Some(one.as_str()));
        // Bare hex: "a" is 10.
        assert_eq!(signal_as_bytes32("a"), Some(format!("0x{:064x}", 10)));
        assert_eq!(signal_as_bytes32("0X01"), None);
        assert_eq!(signal_as_bytes32("0x"), None);
        assert_eq!(signal_as_bytes32("-1"), None);
        assert_eq!(signal_as_bytes32(""), None);
        assert_eq!(signal_as_bytes32(&format!("0x1{}", "0".repeat(64))), None);
        let max = "f".repeat(64);
        assert_eq!(signal_as_bytes32(&max), Some(format!("0x{max}")));
    }

    #[test]
    fn passport_nullifier_is_namespaced_and_scoped() {
        let mut signals = vec![None; 8];
        signals[7] = Some("12345".into());
        let raw = format!("0x{:064x}", 12345);
        let want = format!("0x{}", sha256_hex(&format!("heaven-names:v1:heaven:{raw}")));
        assert_eq!(derive(&input("1", &signals, false)), Some(want.clone()));
        // The same in mock mode: a real signal wins over the stand-in.
        assert_eq!(derive(&input("1", &signals, true)), Some(want));
        // Aadhaar reads index 0.
        assert_eq!(derive(&input("3", &signals, false)), None);
    }

    #[test]
    fn mock_mode_stands_in_for_missing_or_zero_signals() {
        let zero = vec![Some("0".to_string()); 15];
        assert_eq!(derive(&input("1", &zero, false)), None);
        assert_eq!(derive(&input("9", &zero, false)), None);
        let raw = format!(
            "0x{}",
            sha256_hex("self-mock-nullifier:v1:0xabc0000000000000000000000000000000000001:1:ctx")
        );
        let want = format!("0x{}", sha256_hex(&format!("heaven-names:v1:heaven:{raw}")));
        assert_eq!(derive(&input("1", &zero, true)), Some(want));
        assert!(derive(&input("9", &[], true)).is_some());
    }
}
