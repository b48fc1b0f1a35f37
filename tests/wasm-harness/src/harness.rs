//! The harness: installed canisters (create, install, upgrade), controlled time and rounds,
//! ingress update and query calls, and what tests can inspect afterwards (instructions,
//! executions, debug log, timer). Delivery of messages between canisters is in
//! [`crate::delivery`].

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    time::Duration,
};

use candid::Principal;

use crate::{
    canister::{Canister, Entry, Execution, LoadedModule},
    context::{EntryKind, MessageEnv, Response, StableMemory},
    delivery::{CallContext, Callback, Message, Origin},
    error::{HarnessError, Reject, RejectCode, Result},
    outcall::{OutcallRequest, OutcallResponse},
};

/// Decides the raw response of an outcall instead of forwarding it to the real server.
pub type OutcallHandler = Box<dyn FnMut(&OutcallRequest) -> Result<OutcallResponse, Reject> + Send>;

/// 2026-01-01T00:00:00Z in nanoseconds: the harness's initial time.
pub const START_TIME_NANOS: u64 = 1_767_225_600_000_000_000;

/// Instruction limits (wasmtime fuel) per kind of message, as on an application subnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Update calls, callbacks, timers, heartbeats.
    pub update: u64,
    /// Queries, inspect_message and outcall transforms.
    pub query: u64,
    /// `canister_init`, `canister_pre_upgrade` and `canister_post_upgrade`.
    pub install: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            update: 40_000_000_000,
            query: 5_000_000_000,
            install: 300_000_000_000,
        }
    }
}

/// One executed entry point or callback, for benchmarks and assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutedMessage {
    /// The canister.
    pub canister: Principal,
    /// What ran: the export name, or `reply callback (callee.method)` etc.
    pub entry: String,
    /// Instructions (wasmtime fuel) used.
    pub instructions: u64,
    /// Whether it trapped.
    pub trapped: bool,
}

/// One outcall as the simulated replicas made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcallRound {
    /// The request (the same for every replica).
    pub request: OutcallRequest,
    /// Each replica's response after the canister's transform, or why it had none.
    pub transformed: Vec<std::result::Result<OutcallResponse, String>>,
}

/// Executes canister wasm against the harness's implementation of the IC system API.
pub struct Harness {
    pub(crate) canisters: BTreeMap<Principal, Canister>,
    pub(crate) created: BTreeMap<Principal, Vec<Principal>>,
    pub(crate) time: u64,
    pub(crate) queue: VecDeque<Message>,
    pub(crate) contexts: HashMap<u64, CallContext>,
    pub(crate) callbacks: HashMap<u64, Callback>,
    pub(crate) ingress: HashMap<u64, Result<Vec<u8>, Reject>>,
    pub(crate) next_id: u64,
    pub(crate) seed: u64,
    pub(crate) rand_calls: u64,
    pub(crate) outcall_handler: Option<OutcallHandler>,
    pub(crate) outcall_replicas: usize,
    pub(crate) outcall_rounds: Vec<OutcallRound>,
    pub(crate) executions: Vec<ExecutedMessage>,
    pub(crate) last_call_instructions: u64,
    pub(crate) limits: Limits,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("canisters", &self.canisters.keys().collect::<Vec<_>>())
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// The principal that creates, installs and upgrades canisters (their controller).
    pub fn controller() -> Principal {
        Principal::self_authenticating(b"ic-wasm-harness controller")
    }

    /// A harness at [`START_TIME_NANOS`] with `raw_rand` seed 0.
    pub fn new() -> Self {
        Self::with_seed(0)
    }

    /// A harness whose clock starts at the wall clock instead of [`START_TIME_NANOS`]: what
    /// [`crate::ic_http::IcHttpServer`] serves (it keeps the clock on the wall clock, and a
    /// canister installed months "earlier" would owe that many interval-timer runs).
    pub fn at_wall_clock() -> Self {
        let mut harness = Self::new();
        harness.time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(START_TIME_NANOS)
            .max(START_TIME_NANOS);
        harness
    }

    /// A harness whose `raw_rand` answers are determined by `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            canisters: BTreeMap::new(),
            created: BTreeMap::new(),
            time: START_TIME_NANOS,
            queue: VecDeque::new(),
            contexts: HashMap::new(),
            callbacks: HashMap::new(),
            ingress: HashMap::new(),
            next_id: 0,
            seed,
            rand_calls: 0,
            outcall_handler: None,
            outcall_replicas: 1,
            outcall_rounds: Vec::new(),
            executions: Vec::new(),
            last_call_instructions: 0,
            limits: Limits::default(),
        }
    }

    /// Changes the instruction limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Answers outcalls with `handler` instead of forwarding them (`None`: forward again).
    pub fn set_outcall_handler(&mut self, handler: Option<OutcallHandler>) {
        self.outcall_handler = handler;
    }

    /// How many replicas make each outcall (1 by default): each sends the request itself
    /// (concurrently, or `n` calls of the handler), each response goes through the canister's
    /// transform, and the outcall succeeds only if at least `n - (n - 1) / 3` transformed
    /// responses are identical, as the IC's consensus requires (otherwise a `SYS_TRANSIENT`
    /// "No consensus could be reached" reject). A non-replicated outcall (`is_replicated:
    /// Some(false)`) is sent once whatever `n` is, and is the only kind that may use PUT, DELETE
    /// or PATCH.
    pub fn set_outcall_replicas(&mut self, n: usize) {
        self.outcall_replicas = n.max(1);
    }

    /// Every outcall so far, with what each replica got (see [`OutcallRound`]).
    pub fn outcall_rounds(&self) -> &[OutcallRound] {
        &self.outcall_rounds
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Creates an empty canister controlled by [`Self::controller`].
    pub fn create_canister(&mut self) -> Principal {
        let index = self.created.len() as u64;
        let mut bytes = index.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0x01, 0x01]);
        let id = Principal::from_slice(&bytes);
        self.created.insert(id, vec![Self::controller()]);
        id
    }

    /// Creates an empty canister controlled by [`Self::controller`] and `others` (e.g. an
    /// ic-agent identity that calls controller methods through [`crate::ic_http`]).
    pub fn create_canister_controlled_by(&mut self, others: &[Principal]) -> Principal {
        let id = self.create_canister();
        let controllers = self.created.get_mut(&id).expect("just created");
        controllers.extend_from_slice(others);
        id
    }

    /// Creates a canister and installs `wasm` with `arg`.
    pub fn create_and_install(&mut self, wasm: &[u8], arg: Vec<u8>) -> Result<Principal> {
        let id = self.create_canister();
        self.install(id, wasm, arg)?;
        Ok(id)
    }

    fn lifecycle(
        &mut self,
        canister: &mut Canister,
        export: &str,
        kind: EntryKind,
        arg: Vec<u8>,
    ) -> Result<()> {
        if !canister.module().exports(export) {
            return Ok(());
        }
        let mut env = MessageEnv::new(kind, Self::controller(), export, arg);
        env.fuel_limit = self.limits.install;
        let id = canister.state().canister_id;
        let exec = self.run(canister, &Entry::Export(export.into()), env)?;
        match exec.trap {
            Some(message) => Err(HarnessError::InstallFailed {
                canister: id,
                message: format!("{export}: {message}"),
            }),
            None => Ok(()),
        }
    }

    /// Installs `wasm` on an empty canister and runs `canister_init` with `arg`.
    pub fn install(&mut self, id: Principal, wasm: &[u8], arg: Vec<u8>) -> Result<()> {
        let controllers = self
            .created
            .get(&id)
            .cloned()
            .ok_or(HarnessError::CanisterNotFound(id))?;
        if self.canisters.contains_key(&id) {
            return Err(HarnessError::Harness(format!(
                "canister {id} already has code; upgrade it instead"
            )));
        }
        let module = LoadedModule::load(wasm)?;
        let mut canister = Canister::new(id, controllers, module, StableMemory::default(), 1)?;
        self.lifecycle(&mut canister, "canister_init", EntryKind::Init, arg)?;
        self.canisters.insert(id, canister);
        Ok(())
    }

    /// Upgrades `id` to `wasm`: `canister_pre_upgrade` on the old code, then a fresh heap with
    /// the same stable memory, the global timer deactivated, and `canister_post_upgrade` with
    /// `arg`. A trap in either hook leaves the canister as it was.
    pub fn upgrade(&mut self, id: Principal, wasm: &[u8], arg: Vec<u8>) -> Result<()> {
        let module = LoadedModule::load(wasm)?;
        let mut old = self
            .canisters
            .remove(&id)
            .ok_or(HarnessError::CanisterNotFound(id))?;
        let checkpoint = old.checkpoint();
        let result = self
            .lifecycle(
                &mut old,
                "canister_pre_upgrade",
                EntryKind::PreUpgrade,
                Vec::new(),
            )
            .and_then(|()| {
                let state = old.state();
                let mut new = Canister::new(
                    id,
                    state.controllers.clone(),
                    module,
                    state.stable.clone(),
                    state.version + 1,
                )?;
                new.state_mut().certified_data = state.certified_data.clone();
                new.state_mut().debug_log = state.debug_log.clone();
                self.lifecycle(
                    &mut new,
                    "canister_post_upgrade",
                    EntryKind::PostUpgrade,
                    arg,
                )?;
                Ok(new)
            });
        match result {
            Ok(new) => {
                self.canisters.insert(id, new);
                Ok(())
            }
            Err(e) => {
                old.rollback(checkpoint)?;
                self.canisters.insert(id, old);
                Err(e)
            }
        }
    }

    /// The current time in nanoseconds since the epoch.
    pub fn time_nanos(&self) -> u64 {
        self.time
    }

    /// Moves time forward by `by`, then runs a round ([`Self::tick`]) so due timers fire.
    pub fn advance_time(&mut self, by: Duration) -> Result<()> {
        self.time += by.as_nanos() as u64;
        self.tick()
    }

    /// One round: fires `canister_global_timer` where the timer is due, runs
    /// `canister_heartbeat` where exported, and delivers every message until none is left.
    pub fn tick(&mut self) -> Result<()> {
        let ids: Vec<Principal> = self.canisters.keys().copied().collect();
        for id in ids {
            let Some(canister) = self.canisters.get_mut(&id) else {
                continue;
            };
            let timer = canister.state().global_timer;
            if timer != 0 && self.time >= timer {
                canister.state_mut().global_timer = 0;
                self.system_task(id, "canister_global_timer", EntryKind::GlobalTimer)?;
            }
            self.system_task(id, "canister_heartbeat", EntryKind::Heartbeat)?;
        }
        self.run_until_idle()
    }

    /// Runs an entry on a canister (time set, execution recorded).
    pub(crate) fn run(
        &mut self,
        canister: &mut Canister,
        entry: &Entry,
        env: MessageEnv,
    ) -> Result<Execution> {
        canister.state_mut().time = self.time;
        let name = match entry {
            Entry::Export(name) => name.clone(),
            Entry::Callback { .. } => format!("{:?} ({})", env.kind, env.method),
        };
        let exec = canister.run(entry, env)?;
        self.executions.push(ExecutedMessage {
            canister: canister.state().canister_id,
            entry: name,
            instructions: exec.instructions,
            trapped: exec.trap.is_some(),
        });
        Ok(exec)
    }

    /// An update call from `sender`, as ingress: `canister_inspect_message` first (if exported),
    /// then the method, every call it makes and their callbacks, until it answers.
    pub fn update_call(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let start = self.executions.len();
        let result = self.update_call_inner(canister, sender, method, arg);
        self.last_call_instructions = self.executions[start..]
            .iter()
            .map(|e| e.instructions)
            .sum();
        result
    }

    fn update_call_inner(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let Some(mut installed) = self.canisters.remove(&canister) else {
            return Err(unknown_canister(canister));
        };
        let inspect = if installed.module().exports("canister_inspect_message") {
            let mut env = MessageEnv::new(EntryKind::InspectMessage, sender, method, arg.clone());
            env.fuel_limit = self.limits.query;
            Some(self.run(
                &mut installed,
                &Entry::Export("canister_inspect_message".into()),
                env,
            ))
        } else {
            None
        };
        self.canisters.insert(canister, installed);
        if let Some(exec) = inspect.transpose()? {
            if let Some(trap) = exec.trap {
                return Err(Reject::new(
                    RejectCode::CanisterError,
                    format!("Error from Canister {canister}: {trap}"),
                )
                .into());
            }
            if !exec.env.accepted {
                return Err(Reject::new(
                    RejectCode::CanisterReject,
                    format!("Canister {canister} rejected the message in inspect_message"),
                )
                .into());
            }
        }
        let id = self.next_id();
        self.queue.push_back(Message::Request {
            from: sender,
            to: canister,
            method: method.to_string(),
            arg,
            cycles: 0,
            deadline: 0,
            origin: Origin::Ingress(id),
        });
        self.run_until_idle()?;
        match self.ingress.remove(&id) {
            Some(result) => result.map_err(HarnessError::Rejected),
            None => Err(HarnessError::Harness(format!(
                "update call {method} on {canister} never completed"
            ))),
        }
    }

    /// A query call from `sender` (non-replicated: a data certificate is present); its state
    /// changes are discarded.
    pub fn query_call(
        &mut self,
        canister: Principal,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let Some(mut installed) = self.canisters.remove(&canister) else {
            return Err(unknown_canister(canister));
        };
        let export = format!("canister_query {method}");
        let result = if installed.module().exports(&export) {
            let mut env =
                MessageEnv::new(EntryKind::Query { replicated: false }, sender, method, arg);
            env.fuel_limit = self.limits.query;
            self.run(&mut installed, &Entry::Export(export), env)
        } else {
            Err(Reject::new(
                RejectCode::DestinationInvalid,
                format!("Error from Canister {canister}: Canister has no query method '{method}'"),
            )
            .into())
        };
        self.canisters.insert(canister, installed);
        let exec = result?;
        self.last_call_instructions = exec.instructions;
        query_result(canister, exec)
    }

    /// Instructions used by everything the last ingress call ran (its method, the callbacks,
    /// the canisters it called).
    pub fn last_call_instructions(&self) -> u64 {
        self.last_call_instructions
    }

    /// Every entry point and callback executed so far, in order.
    pub fn executions(&self) -> &[ExecutedMessage] {
        &self.executions
    }

    /// Lines `canister` printed with `debug_print`.
    pub fn debug_log(&self, canister: Principal) -> Vec<String> {
        self.canisters
            .get(&canister)
            .map(|c| c.state().debug_log.clone())
            .unwrap_or_default()
    }

    /// The canister's global timer (0 when inactive).
    pub fn global_timer(&self, canister: Principal) -> Option<u64> {
        self.canisters
            .get(&canister)
            .map(|c| c.state().global_timer)
    }

    /// The canister's certified data.
    pub fn certified_data(&self, canister: Principal) -> Option<Vec<u8>> {
        self.canisters
            .get(&canister)
            .map(|c| c.state().certified_data.clone())
    }

    /// SHA-256 of the wasm the canister runs.
    pub fn module_hash(&self, canister: Principal) -> Option<[u8; 32]> {
        self.canisters.get(&canister).map(|c| c.module().hash)
    }

    /// Size of the canister's stable memory in wasm pages.
    pub fn stable_pages(&self, canister: Principal) -> Option<u64> {
        self.canisters
            .get(&canister)
            .map(|c| c.state().stable.pages())
    }
}

/// The answer of a query execution.
pub(crate) fn query_result(canister: Principal, exec: Execution) -> Result<Vec<u8>> {
    if let Some(trap) = exec.trap {
        return Err(Reject::new(
            RejectCode::CanisterError,
            format!("Error from Canister {canister}: {trap}"),
        )
        .into());
    }
    match exec.env.response {
        Some(Response::Reply(data)) => Ok(data),
        Some(Response::Reject(reject)) => Err(reject.into()),
        None => Err(Reject::new(
            RejectCode::CanisterError,
            format!("Error from Canister {canister}: Canister did not reply to the call"),
        )
        .into()),
    }
}

/// The reject a call to a canister that is not installed gets.
fn unknown_canister(canister: Principal) -> crate::HarnessError {
    Reject::new(
        RejectCode::DestinationInvalid,
        format!("Canister {canister} not found"),
    )
    .into()
}
