//! Idempotency keys of `publish/start`, unique per user: concurrent starts with one key
//! upload once and all answer the same job (the original uploaded twice and answered 500); a
//! replay answers `existing: true`; a failed upload frees the key; a reservation whose
//! uploader died is taken over once its lease ran out, keeping the job id.

mod common;

use std::time::Duration;

use common::{Media, OTHER, Options, USER, audio, audio_form};
use media::Clock;
use media::jobs::idempotency::Claim;

#[tokio::test]
async fn concurrent_starts_with_one_key_upload_once_and_answer_one_job() {
    let media = Media::start().await;
    media.load.set_upload_delay(Duration::from_millis(500));
    let starts = (0..8u8).map(|i| {
        // Different bytes per request, so the blob store's dedup cannot hide a second upload.
        let form = audio_form(&audio(2000, i), "derivative");
        let request = media
            .as_user(reqwest::Method::POST, "/api/music/publish/start", USER)
            .header("idempotency-key", "same-key")
            .multipart(form);
        media.send(request)
    });
    let answers = futures_util::future::join_all(starts).await;
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        ids.insert(body["job"]["jobId"].as_str().unwrap().to_owned());
        if body["existing"] == false {
            fresh += 1;
        }
        assert_eq!(body["job"]["idempotencyKey"], "same-key");
    }
    assert_eq!(ids.len(), 1, "one job for one key: {ids:?}");
    assert_eq!(fresh, 1, "exactly one start created it");
    assert_eq!(media.load.upload_count(), 1, "uploaded once");

    // The same key of another user is another job.
    let (status, body) = media
        .send(
            media
                .as_user(reqwest::Method::POST, "/api/music/publish/start", OTHER)
                .multipart(audio_form(&audio(10, 1), "cover").text("idempotencyKey", "same-key")),
        )
        .await;
    assert_eq!(
        (status, &body["existing"]),
        (200, &serde_json::json!(false))
    );
    assert!(!ids.contains(body["job"]["jobId"].as_str().unwrap()));
}

#[tokio::test]
async fn a_replay_answers_the_job_and_a_failed_upload_frees_the_key() {
    let media = Media::start().await;
    let form = || audio_form(&audio(100, 1), "cover").text("idempotencyKey", "  k1  ");
    let (_, first) = media.start_job(USER, form()).await;
    let (status, replay) = media.start_job(USER, form()).await;
    assert_eq!(status, 200);
    assert_eq!(replay["existing"], true);
    assert_eq!(replay["job"], first["job"]);
    assert_eq!(media.load.upload_count(), 1);

    // The header wins over the form field and is cut to 128 characters.
    let long = "h".repeat(200);
    let request = media
        .as_user(reqwest::Method::POST, "/api/music/publish/start", USER)
        .header("idempotency-key", long.clone())
        .multipart(audio_form(&audio(100, 2), "cover").text("idempotencyKey", "k1"));
    let (_, body) = media.send(request).await;
    assert_eq!(body["existing"], false);
    assert_eq!(body["job"]["idempotencyKey"], "h".repeat(128));

    // Load down: 502 and the key stays free; the next start with it uploads.
    media.load.server.reset().await;
    let (status, _) = media
        .start_job(
            USER,
            audio_form(&audio(100, 3), "cover").text("idempotencyKey", "k2"),
        )
        .await;
    assert_eq!(status, 502);
    assert!(
        media
            .state
            .idempotency()
            .existing(USER, "k2")
            .await
            .unwrap()
            .is_none(),
        "no job for the key"
    );
    let now = media.state.now();
    let claim = media
        .state
        .idempotency()
        .claim(USER, "k2", "someone", "music_new", now, now + 10)
        .await
        .unwrap();
    assert_eq!(
        claim,
        Claim::Upload {
            job_id: "music_new".into()
        },
        "the reservation was released"
    );
}

#[tokio::test]
async fn a_dead_uploaders_reservation_is_taken_over_with_its_job_id() {
    let clock = Clock::manual(1_800_000_000);
    let media = Media::start_with(Options {
        clock: clock.clone(),
        lease_secs: 30,
        ..Options::default()
    })
    .await;
    let now = clock.now();
    let dead = "music_0123456789abcdef0123456789abcdef";
    let claim = media
        .state
        .idempotency()
        .claim(USER, "k", "dead-worker", dead, now, now + 30)
        .await
        .unwrap();
    assert_eq!(
        claim,
        Claim::Upload {
            job_id: dead.into()
        }
    );
    // While the lease holds, another claimer waits.
    let claim = media
        .state
        .idempotency()
        .claim(USER, "k", "other", "music_x", now + 5, now + 35)
        .await
        .unwrap();
    assert_eq!(
        claim,
        Claim::Wait {
            job_id: dead.into()
        }
    );
    clock.advance(31);
    let (status, body) = media
        .start_job(
            USER,
            audio_form(&audio(64, 9), "cover").text("idempotencyKey", "k"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["existing"], false);
    assert_eq!(body["job"]["jobId"], dead);
    assert_eq!(media.load.upload_count(), 1);
}
