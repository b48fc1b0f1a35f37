//! `register_story_ip` (contracts §6.6 and §3.9, Story Aeneid): one mint-and-register
//! transaction paid by the story-sponsor role — `mintAndRegisterIpAndAttachPILTerms` with the
//! original's commercial-remix terms for an original, `mintAndRegisterIpAndMakeDerivative`
//! for a derivative or cover — then the minted token id from the SPG collection's ERC-721
//! `Transfer` (from zero), the IP id from the IPAssetRegistry and the attached license terms
//! from the LicenseRegistry, read at the transaction's block. A mint is not idempotent on
//! chain: the request id and the transaction kept for it are what prevent a second one.

use canister_runtime::Runtime;
use heaven_eth::abi::{
    Erc721Transfer, IPMetadata, LicenseTermsData, LicensingConfig, MakeDerivative, PILTerms,
    SolCall, SolEvent, getAttachedLicenseTermsCall, getAttachedLicenseTermsCountCall, ipIdCall,
    mintAndRegisterIpAndAttachPILTermsCall, mintAndRegisterIpAndMakeDerivativeCall,
};
use heaven_eth::rpc::BlockTag;
use heaven_eth::{Address, B256, U256, address, hex32};
use heaven_evm::chain::{Chain, Log};

use super::ledger::Ticket;
use super::transact::{Step, Writer};
use crate::endpoints::publishing::{
    PublishError, RegisterStoryIpReply, RegisterStoryIpRequest, StoryTerms,
};
use crate::signer::Role;
use crate::state::publishing::StoryConfig;

/// The step name of the mint-and-register transaction.
pub(super) const MINT_AND_REGISTER: &str = "mint-and-register";
/// How long the receipt is waited for.
const WAIT_TIMEOUT_SECS: u64 = 60;
/// The most attached license terms read back.
const MAX_ATTACHED_TERMS: u64 = 64;
/// PIL revenue shares are in millionths of a percent.
const REV_SHARE_UNIT: u32 = 1_000_000;

/// The configured Story contracts.
pub(super) struct Story {
    config: StoryConfig,
    spg_nft: Address,
    workflows: Address,
    derivative_workflows: Address,
    ip_asset_registry: Address,
    license_registry: Address,
    royalty_policy_lap: Address,
    wip_token: Address,
}

impl Story {
    /// The settings, when registrations may be sent.
    pub(super) fn load(config: StoryConfig) -> Result<Self, PublishError> {
        let not_configured =
            || PublishError::NotConfigured("Story registration is not configured".to_string());
        if !config.enabled {
            return Err(not_configured());
        }
        let parse = |a: &str| address::parse(a).ok_or_else(not_configured);
        Ok(Self {
            spg_nft: parse(&config.spg_nft)?,
            workflows: parse(&config.license_attachment_workflows)?,
            derivative_workflows: parse(&config.derivative_workflows)?,
            ip_asset_registry: parse(&config.ip_asset_registry)?,
            license_registry: parse(&config.license_registry)?,
            royalty_policy_lap: parse(&config.royalty_policy_lap)?,
            wip_token: parse(&config.wip_token)?,
            config,
        })
    }
}

fn invalid(field: &str, reason: &str) -> PublishError {
    PublishError::InvalidRequest {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

fn decimal(value: &str) -> Option<U256> {
    let v = value.trim();
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| U256::from_str_radix(v, 10).ok())
        .flatten()
}

fn bytes32_lower(value: &str) -> Option<B256> {
    let v = value.trim().to_ascii_lowercase();
    hex32::parse_b256(&v)
}

/// A `register_story_ip` request that passed the original route's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidStory {
    /// NFT recipient.
    pub recipient: Address,
    /// The metadata.
    pub metadata: IPMetadata,
    /// `allowDuplicates`.
    pub allow_duplicates: bool,
    /// Original or derivative.
    pub kind: ValidKind,
}

/// The checked terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidKind {
    /// Attach PIL terms.
    Original {
        /// In PIL units (percent × 1 000 000).
        commercial_rev_share: u32,
        /// Wei.
        default_minting_fee: U256,
    },
    /// Make a derivative.
    Derivative(MakeDerivative),
}

impl ValidStory {
    /// Checks `request` with the original's messages.
    pub fn parse(request: &RegisterStoryIpRequest) -> Result<Self, PublishError> {
        super::request::request_id(&request.request_id)?;
        let recipient = address::parse(request.recipient.trim()).ok_or_else(|| {
            invalid(
                "recipient",
                "recipient must be a valid 0x address when provided",
            )
        })?;
        let ip_uri = request.ip_metadata_uri.trim();
        let nft_uri = request.nft_metadata_uri.trim();
        if ip_uri.is_empty() || nft_uri.is_empty() {
            return Err(invalid(
                "metadata_uri",
                "ipMetadataURI and nftMetadataURI are required (body or persisted metadata)",
            ));
        }
        let hashes =
            bytes32_lower(&request.ip_metadata_hash).zip(bytes32_lower(&request.nft_metadata_hash));
        let Some((ip_hash, nft_hash)) = hashes else {
            return Err(invalid(
                "metadata_hash",
                "ipMetadataHash and nftMetadataHash must be 0x-prefixed 32-byte hex values (body or persisted metadata)",
            ));
        };
        let kind = match &request.terms {
            StoryTerms::Original {
                commercial_rev_share,
                default_minting_fee,
            } => {
                if *commercial_rev_share > 100 {
                    return Err(invalid(
                        "commercial_rev_share",
                        "commercialRevShare must be an integer between 0 and 100",
                    ));
                }
                let fee = decimal(default_minting_fee).ok_or_else(|| {
                    invalid(
                        "default_minting_fee",
                        "defaultMintingFee must be a non-negative integer string",
                    )
                })?;
                ValidKind::Original {
                    commercial_rev_share: u32::from(*commercial_rev_share) * REV_SHARE_UNIT,
                    default_minting_fee: fee,
                }
            }
            StoryTerms::Derivative {
                parent_ip_ids,
                license_terms_ids,
                license_template,
                royalty_context,
                max_minting_fee,
                max_rts,
                max_revenue_share,
            } => ValidKind::Derivative(derivative(
                parent_ip_ids,
                license_terms_ids,
                license_template,
                royalty_context,
                max_minting_fee,
                *max_rts,
                *max_revenue_share,
            )?),
        };
        Ok(Self {
            recipient,
            metadata: IPMetadata {
                ipMetadataURI: ip_uri.to_string(),
                ipMetadataHash: ip_hash,
                nftMetadataURI: nft_uri.to_string(),
                nftMetadataHash: nft_hash,
            },
            allow_duplicates: request.allow_duplicates,
            kind,
        })
    }
}

fn derivative(
    parent_ip_ids: &[String],
    license_terms_ids: &[String],
    license_template: &str,
    royalty_context: &[u8],
    max_minting_fee: &str,
    max_rts: u32,
    max_revenue_share: u32,
) -> Result<MakeDerivative, PublishError> {
    if parent_ip_ids.is_empty() || license_terms_ids.is_empty() {
        return Err(invalid(
            "parent_ip_ids",
            "Derivative/cover registration requires parentIpIds and licenseTermsIds",
        ));
    }
    if parent_ip_ids.len() != license_terms_ids.len() {
        return Err(invalid(
            "license_terms_ids",
            "parentIpIds and licenseTermsIds must have the same length",
        ));
    }
    let parents = parent_ip_ids
        .iter()
        .map(|p| address::parse(p.trim()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            invalid(
                "parent_ip_ids",
                "parentIpIds must contain valid 0x-prefixed addresses",
            )
        })?;
    let terms = license_terms_ids
        .iter()
        .map(|t| decimal(t))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            invalid(
                "license_terms_ids",
                "licenseTermsIds must be an array of positive integers (string or number)",
            )
        })?;
    let template = address::parse(license_template.trim()).ok_or_else(|| {
        invalid(
            "license_template",
            "licenseTemplate must be a valid 0x-prefixed address",
        )
    })?;
    let fee = decimal(max_minting_fee).ok_or_else(|| {
        invalid(
            "max_minting_fee",
            "maxMintingFee must be a non-negative integer string",
        )
    })?;
    Ok(MakeDerivative {
        parentIpIds: parents,
        licenseTemplate: template,
        licenseTermsIds: terms,
        royaltyContext: royalty_context.to_vec().into(),
        maxMintingFee: fee,
        maxRts: max_rts,
        maxRevenueShare: max_revenue_share,
    })
}

/// The original's commercial-remix terms with `rev_share` (PIL units) and `fee`.
fn original_terms(story: &Story, rev_share: u32, fee: U256) -> LicenseTermsData {
    LicenseTermsData {
        terms: PILTerms {
            transferable: true,
            royaltyPolicy: story.royalty_policy_lap,
            defaultMintingFee: fee,
            expiration: U256::ZERO,
            commercialUse: true,
            commercialAttribution: true,
            commercializerChecker: Address::ZERO,
            commercializerCheckerData: Default::default(),
            commercialRevShare: rev_share,
            commercialRevCeiling: U256::ZERO,
            derivativesAllowed: true,
            derivativesAttribution: true,
            derivativesApproval: false,
            derivativesReciprocal: true,
            derivativeRevCeiling: U256::ZERO,
            currency: story.wip_token,
            uri: String::new(),
        },
        licensingConfig: LicensingConfig {
            isSet: false,
            mintingFee: U256::ZERO,
            licensingHook: Address::ZERO,
            hookData: Default::default(),
            commercialRevShare: 0,
            disabled: false,
            expectMinimumGroupRewardShare: 0,
            expectGroupRewardPool: Address::ZERO,
        },
    }
}

/// The workflow contract and calldata of the registration.
fn registration_call(story: &Story, valid: &ValidStory) -> (Address, Vec<u8>) {
    match &valid.kind {
        ValidKind::Original {
            commercial_rev_share,
            default_minting_fee,
        } => (
            story.workflows,
            mintAndRegisterIpAndAttachPILTermsCall {
                spgNftContract: story.spg_nft,
                recipient: valid.recipient,
                ipMetadata: valid.metadata.clone(),
                licenseTermsData: vec![original_terms(
                    story,
                    *commercial_rev_share,
                    *default_minting_fee,
                )],
                allowDuplicates: valid.allow_duplicates,
            }
            .abi_encode(),
        ),
        ValidKind::Derivative(derivative) => (
            story.derivative_workflows,
            mintAndRegisterIpAndMakeDerivativeCall {
                spgNftContract: story.spg_nft,
                derivData: derivative.clone(),
                ipMetadata: valid.metadata.clone(),
                recipient: valid.recipient,
                allowDuplicates: valid.allow_duplicates,
            }
            .abi_encode(),
        ),
    }
}

/// The token id of the first ERC-721 mint (`Transfer` from zero) by `collection`.
pub fn minted_token_id(logs: &[Log], collection: Address) -> Option<U256> {
    logs.iter()
        .find(|l| {
            l.address == collection
                && l.topics.len() >= 4
                && l.topics[0] == Erc721Transfer::SIGNATURE_HASH
                && l.topics[1] == B256::ZERO
        })
        .map(|l| U256::from_be_bytes(l.topics[3].0))
}

/// Sends the registration and reads back what it created.
pub(super) async fn run<R: Runtime>(
    rt: &R,
    ticket: &Ticket,
    story: &Story,
    valid: &ValidStory,
) -> Result<RegisterStoryIpReply, PublishError> {
    let writer = Writer {
        rt,
        chain: Chain::new(rt, story.config.rpc_url.clone()),
        chain_id: story.config.chain_id,
        receipt_polls: story.config.receipt_polls,
        wait_timeout_ns: WAIT_TIMEOUT_SECS * 1_000_000_000,
    };
    let (to, data) = registration_call(story, valid);
    let step = Step {
        name: MINT_AND_REGISTER,
        role: Role::StorySponsor,
        to,
        data,
        gas_limit: story.config.gas_limit,
    };
    let failed = PublishError::Failed;
    let mined = writer.transact(ticket, step).await.map_err(failed)?;
    let token_id = minted_token_id(&mined.logs, story.spg_nft).ok_or_else(|| {
        failed("Story registration succeeded but minted tokenId was not found in logs".into())
    })?;
    // Read at the transaction's block: every replica's node has it, and it shows the mint.
    let at = BlockTag::Number(mined.block);
    let chain = &writer.chain;
    let read_failed = |e: heaven_evm::ChainError| failed(e.to_string());
    let ip_id = chain
        .call(
            story.ip_asset_registry,
            &ipIdCall {
                chainId: U256::from(story.config.chain_id),
                tokenContract: story.spg_nft,
                tokenId: token_id,
            },
            at,
        )
        .await
        .map_err(read_failed)?;
    let count = chain
        .call(
            story.license_registry,
            &getAttachedLicenseTermsCountCall { ipId: ip_id },
            at,
        )
        .await
        .map_err(read_failed)?;
    let count = u64::try_from(count)
        .unwrap_or(u64::MAX)
        .min(MAX_ATTACHED_TERMS);
    let mut license_terms_ids = Vec::new();
    for index in 0..count {
        let attached = chain
            .call(
                story.license_registry,
                &getAttachedLicenseTermsCall {
                    ipId: ip_id,
                    index: U256::from(index),
                },
                at,
            )
            .await
            .map_err(read_failed)?;
        license_terms_ids.push(attached.licenseTermsId.to_string());
    }
    Ok(RegisterStoryIpReply {
        tx_hash: hex32::b256_hex(&mined.hash),
        block_number: mined.block,
        ip_id: address::to_checksum(&ip_id),
        token_id: token_id.to_string(),
        license_terms_ids,
    })
}
