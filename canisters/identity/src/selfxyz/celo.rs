//! The chain half of Self's backend verification, by `eth_call` outcalls to Celo (the shared
//! JSON-RPC client and its consensus transform, reads pinned to one block): the hub names the
//! identity registry and the disclose verifier of the attestation type; the registry must know
//! the proof's Merkle root; the Groth16 verifier must accept the proof with its 21 signals.

use canister_runtime::Runtime;
use heaven_eth::rpc::BlockTag;
use heaven_eth::{Address, B256, U256};

use crate::chain::{Chain, ChainError};

alloy_sol_types::sol! {
    /// Self's IdentityVerificationHub (V2): per attestation id, the registry and verifier.
    interface SelfHub {
        function registry(bytes32 attestationId) external view returns (address);
        function discloseVerifier(bytes32 attestationId) external view returns (address);
    }

    /// Self's identity registry.
    interface SelfRegistry {
        function checkIdentityCommitmentRoot(uint256 root) external view returns (bool);
    }

    /// The vc-and-disclose Groth16 verifier (passport and biometric ID card).
    interface SelfDiscloseVerifier {
        function verifyProof(
            uint256[2] a,
            uint256[2][2] b,
            uint256[2] c,
            uint256[21] pubSignals
        ) external view returns (bool);
    }
}

pub use SelfDiscloseVerifier::verifyProofCall;
pub use SelfHub::{discloseVerifierCall, registryCall};
pub use SelfRegistry::checkIdentityCommitmentRootCall;

/// A Groth16 proof as the relayer sends it (`b` in snarkjs order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Groth16Proof {
    /// `a`.
    pub a: [U256; 2],
    /// `b`, rows as sent.
    pub b: [[U256; 2]; 2],
    /// `c`.
    pub c: [U256; 2],
}

/// What the chain said about a proof that passed the local checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Root known and proof valid.
    Valid,
    /// The registry does not know the proof's Merkle root.
    UnknownRoot,
    /// The verifier rejected the proof.
    InvalidProof,
}

/// Why the chain could not judge the proof (nothing is recorded; the relayer may retry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainUnavailable {
    /// An RPC request failed or was answered badly.
    Rpc(ChainError),
    /// The hub names no registry for the attestation id.
    NoRegistry,
    /// The hub names no disclose verifier for the attestation id.
    NoVerifier,
}

impl std::fmt::Display for ChainUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rpc(e) => write!(f, "Celo RPC failed ({e})"),
            Self::NoRegistry => f.write_str("the hub names no registry for this attestation id"),
            Self::NoVerifier => f.write_str("the hub names no verifier for this attestation id"),
        }
    }
}

/// The attestation id as the hub's `bytes32` key.
fn attestation_key(attestation_id: u8) -> B256 {
    B256::from(U256::from(attestation_id))
}

/// Asks the chain at `rpc_url` about a proof: root, then verifier, as Self's verifier does.
pub async fn judge<R: Runtime>(
    rt: &R,
    rpc_url: &str,
    hub: Address,
    attestation_id: u8,
    root: U256,
    proof: &Groth16Proof,
    signals: &[U256; 21],
) -> Result<ChainVerdict, ChainUnavailable> {
    let chain = Chain::new(rt, rpc_url);
    let block = BlockTag::Number(chain.pinned_block().await.map_err(ChainUnavailable::Rpc)?);
    let key = attestation_key(attestation_id);
    let registry = chain
        .call(hub, &registryCall { attestationId: key }, block)
        .await
        .map_err(ChainUnavailable::Rpc)?;
    if registry == Address::ZERO {
        return Err(ChainUnavailable::NoRegistry);
    }
    let known = chain
        .call(registry, &checkIdentityCommitmentRootCall { root }, block)
        .await
        .map_err(ChainUnavailable::Rpc)?;
    if !known {
        return Ok(ChainVerdict::UnknownRoot);
    }
    let verifier = chain
        .call(hub, &discloseVerifierCall { attestationId: key }, block)
        .await
        .map_err(ChainUnavailable::Rpc)?;
    if verifier == Address::ZERO {
        return Err(ChainUnavailable::NoVerifier);
    }
    // Self swaps each row of `b` (snarkjs order to the verifier's).
    let b = [
        [proof.b[0][1], proof.b[0][0]],
        [proof.b[1][1], proof.b[1][0]],
    ];
    let call = verifyProofCall {
        a: proof.a,
        b,
        c: proof.c,
        pubSignals: *signals,
    };
    let valid = chain
        .call(verifier, &call, block)
        .await
        .map_err(ChainUnavailable::Rpc)?;
    Ok(if valid {
        ChainVerdict::Valid
    } else {
        ChainVerdict::InvalidProof
    })
}
