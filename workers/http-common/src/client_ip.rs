//! The client's IP address, believed from forwarding headers only when the TCP peer is a
//! configured proxy (`TRUSTED_PROXIES`, docs/adr/0005-trusted-proxies.md).
//!
//! A client that talks to a worker directly could otherwise claim any address in
//! `X-Forwarded-For` or `CF-Connecting-IP` and escape every per-IP limit. With no trusted proxy
//! configured (the default) the TCP peer is the client. When the peer is trusted,
//! `CF-Connecting-IP` (set by Cloudflare) is taken, else `X-Forwarded-For` is read from the
//! right, skipping trusted proxies, so entries a client prepended are never believed.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// Proxy networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Arc<[IpNet]>,
}

/// `TRUSTED_PROXIES` holds something that is not a list of IP addresses or CIDR networks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry:?} is not an IP address or CIDR network")]
pub struct TrustedProxiesError {
    /// The offending list item.
    pub entry: String,
}

impl TrustedProxies {
    /// Trust nobody: the TCP peer is always the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses a comma- or whitespace-separated list of addresses (`10.0.0.7`) and networks
    /// (`10.0.0.0/8`, `fd00::/8`). An empty list trusts nobody.
    pub fn parse(list: &str) -> Result<Self, TrustedProxiesError> {
        let networks = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| {
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map_err(|_| TrustedProxiesError {
                        entry: item.to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            networks: networks.into(),
        })
    }

    /// Whether `ip` is one of the trusted proxies (IPv4-mapped IPv6 peers count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// The client's address for a request from `peer` carrying `headers`.
    pub fn client_ip(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let header_ip = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| IpAddr::from_str(v.trim()).ok())
        };
        if let Some(ip) = header_ip("cf-connecting-ip") {
            return ip.to_canonical();
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map_while(|item| IpAddr::from_str(item.trim()).ok())
            .map(|ip| ip.to_canonical())
            .collect();
        // Right to left: the last hop a trusted proxy saw that is not itself a trusted proxy.
        forwarded
            .iter()
            .rev()
            .find(|ip| !self.contains(**ip))
            .or(forwarded.first())
            .copied()
            .unwrap_or(peer)
    }
}

/// The client's address as the edge determined it, in every request's extensions (and an
/// extractor). `None` inside only when the server was not started with peer addresses (unit
/// tests calling a router directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(None)))
    }
}

/// Middleware: computes [`ClientIp`] from the peer address and `proxies`.
pub async fn resolve(proxies: TrustedProxies, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let ip = peer.map(|peer| proxies.client_ip(request.headers(), peer));
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_headers_are_ignored() {
        let proxies = TrustedProxies::none();
        let spoofed = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("cf-connecting-ip", "5.6.7.8"),
        ]);
        assert_eq!(proxies.client_ip(&spoofed, ip("9.9.9.9")), ip("9.9.9.9"));
    }

    #[test]
    fn a_trusted_peer_is_believed_from_the_right() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5").unwrap();
        let from_proxy = ip("10.1.2.3");
        // The client prepended a fake entry; the proxy appended the real peer it saw.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        assert_eq!(proxies.client_ip(&h, from_proxy), ip("203.0.113.9"));
        // Several trusted hops are skipped.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.9.9.9, 192.168.1.5")]);
        assert_eq!(proxies.client_ip(&h, from_proxy), ip("203.0.113.9"));
        // Cloudflare's header wins.
        let h = headers(&[
            ("cf-connecting-ip", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(proxies.client_ip(&h, from_proxy), ip("198.51.100.1"));
        // No usable header: the proxy itself.
        assert_eq!(
            proxies.client_ip(&headers(&[("x-forwarded-for", "junk")]), from_proxy),
            from_proxy
        );
        // A peer outside the list is the client whatever it sends.
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(proxies.client_ip(&h, ip("8.8.8.8")), ip("8.8.8.8"));
    }

    #[test]
    fn mapped_ipv6_peers_and_bad_lists() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            proxies.client_ip(&h, ip("::ffff:127.0.0.1")),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8,nope").unwrap_err().entry,
            "nope"
        );
        assert!(TrustedProxies::parse(" ").unwrap().is_empty());
    }
}
