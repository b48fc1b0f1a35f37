//! The identity canister as workers see it: [`IdentityClient`] (the edge's `edge_request`,
//! which runs api-core's routes, and the `identity_of` read the media worker needs), and
//! [`AgentIdentity`], its ic-agent implementation over the canister crate's candid types.

use async_trait::async_trait;
use candid::{Decode, Encode, Principal};
use identity_canister::endpoints::{
    AdminError, EdgeRequest, EdgeResponse, IdentityView, ImportBatchOutcome,
};
use identity_canister::state::event::ImportRows;

use crate::agent::CanisterAgent;
use crate::error::{BridgeError, record_failure};

/// The identity canister's methods workers call.
#[async_trait]
pub trait IdentityClient: Send + Sync {
    /// Runs one api-core route (`/api/claim`, `/api/names`, ...) as the canister's gateway
    /// would, vouching for `client_ip` (used only when this worker is a trusted edge).
    async fn edge_request(&self, request: EdgeRequest) -> Result<EdgeResponse, BridgeError>;

    /// Whether `address` is Self-verified, and its short-name credential.
    async fn identity_of(&self, address: &str) -> Result<Option<IdentityView>, BridgeError>;
}

/// The identity canister through ic-agent.
#[derive(Clone, Debug)]
pub struct AgentIdentity {
    agent: CanisterAgent,
    canister: Principal,
}

impl AgentIdentity {
    /// The client of `canister` through `agent`.
    pub fn new(agent: CanisterAgent, canister: Principal) -> Self {
        Self { agent, canister }
    }

    /// Controller: one batch of D1 import run `run` (`import_batch`; a batch applied before
    /// answers `applied: false` with the same summary).
    pub async fn import_batch(
        &self,
        run: &str,
        batch: u64,
        rows: &ImportRows,
    ) -> Result<Result<ImportBatchOutcome, AdminError>, BridgeError> {
        let result = async {
            let arg =
                Encode!(&run, &batch, rows).map_err(|e| BridgeError::Protocol(e.to_string()))?;
            let reply = self
                .agent
                .update(self.canister, "import_batch", arg)
                .await?;
            Decode!(&reply, Result<ImportBatchOutcome, AdminError>)
                .map_err(|e| BridgeError::Protocol(e.to_string()))
        }
        .await;
        observed("import_batch", result)
    }

    /// Controller: the batches of import run `run` applied so far (`import_progress`).
    pub async fn import_progress(
        &self,
        run: &str,
    ) -> Result<Result<Vec<u64>, AdminError>, BridgeError> {
        let result = async {
            let arg = Encode!(&run).map_err(|e| BridgeError::Protocol(e.to_string()))?;
            let reply = self
                .agent
                .query(self.canister, "import_progress", arg)
                .await?;
            Decode!(&reply, Result<Vec<u64>, AdminError>)
                .map_err(|e| BridgeError::Protocol(e.to_string()))
        }
        .await;
        observed("import_progress", result)
    }
}

fn observed<T>(method: &'static str, result: Result<T, BridgeError>) -> Result<T, BridgeError> {
    if let Err(err) = &result {
        record_failure("identity", method, err);
    }
    result
}

#[async_trait]
impl IdentityClient for AgentIdentity {
    async fn edge_request(&self, request: EdgeRequest) -> Result<EdgeResponse, BridgeError> {
        let result = async {
            let arg = Encode!(&request).map_err(|e| BridgeError::Protocol(e.to_string()))?;
            let reply = self
                .agent
                .update(self.canister, "edge_request", arg)
                .await?;
            Decode!(&reply, EdgeResponse).map_err(|e| BridgeError::Protocol(e.to_string()))
        }
        .await;
        observed("edge_request", result)
    }

    async fn identity_of(&self, address: &str) -> Result<Option<IdentityView>, BridgeError> {
        let result = async {
            let arg = Encode!(&address).map_err(|e| BridgeError::Protocol(e.to_string()))?;
            let reply = self.agent.query(self.canister, "identity_of", arg).await?;
            Decode!(&reply, Option<IdentityView>).map_err(|e| BridgeError::Protocol(e.to_string()))
        }
        .await;
        observed("identity_of", result)
    }
}
