//! Values the routes parse once and then carry typed: Ethereum addresses, 32-byte nodes and
//! hashes. Each parses from the wire's text with the rule the original applied and shows
//! itself the way the records and answers store it (lowercase `0x` hex), so nothing is
//! re-parsed from a string later on.
//!
//! And the formats of client text the canister embeds in what it signs, serves or links
//! (issue #23): nonces are lines of signed messages, CIDs go into DNS TXT records and URLs,
//! shadow-profile ids into the claim message and URLs. Keeping each to its alphabet means no
//! value can end a line, add a `;field=` or a path.

use std::fmt;

use heaven_eth::{B256, address, hex32};

/// An Ethereum address, shown as `0x` + 40 lowercase hex digits (how every record keys it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(heaven_eth::Address);

impl Address {
    /// `0x` + 40 hex digits of either case (the `0x` itself lowercase), nothing around them.
    pub fn parse(text: &str) -> Option<Self> {
        address::parse(text).map(Self)
    }

    /// Trimmed and lowercased first, then [`Address::parse`] (the original's
    /// `toLowerCase()` / `trim()` before its `^0x[a-f0-9]{40}$` test).
    pub fn parse_normalized(text: &str) -> Option<Self> {
        Self::parse(text.trim().to_lowercase().trim())
    }

    /// The 20 bytes, for ABI and EIP-712 encoding.
    pub fn eth(self) -> heaven_eth::Address {
        self.0
    }

    /// `0x` + 40 lowercase hex digits.
    pub fn lower_hex(self) -> String {
        address::to_lower_hex(&self.0)
    }

    /// EIP-55 mixed-case form.
    pub fn checksum(self) -> String {
        address::to_checksum(&self.0)
    }
}

impl From<heaven_eth::Address> for Address {
    fn from(a: heaven_eth::Address) -> Self {
        Self(a)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lower_hex())
    }
}

/// A 32-byte value the routes name in hex: a parent node, a nullifier, a label hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes32(B256);

impl Bytes32 {
    /// `0x` + 64 hex digits of either case.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix("0x")?;
        (digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| hex32::parse_b256(text))
            .flatten()
            .map(Self)
    }

    /// keccak256 of the label's UTF-8 bytes (the names contracts' `labelHash`).
    pub fn label_hash(label: &str) -> Self {
        Self(heaven_eth::keccak256(label.as_bytes()))
    }

    /// The 32 bytes.
    pub fn b256(self) -> B256 {
        self.0
    }

    /// `0x` + 64 lowercase hex digits.
    pub fn hex(self) -> String {
        hex32::b256_hex(&self.0)
    }
}

impl From<B256> for Bytes32 {
    fn from(b: B256) -> Self {
        Self(b)
    }
}

impl fmt::Display for Bytes32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Letters, digits, `-` and `_` (the URL-safe alphabet).
fn url_safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// A signed request's nonce: 16–128 of `[A-Za-z0-9_-]` (what clients make:
/// `crypto.randomUUID()`, hex).
pub fn is_signed_nonce(nonce: &str) -> bool {
    (16..=128).contains(&nonce.len()) && nonce.bytes().all(url_safe)
}

/// A content id as text: the alphabets of its multibase encodings (base58btc, base32,
/// base36, base16, base64url), i.e. `[A-Za-z0-9_-]`; empty is "none".
pub fn is_cid(cid: &str) -> bool {
    cid.bytes().all(url_safe)
}

/// A shadow profile id: 1–128 characters a URL keeps as they are (`[A-Za-z0-9._~-]`).
pub fn is_profile_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

#[cfg(test)]
mod tests;
