//! Forwarding room commands between replicas over HTTP: [`HttpPeers`] sends a command to the
//! replica that runs the room (`POST <peer>/internal/<kind>/<room>/apply`, the command's JSON
//! as the body, the shared secret in [`PEER_SECRET_HEADER`]); the route
//! `routes::internal_room_apply` answers it on the other side. `kind` names the room family
//! (`rooms` for free rooms and booked sessions, `duet` for duet rooms), each with its own
//! coordinator.

use std::time::Duration;

use async_trait::async_trait;
use portability::{PeerError, PeerTransport, PortabilityError};

/// `voice_rooms_forwarded_commands_total{status}`: room commands forwarded to the owning replica,
/// by the peer's HTTP status; in the process's default Prometheus registry, which every
/// service's `/metrics` appends.
static FORWARDED: std::sync::LazyLock<prometheus::IntCounterVec> = std::sync::LazyLock::new(|| {
    let counter = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "voice_rooms_forwarded_commands_total",
            "Room commands forwarded to the replica that owns the room, by the peer's HTTP status",
        ),
        &["status"],
    )
    .expect("valid metric definition");
    prometheus::register(Box::new(counter.clone())).expect("registered once per process");
    counter
});

/// Header carrying `ROOMS_PEER_SECRET` on forwarded commands. The TLS front strips client-sent
/// `X-Heaven-*` headers (docs/adr/0003), so it never arrives from outside.
pub const PEER_SECRET_HEADER: &str = "x-heaven-peer-secret";

/// The status a replica answers when it does not run the room: the sender looks again.
pub const NOT_OWNER_STATUS: u16 = 409;

/// How long one forwarded command may take (a room command may wait on the credits canister).
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(15);

/// Forwards room commands to peers with a shared secret.
pub struct HttpPeers {
    client: reqwest::Client,
    secret: Option<String>,
    kind: &'static str,
}

/// The free rooms' and booked sessions' family in forwarded paths.
pub const FREE_ROOMS: &str = "rooms";

/// The duet rooms' family in forwarded paths.
pub const DUET_ROOMS: &str = "duet";

impl HttpPeers {
    /// Peers reached with `secret` (`None`: forwarding fails as unavailable, since no peer
    /// would accept an unauthenticated command), for the rooms of family `kind`.
    pub fn new(secret: Option<String>, kind: &'static str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FORWARD_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_default();
        Self {
            client,
            secret,
            kind,
        }
    }
}

#[async_trait]
impl PeerTransport for HttpPeers {
    async fn apply(
        &self,
        peer_url: &str,
        room_id: &str,
        command: Vec<u8>,
    ) -> Result<Vec<u8>, PeerError> {
        let unavailable = |message: String| {
            PeerError::Failed(PortabilityError::Unavailable {
                server: format!("voice-rooms replica at {peer_url}"),
                message,
            })
        };
        let Some(secret) = &self.secret else {
            return Err(unavailable(
                "the room runs on another replica and ROOMS_PEER_SECRET is unset".into(),
            ));
        };
        let mut url = reqwest::Url::parse(peer_url)
            .map_err(|err| unavailable(format!("bad peer URL: {err}")))?;
        url.path_segments_mut()
            .map_err(|()| unavailable("peer URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["internal", self.kind, room_id, "apply"]);
        let response = self
            .client
            .post(url.clone())
            .header(PEER_SECRET_HEADER, secret)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(command)
            .send()
            .await
            .map_err(|err| unavailable(err.to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|err| unavailable(err.to_string()))?;
        FORWARDED.with_label_values(&[status.as_str()]).inc();
        match status.as_u16() {
            200 => Ok(body.to_vec()),
            NOT_OWNER_STATUS => Err(PeerError::NotOwner),
            503 => Err(unavailable(String::from_utf8_lossy(&body).into_owned())),
            other => Err(PeerError::Failed(PortabilityError::Backend {
                backend: "voice-rooms peer",
                message: format!("{url} answered {other}: {}", String::from_utf8_lossy(&body)),
            })),
        }
    }
}
