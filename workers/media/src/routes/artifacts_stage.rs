//! `POST /api/music/publish/:jobId/artifacts/stage`: stages the cover and/or the lyrics of a
//! job on the blob store (§6.3). Staged artifacts are never replaced; the job's status does
//! not change. The record is updated with a compare-and-set that keeps whatever a concurrent
//! request staged first.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use crate::access::require_music_access;
use crate::error::{Fields, MediaError, MediaResult};
use crate::jobs::model::MusicJob;
use crate::state::MediaState;
use crate::upload::{FileLimit, TextLimit, read_form, stored_payload, tag};

/// Largest cover: 10 MiB.
pub const MAX_COVER_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Largest lyrics text: 256 KiB.
pub const MAX_LYRICS_BYTES: u64 = 256 * 1024;
const LYRICS_TYPE: &str = "text/plain; charset=utf-8";

fn cover_too_large(n: u64) -> String {
    format!("Cover file too large: {n} > {MAX_COVER_FILE_SIZE}")
}

fn lyrics_too_large(n: u64) -> String {
    format!("lyricsText too large: {n} > {MAX_LYRICS_BYTES}")
}

fn artifact_tags(job_id: &str, kind: &str, content_type: &str) -> Vec<portability::BlobTag> {
    vec![
        tag("App-Name", "Heaven"),
        tag("Upload-Source", "music-artifact-stage"),
        tag("Music-Job-Id", job_id),
        tag("Music-Artifact-Type", kind),
        tag("Content-Type", content_type),
    ]
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(job_id): Path<String>,
    request: Request,
) -> MediaResult<Fields> {
    let user = require_music_access(&state, request.headers()).await?;
    super::require_uploads(
        &state,
        "Music artifact upload not configured (LOAD_S3_AGENT_API_KEY)",
    )?;
    let row = state
        .jobs()
        .get(&user, &job_id)
        .await?
        .ok_or_else(MediaError::job_not_found)?
        .job;
    if row.status.is_past_policy() {
        return Err(MediaError::conflict(format!(
            "Cannot stage artifacts from status {}",
            row.status.as_str()
        ))
        .with_job("job", &row));
    }
    let cover_limit = FileLimit {
        name: "cover",
        max: MAX_COVER_FILE_SIZE,
        too_large: cover_too_large,
    };
    let lyrics_limit = TextLimit {
        name: "lyricsText",
        max: MAX_LYRICS_BYTES,
        too_large: lyrics_too_large,
    };
    let form = read_form(
        request,
        &state.config().spool_dir,
        &[cover_limit],
        &[lyrics_limit],
    )
    .await?;
    if form.get("cover").is_some() && form.file("cover").is_none() {
        return Err(MediaError::bad_request(
            "cover must be a file when provided",
        ));
    }
    let cover = form.file("cover");
    let cover_type = form
        .text("coverContentType")
        .filter(|v| !v.is_empty())
        .or(cover
            .and_then(|c| c.content_type.as_deref())
            .filter(|v| !v.is_empty()))
        .unwrap_or("application/octet-stream")
        .trim()
        .to_owned();
    let lyrics = form.text("lyricsText").filter(|t| !t.trim().is_empty());
    if cover.is_none() && lyrics.is_none() {
        return Err(MediaError::bad_request(
            "At least one artifact is required (cover and/or lyricsText)",
        ));
    }
    if let Some(cover) = cover {
        if cover.size() == 0 {
            return Err(MediaError::bad_request("Cover file is empty"));
        }
        if !cover_type.starts_with("image/") {
            return Err(MediaError::bad_request(format!(
                "Unsupported cover content type: {cover_type}"
            )));
        }
    }
    if let Some(text) = lyrics
        && text.len() as u64 > MAX_LYRICS_BYTES
    {
        return Err(MediaError::bad_request(lyrics_too_large(text.len() as u64)));
    }
    let need_cover = cover.is_some() && !row.cover_staged();
    let need_lyrics = lyrics.is_some() && !row.lyrics_staged();
    if !need_cover && !need_lyrics {
        return Ok(Fields::default().with("cached", true).with_job("job", &row));
    }
    let staging = |e: portability::PortabilityError| {
        MediaError::upstream("Artifact staging failed", e.to_string())
    };
    let cover_blob = match cover.filter(|_| need_cover) {
        Some(cover) => {
            let mut tags = vec![cover.file_name_tag("cover")];
            tags.extend(artifact_tags(&job_id, "cover", &cover_type));
            let body = cover.stream().await.map_err(MediaError::internal)?;
            Some(
                state
                    .blobs()
                    .put_stream(body, &cover_type, &tags)
                    .await
                    .map_err(staging)?,
            )
        }
        None => None,
    };
    let lyrics_blob = match lyrics.filter(|_| need_lyrics) {
        Some(text) => {
            let mut tags = vec![tag(portability::FILE_NAME_TAG, "lyrics.txt")];
            tags.extend(artifact_tags(&job_id, "lyrics", LYRICS_TYPE));
            let blob = state
                .blobs()
                .put(bytes::Bytes::from(text.to_owned()), LYRICS_TYPE, &tags)
                .await
                .map_err(staging)?;
            let sha = format!("0x{}", hex::encode(Sha256::digest(text.as_bytes())));
            Some((blob, sha, text.len() as u64))
        }
        None => None,
    };
    let cover_size = cover.map(|c| c.size());
    let updated = state
        .jobs()
        .update(&user, &job_id, |job: &mut MusicJob| {
            if let Some(blob) = cover_blob.as_ref().filter(|_| !job.cover_staged()) {
                job.cover_staged_dataitem_id = Some(blob.id.clone());
                job.cover_staged_gateway_url = Some(blob.gateway_url.clone());
                job.cover_content_type = Some(cover_type.clone());
                job.cover_file_size = cover_size;
                job.cover_staged_payload_json = Some(stored_payload(blob).to_string());
            }
            if let Some((blob, sha, len)) = lyrics_blob.as_ref().filter(|_| !job.lyrics_staged()) {
                job.lyrics_staged_dataitem_id = Some(blob.id.clone());
                job.lyrics_staged_gateway_url = Some(blob.gateway_url.clone());
                job.lyrics_sha256 = Some(sha.clone());
                job.lyrics_bytes = Some(*len);
                job.lyrics_staged_payload_json = Some(stored_payload(blob).to_string());
            }
            job.updated_at = state.now();
            Ok(())
        })
        .await?
        .ok_or_else(|| {
            MediaError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to load artifact-staged job",
            )
        })?
        .0
        .job;
    let artifacts = serde_json::json!({
        "cover": {
            "uploaded": cover_blob.is_some(),
            "stagedDataitemId": updated.cover_staged_dataitem_id,
            "stagedGatewayUrl": updated.cover_staged_gateway_url,
        },
        "lyrics": {
            "uploaded": lyrics_blob.is_some(),
            "stagedDataitemId": updated.lyrics_staged_dataitem_id,
            "stagedGatewayUrl": updated.lyrics_staged_gateway_url,
            "sha256": updated.lyrics_sha256,
            "bytes": updated.lyrics_bytes,
        },
    });
    Ok(Fields::default()
        .with("cached", false)
        .with("artifacts", artifacts)
        .with_job("job", &updated))
}
