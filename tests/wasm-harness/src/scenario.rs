//! The scenario API canister tests are written against, once, for both backends: install,
//! upgrade, update and query (raw bytes, or candid through [`ScenarioExt`]), time, rounds, the
//! canister's HTTP gateway entry points, and outcall interception.

use std::time::Duration;

use candid::{CandidType, Principal, utils::ArgumentEncoder};
use serde::de::DeserializeOwned;

use crate::{
    error::{HarnessError, Result},
    gateway::{GatewayRequest, GatewayResponse, GatewayUpdateRequest},
    harness::{Harness, OutcallHandler},
};

/// The default sender of scenario calls: a fixed self-authenticating principal.
pub fn user() -> Principal {
    Principal::self_authenticating(b"ic-wasm-harness user")
}

/// A backend that runs canister wasm.
pub trait Scenario {
    /// The backend's name (`harness`, `PocketIC`).
    fn backend(&self) -> &'static str;

    /// Creates a canister and installs `wasm` with the candid-encoded `arg`.
    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal>;

    /// Upgrades `canister` to `wasm`, with `arg` for `canister_post_upgrade`.
    fn upgrade(&mut self, canister: Principal, wasm: &[u8], arg: Vec<u8>) -> Result<()>;

    /// An update call with raw candid bytes.
    fn update_raw(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>>;

    /// A query call with raw candid bytes.
    fn query_raw(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>>;

    /// Moves time forward and runs what becomes due (timers) to completion.
    fn advance_time(&mut self, by: Duration) -> Result<()>;

    /// Runs one round (timers, heartbeats, pending messages).
    fn tick(&mut self) -> Result<()>;

    /// The current time in nanoseconds since the epoch.
    fn time_nanos(&self) -> u64;

    /// Answers outcalls with `handler` (`None`: forward them to the real server).
    fn set_outcall_handler(&mut self, handler: Option<OutcallHandler>);

    /// Instructions of the last call, where the backend can count them.
    fn last_call_instructions(&self) -> Option<u64>;

    /// Sends `request` to the canister's HTTP gateway entry points as the gateway does: the
    /// `http_request` query, then `http_request_update` when the query answers `upgrade`.
    fn http_request(
        &mut self,
        canister: Principal,
        request: GatewayRequest,
    ) -> Result<GatewayResponse> {
        let anonymous = Principal::anonymous();
        let bytes = candid::encode_one(&request)?;
        let response: GatewayResponse =
            candid::decode_one(&self.query_raw(canister, anonymous, "http_request", bytes)?)?;
        if response.upgrade != Some(true) {
            return Ok(response);
        }
        let update = candid::encode_one(GatewayUpdateRequest::from(request))?;
        let bytes = self.update_raw(canister, anonymous, "http_request_update", update)?;
        Ok(candid::decode_one(&bytes)?)
    }
}

/// Candid conveniences over any [`Scenario`].
pub trait ScenarioExt: Scenario {
    /// An update call from [`user`] with candid arguments and one candid result.
    fn update<R: CandidType + DeserializeOwned>(
        &mut self,
        canister: Principal,
        method: &str,
        args: impl ArgumentEncoder,
    ) -> Result<R> {
        self.update_as(canister, user(), method, args)
    }

    /// An update call from `sender`.
    fn update_as<R: CandidType + DeserializeOwned>(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        args: impl ArgumentEncoder,
    ) -> Result<R> {
        let bytes = self.update_raw(canister, sender, method, candid::encode_args(args)?)?;
        candid::decode_one(&bytes).map_err(|e| HarnessError::Candid(format!("{method}: {e}")))
    }

    /// A query call from [`user`] with candid arguments and one candid result.
    fn query<R: CandidType + DeserializeOwned>(
        &mut self,
        canister: Principal,
        method: &str,
        args: impl ArgumentEncoder,
    ) -> Result<R> {
        let bytes = self.query_raw(canister, user(), method, candid::encode_args(args)?)?;
        candid::decode_one(&bytes).map_err(|e| HarnessError::Candid(format!("{method}: {e}")))
    }

    /// Installs `wasm` with one candid init argument.
    fn install_with<A: CandidType>(&mut self, wasm: &[u8], arg: &A) -> Result<Principal> {
        let arg = candid::encode_one(arg)?;
        self.install(wasm, arg)
    }
}

impl<S: Scenario + ?Sized> ScenarioExt for S {}

impl Scenario for Harness {
    fn backend(&self) -> &'static str {
        "harness"
    }

    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal> {
        self.create_and_install(wasm, arg)
    }

    fn upgrade(&mut self, canister: Principal, wasm: &[u8], arg: Vec<u8>) -> Result<()> {
        Harness::upgrade(self, canister, wasm, arg)
    }

    fn update_raw(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        self.update_call(canister, sender, method, arg)
    }

    fn query_raw(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        self.query_call(canister, sender, method, arg)
    }

    fn advance_time(&mut self, by: Duration) -> Result<()> {
        Harness::advance_time(self, by)
    }

    fn tick(&mut self) -> Result<()> {
        Harness::tick(self)
    }

    fn time_nanos(&self) -> u64 {
        Harness::time_nanos(self)
    }

    fn set_outcall_handler(&mut self, handler: Option<OutcallHandler>) {
        Harness::set_outcall_handler(self, handler);
    }

    fn last_call_instructions(&self) -> Option<u64> {
        Some(Harness::last_call_instructions(self))
    }
}
