//! One installed canister: its compiled module, wasmtime store and instance, and the execution
//! of one entry point or callback with the IC's transactional semantics: a trap (or a query)
//! restores heap, globals, stable memory, global timer and certified data to what they were at
//! the start of the message.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, Mutex, OnceLock},
};

use candid::Principal;
use sha2::{Digest, Sha256};
use wasmtime::{Instance, Module, Ref, Store, Val};

use crate::{
    artifacts::target_dir,
    context::{MessageEnv, StableMemory, SystemState},
    error::{HarnessError, Result},
    instrument::{Instrumented, instrument},
    system_api::{CanisterTrap, Runtime},
};

/// A compiled canister module and the names of its instrumented exports.
#[derive(Debug)]
pub struct LoadedModule {
    /// SHA-256 of the original wasm (what `module_hash` would report).
    pub hash: [u8; 32],
    module: Module,
    info: Instrumented,
}

impl LoadedModule {
    /// Instruments and compiles `wasm`, once per distinct wasm in the process.
    pub fn load(wasm: &[u8]) -> Result<Arc<Self>> {
        type Slot = Arc<OnceLock<Result<Arc<LoadedModule>, String>>>;
        static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Slot>>> = OnceLock::new();
        let hash: [u8; 32] = Sha256::digest(wasm).into();
        let slot = {
            let mut cache = CACHE
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            cache.entry(hash).or_default().clone()
        };
        let mut info = instrument(wasm, |name| Runtime::get().implements(name))?;
        let loaded = slot.get_or_init(|| {
            let module = compile(&info.wasm)?;
            info.wasm = Vec::new();
            Ok(Arc::new(LoadedModule { hash, module, info }))
        });
        loaded.clone().map_err(HarnessError::InvalidWasm)
    }

    /// Whether the module exports function `name`.
    pub fn exports(&self, name: &str) -> bool {
        self.info.functions.iter().any(|f| f == name)
    }
}

/// Compiles an instrumented module, through an on-disk cache in `<target>/tmp/ic-wasm-harness`
/// keyed by the wasm and the engine's compatibility hash: cranelift in a debug build takes
/// seconds per canister, and every test binary would otherwise compile the same wasm again.
fn compile(wasm: &[u8]) -> Result<Module, String> {
    let engine = &Runtime::get().engine;
    let mut engine_hash = DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let key = format!(
        "{}-{:016x}.cwasm",
        hex::encode(Sha256::digest(wasm)),
        engine_hash.finish()
    );
    let dir = target_dir().join("tmp").join("ic-wasm-harness");
    let path = dir.join(&key);
    if path.is_file() {
        // SAFETY: only this function writes these files, with `Module::serialize` of the same
        // wasmtime build and configuration (the engine's compatibility hash is in the name;
        // wasmtime checks it again), and always through an atomic rename.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
            return Ok(module);
        }
    }
    let module = Module::new(engine, wasm).map_err(|e| format!("compilation failed: {e:#}"))?;
    if let Ok(bytes) = module.serialize() {
        let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
        let stored = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if stored.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(module)
}

/// What to run.
#[derive(Clone, Debug)]
pub enum Entry {
    /// An exported function (`canister_update foo`, `canister_init`, ...).
    Export(String),
    /// A callback: table index and its env argument.
    Callback {
        /// Table index.
        fun: u32,
        /// The env value given to `call_new` / `call_on_cleanup`.
        env: u64,
    },
}

/// The outcome of running one entry.
#[derive(Debug)]
pub struct Execution {
    /// The message environment after the run (answer, calls made).
    pub env: MessageEnv,
    /// The trap message, if the run trapped (its changes are then rolled back).
    pub trap: Option<String>,
    /// Instructions (wasmtime fuel) the run used.
    pub instructions: u64,
}

/// A canister state to go back to (used when an upgrade fails).
pub struct Checkpoint {
    snapshot: Snapshot,
    stable: StableMemory,
}

struct Snapshot {
    memory: Vec<u8>,
    globals: Vec<Option<Val>>,
    global_timer: u64,
    certified_data: Vec<u8>,
}

/// An installed canister.
pub struct Canister {
    module: Arc<LoadedModule>,
    store: Store<SystemState>,
    instance: Instance,
}

impl std::fmt::Debug for Canister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canister")
            .field("id", &self.store.data().canister_id)
            .finish_non_exhaustive()
    }
}

fn instantiate(
    module: &LoadedModule,
    state: SystemState,
) -> Result<(Store<SystemState>, Instance)> {
    let runtime = Runtime::get();
    let mut store = Store::new(&runtime.engine, state);
    store
        .set_fuel(u64::MAX)
        .map_err(|e| HarnessError::InvalidWasm(e.to_string()))?;
    let instance = runtime
        .linker
        .instantiate(&mut store, &module.module)
        .map_err(|e| HarnessError::InvalidWasm(format!("instantiation failed: {e:#}")))?;
    Ok((store, instance))
}

impl Canister {
    /// Instantiates `module` for canister `id` with `stable` memory (kept across upgrades).
    pub fn new(
        id: Principal,
        controllers: Vec<Principal>,
        module: Arc<LoadedModule>,
        stable: StableMemory,
        version: u64,
    ) -> Result<Self> {
        let mut state = SystemState::new(id, controllers, module.info.memory.clone());
        state.stable = stable;
        state.version = version;
        let (store, instance) = instantiate(&module, state)?;
        Ok(Self {
            module,
            store,
            instance,
        })
    }

    /// The module this canister runs.
    pub fn module(&self) -> &Arc<LoadedModule> {
        &self.module
    }

    /// The system state (stable memory, timer, certified data, debug log).
    pub fn state(&self) -> &SystemState {
        self.store.data()
    }

    /// Mutable system state.
    pub fn state_mut(&mut self) -> &mut SystemState {
        self.store.data_mut()
    }

    /// Everything needed to undo what happens next (heap, globals, stable memory, timer).
    pub fn checkpoint(&mut self) -> Checkpoint {
        Checkpoint {
            snapshot: self.snapshot(),
            stable: self.state().stable.clone(),
        }
    }

    /// Goes back to `checkpoint`.
    pub fn rollback(&mut self, checkpoint: Checkpoint) -> Result<()> {
        self.store.data_mut().stable = checkpoint.stable;
        self.restore(checkpoint.snapshot)
    }

    fn snapshot(&mut self) -> Snapshot {
        let memory = self.memory().data(&self.store).to_vec();
        let mut globals = Vec::new();
        for (name, mutable) in &self.module.info.globals {
            let value = if *mutable {
                self.instance
                    .get_global(&mut self.store, name)
                    .map(|g| g.get(&mut self.store))
            } else {
                None
            };
            globals.push(value);
        }
        let state = self.store.data();
        Snapshot {
            memory,
            globals,
            global_timer: state.global_timer,
            certified_data: state.certified_data.clone(),
        }
    }

    fn memory(&mut self) -> wasmtime::Memory {
        self.instance
            .get_memory(&mut self.store, &self.module.info.memory)
            .expect("instrumented module exports its memory")
    }

    fn restore(&mut self, snapshot: Snapshot) -> Result<()> {
        let state = self.store.data_mut();
        state.stable.rollback();
        state.global_timer = snapshot.global_timer;
        state.certified_data = snapshot.certified_data;
        if self.memory().data_size(&self.store) != snapshot.memory.len() {
            // Wasm memory cannot shrink: start from a fresh instance.
            let placeholder = SystemState::new(Principal::anonymous(), Vec::new(), String::new());
            let old = std::mem::replace(
                &mut self.store,
                Store::new(&Runtime::get().engine, placeholder),
            );
            let (store, instance) = instantiate(&self.module, old.into_data())?;
            self.store = store;
            self.instance = instance;
            let memory = self.memory();
            let missing = (snapshot.memory.len() - memory.data_size(&self.store)) as u64;
            memory
                .grow(&mut self.store, missing / crate::context::PAGE)
                .map_err(|e| HarnessError::Harness(format!("restoring memory: {e}")))?;
        }
        let memory = self.memory();
        memory
            .data_mut(&mut self.store)
            .copy_from_slice(&snapshot.memory);
        for ((name, _), value) in self.module.info.globals.iter().zip(snapshot.globals) {
            if let (Some(value), Some(global)) =
                (value, self.instance.get_global(&mut self.store, name))
            {
                global
                    .set(&mut self.store, value)
                    .map_err(|e| HarnessError::Harness(format!("restoring global {name}: {e}")))?;
            }
        }
        Ok(())
    }

    /// Runs `entry` in `env`; rolls back on trap, or always when the entry kind discards state.
    pub fn run(&mut self, entry: &Entry, env: MessageEnv) -> Result<Execution> {
        let snapshot = self.snapshot();
        let limit = env.fuel_limit;
        let kind = env.kind;
        self.store.data_mut().stable.begin();
        self.store.data_mut().message = Some(env);
        self.store
            .set_fuel(limit)
            .map_err(|e| HarnessError::Harness(e.to_string()))?;
        let outcome = self.call(entry);
        let left = self.store.get_fuel().unwrap_or(0);
        let mut env = self
            .store
            .data_mut()
            .message
            .take()
            .expect("the message environment stays in place during a run");
        let trap = outcome.err().map(|e| describe_trap(&e, limit));
        if trap.is_some() || kind.discards_state() {
            self.restore(snapshot)?;
        } else {
            self.store.data_mut().stable.commit();
        }
        if trap.is_some() {
            env.performed.clear();
            env.pending = None;
            env.response = None;
        }
        Ok(Execution {
            env,
            trap,
            instructions: limit.saturating_sub(left),
        })
    }

    fn call(&mut self, entry: &Entry) -> wasmtime::Result<()> {
        match entry {
            Entry::Export(name) => {
                let f = self
                    .instance
                    .get_typed_func::<(), ()>(&mut self.store, name)?;
                f.call(&mut self.store, ())
            }
            Entry::Callback { fun, env } => {
                let table_name = self.module.info.table.as_deref().ok_or_else(|| {
                    wasmtime::Error::new(CanisterTrap(
                        "callback, but the module has no table".into(),
                    ))
                })?;
                let table = self
                    .instance
                    .get_table(&mut self.store, table_name)
                    .ok_or_else(|| wasmtime::Error::msg("table export missing"))?;
                let func = match table.get(&mut self.store, u64::from(*fun)) {
                    Some(Ref::Func(Some(func))) => func,
                    _ => {
                        return Err(wasmtime::Error::new(CanisterTrap(format!(
                            "callback table index {fun} is not a function"
                        ))));
                    }
                };
                let env = i32::try_from(*env).unwrap_or(*env as u32 as i32);
                func.typed::<i32, ()>(&self.store)?
                    .call(&mut self.store, env)
            }
        }
    }
}

/// The trap message the IC would report for `error`.
fn describe_trap(error: &wasmtime::Error, limit: u64) -> String {
    if let Some(CanisterTrap(msg)) = error.downcast_ref::<CanisterTrap>() {
        return msg.clone();
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => format!(
            "Canister exceeded the limit of {limit} instructions for single message execution."
        ),
        Some(trap) => format!("Canister trapped: {trap}"),
        None => format!("Canister trapped: {error:#}"),
    }
}
