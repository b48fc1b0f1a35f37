//! The application state handed to every handler: configuration, the nonce book, the token
//! issuer, the credits client and the clock, built once at start.

use std::sync::Arc;
use std::time::Duration;

use portability::{CacheStore, RateLimit, StateStore};

use crate::auth::{NonceBook, SessionToken};
use crate::config::{ServiceTokens, VoiceRoomsConfig};
use crate::credits::CreditsClient;
use crate::duet::DuetRooms;
use crate::escrow::EscrowReads;
use crate::rooms::Rooms;
use crate::songs::SongRegistry;

pub use portability::Clock;

/// What the service runs on, handed in by the binary.
#[derive(Clone)]
pub struct Resources {
    /// Login nonces.
    pub state: Arc<dyn StateStore>,
    /// Shared rate-limit counters.
    pub cache: Arc<dyn CacheStore>,
    /// The credits canister.
    pub credits: Arc<dyn CreditsClient>,
    /// Time.
    pub clock: Clock,
    /// The songs registry's table.
    pub songs: SongRegistry,
}

/// The login-nonce limits of [`crate::config::NonceLimits`] as shared limiters.
pub struct NonceLimiters {
    /// Per client address.
    pub per_ip: RateLimit,
    /// Per wallet.
    pub per_wallet: RateLimit,
}

/// Shared, cheaply clonable state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Arc<dyn CacheStore>,
    credits: Arc<dyn CreditsClient>,
    clock: Clock,
    nonce_limiters: NonceLimiters,
    tokens: SessionToken,
    nonces: NonceBook,
    songs: SongRegistry,
    service_tokens: ServiceTokens,
    rooms: Option<Rooms>,
    duet: Option<DuetRooms>,
    escrow: Arc<dyn EscrowReads>,
    chain_id: u64,
    peer_secret: Option<String>,
}

impl AppState {
    /// State over `resources` configured by `config` (the free rooms answer 501).
    pub fn new(config: VoiceRoomsConfig, resources: Resources) -> Self {
        Self::with_rooms(config, resources, None)
    }

    /// State with the free rooms and booked sessions served by `rooms`, reading the escrow
    /// `config` names.
    pub fn with_rooms(
        config: VoiceRoomsConfig,
        resources: Resources,
        rooms: Option<Rooms>,
    ) -> Self {
        let escrow = config.escrow.reads(resources.clock.clone());
        Self::with_escrow(config, resources, rooms, escrow)
    }

    /// State with the rooms and the escrow reads handed in (tests fake the escrow).
    pub fn with_escrow(
        config: VoiceRoomsConfig,
        resources: Resources,
        rooms: Option<Rooms>,
        escrow: Arc<dyn EscrowReads>,
    ) -> Self {
        let window = Duration::from_secs(10 * 60);
        let limits = config.nonce_limits;
        Self {
            inner: Arc::new(Inner {
                cache: resources.cache,
                credits: resources.credits,
                clock: resources.clock,
                nonce_limiters: NonceLimiters {
                    per_ip: RateLimit::new("voice-rooms/nonce/ip", limits.per_ip, window),
                    per_wallet: RateLimit::new(
                        "voice-rooms/nonce/wallet",
                        limits.per_wallet,
                        window,
                    ),
                },
                tokens: SessionToken::new(&config.jwt_secret),
                nonces: NonceBook::new(resources.state),
                songs: resources.songs,
                service_tokens: config.tokens,
                rooms,
                duet: None,
                escrow,
                chain_id: config.escrow.chain_id,
                peer_secret: config.replica.peer_secret,
            }),
        }
    }

    /// The cache store (rate-limit counters).
    pub fn cache(&self) -> &dyn CacheStore {
        self.inner.cache.as_ref()
    }

    /// The credits canister.
    pub fn credits(&self) -> &dyn CreditsClient {
        self.inner.credits.as_ref()
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Login-nonce limiters.
    pub fn nonce_limiters(&self) -> &NonceLimiters {
        &self.inner.nonce_limiters
    }

    /// Session-token issuer and verifier.
    pub fn tokens(&self) -> &SessionToken {
        &self.inner.tokens
    }

    /// Login nonces.
    pub fn nonces(&self) -> &NonceBook {
        &self.inner.nonces
    }

    /// The songs registry's table.
    pub fn songs(&self) -> &SongRegistry {
        &self.inner.songs
    }

    /// Admin and service tokens.
    pub fn service_tokens(&self) -> &ServiceTokens {
        &self.inner.service_tokens
    }

    /// The escrow's reads (booked sessions).
    pub fn escrow(&self) -> &dyn EscrowReads {
        self.inner.escrow.as_ref()
    }

    /// `CHAIN_ID`, part of a booked session's channel.
    pub fn chain_id(&self) -> u64 {
        self.inner.chain_id
    }

    /// `ROOMS_PEER_SECRET`: what forwarded room commands must carry (`None`: not accepted).
    pub fn peer_secret(&self) -> Option<&str> {
        self.inner.peer_secret.as_deref()
    }

    /// The same state with the duet rooms served by `duet` (call before cloning the state).
    pub fn with_duet(mut self, duet: DuetRooms) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.duet = Some(duet),
            None => panic!("AppState::with_duet on a shared state"),
        }
        self
    }

    /// The duet rooms, when this worker serves them.
    pub fn duet(&self) -> Option<&DuetRooms> {
        self.inner.duet.as_ref()
    }

    /// The free rooms, when this worker serves them.
    pub fn rooms(&self) -> Option<&Rooms> {
        self.inner.rooms.as_ref()
    }
}
