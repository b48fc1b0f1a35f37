//! The `ic0` functions the harness links into canister wasm (32-bit memory: `usize` is `i32`).
//! Each one checks that it may be called from the running entry point, as the IC interface
//! specification says, and traps with the function's name otherwise. Pricing functions live in
//! [`crate::costs`].

mod canister_info;
mod stable;

use std::sync::OnceLock;

use candid::Principal;
use wasmtime::{Caller, Engine, IntoFunc, Linker, Memory};

use crate::{
    context::{EntryKind, MessageEnv, OutgoingCall, PAGE, Response, SystemState},
    costs,
    error::{Reject, RejectCode},
};

/// Cycle balance every canister reports (cycles are not accounted; see tests/README.md).
pub const CYCLE_BALANCE: u128 = 100_000_000_000_000;
/// The `data_certificate` non-replicated queries see: a placeholder, not a real certificate.
pub const DATA_CERTIFICATE: &[u8] = b"ic-wasm-harness: placeholder data certificate";
/// The subnet every canister reports from `subnet_self`.
pub const SUBNET_ID: &[u8] = &[0x01; 29];
/// Largest stable memory in pages (500 GiB, as on the IC).
pub const MAX_STABLE_PAGES: u64 = 500 * 1024 * 1024 * 1024 / PAGE;

/// A trap raised by `ic0.trap` or by a misuse of the system API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanisterTrap(pub String);

impl std::fmt::Display for CanisterTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanisterTrap {}

pub(crate) type Ctx<'a> = Caller<'a, SystemState>;
pub(crate) type R<T> = wasmtime::Result<T>;

/// Traps with `msg`.
pub fn trap<T>(msg: impl Into<String>) -> R<T> {
    Err(wasmtime::Error::new(CanisterTrap(msg.into())))
}

fn memory(c: &mut Ctx<'_>) -> R<Memory> {
    let name = c.data().memory_export.clone();
    match c.get_export(&name) {
        Some(wasmtime::Extern::Memory(m)) => Ok(m),
        _ => trap("the canister's memory export is missing"),
    }
}

/// Reads `len` bytes at `ptr` of the canister's memory.
pub fn read(c: &mut Ctx<'_>, ptr: u64, len: u64) -> R<Vec<u8>> {
    let mem = memory(c)?;
    let data = mem.data(&*c);
    match ptr.checked_add(len) {
        Some(end) if end <= data.len() as u64 => Ok(data[ptr as usize..end as usize].to_vec()),
        _ => trap(format!("memory access out of bounds ({ptr} + {len})")),
    }
}

/// Writes `bytes` at `ptr` of the canister's memory.
pub fn write(c: &mut Ctx<'_>, ptr: u64, bytes: &[u8]) -> R<()> {
    let mem = memory(c)?;
    let data = mem.data_mut(&mut *c);
    match ptr.checked_add(bytes.len() as u64) {
        Some(end) if end <= data.len() as u64 => {
            data[ptr as usize..end as usize].copy_from_slice(bytes);
            Ok(())
        }
        _ => trap(format!(
            "memory access out of bounds ({ptr} + {})",
            bytes.len()
        )),
    }
}

/// Copies `src[offset..offset + size]` to `dst`, trapping when the range is out of `src`.
pub(crate) fn copy_out(
    c: &mut Ctx<'_>,
    api: &str,
    src: &[u8],
    dst: i32,
    offset: i32,
    size: i32,
) -> R<()> {
    let (offset, size) = (offset as u32 as usize, size as u32 as usize);
    match offset.checked_add(size) {
        Some(end) if end <= src.len() => write(c, dst as u32 as u64, &src[offset..end]),
        _ => trap(format!("ic0.{api}: offset + size out of bounds")),
    }
}

pub(crate) fn write_u128(c: &mut Ctx<'_>, dst: i32, value: u128) -> R<()> {
    write(c, dst as u32 as u64, &value.to_le_bytes())
}

pub(crate) fn u128_of(high: i64, low: i64) -> u128 {
    ((high as u64 as u128) << 64) | low as u64 as u128
}

pub(crate) fn env<'a>(c: &'a mut Ctx<'_>, api: &str) -> R<&'a mut MessageEnv> {
    match c.data_mut().message.as_mut() {
        Some(env) => Ok(env),
        None => trap(format!("ic0.{api} called outside of a message")),
    }
}

/// The running environment, if `allowed` accepts its entry kind.
pub(crate) fn env_in<'a>(
    c: &'a mut Ctx<'_>,
    api: &str,
    allowed: impl Fn(EntryKind) -> bool,
) -> R<&'a mut MessageEnv> {
    let env = env(c, api)?;
    if allowed(env.kind) {
        Ok(env)
    } else {
        trap(format!(
            "ic0.{api} cannot be executed in {:?} context",
            env.kind
        ))
    }
}

pub(crate) fn principal_arg(c: &mut Ctx<'_>, api: &str, src: i32, size: i32) -> R<Principal> {
    if size as u32 > 29 {
        return trap(format!("ic0.{api}: principal longer than 29 bytes"));
    }
    let bytes = read(c, src as u32 as u64, size as u32 as u64)?;
    Principal::try_from_slice(&bytes).or_else(|e| trap(format!("ic0.{api}: {e}")))
}

pub(crate) fn utf8_arg(c: &mut Ctx<'_>, api: &str, src: i32, size: i32) -> R<String> {
    let bytes = read(c, src as u32 as u64, size as u32 as u64)?;
    String::from_utf8(bytes).or_else(|_| trap(format!("ic0.{api}: invalid UTF-8")))
}

fn respond(
    c: &mut Ctx<'_>,
    api: &str,
    response: impl FnOnce(&mut MessageEnv) -> Response,
) -> R<()> {
    let env = env_in(c, api, EntryKind::can_reply)?;
    if env.already_responded || env.response.is_some() {
        return trap(format!("ic0.{api}: the call has already been responded to"));
    }
    env.response = Some(response(env));
    Ok(())
}

fn pending<'a>(c: &'a mut Ctx<'_>, api: &str) -> R<&'a mut OutgoingCall> {
    match env(c, api)?.pending.as_mut() {
        Some(call) => Ok(call),
        None => trap(format!(
            "ic0.{api} called without a call under construction (call_new)"
        )),
    }
}

/// Registers functions and remembers their names.
pub(crate) struct Registry {
    linker: Linker<SystemState>,
    names: Vec<&'static str>,
}

impl Registry {
    pub(crate) fn add<P, A>(&mut self, name: &'static str, f: impl IntoFunc<SystemState, P, A>) {
        self.linker
            .func_wrap("ic0", name, f)
            .unwrap_or_else(|e| panic!("defining ic0.{name}: {e}"));
        self.names.push(name);
    }
}

/// The shared engine and the `ic0` linker.
pub struct Runtime {
    /// The engine every module is compiled with (fuel on, reference types on).
    pub engine: Engine,
    /// The `ic0` functions.
    pub linker: Linker<SystemState>,
    names: Vec<&'static str>,
}

impl Runtime {
    /// The process-wide runtime.
    pub fn get() -> &'static Runtime {
        static RUNTIME: OnceLock<Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            let mut config = wasmtime::Config::new();
            // Reference types (on by default, also without wasmtime's `gc` feature) and
            // multi-value are what rustc ≥ 1.82 emits for wasm32.
            config
                .consume_fuel(true)
                .wasm_multi_value(true)
                .wasm_bulk_memory(true)
                .cranelift_opt_level(wasmtime::OptLevel::None);
            let engine = Engine::new(&config).expect("wasmtime engine configuration");
            let mut registry = Registry {
                linker: Linker::new(&engine),
                names: Vec::new(),
            };
            define_messages(&mut registry);
            define_calls(&mut registry);
            canister_info::define_canister(&mut registry);
            stable::define_stable(&mut registry);
            costs::define(&mut registry);
            Runtime {
                engine,
                linker: registry.linker,
                names: registry.names,
            }
        })
    }

    /// Whether the harness implements `ic0.<name>`.
    pub fn implements(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// Every implemented `ic0` function.
    pub fn implemented(&self) -> &[&'static str] {
        &self.names
    }
}

fn define_messages(r: &mut Registry) {
    r.add("msg_arg_data_size", |mut c: Ctx<'_>| -> R<i32> {
        Ok(env_in(&mut c, "msg_arg_data_size", EntryKind::has_arg)?
            .arg
            .len() as i32)
    });
    r.add(
        "msg_arg_data_copy",
        |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            let arg = env_in(&mut c, "msg_arg_data_copy", EntryKind::has_arg)?
                .arg
                .clone();
            copy_out(&mut c, "msg_arg_data_copy", &arg, dst, off, size)
        },
    );
    r.add("msg_caller_size", |mut c: Ctx<'_>| -> R<i32> {
        Ok(env(&mut c, "msg_caller_size")?.caller.as_slice().len() as i32)
    });
    r.add(
        "msg_caller_copy",
        |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            let caller = env(&mut c, "msg_caller_copy")?.caller;
            copy_out(&mut c, "msg_caller_copy", caller.as_slice(), dst, off, size)
        },
    );
    let in_callback = |k| matches!(k, EntryKind::ReplyCallback | EntryKind::RejectCallback);
    r.add("msg_reject_code", move |mut c: Ctx<'_>| -> R<i32> {
        let env = env_in(&mut c, "msg_reject_code", in_callback)?;
        Ok(env.reject.as_ref().map_or(0, |(code, _)| *code as i32))
    });
    let rejected = |k| k == EntryKind::RejectCallback;
    r.add("msg_reject_msg_size", move |mut c: Ctx<'_>| -> R<i32> {
        let env = env_in(&mut c, "msg_reject_msg_size", rejected)?;
        Ok(env.reject.as_ref().map_or(0, |(_, m)| m.len()) as i32)
    });
    r.add(
        "msg_reject_msg_copy",
        move |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            let env = env_in(&mut c, "msg_reject_msg_copy", rejected)?;
            let msg = env
                .reject
                .as_ref()
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
            copy_out(
                &mut c,
                "msg_reject_msg_copy",
                msg.as_bytes(),
                dst,
                off,
                size,
            )
        },
    );
    r.add("msg_deadline", |mut c: Ctx<'_>| -> R<i64> {
        Ok(env(&mut c, "msg_deadline")?.deadline as i64)
    });
    r.add(
        "msg_reply_data_append",
        |mut c: Ctx<'_>, src: i32, size: i32| {
            let data = read(&mut c, src as u32 as u64, size as u32 as u64)?;
            let env = env_in(&mut c, "msg_reply_data_append", EntryKind::can_reply)?;
            if env.already_responded || env.response.is_some() {
                return trap("ic0.msg_reply_data_append: the call has already been responded to");
            }
            env.reply_data.extend_from_slice(&data);
            Ok(())
        },
    );
    r.add("msg_reply", |mut c: Ctx<'_>| {
        respond(&mut c, "msg_reply", |env| {
            Response::Reply(std::mem::take(&mut env.reply_data))
        })
    });
    r.add("msg_reject", |mut c: Ctx<'_>, src: i32, size: i32| {
        let msg = utf8_arg(&mut c, "msg_reject", src, size)?;
        respond(&mut c, "msg_reject", |_| {
            Response::Reject(Reject::new(RejectCode::CanisterReject, msg))
        })
    });
    r.add("msg_method_name_size", |mut c: Ctx<'_>| -> R<i32> {
        Ok(env(&mut c, "msg_method_name_size")?.method.len() as i32)
    });
    r.add(
        "msg_method_name_copy",
        |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            let method = env(&mut c, "msg_method_name_copy")?.method.clone();
            copy_out(
                &mut c,
                "msg_method_name_copy",
                method.as_bytes(),
                dst,
                off,
                size,
            )
        },
    );
    r.add("accept_message", |mut c: Ctx<'_>| {
        let env = env_in(&mut c, "accept_message", |k| k == EntryKind::InspectMessage)?;
        if env.accepted {
            return trap("ic0.accept_message called twice");
        }
        env.accepted = true;
        Ok(())
    });
    r.add("msg_cycles_available128", |mut c: Ctx<'_>, dst: i32| {
        let cycles = env(&mut c, "msg_cycles_available128")?.cycles_available;
        write_u128(&mut c, dst, cycles)
    });
    r.add("msg_cycles_refunded128", |mut c: Ctx<'_>, dst: i32| {
        let cycles = env(&mut c, "msg_cycles_refunded128")?.cycles_refunded;
        write_u128(&mut c, dst, cycles)
    });
    r.add(
        "msg_cycles_accept128",
        |mut c: Ctx<'_>, high: i64, low: i64, dst: i32| {
            let env = env(&mut c, "msg_cycles_accept128")?;
            let accepted = u128_of(high, low).min(env.cycles_available);
            env.cycles_available -= accepted;
            write_u128(&mut c, dst, accepted)
        },
    );
    r.add("debug_print", |mut c: Ctx<'_>, src: i32, size: i32| {
        let bytes = read(&mut c, src as u32 as u64, size as u32 as u64)?;
        let line = String::from_utf8_lossy(&bytes).into_owned();
        eprintln!("[canister {}] {line}", c.data().canister_id);
        c.data_mut().debug_log.push(line);
        Ok(())
    });
    r.add("trap", |mut c: Ctx<'_>, src: i32, size: i32| -> R<()> {
        let bytes = read(&mut c, src as u32 as u64, size as u32 as u64)?;
        let msg = String::from_utf8_lossy(&bytes);
        trap(format!("Canister called `ic0.trap` with message: '{msg}'"))
    });
}

fn define_calls(r: &mut Registry) {
    r.add(
        "call_new",
        |mut c: Ctx<'_>,
         callee_src: i32,
         callee_size: i32,
         name_src: i32,
         name_size: i32,
         reply_fun: i32,
         reply_env: i32,
         reject_fun: i32,
         reject_env: i32| {
            env_in(&mut c, "call_new", EntryKind::can_call)?;
            let callee = principal_arg(&mut c, "call_new", callee_src, callee_size)?;
            let method = utf8_arg(&mut c, "call_new", name_src, name_size)?;
            env(&mut c, "call_new")?.pending = Some(OutgoingCall {
                callee,
                method,
                arg: Vec::new(),
                cycles: 0,
                reply: (reply_fun as u32, reply_env as u32 as u64),
                reject: (reject_fun as u32, reject_env as u32 as u64),
                cleanup: None,
                timeout_seconds: None,
            });
            Ok(())
        },
    );
    r.add("call_data_append", |mut c: Ctx<'_>, src: i32, size: i32| {
        let data = read(&mut c, src as u32 as u64, size as u32 as u64)?;
        pending(&mut c, "call_data_append")?
            .arg
            .extend_from_slice(&data);
        Ok(())
    });
    r.add("call_on_cleanup", |mut c: Ctx<'_>, fun: i32, env: i32| {
        let call = pending(&mut c, "call_on_cleanup")?;
        if call.cleanup.is_some() {
            return trap("ic0.call_on_cleanup called twice for one call");
        }
        call.cleanup = Some((fun as u32, env as u32 as u64));
        Ok(())
    });
    r.add(
        "call_cycles_add128",
        |mut c: Ctx<'_>, high: i64, low: i64| {
            let call = pending(&mut c, "call_cycles_add128")?;
            call.cycles = call.cycles.saturating_add(u128_of(high, low));
            Ok(())
        },
    );
    r.add(
        "call_with_best_effort_response",
        |mut c: Ctx<'_>, secs: i32| {
            let call = pending(&mut c, "call_with_best_effort_response")?;
            if call.timeout_seconds.is_some() {
                return trap("ic0.call_with_best_effort_response called twice for one call");
            }
            call.timeout_seconds = Some((secs as u32).min(300));
            Ok(())
        },
    );
    r.add("call_perform", |mut c: Ctx<'_>| -> R<i32> {
        let env = env(&mut c, "call_perform")?;
        match env.pending.take() {
            Some(call) => {
                env.performed.push(call);
                Ok(0)
            }
            None => trap("ic0.call_perform called without a call under construction (call_new)"),
        }
    });
}
