//! Stable state of the identity canister. Every structure lives in ic-stable-structures behind a
//! fixed `MemoryId`; ids are never reused or renumbered. Records are CBOR with numbered fields
//! (minicbor), so a field added later decodes old data as its default.
//!
//! The state is one [`State`] value in a thread-local. In wasm it sits on the canister's stable
//! memory; natively [`install_memory`] puts it on a file (the local stack) or leaves it on a
//! fresh in-memory vector (tests: each test thread has its own state).

use std::borrow::Cow;
use std::cell::RefCell;

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableBTreeMap, StableCell, StableLog, Storable};

pub mod records;

pub use records::*;

use crate::events::Event;

/// The memory the whole state is laid out on.
#[cfg(target_arch = "wasm32")]
pub type BaseMemory = ic_stable_structures::DefaultMemoryImpl;
/// The memory the whole state is laid out on: a file (local stack) or a vector (tests).
#[cfg(not(target_arch = "wasm32"))]
pub type BaseMemory = host::HostMemory;

/// One region of [`BaseMemory`] handed out by the memory manager.
pub type Memory = VirtualMemory<BaseMemory>;

const CONFIG_MEMORY: MemoryId = MemoryId::new(0);
const SHADOW_PROFILES: MemoryId = MemoryId::new(1);
const CLAIM_TOKENS: MemoryId = MemoryId::new(2);
const CLAIM_TOKEN_BY_HASH: MemoryId = MemoryId::new(3);
const CLAIM_TOKEN_BY_CODE: MemoryId = MemoryId::new(4);
const USERS: MemoryId = MemoryId::new(5);
const NAMES: MemoryId = MemoryId::new(6);
const NAMES_BY_OWNER: MemoryId = MemoryId::new(7);
const RESERVED: MemoryId = MemoryId::new(8);
const NONCES: MemoryId = MemoryId::new(9);
const POW_CHALLENGES: MemoryId = MemoryId::new(10);
const PERMIT_WINDOWS: MemoryId = MemoryId::new(11);
const IDENTITIES: MemoryId = MemoryId::new(12);
const WALLET_LIMITS: MemoryId = MemoryId::new(13);
const RELAYER_NONCES: MemoryId = MemoryId::new(14);
const EVENT_INDEX: MemoryId = MemoryId::new(15);
const EVENT_DATA: MemoryId = MemoryId::new(16);
const SECRETS: MemoryId = MemoryId::new(17);
const COUNTERS: MemoryId = MemoryId::new(18);
const SIGNER_KEYS: MemoryId = MemoryId::new(20);
const CLAIM_ATTEMPTS: MemoryId = MemoryId::new(19);

/// Pages per memory-manager bucket. The IC default (128 pages, 8 MiB) on the canister; natively
/// 1 MiB, so a fresh local state file or test state is not ~150 MiB of zeroed buckets. The size
/// is recorded in the memory's header when it is first laid out, so it never changes for an
/// existing memory.
#[cfg(target_arch = "wasm32")]
const BUCKET_PAGES: u16 = 128;
#[cfg(not(target_arch = "wasm32"))]
const BUCKET_PAGES: u16 = 16;

/// A value stored as CBOR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cbor<T>(pub T);

impl<T> Storable for Cbor<T>
where
    T: Clone + minicbor::Encode<()> + for<'b> minicbor::Decode<'b, ()>,
{
    const BOUND: Bound = Bound::Unbounded;

    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(minicbor::to_vec(&self.0).expect("encoding to a Vec cannot fail"))
    }

    fn into_bytes(self) -> Vec<u8> {
        minicbor::to_vec(&self.0).expect("encoding to a Vec cannot fail")
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Cbor(minicbor::decode(&bytes).expect("record written by this canister decodes"))
    }
}

/// Map from a text key to a CBOR record.
pub type RecordMap<T> = StableBTreeMap<String, Cbor<T>, Memory>;
/// A set of text keys (secondary indexes: `<index value>|<primary key>`).
pub type KeySet = StableBTreeMap<String, (), Memory>;

/// Everything the canister keeps.
pub struct State {
    /// Install configuration (key name, install count, chain and policy settings).
    pub config: StableCell<Cbor<Config>, Memory>,
    /// Route secrets, set by controllers only; never returned by any method.
    pub secrets: StableCell<Cbor<Secrets>, Memory>,
    /// `shadow_profiles`, by id.
    pub shadow_profiles: RecordMap<ShadowProfile>,
    /// `claim_tokens`, by claim id.
    pub claim_tokens: RecordMap<ClaimToken>,
    /// Claim id by sha256 hex of the link token.
    pub claim_token_by_hash: StableBTreeMap<String, String, Memory>,
    /// `<human code hash>|<claim id>` for DM verification.
    pub claim_token_by_code: KeySet,
    /// `users`, by lowercase address.
    pub users: RecordMap<User>,
    /// `heaven_names`, by normalized label.
    pub names: RecordMap<HeavenName>,
    /// `<owner lowercase>|<label>` for reverse lookups.
    pub names_by_owner: KeySet,
    /// `heaven_reserved`: label → reason (controller-managed).
    pub reserved: StableBTreeMap<String, String, Memory>,
    /// `heaven_nonces`: a nonce may be used once, ever.
    pub nonces: RecordMap<UsedNonce>,
    /// `name_pow_challenges`, by challenge id.
    pub pow_challenges: RecordMap<PowChallenge>,
    /// `name_permit_issuance` as sliding-window keys `<kind>|<value>|<issued_at, 20 digits>|<seq>`.
    pub permit_windows: KeySet,
    /// `user_identity` (the part the names policy reads), by lowercase address.
    pub identities: RecordMap<IdentityRecord>,
    /// `wallet_rate_limits`: lowercase address → last successful relay (seconds).
    pub wallet_limits: StableBTreeMap<String, u64, Memory>,
    /// Next transaction nonce of the relayer, per chain id.
    pub relayer_nonces: StableBTreeMap<u64, u64, Memory>,
    /// Monotonic counters (`permit_seq`, ...).
    pub counters: StableBTreeMap<String, u64, Memory>,
    /// Threshold-ECDSA public keys fetched so far, by `<key name>|<role>` (deterministic, so
    /// kept: queries and post_upgrade can use them without a management call).
    pub signer_keys: StableBTreeMap<String, Vec<u8>, Memory>,
    /// Failed DM-code attempts: `<shadow profile id>|<at_ns, 20 digits>` → failures at that time.
    pub claim_attempts: StableBTreeMap<String, u64, Memory>,
    /// Every change, in order: the audit trail.
    pub events: StableLog<Cbor<Event>, Memory, Memory>,
    /// The memory everything above is laid out on (natively: to open it again after a
    /// panicked segment was undone; on the IC the heap rolls back with the memory).
    #[cfg(not(target_arch = "wasm32"))]
    base: BaseMemory,
}

impl State {
    /// Lays the state out on `base` (opening what is already there, with the bucket size it
    /// was created with).
    pub fn open(base: BaseMemory) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        let kept = base.clone();
        let mm = MemoryManager::init_with_bucket_size(base, BUCKET_PAGES);
        let m = |id| mm.get(id);
        Self {
            config: StableCell::init(m(CONFIG_MEMORY), Cbor(Config::default())),
            secrets: StableCell::init(m(SECRETS), Cbor(Secrets::default())),
            shadow_profiles: StableBTreeMap::init(m(SHADOW_PROFILES)),
            claim_tokens: StableBTreeMap::init(m(CLAIM_TOKENS)),
            claim_token_by_hash: StableBTreeMap::init(m(CLAIM_TOKEN_BY_HASH)),
            claim_token_by_code: StableBTreeMap::init(m(CLAIM_TOKEN_BY_CODE)),
            users: StableBTreeMap::init(m(USERS)),
            names: StableBTreeMap::init(m(NAMES)),
            names_by_owner: StableBTreeMap::init(m(NAMES_BY_OWNER)),
            reserved: StableBTreeMap::init(m(RESERVED)),
            nonces: StableBTreeMap::init(m(NONCES)),
            pow_challenges: StableBTreeMap::init(m(POW_CHALLENGES)),
            permit_windows: StableBTreeMap::init(m(PERMIT_WINDOWS)),
            identities: StableBTreeMap::init(m(IDENTITIES)),
            wallet_limits: StableBTreeMap::init(m(WALLET_LIMITS)),
            relayer_nonces: StableBTreeMap::init(m(RELAYER_NONCES)),
            counters: StableBTreeMap::init(m(COUNTERS)),
            signer_keys: StableBTreeMap::init(m(SIGNER_KEYS)),
            claim_attempts: StableBTreeMap::init(m(CLAIM_ATTEMPTS)),
            events: StableLog::init(m(EVENT_INDEX), m(EVENT_DATA)),
            #[cfg(not(target_arch = "wasm32"))]
            base: kept,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config.get().0
    }

    /// Replaces the configuration.
    pub fn set_config(&mut self, config: Config) {
        self.config.set(Cbor(config));
    }

    /// The route secrets.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets.get().0
    }

    /// Appends `event` (stamped with `at_ns`) to the audit log.
    pub fn record(&mut self, at_ns: u64, event: crate::events::EventKind) {
        self.events
            .append(&Cbor(Event { at_ns, kind: event }))
            .expect("the event log can grow");
    }

    /// Increments and returns the counter `name` (first value 1).
    pub fn next_seq(&mut self, name: &str) -> u64 {
        let next = self.counters.get(&name.to_string()).unwrap_or(0) + 1;
        self.counters.insert(name.to_string(), next);
        next
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `f` on the state (opened on the default memory on first use).
pub fn with<R>(f: impl FnOnce(&State) -> R) -> R {
    STATE.with_borrow_mut(|s| f(s.get_or_insert_with(|| State::open(default_memory()))))
}

/// Runs `f` on the state for a change. `f` must not await: the borrow ends when it returns.
pub fn with_mut<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with_borrow_mut(|s| f(s.get_or_insert_with(|| State::open(default_memory()))))
}

/// Lays this thread's state out on `base`, replacing whatever state the thread had. Natively the
/// local stack calls it once on its canister thread with a file-backed memory.
pub fn install_memory(base: BaseMemory) {
    STATE.with_borrow_mut(|s| *s = Some(State::open(base)));
}

/// Opens this thread's state again from its memory, dropping the in-heap handles of the stable
/// structures (root addresses, lengths, allocator heads), which no longer match the memory once
/// a panicked segment's writes were undone.
#[cfg(not(target_arch = "wasm32"))]
fn reopen_from_memory() {
    STATE.with_borrow_mut(|s| {
        if let Some(old) = s.take() {
            *s = Some(State::open(old.base));
        }
    });
}

#[cfg(target_arch = "wasm32")]
fn default_memory() -> BaseMemory {
    ic_stable_structures::DefaultMemoryImpl::default()
}

#[cfg(not(target_arch = "wasm32"))]
fn default_memory() -> BaseMemory {
    host::HostMemory::volatile()
}

/// Reads the configuration.
pub fn with_config<R>(f: impl FnOnce(&Config) -> R) -> R {
    with(|s| f(s.config()))
}

/// Replaces the configuration.
pub fn set_config(config: Config) {
    with_mut(|s| s.set_config(config));
}

#[cfg(not(target_arch = "wasm32"))]
pub mod host {
    //! Host memories for the native build, and message atomicity on them.
    //!
    //! On the IC a message that traps leaves no trace: its writes since its last `await` are
    //! discarded. Natively the same holds through [`run_segment`] and [`Segmented`]: while a
    //! segment runs, every write to a [`HostMemory`] first saves the bytes it overwrites; a
    //! panic puts them back (newest first) before the panic is reported, a normal end forgets
    //! them. The thread's state is then opened again from the restored memory (on the IC the
    //! heap is rolled back with the memory; here the heap handles are rebuilt from it).

    use std::cell::RefCell;
    use std::fs::{File, OpenOptions, TryLockError};
    use std::future::Future;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::path::Path;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use ic_stable_structures::{FileMemory, Memory, VectorMemory};

    /// A stable-memory page (64 KiB); a memory file is always a whole number of pages.
    const WASM_PAGE_BYTES: u64 = 64 * 1024;

    /// Bytes a write replaced: where, in which memory, and what was there.
    struct Overwritten {
        memory: HostMemory,
        offset: u64,
        old: Vec<u8>,
    }

    thread_local! {
        /// The undo log of the segment running on this thread (`None` outside segments).
        static UNDO: RefCell<Option<Vec<Overwritten>>> = const { RefCell::new(None) };
    }

    /// Runs `f` as one atomic segment of a message: if it panics, every host-memory write it
    /// made is undone and the panic payload is returned. A segment inside a segment is part of
    /// the outer one.
    pub fn run_segment<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
        let nested = UNDO.with_borrow_mut(|undo| {
            let nested = undo.is_some();
            if !nested {
                *undo = Some(Vec::new());
            }
            nested
        });
        if nested {
            return Ok(f());
        }
        let result = catch_unwind(AssertUnwindSafe(f));
        let log = UNDO.with_borrow_mut(Option::take).unwrap_or_default();
        if result.is_err() {
            for entry in log.into_iter().rev() {
                entry.memory.write_raw(entry.offset, &entry.old);
            }
            super::reopen_from_memory();
        }
        result
    }

    /// A future whose every poll is a [`run_segment`]: the writes between two `await` points
    /// commit together or, on a panic, not at all (the future then ends with the payload and
    /// is not polled again), as a canister message's do.
    pub struct Segmented<T> {
        inner: Option<Pin<Box<dyn Future<Output = T>>>>,
    }

    impl<T> Segmented<T> {
        /// Wraps `future`.
        pub fn new(future: impl Future<Output = T> + 'static) -> Self {
            Self {
                inner: Some(Box::pin(future)),
            }
        }
    }

    impl<T> Future for Segmented<T> {
        type Output = std::thread::Result<T>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Pending;
            };
            match run_segment(|| inner.as_mut().poll(cx)) {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(value)) => {
                    this.inner = None;
                    Poll::Ready(Ok(value))
                }
                Err(payload) => {
                    this.inner = None;
                    Poll::Ready(Err(payload))
                }
            }
        }
    }

    /// A memory on the host: a file (persistent) or a vector (volatile).
    #[derive(Clone)]
    pub enum HostMemory {
        /// Lost when the process ends (tests).
        Volatile(VectorMemory),
        /// Written through to a file on every change (the local stack).
        File(FileMemory),
    }

    impl HostMemory {
        /// A fresh in-memory memory.
        pub fn volatile() -> Self {
            Self::Volatile(VectorMemory::default())
        }

        /// Opens (or creates) the memory file at `path`.
        pub fn open_file(path: &Path) -> std::io::Result<Self> {
            let file: File = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            // One canister per state file: a second process (or a second canister thread)
            // on the same file would corrupt it. The lock ends when the memory is dropped.
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        "the file is in use by another identity canister (another `heaven` \
                         on the same data dir?)",
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
            let len = file.metadata()?.len();
            if len % WASM_PAGE_BYTES != 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is {len} bytes, not a whole number of 64 KiB pages",
                        path.display()
                    ),
                ));
            }
            Ok(Self::File(FileMemory::new(file)))
        }
    }

    impl Memory for HostMemory {
        fn size(&self) -> u64 {
            match self {
                Self::Volatile(m) => m.size(),
                Self::File(m) => m.size(),
            }
        }

        fn grow(&self, pages: u64) -> i64 {
            match self {
                Self::Volatile(m) => m.grow(pages),
                Self::File(m) => m.grow(pages),
            }
        }

        fn read(&self, offset: u64, dst: &mut [u8]) {
            match self {
                Self::Volatile(m) => m.read(offset, dst),
                Self::File(m) => m.read(offset, dst),
            }
        }

        fn write(&self, offset: u64, src: &[u8]) {
            self.save_overwritten(offset, src.len());
            self.write_raw(offset, src);
        }
    }

    impl HostMemory {
        fn write_raw(&self, offset: u64, src: &[u8]) {
            match self {
                Self::Volatile(m) => m.write(offset, src),
                Self::File(m) => m.write(offset, src),
            }
        }

        /// Inside a segment, keeps what `len` bytes at `offset` hold before they are written.
        fn save_overwritten(&self, offset: u64, len: usize) {
            UNDO.with_borrow_mut(|undo| {
                let Some(log) = undo.as_mut() else {
                    return;
                };
                let end = offset
                    .saturating_add(len as u64)
                    .min(self.size().saturating_mul(WASM_PAGE_BYTES));
                if end <= offset {
                    return;
                }
                let mut old = vec![0; (end - offset) as usize];
                self.read(offset, &mut old);
                log.push(Overwritten {
                    memory: self.clone(),
                    offset,
                    old,
                });
            });
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn memory_with(bytes: &[u8]) -> HostMemory {
            let memory = HostMemory::volatile();
            assert_eq!(memory.grow(1), 0);
            memory.write(0, bytes);
            memory
        }

        fn first_bytes(memory: &HostMemory) -> [u8; 4] {
            let mut out = [0; 4];
            memory.read(0, &mut out);
            out
        }

        #[test]
        fn a_panicking_segment_is_undone_newest_write_first() {
            let memory = memory_with(b"abcd");
            let result = run_segment(|| {
                memory.write(0, b"xx");
                memory.write(1, b"yy");
                panic!("trap");
            });
            assert!(result.is_err());
            assert_eq!(&first_bytes(&memory), b"abcd");
            // Writes outside any segment are not logged and stay.
            memory.write(0, b"z");
            assert_eq!(&first_bytes(&memory), b"zbcd");
        }

        #[test]
        fn a_segment_that_ends_normally_keeps_its_writes() {
            let memory = memory_with(b"abcd");
            let value = run_segment(|| {
                memory.write(2, b"CD");
                run_segment(|| memory.write(0, b"A")).unwrap();
                7
            });
            assert_eq!(value.unwrap(), 7);
            assert_eq!(&first_bytes(&memory), b"AbCD");
        }

        #[tokio::test]
        async fn a_panic_after_an_await_undoes_only_the_stretch_since_that_await() {
            let memory = memory_with(b"abcd");
            let writer = memory.clone();
            let message = Segmented::new(async move {
                writer.write(0, b"1");
                tokio::task::yield_now().await;
                writer.write(1, b"2");
                panic!("trap after the await");
            });
            assert!(message.await.is_err());
            assert_eq!(&first_bytes(&memory), b"1bcd");
        }

        #[test]
        fn a_memory_file_opens_once_at_a_time() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state.stable");
            let first = HostMemory::open_file(&path).unwrap();
            let err = HostMemory::open_file(&path).err().unwrap();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
            drop(first);
            HostMemory::open_file(&path).unwrap();
        }
    }
}
