//! The IC HTTP interface over a [`Harness`], enough for an unmodified `ic_agent::Agent`:
//! `GET /api/v2/status` (CBOR, with the DER root key), the call endpoints
//! (`/api/v3|v4/canister/<id>/call` answer synchronously with a certificate,
//! `/api/v2/.../call` answers 202 and the status is read back), `/api/v2|v3/canister/<id>/query`
//! and `/api/v2|v3/canister/<id>/read_state` (`time` and `request_status` paths). Certificates are
//! signed by a [`TestRootKey`]; query responses carry no node signatures, so agents talking to
//! the harness turn query-signature verification off. The harness's clock follows the wall
//! clock (certificate times must be recent for the agent to accept them), so canister timers
//! fire as real time passes. See docs/adr/0024-canister-bridge.md for what is not modelled.

mod envelope;
mod root_key;
mod routes;
mod state_tree;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::Harness;

pub use envelope::{MAX_INGRESS_EXPIRY, RefusedRequest};
pub use root_key::TestRootKey;
pub use state_tree::{CallOutcome, RequestStatuses};

/// The harness and the outcomes of the update calls it executed, behind one lock.
#[derive(Debug)]
pub struct Replica {
    /// The canisters.
    pub harness: Harness,
    /// Update outcomes by request id.
    pub statuses: RequestStatuses,
}

/// What the handlers share.
pub(crate) struct Served {
    pub(crate) replica: Mutex<Replica>,
    pub(crate) key: TestRootKey,
}

/// A running IC HTTP interface on 127.0.0.1; stops when dropped.
pub struct IcHttpServer {
    addr: SocketAddr,
    served: Arc<Served>,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for IcHttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcHttpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The seed of the default test root key.
pub const TEST_ROOT_KEY_SEED: &[u8] = b"ic-wasm-harness root key";

impl IcHttpServer {
    /// Serves `harness` on an ephemeral port of 127.0.0.1 (inside the current tokio runtime),
    /// signing with the key of [`TEST_ROOT_KEY_SEED`]. Build the harness with
    /// [`Harness::at_wall_clock`]: the clock is moved to the wall clock before each request.
    pub async fn start(harness: Harness) -> std::io::Result<Self> {
        Self::start_with_key(harness, TestRootKey::from_seed(TEST_ROOT_KEY_SEED)).await
    }

    /// Serves `harness`, signing certificates with `key`.
    pub async fn start_with_key(harness: Harness, key: TestRootKey) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let served = Arc::new(Served {
            replica: Mutex::new(Replica {
                harness,
                statuses: RequestStatuses::default(),
            }),
            key,
        });
        let app = routes::router(served.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "the harness's IC HTTP interface stopped");
            }
        });
        Ok(Self {
            addr,
            served,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:<port>`, the URL to give the agent.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The DER root key `/api/v2/status` shows.
    pub fn root_key(&self) -> Vec<u8> {
        self.served.key.public_key_der()
    }

    /// Runs `f` on the harness and its request statuses (install canisters, inspect state);
    /// blocks the calling thread while requests hold the lock.
    pub fn with_replica<R>(&self, f: impl FnOnce(&mut Replica) -> R) -> R {
        let mut replica = self
            .served
            .replica
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut replica)
    }
}

impl Drop for IcHttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
