//! The publish flows over real HTTP: Android's (start with `X-User-Pkp` → artifacts/stage →
//! preflight → finalize, here without a publishing signer; with one: tests/publishing.rs),
//! the Story path's anchor and metadata steps (idempotent retries), and the job JSON of §1.11.

mod common;

use common::{Media, USER, audio, audio_form, sha256};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

#[tokio::test]
async fn android_flow_start_artifacts_preflight_then_finalize_without_a_signer() {
    let media = Media::start().await;
    let bytes = audio(40_000, 1);
    // Android still sends X-User-Pkp (contracts §0.2) and an Idempotency-Key header.
    let form = Form::new()
        .part(
            "file",
            Part::bytes(bytes.clone())
                .file_name("audio.bin")
                .mime_str("audio/mpeg")
                .unwrap(),
        )
        .text("publishType", "original")
        .text("audioSha256", sha256(&bytes).to_uppercase())
        .text("durationS", "215")
        .text("fingerprint", "  AQAA-fingerprint  ");
    let (status, body) = media
        .send(
            media
                .http
                .post(media.url("/api/music/publish/start"))
                .header("x-user-pkp", USER.to_uppercase().replace("0X", "0x"))
                .header("idempotency-key", "android-1")
                .multipart(form),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["existing"], false);
    let job = &body["job"];
    let id = job["jobId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("music_") && id.len() == 38, "{id}");
    assert_eq!(job["userAddress"], USER);
    assert_eq!(job["status"], "staged");
    assert_eq!(job["publishType"], "original");
    assert_eq!(job["idempotencyKey"], "android-1");
    assert_eq!(job["upload"]["fileName"], "audio.bin");
    assert_eq!(job["upload"]["contentType"], "audio/mpeg");
    assert_eq!(job["upload"]["fileSize"], 40_000);
    assert_eq!(job["upload"]["audioSha256"], sha256(&bytes));
    assert_eq!(job["upload"]["fingerprint"], "AQAA-fingerprint");
    assert_eq!(job["upload"]["durationS"], 215);
    let staged = job["upload"]["stagedDataitemId"].as_str().unwrap();
    assert_eq!(
        job["upload"]["stagedGatewayUrl"],
        format!("{}/resolve/{staged}", media.load.server.uri())
    );
    // Every member of §1.11, nulls as null.
    assert_eq!(
        job["upload"]["cover"],
        json!({"stagedDataitemId": null, "stagedGatewayUrl": null, "contentType": null, "fileSize": null})
    );
    assert_eq!(
        job["policy"],
        json!({"decision": "pending", "reasonCode": null, "reason": null, "parentIpIds": null, "licenseTermsIds": null})
    );
    assert_eq!(
        job["anchor"],
        json!({"dataitemId": null, "ref": null, "arweaveUrl": null, "arweaveAvailable": false})
    );
    assert_eq!(
        job["metadata"],
        json!({"status": "none", "error": null,
               "ip": {"uri": null, "hash": null, "dataitemId": null},
               "nft": {"uri": null, "hash": null, "dataitemId": null}})
    );
    assert_eq!(
        job["registration"],
        json!({"storyTxHash": null, "storyIpId": null, "storyTokenId": null,
               "storyLicenseTermsIds": null, "storyBlockNumber": null,
               "megaethTxHash": null, "tempoTxHash": null})
    );
    assert_eq!(job["error"], json!(null));
    assert_eq!(job["createdAt"], job["updatedAt"]);
    // The audio went to Load as the client sent it.
    let uploads = media.load.requests.lock().unwrap().clone();
    assert_eq!(uploads.len(), 1);
    let file = uploads[0].iter().find(|p| p.0 == "file").unwrap();
    assert_eq!(file.1.as_deref(), Some("audio.bin"));
    assert_eq!(file.3, bytes);

    let (status, body) = media.stage_artifacts(USER, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cached"], false);
    assert_eq!(body["artifacts"]["cover"]["uploaded"], true);
    assert_eq!(body["artifacts"]["lyrics"]["uploaded"], true);
    assert_eq!(
        body["artifacts"]["lyrics"]["sha256"],
        format!("0x{}", sha256(b"la la la\n"))
    );
    assert_eq!(body["artifacts"]["lyrics"]["bytes"], 9);
    assert_eq!(body["job"]["upload"]["cover"]["contentType"], "image/png");
    assert_eq!(body["job"]["upload"]["cover"]["fileSize"], 9);
    assert_eq!(body["job"]["status"], "staged");
    let lyrics_upload = media.load.requests.lock().unwrap()[2].clone();
    let lyrics_file = lyrics_upload.iter().find(|p| p.0 == "file").unwrap();
    assert_eq!(lyrics_file.1.as_deref(), Some("lyrics.txt"));
    assert_eq!(lyrics_file.2.as_deref(), Some("text/plain; charset=utf-8"));
    // Staging again changes nothing.
    let (status, body) = media.stage_artifacts(USER, &id).await;
    assert_eq!((status, &body["cached"]), (200, &json!(true)), "{body}");
    assert_eq!(media.load.upload_count(), 3);

    let (status, body) = media
        .send(
            media
                .http
                .post(media.url("/api/music/preflight"))
                .header("x-user-pkp", USER)
                .json(&json!({"jobId": id})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "policy_passed");
    assert_eq!(body["job"]["policy"]["decision"], "pass");
    assert_eq!(body["job"]["policy"]["parentIpIds"], json!([]));
    assert_eq!(body["job"]["policy"]["licenseTermsIds"], json!([]));
    assert_eq!(
        body["checks"],
        json!({"hashDuplicate": "performed", "acoustid": "deferred_not_implemented"})
    );
    assert_eq!(body["duplicateCandidates"], json!([]));

    // Finalize needs the publishing signer (tests/publishing.rs); this stack has none.
    let (status, body) = media.post_action(USER, &id, "finalize").await;
    assert_eq!(
        (status, body),
        (500, json!({"error": "Tempo finalize is not configured"}))
    );
    let (status, body) = media.job(USER, &id).await;
    assert_eq!(status, 200);
    assert_eq!(body["job"]["status"], "policy_passed");
}

#[tokio::test]
async fn anchor_then_metadata_once_each() {
    let media = Media::start().await;
    let id = media.passed_job(USER, &audio(30_000, 2)).await;
    let (status, body) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(status, 200, "{body}");
    let job = &body["job"];
    let staged = job["upload"]["stagedDataitemId"].as_str().unwrap();
    assert_eq!(job["status"], "anchored");
    assert_eq!(job["anchor"]["dataitemId"], staged);
    assert_eq!(job["anchor"]["ref"], format!("ar://{staged}"));
    assert_eq!(
        job["anchor"]["arweaveUrl"],
        format!("{}/{staged}", media.load.server.uri())
    );
    assert_eq!(job["anchor"]["arweaveAvailable"], false);
    assert_eq!(media.load.post_count().await, 1);
    // Anchoring again answers the job without posting again.
    let (status, again) = media.post_action(USER, &id, "anchor").await;
    assert_eq!(status, 200);
    assert_eq!(again["job"]["status"], "anchored");
    assert_eq!(media.load.post_count().await, 1);

    // One document as a JSON string, one as an object: both stored compactly, key order kept.
    let metadata = r#"{"ipMetadataJson": "{ \"title\": \"Song\", \"artist\": \"Me\" }",
        "nftMetadataJson": {"name": "Song", "image": "ar://x"}}"#;
    let path = format!("/api/music/publish/{id}/metadata");
    let (status, first) = media
        .send(
            media
                .as_user(Method::POST, &path, USER)
                .header("content-type", "application/json")
                .body(metadata),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["cached"], false);
    assert_eq!(first["jobId"], id);
    let ip_id = first["ipMetadataDataitemId"].as_str().unwrap();
    assert_eq!(first["ipMetadataURI"], format!("ar://{ip_id}"));
    assert_eq!(
        first["ipMetadataHash"],
        format!("0x{}", sha256(br#"{"title":"Song","artist":"Me"}"#))
    );
    assert_eq!(
        first["nftMetadataHash"],
        format!("0x{}", sha256(br#"{"name":"Song","image":"ar://x"}"#))
    );
    assert_eq!(
        first["ipMetadataArweaveUrl"],
        format!("https://arweave.net/{ip_id}")
    );
    assert_eq!(first["ipMetadataArweaveAvailable"], true);
    assert_eq!(first["job"]["metadata"]["status"], "anchored");
    assert_eq!(first["job"]["metadata"]["ip"]["dataitemId"], ip_id);
    let posts = media.load.post_count().await;
    let (status, second) = media
        .send(media.as_user(Method::POST, &path, USER).json(&json!({})))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["cached"], true);
    for key in [
        "ipMetadataURI",
        "ipMetadataHash",
        "nftMetadataURI",
        "nftMetadataHash",
    ] {
        assert_eq!(first[key], second[key], "{key}");
    }
    assert_eq!(media.load.post_count().await, posts);
}

#[tokio::test]
async fn derivative_preflight_needs_parents_and_terms_of_equal_length() {
    let media = Media::start().await;
    let (status, body) = media
        .start_job(USER, audio_form(&audio(1000, 3), "cover"))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["job"]["jobId"].as_str().unwrap().to_owned();
    let (status, body) = media.preflight(USER, json!({"jobId": id})).await;
    assert_eq!(status, 200);
    assert_eq!(body["job"]["status"], "rejected");
    assert_eq!(body["job"]["policy"]["reasonCode"], "parent_link_required");
    assert_eq!(body["checks"]["hashDuplicate"], "skipped_not_original");
    let parent = "0xABCDEF0000000000000000000000000000000001";
    let (_, body) = media
        .preflight(
            USER,
            json!({"jobId": id, "parentIpIds": [parent, parent], "licenseTermsIds": [1]}),
        )
        .await;
    assert_eq!(body["job"]["policy"]["reasonCode"], "parent_terms_mismatch");
    // Rejected jobs may be checked again (the original's rule).
    let (status, body) = media
        .preflight(
            USER,
            json!({"jobId": id, "parentIpIds": [parent], "licenseTermsIds": ["7"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "policy_passed");
    assert_eq!(
        body["job"]["policy"]["parentIpIds"],
        json!([parent.to_lowercase()])
    );
    assert_eq!(body["job"]["policy"]["licenseTermsIds"], json!(["7"]));
}

#[tokio::test]
async fn original_preflight_decisions() {
    let media = Media::start().await;
    // No artifacts: manual review, and a duplicate hash is reported, not blocking.
    let bytes = audio(5000, 4);
    let first = media.passed_job(common::OTHER, &bytes).await;
    let id = media.staged_job(USER, &bytes).await;
    let (status, body) = media.preflight(USER, json!({"jobId": id})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job"]["status"], "manual_review");
    assert_eq!(
        body["job"]["policy"]["reasonCode"],
        "missing_staged_artifacts"
    );
    assert_eq!(body["checks"]["hashDuplicate"], "warn_duplicate_found");
    assert_eq!(
        body["duplicateCandidates"],
        json!([{"jobId": first, "status": "policy_passed", "arweaveRef": null}])
    );
    // Artifacts but no fingerprint: manual review for that.
    media.stage_artifacts(USER, &id).await;
    let (_, body) = media.preflight(USER, json!({"jobId": id})).await;
    assert_eq!(body["job"]["policy"]["reasonCode"], "fingerprint_missing");
    // A wrong client hash is a rejection.
    let other = audio(5000, 5);
    let form = Form::new()
        .part(
            "file",
            Part::bytes(other)
                .file_name("a.mp3")
                .mime_str("audio/mpeg")
                .unwrap(),
        )
        .text("publishType", "original")
        .text("audioSha256", sha256(b"something else"));
    let (_, body) = media.start_job(USER, form).await;
    let wrong = body["job"]["jobId"].as_str().unwrap().to_owned();
    let (_, body) = media.preflight(USER, json!({"jobId": wrong})).await;
    assert_eq!(body["job"]["status"], "rejected");
    assert_eq!(body["job"]["policy"]["reasonCode"], "hash_mismatch");
    assert_eq!(body["checks"]["hashDuplicate"], "failed_mismatch");
    // No audioSha256 at start: rejected at preflight.
    let form = Form::new().part(
        "file",
        Part::bytes(audio(10, 6))
            .file_name("a.mp3")
            .mime_str("audio/mpeg")
            .unwrap(),
    );
    let (_, body) = media.start_job(USER, form).await;
    let bare = body["job"]["jobId"].as_str().unwrap().to_owned();
    let (_, body) = media
        .preflight(USER, json!({"jobId": bare, "publishType": "original"}))
        .await;
    assert_eq!(body["job"]["policy"]["reasonCode"], "missing_audio_sha256");
    assert_eq!(
        body["checks"]["hashDuplicate"],
        "skipped_missing_audio_sha256"
    );
}
