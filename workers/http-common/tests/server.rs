//! The listener: a client that never finishes its request head is disconnected, one address
//! cannot hold more than its share of connections, the client IP is the peer unless the peer
//! is a trusted proxy, and shutdown drains in-flight requests.
//!
//! These tests use real sockets and the real clock (hyper's header timer and the kernel's
//! connection handling cannot run on a paused tokio clock); every wait is well under a second.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use http_common::{ClientIp, ConnectionLimits, CorsPolicy, ServiceEdge, TrustedProxies};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

/// Requests that reached the `/slow` handler (so a test can stop the server while one is in
/// flight, however slowly the machine gets there).
static SLOW_ENTERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn start(limits: ConnectionLimits, drain: Duration) -> Running {
    let router = ServiceEdge::new("test", CorsPolicy::voice_agent()).wrap(
        Router::new()
            .route(
                "/ip",
                get(
                    |ip: ClientIp| async move { ip.0.map(|ip| ip.to_string()).unwrap_or_default() },
                ),
            )
            .route(
                "/slow",
                get(|| async {
                    SLOW_ENTERED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "done"
                }),
            ),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(http_common::serve(
        listener,
        router,
        limits,
        async move {
            let _ = stopped.await;
        },
        drain,
    ));
    Running {
        addr,
        stop: Some(stop),
        server,
    }
}

/// Whether the server closed `stream` (a read returns end of file or an error) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A response (e.g. 408) may come before the close.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn clients_that_never_finish_their_request_head_are_disconnected() {
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let running = start(limits, Duration::from_secs(1)).await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(running.addr).await.unwrap();
        stream
            .write_all(b"GET /ip HTTP/1.1\r\nHost: x\r\nX-Half: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A silent connection too.
    slow.push(TcpStream::connect(running.addr).await.unwrap());
    let started = Instant::now();
    for stream in &mut slow {
        assert!(
            closed_within(stream, Duration::from_secs(3)).await,
            "a half-open request was kept"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    // Well-behaved clients are still served.
    let body = reqwest::get(format!("http://{}/ip", running.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "127.0.0.1");
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_connections() {
    let limits = ConnectionLimits {
        max_per_ip: 4,
        ..ConnectionLimits::default()
    };
    let running = start(limits, Duration::from_secs(1)).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(running.addr).await.unwrap());
    }
    let mut fifth = TcpStream::connect(running.addr).await.unwrap();
    fifth
        .write_all(b"GET /ip HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok();
    assert!(
        closed_within(&mut fifth, Duration::from_secs(2)).await,
        "the fifth connection must be refused"
    );
    // Freeing one slot lets a new connection in.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = reqwest::get(format!("http://{}/ip", running.addr)).await;
    assert_eq!(response.unwrap().status(), 200);
}

#[tokio::test]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    let untrusted = start(ConnectionLimits::default(), Duration::from_secs(1)).await;
    let client = reqwest::Client::new();
    let ip = |addr: SocketAddr| {
        let client = client.clone();
        async move {
            client
                .get(format!("http://{addr}/ip"))
                .header("x-forwarded-for", "203.0.113.7")
                .header("cf-connecting-ip", "198.51.100.2")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(ip(untrusted.addr).await, "127.0.0.1");
    let trusted = start(
        ConnectionLimits {
            trusted_proxies: TrustedProxies::parse("127.0.0.1/32").unwrap(),
            ..ConnectionLimits::default()
        },
        Duration::from_secs(1),
    )
    .await;
    // The edge of this test router trusts nobody: the listener's trust only exempts proxies
    // from the connection cap; the edge decides the client IP.
    assert_eq!(ip(trusted.addr).await, "127.0.0.1");
    let mut edge = ServiceEdge::new("test", CorsPolicy::voice_agent());
    edge.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    let router = edge.wrap(Router::new().route(
        "/ip",
        get(|ip: ClientIp| async move { ip.0.map(|ip| ip.to_string()).unwrap_or_default() }),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(http_common::serve(
        listener,
        router,
        ConnectionLimits::default(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    assert_eq!(ip(addr).await, "198.51.100.2");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let mut running = start(ConnectionLimits::default(), Duration::from_secs(5)).await;
    let url = format!("http://{}/slow", running.addr);
    let entered = SLOW_ENTERED.load(std::sync::atomic::Ordering::SeqCst);
    let request = tokio::spawn(async move { reqwest::get(url).await.unwrap().text().await });
    // Stop only once the request is inside the handler: a fixed sleep raced the connect on a
    // loaded machine (the listener closed first and the connect was reset).
    tokio::time::timeout(Duration::from_secs(30), async {
        while SLOW_ENTERED.load(std::sync::atomic::Ordering::SeqCst) == entered {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the request reaches the handler");
    running.stop.take().unwrap().send(()).unwrap();
    assert_eq!(request.await.unwrap().unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(5), &mut running.server)
        .await
        .expect("the server stops once drained")
        .unwrap();
    assert!(
        TcpStream::connect(running.addr).await.is_err(),
        "no longer listening"
    );
}
