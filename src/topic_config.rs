//! Per-topic configuration as Apache Kafka defines it (`LogConfig` in Kafka's storage module):
//! every key a topic can override, its type, its default, the broker key it falls back to, and
//! the checks Kafka makes of a value, with Kafka's messages.
//!
//! A topic's effective value of a key is its override (a `ConfigRecord` in the metadata log),
//! else the broker's setting of the synonym key when `server.properties` gives one, else
//! Kafka's default. [`TopicConfig`] is that, parsed, for the log layer: build it with
//! [`TopicConfig::resolve`] (or `Broker::topic_config`).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::storage::LogConfig;

/// `config_type` of DescribeConfigs v3+ (Kafka's `ConfigType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// What Kafka's `ConfigDef` validator of a key accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    Any,
    AtLeast(i64),
    Between(f64, f64),
    /// One of these strings (`ValidString.in`).
    OneOf(&'static [&'static str]),
    /// A list whose every item is one of these (`ValidList.in`).
    ListOf(&'static [&'static str]),
    /// Kafka's throttled-replica lists: `*` or `partition:broker` pairs.
    Throttled,
    /// The compression level validators: (min, max), and -1 for gzip's default.
    Level(i64, i64, bool),
}

#[derive(Debug, Clone, Copy)]
pub struct Def {
    pub name: &'static str,
    pub default: &'static str,
    /// The broker key it derives from, or "" for none.
    pub broker_key: &'static str,
    pub kind: Kind,
    pub check: Check,
}

const fn def(
    name: &'static str,
    default: &'static str,
    broker_key: &'static str,
    kind: Kind,
    check: Check,
) -> Def {
    Def { name, default, broker_key, kind, check }
}

use Check::*;
use Kind as K;

/// The compression types a topic may name (Kafka's `BrokerCompressionType`).
const COMPRESSION_TYPES: &[&str] = &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

/// Every topic config Apache Kafka 4.4 reports, in name order.
pub const TOPIC_CONFIGS: &[Def] = &[
    def("cleanup.policy", "delete", "log.cleanup.policy", K::List, ListOf(&["compact", "delete"])),
    def("compression.gzip.level", "-1", "compression.gzip.level", K::Int, Level(1, 9, true)),
    def("compression.lz4.level", "9", "compression.lz4.level", K::Int, Level(1, 17, false)),
    def("compression.type", "producer", "compression.type", K::String, OneOf(COMPRESSION_TYPES)),
    def("compression.zstd.level", "3", "compression.zstd.level", K::Int, Level(-131072, 22, false)),
    def("delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms", K::Long, AtLeast(0)),
    def("errors.deadletterqueue.group.enable", "false", "", K::Boolean, Any),
    def("file.delete.delay.ms", "60000", "log.segment.delete.delay.ms", K::Long, AtLeast(0)),
    def(
        "flush.messages",
        "9223372036854775807",
        "log.flush.interval.messages",
        K::Long,
        AtLeast(1),
    ),
    def("flush.ms", "9223372036854775807", "log.flush.interval.ms", K::Long, AtLeast(0)),
    def("follower.replication.throttled.replicas", "", "", K::List, Throttled),
    def("index.interval.bytes", "4096", "log.index.interval.bytes", K::Int, AtLeast(0)),
    def("leader.replication.throttled.replicas", "", "", K::List, Throttled),
    def("local.retention.bytes", "-2", "log.local.retention.bytes", K::Long, AtLeast(-2)),
    def("local.retention.ms", "-2", "log.local.retention.ms", K::Long, AtLeast(-2)),
    def(
        "max.compaction.lag.ms",
        "9223372036854775807",
        "log.cleaner.max.compaction.lag.ms",
        K::Long,
        AtLeast(1),
    ),
    def(
        "max.decompressed.message.bytes",
        "2147483639",
        "max.decompressed.message.bytes",
        K::Int,
        AtLeast(0),
    ),
    def("max.message.bytes", "1048588", "message.max.bytes", K::Int, AtLeast(0)),
    def(
        "message.timestamp.after.max.ms",
        "3600000",
        "log.message.timestamp.after.max.ms",
        K::Long,
        AtLeast(0),
    ),
    def(
        "message.timestamp.before.max.ms",
        "9223372036854775807",
        "log.message.timestamp.before.max.ms",
        K::Long,
        AtLeast(0),
    ),
    def(
        "message.timestamp.type",
        "CreateTime",
        "log.message.timestamp.type",
        K::String,
        OneOf(&["CreateTime", "LogAppendTime"]),
    ),
    def(
        "min.cleanable.dirty.ratio",
        "0.5",
        "log.cleaner.min.cleanable.ratio",
        K::Double,
        Between(0.0, 1.0),
    ),
    def("min.compaction.lag.ms", "0", "log.cleaner.min.compaction.lag.ms", K::Long, AtLeast(0)),
    def("min.insync.replicas", "1", "min.insync.replicas", K::Int, AtLeast(1)),
    def("preallocate", "false", "log.preallocate", K::Boolean, Any),
    def("remote.copy.lag.bytes", "-1", "log.remote.copy.lag.bytes", K::Long, AtLeast(-1)),
    def("remote.copy.lag.ms", "0", "log.remote.copy.lag.ms", K::Long, AtLeast(-1)),
    def("remote.log.copy.disable", "false", "", K::Boolean, Any),
    def("remote.log.delete.on.disable", "false", "", K::Boolean, Any),
    def("remote.storage.enable", "false", "", K::Boolean, Any),
    def("retention.bytes", "-1", "log.retention.bytes", K::Long, Any),
    // Retention is not enforced by this broker yet: it says so rather than claim Kafka's week.
    def("retention.ms", "604800000", "log.retention.ms", K::Long, AtLeast(-1)),
    def("segment.bytes", "1073741824", "log.segment.bytes", K::Int, AtLeast(1024 * 1024)),
    def("segment.index.bytes", "10485760", "log.index.size.max.bytes", K::Int, AtLeast(4)),
    def("segment.jitter.ms", "0", "log.roll.jitter.ms", K::Long, AtLeast(0)),
    def("segment.ms", "604800000", "log.roll.ms", K::Long, AtLeast(1)),
    def(
        "unclean.leader.election.enable",
        "false",
        "unclean.leader.election.enable",
        K::Boolean,
        Any,
    ),
];

/// The definition of topic key `name`.
pub fn lookup(name: &str) -> Option<&'static Def> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// The items of a list value as Kafka's `ConfigDef` splits them (commas, items trimmed; an
/// empty value is the empty list).
pub fn list_items(value: &str) -> Vec<&str> {
    if value.trim().is_empty() {
        return Vec::new();
    }
    value.split(',').map(str::trim).collect()
}

impl Def {
    /// Checks `value` as Kafka's `ConfigDef` parses and validates it; the error is Kafka's
    /// `ConfigException` message.
    pub fn validate(&self, value: &str) -> Result<(), String> {
        let invalid =
            |why: &str| format!("Invalid value {value} for configuration {}: {why}", self.name);
        let v = value.trim();
        let number: Option<f64> = match self.kind {
            K::Int => {
                Some(v.parse::<i32>().map_err(|_| invalid("Not a number of type INT"))? as f64)
            }
            K::Long => {
                Some(v.parse::<i64>().map_err(|_| invalid("Not a number of type LONG"))? as f64)
            }
            K::Double => {
                let d = v
                    .parse::<f64>()
                    .ok()
                    .filter(|d| d.is_finite())
                    .ok_or_else(|| invalid("Not a number of type DOUBLE"))?;
                Some(d)
            }
            K::Boolean => {
                if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
                    return Err(invalid("Expected value to be either true or false"));
                }
                None
            }
            K::String | K::List => None,
        };
        match (self.check, number) {
            (AtLeast(min), Some(n)) if n < min as f64 => {
                Err(invalid(&format!("Value must be at least {min}")))
            }
            (Between(min, _), Some(n)) if n < min => {
                Err(invalid(&format!("Value must be at least {}", min as i64)))
            }
            (Between(_, max), Some(n)) if n > max => {
                Err(invalid(&format!("Value must be no more than {}", max as i64)))
            }
            (Level(min, max, minus_one), Some(n))
                if (n < min as f64 || n > max as f64) && !(minus_one && n == -1.0) =>
            {
                let or = if minus_one { ", or -1" } else { "" };
                Err(invalid(&format!("Value must be between {min} and {max}{or}")))
            }
            (OneOf(allowed), _) if !allowed.contains(&v) => {
                Err(invalid(&format!("String must be one of: {}", allowed.join(", "))))
            }
            (ListOf(allowed), _) => {
                let items = list_items(value);
                match items.iter().find(|i| !allowed.contains(i)) {
                    Some(bad) => Err(format!(
                        "Invalid value {bad} for configuration {}: String must be one of: {}",
                        self.name,
                        allowed.join(", ")
                    )),
                    None => Ok(()),
                }
            }
            (Throttled, _) => {
                let items = list_items(value);
                let pair = |i: &str| {
                    i.split_once(':').is_some_and(|(p, b)| {
                        p.trim().parse::<u32>().is_ok() && b.trim().parse::<u32>().is_ok()
                    })
                };
                if items == ["*"] || items.iter().all(|i| pair(i)) {
                    Ok(())
                } else {
                    Err(format!(
                        "Invalid value {value} for configuration {}: {} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
                        self.name, self.name
                    ))
                }
            }
            _ => Ok(()),
        }
    }
}

/// Where a topic's value of a key comes from (DescribeConfigs' `config_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Topic = 1,
    DynamicBroker = 2,
    DynamicDefaultBroker = 3,
    StaticBroker = 4,
    Default = 5,
}

impl Source {
    fn from_code(code: i8) -> Source {
        match code {
            1 => Source::Topic,
            2 => Source::DynamicBroker,
            3 => Source::DynamicDefaultBroker,
            4 => Source::StaticBroker,
            _ => Source::Default,
        }
    }
}

/// The broker-level synonyms of topic key `def`, nearest first, as DescribeConfigs lists
/// them after the topic's own override: the key's first broker synonym and its units through
/// every layer of broker configs.
pub fn broker_synonyms(config: &Config, def: &Def) -> Vec<crate::broker_config::Synonym> {
    if def.broker_key.is_empty() {
        return Vec::new();
    }
    crate::broker_config::key_synonyms(config, def.broker_key)
}

/// The value in force for `def` given a topic's overrides and the broker's settings, and
/// where it comes from: Kafka names the source of the nearest synonym, even where the value
/// derives from a coarser unit that the synonyms do not list.
pub fn effective(
    config: &Config,
    overrides: Option<&BTreeMap<String, String>>,
    def: &Def,
) -> (String, Source) {
    if let Some(v) = overrides.and_then(|o| o.get(def.name)) {
        return (v.clone(), Source::Topic);
    }
    let value = broker_value(config, def).unwrap_or_else(|| def.default.to_string());
    let source = broker_synonyms(config, def).first().map_or(Source::Default as i8, |s| s.2);
    (value, Source::from_code(source))
}

/// The value in force for `def` and its source as Kafka's controller reports them in a
/// CreateTopics answer (`KafkaConfigSchema.resolveEffectiveTopicConfigs`): the first layer
/// (this node's dynamic configs, the cluster's, `server.properties`) that sets any unit of
/// the synonym key names the source. DescribeConfigs differs: a coarser unit set on its own
/// is not a synonym there, and the source is Kafka's default.
pub fn created(
    config: &Config,
    overrides: Option<&BTreeMap<String, String>>,
    def: &Def,
) -> (String, Source) {
    let (value, source) = effective(config, overrides, def);
    if source != Source::Default || def.broker_key.is_empty() {
        return (value, source);
    }
    let units = match crate::broker_config::synonyms(def.broker_key) {
        [] => std::slice::from_ref(&def.broker_key),
        group => group,
    };
    let any = |has: &dyn Fn(&str) -> bool| units.iter().any(|k| has(k));
    let source = if any(&|k| config.dynamic_broker.contains_key(k)) {
        Source::DynamicBroker
    } else if any(&|k| config.dynamic_default.contains_key(k)) {
        Source::DynamicDefaultBroker
    } else if any(&|k| crate::properties::get(&config.static_given, k).is_some()) {
        Source::StaticBroker
    } else {
        Source::Default
    };
    (value, source)
}

/// The broker's own setting of `def`'s synonym key, when `server.properties` gives one.
pub fn broker_value(config: &Config, def: &Def) -> Option<String> {
    // retention.ms and segment.ms derive from whichever unit the broker was given, the finest
    // winning (log.retention.ms, .minutes, .hours; log.roll.ms, .hours), in milliseconds.
    let (units, derived): (&[&str], i64) = match def.name {
        "retention.ms" => (
            &["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
            config.log_retention_ms,
        ),
        "segment.ms" => (&["log.roll.ms", "log.roll.hours"], config.log_roll_ms),
        "segment.jitter.ms" => {
            (&["log.roll.jitter.ms", "log.roll.jitter.hours"], config.log_roll_jitter_ms)
        }
        // Kafka's log.flush.interval.ms falls back to log.flush.scheduler.interval.ms.
        "flush.ms" => (
            &["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
            config.log_flush_interval_ms,
        ),
        _ => (&[], 0),
    };
    if units.iter().any(|k| config.is_given(k)) {
        return Some(derived.to_string());
    }
    if def.broker_key.is_empty() || !config.is_given(def.broker_key) {
        return None;
    }
    crate::properties::get(&config.given, def.broker_key).map(str::to_string)
}

/// A topic's effective configuration, parsed, for the log layer. Values that fail to parse
/// (a metadata log written by something that did not validate) fall back to Kafka's default.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicConfig {
    /// `cleanup.policy` contains `delete`.
    pub cleanup_delete: bool,
    /// `cleanup.policy` contains `compact`.
    pub cleanup_compact: bool,
    /// `retention.ms`: -1 keeps everything.
    pub retention_ms: i64,
    /// `retention.bytes`: -1 (any negative) keeps everything.
    pub retention_bytes: i64,
    /// `segment.bytes`: roll to a new segment past this size.
    pub segment_bytes: u64,
    /// `segment.ms`: roll a segment this old.
    pub segment_ms: i64,
    /// `max.message.bytes`: the largest record batch a produce may append.
    pub max_message_bytes: usize,
    /// `message.timestamp.type` is `LogAppendTime`.
    pub log_append_time: bool,
    /// `message.timestamp.before.max.ms`.
    pub timestamp_before_max_ms: i64,
    /// `message.timestamp.after.max.ms`.
    pub timestamp_after_max_ms: i64,
    /// `file.delete.delay.ms`: how long a deleted segment's files are kept.
    pub file_delete_delay_ms: i64,
    /// `compression.type` as a codec id; `None` for `producer`.
    pub compression: Option<i16>,
    /// `compression.<codec>.level` of that codec; `None` for the codec's default.
    pub compression_level: Option<i32>,
    /// `delete.retention.ms`, `min.compaction.lag.ms`, `max.compaction.lag.ms` and
    /// `min.cleanable.dirty.ratio`: the log cleaner's rules.
    pub delete_retention_ms: i64,
    pub min_compaction_lag_ms: i64,
    pub max_compaction_lag_ms: i64,
    pub min_cleanable_ratio: f64,
    /// `index.interval.bytes` and `segment.index.bytes`: Kafka's index files.
    pub index_interval_bytes: u64,
    pub segment_index_bytes: u64,
    /// `flush.messages`: sync once this many messages are unsynced.
    pub flush_messages: i64,
    /// `flush.ms`: sync a log last synced this long ago.
    pub flush_ms: i64,
    /// `segment.jitter.ms`: the most a segment's roll comes before segment.ms.
    pub segment_jitter_ms: i64,
}

impl TopicConfig {
    pub fn resolve(config: &Config, overrides: Option<&BTreeMap<String, String>>) -> TopicConfig {
        let get = |name: &str| {
            let d = lookup(name).expect("a known topic key");
            let (v, _) = effective(config, overrides, d);
            if d.validate(&v).is_ok() {
                v
            } else {
                log::warn!("topic config {name}={v} is not valid here; using {}", d.default);
                d.default.to_string()
            }
        };
        let long = |name: &str| get(name).trim().parse::<i64>().unwrap_or(0);
        let policy = get("cleanup.policy");
        use crate::records::compression as c;
        let compression = match get("compression.type").trim() {
            "uncompressed" => Some(c::NONE),
            "gzip" => Some(c::GZIP),
            "snappy" => Some(c::SNAPPY),
            "lz4" => Some(c::LZ4),
            "zstd" => Some(c::ZSTD),
            _ => None,
        };
        let level_key = match compression {
            Some(c::GZIP) => "compression.gzip.level",
            Some(c::LZ4) => "compression.lz4.level",
            Some(c::ZSTD) => "compression.zstd.level",
            _ => "",
        };
        let compression_level = Some(level_key)
            .filter(|k| !k.is_empty())
            .and_then(|k| get(k).trim().parse::<i32>().ok())
            .filter(|&l| l != -1);
        let items = list_items(&policy);
        TopicConfig {
            cleanup_delete: items.contains(&"delete"),
            cleanup_compact: items.contains(&"compact"),
            retention_ms: long("retention.ms"),
            retention_bytes: long("retention.bytes"),
            segment_bytes: long("segment.bytes").max(1) as u64,
            segment_ms: long("segment.ms"),
            max_message_bytes: long("max.message.bytes").max(0) as usize,
            log_append_time: get("message.timestamp.type").trim() == "LogAppendTime",
            timestamp_before_max_ms: long("message.timestamp.before.max.ms"),
            timestamp_after_max_ms: long("message.timestamp.after.max.ms"),
            file_delete_delay_ms: long("file.delete.delay.ms"),
            compression,
            compression_level,
            delete_retention_ms: long("delete.retention.ms"),
            min_compaction_lag_ms: long("min.compaction.lag.ms"),
            max_compaction_lag_ms: long("max.compaction.lag.ms"),
            min_cleanable_ratio: get("min.cleanable.dirty.ratio").trim().parse().unwrap_or(0.5),
            index_interval_bytes: long("index.interval.bytes").max(0) as u64,
            segment_index_bytes: long("segment.index.bytes").max(4) as u64,
            flush_messages: long("flush.messages"),
            flush_ms: long("flush.ms"),
            segment_jitter_ms: long("segment.jitter.ms"),
        }
    }

    /// These values as the log layer's rules.
    pub fn log_config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            max_message_bytes: self.max_message_bytes,
            segment_ms: self.segment_ms,
            retention_ms: self.retention_ms,
            retention_bytes: self.retention_bytes,
            delete: self.cleanup_delete,
            compact: self.cleanup_compact,
            delete_retention_ms: self.delete_retention_ms,
            min_compaction_lag_ms: self.min_compaction_lag_ms,
            max_compaction_lag_ms: self.max_compaction_lag_ms,
            min_cleanable_ratio: self.min_cleanable_ratio,
            index_interval_bytes: self.index_interval_bytes,
            segment_index_bytes: self.segment_index_bytes,
            log_append_time: self.log_append_time,
            timestamp_before_max_ms: self.timestamp_before_max_ms,
            timestamp_after_max_ms: self.timestamp_after_max_ms,
            compression: self.compression,
            compression_level: self.compression_level,
            flush_messages: self.flush_messages,
            flush_ms: self.flush_ms,
            segment_jitter_ms: self.segment_jitter_ms,
            file_delete_delay_ms: self.file_delete_delay_ms,
        }
    }
}

/// The rules a topic's partition logs are kept by: the broker's `log.*` settings
/// ([`Config::log_config`], which reads retention and roll times in whichever unit was given),
/// with the topic's own overrides on top.
pub fn log_config(config: &Config, overrides: Option<&BTreeMap<String, String>>) -> LogConfig {
    let base = config.log_config();
    let Some(over) = overrides.filter(|o| !o.is_empty()) else { return base };
    let t = TopicConfig::resolve(config, Some(over));
    let given = |k: &str| over.contains_key(k);
    LogConfig {
        segment_bytes: if given("segment.bytes") { t.segment_bytes } else { base.segment_bytes },
        max_message_bytes: if given("max.message.bytes") {
            t.max_message_bytes
        } else {
            base.max_message_bytes
        },
        segment_ms: if given("segment.ms") { t.segment_ms } else { base.segment_ms },
        retention_ms: if given("retention.ms") { t.retention_ms } else { base.retention_ms },
        retention_bytes: if given("retention.bytes") {
            t.retention_bytes
        } else {
            base.retention_bytes
        },
        delete: if given("cleanup.policy") { t.cleanup_delete } else { base.delete },
        compact: if given("cleanup.policy") { t.cleanup_compact } else { base.compact },
        ..t.log_config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let p: Vec<(std::string::String, std::string::String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_pairs(&p).unwrap()
    }

    #[test]
    fn values_are_checked_as_kafka_checks_them() {
        let v = |k: &str, v: &str| lookup(k).unwrap().validate(v);
        assert_eq!(v("segment.bytes", "2000000"), Ok(()));
        assert_eq!(
            v("segment.bytes", "1000"),
            Err("Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576"
                .into())
        );
        assert_eq!(
            v("segment.bytes", "abc"),
            Err("Invalid value abc for configuration segment.bytes: Not a number of type INT"
                .into())
        );
        assert!(v("segment.bytes", "3000000000").is_err()); // beyond an INT
        assert_eq!(v("retention.ms", "-1"), Ok(()));
        assert!(v("retention.ms", "-2").is_err());
        assert_eq!(v("cleanup.policy", "compact,delete"), Ok(()));
        assert_eq!(v("cleanup.policy", ""), Ok(()));
        assert!(v("cleanup.policy", "compact,shred").is_err());
        assert!(v("compression.type", "brotli").is_err());
        assert_eq!(v("compression.type", "zstd"), Ok(()));
        assert!(v("message.timestamp.type", "Now").is_err());
        assert!(v("preallocate", "yes").is_err());
        assert_eq!(v("preallocate", "TRUE"), Ok(()));
        assert!(v("min.cleanable.dirty.ratio", "1.5").is_err());
        assert_eq!(v("compression.gzip.level", "-1"), Ok(()));
        assert!(v("compression.gzip.level", "10").is_err());
        assert_eq!(v("leader.replication.throttled.replicas", "0:1,1:1"), Ok(()));
        assert_eq!(v("leader.replication.throttled.replicas", "*"), Ok(()));
        assert!(v("leader.replication.throttled.replicas", "x").is_err());
        assert!(TOPIC_CONFIGS.windows(2).all(|w| w[0].name < w[1].name));
        for d in TOPIC_CONFIGS {
            assert_eq!(d.validate(d.default), Ok(()), "{}", d.name);
        }
    }

    #[test]
    fn override_then_broker_setting_then_default() {
        let c = config(&[("log.segment.bytes", "2097152")]);
        let mut o = BTreeMap::new();
        let t = TopicConfig::resolve(&c, Some(&o));
        assert_eq!((t.segment_bytes, t.max_message_bytes), (2097152, 1048588));
        assert!(t.cleanup_delete && !t.cleanup_compact);
        o.insert("segment.bytes".into(), "3145728".into());
        o.insert("cleanup.policy".into(), "compact".into());
        o.insert("max.message.bytes".into(), "nonsense".into());
        let t = TopicConfig::resolve(&c, Some(&o));
        assert_eq!((t.segment_bytes, t.max_message_bytes), (3145728, 1048588));
        assert!(!t.cleanup_delete && t.cleanup_compact);
        let d = lookup("segment.bytes").unwrap();
        assert_eq!(effective(&c, None, d), ("2097152".to_string(), Source::StaticBroker));
        assert_eq!(effective(&c, Some(&o), d), ("3145728".to_string(), Source::Topic));
    }
}
