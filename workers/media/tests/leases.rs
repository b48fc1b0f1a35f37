//! Leases on jobs in progress: a worker that took a step and died leaves a lease that runs
//! out; the next request (or the sweep) then resumes an anchor or releases a preflight, while
//! a live lease — renewed by the heartbeat of a step still running — is left alone.

mod common;

use std::time::Duration;

use common::{Media, Options, USER, audio};
use media::Clock;
use media::jobs::anchor::{self, AnchorStart};
use media::jobs::model::{JobStatus, LeasedStep};
use media::jobs::recovery;

async fn manual(lease_secs: u64) -> (Media, Clock) {
    let clock = Clock::manual(1_800_000_000);
    let media = Media::start_with(Options {
        clock: clock.clone(),
        lease_secs,
        ..Options::default()
    })
    .await;
    (media, clock)
}

#[tokio::test]
async fn an_anchor_whose_worker_died_is_taken_over_after_the_lease() {
    let (media, clock) = manual(60).await;
    let id = media.passed_job(USER, &audio(500, 1)).await;
    // A worker takes the anchor step and dies before posting.
    let taken = anchor::begin(&media.state, USER, &id, "dead-worker")
        .await
        .unwrap();
    assert!(matches!(taken, AnchorStart::Run(_)));
    let (_, body) = media.job(USER, &id).await;
    assert_eq!(body["job"]["status"], "anchoring");
    // Within the lease: answered as in progress, nothing posted.
    let (status, body) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(
        (status, &body["job"]["status"]),
        (200, &serde_json::json!("anchoring"))
    );
    assert_eq!(recovery::sweep(&media.state).await.unwrap().touched(), 0);
    assert_eq!(media.load.post_count().await, 0);
    // After it: the next anchor call takes over and finishes.
    clock.advance(61);
    let (status, body) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "anchored");
    assert_eq!(media.load.post_count().await, 1);
    let stored = media.state.jobs().get(USER, &id).await.unwrap().unwrap();
    assert!(stored.job.lease.is_none());
}

#[tokio::test]
async fn the_sweep_resumes_anchors_and_releases_preflights() {
    let (media, clock) = manual(60).await;
    let anchoring = media.passed_job(USER, &audio(501, 2)).await;
    anchor::begin(&media.state, USER, &anchoring, "dead")
        .await
        .unwrap();
    // A preflight that died in `checking`.
    let checking = media.staged_job(USER, &audio(502, 3)).await;
    media
        .state
        .jobs()
        .mark_leased(USER, &checking)
        .await
        .unwrap();
    media
        .state
        .jobs()
        .update(USER, &checking, |job| {
            job.status = JobStatus::Checking;
            job.lease = Some(media::jobs::lease::lease_for(
                &media.state,
                LeasedStep::Preflight,
                "dead",
                JobStatus::Staged,
            ));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(recovery::sweep(&media.state).await.unwrap().touched(), 0);
    clock.advance(61);
    let outcome = recovery::sweep(&media.state).await.unwrap();
    assert_eq!((outcome.resumed, outcome.released), (1, 1));
    let (_, body) = media.job(USER, &anchoring).await;
    assert_eq!(body["job"]["status"], "anchored");
    let (_, body) = media.job(USER, &checking).await;
    assert_eq!(body["job"]["status"], "staged");
    assert_eq!(body["job"]["error"]["code"], "preflight_interrupted");
    // The lease index is empty again; a second sweep finds nothing.
    assert!(media.state.jobs().leased(None).await.unwrap().is_empty());
    assert_eq!(recovery::sweep(&media.state).await.unwrap().touched(), 0);
    // The released job runs preflight again (and the interruption is cleared).
    media.stage_artifacts(USER, &checking).await;
    let (status, body) = media
        .preflight(
            USER,
            serde_json::json!({"jobId": checking, "fingerprint": "f"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "policy_passed");
    assert_eq!(body["job"]["error"], serde_json::json!(null));
}

#[tokio::test]
async fn a_running_anchor_keeps_its_lease_alive() {
    // System time, a 3 s lease renewed every second while Load hangs; 4 s pass.
    let media = Media::start_with(Options {
        lease_secs: 3,
        ..Options::default()
    })
    .await;
    let id = media.passed_job(USER, &audio(503, 4)).await;
    media.load.set_post_delay(Duration::from_secs(3600));
    let url = media.url(&format!("/api/music/publish/{id}/anchor"));
    let client = media.http.clone();
    let running = tokio::spawn(async move {
        let _ = client.post(url).header("x-user-address", USER).send().await;
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while media.load.post_count().await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "anchor never posted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(recovery::sweep(&media.state).await.unwrap().touched(), 0);
    let (status, body) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(
        (status, &body["job"]["status"]),
        (200, &serde_json::json!("anchoring"))
    );
    assert_eq!(
        media.load.post_count().await,
        1,
        "no second post while the first runs"
    );
    running.abort();
}
