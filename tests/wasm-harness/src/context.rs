//! The state the `ic0` functions read and write: what a canister keeps between messages besides
//! its wasm instance (stable memory, global timer, certified data), and the environment of the
//! message being executed (argument, caller, reply being built, calls being made).

use std::collections::HashMap;

use candid::Principal;

use crate::error::{Reject, RejectCode};

/// Size of a wasm (and stable memory) page.
pub const PAGE: u64 = 64 * 1024;

/// Which entry point of the canister is running: decides which `ic0` functions may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// `canister_init`.
    Init,
    /// `canister_pre_upgrade`.
    PreUpgrade,
    /// `canister_post_upgrade`.
    PostUpgrade,
    /// `canister_update <name>`.
    Update,
    /// `canister_query <name>`, replicated (called as an update) or not.
    Query {
        /// Executed as part of an update (no data certificate).
        replicated: bool,
    },
    /// A reply callback.
    ReplyCallback,
    /// A reject callback.
    RejectCallback,
    /// A cleanup callback.
    Cleanup,
    /// `canister_inspect_message`.
    InspectMessage,
    /// `canister_global_timer`.
    GlobalTimer,
    /// `canister_heartbeat`.
    Heartbeat,
}

impl EntryKind {
    /// Whether the entry runs in a call context that can be answered.
    pub fn can_reply(self) -> bool {
        matches!(
            self,
            Self::Update | Self::Query { .. } | Self::ReplyCallback | Self::RejectCallback
        )
    }

    /// Whether the entry may make inter-canister calls.
    pub fn can_call(self) -> bool {
        matches!(
            self,
            Self::Update
                | Self::ReplyCallback
                | Self::RejectCallback
                | Self::GlobalTimer
                | Self::Heartbeat
        )
    }

    /// Whether the entry sees the message argument (`msg_arg_data_*`).
    pub fn has_arg(self) -> bool {
        matches!(
            self,
            Self::Init
                | Self::PostUpgrade
                | Self::Update
                | Self::Query { .. }
                | Self::ReplyCallback
                | Self::InspectMessage
        )
    }

    /// Whether state changes of the entry are discarded even when it succeeds.
    pub fn discards_state(self) -> bool {
        matches!(self, Self::Query { .. } | Self::InspectMessage)
    }

    /// Whether the entry runs in replicated mode.
    pub fn replicated(self) -> bool {
        !matches!(
            self,
            Self::Query { replicated: false } | Self::InspectMessage
        )
    }
}

/// A call the canister is assembling (`call_new` … `call_perform`).
#[derive(Clone, Debug)]
pub struct OutgoingCall {
    /// The callee.
    pub callee: Principal,
    /// The method.
    pub method: String,
    /// The argument.
    pub arg: Vec<u8>,
    /// Cycles attached.
    pub cycles: u128,
    /// Reply callback: table index and env.
    pub reply: (u32, u64),
    /// Reject callback: table index and env.
    pub reject: (u32, u64),
    /// Cleanup callback, if any.
    pub cleanup: Option<(u32, u64)>,
    /// Best-effort timeout in seconds, if any.
    pub timeout_seconds: Option<u32>,
}

/// The answer of a call context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `msg_reply` with the data appended so far.
    Reply(Vec<u8>),
    /// `msg_reject`.
    Reject(Reject),
}

/// The environment of one message execution.
#[derive(Clone, Debug)]
pub struct MessageEnv {
    /// Which entry point runs.
    pub kind: EntryKind,
    /// The caller of the call context.
    pub caller: Principal,
    /// The method of the call context (or the entry name for system tasks).
    pub method: String,
    /// `msg_arg_data` (the reply payload in a reply callback).
    pub arg: Vec<u8>,
    /// Code and message seen by a reject callback.
    pub reject: Option<(RejectCode, String)>,
    /// Whether the call context was answered before this message started.
    pub already_responded: bool,
    /// Reply data appended so far.
    pub reply_data: Vec<u8>,
    /// The answer this message gave, if any.
    pub response: Option<Response>,
    /// Cycles the caller attached and this message has not accepted.
    pub cycles_available: u128,
    /// Cycles refunded with the response a callback handles.
    pub cycles_refunded: u128,
    /// The call being assembled.
    pub pending: Option<OutgoingCall>,
    /// Calls performed (sent only if the message does not trap).
    pub performed: Vec<OutgoingCall>,
    /// Whether `accept_message` was called (inspect only).
    pub accepted: bool,
    /// The deadline of a best-effort call context, 0 otherwise.
    pub deadline: u64,
    /// Fuel given to the execution (its instruction limit).
    pub fuel_limit: u64,
    /// Instructions spent earlier in the same call context.
    pub context_instructions: u64,
}

impl MessageEnv {
    /// An environment for `kind` with caller, method and argument.
    pub fn new(kind: EntryKind, caller: Principal, method: &str, arg: Vec<u8>) -> Self {
        Self {
            kind,
            caller,
            method: method.to_string(),
            arg,
            reject: None,
            already_responded: false,
            reply_data: Vec::new(),
            response: None,
            cycles_available: 0,
            cycles_refunded: 0,
            pending: None,
            performed: Vec::new(),
            accepted: false,
            deadline: 0,
            fuel_limit: 0,
            context_instructions: 0,
        }
    }
}

/// Stable memory with an undo log of the pages a message touched, so a trap can restore it
/// without copying all of it for every message.
#[derive(Clone, Debug, Default)]
pub struct StableMemory {
    bytes: Vec<u8>,
    undo: Option<(u64, HashMap<u64, Vec<u8>>)>,
}

impl StableMemory {
    /// Size in pages.
    pub fn pages(&self) -> u64 {
        self.bytes.len() as u64 / PAGE
    }

    /// Starts recording changes (at the start of a message).
    pub fn begin(&mut self) {
        self.undo = Some((self.pages(), HashMap::new()));
    }

    /// Keeps the changes since [`Self::begin`].
    pub fn commit(&mut self) {
        self.undo = None;
    }

    /// Undoes the changes since [`Self::begin`].
    pub fn rollback(&mut self) {
        if let Some((pages, saved)) = self.undo.take() {
            self.bytes.truncate((pages * PAGE) as usize);
            for (page, data) in saved {
                if page < pages {
                    let start = (page * PAGE) as usize;
                    self.bytes[start..start + PAGE as usize].copy_from_slice(&data);
                }
            }
        }
    }

    /// Grows by `new_pages`; returns the previous size in pages or `None` past `max_pages`.
    pub fn grow(&mut self, new_pages: u64, max_pages: u64) -> Option<u64> {
        let old = self.pages();
        let total = old.checked_add(new_pages)?;
        if total > max_pages {
            return None;
        }
        self.bytes.resize((total * PAGE) as usize, 0);
        Some(old)
    }

    /// Reads `len` bytes at `offset`; `None` when out of bounds.
    pub fn read(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let end = offset.checked_add(len)?;
        if end > self.bytes.len() as u64 {
            return None;
        }
        Some(&self.bytes[offset as usize..end as usize])
    }

    /// Writes `data` at `offset`; `false` when out of bounds.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> bool {
        let Some(end) = offset.checked_add(data.len() as u64) else {
            return false;
        };
        if end > self.bytes.len() as u64 {
            return false;
        }
        if let Some((pages, saved)) = &mut self.undo
            && !data.is_empty()
        {
            for page in offset / PAGE..=(end - 1) / PAGE {
                if page < *pages {
                    saved.entry(page).or_insert_with(|| {
                        let start = (page * PAGE) as usize;
                        self.bytes[start..start + PAGE as usize].to_vec()
                    });
                }
            }
        }
        self.bytes[offset as usize..end as usize].copy_from_slice(data);
        true
    }
}

/// The system state of one canister, kept in its wasmtime `Store`.
#[derive(Debug)]
pub struct SystemState {
    /// The canister id.
    pub canister_id: Principal,
    /// Its controllers.
    pub controllers: Vec<Principal>,
    /// Stable memory.
    pub stable: StableMemory,
    /// The global timer (0 = inactive).
    pub global_timer: u64,
    /// Certified data (at most 32 bytes).
    pub certified_data: Vec<u8>,
    /// Current harness time in nanoseconds.
    pub time: u64,
    /// Times code was installed or upgraded (`canister_version`).
    pub version: u64,
    /// Export name of memory 0.
    pub memory_export: String,
    /// Lines printed with `debug_print`.
    pub debug_log: Vec<String>,
    /// The message being executed.
    pub message: Option<MessageEnv>,
}

impl SystemState {
    /// A fresh state for `canister_id`.
    pub fn new(canister_id: Principal, controllers: Vec<Principal>, memory_export: String) -> Self {
        Self {
            canister_id,
            controllers,
            stable: StableMemory::default(),
            global_timer: 0,
            certified_data: Vec::new(),
            time: 0,
            version: 0,
            memory_export,
            debug_log: Vec::new(),
            message: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_rollback_restores_pages_and_size() {
        let mut s = StableMemory::default();
        s.grow(2, 100).unwrap();
        assert!(s.write(10, b"keep"));
        s.begin();
        assert!(s.write(PAGE - 2, b"span"));
        assert_eq!(s.grow(3, 100), Some(2));
        assert!(s.write(3 * PAGE, b"new"));
        s.rollback();
        assert_eq!(s.pages(), 2);
        assert_eq!(s.read(10, 4), Some(&b"keep"[..]));
        assert_eq!(s.read(PAGE - 2, 4), Some(&[0u8; 4][..]));
        assert!(s.read(2 * PAGE, 1).is_none());
    }

    #[test]
    fn stable_commit_keeps_changes() {
        let mut s = StableMemory::default();
        s.begin();
        assert_eq!(s.grow(1, 1), Some(0));
        assert_eq!(s.grow(1, 1), None);
        assert!(s.write(0, b"x"));
        s.commit();
        assert_eq!(s.read(0, 1), Some(&b"x"[..]));
        assert!(!s.write(PAGE, b"y"));
    }
}
