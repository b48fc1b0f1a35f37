//! `POST /api/study-sets/generate` and `POST /api/study-sets/debug-generate` (contracts
//! §1.12) answer 501 `{"error":"Not implemented"}` until the generator (OpenRouter, Genius)
//! and the registry write (`fulfillFromCredit`, a canister-signed transaction) are built.

use crate::error::MediaError;

/// The handler of both generate routes.
pub async fn not_implemented() -> MediaError {
    MediaError::not_implemented()
}
