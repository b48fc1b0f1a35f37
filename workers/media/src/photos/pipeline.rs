//! The pipeline job (contracts/api-core.md §5.1): upload → fal → split → done.
//!
//! The original ran all of it inside `POST /pipeline`; here the POST stores the uploads and
//! the job, and [`run`] advances it step by step. A run first takes the job's lease (a
//! compare-and-set); each step's result is written with a compare-and-set that renews the
//! lease, so a run that lost the job (its lease expired and another run took over) stops at
//! its next write. Every step can be repeated: object names and photo ids are fixed when the
//! job is accepted, and a submitted fal request id is stored before it is waited on. After a
//! kill, [`sweep`] resumes each unfinished job whose lease expired.

use std::time::Instant;

use bytes::Bytes;
use portability::{BlobTag, Fit, ImageFormat, PortabilityError, TransformRequest, Trim};
use sha2::{Digest, Sha256};

use super::PhotoService;
use super::fal::{FalError, QueueStatus, Submitted};
use super::model::{
    AnimeAssets, JobStatus, JobStep, PhotoJob, RunLease, SOURCE_TOKEN_TTL_SECS, SourceToken,
    UserPhoto, objects,
};

/// The original's fit for sanitized photos.
pub const MAX_DIMENSION: u32 = 4096;
/// Tiles are this square.
pub const TILE_SIZE: u32 = 500;
/// Pixels trimmed off each quadrant's inner edges (against the model's seams).
pub const SEAM_INSET: u32 = 8;
/// The grid size assumed when its header cannot be read.
pub const FALLBACK_GRID_SIZE: u32 = 2048;

/// The sanitize rendition: fit into 4096², JPEG q90, metadata stripped.
pub fn sanitize_request() -> TransformRequest {
    TransformRequest::new(
        MAX_DIMENSION,
        MAX_DIMENSION,
        Fit::Contain,
        ImageFormat::Jpeg,
        90,
    )
}

/// The four tile renditions of a `width × height` grid: each quadrant minus the seam inset on
/// its inner edges, covered to 500² WebP q85 (TL, TR, BL, BR = slots 1–4).
pub fn tile_requests(width: u32, height: u32) -> Vec<TransformRequest> {
    let (w, h) = (width / 2 + SEAM_INSET, height / 2 + SEAM_INSET);
    [
        Trim {
            top: 0,
            right: w,
            bottom: h,
            left: 0,
        },
        Trim {
            top: 0,
            right: 0,
            bottom: h,
            left: w,
        },
        Trim {
            top: h,
            right: w,
            bottom: 0,
            left: 0,
        },
        Trim {
            top: h,
            right: 0,
            bottom: 0,
            left: w,
        },
    ]
    .into_iter()
    .map(|trim| {
        TransformRequest::new(TILE_SIZE, TILE_SIZE, Fit::Cover, ImageFormat::WebP, 85)
            .with_trim(trim)
    })
    .collect()
}

/// How a step ended.
enum Outcome {
    /// The job moved on (already written).
    Advanced,
    /// The job fails with this `error_message`.
    Failed(String),
    /// Another run holds the job now.
    Lost,
}

/// A run's hold on one job.
struct Run<'a> {
    photos: &'a PhotoService,
    owner: String,
    job: PhotoJob,
    version: u64,
}

impl Run<'_> {
    /// Writes the job with a renewed lease; `false` when another run changed it.
    async fn save(&mut self) -> Result<bool, PortabilityError> {
        let now = self.photos.now();
        self.job.updated_at = now;
        self.job.lease = (!self.job.status.is_final()).then(|| RunLease {
            owner: self.owner.clone(),
            until: now + self.photos.config().lease.as_secs() as i64,
        });
        match self
            .photos
            .store()
            .replace_job(&self.job, self.version)
            .await?
        {
            Some(version) => {
                self.version = version;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn advance(&mut self, step: JobStep) -> Result<Outcome, PortabilityError> {
        self.job.step = step;
        if step == JobStep::Done {
            self.job.status = JobStatus::Completed;
        }
        Ok(if self.save().await? {
            Outcome::Advanced
        } else {
            Outcome::Lost
        })
    }
}

/// A random owner token for one run.
fn new_owner() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

/// Advances job `job_id` until it is completed or failed, or another run holds it. Storage
/// errors end the run with the job left to [`sweep`].
pub async fn run(photos: &PhotoService, job_id: &str) -> Result<(), PortabilityError> {
    let owner = new_owner();
    loop {
        let Some((job, version)) = photos.store().job(job_id).await? else {
            return Ok(());
        };
        if job.status.is_final() {
            return Ok(());
        }
        if job
            .lease
            .as_ref()
            .is_some_and(|l| l.owner != owner && l.until > photos.now())
        {
            return Ok(());
        }
        let mut run = Run {
            photos,
            owner: owner.clone(),
            job,
            version,
        };
        run.job.status = JobStatus::Processing;
        if !run.save().await? {
            continue;
        }
        let outcome = match run.job.step {
            JobStep::Upload => upload(&mut run).await?,
            JobStep::Fal => anime_grid(&mut run).await?,
            JobStep::Split => split(&mut run).await?,
            JobStep::Done => run.advance(JobStep::Done).await?,
        };
        match outcome {
            Outcome::Advanced => {}
            Outcome::Lost => return Ok(()),
            Outcome::Failed(message) => {
                tracing::warn!(job_id, %message, "photo pipeline job failed");
                run.job.status = JobStatus::Failed;
                run.job.error_message = Some(message);
                run.save().await?;
                return Ok(());
            }
        }
    }
}

/// Runs every unfinished job whose lease expired (or that was never started), one task each.
/// Returns how many were started.
pub async fn sweep(photos: &PhotoService) -> Result<usize, PortabilityError> {
    let mut started = 0;
    let mut after: Option<String> = None;
    loop {
        let page = photos.store().active_jobs(after.as_deref(), 100).await?;
        let Some(last) = page.last().cloned() else {
            break;
        };
        for job_id in page.iter() {
            let Some((job, _)) = photos.store().job(job_id).await? else {
                continue;
            };
            let idle = job.lease.as_ref().is_none_or(|l| l.until <= photos.now());
            if !job.status.is_final() && idle {
                started += 1;
                let photos = photos.clone();
                let job_id = job_id.clone();
                tokio::spawn(async move {
                    if let Err(err) = run(&photos, &job_id).await {
                        tracing::warn!(%job_id, %err, "resumed photo job stopped");
                    }
                });
            }
        }
        if page.len() < 100 {
            break;
        }
        after = Some(last);
    }
    Ok(started)
}

/// Step `upload`: each raw upload sanitized into `orig/<user>/<photoId>.jpg` and its slot
/// pointed at it; the raw uploads removed.
async fn upload(run: &mut Run<'_>) -> Result<Outcome, PortabilityError> {
    let photos = run.photos;
    let user = run.job.user_id.clone();
    for (index, photo_id) in run.job.photo_ids.clone().iter().enumerate() {
        let slot = index as u8 + 1;
        let orig_key = objects::orig(&user, photo_id);
        let sanitized_already = match photos.hot().size(&orig_key).await {
            Ok(_) => true,
            Err(PortabilityError::NotFound { .. }) => false,
            Err(err) => return Err(err),
        };
        if !sanitized_already {
            let raw_key = objects::raw(&user, &run.job.job_id, slot);
            let Some(raw) = photos.read_hot(&raw_key).await? else {
                return Ok(Outcome::Failed(format!(
                    "Error: upload photo{slot} is missing"
                )));
            };
            let sanitized = match photos.images().transform(raw, &sanitize_request()).await {
                Ok(image) => image,
                Err(PortabilityError::InvalidInput(message)) => {
                    return Ok(Outcome::Failed(format!("Error: photo{slot}: {message}")));
                }
                Err(err) => return Err(err),
            };
            photos
                .hot()
                .put(&orig_key, Bytes::from(sanitized.bytes))
                .await?;
        }
        photos
            .store()
            .upsert_photo(&UserPhoto {
                photo_id: photo_id.clone(),
                user_id: user.clone(),
                slot,
                orig_key,
                created_at: run.job.created_at,
            })
            .await?;
    }
    for slot in 1..=4 {
        let raw_key = objects::raw(&user, &run.job.job_id, slot);
        match photos.hot().delete(&raw_key).await {
            Ok(()) | Err(PortabilityError::NotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    run.advance(JobStep::Fal).await
}

/// A fresh one-time source URL for each photo (32 random bytes, stored as their SHA-256).
async fn source_urls(run: &Run<'_>) -> Result<Vec<String>, PortabilityError> {
    let expires_at = run.photos.now() + SOURCE_TOKEN_TTL_SECS;
    let mut urls = Vec::new();
    for photo_id in &run.job.photo_ids {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        run.photos
            .store()
            .put_token(
                &hash,
                &SourceToken {
                    photo_id: photo_id.clone(),
                    expires_at,
                },
            )
            .await?;
        urls.push(format!(
            "{}/api/photos/internal/source/{photo_id}?t={token}",
            run.job.origin
        ));
    }
    Ok(urls)
}

fn fal_failure(err: FalError) -> Outcome {
    match err {
        FalError::NoImages => Outcome::Failed(FalError::NoImages.to_string()),
        other => Outcome::Failed(format!("fal.ai error: {other}")),
    }
}

/// Step `fal`: the grid requested (once: the request id is stored before waiting), waited
/// for, downloaded into `anime/grid/<user>.png`.
async fn anime_grid(run: &mut Run<'_>) -> Result<Outcome, PortabilityError> {
    let photos = run.photos;
    let Some(fal) = photos.fal() else {
        return Ok(Outcome::Failed(
            "fal.ai error: FAL_KEY is not set".to_owned(),
        ));
    };
    let submitted = match &run.job.fal_request_id {
        Some(request_id) => Submitted {
            request_id: request_id.clone(),
            status_url: run.job.fal_status_url.clone(),
            response_url: run.job.fal_response_url.clone(),
        },
        None => {
            let urls = source_urls(run).await?;
            let submitted = match fal.submit(&urls).await {
                Ok(submitted) => submitted,
                Err(err) => return Ok(fal_failure(err)),
            };
            run.job.fal_request_id = Some(submitted.request_id.clone());
            run.job.fal_status_url = submitted.status_url.clone();
            run.job.fal_response_url = submitted.response_url.clone();
            if !run.save().await? {
                return Ok(Outcome::Lost);
            }
            submitted
        }
    };
    let started = Instant::now();
    loop {
        match fal.status(&submitted).await {
            Ok(QueueStatus::Completed) => break,
            Ok(QueueStatus::Pending(_)) => {}
            Err(err) => return Ok(fal_failure(err)),
        }
        if started.elapsed() > photos.config().fal_timeout {
            return Ok(Outcome::Failed(
                "fal.ai error: the request did not complete in time".to_owned(),
            ));
        }
        tokio::time::sleep(photos.config().fal_poll_every).await;
        // Renews the lease; stops if another run took the job.
        if !run.save().await? {
            return Ok(Outcome::Lost);
        }
    }
    let url = match fal.result_image(&submitted).await {
        Ok(url) => url,
        Err(err) => return Ok(fal_failure(err)),
    };
    let grid = match fal.download(&url).await {
        Ok(grid) => grid,
        Err(err) => return Ok(Outcome::Failed(format!("Error: {err}"))),
    };
    photos
        .hot()
        .put(&objects::grid(&run.job.user_id), Bytes::from(grid))
        .await?;
    run.advance(JobStep::Split).await
}

fn tile_tags(user: &str, slot: u8) -> Vec<BlobTag> {
    let tag = |name: &str, value: &str| BlobTag {
        name: name.to_owned(),
        value: value.to_owned(),
    };
    vec![
        tag("App-Name", "Heaven"),
        tag("Upload-Source", "photos-anime-tile"),
        tag("Content-Type", "image/webp"),
        tag(portability::FILE_NAME_TAG, &objects::tile(user, slot)),
    ]
}

/// Step `split`: the grid cut into four tiles, stored in the blob store under their names,
/// the user's anime assets replaced, the job completed.
async fn split(run: &mut Run<'_>) -> Result<Outcome, PortabilityError> {
    let photos = run.photos;
    let user = run.job.user_id.clone();
    let grid_key = objects::grid(&user);
    let Some(grid) = photos.read_hot(&grid_key).await? else {
        return Ok(Outcome::Failed(
            "Error: the anime grid is missing".to_owned(),
        ));
    };
    let (width, height) = match photos.images().info(&grid).await {
        Ok(info) => (info.width, info.height),
        Err(err) => {
            tracing::warn!(%err, "grid size unreadable, assuming 2048x2048");
            (FALLBACK_GRID_SIZE, FALLBACK_GRID_SIZE)
        }
    };
    let tiles = match photos
        .images()
        .renditions(grid, &tile_requests(width, height))
        .await
    {
        Ok(tiles) => tiles,
        Err(PortabilityError::InvalidInput(message)) => {
            return Ok(Outcome::Failed(format!(
                "Error: Failed to split grid into tiles: {message}"
            )));
        }
        Err(err) => return Err(err),
    };
    let mut tile_keys = Vec::new();
    let mut tile_ids = Vec::new();
    for (index, tile) in tiles.into_iter().enumerate() {
        let slot = index as u8 + 1;
        let key = objects::tile(&user, slot);
        let stored = photos
            .blobs()
            .put(
                Bytes::from(tile.bytes),
                "image/webp",
                &tile_tags(&user, slot),
            )
            .await?;
        photos.blobs().link(&key, &stored.id).await?;
        tile_keys.push(key);
        tile_ids.push(stored.id);
    }
    let now = photos.now();
    let created_at = photos
        .store()
        .anime(&user)
        .await?
        .map_or(now, |previous| previous.created_at);
    photos
        .store()
        .put_anime(&AnimeAssets {
            user_id: user.clone(),
            grid_key,
            tile_keys,
            tile_ids,
            fal_request_id: run.job.fal_request_id.clone(),
            created_at,
            updated_at: now,
        })
        .await?;
    run.job.anime_tiles = Some(
        (1..=4)
            .map(|slot| format!("{}/api/photos/anime/{user}/{slot}", run.job.origin))
            .collect(),
    );
    run.advance(JobStep::Done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_are_trimmed_with_the_seam_inset_on_inner_edges() {
        let requests = tile_requests(2048, 2048);
        let trims: Vec<Trim> = requests.iter().map(|r| r.trim).collect();
        assert_eq!(
            trims,
            vec![
                Trim {
                    top: 0,
                    right: 1032,
                    bottom: 1032,
                    left: 0
                },
                Trim {
                    top: 0,
                    right: 0,
                    bottom: 1032,
                    left: 1032
                },
                Trim {
                    top: 1032,
                    right: 1032,
                    bottom: 0,
                    left: 0
                },
                Trim {
                    top: 1032,
                    right: 0,
                    bottom: 0,
                    left: 1032
                },
            ]
        );
        // An odd grid: half = floor(w / 2).
        assert_eq!(tile_requests(1001, 999)[3].trim.left, 508);
        assert!(requests.iter().all(|r| r.max_width == 500
            && r.fit == Fit::Cover
            && r.format == ImageFormat::WebP
            && r.quality == 85));
    }
}
