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
}

impl State {
    /// Lays the state out on `base` (opening what is already there, with the bucket size it
    /// was created with).
    pub fn open(base: BaseMemory) -> Self {
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
    //! Host memories for the native build.

    use std::fs::{File, OpenOptions};
    use std::path::Path;

    use ic_stable_structures::{FileMemory, Memory, VectorMemory};

    /// A stable-memory page (64 KiB); a memory file is always a whole number of pages.
    const WASM_PAGE_BYTES: u64 = 64 * 1024;

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
            match self {
                Self::Volatile(m) => m.write(offset, src),
                Self::File(m) => m.write(offset, src),
            }
        }
    }
}
