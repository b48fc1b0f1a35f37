//! EVM chain access for the identity canister: the shared JSON-RPC outcall client of
//! [`heaven_evm::chain`] (consensus transform, pinned reads), and how its failures answer on
//! api-core's routes.

pub use heaven_evm::chain::*;

use crate::api::ApiError;

/// A chain request that got no answer is a 503 (worth retrying); one the node answered badly
/// (an HTTP error, a JSON-RPC error or an unexpected answer) is a 502.
impl From<ChainError> for ApiError {
    fn from(e: ChainError) -> Self {
        let status = match e.kind {
            ChainErrorKind::Unreachable => 503,
            ChainErrorKind::BadAnswer => 502,
        };
        ApiError::error(status, e.to_string())
    }
}
