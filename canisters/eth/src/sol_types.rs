//! The Solidity declarations of the Heaven contracts, in one `sol!` invocation so the EIP-712
//! structs and the calls that carry them share one Rust type. Re-exported by [`crate::eip712`]
//! and [`crate::abi`].

alloy_sol_types::sol! {
    /// PremiumNameStoreV2's EIP-712 permit to buy a name (signed by the store's permit signer).
    #[derive(Debug, PartialEq, Eq)]
    struct NamePermit {
        address buyer;
        address recipient;
        bytes32 parentNode;
        bytes32 labelHash;
        uint256 duration;
        uint256 maxPrice;
        uint8 policyType;
        bytes32 nullifierHash;
        uint256 nonce;
        uint256 deadline;
    }

    /// DatingProfileV3's EIP-712 authorisation to set a user's profile.
    #[derive(Debug, PartialEq, Eq)]
    struct SetProfile {
        address user;
        uint8 gender;
        uint16 interestedMask;
        uint8 locationMode;
        int32 locationLat;
        int32 locationLng;
        uint16 heightCm;
        uint16 birthYear;
        uint16 nationalityCode;
        uint16 ethnicityMask;
        uint8 relationshipMode;
        bytes32 privateCidHash;
        uint256 nonce;
        uint256 deadline;
    }

    /// The song registry's EIP-712 attestation by a Story IP's controller of where its
    /// upstream royalties are paid (voice-control-plane's `POST /songs`).
    #[derive(Debug, PartialEq, Eq)]
    struct StoryPayoutAttestation {
        string storyIpId;
        uint256 payoutChainId;
        address payoutAddress;
        uint256 upstreamRoyaltyBps;
    }

    /// Calls of the PremiumNameStoreV2 contract.
    interface PremiumNameStoreV2 {
        /// The store's quote for a label: `(price, duration, enabled)`.
        #[derive(Debug, PartialEq, Eq)]
        struct Quote {
            uint256 price;
            uint256 duration;
            bool enabled;
        }

        /// Price, duration and availability of `label` under `parentNode`.
        function quote(bytes32 parentNode, string label) external view returns (Quote);
        /// How many short-name purchases a World ID nullifier has made.
        function shortPurchasesByNullifier(bytes32 nullifierHash) external view returns (uint16);
        /// Buys `label` with a permit signed by the store's signer; returns the token id.
        function buyWithPermit(string label, NamePermit permit, bytes signature) external returns (uint256);
    }

    /// Calls of the NameRegistryV2 contract.
    interface NameRegistryV2 {
        /// Price of registering a label under a parent node for a duration.
        function price(bytes32 parentNode, string label, uint256 duration) external view returns (uint256);
        /// Whether a label under a parent node is reserved.
        function isReserved(bytes32 parentNode, string label) external view returns (bool);
        /// The premium price set for a label under a parent node (0 if none).
        function premiumPriceForLabel(bytes32 parentNode, string label) external view returns (uint256);
    }

    /// Calls of the DatingProfileV3 contract.
    interface DatingProfileV3 {
        /// Sets `user`'s profile with the user's EIP-712 `SetProfile` signature.
        function setProfileWithSig(
            address user,
            uint8 gender,
            uint16 interestedMask,
            uint8 locationMode,
            int32 locationLat,
            int32 locationLng,
            uint16 heightCm,
            uint16 birthYear,
            uint16 nationalityCode,
            uint16 ethnicityMask,
            uint8 relationshipMode,
            bytes privateCid,
            uint256 deadline,
            bytes sig
        ) external;
        /// The next `SetProfile` nonce of an address.
        function nonces(address user) external view returns (uint256);
        /// The contract's EIP-712 domain separator.
        function DOMAIN_SEPARATOR() external view returns (bytes32);
    }

    /// Calls of the MultiTldSubnameRegistrarV3 contract.
    interface MultiTldSubnameRegistrarV3 {
        /// Registers `label` under `parentNode` to `to` for `duration` seconds; returns the token id.
        function registerFor(bytes32 parentNode, string label, address to, uint256 duration) external returns (uint256);
        /// Whether `label` under `parentNode` can be registered.
        function available(bytes32 parentNode, string label) external view returns (bool);
    }

    /// Calls of the RegistryV1 contract (Tempo) read by the credits canister's base grant.
    interface RegistryV1 {
        /// The primary name of an address: its label (empty when none) and parent node.
        function primaryName(address user) external view returns (string label, bytes32 parentNode);
    }

    /// The EIP-3009 read of a USDC-like token that tells whether an authorization was used
    /// (the duet rooms' reconciliation of an x402 settlement whose answer was lost).
    interface Eip3009Token {
        /// Whether `authorizer`'s authorization `nonce` was used or cancelled.
        function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
    }

    /// Calls of the VerificationMirror contract read by the credits canister's Celo bonus.
    interface VerificationMirror {
        /// When an address was verified (0 = never).
        function verifiedAt(address user) external view returns (uint64);
    }

    /// Calls of the SessionEscrowV1 contract (booked 1:1 sessions) used by the attestation.
    interface SessionEscrowV1 {
        /// A bookable slot.
        #[derive(Debug, PartialEq, Eq)]
        struct Slot {
            address host;
            uint48 startTime;
            uint32 durationMins;
            uint256 price;
            uint32 graceMins;
            uint32 minOverlapMins;
            uint32 cancelCutoffMins;
            uint8 status;
        }

        /// A booking of a slot.
        #[derive(Debug, PartialEq, Eq)]
        struct Booking {
            uint256 slotId;
            address guest;
            uint256 amount;
            uint8 status;
            uint8 oracleOutcome;
            bytes32 metricsHash;
            uint64 attestedAt;
            uint64 finalizableAt;
            address challenger;
            uint256 bondAmount;
            uint64 disputedAt;
        }

        /// The slot `slotId` (host zero when there is none).
        function getSlot(uint256 slotId) external view returns (Slot);
        /// The booking `bookingId` (status 0 when there is none).
        function getBooking(uint256 bookingId) external view returns (Booking);
        /// The oracle's verdict on a booked session.
        function attest(uint256 bookingId, uint8 outcome, bytes32 metricsHash) external;
    }

    /// Calls of the ScrobbleV4 contract (Tempo): the track registry music publishing writes
    /// with its operator key.
    interface ScrobbleV4 {
        /// Whether `trackId` is registered.
        function isRegistered(bytes32 trackId) external view returns (bool);
        /// The track `trackId` (`registeredAt` 0 when there is none).
        function getTrack(bytes32 trackId) external view returns (string title, string artist, string album, uint8 kind, bytes32 payload, uint64 registeredAt, string coverCid, uint32 durationSec);
        /// Registers tracks (operator only); `kinds[i]` 3 = metadata payload.
        function registerTracksBatch(uint8[] kinds, bytes32[] payloads, string[] titles, string[] artists, string[] albums, uint32[] durations) external;
        /// Sets tracks' cover references (operator only).
        function setTrackCoverBatch(bytes32[] trackIds, string[] coverCids) external;
    }

    /// Calls of the ContentRegistry contract (Tempo): who published which audio of a track,
    /// written with the sponsor key.
    interface ContentRegistry {
        /// The content entry `contentId` (`active` false when there is none).
        function getContent(bytes32 contentId) external view returns (address owner, address datasetOwner, bytes pieceCid, uint8 algo, uint64 createdAt, bool active);
        /// Registers content for `contentOwner` (sponsor only); returns its id.
        function registerContentFor(address contentOwner, bytes32 trackId, address datasetOwner, bytes pieceCid, uint8 algo) external returns (bytes32 contentId);
    }

    /// Calls of the StudySetRegistryV1 contract (Tempo) read by `/api/study-sets`.
    interface StudySetRegistryV1 {
        /// The study set of a track in a language and version (`exists` false when none).
        function getStudySet(bytes32 trackId, string lang, uint8 version) external view returns (string studySetRef, bytes32 studySetHash, address submitter, uint64 createdAt, bool exists);
    }

    /// Calls of the Ethereum Attestation Service (the OP Stack predeploy on Base).
    interface Eas {
        /// The attestation itself.
        #[derive(Debug, PartialEq, Eq)]
        struct AttestationRequestData {
            address recipient;
            uint64 expirationTime;
            bool revocable;
            bytes32 refUID;
            bytes data;
            uint256 value;
        }

        /// An attestation under a schema.
        #[derive(Debug, PartialEq, Eq)]
        struct AttestationRequest {
            bytes32 schema;
            AttestationRequestData data;
        }

        /// Emitted for each attestation made.
        event Attested(address indexed recipient, address indexed attester, bytes32 uid, bytes32 indexed schemaUID);

        /// Makes an attestation; returns its UID.
        function attest(AttestationRequest request) external payable returns (bytes32);
    }

    /// The data of an EAS scrobble-batch attestation (schema
    /// `(uint64 startTs, uint64 endTs, uint32 count, string cid)`).
    #[derive(Debug, PartialEq, Eq)]
    struct ScrobbleBatchData {
        uint64 startTs;
        uint64 endTs;
        uint32 count;
        string cid;
    }

    /// Story's metadata of an IP asset and its NFT.
    #[derive(Debug, PartialEq, Eq)]
    struct IPMetadata {
        string ipMetadataURI;
        bytes32 ipMetadataHash;
        string nftMetadataURI;
        bytes32 nftMetadataHash;
    }

    /// Story's Programmable IP License terms.
    #[derive(Debug, PartialEq, Eq)]
    struct PILTerms {
        bool transferable;
        address royaltyPolicy;
        uint256 defaultMintingFee;
        uint256 expiration;
        bool commercialUse;
        bool commercialAttribution;
        address commercializerChecker;
        bytes commercializerCheckerData;
        uint32 commercialRevShare;
        uint256 commercialRevCeiling;
        bool derivativesAllowed;
        bool derivativesAttribution;
        bool derivativesApproval;
        bool derivativesReciprocal;
        uint256 derivativeRevCeiling;
        address currency;
        string uri;
    }

    /// Story's licensing configuration of attached terms.
    #[derive(Debug, PartialEq, Eq)]
    struct LicensingConfig {
        bool isSet;
        uint256 mintingFee;
        address licensingHook;
        bytes hookData;
        uint32 commercialRevShare;
        bool disabled;
        uint32 expectMinimumGroupRewardShare;
        address expectGroupRewardPool;
    }

    /// License terms with their configuration.
    #[derive(Debug, PartialEq, Eq)]
    struct LicenseTermsData {
        PILTerms terms;
        LicensingConfig licensingConfig;
    }

    /// What a derivative registers against.
    #[derive(Debug, PartialEq, Eq)]
    struct MakeDerivative {
        address[] parentIpIds;
        address licenseTemplate;
        uint256[] licenseTermsIds;
        bytes royaltyContext;
        uint256 maxMintingFee;
        uint32 maxRts;
        uint32 maxRevenueShare;
    }

    /// Story's LicenseAttachmentWorkflows (music `/register` of an original).
    interface LicenseAttachmentWorkflows {
        /// Mints an NFT of `spgNftContract` to `recipient`, registers it as an IP and attaches terms.
        function mintAndRegisterIpAndAttachPILTerms(address spgNftContract, address recipient, IPMetadata ipMetadata, LicenseTermsData[] licenseTermsData, bool allowDuplicates) external returns (address ipId, uint256 tokenId, uint256[] licenseTermsIds);
    }

    /// Story's DerivativeWorkflows (music `/register` of a derivative or cover).
    interface DerivativeWorkflows {
        /// Mints an NFT, registers it as an IP and makes it a derivative of the parents.
        function mintAndRegisterIpAndMakeDerivative(address spgNftContract, MakeDerivative derivData, IPMetadata ipMetadata, address recipient, bool allowDuplicates) external returns (address ipId, uint256 tokenId);
    }

    /// Story's IPAssetRegistry.
    interface IPAssetRegistry {
        /// The IP account of an NFT.
        function ipId(uint256 chainId, address tokenContract, uint256 tokenId) external view returns (address);
    }

    /// Story's LicenseRegistry.
    interface LicenseRegistry {
        /// How many license terms an IP has attached.
        function getAttachedLicenseTermsCount(address ipId) external view returns (uint256);
        /// The `index`-th attached terms: `(license template, terms id)`.
        function getAttachedLicenseTerms(address ipId, uint256 index) external view returns (address licenseTemplate, uint256 licenseTermsId);
    }

    /// ERC-721's transfer event (a mint has `from` zero).
    interface Erc721 {
        /// A token changed hands.
        event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    }
}
