//! `POST /api/music/publish/:jobId/register` (Story registration, §6.6): an anchored job goes
//! `registering` under a lease, the identity canister's publishing signer mints and registers
//! it as a Story IP with its story-sponsor role (`register_story_ip`; this worker holds no
//! key), and the job ends `registered` with the `story_*` columns, or goes back to `anchored`
//! with `story_register_failed`. Checks and answers are the original's; a retry of the same
//! request never mints twice (ADR 0029).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use canister_bridge::PublishingError;
use identity_canister::endpoints::publishing::{
    PublishError, RegisterStoryIpReply, RegisterStoryIpRequest, StoryTerms,
};
use serde_json::{Map, Value, json};

use crate::access::{normalize_address, require_music_access};
use crate::error::{Fields, MediaError, MediaResult};
use crate::jobs::anchor::truncate;
use crate::jobs::lease::{self, new_owner};
use crate::jobs::model::{JobStatus, MusicJob, PublishType, parse_string_array};
use crate::jobs::registering::{self, Lock, LockRules};
use crate::js_value;
use crate::routes::preflight::{is_address, license_terms};
use crate::state::MediaState;

const DETAILS_MAX: usize = 1024;
const MAX_BODY: usize = 64 * 1024;
const NOT_CONFIGURED: &str = "Story registration is not configured";

fn is_bytes32_hex(v: &str) -> bool {
    v.len() == 66
        && v.starts_with("0x")
        && v[2..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_hex_bytes(v: &str) -> bool {
    v.strip_prefix("0x")
        .is_some_and(|h| h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_digits(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
}

/// A checked register body, as the signer's typed request (its id set by the caller).
fn parse_input(
    body: &[u8],
    job: &MusicJob,
    user: &str,
    default_template: &str,
) -> MediaResult<RegisterStoryIpRequest> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| MediaError::bad_request("Invalid JSON body"))?;
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    let bad = MediaError::bad_request;
    let recipient = match js_value::truthy_str(obj.get("recipient"))? {
        Some(r) => normalize_address(r),
        None => Some(user.to_owned()),
    }
    .ok_or_else(|| bad("recipient must be a valid 0x address when provided"))?;
    let or_row = |key: &str, row: &Option<String>| -> MediaResult<String> {
        Ok(js_value::truthy_str(obj.get(key))?
            .map(str::to_owned)
            .or_else(|| row.clone())
            .unwrap_or_default()
            .trim()
            .to_owned())
    };
    let ip_uri = or_row("ipMetadataURI", &job.ip_metadata_uri)?;
    let nft_uri = or_row("nftMetadataURI", &job.nft_metadata_uri)?;
    if ip_uri.is_empty() || nft_uri.is_empty() {
        return Err(bad(
            "ipMetadataURI and nftMetadataURI are required (body or persisted metadata)",
        ));
    }
    let ip_hash = or_row("ipMetadataHash", &job.ip_metadata_hash)?.to_lowercase();
    let nft_hash = or_row("nftMetadataHash", &job.nft_metadata_hash)?.to_lowercase();
    if !is_bytes32_hex(&ip_hash) || !is_bytes32_hex(&nft_hash) {
        return Err(bad(
            "ipMetadataHash and nftMetadataHash must be 0x-prefixed 32-byte hex values (body or persisted metadata)",
        ));
    }
    // `body.commercialRevShare ?? 10` must be a number that is an integer.
    let rev_share = match obj.get("commercialRevShare") {
        None | Some(Value::Null) => Some(10),
        Some(Value::Number(n)) => n.as_f64().and_then(|f| js_value::integer_in(f, 0.0, 100.0)),
        Some(_) => None,
    }
    .ok_or_else(|| bad("commercialRevShare must be an integer between 0 and 100"))?;
    let default_minting_fee = obj
        .get("defaultMintingFee")
        .map_or_else(|| "0".to_owned(), js_value::string);
    if !is_digits(&default_minting_fee) {
        return Err(bad(
            "defaultMintingFee must be a non-negative integer string",
        ));
    }
    let mut parent_ip_ids =
        parse_string_array(job.parent_ip_ids_json.as_deref()).unwrap_or_default();
    if let Some(raw) = obj.get("parentIpIds") {
        parent_ip_ids = raw
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|v| v.as_str().map(|s| s.trim().to_owned()))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| bad("parentIpIds must be an array of strings"))?;
    }
    let mut license_terms_ids =
        parse_string_array(job.license_terms_ids_json.as_deref()).unwrap_or_default();
    if let Some(raw) = obj.get("licenseTermsIds") {
        license_terms_ids = license_terms(raw).ok_or_else(|| {
            bad("licenseTermsIds must be an array of positive integers (string or number)")
        })?;
    }
    let allow_duplicates = obj.get("allowDuplicates") != Some(&Value::Bool(false));
    let publish_type = job.publish_type.unwrap_or(PublishType::Original);
    let terms = if publish_type == PublishType::Original {
        StoryTerms::Original {
            commercial_rev_share: rev_share as u8,
            default_minting_fee,
        }
    } else {
        let template = js_value::truthy_str(obj.get("licenseTemplate"))?
            .unwrap_or(default_template)
            .trim()
            .to_owned();
        let royalty_context = js_value::truthy_str(obj.get("royaltyContext"))?
            .unwrap_or("0x")
            .trim()
            .to_owned();
        let max_minting_fee = obj
            .get("maxMintingFee")
            .map_or_else(|| "0".to_owned(), js_value::string);
        let bounded = |key: &str| {
            obj.get(key).map_or(Some(0), |v| {
                js_value::integer_in(js_value::number(v), 0.0, u32::MAX as f64)
            })
        };
        let (max_rts, max_revenue_share) = (bounded("maxRts"), bounded("maxRevenueShare"));
        if parent_ip_ids.is_empty() || license_terms_ids.is_empty() {
            return Err(bad(
                "Derivative/cover registration requires parentIpIds and licenseTermsIds",
            ));
        }
        if parent_ip_ids.len() != license_terms_ids.len() {
            return Err(bad(
                "parentIpIds and licenseTermsIds must have the same length",
            ));
        }
        if !parent_ip_ids.iter().all(|p| is_address(p)) {
            return Err(bad("parentIpIds must contain valid 0x-prefixed addresses"));
        }
        if !is_address(&template) {
            return Err(bad("licenseTemplate must be a valid 0x-prefixed address"));
        }
        if !is_hex_bytes(&royalty_context) {
            return Err(bad("royaltyContext must be a 0x-prefixed hex byte string"));
        }
        if !is_digits(&max_minting_fee) {
            return Err(bad("maxMintingFee must be a non-negative integer string"));
        }
        let max_rts =
            max_rts.ok_or_else(|| bad("maxRts must be an integer between 0 and 4294967295"))?;
        let max_revenue_share = max_revenue_share
            .ok_or_else(|| bad("maxRevenueShare must be an integer between 0 and 4294967295"))?;
        StoryTerms::Derivative {
            parent_ip_ids,
            license_terms_ids,
            license_template: template,
            royalty_context: hex::decode(&royalty_context[2..]).map_err(MediaError::internal)?,
            max_minting_fee,
            max_rts: max_rts as u32,
            max_revenue_share: max_revenue_share as u32,
        }
    };
    Ok(RegisterStoryIpRequest {
        request_id: String::new(),
        recipient,
        ip_metadata_uri: ip_uri,
        ip_metadata_hash: ip_hash,
        nft_metadata_uri: nft_uri,
        nft_metadata_hash: nft_hash,
        allow_duplicates,
        terms,
    })
}

/// The fields a request id is derived from (everything but the id).
fn fingerprint(request: &RegisterStoryIpRequest) -> Value {
    let terms = match &request.terms {
        StoryTerms::Original {
            commercial_rev_share,
            default_minting_fee,
        } => json!(["original", commercial_rev_share, default_minting_fee]),
        StoryTerms::Derivative {
            parent_ip_ids,
            license_terms_ids,
            license_template,
            royalty_context,
            max_minting_fee,
            max_rts,
            max_revenue_share,
        } => json!([
            "derivative",
            parent_ip_ids,
            license_terms_ids,
            license_template,
            hex::encode(royalty_context),
            max_minting_fee,
            max_rts,
            max_revenue_share
        ]),
    };
    json!([
        request.recipient,
        request.ip_metadata_uri,
        request.ip_metadata_hash,
        request.nft_metadata_uri,
        request.nft_metadata_hash,
        request.allow_duplicates,
        terms
    ])
}

fn registration(reply: &RegisterStoryIpReply) -> Value {
    json!({
        "txHash": reply.tx_hash,
        "blockNumber": reply.block_number.to_string(),
        "ipId": reply.ip_id,
        "tokenId": reply.token_id,
        "licenseTermsIds": reply.license_terms_ids,
    })
}

enum Failure {
    Chain(String),
    Refused(MediaError),
}

fn failure(err: PublishingError) -> Failure {
    let not_configured = || {
        Failure::Refused(MediaError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            NOT_CONFIGURED,
        ))
    };
    match err {
        PublishingError::Canister(PublishError::NotConfigured(why)) => {
            tracing::error!(%why, "the publishing signer has Story registration disabled");
            not_configured()
        }
        PublishingError::Canister(PublishError::NotAuthorized) => {
            tracing::error!("this worker is not a publisher of the identity canister");
            not_configured()
        }
        PublishingError::Canister(PublishError::InvalidRequest { reason, .. }) => {
            Failure::Refused(MediaError::bad_request(reason))
        }
        PublishingError::Canister(PublishError::InProgress(_)) => Failure::Refused(
            MediaError::conflict("Register lock not acquired (current=registering)"),
        ),
        other => Failure::Chain(truncate(&other.to_string(), DETAILS_MAX)),
    }
}

fn in_registration(job: &MusicJob) -> bool {
    matches!(job.status, JobStatus::Registering | JobStatus::Registered)
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
    let owner = new_owner();
    let now = state.now();
    let expired = registering::expired_registering(&row, &owner, now)
        && registering::previous_status(&row) == JobStatus::Anchored;
    if in_registration(&row) && !expired {
        return Ok(Fields::default().with_job("job", &row));
    }
    if row.status != JobStatus::Anchored && !expired {
        return Err(MediaError::conflict(format!(
            "Job must be anchored before register (current={})",
            row.status.as_str()
        ))
        .with_job("job", &row));
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| MediaError::bad_request("Invalid JSON body"))?;
    let mut typed = parse_input(&body, &row, &user, &state.config().story_license_template)?;
    typed.request_id = registering::request_id("register", &job_id, &fingerprint(&typed));

    let refused = |job: &MusicJob| {
        MediaError::conflict(format!(
            "Register lock not acquired (current={})",
            job.status.as_str()
        ))
        .with_job("job", job)
    };
    let anchored = |job: &MusicJob| job.status == JobStatus::Anchored;
    let never = |_: &MusicJob| false;
    let locked = registering::lock(
        &state,
        &user,
        &job_id,
        &owner,
        LockRules {
            allowed: &anchored,
            done: &never,
            refused: &refused,
            not_found: "Job not found after register lock attempt",
        },
    )
    .await?;
    if let Lock::Done(job) = locked {
        return Ok(Fields::default().with_job("job", &job));
    }

    let outcome = {
        let _heartbeat = lease::keep_alive(&state, &user, &job_id, &owner);
        signer.register_story_ip(typed).await
    };
    match outcome {
        Ok(reply) => {
            let job = registering::finish(
                &state,
                &user,
                &job_id,
                &owner,
                |job| {
                    job.status = JobStatus::Registered;
                    job.story_tx_hash = Some(reply.tx_hash.clone());
                    job.story_ip_id = Some(reply.ip_id.clone());
                    job.story_token_id = Some(reply.token_id.clone());
                    job.story_license_terms_ids_json =
                        serde_json::to_string(&reply.license_terms_ids).ok();
                    job.story_block_number = Some(reply.block_number.to_string());
                    job.error_code = None;
                    job.error_message = None;
                },
                refused,
            )
            .await?
            .ok_or_else(|| {
                MediaError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed to load registered job",
                )
            })?;
            Ok(Fields::default()
                .with_job("job", &job)
                .with("registration", registration(&reply)))
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
                        job.error_code = Some("story_register_failed".to_owned());
                        job.error_message = Some(details.clone());
                    }
                },
                refused,
            )
            .await?;
            let answer = match failure {
                Failure::Chain(details) => {
                    MediaError::upstream("Story registration failed", details)
                }
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

    const HASH: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
    const PARENT: &str = "0x2222222222222222222222222222222222222222";

    fn anchored(publish_type: PublishType) -> MusicJob {
        let mut job = MusicJob::new("music_1".into(), "0xaaaa".into(), 1);
        job.status = JobStatus::Anchored;
        job.publish_type = Some(publish_type);
        job.ip_metadata_uri = Some("ar://ip".into());
        job.ip_metadata_hash = Some(HASH.into());
        job.nft_metadata_uri = Some("ar://nft".into());
        job.nft_metadata_hash = Some(HASH.to_uppercase().replace("0X", "0x"));
        job
    }

    fn parse(job: &MusicJob, body: Value) -> MediaResult<RegisterStoryIpRequest> {
        parse_input(
            body.to_string().as_bytes(),
            job,
            "0xaaaa",
            crate::config::DEFAULT_STORY_PIL_LICENSE_TEMPLATE,
        )
    }

    fn message(r: MediaResult<RegisterStoryIpRequest>) -> String {
        r.unwrap_err().message().to_owned()
    }

    #[test]
    fn an_original_takes_the_persisted_metadata_and_the_default_terms() {
        let request = parse(&anchored(PublishType::Original), json!({})).unwrap();
        assert_eq!(request.recipient, "0xaaaa");
        assert_eq!(request.ip_metadata_uri, "ar://ip");
        assert_eq!(request.nft_metadata_hash, HASH, "hashes are lowercased");
        assert!(request.allow_duplicates);
        assert_eq!(
            request.terms,
            StoryTerms::Original {
                commercial_rev_share: 10,
                default_minting_fee: "0".into()
            }
        );
        let request = parse(
            &anchored(PublishType::Original),
            json!({"commercialRevShare": 25, "defaultMintingFee": 5, "allowDuplicates": false}),
        )
        .unwrap();
        assert!(!request.allow_duplicates);
        assert_eq!(
            request.terms,
            StoryTerms::Original {
                commercial_rev_share: 25,
                default_minting_fee: "5".into()
            }
        );
    }

    #[test]
    fn each_check_answers_the_originals_message() {
        let original = anchored(PublishType::Original);
        assert_eq!(
            message(parse(&original, json!({"recipient": "nope"}))),
            "recipient must be a valid 0x address when provided"
        );
        let mut bare = anchored(PublishType::Original);
        bare.nft_metadata_uri = None;
        assert_eq!(
            message(parse(&bare, json!({}))),
            "ipMetadataURI and nftMetadataURI are required (body or persisted metadata)"
        );
        assert_eq!(
            message(parse(&original, json!({"ipMetadataHash": "0x12"}))),
            "ipMetadataHash and nftMetadataHash must be 0x-prefixed 32-byte hex values (body or persisted metadata)"
        );
        assert_eq!(
            message(parse(&original, json!({"commercialRevShare": "10"}))),
            "commercialRevShare must be an integer between 0 and 100"
        );
        assert_eq!(
            message(parse(&original, json!({"defaultMintingFee": "-1"}))),
            "defaultMintingFee must be a non-negative integer string"
        );
        assert_eq!(
            message(parse(&original, json!({"parentIpIds": [1]}))),
            "parentIpIds must be an array of strings"
        );
        assert_eq!(
            message(parse(&original, json!({"licenseTermsIds": ["x"]}))),
            "licenseTermsIds must be an array of positive integers (string or number)"
        );
        let cover = anchored(PublishType::Cover);
        assert_eq!(
            message(parse(&cover, json!({}))),
            "Derivative/cover registration requires parentIpIds and licenseTermsIds"
        );
        let linked = |extra: Value| {
            let mut body = json!({"parentIpIds": [PARENT], "licenseTermsIds": ["1"]});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            parse(&cover, body)
        };
        assert_eq!(
            message(linked(json!({"licenseTermsIds": ["1", "2"]}))),
            "parentIpIds and licenseTermsIds must have the same length"
        );
        assert_eq!(
            message(linked(json!({"parentIpIds": ["0x12"]}))),
            "parentIpIds must contain valid 0x-prefixed addresses"
        );
        assert_eq!(
            message(linked(json!({"licenseTemplate": "0x12"}))),
            "licenseTemplate must be a valid 0x-prefixed address"
        );
        assert_eq!(
            message(linked(json!({"royaltyContext": "0xabc"}))),
            "royaltyContext must be a 0x-prefixed hex byte string"
        );
        assert_eq!(
            message(linked(json!({"maxMintingFee": "1.5"}))),
            "maxMintingFee must be a non-negative integer string"
        );
        assert_eq!(
            message(linked(json!({"maxRts": 4294967296u64}))),
            "maxRts must be an integer between 0 and 4294967295"
        );
        assert_eq!(
            message(linked(json!({"maxRevenueShare": -1}))),
            "maxRevenueShare must be an integer between 0 and 4294967295"
        );
        let ok = linked(json!({"royaltyContext": "0xab", "maxRts": "7"})).unwrap();
        assert_eq!(
            ok.terms,
            StoryTerms::Derivative {
                parent_ip_ids: vec![PARENT.into()],
                license_terms_ids: vec!["1".into()],
                license_template: crate::config::DEFAULT_STORY_PIL_LICENSE_TEMPLATE.into(),
                royalty_context: vec![0xab],
                max_minting_fee: "0".into(),
                max_rts: 7,
                max_revenue_share: 0,
            }
        );
    }

    #[test]
    fn request_ids_follow_the_fields() {
        let job = anchored(PublishType::Original);
        let a = parse(&job, json!({})).unwrap();
        let b = parse(&job, json!({"commercialRevShare": 11})).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(
            fingerprint(&a),
            fingerprint(&parse(&job, json!({})).unwrap())
        );
    }
}
