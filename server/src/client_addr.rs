//! Who the client is: the TCP peer, unless the peer is one of the proxies
//! named in `MUSTER_TRUSTED_PROXIES`, whose `X-Forwarded-For` is believed.
//! Anyone else can write any `X-Forwarded-For` they like, so from them it is
//! ignored; otherwise a script would get a fresh rate-limit bucket per request.

use std::net::{IpAddr, SocketAddr};

use app::limits::ClientAddr;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};

/// One address or a CIDR block of proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    network: IpAddr,
    prefix: u8,
}

impl Block {
    fn parse(text: &str) -> Option<Block> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Block { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - prefix)
            }
        }
        match (self.network, canonical(ip)) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                masked(u32::from(network).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                masked(network.into(), self.prefix, 128) == masked(ip.into(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed (none by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR blocks; the entry that
    /// does not parse is returned.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| Block::parse(entry).ok_or_else(|| entry.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }

    /// The client of a request from `peer` with these `X-Forwarded-For`
    /// values: walking from the right (the hop nearest to us), the first
    /// address that is not a trusted proxy. Each trusted proxy appends the
    /// address it received from; entries further left were written by the
    /// client itself and prove nothing.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            // Something a proxy would not write: stop at the last good hop.
            let Ok(address) = hop.parse::<IpAddr>() else {
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Puts the request's [`ClientAddr`] on it for the rate limits.
pub async fn client_address(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
    {
        let forwarded_for = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>();
        let client = trusted.client(peer, &forwarded_for);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_the_rightmost_untrusted_hop_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("198.51.100.9"), &["203.0.113.5"]),
            ip("198.51.100.9")
        );

        let trusted = TrustedProxies::parse(" 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32").unwrap();
        // The client wrote the leftmost entry itself; the proxy appended the real one.
        assert_eq!(
            trusted.client(ip("10.1.2.3"), &["1.1.1.1, 203.0.113.5"]),
            ip("203.0.113.5")
        );
        // Two proxies in a row, over two headers.
        assert_eq!(
            trusted.client(ip("192.0.2.1"), &["203.0.113.5", "10.9.9.9"]),
            ip("203.0.113.5")
        );
        assert_eq!(trusted.client(ip("10.1.2.3"), &[]), ip("10.1.2.3"));
        assert_eq!(trusted.client(ip("10.1.2.3"), &["garbage"]), ip("10.1.2.3"));
        assert_eq!(
            trusted.client(ip("::ffff:10.1.2.3"), &["203.0.113.7"]),
            ip("203.0.113.7")
        );
        assert_eq!(
            trusted.client(ip("2001:db8::1"), &["2001:db9::7"]),
            ip("2001:db9::7")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            trusted.client(ip("198.51.100.9"), &["203.0.113.5"]),
            ip("198.51.100.9")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
    }
}
