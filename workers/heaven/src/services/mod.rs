//! The catalogue of services the stack knows, their ports, CORS policy and (when built) router.

pub mod api;
pub mod credits_client;
pub mod identity_client;
#[cfg(debug_assertions)]
pub mod panic_probe;
pub mod publishing_client;

use axum::Router;
use http_common::{CorsPolicy, ServiceEdge};

use crate::cli::ServiceChoice;
use crate::config::{EdgeSettings, Ports};
use crate::resources::LocalResources;

/// One service of the original backend, as the local stack serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceId {
    /// api-core's routes (identity canister logic and the media groups).
    Api,
    /// The MusicBrainz caching proxy.
    MetadataResolver,
    /// Voice agent: auth, agent lifecycle, chat, SSE.
    VoiceAgent,
    /// Voice rooms: the Durable Object replacement.
    VoiceRooms,
}

impl ServiceId {
    /// Every service, in table order.
    pub const ALL: [ServiceId; 4] = [
        ServiceId::Api,
        ServiceId::MetadataResolver,
        ServiceId::VoiceAgent,
        ServiceId::VoiceRooms,
    ];

    /// The services a `heaven serve <choice>` asks for.
    pub fn selected(choice: ServiceChoice) -> Vec<ServiceId> {
        match choice {
            ServiceChoice::All => Self::ALL.to_vec(),
            ServiceChoice::Api => vec![ServiceId::Api],
            ServiceChoice::Resolver => vec![ServiceId::MetadataResolver],
            ServiceChoice::Agent => vec![ServiceId::VoiceAgent],
            ServiceChoice::Rooms => vec![ServiceId::VoiceRooms],
        }
    }

    /// Name as the original services are called.
    pub fn name(self) -> &'static str {
        match self {
            ServiceId::Api => "api",
            ServiceId::MetadataResolver => "metadata-resolver",
            ServiceId::VoiceAgent => "voice-agent",
            ServiceId::VoiceRooms => "voice-rooms",
        }
    }

    /// The configured port.
    pub fn port(self, ports: &Ports) -> u16 {
        match self {
            ServiceId::Api => ports.api,
            ServiceId::MetadataResolver => ports.metadata_resolver,
            ServiceId::VoiceAgent => ports.voice_agent,
            ServiceId::VoiceRooms => ports.voice_rooms,
        }
    }

    fn cors(self) -> CorsPolicy {
        match self {
            ServiceId::Api => CorsPolicy::api_core(),
            ServiceId::MetadataResolver => CorsPolicy::metadata_resolver(),
            ServiceId::VoiceAgent => CorsPolicy::voice_agent(),
            ServiceId::VoiceRooms => CorsPolicy::voice_rooms(),
        }
    }

    /// The `error` text of the service's JSON answer to an unexpected failure (the original's
    /// uncaught-exception body where it had a JSON one).
    fn internal_error(self) -> &'static str {
        match self {
            ServiceId::Api => "Internal server error",
            ServiceId::MetadataResolver => "internal error",
            ServiceId::VoiceAgent | ServiceId::VoiceRooms => "Internal Server Error",
        }
    }

    /// The edge around the service's handlers.
    pub fn edge(self, settings: &EdgeSettings) -> ServiceEdge {
        let mut edge = ServiceEdge::new(self.name(), self.cors());
        edge.internal_error = self.internal_error();
        edge.trusted_proxies = settings.limits.trusted_proxies.clone();
        edge.metrics_token = settings.metrics_token.clone();
        if self == ServiceId::MetadataResolver {
            // A 50-item batch waits for up to 50 MusicBrainz turns of 1.1 s.
            edge.timeout = metadata_resolver::REQUEST_TIMEOUT;
        }
        if self == ServiceId::Api {
            // Uploads to /api/load and /api/music stream for minutes (their bodies are read
            // by the media routes with their own limits, not the edge's 1 MiB).
            edge.timeout = media::REQUEST_TIMEOUT;
        }
        edge
    }

    /// The periodic jobs the service needs (name, schedule, job).
    pub fn scheduled_jobs(
        self,
        resources: &LocalResources,
    ) -> Vec<(&'static str, portability::Schedule, portability::Job)> {
        match self {
            ServiceId::VoiceAgent => voice_agent::scheduled_jobs(resources.state.clone()),
            ServiceId::VoiceRooms => {
                voice_rooms::scheduled_jobs(resources.state.clone(), voice_rooms::Clock::system())
            }
            ServiceId::Api => resources
                .media
                .clone()
                .map(media::scheduled_jobs)
                .unwrap_or_default(),
            ServiceId::MetadataResolver => Vec::new(),
        }
    }

    /// The service's handlers (without the edge), or `None` when the native canister it
    /// needs was not started (the stack then reports it as not built).
    pub fn routes(self, resources: &LocalResources) -> Option<Router> {
        Some(match self {
            // Resources start the identity canister (or connect to the deployed one) and the
            // media worker whenever the api service is selected.
            ServiceId::Api => api::router(
                resources.identity.clone()?,
                media::router(resources.media.clone()?),
                resources.anchor.clone(),
            ),
            ServiceId::VoiceAgent => voice_agent::router(
                resources.voice_agent.clone(),
                voice_agent::Resources {
                    state: resources.state.clone(),
                    cache: resources.cache.clone(),
                    background: resources.background.clone(),
                },
            ),
            ServiceId::MetadataResolver => metadata_resolver::router(
                resources.metadata_resolver.clone(),
                resources.cache.clone(),
                Some(resources.blobs.clone()),
                resources.background.clone(),
            ),
            // Resources open the credits client (native or ic-agent) whenever voice-rooms is
            // selected.
            ServiceId::VoiceRooms => {
                let service = voice_rooms::Resources {
                    state: resources.state.clone(),
                    cache: resources.cache.clone(),
                    credits: resources.credits_client.clone()?,
                    clock: voice_rooms::Clock::system(),
                    songs: resources.songs.clone()?,
                };
                let config = resources.voice_rooms.clone();
                match (resources.rooms.clone(), resources.duet.clone()) {
                    (rooms, Some(duet)) => {
                        voice_rooms::router_with_duet(config, service, rooms, duet)
                    }
                    (Some(rooms), None) => voice_rooms::router_with_rooms(config, service, rooms),
                    (None, None) => voice_rooms::router(config, service),
                }
            }
        })
    }
}
