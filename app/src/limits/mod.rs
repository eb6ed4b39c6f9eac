//! Rate limits shared by every server process on one database: a token
//! bucket per key in the `rate_limits` table, taken with one UPSERT per
//! attempt, so two processes behind a load balancer count together and a
//! restart forgets nothing. Rows of full buckets are swept, so the table
//! holds only keys that were used recently.
//!
//! What is limited: each client network's attempts at each sign-in or
//! emailed-link form; each account's password attempts (wherever a password
//! is checked); each emailed link's attempts; password-reset emails per
//! address; join page submissions per organization.

use std::net::IpAddr;

/// A bucket of `burst` attempts that refills one attempt every `refill_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub refill_secs: u64,
}

impl Limit {
    pub const fn new(burst: u32, refill_secs: u64) -> Limit {
        Limit { burst, refill_secs }
    }
}

/// Every limit, from the configuration (see the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Password attempts on one account, from anywhere: logging in, logging
    /// in to accept an invitation or join, changing the password.
    pub account: Limit,
    /// Attempts per client network at each sign-in or link form.
    pub client: Limit,
    /// Attempts on one emailed link (activation, invitation, confirmation, reset).
    pub link: Limit,
    /// "Forgot password?" emails to one address.
    pub reset_email: Limit,
    /// Join page submissions per client network.
    pub join_client: Limit,
    /// Join page submissions per organization, whoever submits.
    pub join_organization: Limit,
    /// Requests with one API token, to `/api/v1` and `/scim/v2`.
    pub api_token: Limit,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // Ten wrong passwords, then one more every 90 s (ten per 15 minutes).
            account: Limit::new(10, 90),
            // Generous: an office behind one NAT address signs in at nine o'clock
            // together; the account limit is what stops guessing at one person.
            client: Limit::new(60, 2),
            link: Limit::new(10, 60),
            // Three emails, then one every 20 minutes.
            reset_email: Limit::new(3, 20 * 60),
            join_client: Limit::new(10, 60),
            join_organization: Limit::new(100, 6),
            // A nightly sync pages through a large roster in a burst; a
            // runaway script settles at one request a second.
            api_token: Limit::new(600, 1),
        }
    }
}

/// The form or function an attempt is made at: each has its own bucket
/// per client network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Login,
    Activate,
    Invitation,
    Join,
    Verify,
    ResetRequest,
    Reset,
    ChangePassword,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Activate => "activate",
            Action::Invitation => "invitation",
            Action::Join => "join",
            Action::Verify => "verify",
            Action::ResetRequest => "reset_request",
            Action::Reset => "reset",
            Action::ChangePassword => "change_password",
        }
    }
}

/// The client's address as the server decided it (the TCP peer, or the
/// address a trusted proxy names in `X-Forwarded-For`), put on each request
/// by the server before routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The network a client is counted as: an IPv4 address, or an IPv6
/// address's /64 (one subscriber's whole allocation), so that one client
/// cannot walk through 2^64 addresses for fresh buckets.
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(prefix))
            }
        },
        v4 => v4,
    }
}

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(other));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(network_of(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(mapped), v4);
    }
}
