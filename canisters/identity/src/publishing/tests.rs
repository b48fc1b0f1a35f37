//! `finalize_track` against the fake Tempo node, which recovers each transaction's signer and
//! applies it only for the contract's role. Each `#[tokio::test]` has its own thread-local
//! state.

use candid::Principal;
use canister_runtime::native::NativeRuntime;
use heaven_eth::abi::{
    SolCall, registerContentForCall, registerTracksBatchCall, setTrackCoverBatchCall,
};
use heaven_eth::{Address, address, hex32};

use super::*;
use crate::chain;
use crate::lifecycle::{self, InitArg};
use crate::state::publishing::TempoPublishingConfig;
use crate::state::{PublishingConfig, audit};
use crate::testing::tempo::{FakeTempo, SAMPLE_USER as USER, TrackEntry, sample_finalize};

const CHAIN_ID: u64 = 42431;
const SCROBBLE: &str = "0xe00e82086480E61AaC8d5ad8B05B56A582dD0000";
const CONTENT_REGISTRY: &str = "0x2A3beA895AE5bb4415c436155cbA15a97ACc2C77";

struct Setup {
    rt: NativeRuntime,
    tempo: FakeTempo,
    operator: Address,
    sponsor: Address,
    _dir: tempfile::TempDir,
}

fn now() -> Now {
    Now::from_secs(1_771_600_000)
}

/// The canister with publishing enabled against a fresh fake Tempo, whose contracts know the
/// canister's operator and sponsor addresses.
async fn setup() -> Setup {
    let scrobble = address::parse(SCROBBLE).unwrap();
    let registry = address::parse(CONTENT_REGISTRY).unwrap();
    let tempo = FakeTempo::start(CHAIN_ID, scrobble, registry).await;
    let dir = tempfile::tempdir().unwrap();
    // The media worker calls as a controller (the local stack's in-process client does).
    let rt = NativeRuntime::open(dir.path())
        .unwrap()
        .with_caller(canister_runtime::native::dev_controller());
    chain::register_native_transform(&rt);
    lifecycle::init(
        InitArg {
            ecdsa_key_name: "dfx_test_key".into(),
        },
        Now::from_secs(1),
    );
    crate::admin::set_publishing_config(tempo.publishing_config(), Now::from_secs(1)).unwrap();
    let addresses = publisher_addresses(&rt).await.unwrap();
    let operator = address::parse(&addresses.tempo_operator).unwrap();
    let sponsor = address::parse(&addresses.tempo_sponsor).unwrap();
    tempo.authorize(operator, sponsor);
    Setup {
        rt,
        tempo,
        operator,
        sponsor,
        _dir: dir,
    }
}

/// The sample request, its title padded (trimmed before it is sent) and with a cover.
fn request(id: &str) -> FinalizeTrackRequest {
    FinalizeTrackRequest {
        title: "  Song ".into(),
        cover_ref: Some("ls3://cover-id".into()),
        ..sample_finalize(id)
    }
}

impl Setup {
    async fn finalize(
        &self,
        request: FinalizeTrackRequest,
    ) -> Result<FinalizeTrackReply, PublishError> {
        finalize_track(&self.rt, request, now()).await
    }
}

fn track_id() -> heaven_eth::B256 {
    track::meta_track_ids("Song", "Artist", "").track_id
}

#[tokio::test]
async fn finalize_registers_track_cover_and_content_each_signed_by_its_role() {
    let s = setup().await;
    let reply = s.finalize(request("job-1")).await.unwrap();

    let sent = s.tempo.received();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|t| t.succeeded && t.tx.chain_id == CHAIN_ID)
    );
    // ScrobbleV4 writes come from the operator, the ContentRegistry write from the sponsor.
    assert_eq!(sent[0].from, s.operator);
    assert_eq!(sent[1].from, s.operator);
    assert_eq!(sent[2].from, s.sponsor);
    assert_ne!(s.operator, s.sponsor);

    // The calldata is the typed request's fields (trimmed, not normalised).
    let register = registerTracksBatchCall::abi_decode(&sent[0].tx.data).unwrap();
    assert_eq!(register.kinds, vec![3]);
    assert_eq!(register.titles, vec!["Song".to_string()]);
    assert_eq!(register.artists, vec!["Artist".to_string()]);
    assert_eq!(register.albums, vec![String::new()]);
    assert_eq!(register.durations, vec![215]);
    assert_eq!(
        hex32::b256_hex(&register.payloads[0]),
        "0x73e550ec9fa56c9130d132fc7a2e89e774664e7e83b19a583a1594f5d3872ea4"
    );
    let cover = setTrackCoverBatchCall::abi_decode(&sent[1].tx.data).unwrap();
    assert_eq!(cover.trackIds, vec![track_id()]);
    assert_eq!(cover.coverCids, vec!["ls3://cover-id".to_string()]);
    let content = registerContentForCall::abi_decode(&sent[2].tx.data).unwrap();
    let user = address::parse(USER).unwrap();
    assert_eq!(content.contentOwner, user);
    assert_eq!(content.datasetOwner, user);
    assert_eq!(content.trackId, track_id());
    assert_eq!(content.pieceCid.to_vec(), b"staged-dataitem-id".to_vec());
    assert_eq!(content.algo, 1);

    let content_id = track::content_id(track_id(), user);
    assert_eq!(
        reply,
        FinalizeTrackReply {
            chain_id: CHAIN_ID,
            track_id: hex32::b256_hex(&track_id()),
            track_payload: hex32::b256_hex(&register.payloads[0]),
            content_id: hex32::b256_hex(&content_id),
            scrobble_tx_hash: Some(hex32::b256_hex(&sent[0].hash)),
            cover_tx_hash: Some(hex32::b256_hex(&sent[1].hash)),
            content_tx_hash: Some(hex32::b256_hex(&sent[2].hash)),
            tempo_tx_hash: Some(hex32::b256_hex(&sent[2].hash)),
            track_registered: true,
            content_registered: true,
            cover_set: true,
        }
    );
    assert_eq!(s.tempo.track(&track_id()).unwrap().cover, "ls3://cover-id");
    assert!(s.tempo.content(&content_id).is_some());
    // Every change was an event: the log rebuilds the state.
    assert!(audit::check_against_log().is_ok());
}

#[tokio::test]
async fn a_retry_with_the_same_request_id_answers_the_same_and_sends_nothing() {
    let s = setup().await;
    let first = s.finalize(request("job-1")).await.unwrap();
    let sends = s.tempo.count("eth_sendRawTransaction").await;
    let calls = s.tempo.count("eth_call").await;
    let again = s.finalize(request("job-1")).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(s.tempo.count("eth_sendRawTransaction").await, sends);
    assert_eq!(
        s.tempo.count("eth_call").await,
        calls,
        "no chain call at all"
    );

    // The same id for another request is refused.
    let other = FinalizeTrackRequest {
        title: "Other".into(),
        ..request("job-1")
    };
    assert_eq!(
        s.finalize(other).await,
        Err(PublishError::RequestIdReused("job-1".into()))
    );
}

#[tokio::test]
async fn a_new_request_for_an_existing_track_and_content_sends_nothing() {
    let s = setup().await;
    s.finalize(request("job-1")).await.unwrap();
    let reply = s
        .finalize(FinalizeTrackRequest {
            cover_ref: None,
            ..request("job-2")
        })
        .await
        .unwrap();
    assert_eq!(s.tempo.received().len(), 3);
    assert!(!reply.track_registered && !reply.content_registered && !reply.cover_set);
    assert_eq!(
        (
            reply.scrobble_tx_hash,
            reply.content_tx_hash,
            reply.tempo_tx_hash
        ),
        (None, None, None)
    );
}

#[tokio::test]
async fn a_refused_track_write_goes_on_when_the_track_turned_out_registered() {
    let s = setup().await;
    s.tempo.refuse_next(registerTracksBatchCall::SELECTOR);
    s.tempo.register_on_refusal(track_id());
    let reply = s.finalize(request("job-1")).await.unwrap();
    assert!(!reply.track_registered);
    assert_eq!(reply.scrobble_tx_hash, None);
    assert!(reply.content_registered && reply.cover_set);
    let sent = s.tempo.received();
    assert_eq!(sent.len(), 2, "cover and content only");
    assert_eq!(reply.tempo_tx_hash, Some(hex32::b256_hex(&sent[1].hash)));
}

#[tokio::test]
async fn a_refused_track_write_fails_and_a_retry_signs_a_new_one() {
    let s = setup().await;
    s.tempo.refuse_next(registerTracksBatchCall::SELECTOR);
    let err = s.finalize(request("job-1")).await.unwrap_err();
    let PublishError::Failed(details) = err else {
        panic!("{err:?}")
    };
    assert!(details.contains("register-track"), "{details}");
    assert!(s.tempo.received().is_empty());

    let reply = s.finalize(request("job-1")).await.unwrap();
    assert!(reply.track_registered && reply.content_registered);
    assert_eq!(s.tempo.received().len(), 3);
    assert!(audit::check_against_log().is_ok());
}

#[tokio::test]
async fn an_unmined_transaction_is_sent_again_on_retry_never_signed_again() {
    let s = setup().await;
    s.tempo.hold_mining(true);
    let err = s.finalize(request("job-1")).await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Failed(d) if d.contains("not mined yet")),
        "{err:?}"
    );
    // A retry while it is still pending sends the same bytes ("already known"), signs nothing.
    assert!(s.finalize(request("job-1")).await.is_err());
    assert_eq!(s.tempo.count("eth_sendRawTransaction").await, 2);

    s.tempo.hold_mining(false);
    let first_hash = s.tempo.received()[0].hash;
    let reply = s.finalize(request("job-1")).await.unwrap();
    assert_eq!(reply.scrobble_tx_hash, Some(hex32::b256_hex(&first_hash)));
    let sent = s.tempo.received();
    let tracks = sent
        .iter()
        .filter(|t| t.tx.data.starts_with(&registerTracksBatchCall::SELECTOR))
        .count();
    assert_eq!(tracks, 1, "one registerTracksBatch transaction in all");
    assert_eq!(sent.len(), 3);
}

#[tokio::test]
async fn a_write_by_a_key_without_the_role_reverts_and_fails() {
    let s = setup().await;
    // The sponsor is not authorised on the content registry of a fresh node.
    let fresh = FakeTempo::start(
        CHAIN_ID,
        address::parse(SCROBBLE).unwrap(),
        address::parse(CONTENT_REGISTRY).unwrap(),
    )
    .await;
    fresh.authorize(s.operator, s.operator);
    crate::admin::set_publishing_config(fresh.publishing_config(), Now::from_secs(2)).unwrap();
    let err = s.finalize(request("job-1")).await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Failed(d) if d.contains("register-content") && d.contains("reverted")),
        "{err:?}"
    );
}

#[tokio::test]
async fn callers_requests_and_settings_are_checked() {
    let s = setup().await;
    let stranger = Principal::from_slice(&[9; 29]);
    let as_stranger = s.rt.with_caller(stranger);
    assert_eq!(
        finalize_track(&as_stranger, request("job-1"), now()).await,
        Err(PublishError::NotAuthorized)
    );
    let invalid = |field: &str, reason: &str| {
        Err(PublishError::InvalidRequest {
            field: field.into(),
            reason: reason.into(),
        })
    };
    let cases = [
        (
            FinalizeTrackRequest {
                title: "  ".into(),
                ..request("a")
            },
            invalid("title", "title is required"),
        ),
        (
            FinalizeTrackRequest {
                album: "x".repeat(129),
                ..request("b")
            },
            invalid("album", "album exceeds 128-byte UTF-8 contract limit"),
        ),
        (
            FinalizeTrackRequest {
                piece_cid: vec![1; 129],
                ..request("c")
            },
            invalid("piece_cid", "pieceCid exceeds 128-byte on-chain limit"),
        ),
        (
            FinalizeTrackRequest {
                dataset_owner: "0x12".into(),
                ..request("d")
            },
            invalid(
                "dataset_owner",
                "datasetOwner must be a valid 0x address when provided",
            ),
        ),
        (
            FinalizeTrackRequest {
                algo: 0,
                ..request("e")
            },
            invalid("algo", "algo must be an integer between 1 and 255"),
        ),
    ];
    for (req, expected) in cases {
        assert_eq!(s.finalize(req).await, expected);
    }
    assert!(s.tempo.received().is_empty());

    crate::admin::set_publishing_config(PublishingConfig::default(), Now::from_secs(2)).unwrap();
    assert_eq!(
        s.finalize(request("job-1")).await,
        Err(PublishError::NotConfigured(
            "Tempo finalize is not configured".into()
        ))
    );
    // A listed publisher may call.
    let listed = PublishingConfig {
        publishers: vec![stranger.to_text()],
        tempo: TempoPublishingConfig {
            enabled: true,
            rpc_url: s.tempo.url(),
            ..TempoPublishingConfig::default()
        },
        ..PublishingConfig::default()
    };
    crate::admin::set_publishing_config(listed, Now::from_secs(3)).unwrap();
    assert!(
        finalize_track(&as_stranger, request("job-1"), now())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_cover_write_that_fails_reports_the_cover_already_on_chain() {
    let s = setup().await;
    s.tempo.register_track(
        track_id(),
        TrackEntry {
            title: "Song".into(),
            artist: "Artist".into(),
            cover: "ls3://earlier".into(),
            ..TrackEntry::default()
        },
    );
    s.tempo.refuse_next(setTrackCoverBatchCall::SELECTOR);
    let reply = s.finalize(request("job-1")).await.unwrap();
    assert!(reply.cover_set, "getTrack shows a cover");
    assert_eq!(reply.cover_tx_hash, None);
    assert!(!reply.track_registered && reply.content_registered);
}

mod attestation {
    use super::*;
    use crate::endpoints::publishing::AttestScrobbleBatchRequest;
    use crate::state::publishing::EasConfig;

    const EAS: &str = "0x4200000000000000000000000000000000000021";
    const SCHEMA: &str = "0x6a31b6c6ed2c423297bd53d6df387d04cf69cecb961eb57f1dfc44ba374d95f0";

    fn batch(id: &str) -> AttestScrobbleBatchRequest {
        AttestScrobbleBatchRequest {
            request_id: id.into(),
            user: USER.into(),
            start_ts: 1_700_000_000,
            end_ts: 1_700_000_600,
            count: 3,
            cid: "load-dataitem-id".into(),
        }
    }

    /// The fake node plays Base's EAS too; attestations enabled against it.
    async fn setup_eas() -> Setup {
        let s = setup().await;
        s.tempo.with_eas(address::parse(EAS).unwrap());
        let config = PublishingConfig {
            eas: EasConfig {
                enabled: true,
                rpc_url: s.tempo.url(),
                chain_id: CHAIN_ID,
                ..EasConfig::default()
            },
            ..PublishingConfig::default()
        };
        crate::admin::set_publishing_config(config, Now::from_secs(2)).unwrap();
        s
    }

    #[tokio::test]
    async fn the_attestation_is_signed_by_the_attester_and_carries_the_batch() {
        let s = setup_eas().await;
        let reply = attest_scrobble_batch(&s.rt, batch("cid-1"), now())
            .await
            .unwrap();
        let addresses = publisher_addresses(&s.rt).await.unwrap();
        let attester = address::parse(&addresses.scrobble_attester).unwrap();
        assert!(attester != s.operator && attester != s.sponsor);

        let made = s.tempo.attestations();
        assert_eq!(made.len(), 1);
        let (from, call) = &made[0];
        assert_eq!(*from, attester);
        assert_eq!(hex32::b256_hex(&call.request.schema), SCHEMA);
        let data = &call.request.data;
        assert_eq!(data.recipient, address::parse(USER).unwrap());
        assert_eq!(data.expirationTime, 0);
        assert!(data.revocable);
        assert_eq!(
            data.data.to_vec(),
            attest::batch_data(1_700_000_000, 1_700_000_600, 3, "load-dataitem-id")
        );
        let sent = s.tempo.received();
        assert_eq!(reply.tx_hash, hex32::b256_hex(&sent[0].hash));
        let uid = heaven_eth::keccak256([sent[0].hash.as_slice(), b"uid"].concat());
        assert_eq!(reply.attestation_uid, hex32::b256_hex(&uid));

        // A retry never attests twice.
        let again = attest_scrobble_batch(&s.rt, batch("cid-1"), now())
            .await
            .unwrap();
        assert_eq!(again, reply);
        assert_eq!(s.tempo.attestations().len(), 1);
        assert!(audit::check_against_log().is_ok());
    }

    #[tokio::test]
    async fn attestations_are_refused_while_disabled() {
        let s = setup().await;
        assert_eq!(
            attest_scrobble_batch(&s.rt, batch("cid-1"), now()).await,
            Err(PublishError::NotConfigured(
                "Scrobble attestation is not configured".into()
            ))
        );
    }
}

mod story_registration {
    use super::*;
    use crate::endpoints::publishing::{RegisterStoryIpRequest, StoryTerms};
    use crate::state::publishing::StoryConfig;
    use crate::testing::tempo::{StoryContracts, attached_terms_id, fake_ip_id};
    use heaven_eth::U256;
    use heaven_eth::abi::{
        mintAndRegisterIpAndAttachPILTermsCall, mintAndRegisterIpAndMakeDerivativeCall,
    };

    const STORY_CHAIN: u64 = 1315;

    fn contracts() -> StoryContracts {
        let d = StoryConfig::default();
        let a = |s: &str| address::parse(s).unwrap();
        StoryContracts {
            spg_nft: a(&d.spg_nft),
            workflows: a(&d.license_attachment_workflows),
            derivative_workflows: a(&d.derivative_workflows),
            ip_asset_registry: a(&d.ip_asset_registry),
            license_registry: a(&d.license_registry),
        }
    }

    /// The fake node plays Story too (chain id 1315 for the test: a separate fake).
    async fn setup_story() -> (Setup, FakeTempo) {
        let s = setup().await;
        let node = FakeTempo::start(
            STORY_CHAIN,
            address::parse(SCROBBLE).unwrap(),
            address::parse(CONTENT_REGISTRY).unwrap(),
        )
        .await;
        node.with_story(contracts());
        let config = PublishingConfig {
            story: StoryConfig {
                enabled: true,
                rpc_url: node.url(),
                receipt_polls: 3,
                ..StoryConfig::default()
            },
            ..PublishingConfig::default()
        };
        crate::admin::set_publishing_config(config, Now::from_secs(2)).unwrap();
        (s, node)
    }

    fn original(id: &str) -> RegisterStoryIpRequest {
        RegisterStoryIpRequest {
            request_id: id.into(),
            recipient: USER.into(),
            ip_metadata_uri: "ar://ip".into(),
            ip_metadata_hash: format!("0x{}", "AB".repeat(32)),
            nft_metadata_uri: "ar://nft".into(),
            nft_metadata_hash: format!("0x{}", "cd".repeat(32)),
            allow_duplicates: true,
            terms: StoryTerms::Original {
                commercial_rev_share: 10,
                default_minting_fee: "0".into(),
            },
        }
    }

    #[tokio::test]
    async fn an_original_is_minted_with_the_originals_terms_by_the_story_sponsor() {
        let (s, node) = setup_story().await;
        let reply = register_story_ip(&s.rt, original("job-1"), now())
            .await
            .unwrap();
        let addresses = publisher_addresses(&s.rt).await.unwrap();
        let sponsor = address::parse(&addresses.story_sponsor).unwrap();
        let mints = node.mints();
        assert_eq!(mints.len(), 1);
        assert_eq!(mints[0].0, sponsor);
        let call = mintAndRegisterIpAndAttachPILTermsCall::abi_decode(&mints[0].1).unwrap();
        let c = contracts();
        assert_eq!(call.spgNftContract, c.spg_nft);
        assert_eq!(call.recipient, address::parse(USER).unwrap());
        assert_eq!(call.ipMetadata.ipMetadataURI, "ar://ip");
        assert_eq!(
            hex32::b256_hex(&call.ipMetadata.ipMetadataHash),
            format!("0x{}", "ab".repeat(32))
        );
        assert!(call.allowDuplicates);
        let terms = &call.licenseTermsData[0].terms;
        assert_eq!(terms.commercialRevShare, 10_000_000);
        assert!(terms.commercialUse && terms.derivativesAllowed && !terms.derivativesApproval);
        assert_eq!(
            address::to_checksum(&terms.currency),
            StoryConfig::default().wip_token
        );

        let ip = fake_ip_id(STORY_CHAIN, c.spg_nft, U256::from(1));
        assert_eq!(reply.token_id, "1");
        assert_eq!(reply.ip_id, address::to_checksum(&ip));
        assert_eq!(
            reply.license_terms_ids,
            vec![attached_terms_id(1).to_string()]
        );
        assert_eq!(reply.tx_hash, hex32::b256_hex(&node.received()[0].hash));

        // A retry never mints again.
        let again = register_story_ip(&s.rt, original("job-1"), now())
            .await
            .unwrap();
        assert_eq!(again, reply);
        assert_eq!(node.mints().len(), 1);
        assert!(audit::check_against_log().is_ok());
    }

    #[tokio::test]
    async fn a_derivative_links_its_parents_and_requests_are_checked() {
        let (s, node) = setup_story().await;
        let parent = "0x2222222222222222222222222222222222222222";
        let derivative = RegisterStoryIpRequest {
            terms: StoryTerms::Derivative {
                parent_ip_ids: vec![parent.into()],
                license_terms_ids: vec!["7".into()],
                license_template: "0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316".into(),
                royalty_context: vec![],
                max_minting_fee: "0".into(),
                max_rts: 100_000_000,
                max_revenue_share: 100_000_000,
            },
            ..original("job-2")
        };
        let reply = register_story_ip(&s.rt, derivative.clone(), now())
            .await
            .unwrap();
        assert_eq!(reply.license_terms_ids, vec!["7".to_string()]);
        let call = mintAndRegisterIpAndMakeDerivativeCall::abi_decode(&node.mints()[0].1).unwrap();
        assert_eq!(
            call.derivData.parentIpIds,
            vec![address::parse(parent).unwrap()]
        );
        assert_eq!(call.derivData.licenseTermsIds, vec![U256::from(7)]);

        let mismatched = RegisterStoryIpRequest {
            terms: StoryTerms::Derivative {
                parent_ip_ids: vec![parent.into()],
                license_terms_ids: vec!["7".into(), "8".into()],
                license_template: "0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316".into(),
                royalty_context: vec![],
                max_minting_fee: "0".into(),
                max_rts: 0,
                max_revenue_share: 0,
            },
            ..original("job-3")
        };
        assert_eq!(
            register_story_ip(&s.rt, mismatched, now()).await,
            Err(PublishError::InvalidRequest {
                field: "license_terms_ids".into(),
                reason: "parentIpIds and licenseTermsIds must have the same length".into(),
            })
        );
        let bad_share = RegisterStoryIpRequest {
            terms: StoryTerms::Original {
                commercial_rev_share: 101,
                default_minting_fee: "0".into(),
            },
            ..original("job-4")
        };
        assert_eq!(
            register_story_ip(&s.rt, bad_share, now()).await,
            Err(PublishError::InvalidRequest {
                field: "commercial_rev_share".into(),
                reason: "commercialRevShare must be an integer between 0 and 100".into(),
            })
        );
        assert_eq!(node.mints().len(), 1);
    }
}
