//! Message delivery: call contexts, callbacks and the queue of requests and responses between
//! ingress, canisters and the management canister, as the IC interface specification describes
//! them. A callback runs in the call context of the message that made the call, a context
//! answers at most once, and a context with no answer and no outstanding calls is rejected
//! with `CANISTER_ERROR`.

use candid::Principal;

use crate::{
    canister::{Entry, Execution},
    context::{EntryKind, MessageEnv, OutgoingCall, Response},
    error::{HarnessError, Reject, RejectCode, Result},
    harness::Harness,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Ingress(u64),
    Canister { callback: u64 },
    System,
}

#[derive(Debug)]
pub(crate) struct CallContext {
    origin: Origin,
    caller: Principal,
    method: String,
    responded: bool,
    outstanding: usize,
    cycles: u128,
    deadline: u64,
    instructions: u64,
}

#[derive(Debug)]
pub(crate) struct Callback {
    canister: Principal,
    context: u64,
    call: OutgoingCall,
}

#[derive(Debug)]
pub(crate) enum Message {
    Request {
        from: Principal,
        to: Principal,
        method: String,
        arg: Vec<u8>,
        cycles: u128,
        deadline: u64,
        origin: Origin,
    },
    Response {
        callback: u64,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    },
}

impl Harness {
    /// Runs a system task (`canister_global_timer`, `canister_heartbeat`) in its own call
    /// context, if the canister exports it.
    pub(crate) fn system_task(
        &mut self,
        id: Principal,
        export: &str,
        kind: EntryKind,
    ) -> Result<()> {
        if !self
            .canisters
            .get(&id)
            .is_some_and(|c| c.module().exports(export))
        {
            return Ok(());
        }
        let context = self.new_context(
            Origin::System,
            Principal::management_canister(),
            export,
            0,
            0,
        );
        let mut env = MessageEnv::new(kind, Principal::management_canister(), export, Vec::new());
        env.fuel_limit = self.limits.update;
        self.execute(id, context, &Entry::Export(export.into()), env)
    }

    /// Opens a call context and returns its id.
    pub(crate) fn new_context(
        &mut self,
        origin: Origin,
        caller: Principal,
        method: &str,
        cycles: u128,
        deadline: u64,
    ) -> u64 {
        let id = self.next_id();
        self.contexts.insert(
            id,
            CallContext {
                origin,
                caller,
                method: method.to_string(),
                responded: false,
                outstanding: 0,
                cycles,
                deadline,
                instructions: 0,
            },
        );
        id
    }

    /// Runs an entry in call context `context` and applies the outcome to the context.
    pub(crate) fn execute(
        &mut self,
        id: Principal,
        context: u64,
        entry: &Entry,
        mut env: MessageEnv,
    ) -> Result<()> {
        let Some(mut canister) = self.canisters.remove(&id) else {
            return Ok(());
        };
        if let Some(ctx) = self.contexts.get(&context) {
            env.already_responded = ctx.responded;
            env.cycles_available = ctx.cycles;
            env.deadline = ctx.deadline;
            env.context_instructions = ctx.instructions;
        }
        let exec = self.run(&mut canister, entry, env);
        self.canisters.insert(id, canister);
        self.settle(id, context, exec?);
        Ok(())
    }

    /// Applies an execution to its call context: sends the calls it made, answers the context
    /// (or rejects it when nothing can answer it any more) and closes it when done.
    pub(crate) fn settle(&mut self, id: Principal, context: u64, exec: Execution) {
        let Some(ctx) = self.contexts.get_mut(&context) else {
            return;
        };
        ctx.instructions += exec.instructions;
        let mut answer = None;
        if let Some(trap) = exec.trap {
            if !ctx.responded && ctx.outstanding == 0 {
                answer = Some(Err(Reject::new(
                    RejectCode::CanisterError,
                    format!("Error from Canister {id}: {trap}"),
                )));
            }
        } else {
            ctx.cycles = exec.env.cycles_available;
            let calls = exec.env.performed;
            ctx.outstanding += calls.len();
            match exec.env.response {
                Some(Response::Reply(data)) => answer = Some(Ok(data)),
                Some(Response::Reject(reject)) => answer = Some(Err(reject)),
                None if !ctx.responded && ctx.outstanding == 0 => {
                    answer = Some(Err(Reject::new(
                        RejectCode::CanisterError,
                        format!("Error from Canister {id}: Canister did not reply to the call"),
                    )));
                }
                None => {}
            }
            for call in calls {
                let callback = self.next_id();
                let deadline = call
                    .timeout_seconds
                    .map_or(0, |s| self.time + u64::from(s) * 1_000_000_000);
                self.queue.push_back(Message::Request {
                    from: id,
                    to: call.callee,
                    method: call.method.clone(),
                    arg: call.arg.clone(),
                    cycles: call.cycles,
                    deadline,
                    origin: Origin::Canister { callback },
                });
                self.callbacks.insert(
                    callback,
                    Callback {
                        canister: id,
                        context,
                        call,
                    },
                );
            }
        }
        let ctx = self.contexts.get_mut(&context).expect("context exists");
        if let Some(result) = answer {
            ctx.responded = true;
            let refund = std::mem::take(&mut ctx.cycles);
            let origin = ctx.origin;
            self.answer(origin, result, refund);
        }
        let ctx = self.contexts.get(&context).expect("context exists");
        if ctx.outstanding == 0 {
            self.contexts.remove(&context);
        }
    }

    /// Delivers a context's answer to where the call came from.
    pub(crate) fn answer(&mut self, origin: Origin, result: Result<Vec<u8>, Reject>, refund: u128) {
        match origin {
            Origin::Ingress(id) => {
                self.ingress.insert(id, result);
            }
            Origin::Canister { callback } => self.queue.push_back(Message::Response {
                callback,
                result,
                refund,
            }),
            Origin::System => {}
        }
    }

    /// Delivers queued messages until none is left.
    pub(crate) fn run_until_idle(&mut self) -> Result<()> {
        let mut delivered = 0u64;
        while let Some(message) = self.queue.pop_front() {
            delivered += 1;
            if delivered > 1_000_000 {
                return Err(HarnessError::Harness(
                    "more than a million messages without settling".into(),
                ));
            }
            match message {
                Message::Request {
                    from,
                    to,
                    method,
                    arg,
                    cycles,
                    deadline,
                    origin,
                } => self.deliver_request(from, to, &method, arg, cycles, deadline, origin)?,
                Message::Response {
                    callback,
                    result,
                    refund,
                } => self.deliver_response(callback, result, refund)?,
            }
        }
        Ok(())
    }

    /// Delivers a request: to the management canister, or as a new call context on a canister.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn deliver_request(
        &mut self,
        from: Principal,
        to: Principal,
        method: &str,
        arg: Vec<u8>,
        cycles: u128,
        deadline: u64,
        origin: Origin,
    ) -> Result<()> {
        if to == Principal::management_canister() {
            let result = self.management(from, method, &arg, cycles);
            self.answer(origin, result, 0);
            return Ok(());
        }
        let Some(canister) = self.canisters.get(&to) else {
            let reject = Reject::new(
                RejectCode::DestinationInvalid,
                format!("Canister {to} not found"),
            );
            self.answer(origin, Err(reject), cycles);
            return Ok(());
        };
        let update = format!("canister_update {method}");
        let query = format!("canister_query {method}");
        let (export, kind) = if canister.module().exports(&update) {
            (update, EntryKind::Update)
        } else if canister.module().exports(&query) {
            (query, EntryKind::Query { replicated: true })
        } else {
            let reject = Reject::new(
                RejectCode::DestinationInvalid,
                format!("Error from Canister {to}: Canister has no update method '{method}'"),
            );
            self.answer(origin, Err(reject), cycles);
            return Ok(());
        };
        let context = self.new_context(origin, from, method, cycles, deadline);
        let mut env = MessageEnv::new(kind, from, method, arg);
        env.fuel_limit = self.limits.update;
        self.execute(to, context, &Entry::Export(export), env)
    }

    /// Delivers a response to its callback (and runs the cleanup callback if that traps).
    pub(crate) fn deliver_response(
        &mut self,
        callback: u64,
        result: Result<Vec<u8>, Reject>,
        refund: u128,
    ) -> Result<()> {
        let Some(cb) = self.callbacks.remove(&callback) else {
            return Ok(());
        };
        let Some(ctx) = self.contexts.get_mut(&cb.context) else {
            return Ok(());
        };
        ctx.outstanding -= 1;
        let (caller, method) = (ctx.caller, ctx.method.clone());
        let label = format!("{}.{}", cb.call.callee, cb.call.method);
        let (kind, arg, reject, (fun, fun_env)) = match result {
            Ok(data) => (EntryKind::ReplyCallback, data, None, cb.call.reply),
            Err(r) => (
                EntryKind::RejectCallback,
                Vec::new(),
                Some((r.code, r.message)),
                cb.call.reject,
            ),
        };
        let mut env = MessageEnv::new(kind, caller, &method, arg);
        env.reject = reject;
        env.cycles_refunded = refund;
        env.fuel_limit = self.limits.update;
        let Some(mut canister) = self.canisters.remove(&cb.canister) else {
            return Ok(());
        };
        let ctx = &self.contexts[&cb.context];
        env.already_responded = ctx.responded;
        env.cycles_available = ctx.cycles;
        env.deadline = ctx.deadline;
        env.context_instructions = ctx.instructions;
        let exec = self.run(&mut canister, &Entry::Callback { fun, env: fun_env }, env);
        let exec = match exec {
            Ok(exec) => exec,
            Err(e) => {
                self.canisters.insert(cb.canister, canister);
                return Err(e);
            }
        };
        if exec.trap.is_some()
            && let Some((fun, fun_env)) = cb.call.cleanup
        {
            let mut env = MessageEnv::new(EntryKind::Cleanup, caller, &label, Vec::new());
            env.fuel_limit = self.limits.update;
            let cleanup = self.run(&mut canister, &Entry::Callback { fun, env: fun_env }, env);
            if let Err(e) = cleanup {
                self.canisters.insert(cb.canister, canister);
                return Err(e);
            }
        }
        self.canisters.insert(cb.canister, canister);
        self.settle(cb.canister, cb.context, exec);
        Ok(())
    }
}
