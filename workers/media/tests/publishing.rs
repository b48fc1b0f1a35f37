//! Finalize (Tempo) and register (Story) over real HTTP, with the chain writes built and
//! signed by the real identity canister (run natively, as the local stack does) and sent to
//! the fake Tempo / Story nodes, which recover every transaction's signer and apply it only
//! for the contract's role. Android's flow (start → artifacts → preflight → finalize), the
//! cached replay, a failed write retried with the same request, the lease on `registering`
//! and every error row of the two routes.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use canister_bridge::{BridgeError, PublishingClient, PublishingError};
use common::{Media, OTHER, Options, USER, audio};
use heaven_eth::abi::{SolCall, registerContentForCall, registerTracksBatchCall};
use heaven_eth::{Address, address, hex32};
use identity_canister::endpoints::publishing::{
    AttestScrobbleBatchReply, AttestScrobbleBatchRequest, FinalizeTrackReply, FinalizeTrackRequest,
    RegisterStoryIpReply, RegisterStoryIpRequest,
};
use identity_canister::native::{NativeIdentity, NativeSettings};
use identity_canister::state::PublishingConfig;
use identity_canister::state::publishing::StoryConfig;
use identity_canister::testing::tempo::{FakeTempo, StoryContracts};
use media::jobs::model::{JobStatus, Lease, LeasedStep};
use serde_json::{Value, json};

/// The in-process identity canister as the media worker's publishing signer (the local
/// stack's `InProcessPublishing`, which lives in `heaven`).
struct NativeSigner(NativeIdentity);

fn thread_error(e: identity_canister::native::NativeIdentityError) -> PublishingError {
    PublishingError::Bridge(BridgeError::Unreachable(e.to_string()))
}

#[async_trait]
impl PublishingClient for NativeSigner {
    async fn finalize_track(
        &self,
        request: FinalizeTrackRequest,
    ) -> Result<FinalizeTrackReply, PublishingError> {
        self.0
            .finalize_track(request)
            .await
            .map_err(thread_error)?
            .map_err(PublishingError::Canister)
    }

    async fn attest_scrobble_batch(
        &self,
        request: AttestScrobbleBatchRequest,
    ) -> Result<AttestScrobbleBatchReply, PublishingError> {
        self.0
            .attest_scrobble_batch(request)
            .await
            .map_err(thread_error)?
            .map_err(PublishingError::Canister)
    }

    async fn register_story_ip(
        &self,
        request: RegisterStoryIpRequest,
    ) -> Result<RegisterStoryIpReply, PublishingError> {
        self.0
            .register_story_ip(request)
            .await
            .map_err(thread_error)?
            .map_err(PublishingError::Canister)
    }
}

const SCROBBLE_V4: &str = "0xe00e82086480E61AaC8d5ad8B05B56A582dD0000";
const CONTENT_REGISTRY: &str = "0x2A3beA895AE5bb4415c436155cbA15a97ACc2C77";
/// §6.7's vector: trackId of ("Song", "Artist", "").
const SONG_TRACK_ID: &str = "0xbe1e239c4f817721fde86c13370ddbe0ae38f99a9eb69f7da4c427712d45a170";
const SONG_PAYLOAD: &str = "0x73e550ec9fa56c9130d132fc7a2e89e774664e7e83b19a583a1594f5d3872ea4";

/// The worker, the canister and the two fake chains.
struct Stack {
    media: Media,
    tempo: FakeTempo,
    story: FakeTempo,
    operator: Address,
    sponsor: Address,
    story_sponsor: Address,
    _canister_dir: tempfile::TempDir,
}

fn story_contracts() -> StoryContracts {
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

async fn stack(lease_secs: u64) -> Stack {
    let tempo = FakeTempo::start(
        42431,
        address::parse(SCROBBLE_V4).unwrap(),
        address::parse(CONTENT_REGISTRY).unwrap(),
    )
    .await;
    let story = FakeTempo::start(
        1315,
        address::parse(SCROBBLE_V4).unwrap(),
        address::parse(CONTENT_REGISTRY).unwrap(),
    )
    .await;
    story.with_story(story_contracts());
    let dir = tempfile::tempdir().unwrap();
    let settings = NativeSettings {
        publishing: PublishingConfig {
            story: StoryConfig {
                enabled: true,
                rpc_url: story.url(),
                receipt_polls: 3,
                ..StoryConfig::default()
            },
            ..tempo.publishing_config()
        },
        ..NativeSettings::default()
    };
    let canister = NativeIdentity::start(dir.path(), settings).unwrap();
    let roles = canister.publisher_addresses().await.unwrap().unwrap();
    let operator = address::parse(&roles.tempo_operator).unwrap();
    let sponsor = address::parse(&roles.tempo_sponsor).unwrap();
    let story_sponsor = address::parse(&roles.story_sponsor).unwrap();
    tempo.authorize(operator, sponsor);
    let media = Media::start_with(Options {
        lease_secs,
        publishing: Some(Arc::new(NativeSigner(canister))),
        ..Options::default()
    })
    .await;
    Stack {
        media,
        tempo,
        story,
        operator,
        sponsor,
        story_sponsor,
        _canister_dir: dir,
    }
}

fn song() -> Value {
    json!({ "title": " Song ", "artist": "Artist" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn androids_flow_ends_registered_with_transactions_signed_by_the_canister_roles() {
    let s = stack(120).await;
    let id = s.media.passed_job(USER, &audio(4096, 1)).await;
    let (_, job) = s.media.job(USER, &id).await;
    let staged = job["job"]["upload"]["stagedDataitemId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cover = job["job"]["upload"]["cover"]["stagedDataitemId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = s.media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(status, 200, "{body}");
    let registration = &body["registration"];
    assert_eq!(registration["chainId"], 42431);
    assert_eq!(registration["trackId"], SONG_TRACK_ID);
    assert_eq!(registration["trackPayload"], SONG_PAYLOAD);
    assert_eq!(registration["pieceCid"], staged.as_str());
    assert_eq!(registration["datasetOwner"], USER);
    assert_eq!(registration["algo"], 1);
    assert_eq!(registration["durationS"], 0);
    assert_eq!(registration["coverRef"], format!("ls3://{cover}"));
    assert_eq!(
        (
            &registration["trackRegistered"],
            &registration["contentRegistered"],
            &registration["coverSet"]
        ),
        (&json!(true), &json!(true), &json!(true))
    );
    assert_eq!(registration["tempoTxHash"], registration["contentTxHash"]);
    assert_eq!(body["job"]["status"], "registered");
    assert_eq!(
        body["job"]["registration"]["tempoTxHash"],
        registration["contentTxHash"]
    );
    assert_eq!(body["job"]["error"], Value::Null);

    // Three transactions, each recovered to the role that may send it.
    let sent = s.tempo.received();
    let signers: Vec<_> = sent.iter().map(|t| t.from).collect();
    assert_eq!(signers, vec![s.operator, s.operator, s.sponsor]);
    assert!(sent.iter().all(|t| t.succeeded));
    assert_eq!(
        hex32::b256_hex(&sent[2].hash),
        registration["contentTxHash"].as_str().unwrap()
    );
    let track = s
        .tempo
        .track(&hex32::parse_b256(SONG_TRACK_ID).unwrap())
        .unwrap();
    assert_eq!(
        (track.title.as_str(), track.artist.as_str()),
        ("Song", "Artist")
    );
    assert_eq!(track.cover, format!("ls3://{cover}"));
    let content_id = hex32::parse_b256(registration["contentId"].as_str().unwrap()).unwrap();
    let content = s.tempo.content(&content_id).unwrap();
    assert_eq!(content.piece_cid, staged.as_bytes());
    assert_eq!(content.owner, address::parse(USER).unwrap());

    // Finalized: answered from the job, nothing sent again.
    let (status, again) = s.media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["registration"],
        json!({ "cached": true, "tempoTxHash": registration["tempoTxHash"] })
    );
    assert_eq!(s.tempo.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_restores_the_job_and_the_same_request_finishes_it_later() {
    let s = stack(120).await;
    let id = s.media.passed_job(USER, &audio(2048, 2)).await;
    s.tempo.refuse_next(registerContentForCall::SELECTOR);
    let (status, body) = s.media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "Tempo finalize failed");
    assert!(
        body["details"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(body["job"]["status"], "policy_passed");
    assert_eq!(body["job"]["error"]["code"], "tempo_finalize_failed");
    let track_txs = s.tempo.received().len();

    assert_eq!(
        track_txs, 2,
        "the track and its cover were mined before the refusal"
    );

    let (status, body) = s.media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "registered");
    assert_eq!(body["job"]["error"], Value::Null);
    // The track was registered once; the content once, by the sponsor, on the retry.
    let sent = s.tempo.received();
    let selector = |t: &identity_canister::testing::tempo::Received| t.tx.data[..4].to_vec();
    let tracks = sent
        .iter()
        .filter(|t| selector(t) == registerTracksBatchCall::SELECTOR)
        .count();
    let contents: Vec<_> = sent
        .iter()
        .filter(|t| selector(t) == registerContentForCall::SELECTOR)
        .collect();
    assert_eq!(tracks, 1, "{sent:?}");
    assert_eq!(contents.len(), 1, "{sent:?}");
    assert_eq!(contents[0].from, s.sponsor);
    assert_eq!(
        body["registration"]["contentTxHash"],
        hex32::b256_hex(&contents[0].hash)
    );
}

/// Writes a `registering` lease owned by another worker on the job, expiring at `until`.
async fn lease_elsewhere(media: &Media, id: &str, until: i64) {
    media
        .state
        .jobs()
        .update(USER, id, |job| {
            job.lease = Some(Lease {
                step: LeasedStep::Register,
                owner: "another-worker".into(),
                until,
                release_to: job.status,
            });
            job.status = JobStatus::Registering;
            Ok(())
        })
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_registering_lease_answers_in_progress_and_an_expired_one_is_taken_over() {
    let s = stack(120).await;
    let id = s.media.passed_job(USER, &audio(1024, 3)).await;
    let now = s.media.state.now();
    lease_elsewhere(&s.media, &id, now + 60).await;
    let (status, body) = s.media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "Finalize already in progress");
    assert_eq!(body["job"]["status"], "registering");
    assert!(s.tempo.received().is_empty());

    // The other worker died: its lease ran out, this request resumes the step.
    s.media
        .state
        .jobs()
        .update(USER, &id, |job| {
            job.lease.as_mut().unwrap().until = now - 1;
            Ok(())
        })
        .await
        .unwrap();
    let (status, body) = s.media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "registered");
    let stored = s.media.state.jobs().get(USER, &id).await.unwrap().unwrap();
    assert_eq!(stored.job.lease, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalize_error_rows_answer_as_the_original() {
    let s = stack(120).await;
    let (status, body) = s
        .media
        .post_json(USER, "music_missing", "finalize", song())
        .await;
    assert_eq!((status, body), (404, json!({"error": "Job not found"})));

    let staged = s.media.staged_job(USER, &audio(512, 4)).await;
    let (status, body) = s.media.post_json(USER, &staged, "finalize", song()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["error"],
        "Job must be policy_passed or anchored before finalize (current=staged)"
    );
    assert_eq!(body["job"]["jobId"], staged.as_str());

    let id = s.media.passed_job(USER, &audio(512, 5)).await;
    // Jobs are the caller's only.
    let (status, _) = s.media.post_json(OTHER, &id, "finalize", song()).await;
    assert_eq!(status, 404);
    let bad = [
        (json!({"artist": "A"}), "title is required"),
        (
            json!({"title": "T", "artist": "A", "durationS": 1.5}),
            "durationS must be an integer between 0 and 4294967295",
        ),
        (
            json!({"title": "T", "artist": "A", "datasetOwner": "someone"}),
            "datasetOwner must be a valid 0x address when provided",
        ),
        (
            json!({"title": "T", "artist": "A", "algo": 256}),
            "algo must be an integer between 1 and 255",
        ),
    ];
    for (request, error) in bad {
        let (status, body) = s.media.post_json(USER, &id, "finalize", request).await;
        assert_eq!((status, body), (400, json!({ "error": error })));
    }
    let (status, body) = s
        .media
        .send(
            s.media
                .as_user(
                    reqwest::Method::POST,
                    &format!("/api/music/publish/{id}/finalize"),
                    USER,
                )
                .body("{not json"),
        )
        .await;
    assert_eq!((status, body), (400, json!({"error": "Invalid JSON body"})));
    assert!(
        s.tempo.received().is_empty(),
        "no write for a refused request"
    );
    let (_, job) = s.media.job(USER, &id).await;
    assert_eq!(job["job"]["status"], "policy_passed");
}

#[tokio::test]
async fn without_a_publishing_signer_both_routes_are_not_configured() {
    let media = Media::start().await;
    let id = media.passed_job(USER, &audio(256, 6)).await;
    let (status, body) = media.post_json(USER, &id, "finalize", song()).await;
    assert_eq!(
        (status, body),
        (500, json!({"error": "Tempo finalize is not configured"}))
    );
    let (status, body) = media.post_json(USER, &id, "register", json!({})).await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"error": "Story registration is not configured"})
        )
    );
}

/// An anchored job with anchored metadata.
async fn anchored_with_metadata(media: &Media, seed: u8) -> String {
    let id = media.passed_job(USER, &audio(300, seed)).await;
    let (status, body) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = media
        .post_json(
            USER,
            &id,
            "metadata",
            json!({"ipMetadataJson": {"title": "Song"}, "nftMetadataJson": {"name": "Song"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_mints_once_with_the_story_sponsor_and_answers_the_job_afterwards() {
    let s = stack(120).await;
    let policy_passed = s.media.passed_job(USER, &audio(128, 7)).await;
    let (status, body) = s
        .media
        .post_json(USER, &policy_passed, "register", json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["error"],
        "Job must be anchored before register (current=policy_passed)"
    );

    let id = anchored_with_metadata(&s.media, 8).await;
    let (status, body) = s
        .media
        .post_json(USER, &id, "register", json!({"commercialRevShare": 101}))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "commercialRevShare must be an integer between 0 and 100"})
        )
    );
    let (status, body) = s.media.post_json(USER, &id, "register", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let registration = &body["registration"];
    assert_eq!(registration["tokenId"], "1");
    assert!(registration["blockNumber"].is_string(), "{registration}");
    assert!(
        registration["txHash"]
            .as_str()
            .is_some_and(|h| h.len() == 66)
    );
    assert_eq!(registration["licenseTermsIds"], json!(["1001"]));
    let job = &body["job"];
    assert_eq!(job["status"], "registered");
    assert_eq!(job["registration"]["storyIpId"], registration["ipId"]);
    assert_eq!(job["registration"]["storyTxHash"], registration["txHash"]);
    assert_eq!(job["registration"]["storyLicenseTermsIds"], json!(["1001"]));
    let mints = s.story.mints();
    assert_eq!(mints.len(), 1);
    assert_eq!(mints[0].0, s.story_sponsor);

    let (status, again) = s.media.post_json(USER, &id, "register", json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again.as_object().unwrap().len(), 1, "only the job: {again}");
    assert_eq!(again["job"]["status"], "registered");
    assert_eq!(s.story.mints().len(), 1);
}
