//! The catalogue of services the stack knows, their ports, CORS policy and (when built) router.

pub mod api;

use axum::Router;
use http_common::{CorsPolicy, ServiceEdge};

use crate::cli::ServiceChoice;
use crate::config::Ports;
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

    /// The service's full router (handlers wrapped in the shared edge), or `None` while the
    /// service is not built yet.
    pub fn router(self, resources: &LocalResources) -> Option<Router> {
        let routes = match self {
            // Resources start the identity canister whenever the api service is selected.
            ServiceId::Api => api::router(resources.identity.clone()?),
            ServiceId::VoiceAgent => {
                voice_agent::router(resources.voice_agent.clone(), resources.state.clone())
            }
            ServiceId::MetadataResolver => metadata_resolver::router(
                resources.metadata_resolver.clone(),
                resources.cache.clone(),
                Some(resources.blobs.clone()),
            ),
            ServiceId::VoiceRooms => {
                return None;
            }
        };
        let mut edge = ServiceEdge::new(self.name(), self.cors());
        if self == ServiceId::MetadataResolver {
            // A 50-item batch waits for up to 50 MusicBrainz turns of 1.1 s.
            edge.timeout = metadata_resolver::REQUEST_TIMEOUT;
        }
        Some(edge.wrap(routes))
    }
}
