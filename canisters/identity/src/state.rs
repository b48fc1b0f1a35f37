//! Stable state of the identity canister. Every structure lives in ic-stable-structures behind a
//! fixed `MemoryId`; ids are never reused or renumbered.

use std::borrow::Cow;
use std::cell::RefCell;

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{DefaultMemoryImpl, StableCell, Storable};

type Memory = VirtualMemory<DefaultMemoryImpl>;

/// Memory id of the configuration cell.
const CONFIG_MEMORY: MemoryId = MemoryId::new(0);

/// Canister configuration, encoded with numbered CBOR fields so new fields never break old data.
#[derive(Clone, Debug, Default, PartialEq, Eq, minicbor::Encode, minicbor::Decode)]
pub struct Config {
    /// Threshold-ECDSA key name.
    #[n(0)]
    pub ecdsa_key_name: String,
    /// Installs plus upgrades so far.
    #[n(1)]
    pub installs: u64,
}

impl Storable for Config {
    const BOUND: Bound = Bound::Unbounded;

    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.clone().into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        minicbor::to_vec(&self).expect("encoding to a Vec cannot fail")
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        minicbor::decode(&bytes).expect("config written by this canister decodes")
    }
}

thread_local! {
    static MEMORY_MANAGER: RefCell<MemoryManager<DefaultMemoryImpl>> =
        RefCell::new(MemoryManager::init(DefaultMemoryImpl::default()));
    static CONFIG: RefCell<StableCell<Config, Memory>> = RefCell::new(StableCell::init(
        MEMORY_MANAGER.with_borrow(|m| m.get(CONFIG_MEMORY)),
        Config::default(),
    ));
}

/// Reads the configuration.
pub fn with_config<R>(f: impl FnOnce(&Config) -> R) -> R {
    CONFIG.with_borrow(|c| f(c.get()))
}

/// Replaces the configuration.
pub fn set_config(config: Config) {
    CONFIG.with_borrow_mut(|c| {
        c.set(config);
    });
}
