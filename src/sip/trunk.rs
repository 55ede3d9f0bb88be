//! sip/trunk: carrier trunks — which source addresses are trusted without authentication (the
//! ACL), where outbound calls go, and each trunk's health from OPTIONS pings (sans-IO: the
//! endpoint sends the pings this module asks for and reports what came back).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::config::Trunk as TrunkConfig;

/// One configured trunk, resolved.
#[derive(Debug, Clone)]
pub struct TrunkEntry {
    pub name: String,
    nets: Vec<(IpAddr, u8)>,
    /// Where outbound calls and OPTIONS pings go.
    pub proxy: Option<SocketAddr>,
    pub ping_every: Option<Duration>,
}

/// Health of a trunk as seen by OPTIONS pings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not pinged (yet), or pinging is off.
    Unknown,
    Up,
    /// This many pings in a row got no answer or an error.
    Down {
        failures: u32,
    },
}

#[derive(Debug)]
struct PingState {
    next: Instant,
    outstanding: bool,
    health: Health,
    failures: u32,
}

/// All trunks: the ACL and the ping schedule.
#[derive(Debug, Default)]
pub struct Trunks {
    entries: Vec<TrunkEntry>,
    pings: Vec<Option<PingState>>,
}

/// Failed pings in a row before a trunk is reported down.
pub const DOWN_AFTER: u32 = 2;

impl Trunks {
    /// Builds the table; `resolve` turns "host:port" into an address (DNS is the caller's job).
    pub fn new(
        config: &[TrunkConfig],
        resolve: impl Fn(&str) -> Option<SocketAddr>,
        now: Instant,
    ) -> Trunks {
        let mut entries = Vec::new();
        let mut pings = Vec::new();
        for t in config {
            let nets = t.addresses.iter().filter_map(|a| parse_net(a)).collect();
            let proxy = t.outbound_proxy.as_deref().and_then(&resolve);
            let ping_every = (t.options_ping_secs > 0 && proxy.is_some())
                .then(|| Duration::from_secs(t.options_ping_secs.into()));
            pings.push(ping_every.map(|_| PingState {
                next: now,
                outstanding: false,
                health: Health::Unknown,
                failures: 0,
            }));
            entries.push(TrunkEntry {
                name: t.name.clone(),
                nets,
                proxy,
                ping_every,
            });
        }
        Trunks { entries, pings }
    }

    /// The trunk a source address belongs to.
    pub fn match_source(&self, ip: IpAddr) -> Option<&TrunkEntry> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.entries
            .iter()
            .find(|t| t.nets.iter().any(|(net, bits)| in_net(ip, *net, *bits)))
    }

    pub fn get(&self, name: &str) -> Option<&TrunkEntry> {
        self.entries.iter().find(|t| t.name == name)
    }

    pub fn entries(&self) -> &[TrunkEntry] {
        &self.entries
    }

    pub fn health(&self, name: &str) -> Health {
        self.index(name)
            .and_then(|i| self.pings[i].as_ref())
            .map_or(Health::Unknown, |p| p.health)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|t| t.name == name)
    }

    /// When the next ping is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pings
            .iter()
            .flatten()
            .filter(|p| !p.outstanding)
            .map(|p| p.next)
            .min()
    }

    /// Trunks to ping now (name and address); each is then outstanding until
    /// [`Trunks::ping_result`] is called for it.
    pub fn due_pings(&mut self, now: Instant) -> Vec<(String, SocketAddr)> {
        let mut due = Vec::new();
        for (i, p) in self.pings.iter_mut().enumerate() {
            let Some(p) = p else { continue };
            if !p.outstanding && p.next <= now {
                if let (Some(addr), Some(every)) =
                    (self.entries[i].proxy, self.entries[i].ping_every)
                {
                    p.outstanding = true;
                    p.next = now + every;
                    due.push((self.entries[i].name.clone(), addr));
                }
            }
        }
        due
    }

    /// The outcome of a ping: `Some(code)` for a response (any response means the carrier is
    /// alive, except 503), `None` for a timeout or transport error. Returns the health when it
    /// changed.
    pub fn ping_result(&mut self, name: &str, code: Option<u16>) -> Option<Health> {
        let i = self.index(name)?;
        let p = self.pings[i].as_mut()?;
        p.outstanding = false;
        let before = p.health;
        match code {
            Some(c) if c != 503 => {
                p.failures = 0;
                p.health = Health::Up;
            }
            _ => {
                p.failures += 1;
                if p.failures >= DOWN_AFTER {
                    p.health = Health::Down {
                        failures: p.failures,
                    };
                }
                if let Health::Down { failures } = &mut p.health {
                    *failures = p.failures;
                }
            }
        }
        (std::mem::discriminant(&before) != std::mem::discriminant(&p.health)).then_some(p.health)
    }
}

fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    match s.split_once('/') {
        None => {
            let ip: IpAddr = s.parse().ok()?;
            Some((ip, if ip.is_ipv4() { 32 } else { 128 }))
        }
        Some((ip, bits)) => Some((ip.parse().ok()?, bits.parse().ok()?)),
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits.min(32)))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits.min(128)))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(addresses: &[&str], proxy: Option<&str>, ping: u32) -> TrunkConfig {
        TrunkConfig {
            name: "carrier".into(),
            addresses: addresses.iter().map(|s| s.to_string()).collect(),
            outbound_proxy: proxy.map(str::to_string),
            options_ping_secs: ping,
            register: None,
        }
    }

    #[test]
    fn acl_matches_addresses_and_cidr_blocks() {
        let now = Instant::now();
        let t = Trunks::new(
            &[cfg(&["192.0.2.1", "10.1.0.0/16", "2001:db8::/32"], None, 0)],
            |_| None,
            now,
        );
        let hit = |s: &str| t.match_source(s.parse().unwrap()).is_some();
        assert!(hit("192.0.2.1"));
        assert!(!hit("192.0.2.2"));
        assert!(hit("10.1.255.7"));
        assert!(!hit("10.2.0.1"));
        assert!(hit("2001:db8:ffff::1"));
        assert!(!hit("2001:db9::1"));
        assert!(
            hit("::ffff:192.0.2.1"),
            "IPv4-mapped source matches the IPv4 entry"
        );
    }

    #[test]
    fn ping_schedule_and_health() {
        let now = Instant::now();
        let addr: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        let mut t = Trunks::new(
            &[cfg(&["127.0.0.1"], Some("127.0.0.1:5070"), 30)],
            |_| Some(addr),
            now,
        );
        assert_eq!(t.poll_timeout(), Some(now));
        assert_eq!(t.due_pings(now), vec![("carrier".to_string(), addr)]);
        assert_eq!(
            t.poll_timeout(),
            None,
            "nothing due while a ping is outstanding"
        );
        assert_eq!(t.ping_result("carrier", Some(200)), Some(Health::Up));
        assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(30)));
        assert!(t.due_pings(now + Duration::from_secs(29)).is_empty());
        assert_eq!(t.due_pings(now + Duration::from_secs(30)).len(), 1);
        assert_eq!(
            t.ping_result("carrier", None),
            None,
            "one miss is not down yet"
        );
        assert_eq!(t.due_pings(now + Duration::from_secs(60)).len(), 1);
        assert_eq!(
            t.ping_result("carrier", Some(503)),
            Some(Health::Down { failures: 2 })
        );
        assert_eq!(t.health("carrier"), Health::Down { failures: 2 });
        t.due_pings(now + Duration::from_secs(90));
        assert_eq!(
            t.ping_result("carrier", Some(404)),
            Some(Health::Up),
            "any answer but 503 is alive"
        );
    }
}
