//! `POST /api/music/publish/start`: stages the audio on the blob store (never anchors) and
//! creates the job (§6.2). Checks and their order are the original's, with two changes
//! (ADR 0027): the audio is streamed to a spool file under its 50 MiB limit instead of being
//! buffered, and an idempotency key is reserved before the upload, so concurrent starts with
//! one key upload once and all answer the same job.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use portability::BlobTag;

use crate::access::require_music_access;
use crate::error::{Fields, MediaError, MediaResult};
use crate::jobs::idempotency::Claim;
use crate::jobs::lease::{Heartbeat, new_owner};
use crate::jobs::model::{MusicJob, PublishType};
use crate::jobs::store::new_job_id;
use crate::state::MediaState;
use crate::upload::{FileLimit, FilePart, Form, client_tags, read_form, stored_payload};

/// Largest audio file: 50 MiB.
pub const MAX_FILE_SIZE: u64 = 50 * 1024 * 1024;
/// Jobs per user per rolling 24 h.
pub const DAILY_PUBLISH_COUNT_LIMIT: u64 = 20;
/// Bytes per user per rolling 24 h: 500 MiB.
pub const DAILY_UPLOAD_BYTES_LIMIT: u64 = 500 * 1024 * 1024;
/// Most client tags.
pub const MAX_UPLOAD_TAGS: usize = 50;
/// Longest fingerprint kept (characters).
pub const MAX_FINGERPRINT: usize = 32_000;
/// Longest idempotency key kept (characters).
pub const MAX_IDEMPOTENCY_KEY: usize = 128;
/// How often a start waiting for a concurrent start with the same key looks again.
const WAIT_POLL: Duration = Duration::from_millis(100);

const AUDIO_TYPES: [&str; 10] = [
    "audio/mpeg",
    "audio/mp3",
    "audio/wav",
    "audio/flac",
    "audio/ogg",
    "audio/aac",
    "audio/m4a",
    "audio/mp4",
    "audio/x-wav",
    "audio/webm",
];

fn too_large(n: u64) -> String {
    format!("File too large: {n} > {MAX_FILE_SIZE}")
}

/// The audio limit of the form reader.
pub const FILE_LIMIT: FileLimit = FileLimit {
    name: "file",
    max: MAX_FILE_SIZE,
    too_large,
};

/// The validated inputs of a start.
struct StartInput {
    content_type: String,
    publish_type: Option<PublishType>,
    idempotency_key: Option<String>,
    duration_s: Option<u64>,
    fingerprint: Option<String>,
    audio_sha256: Option<String>,
    tags: Vec<BlobTag>,
}

/// `Number(raw)` is a positive integer (the original's `asOptionalPositiveInt`).
pub fn positive_int(raw: &str) -> Option<u64> {
    let n: f64 = raw.trim().parse().ok()?;
    (n.is_finite() && n.fract() == 0.0 && n > 0.0 && n <= u64::MAX as f64).then_some(n as u64)
}

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// The handler.
pub async fn handle(State(state): State<MediaState>, request: Request) -> MediaResult<Fields> {
    let user = require_music_access(&state, request.headers()).await?;
    super::require_uploads(
        &state,
        "Music upload not configured (LOAD_S3_AGENT_API_KEY)",
    )?;
    let header_key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let form = read_form(request, &state.config().spool_dir, &[FILE_LIMIT], &[]).await?;
    let file = form
        .file("file")
        .ok_or_else(|| MediaError::bad_request("Missing file form field"))?;
    if file.size() == 0 {
        return Err(MediaError::bad_request("File is empty"));
    }
    check_quota(&state, &user, file.size()).await?;
    let content_type = non_empty(form.text("contentType"))
        .or(non_empty(file.content_type.as_deref()))
        .unwrap_or("application/octet-stream")
        .to_owned();
    if !AUDIO_TYPES.contains(&content_type.as_str()) && !content_type.starts_with("audio/") {
        return Err(MediaError::bad_request(format!(
            "Unsupported audio content type: {content_type}"
        )));
    }
    let publish_raw = form.text("publishType").unwrap_or_default().to_lowercase();
    let publish_raw = publish_raw.trim();
    let publish_type = PublishType::parse(publish_raw);
    if !publish_raw.is_empty() && publish_type.is_none() {
        return Err(MediaError::bad_request(
            "publishType must be original, derivative, or cover",
        ));
    }
    let key_raw = header_key
        .as_deref()
        .or(non_empty(form.text("idempotencyKey")))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let idempotency_key = (!key_raw.is_empty()).then(|| {
        key_raw
            .chars()
            .take(MAX_IDEMPOTENCY_KEY)
            .collect::<String>()
    });
    if let Some(key) = &idempotency_key
        && let Some(job_id) = state.idempotency().existing(&user, key).await?
    {
        return replay(&state, &user, &job_id).await;
    }
    let input = validate_rest(&form, content_type, publish_type, idempotency_key)?;
    stage(&state, &user, file, input).await
}

/// The quota of the original (§6.2), checked before the idempotency lookup as there.
async fn check_quota(state: &MediaState, user: &str, size: u64) -> MediaResult<()> {
    let since = state.now() - 24 * 60 * 60;
    let (count, bytes) = state.jobs().usage_since(user, since).await?;
    if count >= DAILY_PUBLISH_COUNT_LIMIT {
        return Err(MediaError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Daily publish limit exceeded",
        )
        .with("limit", DAILY_PUBLISH_COUNT_LIMIT));
    }
    if bytes + size > DAILY_UPLOAD_BYTES_LIMIT {
        return Err(MediaError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Daily upload bytes limit exceeded",
        )
        .with("limitBytes", DAILY_UPLOAD_BYTES_LIMIT)
        .with("usedBytes", bytes));
    }
    Ok(())
}

fn validate_rest(
    form: &Form,
    content_type: String,
    publish_type: Option<PublishType>,
    idempotency_key: Option<String>,
) -> MediaResult<StartInput> {
    let duration_raw = form.text("durationS");
    let duration_s = duration_raw.and_then(positive_int);
    if non_empty(duration_raw).is_some() && duration_s.is_none() {
        return Err(MediaError::bad_request(
            "durationS must be a positive integer when provided",
        ));
    }
    let fingerprint: String = form
        .text("fingerprint")
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_FINGERPRINT)
        .collect();
    let sha = form
        .text("audioSha256")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    if !sha.is_empty() && !is_sha256_hex(&sha) {
        return Err(MediaError::bad_request(
            "audioSha256 must be a 64-character lowercase hex string",
        ));
    }
    if publish_type == Some(PublishType::Original) && sha.is_empty() {
        return Err(MediaError::bad_request(
            "audioSha256 is required for original publishType",
        ));
    }
    let tags_raw = non_empty(form.text("tags")).unwrap_or("[]");
    let tags = match serde_json::from_str::<serde_json::Value>(tags_raw) {
        Ok(serde_json::Value::Array(items)) if items.len() > MAX_UPLOAD_TAGS => {
            return Err(MediaError::bad_request(format!(
                "tags must contain at most {MAX_UPLOAD_TAGS} entries"
            )));
        }
        Ok(value @ serde_json::Value::Array(_)) => client_tags(&value),
        _ => return Err(MediaError::bad_request("tags must be valid JSON array")),
    };
    Ok(StartInput {
        content_type,
        publish_type,
        idempotency_key,
        duration_s,
        fingerprint: (!fingerprint.is_empty()).then_some(fingerprint),
        audio_sha256: (!sha.is_empty()).then_some(sha),
        tags,
    })
}

async fn replay(state: &MediaState, user: &str, job_id: &str) -> MediaResult<Fields> {
    let stored = state
        .jobs()
        .get(user, job_id)
        .await?
        .ok_or_else(|| MediaError::internal("idempotent job vanished"))?;
    Ok(Fields::default()
        .with("existing", true)
        .with_job("job", &stored.job))
}

/// Reserves the key (if any), uploads, creates the job.
async fn stage(
    state: &MediaState,
    user: &str,
    file: &FilePart,
    input: StartInput,
) -> MediaResult<Fields> {
    let owner = new_owner();
    let mut job_id = new_job_id();
    if let Some(key) = &input.idempotency_key {
        loop {
            let now = state.now();
            let until = now + state.lease_secs();
            match state
                .idempotency()
                .claim(user, key, &owner, &job_id, now, until)
                .await?
            {
                Claim::Existing { job_id } => return replay(state, user, &job_id).await,
                Claim::Upload { job_id: reserved } => {
                    job_id = reserved;
                    break;
                }
                Claim::Wait { .. } => tokio::time::sleep(WAIT_POLL).await,
            }
        }
    }
    let staged = {
        let _renewal = input.idempotency_key.as_ref().map(|key| {
            let (state, user, key, owner) =
                (state.clone(), user.to_owned(), key.clone(), owner.clone());
            Heartbeat::start(state.config().lease / 3, move || {
                let (state, user, key, owner) =
                    (state.clone(), user.clone(), key.clone(), owner.clone());
                async move {
                    let until = state.now() + state.lease_secs();
                    state
                        .idempotency()
                        .renew(&user, &key, &owner, until)
                        .await
                        .unwrap_or(true)
                }
            })
        });
        upload(state, file, &input).await
    };
    let staged = match staged {
        Ok(staged) => staged,
        Err(err) => {
            if let Some(key) = &input.idempotency_key {
                state.idempotency().release(user, key, &owner).await?;
            }
            return Err(err);
        }
    };
    let now = state.now();
    let mut job = MusicJob::new(job_id.clone(), user.to_owned(), now);
    job.publish_type = input.publish_type;
    job.idempotency_key = input.idempotency_key.clone();
    job.file_name = (!file.file_name.is_empty()).then(|| file.file_name.clone());
    job.content_type = Some(input.content_type.clone());
    job.file_size = Some(file.size());
    job.audio_sha256 = input.audio_sha256.clone();
    job.fingerprint = input.fingerprint.clone();
    job.duration_s = input.duration_s;
    job.staged_payload_json = Some(stored_payload(&staged).to_string());
    job.staged_dataitem_id = Some(staged.id);
    job.staged_gateway_url = Some(staged.gateway_url);
    if !state.jobs().create(&job).await? {
        // A start that took over this key's expired reservation created it first.
        return replay(state, user, &job_id).await;
    }
    let stored = state.jobs().get(user, &job_id).await?.ok_or_else(|| {
        MediaError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to load created job",
        )
    })?;
    Ok(Fields::default()
        .with("existing", false)
        .with_job("job", &stored.job))
}

async fn upload(
    state: &MediaState,
    file: &FilePart,
    input: &StartInput,
) -> MediaResult<portability::StoredBlob> {
    let mut tags = vec![file.file_name_tag("upload.bin")];
    tags.extend(input.tags.iter().cloned());
    let body = file.stream().await.map_err(MediaError::internal)?;
    state
        .blobs()
        .put_stream(body, &input.content_type, &tags)
        .await
        .map_err(|e| MediaError::upstream("Load agent upload failed", e.to_string()))
}
