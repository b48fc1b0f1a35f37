//! Every error row of §1.11 for the routes built here, over real HTTP: status and body, in
//! the original's check order, plus the access checks (header, Self identity, bans) and the
//! 24 h quotas.

mod common;

use common::{Media, OTHER, Options, STRANGER, USER, audio, audio_form, sha256};
use media::bans::UploadBan;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

fn err(text: &str) -> Value {
    json!({ "error": text })
}

fn file(bytes: Vec<u8>, name: &str, ct: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(ct)
        .unwrap()
}

#[tokio::test]
async fn access_needs_an_address_a_self_identity_and_no_ban() {
    let media = Media::start().await;
    let paths = [
        (Method::POST, "/api/music/preflight".to_owned()),
        (Method::POST, "/api/music/publish/start".to_owned()),
        (Method::GET, "/api/music/publish/music_x".to_owned()),
        (Method::POST, "/api/music/publish/music_x/anchor".to_owned()),
    ];
    for (method, path) in &paths {
        let (status, body) = media
            .send(media.http.request(method.clone(), media.url(path)))
            .await;
        assert_eq!(
            (status, body),
            (401, err("Missing or invalid X-User-Address header")),
            "{path}"
        );
        let (status, body) = media
            .send(media.as_user(method.clone(), path, "0x123"))
            .await;
        assert_eq!(
            (status, body),
            (401, err("Missing or invalid X-User-Address header"))
        );
        let (status, body) = media
            .send(media.as_user(method.clone(), path, STRANGER))
            .await;
        assert_eq!(
            (status, body),
            (
                403,
                err("Self.xyz verification required for music upload/publish")
            )
        );
    }
    let now = media.state.now();
    let ban = |id, active, expires_at, created_at, code: &str| UploadBan {
        ban_id: id,
        user_address: USER.to_owned(),
        self_nullifier: None,
        reason_code: code.to_owned(),
        reason: format!("reason {code}"),
        evidence_json: None,
        active,
        expires_at,
        created_by: Some("ops".into()),
        created_at,
    };
    media
        .state
        .bans()
        .put(&ban(1, true, Some(now - 1), now - 50, "expired"))
        .await
        .unwrap();
    media
        .state
        .bans()
        .put(&ban(2, false, None, now - 40, "inactive"))
        .await
        .unwrap();
    let (status, _) = media.job(USER, "music_x").await;
    assert_eq!(status, 404, "expired and inactive bans do not block");
    media
        .state
        .bans()
        .put(&ban(3, true, None, now - 30, "older"))
        .await
        .unwrap();
    media
        .state
        .bans()
        .put(&ban(4, true, Some(now + 60), now - 20, "spam"))
        .await
        .unwrap();
    let (status, body) = media.job(USER, "music_x").await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "Upload access blocked", "reasonCode": "spam", "reason": "reason spam"})
        )
    );
    // The identity canister unreachable: 503 with Retry-After.
    media.identity.go_down();
    let response = media
        .as_user(Method::GET, "/api/music/publish/x", OTHER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
}

#[tokio::test]
async fn uploads_not_configured_answer_the_original_500s() {
    let media = Media::start_with(Options {
        uploads_configured: false,
        ..Options::default()
    })
    .await;
    let cases = [
        (
            "/api/music/publish/start",
            "Music upload not configured (LOAD_S3_AGENT_API_KEY)",
        ),
        (
            "/api/music/publish/j/artifacts/stage",
            "Music artifact upload not configured (LOAD_S3_AGENT_API_KEY)",
        ),
        (
            "/api/music/publish/j/anchor",
            "Arweave anchor not configured (LOAD_S3_AGENT_API_KEY)",
        ),
        (
            "/api/music/publish/j/metadata",
            "Music metadata anchor not configured (LOAD_S3_AGENT_API_KEY)",
        ),
    ];
    for (path, text) in cases {
        let (status, body) = media.send(media.as_user(Method::POST, path, USER)).await;
        assert_eq!((status, body), (500, err(text)), "{path}");
    }
    for (path, text) in [
        (
            "/api/load/upload",
            "Load upload not configured (LOAD_S3_AGENT_API_KEY)",
        ),
        (
            "/api/arweave/cover",
            "Arweave cover upload not configured (LOAD_S3_AGENT_API_KEY)",
        ),
    ] {
        let (status, body) = media.send(media.http.post(media.url(path))).await;
        assert_eq!((status, body), (500, err(text)), "{path}");
    }
}

#[tokio::test]
async fn start_errors_in_order() {
    let media = Media::start().await;
    let a = audio(100, 1);
    let cases: Vec<(Form, u16, Value)> = vec![
        (
            Form::new().text("publishType", "original"),
            400,
            err("Missing file form field"),
        ),
        (
            Form::new().text("file", "not a file"),
            400,
            err("Missing file form field"),
        ),
        (
            Form::new().part("file", file(vec![], "a.mp3", "audio/mpeg")),
            400,
            err("File is empty"),
        ),
        (
            Form::new().part("file", file(a.clone(), "a.txt", "text/plain")),
            400,
            err("Unsupported audio content type: text/plain"),
        ),
        (
            Form::new()
                .part("file", file(a.clone(), "a.bin", "application/octet-stream"))
                .text("contentType", "audio/x-custom")
                .text("publishType", "remix"),
            400,
            err("publishType must be original, derivative, or cover"),
        ),
        (
            Form::new()
                .part("file", file(a.clone(), "a.mp3", "audio/mpeg"))
                .text("durationS", "1.5"),
            400,
            err("durationS must be a positive integer when provided"),
        ),
        (
            Form::new()
                .part("file", file(a.clone(), "a.mp3", "audio/mpeg"))
                .text("audioSha256", "abc"),
            400,
            err("audioSha256 must be a 64-character lowercase hex string"),
        ),
        (
            Form::new()
                .part("file", file(a.clone(), "a.mp3", "audio/mpeg"))
                .text("publishType", "Original"),
            400,
            err("audioSha256 is required for original publishType"),
        ),
        (
            Form::new()
                .part("file", file(a.clone(), "a.mp3", "audio/mpeg"))
                .text("tags", serde_json::to_string(&vec![json!({}); 51]).unwrap()),
            400,
            err("tags must contain at most 50 entries"),
        ),
        (
            Form::new()
                .part("file", file(a.clone(), "a.mp3", "audio/mpeg"))
                .text("tags", "{\"a\":1}"),
            400,
            err("tags must be valid JSON array"),
        ),
    ];
    for (form, status, body) in cases {
        assert_eq!(
            media.start_job(USER, form).await,
            (status, body.clone()),
            "{body}"
        );
    }
    // A body that is not multipart is the original's uncaught 500.
    let (status, body) = media
        .send(
            media
                .as_user(Method::POST, "/api/music/publish/start", USER)
                .body("x"),
        )
        .await;
    assert_eq!((status, body), (500, err("Internal server error")));
    assert_eq!(media.load.upload_count(), 0);
    // Load refusing the upload: 502 with details, no job.
    media.load.server.reset().await;
    let (status, body) = media.start_job(USER, audio_form(&a, "original")).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "Load agent upload failed");
    assert!(body["details"].as_str().unwrap().contains("404"), "{body}");
    assert!(
        std::fs::read_dir(media.spool_dir())
            .unwrap()
            .next()
            .is_none(),
        "spool emptied"
    );
}

#[tokio::test]
async fn quotas_count_the_last_24_hours_before_the_idempotency_replay() {
    let clock = media::Clock::manual(1_800_000_000);
    let media = Media::start_with(Options {
        clock: clock.clone(),
        ..Options::default()
    })
    .await;
    let form = |seed: u8, key: &str| {
        audio_form(&audio(10, seed), "derivative").text("idempotencyKey", key.to_owned())
    };
    for i in 0..20u8 {
        let (status, body) = media.start_job(USER, form(i, &format!("k{i}"))).await;
        assert_eq!(status, 200, "{body}");
        clock.advance(60);
    }
    let limit = (
        429,
        json!({"error": "Daily publish limit exceeded", "limit": 20}),
    );
    assert_eq!(media.start_job(USER, form(99, "new")).await, limit);
    // Kept from the original: the quota is checked before the idempotent replay.
    assert_eq!(media.start_job(USER, form(0, "k0")).await, limit);
    // Another user has their own quota.
    assert_eq!(media.start_job(OTHER, form(1, "k0")).await.0, 200);
    // A day after the first job, one slot is free again.
    clock.advance(24 * 3600 - 20 * 60 + 1);
    assert_eq!(media.start_job(USER, form(100, "later")).await.0, 200);

    // Bytes: 500 MiB per day, counted from the stored sizes.
    let big = audio(10, 7);
    let (status, body) = media.start_job(OTHER, audio_form(&big, "cover")).await;
    assert_eq!(status, 200, "{body}");
    let id = body["job"]["jobId"].as_str().unwrap().to_owned();
    // Pretend the stored job was large (as imported rows can be).
    let key = format!("media/music/usage/{OTHER}/");
    let page = media.store.list(&key, None, 100).await.unwrap();
    let (usage_key, _) = page.iter().find(|(k, _)| k.ends_with(&id)).unwrap();
    media
        .store
        .put(usage_key, br#"{"fileSize":524287990}"#.to_vec(), None)
        .await
        .unwrap();
    let (status, body) = media
        .start_job(OTHER, audio_form(&audio(11, 8), "cover"))
        .await;
    assert_eq!(
        (status, body),
        (
            429,
            json!({"error": "Daily upload bytes limit exceeded", "limitBytes": 524288000, "usedBytes": 524288000})
        )
    );
}

#[tokio::test]
async fn artifacts_errors_in_order() {
    let media = Media::start().await;
    let id = media.staged_job(USER, &audio(50, 1)).await;
    let path = format!("/api/music/publish/{id}/artifacts/stage");
    let post = |form: Form| media.send(media.as_user(Method::POST, &path, USER).multipart(form));
    assert_eq!(
        media
            .send(
                media
                    .as_user(
                        Method::POST,
                        "/api/music/publish/music_nope/artifacts/stage",
                        USER
                    )
                    .multipart(Form::new())
            )
            .await,
        (404, err("Job not found"))
    );
    // Another user's job is not found either.
    assert_eq!(
        media
            .send(
                media
                    .as_user(Method::POST, &path, OTHER)
                    .multipart(Form::new())
            )
            .await,
        (404, err("Job not found"))
    );
    assert_eq!(
        post(Form::new().text("cover", "x")).await,
        (400, err("cover must be a file when provided"))
    );
    assert_eq!(
        post(Form::new().text("lyricsText", "   ")).await,
        (
            400,
            err("At least one artifact is required (cover and/or lyricsText)")
        )
    );
    assert_eq!(
        post(Form::new().part("cover", file(vec![], "c.png", "image/png"))).await,
        (400, err("Cover file is empty"))
    );
    assert_eq!(
        post(Form::new().part(
            "cover",
            file(vec![0; 10 * 1024 * 1024 + 1], "c.png", "image/png")
        ))
        .await,
        (400, err("Cover file too large: 10485761 > 10485760"))
    );
    assert_eq!(
        post(
            Form::new()
                .part("cover", file(vec![1], "c.png", "image/png"))
                .text("coverContentType", "text/html")
        )
        .await,
        (400, err("Unsupported cover content type: text/html"))
    );
    assert_eq!(
        post(Form::new().text("lyricsText", "a".repeat(256 * 1024 + 1))).await,
        (400, err("lyricsText too large: 262145 > 262144"))
    );
    media.load.server.reset().await;
    let (status, body) = post(Form::new().text("lyricsText", "words")).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "Artifact staging failed");
    assert!(body["details"].is_string());
}

#[tokio::test]
async fn artifacts_and_preflight_refuse_jobs_past_policy() {
    let media = Media::start().await;
    let id = media.passed_job(USER, &audio(60, 2)).await;
    assert_eq!(media.post_action(USER, &id, "anchor").await.0, 200);
    let (status, body) = media.stage_artifacts(USER, &id).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "Cannot stage artifacts from status anchored");
    assert_eq!(body["job"]["jobId"], id);
    let (status, body) = media.preflight(USER, json!({"jobId": id})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "Cannot run preflight from status anchored");
    assert_eq!(body["job"]["status"], "anchored");
}

#[tokio::test]
async fn preflight_errors_in_order() {
    let media = Media::start().await;
    let send_raw = |body: &'static str| {
        media.send(
            media
                .as_user(Method::POST, "/api/music/preflight", USER)
                .header("content-type", "application/json")
                .body(body),
        )
    };
    assert_eq!(send_raw("{nope").await, (400, err("Invalid JSON body")));
    assert_eq!(send_raw("{}").await, (400, err("jobId is required")));
    assert_eq!(
        send_raw(r#"{"jobId":"  "}"#).await,
        (400, err("jobId is required"))
    );
    assert_eq!(
        media
            .preflight(USER, json!({"jobId": "music_missing"}))
            .await,
        (404, err("Job not found"))
    );
    let form = Form::new().part("file", file(audio(10, 3), "a.mp3", "audio/mpeg"));
    let (_, body) = media.start_job(USER, form).await;
    let untyped = body["job"]["jobId"].as_str().unwrap().to_owned();
    assert_eq!(
        media.preflight(USER, json!({"jobId": untyped})).await,
        (
            400,
            err("publishType is required (original, derivative, cover)")
        )
    );
    // Fixed: an unknown type is refused before the job moves (the original left it checking).
    assert_eq!(
        media
            .preflight(USER, json!({"jobId": untyped, "publishType": "remix"}))
            .await,
        (
            400,
            err("publishType must be original, derivative, or cover")
        )
    );
    assert_eq!(media.job(USER, &untyped).await.1["job"]["status"], "staged");
    let d = |extra: Value| {
        let mut body = json!({"jobId": untyped, "publishType": "derivative"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(
        media
            .preflight(USER, d(json!({"parentIpIds": "0x1"})))
            .await,
        (400, err("parentIpIds must be an array of strings"))
    );
    assert_eq!(
        media
            .preflight(USER, d(json!({"licenseTermsIds": [-1]})))
            .await,
        (
            400,
            err("licenseTermsIds must be an array of positive integers (string or number)")
        )
    );
    assert_eq!(
        media
            .preflight(USER, d(json!({"parentIpIds": ["0x12"]})))
            .await,
        (
            400,
            err("parentIpIds must contain valid 0x-prefixed addresses")
        )
    );
    // The staged audio unreadable: back to staged, 502 with the whole answer.
    let id = media.staged_job(USER, &audio(70, 4)).await;
    media.load.blobs.lock().unwrap().clear();
    let (status, body) = media.preflight(USER, json!({"jobId": id})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"],
        "Hash verification unavailable; retry preflight"
    );
    assert_eq!(body["job"]["status"], "staged");
    assert_eq!(body["job"]["policy"]["decision"], "pending");
    assert_eq!(
        body["job"]["policy"]["reasonCode"],
        "hash_verification_unavailable"
    );
    assert_eq!(
        body["checks"],
        json!({"hashDuplicate": "failed_unavailable", "acoustid": "deferred_not_implemented"})
    );
    assert_eq!(body["duplicateCandidates"], json!([]));
}

#[tokio::test]
async fn anchor_errors_in_order() {
    let media = Media::start().await;
    assert_eq!(
        media.post_action(USER, "music_missing", "anchor").await,
        (404, err("Job not found"))
    );
    let id = media.staged_job(USER, &audio(80, 5)).await;
    assert_eq!(
        media.post_action(USER, &id, "anchor").await,
        (
            409,
            err("Job must be policy_passed before anchor (current=staged)")
        )
    );
    // Load refusing the post: back to policy_passed with anchor_failed.
    let passed = media.passed_job(OTHER, &audio(90, 6)).await;
    media.load.server.reset().await;
    let (status, body) = media.post_action(OTHER, &passed, "anchor").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "LS3 post-to-arweave failed");
    assert!(
        body["details"]
            .as_str()
            .unwrap()
            .contains("load_post_failed"),
        "{body}"
    );
    let (_, body) = media.job(OTHER, &passed).await;
    assert_eq!(body["job"]["status"], "policy_passed");
    assert_eq!(body["job"]["error"]["code"], "anchor_failed");
}

#[tokio::test]
async fn anchor_of_audio_past_the_free_tier_fails_like_a_refused_post() {
    let media = Media::start().await;
    let id = media.passed_job(USER, &audio(100 * 1024 + 1, 9)).await;
    let (status, body) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(status, 502);
    assert!(
        body["details"].as_str().unwrap().contains("Turbo"),
        "{body}"
    );
    assert_eq!(media.load.post_count().await, 0);
}

#[tokio::test]
async fn metadata_errors_in_order() {
    let media = Media::start().await;
    let post = |id: &str, body: Value| {
        media.send(
            media
                .as_user(
                    Method::POST,
                    &format!("/api/music/publish/{id}/metadata"),
                    USER,
                )
                .json(&body),
        )
    };
    assert_eq!(
        post("music_missing", json!({})).await,
        (404, err("Job not found"))
    );
    let id = media.staged_job(USER, &audio(20, 7)).await;
    let (status, body) = post(&id, json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"],
        "Job must be anchored before metadata anchor (current=staged)"
    );
    assert_eq!(body["job"]["jobId"], id);
    let id = media.passed_job(USER, &audio(21, 8)).await;
    media.post_action(USER, &id, "anchor").await;
    let raw = media
        .send(
            media
                .as_user(
                    Method::POST,
                    &format!("/api/music/publish/{id}/metadata"),
                    USER,
                )
                .body("{"),
        )
        .await;
    assert_eq!(raw, (400, err("Invalid JSON body")));
    assert_eq!(
        post(&id, json!({})).await,
        (400, err("ipMetadataJson is required"))
    );
    assert_eq!(
        post(&id, json!({"ipMetadataJson": " "})).await,
        (400, err("ipMetadataJson must be a non-empty JSON string"))
    );
    assert_eq!(
        post(&id, json!({"ipMetadataJson": "{x"})).await,
        (400, err("ipMetadataJson must be valid JSON"))
    );
    assert_eq!(
        post(&id, json!({"ipMetadataJson": {}, "nftMetadataJson": null})).await,
        (400, err("nftMetadataJson is required"))
    );
    assert_eq!(
        post(
            &id,
            json!({"ipMetadataJson": {"a": "x".repeat(256 * 1024)}, "nftMetadataJson": {}})
        )
        .await,
        (
            400,
            err("Metadata payload too large (max 262144 bytes each)")
        )
    );
    media.load.server.reset().await;
    let (status, body) = post(&id, json!({"ipMetadataJson": {}, "nftMetadataJson": {}})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "Music metadata anchor failed");
    assert_eq!(body["job"]["metadata"]["status"], "failed");
    assert!(body["job"]["metadata"]["error"].is_string());
}

#[tokio::test]
async fn jobs_are_scoped_to_their_owner() {
    let media = Media::start().await;
    let id = media.staged_job(USER, &audio(30, 1)).await;
    assert_eq!(media.job(USER, &id).await.0, 200);
    assert_eq!(media.job(OTHER, &id).await, (404, err("Job not found")));
    assert_eq!(
        media.preflight(OTHER, json!({"jobId": id})).await,
        (404, err("Job not found"))
    );
    assert_eq!(
        media.post_action(OTHER, &id, "anchor").await,
        (404, err("Job not found"))
    );
    assert_eq!(
        media.job(USER, "..%2F..%2Fx").await,
        (404, err("Job not found"))
    );
    let _ = sha256(b"");
}
