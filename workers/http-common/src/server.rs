//! Serving a router on a TCP listener with the connection limits a public service needs, and
//! graceful shutdown.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never fires: a client
//! that sends half a request head holds its connection (and a task) forever. Here every
//! connection gets a [`ConnectionLimits::header_read_timeout`] (which also bounds an idle
//! keep-alive connection waiting for its next request), each client address may hold at most
//! [`ConnectionLimits::max_per_ip`] connections at once, and on shutdown in-flight requests are
//! drained up to a deadline.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::client_ip::TrustedProxies;

/// Per-connection limits of a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a complete request head, counted from when the connection
    /// opens or its previous response ended (so it also closes idle keep-alive connections).
    pub header_read_timeout: Duration,
    /// Connections one client address may hold open at once; more are closed on accept.
    pub max_per_ip: usize,
    /// Proxies in front of the service: exempt from `max_per_ip` (every client behind them
    /// shares their address).
    pub trusted_proxies: TrustedProxies,
}

impl Default for ConnectionLimits {
    /// 10 s to send a request head, 256 connections per address, no trusted proxy.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_per_ip: 256,
            trusted_proxies: TrustedProxies::none(),
        }
    }
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct OpenConnections {
    by_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One counted connection; uncounted when dropped.
struct ConnectionSlot {
    open: OpenConnections,
    ip: IpAddr,
}

impl OpenConnections {
    fn try_open(&self, ip: IpAddr, max: usize) -> Option<ConnectionSlot> {
        let mut by_ip = self.by_ip.lock().unwrap_or_else(|p| p.into_inner());
        let count = by_ip.entry(ip).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            open: self.clone(),
            ip,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut by_ip = self.open.by_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = by_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and waits up
/// to `drain` for in-flight requests (connections still busy after it are dropped). Requests
/// carry the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let open = OpenConnections::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = peer.ip().to_canonical();
        let slot = if limits.trusted_proxies.contains(ip) {
            None
        } else {
            match open.try_open(ip, limits.max_per_ip) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%ip, "connection refused: too many open from this address");
                    continue;
                }
            }
        };
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let first_byte_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            // hyper's protocol detection (HTTP/1 or HTTP/2) waits for the first bytes without
            // a timer: a client that sends nothing is dropped here instead.
            let mut first = [0u8; 1];
            match tokio::time::timeout(first_byte_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    router.clone().oneshot(request.map(Body::new))
                });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?drain,
            "connections still busy after the drain deadline were dropped"
        );
    }
}

/// Installs the Ctrl-C and SIGTERM (what Akash and docker send on stop) handlers now, and
/// returns a future that resolves on the first of them.
///
/// Call it before announcing that the service is up: a signal that arrives between the
/// announcement and the first poll is then still caught instead of killing the process.
/// Must be called inside a tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
                tracing::error!("cannot install signal handlers; stop with SIGKILL");
                return std::future::pending().await;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
