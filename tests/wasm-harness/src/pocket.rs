//! The PocketIC backend of [`Scenario`], on the `pocket-ic` crate (16.x server). It runs only
//! when `POCKET_IC_BIN` names a server binary; otherwise [`PocketIcScenario::from_env_or_skip`]
//! writes `PocketIC: skipped (POCKET_IC_BIN not set)` straight to the process's stderr (not
//! captured by libtest), which `cargo xtask test` counts.

use std::{
    io::Write,
    panic::{AssertUnwindSafe, catch_unwind},
    path::PathBuf,
    time::Duration,
};

use candid::Principal;
use pocket_ic::{
    PocketIc, PocketIcBuilder, RejectResponse, Time,
    common::rest::{
        CanisterHttpHeader, CanisterHttpMethod, CanisterHttpReject, CanisterHttpReply,
        CanisterHttpRequest, CanisterHttpResponse, MockCanisterHttpResponse,
    },
};

use crate::{
    error::{HarnessError, Reject, RejectCode, Result},
    harness::{OutcallHandler, START_TIME_NANOS},
    outcall::{self, OutcallRequest},
    scenario::Scenario,
};

/// The variable naming the PocketIC server binary.
pub const POCKET_IC_BIN: &str = "POCKET_IC_BIN";

/// The line a PocketIC scenario writes when it skips.
pub const POCKET_IC_SKIPPED: &str = "PocketIC: skipped (POCKET_IC_BIN not set)";

/// Rounds to wait for an update call before giving up.
const MAX_ROUNDS: usize = 500;

/// A PocketIC instance with an application subnet and the test threshold-keys subnet
/// (`dfx_test_key`, `test_key_1`).
pub struct PocketIcScenario {
    pic: PocketIc,
    outcall_handler: Option<OutcallHandler>,
}

impl std::fmt::Debug for PocketIcScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PocketIcScenario").finish_non_exhaustive()
    }
}

fn rejected(r: RejectResponse) -> HarnessError {
    let code = RejectCode::from_u32(r.reject_code as u32).unwrap_or(RejectCode::SysFatal);
    HarnessError::Rejected(Reject::new(code, r.reject_message))
}

fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        HarnessError::PocketIc(format!("{what}: {msg}"))
    })
}

impl PocketIcScenario {
    /// A new instance on the server at `binary`.
    pub fn new(binary: PathBuf) -> Result<Self> {
        Self::build(binary, false)
    }

    /// A new instance with an NNS subnet too, whose key is the root key agents fetch from the
    /// live gateway (see [`PocketIcScenario::make_live`]).
    fn build(binary: PathBuf, nns: bool) -> Result<Self> {
        let pic = guarded("starting the server", || {
            let mut builder = PocketIcBuilder::new()
                .with_server_binary(binary)
                .with_application_subnet()
                .with_test_threshold_keys_subnet()
                .with_initial_time(Time::from_nanos_since_unix_epoch(START_TIME_NANOS));
            if nns {
                builder = builder.with_nns_subnet();
            }
            builder.build()
        })?;
        Ok(Self {
            pic,
            outcall_handler: None,
        })
    }

    /// An instance when `POCKET_IC_BIN` is set; otherwise writes [`POCKET_IC_SKIPPED`] to
    /// stderr and returns `None`. Panics when the server cannot be started.
    pub fn from_env_or_skip() -> Option<Self> {
        match std::env::var_os(POCKET_IC_BIN) {
            Some(path) if !path.is_empty() => Some(
                Self::new(PathBuf::from(path))
                    .unwrap_or_else(|e| panic!("{POCKET_IC_BIN} is set but: {e}")),
            ),
            _ => {
                let mut stderr = std::io::stderr().lock();
                // Not captured by libtest, so the test run shows (and xtask counts) the skip.
                let _ = writeln!(stderr, "{POCKET_IC_SKIPPED}");
                None
            }
        }
    }

    /// Like [`PocketIcScenario::from_env_or_skip`], for scenarios that go live: the instance
    /// also has an NNS subnet, so the gateway's `/api/v2/status` carries a root key.
    pub fn live_from_env_or_skip() -> Option<Self> {
        match std::env::var_os(POCKET_IC_BIN) {
            Some(path) if !path.is_empty() => Some(
                Self::build(PathBuf::from(path), true)
                    .unwrap_or_else(|e| panic!("{POCKET_IC_BIN} is set but: {e}")),
            ),
            _ => {
                let _ = writeln!(std::io::stderr().lock(), "{POCKET_IC_SKIPPED}");
                None
            }
        }
    }

    /// Switches the instance to live mode (`make_live`): it follows the wall clock, runs rounds
    /// by itself and serves the IC HTTP interface (what ic-agent speaks) on 127.0.0.1. Returns
    /// the gateway's URL without the trailing slash. After this, drive the instance only
    /// through that URL (the scenario methods tick it by hand).
    pub fn make_live(&mut self) -> Result<String> {
        let url = guarded("make_live", || self.pic.make_live(None))?;
        Ok(url.as_str().trim_end_matches('/').to_string())
    }

    /// The underlying instance.
    pub fn pocket_ic(&self) -> &PocketIc {
        &self.pic
    }

    /// Answers every pending outcall (interceptor, or the real server), as one mock each.
    fn answer_outcalls(&mut self) -> Result<()> {
        let pending: Vec<CanisterHttpRequest> =
            guarded("get_canister_http", || self.pic.get_canister_http())?;
        for request in pending {
            let outcall = OutcallRequest {
                canister: Principal::anonymous(),
                url: request.url.clone(),
                method: match request.http_method {
                    CanisterHttpMethod::GET => "GET",
                    CanisterHttpMethod::POST => "POST",
                    CanisterHttpMethod::HEAD => "HEAD",
                    CanisterHttpMethod::PUT => "PUT",
                    CanisterHttpMethod::DELETE => "DELETE",
                    CanisterHttpMethod::PATCH => "PATCH",
                }
                .to_string(),
                headers: request
                    .headers
                    .iter()
                    .map(|h| (h.name.clone(), h.value.clone()))
                    .collect(),
                body: request.body.clone(),
                max_response_bytes: request.max_response_bytes.unwrap_or(2_000_000),
            };
            let answer = match self.outcall_handler.as_mut() {
                Some(handler) => handler(&outcall),
                None => {
                    outcall::forward(&outcall).map_err(|e| Reject::new(RejectCode::SysTransient, e))
                }
            };
            let response = match answer {
                Ok(r) => CanisterHttpResponse::CanisterHttpReply(CanisterHttpReply {
                    status: r.status,
                    headers: r
                        .headers
                        .into_iter()
                        .map(|(name, value)| CanisterHttpHeader { name, value })
                        .collect(),
                    body: r.body,
                }),
                Err(reject) => CanisterHttpResponse::CanisterHttpReject(CanisterHttpReject {
                    reject_code: reject.code as u64,
                    message: reject.message.chars().take(1000).collect(),
                }),
            };
            let mock = MockCanisterHttpResponse {
                subnet_id: request.subnet_id,
                request_id: request.request_id,
                response,
                additional_responses: vec![],
            };
            guarded("mock_canister_http_response", || {
                self.pic.mock_canister_http_response(mock)
            })?;
        }
        Ok(())
    }

    fn round(&mut self) -> Result<()> {
        guarded("tick", || self.pic.tick())?;
        self.answer_outcalls()
    }
}

impl Scenario for PocketIcScenario {
    fn backend(&self) -> &'static str {
        "PocketIC"
    }

    fn install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal> {
        // The same controller as the harness's, so scenarios call controller methods as one
        // principal on both backends (never the anonymous one, which canisters refuse).
        let controller = crate::Harness::controller();
        let id = guarded("create_canister", || {
            self.pic
                .create_canister_with_settings(Some(controller), None)
        })?;
        guarded("install_canister", || {
            self.pic
                .install_canister(id, wasm.to_vec(), arg, Some(controller))
        })?;
        Ok(id)
    }

    fn upgrade(&mut self, canister: Principal, wasm: &[u8], arg: Vec<u8>) -> Result<()> {
        guarded("upgrade_canister", || {
            self.pic.upgrade_canister(
                canister,
                wasm.to_vec(),
                arg,
                Some(crate::Harness::controller()),
            )
        })?
        .map_err(rejected)
    }

    fn update_raw(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let id = guarded("submit_call", || {
            self.pic.submit_call(canister, sender, method, arg)
        })?
        .map_err(rejected)?;
        for _ in 0..MAX_ROUNDS {
            self.round()?;
            if let Some(result) = guarded("ingress_status", || self.pic.ingress_status(id.clone()))?
            {
                return result.map_err(rejected);
            }
        }
        Err(HarnessError::PocketIc(format!(
            "update {method} did not complete within {MAX_ROUNDS} rounds"
        )))
    }

    fn query_raw(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        guarded("query_call", || {
            self.pic.query_call(canister, sender, method, arg)
        })?
        .map_err(rejected)
    }

    fn advance_time(&mut self, by: Duration) -> Result<()> {
        guarded("advance_time", || self.pic.advance_time(by))?;
        // A timer fires through a self-call: a few rounds settle it.
        for _ in 0..5 {
            self.round()?;
        }
        Ok(())
    }

    fn tick(&mut self) -> Result<()> {
        self.round()
    }

    fn time_nanos(&self) -> u64 {
        self.pic.get_time().as_nanos_since_unix_epoch()
    }

    fn set_outcall_handler(&mut self, handler: Option<OutcallHandler>) {
        self.outcall_handler = handler;
    }

    fn last_call_instructions(&self) -> Option<u64> {
        None
    }
}
