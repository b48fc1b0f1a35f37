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
mod tests;
