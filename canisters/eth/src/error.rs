//! The crate's single error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EthError {
    /// Bytes that are not a valid SEC1 secp256k1 public key (33 or 65 bytes, on the curve).
    #[error("invalid secp256k1 public key")]
    InvalidPublicKey,
    /// A signature that is malformed: wrong length, bad hex, bad `v`, `r`/`s` out of range.
    #[error("invalid signature: {0}")]
    InvalidSignature(&'static str),
    /// A well-formed signature from which no public key can be recovered.
    #[error("signature recovery failed")]
    Recovery,
    /// A threshold signature for which neither recovery id yields the expected public key.
    #[error("signature does not match the public key")]
    KeyMismatch,
    /// A transaction signature with a high `s`, which Ethereum nodes reject (EIP-2).
    #[error("signature s is not low (EIP-2)")]
    HighS,
    /// The JSON-RPC node answered with an error (or the response was not JSON-RPC).
    #[error("JSON-RPC error {code}: {message}")]
    Rpc {
        /// JSON-RPC error code.
        code: i64,
        /// JSON-RPC error message.
        message: String,
    },
    /// Bytes that are not a signed EIP-1559 transaction with an empty access list.
    #[error("invalid signed EIP-1559 transaction")]
    InvalidTransaction,
    /// A JSON-RPC result that does not have the expected shape (quantity or data).
    #[error("invalid JSON-RPC result: {0}")]
    InvalidResult(&'static str),
}
