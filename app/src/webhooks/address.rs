//! Where a webhook may be sent. An admin of one organization is an attacker
//! to the others and to the server's own network, so an endpoint is an
//! `https://` URL whose host is, and resolves to, only public addresses:
//! never loopback, private, link-local, unique-local, shared or reserved
//! ones. The check runs at registration and again at every delivery, after
//! name resolution (the sender connects only to the addresses it checked),
//! because a name can resolve elsewhere later. `MUSTER_WEBHOOK_ALLOW_PRIVATE`
//! turns the address check off (tests, a private deployment), and then
//! also allows `http://` to loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::AppError;

/// How long registration waits for a name to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// An endpoint URL taken apart, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    /// Lowercase; without brackets for IPv6.
    pub host: String,
    /// The host when it is an IP address.
    pub ip: Option<IpAddr>,
    pub port: u16,
}

impl Endpoint {
    pub fn is_loopback(&self) -> bool {
        match self.ip {
            Some(ip) => canonical(ip).is_loopback(),
            None => self.host == "localhost",
        }
    }
}

/// Why a URL is refused, in words for the admin.
pub type Refusal = &'static str;

/// Takes an endpoint URL apart: `http(s)://host[:port][/path][?query]`,
/// without user name or password.
pub fn parse(url: &str) -> Result<Endpoint, Refusal> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A URL has no spaces.");
    }
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("Use an https:// URL.");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("Leave the user name and password out of the URL.");
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("The address is not complete.")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => {
            if https {
                443
            } else {
                80
            }
        }
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port > 0)
            .ok_or("The port is not a number from 1 to 65535.")?,
    };
    if host.is_empty() {
        return Err("The URL has no host.");
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_none() {
        let valid = host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !valid || host.len() > 253 {
            return Err("The host is not a valid name.");
        }
        // `2130706433` or `0x7f.1` are IPv4 addresses to a URL parser and to
        // the resolver: only the plain dotted form is taken as an address.
        let last = host.rsplit('.').next().unwrap_or_default();
        if last.chars().all(|c| c.is_ascii_digit()) || last.starts_with("0x") {
            return Err("Write an IP address as four numbers with dots, or use a host name.");
        }
    }
    Ok(Endpoint {
        https,
        host: host.to_owned(),
        ip,
        port,
    })
}

/// The scheme rule: https, or with `allow_private` also http to loopback.
pub fn check_scheme(endpoint: &Endpoint, allow_private: bool) -> Result<(), Refusal> {
    if endpoint.https || (allow_private && endpoint.is_loopback()) {
        Ok(())
    } else {
        Err("Use an https:// URL: deliveries are signed, not encrypted, without it.")
    }
}

/// An IPv6 address that carries an IPv4 one, as that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |high: usize| {
        Ipv4Addr::new(
            (segments[high] >> 8) as u8,
            segments[high] as u8,
            (segments[high + 1] >> 8) as u8,
            segments[high + 1] as u8,
        )
    };
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address inside.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return public_v4(embedded_v4(6));
    }
    if segments[0] == 0x2002 {
        return public_v4(embedded_v4(1));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // IPv4-compatible (deprecated), ::/96.
        || segments[..6] == [0; 6]
        // Unique local, fc00::/7.
        || (segments[0] & 0xfe00) == 0xfc00
        // Link-local, fe80::/10, and the old site-local, fec0::/10.
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        // Documentation, 2001:db8::/32.
        || (segments[0] == 0x2001 && segments[1] == 0x0db8))
}

/// Whether a webhook may be sent to this address.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

pub const PRIVATE_REFUSAL: Refusal =
    "Webhooks go only to public addresses: this one is on a private, local or reserved network.";

/// A URL an admin typed, checked for registration: its form, its scheme, and
/// (unless `allow_private`) every address its host is or resolves to. A name
/// that does not resolve now is accepted: every delivery checks again.
pub async fn check_registration(url: &str, allow_private: bool) -> Result<String, AppError> {
    let url = url.trim();
    let refuse = |message: &str| AppError::invalid("URL", message);
    if url.chars().count() > super::URL_MAX_CHARS {
        return Err(refuse("The URL is too long."));
    }
    let endpoint = parse(url).map_err(refuse)?;
    check_scheme(&endpoint, allow_private).map_err(refuse)?;
    if allow_private {
        return Ok(url.to_owned());
    }
    let addresses = match endpoint.ip {
        Some(ip) => vec![ip],
        None => {
            let name = (endpoint.host.clone(), endpoint.port);
            let lookup = tokio::task::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&name)
                    .map(|addresses| addresses.map(|a| a.ip()).collect::<Vec<_>>())
            });
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(Ok(addresses))) => addresses,
                _ => Vec::new(),
            }
        }
    };
    if addresses.iter().any(|ip| !is_public(*ip)) {
        return Err(refuse(PRIVATE_REFUSAL));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "198.18.0.1",
            "203.0.113.7",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!public(private), "{private}");
        }
        for open in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700::1111",
            "64:ff9b::5db8:d70e",
        ] {
            assert!(public(open), "{open}");
        }
    }

    #[test]
    fn urls_are_taken_apart_and_odd_forms_refused() {
        let endpoint = parse("HTTPS://Hooks.Example.com:8443/in?x=1").unwrap();
        assert_eq!(
            (endpoint.https, endpoint.host.as_str(), endpoint.port),
            (true, "hooks.example.com", 8443)
        );
        assert_eq!(
            parse("https://[::1]/x").unwrap().ip,
            Some("::1".parse().unwrap())
        );
        assert_eq!(parse("http://127.0.0.1:9/").unwrap().port, 9);
        for bad in [
            "ftp://example.com",
            "https://",
            "https://user:pw@example.com/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://127.1/",
            "https://exa mple.com",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://-..com/",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_only_to_loopback_and_only_when_private_is_allowed() {
        let http_loopback = parse("http://127.0.0.1:8080/").unwrap();
        assert!(check_scheme(&http_loopback, false).is_err());
        assert!(check_scheme(&http_loopback, true).is_ok());
        assert!(check_scheme(&parse("http://example.com/").unwrap(), true).is_err());
        assert!(check_scheme(&parse("https://example.com/").unwrap(), false).is_ok());
    }
}
