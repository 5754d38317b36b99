//! Kafka's connection quotas (`ConnectionQuotas` in its SocketServer) and idle timeout:
//! `max.connections` (past it the broker stops accepting, so new connections wait in the
//! listen backlog until one closes), `max.connections.per.ip` with its per-host overrides (a
//! connection over its host's quota is accepted and closed at once), and
//! `connections.max.idle.ms` (a connection with nothing in flight and no traffic for that
//! long is closed).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::Config;

pub struct Limits {
    max: usize,
    per_ip: usize,
    overrides: HashMap<IpAddr, usize>,
    idle: Duration,
    by_ip: HashMap<IpAddr, usize>,
    total: usize,
    next_idle_check: Instant,
}

impl Limits {
    pub fn new(config: &Config) -> Limits {
        let idle = Duration::from_millis(config.connections_max_idle_ms);
        Limits {
            max: config.max_connections,
            per_ip: config.max_connections_per_ip,
            overrides: config.max_connections_per_ip_overrides.iter().copied().collect(),
            idle,
            by_ip: HashMap::new(),
            total: 0,
            next_idle_check: Instant::now() + Limits::check_every(idle),
        }
    }

    /// Idle connections are looked for a tenth of the timeout apart (between 10 ms and 1 s),
    /// so one is closed at most 10% late.
    fn check_every(idle: Duration) -> Duration {
        (idle / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Whether another connection may be accepted at all now.
    pub fn room(&self) -> bool {
        self.total < self.max
    }

    /// Counts a connection from `ip`, or refuses it (false) when its host is at its quota.
    pub fn admit(&mut self, ip: IpAddr) -> bool {
        let quota = self.overrides.get(&ip).copied().unwrap_or(self.per_ip);
        let n = self.by_ip.entry(ip).or_insert(0);
        if *n >= quota {
            return false;
        }
        *n += 1;
        self.total += 1;
        true
    }

    pub fn release(&mut self, ip: IpAddr) {
        if let Some(n) = self.by_ip.get_mut(&ip) {
            *n -= 1;
            self.total -= 1;
            if *n == 0 {
                self.by_ip.remove(&ip);
            }
        }
    }

    /// When idle connections are next looked for.
    pub fn next_idle_check(&self) -> Instant {
        self.next_idle_check
    }

    /// Whether it is time to look for idle connections; if so, the next look is scheduled.
    pub fn idle_check_due(&mut self, now: Instant) -> bool {
        if now < self.next_idle_check {
            return false;
        }
        self.next_idle_check = now + Limits::check_every(self.idle);
        true
    }

    pub fn idle_timeout(&self) -> Duration {
        self.idle
    }
}

/// `max.connections.per.ip.overrides`: `host:count` pairs, comma-separated (hosts as IP
/// addresses; names are resolved once, at start-up).
pub fn parse_overrides(v: &str) -> Result<Vec<(IpAddr, usize)>, String> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (host, n) = item
            .rsplit_once(':')
            .ok_or(format!("max.connections.per.ip.overrides: '{item}' is not host:count"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("max.connections.per.ip.overrides: bad count in '{item}'"))?;
        let host = host.trim().trim_start_matches('[').trim_end_matches(']');
        let ip = match host.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(host, 0))
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip())
                .ok_or(format!("max.connections.per.ip.overrides: unknown host '{host}'"))?,
        };
        out.push((ip, n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_and_quotas_count_per_host() {
        let o = parse_overrides("127.0.0.2:5, [::1]:0").unwrap();
        assert_eq!(o, [("127.0.0.2".parse().unwrap(), 5), ("::1".parse().unwrap(), 0)]);
        assert!(parse_overrides("127.0.0.1").is_err());
        let config = Config::from_pairs(&[
            ("max.connections.per.ip".to_string(), "2".to_string()),
            ("max.connections.per.ip.overrides".to_string(), "127.0.0.9:1".to_string()),
        ])
        .unwrap();
        let mut l = Limits::new(&config);
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.9".parse().unwrap());
        assert!(l.admit(a) && l.admit(a) && !l.admit(a));
        assert!(l.admit(b) && !l.admit(b));
        l.release(a);
        assert!(l.admit(a));
        assert_eq!(l.total, 3);
    }
}
