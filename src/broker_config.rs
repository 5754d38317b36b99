//! Dynamic broker configs, as Kafka's `DynamicBrokerConfig` defines them: the broker keys
//! that may change while the broker runs, for the whole cluster (BROKER resource "") or for
//! one node (resource "<node.id>"), recorded as ConfigRecords in the metadata log.
//!
//! The keys accepted are the log defaults that topic configs fall back to (Kafka's
//! `DynamicLogConfig`: the first broker synonym of every topic key). Kafka allows others
//! (thread pools, listeners, SSL, quotas) that this broker has nothing to apply to.
//!
//! DescribeConfigs names where a value comes from with Kafka's synonym lists: every layer
//! (this node's dynamic configs, the cluster's, `server.properties`, Kafka's defaults) in
//! that order, each listing the key and its unit synonyms (`log.retention.ms`, `.minutes`,
//! `.hours`).

use std::collections::BTreeMap;

use crate::config::{Config, KEYS};
use crate::protocol::describe_configs::{
    SOURCE_DEFAULT_CONFIG, SOURCE_DYNAMIC_BROKER_CONFIG, SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG,
    SOURCE_STATIC_BROKER_CONFIG,
};
use crate::topic_config::{Check, Def, Kind, TOPIC_CONFIGS};

/// ConfigRecord's resource type of a broker.
pub const RESOURCE_BROKER: i8 = 4;

/// The keys Kafka treats as one setting in different units, finest first
/// (`DynamicBrokerConfig.brokerConfigSynonyms`); any other key is its own only synonym.
const UNIT_SYNONYMS: &[&[&str]] = &[
    &["log.roll.ms", "log.roll.hours"],
    &["log.roll.jitter.ms", "log.roll.jitter.hours"],
    &["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
    &["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
];

/// The broker keys that name one setting with `key` (itself included), in precedence order;
/// empty when `key` has no unit synonyms.
pub fn synonyms(key: &str) -> &'static [&'static str] {
    UNIT_SYNONYMS.iter().find(|g| g.contains(&key)).copied().unwrap_or(&[])
}

/// Kafka's defaults of the unit keys that are not in [`KEYS`] nor derived from a topic key.
const UNIT_DEFAULTS: &[(&str, &str)] =
    &[("log.roll.jitter.hours", "0"), ("log.flush.scheduler.interval.ms", "9223372036854775807")];

/// Broker keys whose Kafka definition has no default and no validator: unset, a coarser
/// unit decides.
const NULL_DEFAULTS: &[&str] =
    &["log.roll.ms", "log.roll.jitter.ms", "log.retention.ms", "log.flush.interval.ms"];

/// The definition of dynamic broker key `name`: the topic key it is the first synonym of,
/// renamed, with Kafka's broker default and validator.
pub fn dynamic_def(name: &str) -> Option<Def> {
    let topic = TOPIC_CONFIGS.iter().find(|d| d.broker_key == name)?;
    let mut def = Def { name: topic.broker_key, broker_key: "", ..*topic };
    if NULL_DEFAULTS.contains(&name) {
        def.check = Check::Any;
        def.default = "";
    }
    Some(def)
}

/// Keys this broker gives a default of its own to start with, where Kafka has none.
const NO_KAFKA_DEFAULT: &[&str] = &["log.dirs"];

/// Kafka's default of broker key `key`, when it has one.
pub fn static_default(key: &str) -> Option<&'static str> {
    if NO_KAFKA_DEFAULT.contains(&key) {
        return None;
    }
    let known = KEYS.iter().chain(UNIT_DEFAULTS).find(|(k, _)| *k == key).map(|(_, v)| *v);
    known.or_else(|| dynamic_def(key).map(|d| d.default)).filter(|v| !v.is_empty())
}

/// Every broker key DescribeConfigs reports: those this broker reads, then the dynamic ones
/// it does not otherwise read, without repeats.
pub fn described_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = KEYS.iter().map(|(k, _)| *k).collect();
    for d in TOPIC_CONFIGS {
        if !d.broker_key.is_empty() && !keys.contains(&d.broker_key) {
            keys.push(d.broker_key);
        }
    }
    keys
}

/// Kafka's `ConfigDef` types of the broker keys this broker reads that are not dynamic; the
/// others are strings.
const KEY_TYPES: &[(&str, Kind)] = &[
    ("log.dirs", Kind::List),
    ("node.id", Kind::Int),
    ("socket.request.max.bytes", Kind::Int),
    ("log.roll.hours", Kind::Int),
    ("log.roll.jitter.hours", Kind::Int),
    ("log.retention.minutes", Kind::Int),
    ("log.retention.hours", Kind::Int),
    ("log.retention.check.interval.ms", Kind::Long),
    ("log.initial.task.delay.ms", Kind::Long),
    ("log.flush.scheduler.interval.ms", Kind::Long),
    ("log.flush.offset.checkpoint.interval.ms", Kind::Int),
    ("auto.create.topics.enable", Kind::Boolean),
    ("num.partitions", Kind::Int),
    ("fetch.max.bytes", Kind::Int),
    ("group.initial.rebalance.delay.ms", Kind::Int),
    ("group.min.session.timeout.ms", Kind::Int),
    ("group.max.session.timeout.ms", Kind::Int),
    ("group.consumer.heartbeat.interval.ms", Kind::Int),
    ("group.consumer.session.timeout.ms", Kind::Int),
    ("group.consumer.max.size", Kind::Int),
    ("group.consumer.assignment.interval.ms", Kind::Int),
    ("group.consumer.assignors", Kind::List),
    ("offsets.topic.num.partitions", Kind::Int),
    ("transaction.max.timeout.ms", Kind::Int),
    ("transaction.state.log.num.partitions", Kind::Int),
    ("transaction.state.log.segment.bytes", Kind::Int),
    ("transaction.abort.timed.out.transaction.cleanup.interval.ms", Kind::Int),
    ("transactional.id.expiration.ms", Kind::Int),
    ("transaction.remove.expired.transaction.cleanup.interval.ms", Kind::Int),
];

/// DescribeConfigs' `config_type` of broker key `key`.
pub fn key_type(key: &str) -> Kind {
    match dynamic_def(key) {
        Some(d) => d.kind,
        None => KEY_TYPES.iter().find(|(k, _)| *k == key).map_or(Kind::String, |(_, t)| *t),
    }
}

/// One entry of a synonym list: (key, value, source).
pub type Synonym = (&'static str, Option<String>, i8);

/// Kafka's `configSynonyms`: the layers in precedence order, each with `names` in order,
/// then everything before the first entry for `key` dropped (a coarser unit set on its own
/// does not stand for the finer key).
pub fn layered(config: &Config, names: &[&'static str], key: &str) -> Vec<Synonym> {
    let mut out: Vec<Synonym> = Vec::new();
    let statics = |k: &str| crate::properties::get(&config.static_given, k).map(str::to_string);
    for n in names {
        if let Some(v) = config.dynamic_broker.get(*n) {
            out.push((n, Some(v.clone()), SOURCE_DYNAMIC_BROKER_CONFIG));
        }
    }
    for n in names {
        if let Some(v) = config.dynamic_default.get(*n) {
            out.push((n, Some(v.clone()), SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG));
        }
    }
    for n in names {
        if let Some(v) = statics(n) {
            out.push((n, Some(v), SOURCE_STATIC_BROKER_CONFIG));
        }
    }
    for n in names {
        if let Some(v) = static_default(n) {
            out.push((n, Some(v.to_string()), SOURCE_DEFAULT_CONFIG));
        }
    }
    match out.iter().position(|(n, _, _)| *n == key) {
        Some(i) => out.split_off(i),
        None => Vec::new(),
    }
}

/// The synonym list of broker key `key`: its unit group (or itself) through every layer.
pub fn key_synonyms(config: &Config, key: &'static str) -> Vec<Synonym> {
    match synonyms(key) {
        [] => layered(config, &[key], key),
        group => layered(config, group, key),
    }
}

/// The dynamic configs the metadata log holds for this node and for the cluster, with what
/// Kafka's `fromPersistentProps` would ignore (keys that are not dynamic here, values that do
/// not parse) left out with a log line.
pub fn recorded(meta: &crate::metadata::Cache, name: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in meta.resource_configs(RESOURCE_BROKER, name).into_iter().flatten() {
        match dynamic_def(k).map(|d| d.validate(v)) {
            Some(Ok(())) => {
                out.insert(k.clone(), v.clone());
            }
            Some(Err(e)) => log::warn!("dynamic broker config ignored: {e}"),
            None => log::warn!("dynamic broker config {k} ignored: not dynamic here"),
        }
    }
    out
}

/// `static_config` with the dynamic configs recorded in `meta` over it; the static one alone
/// (and a log line) when they cannot be combined.
pub fn in_force(static_config: &Config, meta: &crate::metadata::Cache) -> Config {
    let default = recorded(meta, "");
    let node = recorded(meta, &static_config.node_id.to_string());
    if default.is_empty() && node.is_empty() {
        return static_config.clone();
    }
    static_config.with_dynamic(&default, &node).unwrap_or_else(|e| {
        log::error!("dynamic broker configs could not be applied: {e}");
        static_config.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let p: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_pairs(&p).unwrap()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn dynamic_keys_are_the_first_broker_synonyms_of_topic_keys() {
        assert_eq!(dynamic_def("log.segment.bytes").unwrap().kind, Kind::Int);
        assert!(dynamic_def("log.segment.bytes").unwrap().validate("1000").is_err());
        assert_eq!(dynamic_def("log.retention.ms").unwrap().validate("-5"), Ok(()));
        assert!(dynamic_def("log.retention.hours").is_none(), "a coarser unit is static");
        assert!(dynamic_def("log.dirs").is_none());
        assert_eq!(static_default("log.retention.ms"), None);
        assert_eq!(static_default("log.retention.hours"), Some("168"));
        assert_eq!(static_default("log.cleaner.delete.retention.ms"), Some("86400000"));
    }

    #[test]
    fn layers_stack_and_displace_coarser_units() {
        let c = config(&[("log.retention.hours", "2"), ("message.max.bytes", "5000")]);
        let c = c
            .with_dynamic(
                &map(&[("log.retention.ms", "60000"), ("log.cleanup.policy", "compact")]),
                &map(&[("message.max.bytes", "7000")]),
            )
            .unwrap();
        assert_eq!((c.log_retention_ms, c.message_max_bytes), (60000, 7000));
        assert!(!c.log_config().delete, "the cluster's cleanup policy");
        let syn = key_synonyms(&c, "log.retention.ms");
        let names: Vec<(&str, i8)> = syn.iter().map(|s| (s.0, s.2)).collect();
        assert_eq!(
            names,
            [
                ("log.retention.ms", SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG),
                ("log.retention.hours", SOURCE_STATIC_BROKER_CONFIG),
                ("log.retention.hours", SOURCE_DEFAULT_CONFIG)
            ]
        );
        let mmb: Vec<i8> = key_synonyms(&c, "message.max.bytes").iter().map(|s| s.2).collect();
        assert_eq!(
            mmb,
            [SOURCE_DYNAMIC_BROKER_CONFIG, SOURCE_STATIC_BROKER_CONFIG, SOURCE_DEFAULT_CONFIG]
        );
        // A coarser unit alone is not a synonym of the finer key.
        let s = config(&[("log.retention.minutes", "90")]);
        assert!(key_synonyms(&s, "log.retention.ms").is_empty());
        assert_eq!(key_synonyms(&s, "log.retention.minutes")[0].1.as_deref(), Some("90"));
        // Values the static parser refuses are refused as a whole.
        assert!(s.with_dynamic(&map(&[("log.roll.ms", "0")]), &BTreeMap::new()).is_err());
    }
}
