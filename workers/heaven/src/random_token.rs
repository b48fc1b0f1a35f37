//! Random tokens the stack makes for itself: the per-process edge key, the local admin
//! endpoint's bearer token, the development JWT secrets.

/// 32 random bytes from the OS, as hex.
pub fn random_hex_32() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}
