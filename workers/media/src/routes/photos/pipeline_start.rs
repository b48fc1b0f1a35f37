//! `POST /api/photos/pipeline`: four photos (`photo1`..`photo4`, JPEG/PNG/WebP, ≤ 10 MiB
//! each) accepted as a job. Checks and messages are the original's; then the uploads are
//! stored (`raw/…`), the job recorded, and — unlike the original, which ran the whole
//! pipeline inside the request — the answer is 202 `{success, jobId, status, step, photoIds}`
//! at once while [`pipeline::run`] works; `GET /pipeline/:jobId` shows the progress and, when
//! done, the original's fields. `?sync=true` keeps the original's behaviour (the answer waits
//! for the job and is the original's 200 body or error), for the original's smoke scripts.

use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::error::{Fields, MediaError, MediaResult};
use crate::photos::model::{JobStatus, JobStep, PhotoJob, new_uuid, objects};
use crate::photos::{PhotoService, auth, photo_error, pipeline};
use crate::state::MediaState;
use crate::upload::{FileLimit, read_form};

/// Largest photo: 10 MiB.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// The types a photo part may declare.
pub const ALLOWED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// `?sync=`.
#[derive(Debug, Default, Deserialize)]
pub struct PipelineQuery {
    #[serde(default)]
    sync: Option<String>,
}

fn too_large(index: usize) -> fn(u64) -> String {
    const MESSAGES: [fn(u64) -> String; 4] = [
        |_| "photo1 exceeds 10MB limit".to_owned(),
        |_| "photo2 exceeds 10MB limit".to_owned(),
        |_| "photo3 exceeds 10MB limit".to_owned(),
        |_| "photo4 exceeds 10MB limit".to_owned(),
    ];
    MESSAGES[index]
}

const PHOTO_FIELDS: [&str; 4] = ["photo1", "photo2", "photo3", "photo4"];

/// The origin fal and clients reach this service at.
fn origin(photos: &PhotoService, request: &Request) -> String {
    if let Some(origin) = &photos.config().public_origin {
        return origin.clone();
    }
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost:8787");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The original's public error for a failed job's `error_message`.
fn public_error(message: &str) -> &'static str {
    if message.starts_with("fal.ai error") {
        "Anime generation failed"
    } else if message == "No images returned from fal" {
        "Anime generation returned no images"
    } else {
        "Pipeline failed"
    }
}

async fn read_photos(spool: &std::path::Path, request: Request) -> MediaResult<Vec<Bytes>> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| multer::parse_boundary(ct).is_ok());
    if !multipart {
        return Err(photo_error(
            StatusCode::BAD_REQUEST,
            "Invalid multipart form data",
        ));
    }
    let limits: Vec<FileLimit> = PHOTO_FIELDS
        .iter()
        .enumerate()
        .map(|(index, &name)| FileLimit {
            name,
            max: MAX_FILE_SIZE,
            too_large: too_large(index),
        })
        .collect();
    let form = read_form(request, spool, &limits, &[])
        .await
        .map_err(|err| match err.status {
            StatusCode::BAD_REQUEST => photo_error(StatusCode::BAD_REQUEST, err.message()),
            StatusCode::INTERNAL_SERVER_ERROR => {
                photo_error(StatusCode::BAD_REQUEST, "Invalid multipart form data")
            }
            _ => err,
        })?;
    let mut files = Vec::new();
    for (index, name) in PHOTO_FIELDS.iter().enumerate() {
        let slot = index + 1;
        let Some(file) = form.file(name) else {
            return Err(photo_error(
                StatusCode::BAD_REQUEST,
                &format!("Missing photo{slot}. Must upload exactly 4 photos."),
            ));
        };
        let declared = file.content_type.as_deref().unwrap_or_default();
        if !ALLOWED_TYPES.contains(&declared) {
            return Err(photo_error(
                StatusCode::BAD_REQUEST,
                &format!("photo{slot} must be JPEG, PNG, or WebP"),
            ));
        }
        files.push(file);
    }
    let mut bytes = Vec::new();
    for file in files {
        let mut stream = file.stream().await?;
        let mut all = Vec::with_capacity(file.size() as usize);
        while let Some(chunk) = stream.next().await {
            all.extend_from_slice(&chunk?);
        }
        bytes.push(Bytes::from(all));
    }
    Ok(bytes)
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Query(query): Query<PipelineQuery>,
    request: Request,
) -> MediaResult<Response> {
    let photos = super::service(&state)?.clone();
    // The original's middleware answers first (`Missing authorization`, `Invalid token`), so
    // its handler's `User not authenticated` is never seen.
    let user = auth::caller(photos.config(), request.headers(), photos.now())?;
    if photos.fal().is_none() {
        tracing::error!("photo pipeline: FAL_KEY is not set");
        return Err(photo_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server misconfiguration",
        ));
    }
    let origin = origin(&photos, &request);
    let uploads = read_photos(&state.config().spool_dir, request).await?;
    let now = photos.now();
    let job = PhotoJob {
        job_id: new_uuid(),
        user_id: user.clone(),
        status: JobStatus::Pending,
        step: JobStep::Upload,
        error_message: None,
        photo_ids: (0..4).map(|_| new_uuid()).collect(),
        anime_tiles: None,
        fal_request_id: None,
        fal_status_url: None,
        fal_response_url: None,
        origin,
        created_at: now,
        updated_at: now,
        lease: None,
    };
    for (index, bytes) in uploads.into_iter().enumerate() {
        photos
            .hot()
            .put(&objects::raw(&user, &job.job_id, index as u8 + 1), bytes)
            .await?;
    }
    photos.store().create_job(&job).await?;
    let sync = query
        .sync
        .as_deref()
        .is_some_and(|v| matches!(v, "1" | "true"));
    if sync {
        pipeline::run(&photos, &job.job_id).await?;
        let (done, _) = photos
            .store()
            .job(&job.job_id)
            .await?
            .ok_or_else(|| MediaError::internal("job vanished"))?;
        return match done.status {
            JobStatus::Completed => Ok(Fields::default()
                .with("success", true)
                .with("jobId", done.job_id.clone())
                .with("photoIds", done.photo_ids.clone())
                .with("animeTiles", done.anime_tiles.clone().unwrap_or_default())
                .into_response()),
            _ => Err(photo_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                public_error(done.error_message.as_deref().unwrap_or_default()),
            )),
        };
    }
    let job_id = job.job_id.clone();
    let runner = photos.clone();
    tokio::spawn(async move {
        if let Err(err) = pipeline::run(&runner, &job_id).await {
            tracing::warn!(%job_id, %err, "photo job stopped; the sweep resumes it");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Fields::default()
            .with("success", true)
            .with("jobId", job.job_id.clone())
            .with("status", job.status.as_str())
            .with("step", job.step.as_str())
            .with("photoIds", job.photo_ids.clone()),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::public_error;

    #[test]
    fn failures_map_to_the_original_public_errors() {
        assert_eq!(
            public_error("fal.ai error: fal.ai seedream error: 500 boom"),
            "Anime generation failed"
        );
        assert_eq!(
            public_error("No images returned from fal"),
            "Anime generation returned no images"
        );
        assert_eq!(
            public_error("Error: photo2: undecodable"),
            "Pipeline failed"
        );
    }
}
