//! `POST /api/music/publish/:jobId/finalize` (Tempo finalize, Android's last step, §6.7): the
//! job goes `registering` under a lease, the identity canister's publishing signer registers
//! the track and its content on Tempo with its threshold-ECDSA roles (`finalize_track`; this
//! worker holds no key), and the job ends `registered` with the Tempo transaction hash, or
//! goes back to where it was with `tempo_finalize_failed`. Checks and answers are the
//! original's; a retry of the same request never sends a second transaction (ADR 0029).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use canister_bridge::PublishingError;
use identity_canister::endpoints::publishing::{
    FinalizeTrackReply, FinalizeTrackRequest, PublishError,
};
use serde_json::{Map, Value, json};

use crate::access::{normalize_address, require_music_access};
use crate::error::{Fields, MediaError, MediaResult};
use crate::jobs::anchor::truncate;
use crate::jobs::lease::{self, held_by_other, new_owner};
use crate::jobs::model::{JobStatus, LeasedStep, MusicJob};
use crate::jobs::registering::{self, Lock, LockRules};
use crate::js_value;
use crate::state::MediaState;

/// Longest `details` / `error_message` of a failed finalize (the original's 1024).
const DETAILS_MAX: usize = 1024;
/// The contracts' limit on title, artist, album and piece CID (bytes).
const FIELD_MAX_BYTES: usize = 128;
const MAX_BODY: usize = 64 * 1024;
const NOT_CONFIGURED: &str = "Tempo finalize is not configured";

/// The checked body of a finalize.
#[derive(Debug)]
struct FinalizeInput {
    title: String,
    artist: String,
    album: String,
    duration_s: u32,
    piece_cid: String,
    piece_cid_bytes: Vec<u8>,
    dataset_owner: String,
    algo: u8,
}

fn cached(job: &MusicJob) -> Fields {
    Fields::default().with_job("job", job).with(
        "registration",
        json!({ "cached": true, "tempoTxHash": job.megaeth_tx_hash }),
    )
}

fn finalized(job: &MusicJob) -> bool {
    job.status == JobStatus::Registered
        && job
            .megaeth_tx_hash
            .as_deref()
            .is_some_and(|h| !h.is_empty())
}

fn may_finalize(job: &MusicJob) -> bool {
    matches!(
        job.status,
        JobStatus::PolicyPassed | JobStatus::Anchored | JobStatus::Registered
    )
}

/// `parsePieceCidBytes`: `0x` hex (even length) is bytes, anything else its UTF-8.
fn piece_cid_bytes(value: &str) -> MediaResult<Vec<u8>> {
    if let Some(hex_digits) = value.strip_prefix("0x")
        && hex_digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        if hex_digits.len() % 2 != 0 {
            return Err(MediaError::bad_request(
                "pieceCid hex value must have even length",
            ));
        }
        return hex::decode(hex_digits).map_err(MediaError::internal);
    }
    Ok(value.as_bytes().to_vec())
}

/// The body checks, in the original's order (after the job's status checks).
fn parse_input(body: &[u8], job: &MusicJob, user: &str) -> MediaResult<FinalizeInput> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| MediaError::bad_request("Invalid JSON body"))?;
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    let text = |key: &str| -> MediaResult<String> {
        Ok(js_value::truthy_str(obj.get(key))?
            .unwrap_or_default()
            .trim()
            .to_owned())
    };
    let (title, artist, album) = (text("title")?, text("artist")?, text("album")?);
    if title.is_empty() {
        return Err(MediaError::bad_request("title is required"));
    }
    if artist.is_empty() {
        return Err(MediaError::bad_request("artist is required"));
    }
    for (name, v) in [("title", &title), ("artist", &artist), ("album", &album)] {
        if v.len() > FIELD_MAX_BYTES {
            return Err(MediaError::bad_request(format!(
                "{name} exceeds 128-byte UTF-8 contract limit"
            )));
        }
    }
    let duration_s = match obj.get("durationS") {
        None => job
            .duration_s
            .map(|d| d as f64)
            .map_or(Some(0), |d| js_value::integer_in(d, 0.0, u32::MAX as f64)),
        Some(Value::Null) => Some(0),
        Some(Value::String(s)) if s.is_empty() => Some(0),
        Some(v) => js_value::integer_in(js_value::number(v), 0.0, u32::MAX as f64),
    }
    .ok_or_else(|| {
        MediaError::bad_request("durationS must be an integer between 0 and 4294967295")
    })? as u32;
    let piece_cid = match js_value::truthy_str(obj.get("pieceCid"))? {
        Some(v) => v.trim().to_owned(),
        None => job
            .staged_dataitem_id
            .clone()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    };
    if piece_cid.is_empty() {
        return Err(MediaError::conflict(
            "pieceCid is required (missing staged_dataitem_id)",
        ));
    }
    let piece_cid_bytes = piece_cid_bytes(&piece_cid)?;
    if piece_cid_bytes.is_empty() {
        return Err(MediaError::bad_request("pieceCid is empty"));
    }
    if piece_cid_bytes.len() > FIELD_MAX_BYTES {
        return Err(MediaError::bad_request(
            "pieceCid exceeds 128-byte on-chain limit",
        ));
    }
    let dataset_owner = js_value::truthy_str(obj.get("datasetOwner"))?
        .map_or_else(|| Some(user.to_owned()), normalize_address)
        .ok_or_else(|| {
            MediaError::bad_request("datasetOwner must be a valid 0x address when provided")
        })?;
    let algo = match obj.get("algo") {
        None => Some(1),
        Some(v) => js_value::integer_in(js_value::number(v), 1.0, 255.0),
    }
    .ok_or_else(|| MediaError::bad_request("algo must be an integer between 1 and 255"))?
        as u8;
    Ok(FinalizeInput {
        title,
        artist,
        album,
        duration_s,
        piece_cid,
        piece_cid_bytes,
        dataset_owner,
        algo,
    })
}

/// The job's staged cover as the `ls3://` reference ScrobbleV4 keeps.
fn cover_ref(job: &MusicJob) -> Option<String> {
    job.cover_staged_dataitem_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| format!("ls3://{id}"))
}

/// The typed request for the signer; its id names this job and these fields.
fn signer_request(job: &MusicJob, input: &FinalizeInput) -> FinalizeTrackRequest {
    // The original skips a cover reference longer than the contract takes.
    let cover = cover_ref(job).filter(|c| c.len() <= FIELD_MAX_BYTES);
    let fields = json!([
        job.user_address,
        input.title,
        input.artist,
        input.album,
        input.duration_s,
        hex::encode(&input.piece_cid_bytes),
        input.dataset_owner,
        input.algo,
        cover,
    ]);
    FinalizeTrackRequest {
        request_id: registering::request_id("finalize", &job.job_id, &fields),
        user: job.user_address.clone(),
        title: input.title.clone(),
        artist: input.artist.clone(),
        album: input.album.clone(),
        duration_s: input.duration_s,
        piece_cid: input.piece_cid_bytes.clone(),
        dataset_owner: input.dataset_owner.clone(),
        algo: input.algo,
        cover_ref: cover,
    }
}

fn registration(
    reply: &FinalizeTrackReply,
    input: &FinalizeInput,
    tempo_tx_hash: Option<String>,
    cover: Option<String>,
) -> Value {
    json!({
        "chainId": reply.chain_id,
        "trackId": reply.track_id,
        "trackPayload": reply.track_payload,
        "contentId": reply.content_id,
        "pieceCid": input.piece_cid,
        "datasetOwner": input.dataset_owner,
        "algo": input.algo,
        "durationS": input.duration_s,
        "scrobbleTxHash": reply.scrobble_tx_hash,
        "contentTxHash": reply.content_tx_hash,
        "coverTxHash": reply.cover_tx_hash,
        "tempoTxHash": tempo_tx_hash,
        "trackRegistered": reply.track_registered,
        "contentRegistered": reply.content_registered,
        "coverSet": reply.cover_set,
        "coverRef": cover,
    })
}

/// How a signer failure is answered, and whether the job records it as failed.
enum Failure {
    /// 502 `Tempo finalize failed` with these details; the job gets `tempo_finalize_failed`.
    Chain(String),
    /// Answered as is; the job goes back unchanged.
    Refused(MediaError),
}

fn failure(err: PublishingError) -> Failure {
    match err {
        PublishingError::Canister(PublishError::NotConfigured(why)) => {
            tracing::error!(%why, "the publishing signer has Tempo finalize disabled");
            Failure::Refused(MediaError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                NOT_CONFIGURED,
            ))
        }
        PublishingError::Canister(PublishError::NotAuthorized) => {
            tracing::error!("this worker is not a publisher of the identity canister");
            Failure::Refused(MediaError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                NOT_CONFIGURED,
            ))
        }
        PublishingError::Canister(PublishError::InvalidRequest { reason, .. }) => {
            Failure::Refused(MediaError::bad_request(reason))
        }
        PublishingError::Canister(PublishError::InProgress(_)) => {
            Failure::Refused(MediaError::conflict("Finalize already in progress"))
        }
        other => Failure::Chain(truncate(&other.to_string(), DETAILS_MAX)),
    }
}

/// The handler.
pub async fn handle(
    State(state): State<MediaState>,
    Path(job_id): Path<String>,
    request: Request,
) -> MediaResult<Fields> {
    let user = require_music_access(&state, request.headers()).await?;
    let Some(signer) = state.publishing().cloned() else {
        return Err(MediaError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            NOT_CONFIGURED,
        ));
    };
    let row = state
        .jobs()
        .get(&user, &job_id)
        .await?
        .ok_or_else(MediaError::job_not_found)?
        .job;
    if finalized(&row) {
        return Ok(cached(&row));
    }
    let owner = new_owner();
    let now = state.now();
    if row.status == JobStatus::Registering
        && held_by_other(&row, LeasedStep::Register, &owner, now)
    {
        return Err(MediaError::conflict("Finalize already in progress").with_job("job", &row));
    }
    if row.status != JobStatus::Registering && !may_finalize(&row) {
        return Err(MediaError::conflict(format!(
            "Job must be policy_passed or anchored before finalize (current={})",
            row.status.as_str()
        ))
        .with_job("job", &row));
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| MediaError::bad_request("Invalid JSON body"))?;
    let input = parse_input(&body, &row, &user)?;

    let refused = |job: &MusicJob| {
        MediaError::conflict(format!(
            "Finalize lock not acquired (current={})",
            job.status.as_str()
        ))
        .with_job("job", job)
    };
    let locked = registering::lock(
        &state,
        &user,
        &job_id,
        &owner,
        LockRules {
            allowed: &may_finalize,
            done: &finalized,
            refused: &refused,
            not_found: "Job not found after finalize lock attempt",
        },
    )
    .await?;
    let taken = match locked {
        Lock::Done(job) => return Ok(cached(&job)),
        Lock::Taken { job, .. } => job.job,
    };

    let request = signer_request(&taken, &input);
    let cover = cover_ref(&taken);
    let outcome = {
        let _heartbeat = lease::keep_alive(&state, &user, &job_id, &owner);
        signer.finalize_track(request).await
    };
    match outcome {
        Ok(reply) => {
            let tempo_tx_hash = reply
                .tempo_tx_hash
                .clone()
                .or_else(|| taken.megaeth_tx_hash.clone());
            let job = registering::finish(
                &state,
                &user,
                &job_id,
                &owner,
                |job| {
                    job.status = JobStatus::Registered;
                    job.megaeth_tx_hash = tempo_tx_hash.clone();
                    job.error_code = None;
                    job.error_message = None;
                },
                refused,
            )
            .await?
            .ok_or_else(|| {
                MediaError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed to load finalized job",
                )
            })?;
            Ok(Fields::default().with_job("job", &job).with(
                "registration",
                registration(&reply, &input, tempo_tx_hash, cover),
            ))
        }
        Err(err) => {
            let failure = failure(err);
            let latest = registering::finish(
                &state,
                &user,
                &job_id,
                &owner,
                |job| {
                    job.status = registering::previous_status(job);
                    if let Failure::Chain(details) = &failure {
                        job.error_code = Some("tempo_finalize_failed".to_owned());
                        job.error_message = Some(details.clone());
                    }
                },
                refused,
            )
            .await?;
            let answer = match failure {
                Failure::Chain(details) => MediaError::upstream("Tempo finalize failed", details),
                Failure::Refused(answer) => answer,
            };
            Err(match latest {
                Some(job) => answer.with_job("job", &job),
                None => answer.with("job", Value::Null),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> MusicJob {
        let mut job = MusicJob::new("music_1".into(), "0xaaaa".into(), 1);
        job.staged_dataitem_id = Some("staged-id".into());
        job.duration_s = Some(215);
        job
    }

    fn parse(body: Value) -> MediaResult<FinalizeInput> {
        parse_input(body.to_string().as_bytes(), &job(), "0xaaaa")
    }

    fn message(r: MediaResult<FinalizeInput>) -> (u16, String) {
        let e = r.unwrap_err();
        (e.status.as_u16(), e.message().to_owned())
    }

    #[test]
    fn defaults_come_from_the_job_and_the_caller() {
        let input = parse(json!({"title": " Song ", "artist": "Artist"})).unwrap();
        assert_eq!(input.title, "Song");
        assert_eq!(input.duration_s, 215);
        assert_eq!(input.piece_cid, "staged-id");
        assert_eq!(input.piece_cid_bytes, b"staged-id");
        assert_eq!(input.dataset_owner, "0xaaaa");
        assert_eq!(input.algo, 1);
        let input = parse(json!({"title": "S", "artist": "A", "durationS": null,
            "pieceCid": "0x0a0B", "algo": "7"}))
        .unwrap();
        assert_eq!((input.duration_s, input.algo), (0, 7));
        assert_eq!(input.piece_cid_bytes, vec![0x0a, 0x0b]);
    }

    #[test]
    fn each_check_answers_the_originals_message() {
        assert_eq!(
            message(parse_input(b"{", &job(), "0xaaaa")),
            (400, "Invalid JSON body".into())
        );
        assert_eq!(
            message(parse(json!({"artist": "A"}))),
            (400, "title is required".into())
        );
        assert_eq!(
            message(parse(json!({"title": "T", "artist": "  "}))),
            (400, "artist is required".into())
        );
        assert_eq!(
            message(parse(
                json!({"title": "T", "artist": "A", "album": "é".repeat(65)})
            )),
            (400, "album exceeds 128-byte UTF-8 contract limit".into())
        );
        assert_eq!(
            message(parse(json!({"title": "T", "artist": "A", "durationS": -1}))),
            (
                400,
                "durationS must be an integer between 0 and 4294967295".into()
            )
        );
        assert_eq!(
            message(parse(
                json!({"title": "T", "artist": "A", "pieceCid": "0xabc"})
            )),
            (400, "pieceCid hex value must have even length".into())
        );
        assert_eq!(
            message(parse(
                json!({"title": "T", "artist": "A", "pieceCid": "0x"})
            )),
            (400, "pieceCid is empty".into())
        );
        assert_eq!(
            message(parse(
                json!({"title": "T", "artist": "A", "pieceCid": "x".repeat(129)})
            )),
            (400, "pieceCid exceeds 128-byte on-chain limit".into())
        );
        assert_eq!(
            message(parse(
                json!({"title": "T", "artist": "A", "datasetOwner": "0x12"})
            )),
            (
                400,
                "datasetOwner must be a valid 0x address when provided".into()
            )
        );
        assert_eq!(
            message(parse(json!({"title": "T", "artist": "A", "algo": 0}))),
            (400, "algo must be an integer between 1 and 255".into())
        );
        let mut unstaged = job();
        unstaged.staged_dataitem_id = None;
        assert_eq!(
            message(parse_input(
                br#"{"title":"T","artist":"A"}"#,
                &unstaged,
                "0xaaaa"
            )),
            (
                409,
                "pieceCid is required (missing staged_dataitem_id)".into()
            )
        );
    }

    #[test]
    fn the_signer_request_id_changes_with_the_fields_only() {
        let input = parse(json!({"title": "S", "artist": "A"})).unwrap();
        let mut with_cover = job();
        with_cover.cover_staged_dataitem_id = Some("cover".into());
        let a = signer_request(&job(), &input);
        assert_eq!(a.request_id, signer_request(&job(), &input).request_id);
        let b = signer_request(&with_cover, &input);
        assert_ne!(a.request_id, b.request_id);
        assert_eq!(b.cover_ref.as_deref(), Some("ls3://cover"));
        let mut long_cover = job();
        long_cover.cover_staged_dataitem_id = Some("c".repeat(128));
        assert_eq!(signer_request(&long_cover, &input).cover_ref, None);
        assert_eq!(cover_ref(&long_cover).map(|c| c.len()), Some(134));
    }
}
