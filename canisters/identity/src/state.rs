//! Stable state of the identity canister, in the shape of the ckETH minter's: one [`State`]
//! value in a thread-local, changed only by applying an [`event::EventType`] through
//! [`audit::process_event`], which also appends it to the audit log. Every structure lives in
//! ic-stable-structures behind a fixed `MemoryId` (never reused or renumbered); records and
//! events are CBOR with numbered fields (minicbor), so a field added later decodes old data as
//! its default.
//!
//! Readers get `&State` ([`with`]); its maps are reachable only through read-only accessors.
//! Writers get `&mut State` ([`mutate`]) to check and then process an event in one step; the
//! maps' mutators are private to this module and [`audit`].
//!
//! In wasm the state sits on the canister's stable memory; natively (the local stack, tests)
//! on a host memory: a file, or a fresh in-memory vector (each test thread has its own state).

use std::borrow::Cow;
use std::cell::RefCell;

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{Memory, StableBTreeMap, StableCell, StableLog, Storable};

pub mod audit;
pub mod event;
pub mod keys;
pub mod publishing;
pub mod records;

#[cfg(test)]
mod tests;

pub use publishing::{Publication, PublishingConfig, SignedTransaction};
pub use records::*;

use event::Event;

/// The memory the canister's state is laid out on: stable memory in wasm.
#[cfg(any(target_arch = "wasm32", not(any(feature = "native", test))))]
pub type BaseMemory = ic_stable_structures::DefaultMemoryImpl;
/// The memory the canister's state is laid out on: a file (local stack) or a vector (tests).
#[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
pub type BaseMemory = canister_runtime::native::HostMemory;

/// One region of a memory `M` handed out by the memory manager.
pub type Region<M = BaseMemory> = VirtualMemory<M>;

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
const CLAIM_ATTEMPTS: MemoryId = MemoryId::new(19);
const SIGNER_KEYS: MemoryId = MemoryId::new(20);
const REGISTER_WINDOWS: MemoryId = MemoryId::new(21);
const SELF_SESSIONS: MemoryId = MemoryId::new(22);
const SELF_SESSIONS_BY_USER: MemoryId = MemoryId::new(23);
const LIKES: MemoryId = MemoryId::new(24);
const LIKES_BY_TARGET: MemoryId = MemoryId::new(25);
const MATCHES: MemoryId = MemoryId::new(26);
const FEATURED_PROFILES: MemoryId = MemoryId::new(27);
const CLAIMED_PROFILES: MemoryId = MemoryId::new(28);
const LIKE_WINDOWS: MemoryId = MemoryId::new(29);
const IMPORT_BATCHES: MemoryId = MemoryId::new(30);
const PUBLICATIONS: MemoryId = MemoryId::new(31);
const PUBLISHER_NONCES: MemoryId = MemoryId::new(32);

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
pub type RecordMap<T, M = BaseMemory> = StableBTreeMap<String, Cbor<T>, Region<M>>;
/// A set of text keys (secondary indexes and sliding windows).
pub type KeySet<M = BaseMemory> = StableBTreeMap<String, (), Region<M>>;
/// Map from a text key to a plain value.
pub type TextMap<V, M = BaseMemory> = StableBTreeMap<String, V, Region<M>>;

/// Everything the canister keeps. The fields are private: read them through the accessors,
/// change them through [`audit::process_event`].
pub struct State<M: Memory + Clone = BaseMemory> {
    config: StableCell<Cbor<Config>, Region<M>>,
    secrets: StableCell<Cbor<Secrets>, Region<M>>,
    shadow_profiles: RecordMap<ShadowProfile, M>,
    claim_tokens: RecordMap<ClaimToken, M>,
    claim_token_by_hash: TextMap<String, M>,
    claim_token_by_code: KeySet<M>,
    users: RecordMap<User, M>,
    names: RecordMap<HeavenName, M>,
    names_by_owner: KeySet<M>,
    reserved: TextMap<String, M>,
    nonces: RecordMap<UsedNonce, M>,
    pow_challenges: RecordMap<PowChallenge, M>,
    permit_windows: KeySet<M>,
    identities: RecordMap<IdentityRecord, M>,
    wallet_limits: TextMap<u64, M>,
    relayer_nonces: StableBTreeMap<u64, u64, Region<M>>,
    counters: TextMap<u64, M>,
    signer_keys: TextMap<Vec<u8>, M>,
    claim_attempts: TextMap<u64, M>,
    register_windows: KeySet<M>,
    self_sessions: RecordMap<SelfSession, M>,
    self_sessions_by_user: KeySet<M>,
    likes: RecordMap<Like, M>,
    likes_by_target: TextMap<String, M>,
    matches: RecordMap<Match, M>,
    featured_profiles: KeySet<M>,
    claimed_profiles: KeySet<M>,
    like_windows: KeySet<M>,
    import_batches: KeySet<M>,
    publications: RecordMap<Publication, M>,
    publisher_nonces: TextMap<u64, M>,
    events: StableLog<Cbor<Event>, Region<M>, Region<M>>,
    /// The memory everything above is laid out on (natively: to open it again after a
    /// panicked segment was undone; on the IC the heap rolls back with the memory).
    #[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
    base: M,
}

impl<M: Memory + Clone> State<M> {
    /// Lays the state out on `base` (opening what is already there, with the bucket size it
    /// was created with; `bucket_pages` only applies to a fresh memory).
    pub fn open_with_bucket_pages(base: M, bucket_pages: u16) -> Self {
        #[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
        let kept = base.clone();
        let mm = MemoryManager::init_with_bucket_size(base, bucket_pages);
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
            register_windows: StableBTreeMap::init(m(REGISTER_WINDOWS)),
            self_sessions: StableBTreeMap::init(m(SELF_SESSIONS)),
            self_sessions_by_user: StableBTreeMap::init(m(SELF_SESSIONS_BY_USER)),
            likes: StableBTreeMap::init(m(LIKES)),
            likes_by_target: StableBTreeMap::init(m(LIKES_BY_TARGET)),
            matches: StableBTreeMap::init(m(MATCHES)),
            featured_profiles: StableBTreeMap::init(m(FEATURED_PROFILES)),
            claimed_profiles: StableBTreeMap::init(m(CLAIMED_PROFILES)),
            like_windows: StableBTreeMap::init(m(LIKE_WINDOWS)),
            import_batches: StableBTreeMap::init(m(IMPORT_BATCHES)),
            publications: StableBTreeMap::init(m(PUBLICATIONS)),
            publisher_nonces: StableBTreeMap::init(m(PUBLISHER_NONCES)),
            events: StableLog::init(m(EVENT_INDEX), m(EVENT_DATA)),
            #[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
            base: kept,
        }
    }

    /// Lays the state out on `base` with this build's bucket size.
    pub fn open(base: M) -> Self {
        Self::open_with_bucket_pages(base, BUCKET_PAGES)
    }

    /// The configuration (key name, install count, chain and policy settings).
    pub fn config(&self) -> &Config {
        &self.config.get().0
    }

    /// The SHA-256 of the route secrets; never returned by any method.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets.get().0
    }

    /// `shadow_profiles`, by id.
    pub fn shadow_profiles(&self) -> &RecordMap<ShadowProfile, M> {
        &self.shadow_profiles
    }

    /// `claim_tokens`, by claim id.
    pub fn claim_tokens(&self) -> &RecordMap<ClaimToken, M> {
        &self.claim_tokens
    }

    /// Claim id by sha256 hex of the link token.
    pub fn claim_token_by_hash(&self) -> &TextMap<String, M> {
        &self.claim_token_by_hash
    }

    /// `<human code hash>|<claim id>` for DM verification.
    pub fn claim_token_by_code(&self) -> &KeySet<M> {
        &self.claim_token_by_code
    }

    /// `users`, by lowercase address.
    pub fn users(&self) -> &RecordMap<User, M> {
        &self.users
    }

    /// `heaven_names`, by normalized label.
    pub fn names(&self) -> &RecordMap<HeavenName, M> {
        &self.names
    }

    /// `<owner lowercase>|<label>` for reverse lookups.
    pub fn names_by_owner(&self) -> &KeySet<M> {
        &self.names_by_owner
    }

    /// `heaven_reserved`: label → reason (controller-managed).
    pub fn reserved(&self) -> &TextMap<String, M> {
        &self.reserved
    }

    /// `heaven_nonces`: a nonce may be used once, ever.
    pub fn nonces(&self) -> &RecordMap<UsedNonce, M> {
        &self.nonces
    }

    /// `name_pow_challenges`, by challenge id.
    pub fn pow_challenges(&self) -> &RecordMap<PowChallenge, M> {
        &self.pow_challenges
    }

    /// `name_permit_issuance` as sliding-window keys `<kind>|<value>|<issued_at, 20 digits>|<seq>`.
    pub fn permit_windows(&self) -> &KeySet<M> {
        &self.permit_windows
    }

    /// `user_identity` (the part the names policy reads), by lowercase address.
    pub fn identities(&self) -> &RecordMap<IdentityRecord, M> {
        &self.identities
    }

    /// `wallet_rate_limits`: lowercase address → last counted relay (seconds).
    pub fn wallet_limits(&self) -> &TextMap<u64, M> {
        &self.wallet_limits
    }

    /// Next transaction nonce of the relayer, per chain id.
    pub fn relayer_nonces(&self) -> &StableBTreeMap<u64, u64, Region<M>> {
        &self.relayer_nonces
    }

    /// Threshold-ECDSA public keys fetched so far, by `<key name>|<role>` (deterministic, so
    /// kept: queries and post_upgrade can use them without a management call).
    pub fn signer_keys(&self) -> &TextMap<Vec<u8>, M> {
        &self.signer_keys
    }

    /// Failed DM-code attempts: `<shadow profile id>|<at_ns, 20 digits>` → failures then.
    pub fn claim_attempts(&self) -> &TextMap<u64, M> {
        &self.claim_attempts
    }

    /// Legacy registrations as sliding-window keys `<o|i>|<owner or IP hash>|<at>|<seq>`.
    pub fn register_windows(&self) -> &KeySet<M> {
        &self.register_windows
    }

    /// `self_verifications`, by session id.
    pub fn self_sessions(&self) -> &RecordMap<SelfSession, M> {
        &self.self_sessions
    }

    /// `<user address>|<created_at, 20 digits>|<session id>`: a user's sessions, oldest first.
    pub fn self_sessions_by_user(&self) -> &KeySet<M> {
        &self.self_sessions_by_user
    }

    /// `likes`, by `<liker>|<target type>|<target id as sent>` (the original's unique key).
    pub fn likes(&self) -> &RecordMap<Like, M> {
        &self.likes
    }

    /// `<target type>|<target key>|<created_at ms, 20 digits>|<id, 20 digits>` → like key;
    /// the target key is the lowercased id for `user` targets, the id as sent for `shadow`.
    pub fn likes_by_target(&self) -> &TextMap<String, M> {
        &self.likes_by_target
    }

    /// `matches`, by `<user1>|<user2>`.
    pub fn matches(&self) -> &RecordMap<Match, M> {
        &self.matches
    }

    /// `<featured_rank, 20 digits>|<profile id>` of every profile with a rank above 0.
    pub fn featured_profiles(&self) -> &KeySet<M> {
        &self.featured_profiles
    }

    /// `<claimed address>|<profile id>` of every claimed profile.
    pub fn claimed_profiles(&self) -> &KeySet<M> {
        &self.claimed_profiles
    }

    /// Like rate-limit windows: `<v|i>|<viewer or IP hash>|<at>|<seq>`.
    pub fn like_windows(&self) -> &KeySet<M> {
        &self.like_windows
    }

    /// Import batches applied: `<run id>|<batch index, 20 digits>`.
    pub fn import_batches(&self) -> &KeySet<M> {
        &self.import_batches
    }

    /// The publishing signer's publications, by `<kind>|<client request id>`.
    pub fn publications(&self) -> &RecordMap<Publication, M> {
        &self.publications
    }

    /// Next transaction nonce of each publishing role, by `<role>|<chain id>`.
    pub fn publisher_nonces(&self) -> &TextMap<u64, M> {
        &self.publisher_nonces
    }

    /// The counter `name` (0 before its first event): `permit_issuance`,
    /// `name_registration`, `sweeps`, `last_sweep_ns`.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(&name.to_string()).unwrap_or(0)
    }

    /// Entries in the audit log.
    pub fn event_count(&self) -> u64 {
        self.events.len()
    }

    /// The audit log's entry `index`.
    pub fn event(&self, index: u64) -> Option<Event> {
        self.events.get(index).map(|Cbor(e)| e)
    }

    /// The audit log from entry `from` on, oldest first.
    pub fn events_from(&self, from: u64) -> impl Iterator<Item = Event> + '_ {
        (from..self.events.len()).filter_map(|i| self.event(i))
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `f` on the state (opened on the default memory on first use).
pub fn with<R>(f: impl FnOnce(&State) -> R) -> R {
    STATE.with_borrow_mut(|s| f(s.get_or_insert_with(|| State::open(default_memory()))))
}

/// Runs `f` on the state to check and change it: `f` may only change it through
/// [`audit::process_event`], and must not await (the borrow ends when it returns).
pub fn mutate<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with_borrow_mut(|s| f(s.get_or_insert_with(|| State::open(default_memory()))))
}

/// Reads the configuration.
pub fn with_config<R>(f: impl FnOnce(&Config) -> R) -> R {
    with(|s| f(s.config()))
}

/// Lays this thread's state out on `base`, replacing whatever state the thread had. Natively
/// the local stack calls it once on its canister thread with a file-backed memory; a panicked
/// segment then opens the state again from the restored memory.
#[cfg(all(not(target_arch = "wasm32"), any(feature = "native", test)))]
pub fn install_memory(base: BaseMemory) {
    canister_runtime::native::after_undo(reopen_from_memory);
    STATE.with_borrow_mut(|s| *s = Some(State::open(base)));
}

/// Opens this thread's state again from its memory, dropping the in-heap handles of the stable
/// structures (root addresses, lengths, allocator heads), which no longer match the memory once
/// a panicked segment's writes were undone.
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
