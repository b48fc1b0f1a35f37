//! Stable state of the credits canister, in the shape of the ckETH minter's: one [`State`] in a
//! thread-local, changed only by applying an [`event::EventType`] through
//! [`audit::process_event`], which also appends it to the audit log. Every structure lives in
//! ic-stable-structures behind a fixed `MemoryId` (never reused or renumbered); records and
//! events are CBOR with numbered fields.
//!
//! Readers get `&State` ([`with`]), whose maps are reachable only through read-only
//! accessors; writers get `&mut State` ([`mutate`]) to check and then process an event in one
//! step. In wasm the state sits on stable memory; natively (local stack, tests) on a host
//! memory: a file, or a fresh vector (each test thread has its own state).

use std::borrow::Cow;
use std::cell::RefCell;

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{Memory, StableBTreeMap, StableCell, StableLog, Storable};

pub mod audit;
pub mod event;
pub mod keys;
pub mod records;

pub use records::*;

use crate::duet::entitlement::Entitlement;
use crate::duet::replay::ReplayGrant;
use crate::duet::settlement::Marker;
use crate::ledger::Account;
use crate::metering::MeteredConnection;
use crate::presence::Presence;
use event::Event;

/// The memory the state is laid out on: stable memory in wasm.
#[cfg(any(target_arch = "wasm32", not(any(feature = "native", test))))]
pub type BaseMemory = ic_stable_structures::DefaultMemoryImpl;
/// The memory the state is laid out on: a file (local stack) or a vector (tests).
#[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
pub type BaseMemory = canister_runtime::native::HostMemory;

/// One region of a memory `M` handed out by the memory manager.
pub type Region<M = BaseMemory> = VirtualMemory<M>;

const CONFIG_MEMORY: MemoryId = MemoryId::new(0);
const ACCOUNTS: MemoryId = MemoryId::new(1);
const VERIFICATIONS: MemoryId = MemoryId::new(2);
const CONNECTIONS: MemoryId = MemoryId::new(3);
const MARKERS: MemoryId = MemoryId::new(4);
const ENTITLEMENTS: MemoryId = MemoryId::new(5);
const REPLAY_TOKENS: MemoryId = MemoryId::new(6);
const PRESENCE: MemoryId = MemoryId::new(7);
const BOOKINGS: MemoryId = MemoryId::new(8);
const EVENT_INDEX: MemoryId = MemoryId::new(9);
const EVENT_DATA: MemoryId = MemoryId::new(10);
const CREDIT_EVENTS: MemoryId = MemoryId::new(11);
const SWEEPS: MemoryId = MemoryId::new(12);
const SIGNER_KEYS: MemoryId = MemoryId::new(13);
const ORACLE_NONCES: MemoryId = MemoryId::new(14);
const COUNTERS: MemoryId = MemoryId::new(15);
const SWEEP_RUN: MemoryId = MemoryId::new(16);
const PENDING_RECEIPTS: MemoryId = MemoryId::new(17);
const ANCHORS: MemoryId = MemoryId::new(18);

/// Counter of `credit_events` ids (the last one given out; imported rows raise it).
pub const CREDIT_EVENT_ID: &str = "credit_event_id";
/// Counter of sweep summaries.
pub const SWEEP_SEQ: &str = "sweep_seq";

/// Sweep summaries kept for the `sweeps` query.
pub const KEPT_SWEEPS: u64 = 100;

/// Pages per memory-manager bucket: the IC default on the canister, 1 MiB natively.
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
pub type RecordMap<T, M = BaseMemory> = StableBTreeMap<String, Cbor<T>, Region<M>>;

/// Everything the canister keeps. Read through the accessors; change through
/// [`audit::process_event`].
pub struct State<M: Memory + Clone = BaseMemory> {
    config: StableCell<Cbor<Config>, Region<M>>,
    accounts: RecordMap<Account, M>,
    verifications: StableBTreeMap<String, u64, Region<M>>,
    connections: RecordMap<MeteredConnection, M>,
    markers: RecordMap<Marker, M>,
    entitlements: RecordMap<Entitlement, M>,
    replay_tokens: RecordMap<ReplayGrant, M>,
    presence: RecordMap<Presence, M>,
    bookings: StableBTreeMap<String, u64, Region<M>>,
    credit_events: RecordMap<CreditEvent, M>,
    sweeps: StableBTreeMap<u64, Cbor<crate::api::SweepSummary>, Region<M>>,
    signer_keys: StableBTreeMap<String, Vec<u8>, Region<M>>,
    oracle_nonces: StableBTreeMap<u64, u64, Region<M>>,
    counters: StableBTreeMap<String, u64, Region<M>>,
    sweep_run: StableCell<Cbor<Option<SweepRun>>, Region<M>>,
    pending_receipts: StableBTreeMap<u64, Cbor<ReceiptKind>, Region<M>>,
    anchors: StableBTreeMap<u64, Cbor<AnchorRecord>, Region<M>>,
    events: StableLog<Cbor<Event>, Region<M>, Region<M>>,
    #[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
    base: M,
}

impl<M: Memory + Clone> State<M> {
    /// Lays the state out on `base` (`bucket_pages` only applies to a fresh memory).
    pub fn open_with_bucket_pages(base: M, bucket_pages: u16) -> Self {
        #[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
        let kept = base.clone();
        let mm = MemoryManager::init_with_bucket_size(base, bucket_pages);
        let m = |id| mm.get(id);
        Self {
            config: StableCell::init(m(CONFIG_MEMORY), Cbor(Config::default())),
            accounts: StableBTreeMap::init(m(ACCOUNTS)),
            verifications: StableBTreeMap::init(m(VERIFICATIONS)),
            connections: StableBTreeMap::init(m(CONNECTIONS)),
            markers: StableBTreeMap::init(m(MARKERS)),
            entitlements: StableBTreeMap::init(m(ENTITLEMENTS)),
            replay_tokens: StableBTreeMap::init(m(REPLAY_TOKENS)),
            presence: StableBTreeMap::init(m(PRESENCE)),
            bookings: StableBTreeMap::init(m(BOOKINGS)),
            credit_events: StableBTreeMap::init(m(CREDIT_EVENTS)),
            sweeps: StableBTreeMap::init(m(SWEEPS)),
            signer_keys: StableBTreeMap::init(m(SIGNER_KEYS)),
            oracle_nonces: StableBTreeMap::init(m(ORACLE_NONCES)),
            counters: StableBTreeMap::init(m(COUNTERS)),
            sweep_run: StableCell::init(m(SWEEP_RUN), Cbor(None)),
            pending_receipts: StableBTreeMap::init(m(PENDING_RECEIPTS)),
            anchors: StableBTreeMap::init(m(ANCHORS)),
            events: StableLog::init(m(EVENT_INDEX), m(EVENT_DATA)),
            #[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
            base: kept,
        }
    }

    /// Lays the state out on `base` with this build's bucket size.
    pub fn open(base: M) -> Self {
        Self::open_with_bucket_pages(base, BUCKET_PAGES)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config.get().0
    }

    /// The account of `wallet`, if it has one.
    pub fn account(&self, wallet: &crate::wallet::Wallet) -> Option<Account> {
        self.accounts
            .get(&wallet.as_str().to_owned())
            .map(|Cbor(a)| a)
    }

    /// `credit_accounts`, by wallet.
    pub fn accounts(&self) -> &RecordMap<Account, M> {
        &self.accounts
    }

    /// `verifications`: wallet → when its Celo bonus was granted (the once-only gate).
    pub fn verifications(&self) -> &StableBTreeMap<String, u64, Region<M>> {
        &self.verifications
    }

    /// Metered free-room connections, by connection id.
    pub fn connections(&self) -> &RecordMap<MeteredConnection, M> {
        &self.connections
    }

    /// Settlement markers, by `<room>|<signature hash>`.
    pub fn markers(&self) -> &RecordMap<Marker, M> {
        &self.markers
    }

    /// Duet entitlements, by `<room>|<wallet>`.
    pub fn entitlements(&self) -> &RecordMap<Entitlement, M> {
        &self.entitlements
    }

    /// Replay access grants, by token hash.
    pub fn replay_tokens(&self) -> &RecordMap<ReplayGrant, M> {
        &self.replay_tokens
    }

    /// Booked-session presence, by `<booking key>|<wallet>`.
    pub fn presence(&self) -> &RecordMap<Presence, M> {
        &self.presence
    }

    /// A wallet's stays in a booked session.
    pub fn presence_of(&self, booking_id: &str, wallet: &crate::wallet::Wallet) -> Presence {
        self.presence
            .get(&keys::presence_key(booking_id, wallet))
            .map(|Cbor(p)| p)
            .unwrap_or_default()
    }

    /// Booked sessions someone joined, by booking key → latest join (Unix seconds).
    pub fn bookings(&self) -> &StableBTreeMap<String, u64, Region<M>> {
        &self.bookings
    }

    /// The `credit_events` view, by `<wallet>|<id>`.
    pub fn credit_events(&self) -> &RecordMap<CreditEvent, M> {
        &self.credit_events
    }

    /// The latest sweep summaries, by sequence number.
    pub fn sweeps(&self) -> &StableBTreeMap<u64, Cbor<crate::api::SweepSummary>, Region<M>> {
        &self.sweeps
    }

    /// Threshold-ECDSA public keys fetched so far, by `<key name>|<role>`.
    pub fn signer_keys(&self) -> &StableBTreeMap<String, Vec<u8>, Region<M>> {
        &self.signer_keys
    }

    /// The oracle's next nonce, per chain id.
    pub fn oracle_nonces(&self) -> &StableBTreeMap<u64, u64, Region<M>> {
        &self.oracle_nonces
    }

    /// The attestation sweep in progress, if any.
    pub fn sweep_run(&self) -> Option<&SweepRun> {
        self.sweep_run.get().0.as_ref()
    }

    /// Receipts not anchored yet, by log index.
    pub fn pending_receipts(&self) -> &StableBTreeMap<u64, Cbor<ReceiptKind>, Region<M>> {
        &self.pending_receipts
    }

    /// Anchored receipt batches, by the log index of their last receipt.
    pub fn anchors(&self) -> &StableBTreeMap<u64, Cbor<AnchorRecord>, Region<M>> {
        &self.anchors
    }

    /// The counter `name` (0 before its first use).
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(&name.to_owned()).unwrap_or(0)
    }

    /// Entries in the audit log.
    pub fn event_count(&self) -> u64 {
        self.events.len()
    }

    /// The audit log's entry `index`.
    pub fn event(&self, index: u64) -> Option<Event> {
        self.events.get(index).map(|Cbor(e)| e)
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `f` on the state (opened on the default memory on first use).
pub fn with<R>(f: impl FnOnce(&State) -> R) -> R {
    STATE.with_borrow_mut(|s| f(s.get_or_insert_with(|| State::open(default_memory()))))
}

/// Runs `f` on the state to check and change it: `f` changes it only through
/// [`audit::process_event`] and must not await.
pub fn mutate<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with_borrow_mut(|s| f(s.get_or_insert_with(|| State::open(default_memory()))))
}

/// Reads the configuration.
pub fn with_config<R>(f: impl FnOnce(&Config) -> R) -> R {
    with(|s| f(s.config()))
}

/// Lays this thread's state out on `base` (the local stack's canister thread, with a
/// file-backed memory); a panicked segment then opens it again from the restored memory.
#[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
pub fn install_memory(base: BaseMemory) {
    canister_runtime::native::after_undo(reopen_from_memory);
    STATE.with_borrow_mut(|s| *s = Some(State::open(base)));
}

#[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
fn reopen_from_memory() {
    STATE.with_borrow_mut(|s| {
        if let Some(old) = s.take() {
            *s = Some(State::open(old.base));
        }
    });
}

#[cfg(any(target_arch = "wasm32", not(any(feature = "native", test))))]
fn default_memory() -> BaseMemory {
    ic_stable_structures::DefaultMemoryImpl::default()
}

#[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
fn default_memory() -> BaseMemory {
    canister_runtime::native::HostMemory::volatile()
}

#[cfg(test)]
mod tests;
