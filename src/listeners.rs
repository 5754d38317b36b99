//! Client listeners: `listeners`, `advertised.listeners`, `listener.security.protocol.map`,
//! and per SASL listener its mechanisms and PLAIN users, read as Kafka reads them
//! (`listener.name.<name>.` prefixes winning over the broker-wide keys).

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::properties;
use crate::security::jaas;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProtocol {
    Plaintext,
    SaslPlaintext,
}

/// The SASL mechanisms served. GSSAPI (Kerberos) and OAUTHBEARER are not.
pub const MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub name: String,
    pub bind: SocketAddr,
    pub advertised_host: String,
    pub advertised_port: u16,
    pub protocol: SecurityProtocol,
    /// `sasl.enabled.mechanisms` in force on this listener (SASL listeners only).
    pub mechanisms: Vec<String>,
    /// PLAIN's users and passwords from the listener's JAAS config.
    pub plain_users: BTreeMap<String, String>,
}

/// Parses `NAME://host:port` entries; returns (name, host, port).
pub fn parse_endpoints(v: &str) -> Result<Vec<(String, String, u16)>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|l| {
            let (name, rest) = l.split_once("://").ok_or(format!("bad listener '{l}'"))?;
            let (host, port) =
                rest.rsplit_once(':').ok_or(format!("listener '{l}' has no port"))?;
            let port = port.parse().map_err(|_| format!("listener '{l}' has a bad port"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
            Ok((name.to_string(), host, port))
        })
        .collect()
}

/// The client listeners, in the order `listeners` gives them. `get` reads a key of
/// [`crate::config::KEYS`] (given or default); `pairs` are all given pairs, for the
/// `listener.name.` keys no table can list.
pub fn parse(
    pairs: &[(String, String)],
    get: &dyn Fn(&str) -> String,
    local_host: &dyn Fn() -> String,
) -> Result<Vec<Listener>, String> {
    let controllers: Vec<String> =
        get("controller.listener.names").split(',').map(|s| s.trim().to_string()).collect();
    let map = protocol_map(&get("listener.security.protocol.map"))?;
    let advertised = parse_endpoints(&get("advertised.listeners"))?;
    let mut out = Vec::new();
    for (name, host, port) in parse_endpoints(&get("listeners"))? {
        if controllers.contains(&name) {
            continue;
        }
        let protocol = match map.get(&name).map(String::as_str) {
            Some("PLAINTEXT") => SecurityProtocol::Plaintext,
            Some("SASL_PLAINTEXT") => SecurityProtocol::SaslPlaintext,
            Some(p @ ("SSL" | "SASL_SSL")) => {
                return Err(format!(
                    "listener {name}: {p} needs TLS, which minikafka does not serve \
                     (terminate TLS in front of a PLAINTEXT or SASL_PLAINTEXT listener)"
                ))
            }
            Some(p) => return Err(format!("listener {name}: unknown security protocol {p}")),
            None => {
                return Err(format!("listener {name} is not in listener.security.protocol.map"))
            }
        };
        let bind_host = if host.is_empty() { "0.0.0.0".to_string() } else { host.clone() };
        let bind = (bind_host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("listener {name}: {e}"))?
            .next()
            .ok_or(format!("listener {name}: host '{host}' has no address"))?;
        let (advertised_host, advertised_port) =
            match advertised.iter().find(|(n, _, _)| *n == name) {
                Some((_, h, p)) if !h.is_empty() => (h.clone(), *p),
                Some((_, _, p)) => (local_host(), *p),
                None if host.is_empty() || host == "0.0.0.0" => (local_host(), port),
                None => (host, port),
            };
        let prefix = format!("listener.name.{}.", name.to_lowercase());
        let (mechanisms, plain_users) = if protocol == SecurityProtocol::SaslPlaintext {
            let enabled = properties::get(pairs, &format!("{prefix}sasl.enabled.mechanisms"))
                .map(str::to_string)
                .unwrap_or_else(|| get("sasl.enabled.mechanisms"));
            let mechanisms: Vec<String> = enabled
                .split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            if let Some(m) = mechanisms.iter().find(|m| !MECHANISMS.contains(&m.as_str())) {
                return Err(format!(
                    "listener {name}: SASL mechanism {m} is not served (only {})",
                    MECHANISMS.join(", ")
                ));
            }
            if mechanisms.is_empty() {
                return Err(format!("listener {name}: no SASL mechanism enabled"));
            }
            let mut users = BTreeMap::new();
            if mechanisms.iter().any(|m| m == "PLAIN") {
                let key = format!("{prefix}plain.sasl.jaas.config");
                let jaas = properties::get(pairs, &key)
                    .ok_or(format!("listener {name} enables PLAIN but {key} is not set"))?;
                for (k, v) in jaas::options(jaas).map_err(|e| format!("{key}: {e}"))? {
                    if let Some(user) = k.strip_prefix("user_") {
                        users.insert(user.to_string(), v);
                    }
                }
            }
            (mechanisms, users)
        } else {
            (Vec::new(), BTreeMap::new())
        };
        out.push(Listener {
            name,
            bind,
            advertised_host,
            advertised_port,
            protocol,
            mechanisms,
            plain_users,
        });
    }
    if out.is_empty() {
        return Err("listeners has no client listener".into());
    }
    Ok(out)
}

fn protocol_map(v: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for entry in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, protocol) = entry
            .split_once(':')
            .ok_or(format!("listener.security.protocol.map: bad entry '{entry}'"))?;
        map.insert(name.trim().to_string(), protocol.trim().to_uppercase());
    }
    Ok(map)
}
