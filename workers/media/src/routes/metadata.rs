//! `POST /api/music/publish/:jobId/metadata`: stores and anchors the IP and NFT metadata JSON
//! of an anchored job through the blob store, at most once per job (§6.6). The metadata step
//! is leased like the job's own steps; a released one ends `metadata_status = failed`.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use http_common::OrderedJson;
use sha2::{Digest, Sha256};

use crate::access::require_music_access;
use crate::error::{Fields, MediaError, MediaResult};
use crate::jobs::anchor::truncate;
use crate::jobs::lease::{self, held_by_other, lease_for, new_owner, owned_by};
use crate::jobs::model::{
    JobStatus, LeasedStep, MetadataStatus, MusicJob, dataitem_id_from_ar_ref,
};
use crate::state::MediaState;
use crate::upload::tag;

/// Largest metadata document: 256 KiB each.
pub const MAX_JSON_BYTES: usize = 256 * 1024;
/// The Arweave gateway the original names in its answers.
const ARWEAVE_GATEWAY: &str = "https://arweave.net";
const MAX_BODY: usize = 2 << 20;

/// One anchored document.
struct Anchored {
    id: String,
    hash: String,
}

fn response(job: &MusicJob, cached: bool) -> Fields {
    let ip = job
        .ip_metadata_dataitem_id
        .clone()
        .or_else(|| dataitem_id_from_ar_ref(job.ip_metadata_uri.as_deref()));
    let nft = job
        .nft_metadata_dataitem_id
        .clone()
        .or_else(|| dataitem_id_from_ar_ref(job.nft_metadata_uri.as_deref()));
    let url = |id: &Option<String>| id.as_ref().map(|id| format!("{ARWEAVE_GATEWAY}/{id}"));
    Fields::default()
        .with("jobId", job.job_id.clone())
        .with("ipMetadataURI", job.ip_metadata_uri.clone())
        .with("ipMetadataHash", job.ip_metadata_hash.clone())
        .with("ipMetadataDataitemId", ip.clone())
        .with("ipMetadataArweaveUrl", url(&ip))
        .with("ipMetadataArweaveAvailable", ip.is_some())
        .with("nftMetadataURI", job.nft_metadata_uri.clone())
        .with("nftMetadataHash", job.nft_metadata_hash.clone())
        .with("nftMetadataDataitemId", nft.clone())
        .with("nftMetadataArweaveUrl", url(&nft))
        .with("nftMetadataArweaveAvailable", nft.is_some())
        .with("cached", cached)
        .with_job("job", job)
}

/// The original's `normalizeJsonPayload`: a JSON string is parsed and written compactly, any
/// other value is written compactly, in document key order.
fn normalize(value: Option<&OrderedJson>, field: &str) -> MediaResult<String> {
    match value {
        Some(OrderedJson::String(text)) => {
            let trimmed = text.trim();
            if trimmed.is_empty() {
                return Err(MediaError::bad_request(format!(
                    "{field} must be a non-empty JSON string"
                )));
            }
            OrderedJson::parse(trimmed.as_bytes())
                .map(|v| v.to_compact_string())
                .map_err(|_| MediaError::bad_request(format!("{field} must be valid JSON")))
        }
        None | Some(OrderedJson::Null) => {
            Err(MediaError::bad_request(format!("{field} is required")))
        }
        Some(other) => Ok(other.to_compact_string()),
    }
}

fn lockable(job: &MusicJob, owner: &str, now: i64) -> bool {
    let free = matches!(
        job.metadata_status,
        MetadataStatus::None | MetadataStatus::Failed
    ) || (job.metadata_status == MetadataStatus::Anchoring
        && !held_by_other(job, LeasedStep::Metadata, owner, now));
    free && job.ip_metadata_uri.is_none() && job.nft_metadata_uri.is_none()
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
        "Music metadata anchor not configured (LOAD_S3_AGENT_API_KEY)",
    )?;
    let row = state
        .jobs()
        .get(&user, &job_id)
        .await?
        .ok_or_else(MediaError::job_not_found)?
        .job;
    if !matches!(
        row.status,
        JobStatus::Anchored | JobStatus::Registering | JobStatus::Registered
    ) {
        return Err(MediaError::conflict(format!(
            "Job must be anchored before metadata anchor (current={})",
            row.status.as_str()
        ))
        .with_job("job", &row));
    }
    if row.has_anchored_metadata() {
        return Ok(response(&row, true));
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| MediaError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"))?;
    let body =
        OrderedJson::parse(&body).map_err(|_| MediaError::bad_request("Invalid JSON body"))?;
    let ip = normalize(body.get("ipMetadataJson"), "ipMetadataJson")?;
    let nft = normalize(body.get("nftMetadataJson"), "nftMetadataJson")?;
    if ip.len() > MAX_JSON_BYTES || nft.len() > MAX_JSON_BYTES {
        return Err(MediaError::bad_request(format!(
            "Metadata payload too large (max {MAX_JSON_BYTES} bytes each)"
        )));
    }

    let owner = new_owner();
    state.jobs().mark_leased(&user, &job_id).await?;
    let locked = state
        .jobs()
        .update(&user, &job_id, |job| {
            let now = state.now();
            if !lockable(job, &owner, now) {
                if job.has_anchored_metadata() {
                    return Ok(false);
                }
                let error = if job.metadata_status == MetadataStatus::Anchoring {
                    "Metadata anchor already in progress".to_owned()
                } else {
                    format!(
                        "Metadata anchor lock not acquired (status={})",
                        metadata_status_name(job.metadata_status)
                    )
                };
                return Err(MediaError::conflict(error).with_job("job", job));
            }
            job.metadata_status = MetadataStatus::Anchoring;
            job.metadata_error = None;
            job.lease = Some(lease_for(&state, LeasedStep::Metadata, &owner, job.status));
            job.updated_at = now;
            Ok(true)
        })
        .await?;
    let Some((locked, took)) = locked else {
        return Err(MediaError::new(
            StatusCode::NOT_FOUND,
            "Job not found after metadata lock attempt",
        ));
    };
    if !took {
        return Ok(response(&locked.job, true));
    }

    let outcome = {
        let _heartbeat = lease::keep_alive(&state, &user, &job_id, &owner);
        let (a, b) = tokio::join!(
            anchor_json(&state, &job_id, "ip", ip),
            anchor_json(&state, &job_id, "nft", nft)
        );
        a.and_then(|a| b.map(|b| (a, b)))
    };
    let lost = |job: &MusicJob| {
        MediaError::conflict("Metadata anchor already in progress").with_job("job", job)
    };
    let result = match outcome {
        Ok((ip, nft)) => {
            let done = state
                .jobs()
                .update(&user, &job_id, |job| {
                    if !owned_by(job, &owner) {
                        return Err(lost(job));
                    }
                    job.metadata_status = MetadataStatus::Anchored;
                    job.metadata_error = None;
                    job.ip_metadata_uri = Some(format!("ar://{}", ip.id));
                    job.ip_metadata_hash = Some(ip.hash.clone());
                    job.ip_metadata_dataitem_id = Some(ip.id.clone());
                    job.nft_metadata_uri = Some(format!("ar://{}", nft.id));
                    job.nft_metadata_hash = Some(nft.hash.clone());
                    job.nft_metadata_dataitem_id = Some(nft.id.clone());
                    job.lease = None;
                    job.updated_at = state.now();
                    Ok(())
                })
                .await?;
            match done {
                Some((stored, ())) => Ok(response(&stored.job, false)),
                None => Err(MediaError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed to load metadata-anchored job",
                )),
            }
        }
        Err(message) => {
            let message = truncate(&message, 2048);
            let latest = state
                .jobs()
                .update(&user, &job_id, |job| {
                    if owned_by(job, &owner) {
                        job.metadata_status = MetadataStatus::Failed;
                        job.metadata_error = Some(message.clone());
                        job.lease = None;
                        job.updated_at = state.now();
                    }
                    Ok(())
                })
                .await?;
            let error = MediaError::upstream("Music metadata anchor failed", message.clone());
            Err(match latest {
                Some((stored, ())) => error.with_job("job", &stored.job),
                None => error.with("job", serde_json::Value::Null),
            })
        }
    };
    state.jobs().unmark_leased(&user, &job_id).await?;
    result
}

fn metadata_status_name(status: MetadataStatus) -> &'static str {
    match status {
        MetadataStatus::None => "none",
        MetadataStatus::Anchoring => "anchoring",
        MetadataStatus::Anchored => "anchored",
        MetadataStatus::Failed => "failed",
    }
}

async fn anchor_json(
    state: &MediaState,
    job_id: &str,
    kind: &str,
    json: String,
) -> Result<Anchored, String> {
    let hash = format!("0x{}", hex::encode(Sha256::digest(json.as_bytes())));
    let tags = vec![
        tag(portability::FILE_NAME_TAG, &format!("{kind}-metadata.json")),
        tag("App-Name", "Heaven"),
        tag("Upload-Source", "music-metadata"),
        tag("Music-Job-Id", job_id),
        tag("Music-Metadata-Type", kind),
        tag("Content-Type", "application/json"),
    ];
    let stored = state
        .blobs()
        .put(bytes::Bytes::from(json), "application/json", &tags)
        .await
        .map_err(|e| e.to_string())?;
    state
        .blobs()
        .anchor(&stored.id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Anchored {
        id: stored.id,
        hash,
    })
}
