//! api-core's `/api/self/*` routes: Self.xyz passport verification. A wallet opens a session
//! (a deeplink into the Self app), Self's relayer posts the proof to the webhook, the client
//! polls the session, and other services read the stored identity, whose app-scoped
//! nullifier ([`nullifier`]) is the short-name credential of the names policy.
//!
//! Mock mode verifies any well-formed webhook for a pending session, as the original did.
//! Outside it (where the original always failed) a configured verifier checks the proof as
//! Self's `SelfBackendVerifier` does: locally first ([`checks`]), then on Celo ([`celo`]);
//! without a verifier the webhook answers the original's "Production verification not yet
//! implemented". See docs/self-verification.md.

pub mod age;
pub mod celo;
pub mod checks;
pub mod context;
pub mod deeplink;
pub mod disclose;
pub mod nullifier;
pub mod settings;

use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{ApiError, ApiRequest, ApiResponse, ApiResult, Field, Now, Rng};
use crate::primitives::{Address, Bytes32};
use crate::secret::sha256_hex;
use crate::state::audit::process_event;
use crate::state::event::EventType;
use canister_runtime::Runtime;

use crate::state::{
    self, Cbor, IdentityRecord, SelfConfig, SelfSession, SelfVerifierConfig, State,
};

use age::{Date, age_on};

/// A session stays pending for 10 minutes.
pub const SESSION_TTL_SECS: u64 = 10 * 60;

fn invalid_json() -> ApiError {
    ApiError::error(400, "Invalid JSON body")
}

/// Body of `POST /api/self/session`.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SessionBody {
    user_address: Field,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionCreated {
    session_id: String,
    deeplink_url: String,
    expires_at: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlreadyVerified<'a> {
    error: &'a str,
    age: Option<i64>,
    nationality: Option<&'a str>,
    has_short_name_credential: bool,
}

/// Whether a stored nullifier is a valid bytes32 (the original's `normalizeBytes32`).
fn has_credential(identity: &IdentityRecord) -> bool {
    identity
        .nullifier_hash
        .as_deref()
        .and_then(|n| Bytes32::parse(&n.trim().to_lowercase()))
        .is_some()
}

/// The webhook URL the deeplink names: `SELF_ENDPOINT`, else this request's origin +
/// `/api/self/verify` (the scheme from `X-Forwarded-Proto`, else `http` for a loopback host
/// and `https` otherwise).
fn endpoint(config: &SelfConfig, req: &ApiRequest) -> String {
    if let Some(configured) = config
        .endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        return configured.to_string();
    }
    let host = req.header("host").unwrap_or("localhost").trim();
    let loopback = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|h| host == *h || host.starts_with(&format!("{h}:")));
    let scheme = req
        .header("x-forwarded-proto")
        .map(|p| p.split(',').next().unwrap_or("").trim().to_string())
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| if loopback { "http" } else { "https" }.to_string());
    format!("{scheme}://{host}/api/self/verify")
}

fn session_answer(config: &SelfConfig, req: &ApiRequest, session: &SelfSession) -> ApiResponse {
    let endpoint = endpoint(config, req);
    ApiResponse::ok(&SessionCreated {
        session_id: session.session_id.clone(),
        deeplink_url: deeplink::deeplink_url(
            config,
            &session.session_id,
            &session.user_address,
            &endpoint,
        ),
        expires_at: session.expires_at,
    })
}

/// The newest pending session of `address` still valid at `now` (`expires_at > now`).
fn open_session(s: &State, address: &str, now: Now) -> Option<SelfSession> {
    let prefix = format!("{address}|");
    let keys: Vec<String> = s
        .self_sessions_by_user()
        .keys_range(prefix.clone()..)
        .take_while(|k| k.starts_with(&prefix))
        .collect();
    keys.iter().rev().find_map(|key| {
        let id = key.rsplit('|').next()?;
        let Cbor(session) = s.self_sessions().get(&id.to_string())?;
        (session.status == "pending" && session.expires_at > now.secs()).then_some(session)
    })
}

/// `POST /api/self/session`.
pub fn create_session(req: &ApiRequest, now: Now, rng: &mut Rng) -> ApiResult {
    let body: SessionBody = req.json(invalid_json)?;
    let address = body
        .user_address
        .as_str()
        .filter(|a| !a.is_empty())
        .and_then(Address::parse_normalized)
        .ok_or_else(|| ApiError::error(400, "Invalid address"))?
        .lower_hex();
    state::mutate(|s| {
        if let Some(Cbor(identity)) = s.identities().get(&address)
            && has_credential(&identity)
        {
            return Err(ApiError::with_body(
                400,
                &AlreadyVerified {
                    error: "Already verified",
                    age: identity.age_at_verification,
                    nationality: identity.nationality.as_deref(),
                    has_short_name_credential: true,
                },
            ));
        }
        let config = s.config().self_verification.clone();
        if let Some(session) = open_session(s, &address, now) {
            return Ok(session_answer(&config, req, &session));
        }
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        let session_id = hex::encode(bytes);
        let expires_at = now.secs() + SESSION_TTL_SECS;
        process_event(
            s,
            now,
            EventType::SelfSessionCreated {
                session_id: session_id.clone(),
                user_address: address.clone(),
                expires_at,
            },
        );
        let session = s
            .self_sessions()
            .get(&session_id)
            .map(|c| c.0)
            .expect("the session was just created");
        Ok(session_answer(&config, req, &session))
    })
}

/// Body of `POST /api/self/verify` (Self's relayer).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyBody {
    attestation_id: Field,
    proof: Field,
    public_signals: Field,
    user_context_data: Field,
}

#[derive(Serialize)]
struct WebhookAnswer<'a> {
    status: &'a str,
    result: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn webhook_error(reason: &str) -> ApiResponse {
    ApiResponse::ok(&WebhookAnswer {
        status: "error",
        result: false,
        reason: Some(reason),
    })
}

/// A number or string as JavaScript's template literal prints it (`undefined` when absent).
fn js_text(field: &Field) -> String {
    match field.value() {
        None => "undefined".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match field.integer() {
            Some(i) => i.to_string(),
            None => n.to_string(),
        },
        Some(Value::Null) => "null".into(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(_) => "[object Object]".into(),
    }
}

/// The attestation id as the `self_verifications.attestation_id` INTEGER column keeps it.
fn attestation_integer(field: &Field) -> Option<i64> {
    field
        .integer()
        .or_else(|| field.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The answer to a body whose `attestationId` is missing or not a number (the original could
/// not store it: 500).
fn invalid_attestation() -> ApiError {
    ApiError::with_body(
        400,
        &WebhookAnswer {
            status: "error",
            result: false,
            reason: Some("Invalid attestationId"),
        },
    )
}

/// Marks the session failed with `reason` and answers it.
fn fail(s: &mut State, now: Now, session_id: &str, reason: &str) -> ApiResult {
    let event = EventType::SelfSessionFailed {
        session_id: session_id.to_string(),
        reason: reason.to_string(),
    };
    process_event(s, now, event);
    Ok(webhook_error(reason))
}

fn success() -> ApiResult {
    Ok(ApiResponse::ok(&WebhookAnswer {
        status: "success",
        result: true,
        reason: None,
    }))
}

/// What the webhook carries, read once.
struct Webhook<'a> {
    body: &'a VerifyBody,
    context: &'a str,
    signals: Vec<Option<String>>,
}

impl Webhook<'_> {
    fn proof_hash(&self) -> String {
        let proof_json = match self.body.proof.value() {
            Some(v) => serde_json::to_string(v).expect("JSON values serialize"),
            None => String::new(),
        };
        sha256_hex(&proof_json)
    }

    fn nullifier(&self, config: &SelfConfig, session: &SelfSession) -> Option<String> {
        let attestation_text = js_text(&self.body.attestation_id);
        nullifier::derive(&nullifier::NullifierInput {
            attestation_id: &attestation_text,
            public_signals: &self.signals,
            user_address: &session.user_address,
            user_context_data: self.context,
            mock: config.mock,
            namespace: config.nullifier_namespace.trim(),
            scope: config.scope.trim(),
        })
    }
}

/// A verification that passed every local check and waits for the chain's verdict.
struct AwaitingChain {
    session_id: String,
    verifier: SelfVerifierConfig,
    checked: checks::Checked,
    proof_hash: String,
    nullifier_hash: String,
}

/// The first (synchronous) step of the webhook.
enum FirstStep {
    Answered(ApiResult),
    Chain(Box<AwaitingChain>),
}

/// Mock mode: the `dob:` / `nat:` segments stand for the proof, as the original.
fn verify_mock(
    s: &mut State,
    now: Now,
    hook: &Webhook,
    config: &SelfConfig,
    session: &SelfSession,
) -> ApiResult {
    let session_id = session.session_id.as_str();
    let (dob, nationality) = context::mock_disclosures(hook.context);
    // An unreadable date is a failed verification (the original computed NaN and crashed).
    let Some(birth) = Date::parse(&dob) else {
        return fail(s, now, session_id, "Verification failed");
    };
    let age = age_on(birth, Date::from_unix_secs(now.secs()));
    if age < 18 {
        return fail(s, now, session_id, "Must be 18 or older");
    }
    let Some(attestation_id) = attestation_integer(&hook.body.attestation_id) else {
        return Err(invalid_attestation());
    };
    let Some(nullifier_hash) = hook.nullifier(config, session) else {
        return fail(s, now, session_id, "Missing nullifier in publicSignals");
    };
    let event = EventType::SelfVerified {
        session_id: session_id.to_string(),
        date_of_birth: dob,
        age,
        nationality,
        attestation_id,
        proof_hash: hook.proof_hash(),
        nullifier_hash,
    };
    process_event(s, now, event);
    success()
}

/// Outside mock mode: every check that needs no chain (docs/self-verification.md).
fn check_locally(
    s: &mut State,
    now: Now,
    hook: &Webhook,
    config: &SelfConfig,
    session: &SelfSession,
) -> FirstStep {
    let Some(verifier) = config.verifier.clone() else {
        return FirstStep::Answered(Ok(webhook_error(
            "Production verification not yet implemented",
        )));
    };
    let session_id = session.session_id.as_str();
    let Some(attestation_id) = attestation_integer(&hook.body.attestation_id) else {
        return FirstStep::Answered(Err(invalid_attestation()));
    };
    let submission = checks::Submission {
        attestation_id,
        proof: hook.body.proof.value(),
        public_signals: &hook.signals,
        user_context_data: hook.context,
        session_address: &session.user_address,
        now_secs: now.secs(),
    };
    let checked = match checks::check(&verifier, &submission) {
        Ok(checked) => checked,
        Err(reason) => return FirstStep::Answered(fail(s, now, session_id, &reason)),
    };
    let Some(nullifier_hash) = hook.nullifier(config, session) else {
        let reason = "Missing nullifier in publicSignals";
        return FirstStep::Answered(fail(s, now, session_id, reason));
    };
    FirstStep::Chain(Box::new(AwaitingChain {
        session_id: session_id.to_string(),
        verifier,
        checked,
        proof_hash: hook.proof_hash(),
        nullifier_hash,
    }))
}

/// Session checks, then mock mode or the local checks of a real proof.
fn first_step(s: &mut State, now: Now, hook: &Webhook, session_id: String) -> FirstStep {
    let Some(Cbor(session)) = s.self_sessions().get(&session_id) else {
        return FirstStep::Answered(Ok(webhook_error("Session not found")));
    };
    if session.status != "pending" {
        let reason = format!("Session already {}", session.status);
        return FirstStep::Answered(Ok(webhook_error(&reason)));
    }
    if session.expires_at < now.secs() {
        process_event(s, now, EventType::SelfSessionExpired { session_id });
        return FirstStep::Answered(Ok(webhook_error("Session expired")));
    }
    let config = s.config().self_verification.clone();
    if config.mock {
        return FirstStep::Answered(verify_mock(s, now, hook, &config, &session));
    }
    check_locally(s, now, hook, &config, &session)
}

/// Records the chain's verdict, unless the session moved on meanwhile.
fn finish(
    s: &mut State,
    now: Now,
    awaiting: AwaitingChain,
    verdict: Result<celo::ChainVerdict, celo::ChainUnavailable>,
) -> ApiResult {
    let session_id = awaiting.session_id.as_str();
    let Some(Cbor(session)) = s.self_sessions().get(&awaiting.session_id) else {
        return Ok(webhook_error("Session not found"));
    };
    if session.status != "pending" {
        return Ok(webhook_error(&format!(
            "Session already {}",
            session.status
        )));
    }
    match verdict {
        Err(unavailable) => {
            canister_runtime::print(&format!("self verify: {unavailable}"));
            Ok(webhook_error(&format!(
                "Verification unavailable, try again: {unavailable}"
            )))
        }
        Ok(celo::ChainVerdict::UnknownRoot) => {
            fail(s, now, session_id, "Onchain root does not exist")
        }
        Ok(celo::ChainVerdict::InvalidProof) => fail(s, now, session_id, "Invalid proof"),
        Ok(celo::ChainVerdict::Valid) => {
            let c = awaiting.checked;
            let event = EventType::SelfVerified {
                session_id: awaiting.session_id,
                date_of_birth: c.date_of_birth,
                age: c.age,
                nationality: c.nationality,
                attestation_id: i64::from(c.attestation_id),
                proof_hash: awaiting.proof_hash,
                nullifier_hash: awaiting.nullifier_hash,
            };
            process_event(s, now, event);
            success()
        }
    }
}

/// `POST /api/self/verify`: always HTTP 200 with `{status, result, reason?}` (Self expects
/// 200 even on errors), except a body that is not a JSON object (400; the original 500) and a
/// missing or non-numeric `attestationId` (400, the session stays pending). Outside mock mode
/// the proof is checked locally, then on Celo ([`celo::judge`]); when the chain cannot be
/// asked nothing is recorded and the session stays pending.
pub async fn verify<R: Runtime>(rt: &R, req: &ApiRequest, now: Now) -> ApiResult {
    let body: VerifyBody = req.json(|| {
        ApiError::with_body(
            400,
            &WebhookAnswer {
                status: "error",
                result: false,
                reason: Some("Invalid JSON body"),
            },
        )
    })?;
    // A context that is not a string names no session (the original threw on non-strings).
    let context = body.user_context_data.as_str().unwrap_or("");
    let Some(session_id) = context::extract_session_id(context) else {
        return Ok(webhook_error("Missing session ID in userContextData"));
    };
    let signals: Vec<Option<String>> = match body.public_signals.value() {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let hook = Webhook {
        body: &body,
        context,
        signals,
    };
    let awaiting = match state::mutate(|s| first_step(s, now, &hook, session_id)) {
        FirstStep::Answered(answer) => return answer,
        FirstStep::Chain(awaiting) => *awaiting,
    };
    // `set_self_config` checked the address; a state that holds a bad one records nothing.
    let Ok(hub) = awaiting.verifier.hub.parse() else {
        return Ok(webhook_error(
            "Verification unavailable: the hub address is invalid",
        ));
    };
    let verdict = celo::judge(
        rt,
        &awaiting.verifier.rpc_url,
        hub,
        awaiting.checked.attestation_id,
        awaiting.checked.root,
        &awaiting.checked.proof,
        &awaiting.checked.signals,
    )
    .await;
    state::mutate(|s| finish(s, now, awaiting, verdict))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionStatus<'a> {
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nationality: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn status_answer(session: &SelfSession) -> ApiResponse {
    let verified = session.status == "verified";
    let failed = session.status == "failed";
    ApiResponse::ok(&SessionStatus {
        status: &session.status,
        age: session.age.filter(|_| verified),
        nationality: session.nationality.as_deref().filter(|_| verified),
        verified_at: session.verified_at.filter(|_| verified),
        reason: failed.then(|| session.failure_reason.as_deref().unwrap_or("Unknown error")),
    })
}

/// Whether a session must be marked expired before it is answered.
fn expires_now(session: &SelfSession, now: Now) -> bool {
    session.status == "pending" && session.expires_at < now.secs()
}

/// `GET /api/self/session/:id` read-only: `None` when the session must first be marked
/// expired (an update does it).
pub fn session_status_query(session_id: &str, now: Now) -> Option<ApiResult> {
    let found = state::with(|s| s.self_sessions().get(&session_id.to_string()));
    let Some(Cbor(session)) = found else {
        return Some(Err(ApiError::error(404, "Session not found")));
    };
    (!expires_now(&session, now)).then(|| Ok(status_answer(&session)))
}

/// `GET /api/self/session/:id`, marking a pending session past its expiry `expired`.
pub fn session_status(session_id: &str, now: Now) -> ApiResult {
    state::mutate(|s| {
        let Some(Cbor(mut session)) = s.self_sessions().get(&session_id.to_string()) else {
            return Err(ApiError::error(404, "Session not found"));
        };
        if expires_now(&session, now) {
            let event = EventType::SelfSessionExpired {
                session_id: session.session_id.clone(),
            };
            process_event(s, now, event);
            session.status = "expired".into();
        }
        Ok(status_answer(&session))
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentityAnswer<'a> {
    address: &'a str,
    date_of_birth: Option<&'a str>,
    age_at_verification: Option<i64>,
    current_age: Option<i64>,
    nationality: Option<&'a str>,
    verified_at: u64,
    has_short_name_credential: bool,
}

/// `GET /api/self/identity/:address`. `currentAge` is recomputed at `now`; identities imported
/// without a date of birth answer `null` for the fields they lack.
pub fn identity(address: &str, now: Now) -> ApiResult {
    let address = Address::parse_normalized(address)
        .ok_or_else(|| ApiError::error(400, "Invalid address"))?
        .lower_hex();
    let Some(Cbor(identity)) = state::with(|s| s.identities().get(&address)) else {
        return Err(ApiError::error(404, "No verified identity found"));
    };
    let today = Date::from_unix_secs(now.secs());
    let current_age = identity
        .date_of_birth
        .as_deref()
        .and_then(Date::parse)
        .map(|birth| age_on(birth, today));
    Ok(ApiResponse::ok(&IdentityAnswer {
        address: &identity.address,
        date_of_birth: identity.date_of_birth.as_deref(),
        age_at_verification: identity.age_at_verification,
        current_age,
        nationality: identity.nationality.as_deref(),
        verified_at: identity.verified_at,
        has_short_name_credential: has_credential(&identity),
    }))
}

/// Paths whose answers are certified: `/api/self/session/<id>` and
/// `/api/self/identity/<lowercase address>`.
pub fn session_path(session_id: &str) -> String {
    format!("/api/self/session/{session_id}")
}

/// See [`session_path`].
pub fn identity_path(address: &str) -> String {
    format!("/api/self/identity/{address}")
}

/// The address whose identity a session verifies.
pub fn session_owner(session_id: &str) -> Option<String> {
    state::with(|s| s.self_sessions().get(&session_id.to_string())).map(|c| c.0.user_address)
}

/// Every session id and identity address (certification rebuild).
pub fn all_keys() -> (Vec<String>, Vec<String>) {
    state::with(|s| {
        (
            s.self_sessions().keys().collect(),
            s.identities().keys().collect(),
        )
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod verifier_tests;
