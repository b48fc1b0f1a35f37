//! The identity canister as workers' [`IdentityClient`] in the local stack: the native
//! canister this process runs (no network in between; `canister_bridge::AgentIdentity` takes
//! its place against a deployed canister). The media worker reads `identity_of` through it.

use async_trait::async_trait;
use canister_bridge::{BridgeError, IdentityClient};
use identity_canister::api::ApiRequest;
use identity_canister::endpoints::{EdgeRequest, EdgeResponse, IdentityView};
use identity_canister::router::{CLIENT_IP_HEADER, EDGE_KEY_HEADER};

use crate::resources::LocalIdentity;

/// Prefix of the headers only the edge may set.
const EDGE_HEADER_PREFIX: &str = "x-heaven-";

/// The in-process identity canister as an [`IdentityClient`].
#[derive(Clone)]
pub struct InProcessIdentity(pub LocalIdentity);

#[async_trait]
impl IdentityClient for InProcessIdentity {
    async fn edge_request(&self, request: EdgeRequest) -> Result<EdgeResponse, BridgeError> {
        let mut headers: Vec<(String, String)> = request
            .headers
            .into_iter()
            .filter(|(name, _)| !name.to_ascii_lowercase().starts_with(EDGE_HEADER_PREFIX))
            .collect();
        if let Some(ip) = request.client_ip {
            headers.push((EDGE_KEY_HEADER.to_owned(), self.0.edge_key.to_string()));
            headers.push((CLIENT_IP_HEADER.to_owned(), ip));
        }
        let api = ApiRequest::new(&request.method, &request.url, headers, request.body);
        let response = self.0.canister.handle(api).await;
        Ok(EdgeResponse {
            status: response.status,
            body: response.body,
        })
    }

    async fn identity_of(&self, address: &str) -> Result<Option<IdentityView>, BridgeError> {
        let address = address.to_owned();
        self.0
            .canister
            .run(move || identity_canister::admin::identity_of(&address))
            .await
            .map_err(|e| BridgeError::Unreachable(e.to_string()))
    }
}
