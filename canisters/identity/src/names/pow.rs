//! The names policy's proof of work: `keccak256("<challenge>:<powNonce>")`, as lowercase hex,
//! must start with `difficulty` zero nibbles. Difficulty drops with label length because longer
//! labels are less contested.

/// Difficulty for a label of `label_len` characters given the configured base.
pub fn difficulty(base: u32, label_len: usize) -> u32 {
    match label_len {
        0..=6 => base,
        7 => base.saturating_sub(1).max(2),
        _ => base.saturating_sub(2).max(2),
    }
}

/// Whether `pow_nonce` solves `challenge` at `difficulty`.
pub fn satisfies(challenge: &str, pow_nonce: &str, difficulty: u32) -> bool {
    let digest = heaven_eth::keccak256(format!("{challenge}:{pow_nonce}").as_bytes());
    leading_zero_nibbles(digest.as_slice()) >= difficulty
}

fn leading_zero_nibbles(bytes: &[u8]) -> u32 {
    let mut count = 0;
    for b in bytes {
        if *b == 0 {
            count += 2;
            continue;
        }
        if b >> 4 == 0 {
            count += 1;
        }
        break;
    }
    count
}

/// Finds the smallest decimal nonce solving `challenge` (what the Android client does; tests
/// and the benchmark use it).
pub fn solve(challenge: &str, difficulty: u32) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|n| satisfies(challenge, n, difficulty))
        .expect("some nonce solves any difficulty below 64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_follows_label_length() {
        assert_eq!(difficulty(4, 6), 4);
        assert_eq!(difficulty(4, 7), 3);
        assert_eq!(difficulty(4, 8), 2);
        assert_eq!(difficulty(4, 30), 2);
        assert_eq!(difficulty(2, 7), 2);
        assert_eq!(difficulty(1, 6), 1);
        assert_eq!(difficulty(12, 9), 10);
    }

    #[test]
    fn known_digest_and_nibble_counting() {
        // keccak256("abc:1") = 0x5e8c9652... : no leading zero.
        assert!(satisfies("abc", "1", 0));
        assert!(!satisfies("abc", "1", 1));
        assert_eq!(leading_zero_nibbles(&[0x00, 0x0f]), 3);
        assert_eq!(leading_zero_nibbles(&[0x10]), 0);
        assert_eq!(leading_zero_nibbles(&[0x00, 0x00, 0x01]), 5);
    }

    #[test]
    fn solved_nonce_verifies_and_a_neighbour_usually_does_not() {
        let challenge = "9f".repeat(32);
        let nonce = solve(&challenge, 3);
        assert!(satisfies(&challenge, &nonce, 3));
        let digest = heaven_eth::keccak256(format!("{challenge}:{nonce}").as_bytes());
        assert!(hex::encode(digest).starts_with("000"));
        // Every smaller decimal nonce fails (solve returns the first).
        let n: u64 = nonce.parse().unwrap();
        assert!((0..n).all(|m| !satisfies(&challenge, &m.to_string(), 3)));
    }
}
