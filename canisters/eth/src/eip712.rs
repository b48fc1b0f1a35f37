//! EIP-712 typed data of the Heaven contracts: the `NamePermit` and `SetProfile` structs, their
//! domains and signing digests.

use alloy_primitives::{Address, B256};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};

pub use crate::sol_types::{NamePermit, SetProfile};

/// Domain `{name: "PremiumNameStoreV2", version: "2", chainId, verifyingContract: store}`.
pub fn name_permit_domain(chain_id: u64, store: Address) -> Eip712Domain {
    eip712_domain! {
        name: "PremiumNameStoreV2",
        version: "2",
        chain_id: chain_id,
        verifying_contract: store,
    }
}

/// Domain `{name: "DatingProfileV3", version: "1", chainId, verifyingContract: contract}`.
pub fn dating_profile_domain(chain_id: u64, contract: Address) -> Eip712Domain {
    eip712_domain! {
        name: "DatingProfileV3",
        version: "1",
        chain_id: chain_id,
        verifying_contract: contract,
    }
}

/// keccak256(`0x1901 || domainSeparator || structHash`) of a name permit.
pub fn name_permit_digest(permit: &NamePermit, chain_id: u64, store: Address) -> B256 {
    permit.eip712_signing_hash(&name_permit_domain(chain_id, store))
}

/// keccak256(`0x1901 || domainSeparator || structHash`) of a profile update.
pub fn set_profile_digest(p: &SetProfile, chain_id: u64, contract: Address) -> B256 {
    p.eip712_signing_hash(&dating_profile_domain(chain_id, contract))
}
