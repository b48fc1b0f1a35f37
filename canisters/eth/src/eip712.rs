//! EIP-712 typed data of the Heaven contracts: the `NamePermit`, `SetProfile` and
//! `StoryPayoutAttestation` structs, their domains and signing digests.

use alloy_primitives::{Address, B256};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain};

pub use crate::sol_types::{NamePermit, SetProfile, StoryPayoutAttestation};

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

/// Domain `{name: "HeavenSongRegistry", version: "1", chainId}` (no verifying contract, no
/// salt) of the song registry's payout attestations.
pub fn song_registry_domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: "HeavenSongRegistry",
        version: "1",
        chain_id: chain_id,
    }
}

/// keccak256(`0x1901 || domainSeparator || structHash`) of a payout attestation, in the domain
/// of `chain_id` (the registry uses the payout chain's id).
pub fn story_payout_digest(a: &StoryPayoutAttestation, chain_id: u64) -> B256 {
    a.eip712_signing_hash(&song_registry_domain(chain_id))
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, address, keccak256};

    use super::*;

    fn word(v: u64) -> [u8; 32] {
        U256::from(v).to_be_bytes()
    }

    /// The digest built by hand from the EIP-712 rules, independent of `sol!`.
    #[test]
    fn story_payout_digest_follows_eip712_by_hand() {
        let payout = address!("00000000000000000000000000000000000000aa");
        let att = StoryPayoutAttestation {
            storyIpId: "0xStory".into(),
            payoutChainId: U256::from(84532u64),
            payoutAddress: payout,
            upstreamRoyaltyBps: U256::from(250u64),
        };
        let domain_type = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
        let mut domain = domain_type.to_vec();
        domain.extend(keccak256("HeavenSongRegistry"));
        domain.extend(keccak256("1"));
        domain.extend(word(84532));
        let separator = keccak256(&domain);
        let type_hash = keccak256(
            "StoryPayoutAttestation(string storyIpId,uint256 payoutChainId,address payoutAddress,uint256 upstreamRoyaltyBps)",
        );
        let mut data = type_hash.to_vec();
        data.extend(keccak256("0xStory"));
        data.extend(word(84532));
        data.extend([0u8; 12]);
        data.extend(payout.as_slice());
        data.extend(word(250));
        let struct_hash = keccak256(&data);
        let mut msg = vec![0x19, 0x01];
        msg.extend(separator);
        msg.extend(struct_hash);
        assert_eq!(story_payout_digest(&att, 84532), keccak256(&msg));
        assert_ne!(story_payout_digest(&att, 1), keccak256(&msg));
    }
}
