//! [`CanisterAgent`]: the worker's one ic-agent `Agent`, with a timeout on every call and
//! updates that survive an ambiguous outcome. An update is signed once; if its submission
//! times out or the connection drops, the status of that same request id is read back
//! (`read_state`), and only if the IC does not know it are the same signed bytes submitted
//! again. The IC executes a request id at most once, so a retry never doubles the effect.

use std::time::{Duration, Instant};

use candid::Principal;
use ic_agent::agent::{CallResponse, RequestStatusResponse};
use ic_agent::identity::Secp256k1Identity;
use ic_agent::{Agent, AgentError, RequestId};

use crate::config::{BridgeConfig, ConfigError, Network, PemSource};
use crate::error::BridgeError;

/// How many times an update is submitted at most (the first try and the resubmissions after
/// ambiguous outcomes).
pub const MAX_SUBMISSIONS: u32 = 3;

/// The agent and its timeout.
#[derive(Clone)]
pub struct CanisterAgent {
    agent: Agent,
    call_timeout: Duration,
}

impl std::fmt::Debug for CanisterAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanisterAgent")
            .field("principal", &self.agent.get_principal().ok())
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

fn load_identity(source: &PemSource) -> Result<Secp256k1Identity, ConfigError> {
    let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
    match source {
        PemSource::File(path) => Secp256k1Identity::from_pem_file(path)
            .map_err(|e| invalid("ICP_IDENTITY_PEM_FILE", format!("{}: {e}", path.display()))),
        PemSource::Inline(pem) => Secp256k1Identity::from_pem(pem.as_bytes())
            .map_err(|e| invalid("ICP_IDENTITY_PEM", e.to_string())),
    }
}

impl CanisterAgent {
    /// Builds the agent of `config`; on a local network, fetches the root key (bounded by the
    /// call timeout).
    pub async fn connect(config: &BridgeConfig) -> Result<Self, BridgeConnectError> {
        let identity = load_identity(&config.identity)?;
        let agent = Agent::builder()
            .with_url(config.url.clone())
            .with_identity(identity)
            .with_ingress_expiry(Duration::from_secs(4 * 60))
            // Only the harness lacks node keys; a local replica and mainnet sign queries.
            .with_verify_query_signatures(config.network == Network::Mainnet)
            .with_max_polling_time(config.call_timeout)
            .build()
            .map_err(|e| BridgeConnectError::Agent(e.to_string()))?;
        if config.network == Network::Local {
            tokio::time::timeout(config.call_timeout, agent.fetch_root_key())
                .await
                .map_err(|_| BridgeConnectError::RootKey("timed out".into()))?
                .map_err(|e| BridgeConnectError::RootKey(e.to_string()))?;
        }
        Ok(Self {
            agent,
            call_timeout: config.call_timeout,
        })
    }

    /// Wraps an agent built elsewhere (tests, benchmarks).
    pub fn from_agent(agent: Agent, call_timeout: Duration) -> Self {
        Self {
            agent,
            call_timeout,
        }
    }

    /// The worker's principal (to list in the canisters' worker allow-lists).
    pub fn principal(&self) -> Principal {
        self.agent
            .get_principal()
            .expect("a secp256k1 identity always has a principal")
    }

    /// A query, bounded by the call timeout.
    pub async fn query(
        &self,
        canister: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, BridgeError> {
        let call = self.agent.query(&canister, method).with_arg(arg).call();
        match tokio::time::timeout(self.call_timeout, call).await {
            Ok(result) => result.map_err(BridgeError::from_agent),
            Err(_) => Err(BridgeError::Unreachable(format!(
                "query {method} timed out after {:?}",
                self.call_timeout
            ))),
        }
    }

    /// An update: signed once, each submission and status read bounded by the call timeout,
    /// resubmitted (same request id) at most [`MAX_SUBMISSIONS`] times while the outcome is
    /// unknown.
    pub async fn update(
        &self,
        canister: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, BridgeError> {
        let signed = self
            .agent
            .update(&canister, method)
            .with_arg(arg)
            .sign()
            .map_err(BridgeError::from_agent)?;
        let request_id = signed.request_id;
        let mut last = BridgeError::Unreachable(format!("update {method} was never submitted"));
        for attempt in 1..=MAX_SUBMISSIONS {
            if attempt > 1 {
                // Ambiguous so far: ask the IC what became of this request id first.
                match self.status_of(canister, &request_id).await {
                    Some(Ok(reply)) => return Ok(reply),
                    Some(Err(definitive)) => return Err(definitive),
                    None => {}
                }
                tracing::info!(
                    method,
                    request_id = %hex_id(&request_id),
                    attempt,
                    "resubmitting an update whose outcome is unknown"
                );
            }
            let started = Instant::now();
            let submitted = tokio::time::timeout(
                self.call_timeout,
                self.agent
                    .update_signed(canister, signed.signed_update.clone()),
            )
            .await;
            match submitted {
                Ok(Ok(CallResponse::Response(reply))) => return Ok(reply),
                Ok(Ok(CallResponse::Poll(id))) => {
                    let remaining = self.call_timeout.saturating_sub(started.elapsed());
                    match tokio::time::timeout(remaining, self.agent.wait(&id, canister)).await {
                        Ok(Ok((reply, _))) => return Ok(reply),
                        Ok(Err(e)) => {
                            let err = BridgeError::from_agent(e);
                            if !matches!(err, BridgeError::Unreachable(_)) {
                                return Err(err);
                            }
                            last = err;
                        }
                        Err(_) => {
                            last = BridgeError::Unreachable(format!(
                                "update {method} not answered within {:?}",
                                self.call_timeout
                            ));
                        }
                    }
                }
                Ok(Err(e)) => {
                    let err = BridgeError::from_agent(e);
                    if !matches!(err, BridgeError::Unreachable(_)) {
                        return Err(err);
                    }
                    last = err;
                }
                Err(_) => {
                    last = BridgeError::Unreachable(format!(
                        "update {method} timed out after {:?}",
                        self.call_timeout
                    ));
                }
            }
        }
        Err(last)
    }

    /// What the IC says about `request_id`: `Some(Ok)` replied, `Some(Err)` rejected, `None`
    /// unknown or unreadable (resubmit).
    async fn status_of(
        &self,
        canister: Principal,
        request_id: &RequestId,
    ) -> Option<Result<Vec<u8>, BridgeError>> {
        let read = tokio::time::timeout(
            self.call_timeout,
            self.agent.request_status_raw(request_id, canister),
        )
        .await;
        match read {
            Ok(Ok((RequestStatusResponse::Replied(reply), _))) => Some(Ok(reply.arg)),
            Ok(Ok((RequestStatusResponse::Rejected(reject), _))) => {
                Some(Err(BridgeError::from_agent(AgentError::CertifiedReject {
                    reject,
                    operation: None,
                })))
            }
            Ok(Ok((RequestStatusResponse::Done, _))) => Some(Err(BridgeError::Protocol(
                "the request is done but its reply was pruned".into(),
            ))),
            _ => None,
        }
    }
}

fn hex_id(id: &RequestId) -> String {
    id.as_slice().iter().map(|b| format!("{b:02x}")).collect()
}

/// Why the agent could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BridgeConnectError {
    /// The identity could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The agent could not be built (bad URL).
    #[error("ic-agent: {0}")]
    Agent(String),
    /// `ICP_NETWORK=local` and the root key could not be fetched.
    #[error("fetching the root key: {0}")]
    RootKey(String),
}
