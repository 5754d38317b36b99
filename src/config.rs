//! Broker configuration: Kafka's `server.properties` keys, `--override key=value`, defaults.
//!
//! Every key the broker reads is in [`KEYS`] with its default; other keys are accepted and
//! ignored with a debug line, so a stock Kafka `server.properties` works unchanged.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::properties;

/// (key, default) for every key this broker understands.
pub const KEYS: &[(&str, &str)] = &[
    ("listeners", "PLAINTEXT://:9092"),
    ("advertised.listeners", ""),
    ("controller.listener.names", "CONTROLLER"),
    (
        "listener.security.protocol.map",
        "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT",
    ),
    ("sasl.enabled.mechanisms", "GSSAPI"),
    ("connections.max.reauth.ms", "0"),
    ("authorizer.class.name", ""),
    ("super.users", ""),
    ("allow.everyone.if.no.acl.found", "false"),
    ("log.dirs", "/tmp/kraft-combined-logs"),
    ("log.dir", "/tmp/kafka-logs"),
    ("node.id", "1"),
    ("socket.request.max.bytes", "104857600"),
    ("message.max.bytes", "1048588"),
    ("log.segment.bytes", "1073741824"),
    ("log.roll.ms", ""),
    ("log.roll.hours", "168"),
    ("log.retention.ms", ""),
    ("log.retention.minutes", ""),
    ("log.retention.hours", "168"),
    ("log.retention.bytes", "-1"),
    ("log.retention.check.interval.ms", "300000"),
    ("log.initial.task.delay.ms", "30000"),
    ("log.flush.interval.messages", "9223372036854775807"),
    ("log.flush.interval.ms", ""),
    ("log.flush.scheduler.interval.ms", "9223372036854775807"),
    ("log.flush.offset.checkpoint.interval.ms", "60000"),
    ("log.roll.jitter.ms", ""),
    ("log.roll.jitter.hours", "0"),
    ("log.segment.delete.delay.ms", "60000"),
    ("auto.create.topics.enable", "true"),
    ("num.partitions", "1"),
    ("fetch.max.bytes", "57671680"),
    ("group.initial.rebalance.delay.ms", "3000"),
    ("group.min.session.timeout.ms", "6000"),
    ("group.max.session.timeout.ms", "1800000"),
    ("group.consumer.heartbeat.interval.ms", "5000"),
    ("group.consumer.session.timeout.ms", "45000"),
    ("group.consumer.max.size", "2147483647"),
    ("group.consumer.assignment.interval.ms", "1000"),
    (
        "group.consumer.assignors",
        "org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor",
    ),
    ("offsets.topic.num.partitions", "50"),
    ("transaction.max.timeout.ms", "900000"),
    ("transaction.state.log.num.partitions", "50"),
    ("transaction.state.log.segment.bytes", "104857600"),
    ("transaction.abort.timed.out.transaction.cleanup.interval.ms", "10000"),
    ("transactional.id.expiration.ms", "604800000"),
    ("transaction.remove.expired.transaction.cleanup.interval.ms", "3600000"),
    ("log.cleaner.enable", "true"),
    ("log.cleaner.backoff.ms", "15000"),
    ("log.cleaner.dedupe.buffer.size", "134217728"),
    ("max.connections", "2147483647"),
    ("max.connections.per.ip", "2147483647"),
    ("max.connections.per.ip.overrides", ""),
    ("connections.max.idle.ms", "600000"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The listener clients connect to.
    pub listener: SocketAddr,
    /// Every client listener (the first is `listener`).
    pub listeners: Vec<crate::listeners::Listener>,
    /// The host and port clients are told to use.
    pub advertised_host: String,
    pub advertised_port: u16,
    pub log_dir: PathBuf,
    pub node_id: i32,
    pub socket_request_max_bytes: usize,
    pub message_max_bytes: usize,
    pub log_segment_bytes: u64,
    /// log.roll.ms, or log.roll.hours in ms.
    pub log_roll_ms: i64,
    /// log.retention.ms, or .minutes, or .hours, in ms (Kafka's precedence); -1: forever.
    pub log_retention_ms: i64,
    pub log_retention_bytes: i64,
    pub log_retention_check_interval_ms: u64,
    pub log_initial_task_delay_ms: u64,
    /// log.flush.interval.ms, or log.flush.scheduler.interval.ms when not given (Kafka's
    /// fallback): the broker's flush.ms.
    pub log_flush_interval_ms: i64,
    /// log.flush.scheduler.interval.ms: how often the log flusher checks flush.ms.
    pub log_flush_scheduler_interval_ms: i64,
    /// log.flush.offset.checkpoint.interval.ms: how often the recovery points are
    /// checkpointed.
    pub log_flush_offset_checkpoint_interval_ms: u64,
    /// log.roll.jitter.ms, or log.roll.jitter.hours in ms: the broker's segment.jitter.ms.
    pub log_roll_jitter_ms: i64,
    pub auto_create_topics_enable: bool,
    pub num_partitions: i32,
    /// Caps a Fetch response's `max_bytes`, as Kafka's broker does.
    pub fetch_max_bytes: usize,
    pub group_initial_rebalance_delay_ms: u64,
    pub group_min_session_timeout_ms: u64,
    pub group_max_session_timeout_ms: u64,
    /// KIP-848 consumer groups: the interval members are told to heartbeat at.
    pub group_consumer_heartbeat_interval_ms: i32,
    pub group_consumer_session_timeout_ms: i32,
    pub group_consumer_max_size: i32,
    /// Least time between two target assignments of a KIP-848 group (KIP-1263).
    pub group_consumer_assignment_interval_ms: i32,
    /// Server-side assignor names; the first is the default.
    pub group_consumer_assignors: Vec<String>,
    pub offsets_topic_num_partitions: i32,
    pub transaction_max_timeout_ms: i32,
    pub transaction_state_log_num_partitions: i32,
    pub transaction_state_log_segment_bytes: u64,
    /// How often ongoing transactions are checked against their timeout.
    pub transaction_abort_timed_out_transaction_cleanup_interval_ms: u64,
    /// A transactional id idle (no transaction ongoing) this long is forgotten.
    pub transactional_id_expiration_ms: u64,
    pub transaction_remove_expired_transaction_cleanup_interval_ms: u64,
    /// max.connections: past it no more are accepted until one closes.
    pub max_connections: usize,
    /// max.connections.per.ip, and its overrides by host.
    pub max_connections_per_ip: usize,
    pub max_connections_per_ip_overrides: Vec<(std::net::IpAddr, usize)>,
    /// connections.max.idle.ms: an idle connection is closed after this long.
    pub connections_max_idle_ms: u64,
    /// Every key=value in force: `server.properties` and `--override`s, then the dynamic
    /// cluster defaults, then this broker's dynamic configs (see [`Config::with_dynamic`]).
    pub given: Vec<(String, String)>,
    /// The keys given at start-up (file, then overrides), for DescribeConfigs to tell sources.
    pub static_given: Vec<(String, String)>,
    /// Dynamic broker configs of the cluster (BROKER resource ""), from the metadata log.
    pub dynamic_default: BTreeMap<String, String>,
    /// Dynamic broker configs of this node (BROKER resource "<node.id>").
    pub dynamic_broker: BTreeMap<String, String>,
}

fn default(key: &str) -> &'static str {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).expect("every key has a default")
}

impl Config {
    /// The value in force for `key` (given or default), if it is one of [`KEYS`].
    pub fn value(&self, key: &str) -> Option<String> {
        let default = KEYS.iter().find(|(k, _)| *k == key)?.1;
        Some(properties::get(&self.given, key).unwrap_or(default).to_string())
    }

    pub fn is_given(&self, key: &str) -> bool {
        properties::get(&self.given, key).is_some()
    }

    /// Builds the configuration from `server.properties` pairs followed by overrides (later
    /// pairs win).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Config, String> {
        for (k, _) in pairs {
            if !KEYS.iter().any(|(known, _)| known == k) {
                log::debug!("config key {k} is not used by minikafka");
            }
        }
        let get = |k: &str| properties::get(pairs, k).unwrap_or(default(k)).to_string();
        let num = |k: &str| -> Result<i64, String> {
            get(k).parse::<i64>().map_err(|_| format!("{k}: '{}' is not a number", get(k)))
        };
        let listeners = crate::listeners::parse(pairs, &get, &local_host_name)?;
        let first = &listeners[0];
        let (listener, advertised_host, advertised_port) =
            (first.bind, first.advertised_host.clone(), first.advertised_port);
        let log_dir = properties::get(pairs, "log.dirs")
            .or_else(|| properties::get(pairs, "log.dir"))
            .unwrap_or(default("log.dirs"));
        let log_dir = log_dir.split(',').next().unwrap_or_default().trim();
        let positive = |k: &str| -> Result<i64, String> {
            let v = num(k)?;
            if v <= 0 {
                return Err(format!("{k} must be positive"));
            }
            Ok(v)
        };
        // Kafka's precedence: the finest unit given wins; the coarser keys have defaults.
        let finest = |keys: &[(&str, i64)]| -> Result<i64, String> {
            for &(k, unit) in keys {
                if !get(k).is_empty() {
                    return Ok(num(k)?.saturating_mul(unit));
                }
            }
            Ok(-1)
        };
        let log_roll_ms = finest(&[("log.roll.ms", 1), ("log.roll.hours", 3_600_000)])?;
        if log_roll_ms <= 0 {
            return Err("log.roll.ms must be positive".into());
        }
        let log_retention_ms = finest(&[
            ("log.retention.ms", 1),
            ("log.retention.minutes", 60_000),
            ("log.retention.hours", 3_600_000),
        ])?;
        // Any negative retention means "forever", as in Kafka.
        let log_retention_ms = if log_retention_ms < 0 { -1 } else { log_retention_ms };
        let log_flush_scheduler_interval_ms = positive("log.flush.scheduler.interval.ms")?;
        let log_flush_interval_ms = match get("log.flush.interval.ms").as_str() {
            "" => log_flush_scheduler_interval_ms,
            _ => num("log.flush.interval.ms")?,
        };
        let log_roll_jitter_ms =
            finest(&[("log.roll.jitter.ms", 1), ("log.roll.jitter.hours", 3_600_000)])?;
        if log_roll_jitter_ms < 0 || log_flush_interval_ms < 0 {
            return Err("log.roll.jitter.* and log.flush.interval.ms must not be negative".into());
        }
        let log_flush_offset_checkpoint_interval_ms =
            u64::try_from(num("log.flush.offset.checkpoint.interval.ms")?)
                .map_err(|_| "log.flush.offset.checkpoint.interval.ms must not be negative")?;
        Ok(Config {
            log_flush_offset_checkpoint_interval_ms,
            log_flush_interval_ms,
            log_flush_scheduler_interval_ms,
            log_roll_jitter_ms,
            log_roll_ms,
            log_retention_ms,
            log_retention_bytes: num("log.retention.bytes")?,
            log_retention_check_interval_ms: positive("log.retention.check.interval.ms")? as u64,
            log_initial_task_delay_ms: u64::try_from(num("log.initial.task.delay.ms")?)
                .map_err(|_| "log.initial.task.delay.ms must not be negative")?,
            listener,
            listeners,
            advertised_host,
            advertised_port,
            log_dir: PathBuf::from(log_dir),
            node_id: i32::try_from(num("node.id")?).map_err(|_| "node.id out of range")?,
            socket_request_max_bytes: positive("socket.request.max.bytes")?.min(i32::MAX as i64)
                as usize,
            message_max_bytes: positive("message.max.bytes")? as usize,
            log_segment_bytes: positive("log.segment.bytes")? as u64,
            auto_create_topics_enable: match get("auto.create.topics.enable").as_str() {
                "true" => true,
                "false" => false,
                v => return Err(format!("auto.create.topics.enable: '{v}' is not true or false")),
            },
            num_partitions: i32::try_from(positive("num.partitions")?)
                .map_err(|_| "num.partitions out of range")?,
            fetch_max_bytes: positive("fetch.max.bytes")?.min(i32::MAX as i64) as usize,
            group_initial_rebalance_delay_ms: u64::try_from(num(
                "group.initial.rebalance.delay.ms",
            )?)
            .map_err(|_| "group.initial.rebalance.delay.ms must not be negative")?,
            group_min_session_timeout_ms: positive("group.min.session.timeout.ms")? as u64,
            group_max_session_timeout_ms: positive("group.max.session.timeout.ms")? as u64,
            group_consumer_heartbeat_interval_ms: i32::try_from(positive(
                "group.consumer.heartbeat.interval.ms",
            )?)
            .map_err(|_| "group.consumer.heartbeat.interval.ms out of range")?,
            group_consumer_session_timeout_ms: i32::try_from(positive(
                "group.consumer.session.timeout.ms",
            )?)
            .map_err(|_| "group.consumer.session.timeout.ms out of range")?,
            group_consumer_max_size: i32::try_from(positive("group.consumer.max.size")?)
                .map_err(|_| "group.consumer.max.size out of range")?,
            group_consumer_assignment_interval_ms: i32::try_from(num(
                "group.consumer.assignment.interval.ms",
            )?)
            .ok()
            .filter(|v| *v >= 0)
            .ok_or("group.consumer.assignment.interval.ms must be between 0 and 2147483647")?,
            group_consumer_assignors: {
                // Kafka names its assignors by class; clients name them by `name()`.
                let mut names = Vec::new();
                for n in get("group.consumer.assignors").split(',').map(str::trim) {
                    match n {
                        "" => {}
                        "uniform"
                        | "org.apache.kafka.coordinator.group.assignor.UniformAssignor" => {
                            names.push("uniform".to_string())
                        }
                        "range" | "org.apache.kafka.coordinator.group.assignor.RangeAssignor" => {
                            names.push("range".to_string())
                        }
                        _ => return Err(format!("group.consumer.assignors: unknown assignor {n}")),
                    }
                }
                if names.is_empty() {
                    return Err("group.consumer.assignors must name an assignor".into());
                }
                names
            },
            offsets_topic_num_partitions: i32::try_from(positive("offsets.topic.num.partitions")?)
                .map_err(|_| "offsets.topic.num.partitions out of range")?,
            transaction_max_timeout_ms: i32::try_from(positive("transaction.max.timeout.ms")?)
                .map_err(|_| "transaction.max.timeout.ms out of range")?,
            transaction_state_log_num_partitions: i32::try_from(positive(
                "transaction.state.log.num.partitions",
            )?)
            .map_err(|_| "transaction.state.log.num.partitions out of range")?,
            transaction_state_log_segment_bytes: positive("transaction.state.log.segment.bytes")?
                as u64,
            transaction_abort_timed_out_transaction_cleanup_interval_ms: positive(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms",
            )? as u64,
            transactional_id_expiration_ms: positive("transactional.id.expiration.ms")? as u64,
            transaction_remove_expired_transaction_cleanup_interval_ms: positive(
                "transaction.remove.expired.transaction.cleanup.interval.ms",
            )? as u64,
            max_connections: positive("max.connections")? as usize,
            max_connections_per_ip: num("max.connections.per.ip")?.max(0) as usize,
            max_connections_per_ip_overrides: crate::server::parse_connection_overrides(&get(
                "max.connections.per.ip.overrides",
            ))?,
            connections_max_idle_ms: positive("connections.max.idle.ms")? as u64,
            given: pairs.to_vec(),
            static_given: pairs.to_vec(),
            dynamic_default: BTreeMap::new(),
            dynamic_broker: BTreeMap::new(),
        })
    }

    /// The configuration in force with these dynamic configs over the static ones, layered as
    /// Kafka's `DynamicBrokerConfig` layers them: static, then cluster defaults, then this
    /// broker's own. A dynamic key displaces its unit synonyms from the layers below
    /// (`log.retention.ms` set dynamically wins over a static `log.retention.hours`).
    pub fn with_dynamic(
        &self,
        default: &BTreeMap<String, String>,
        broker: &BTreeMap<String, String>,
    ) -> Result<Config, String> {
        let mut pairs = self.static_given.clone();
        for layer in [default, broker] {
            for (k, v) in layer {
                let synonyms = crate::broker_config::synonyms(k);
                pairs.retain(|(p, _)| !synonyms.contains(&p.as_str()) && p != k);
                pairs.push((k.clone(), v.clone()));
            }
        }
        let mut c = Config::from_pairs(&pairs)?;
        c.static_given = self.static_given.clone();
        // Listeners are bound once: keep the ports port 0 turned into real ones.
        c.listeners = self.listeners.clone();
        c.advertised_port = self.advertised_port;
        c.dynamic_default = default.clone();
        c.dynamic_broker = broker.clone();
        Ok(c)
    }

    /// Parses the command line: `[server.properties] [--override key=value ...]`.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut pairs = Vec::new();
        let mut overrides = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--override" {
                let kv = it.next().ok_or("--override needs key=value")?;
                let (k, v) =
                    kv.split_once('=').ok_or(format!("--override {kv}: needs key=value"))?;
                overrides.push((k.trim().to_string(), v.trim().to_string()));
            } else if a.starts_with('-') {
                return Err(format!("unknown option {a}"));
            } else if pairs.is_empty() {
                let text = std::fs::read_to_string(a).map_err(|e| format!("{a}: {e}"))?;
                pairs = properties::parse(&text);
            } else {
                return Err(format!("unexpected argument {a}"));
            }
        }
        pairs.extend(overrides);
        Config::from_pairs(&pairs)
    }
}

impl Config {
    /// The rules a partition log is kept by, from the broker's `log.*` defaults; a topic's
    /// own configs override fields of it.
    pub fn log_config(&self) -> crate::storage::LogConfig {
        // log.cleanup.policy and log.message.timestamp.* are read where topic keys fall back
        // to broker keys.
        let t = crate::topic_config::TopicConfig::resolve(self, None);
        // Sizes and times come from the broker's own fields, which read whichever unit
        // (ms, minutes, hours) was given.
        crate::storage::LogConfig {
            segment_bytes: self.log_segment_bytes,
            max_message_bytes: self.message_max_bytes,
            segment_ms: self.log_roll_ms,
            retention_ms: self.log_retention_ms,
            retention_bytes: self.log_retention_bytes,
            ..t.log_config()
        }
    }

    /// The log cleaner's settings (`log.cleaner.*`; the per-log rules come with each log's
    /// config).
    pub fn cleaner_config(&self) -> crate::storage::cleaner::CleanerConfig {
        let num = |k: &str| self.value(k).and_then(|v| v.trim().parse::<u64>().ok());
        let d = crate::storage::cleaner::CleanerConfig::DEFAULT;
        crate::storage::cleaner::CleanerConfig {
            enable: self.value("log.cleaner.enable").is_none_or(|v| v.trim() != "false"),
            backoff: num("log.cleaner.backoff.ms")
                .map_or(d.backoff, std::time::Duration::from_millis),
            dedupe_buffer_size: num("log.cleaner.dedupe.buffer.size")
                .unwrap_or(d.dedupe_buffer_size),
        }
    }

    pub fn retention_schedule(&self) -> crate::storage::RetentionSchedule {
        crate::storage::RetentionSchedule {
            initial_delay: std::time::Duration::from_millis(self.log_initial_task_delay_ms),
            interval: std::time::Duration::from_millis(self.log_retention_check_interval_ms),
            flush_check_interval: std::time::Duration::from_millis(
                self.log_flush_scheduler_interval_ms as u64,
            ),
            // Kafka's scheduler takes 0 as "once"; a timer of 0 would spin the loop.
            recovery_checkpoint_interval: std::time::Duration::from_millis(
                self.log_flush_offset_checkpoint_interval_ms.max(1),
            ),
        }
    }
}

fn local_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
        s.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_serve_out_of_the_box() {
        let c = Config::from_pairs(&[]).unwrap();
        assert_eq!(c.listener, "0.0.0.0:9092".parse().unwrap());
        assert_eq!(c.log_dir, PathBuf::from("/tmp/kraft-combined-logs"));
        assert_eq!(
            (c.node_id, c.socket_request_max_bytes, c.message_max_bytes),
            (1, 104857600, 1048588)
        );
    }

    #[test]
    fn course_properties_pick_the_plaintext_listener() {
        let c = Config::from_pairs(&pairs(&[
            ("process.roles", "broker,controller"),
            ("listeners", "PLAINTEXT://:9092,CONTROLLER://:9093"),
            ("advertised.listeners", "PLAINTEXT://localhost:9092"),
            ("node.id", "1"),
            ("log.dirs", "/tmp/x,/tmp/y"),
        ]))
        .unwrap();
        assert_eq!(c.listener.port(), 9092);
        assert_eq!((c.advertised_host.as_str(), c.advertised_port), ("localhost", 9092));
        assert_eq!(c.log_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn overrides_win_and_bad_values_are_errors() {
        let args: Vec<String> =
            ["--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "node.id=7"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let c = Config::from_args(&args).unwrap();
        assert_eq!(c.listener, "127.0.0.1:0".parse().unwrap());
        assert_eq!(c.node_id, 7);
        assert!(Config::from_pairs(&pairs(&[("node.id", "x")])).is_err());
        assert!(Config::from_pairs(&pairs(&[("listeners", "nonsense")])).is_err());
        assert!(Config::from_args(&["--bogus".to_string()]).is_err());
    }

    #[test]
    fn retention_takes_the_finest_unit_given() {
        let ms = |p: &[(&str, &str)]| Config::from_pairs(&pairs(p)).unwrap().log_retention_ms;
        assert_eq!(ms(&[]), 168 * 3_600_000);
        assert_eq!(ms(&[("log.retention.hours", "2")]), 2 * 3_600_000);
        assert_eq!(ms(&[("log.retention.hours", "2"), ("log.retention.minutes", "3")]), 180_000);
        assert_eq!(ms(&[("log.retention.minutes", "3"), ("log.retention.ms", "5")]), 5);
        assert_eq!(ms(&[("log.retention.ms", "-7")]), -1);
        let c = Config::from_pairs(&pairs(&[("log.roll.hours", "1")])).unwrap();
        assert_eq!((c.log_roll_ms, c.log_retention_bytes), (3_600_000, -1));
        assert_eq!(c.log_config().segment_ms, 3_600_000);
        assert!(Config::from_pairs(&pairs(&[("log.roll.ms", "0")])).is_err());
        assert!(Config::from_pairs(&pairs(&[("log.retention.bytes", "x")])).is_err());
        // Kafka's fallbacks: jitter in hours unless given in ms; log.flush.interval.ms from
        // log.flush.scheduler.interval.ms unless given.
        let c = Config::from_pairs(&pairs(&[("log.roll.jitter.hours", "2")])).unwrap();
        assert_eq!(c.log_config().segment_jitter_ms, 2 * 3_600_000);
        assert_eq!(c.log_config().flush_ms, i64::MAX);
        let c = Config::from_pairs(&pairs(&[
            ("log.roll.jitter.hours", "2"),
            ("log.roll.jitter.ms", "5"),
            ("log.flush.scheduler.interval.ms", "700"),
            ("log.flush.interval.messages", "3"),
            ("log.segment.delete.delay.ms", "0"),
        ]))
        .unwrap();
        let l = c.log_config();
        assert_eq!((l.segment_jitter_ms, l.flush_ms, l.flush_messages), (5, 700, 3));
        assert_eq!(l.file_delete_delay_ms, 0);
        let c = Config::from_pairs(&pairs(&[("log.flush.interval.ms", "9")])).unwrap();
        assert_eq!(c.log_config().flush_ms, 9);
    }
}
