//! Topic and broker configurations, as admin tools ask for them. Topics run on the broker's
//! settings (no per-topic overrides are kept), so a topic's config is Kafka's default, or the
//! broker key it derives from when that was set (reported as its synonym).

use super::{Broker, HandlerResult, Reply};
use crate::config::{Config, KEYS};
use crate::protocol::codec::Reader;
use crate::protocol::describe_configs::*;
use crate::protocol::error;

/// (topic key, default, broker key it derives from or "" for none, type): every topic config
/// Apache Kafka 4.4 reports, in its order.
pub const TOPIC_CONFIGS: &[(&str, &str, &str, i8)] = &[
    ("cleanup.policy", "delete", "log.cleanup.policy", TYPE_LIST),
    ("compression.gzip.level", "-1", "compression.gzip.level", TYPE_INT),
    ("compression.lz4.level", "9", "compression.lz4.level", TYPE_INT),
    ("compression.type", "producer", "compression.type", TYPE_STRING),
    ("compression.zstd.level", "3", "compression.zstd.level", TYPE_INT),
    ("delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms", TYPE_LONG),
    ("errors.deadletterqueue.group.enable", "false", "", TYPE_BOOLEAN),
    ("file.delete.delay.ms", "60000", "log.segment.delete.delay.ms", TYPE_LONG),
    ("flush.messages", "9223372036854775807", "log.flush.interval.messages", TYPE_LONG),
    ("flush.ms", "9223372036854775807", "log.flush.interval.ms", TYPE_LONG),
    ("follower.replication.throttled.replicas", "", "", TYPE_LIST),
    ("index.interval.bytes", "4096", "log.index.interval.bytes", TYPE_INT),
    ("leader.replication.throttled.replicas", "", "", TYPE_LIST),
    ("local.retention.bytes", "-2", "log.local.retention.bytes", TYPE_LONG),
    ("local.retention.ms", "-2", "log.local.retention.ms", TYPE_LONG),
    (
        "max.compaction.lag.ms",
        "9223372036854775807",
        "log.cleaner.max.compaction.lag.ms",
        TYPE_LONG,
    ),
    ("max.decompressed.message.bytes", "2147483639", "", TYPE_INT),
    ("max.message.bytes", "1048588", "message.max.bytes", TYPE_INT),
    ("message.timestamp.after.max.ms", "3600000", "log.message.timestamp.after.max.ms", TYPE_LONG),
    (
        "message.timestamp.before.max.ms",
        "9223372036854775807",
        "log.message.timestamp.before.max.ms",
        TYPE_LONG,
    ),
    ("message.timestamp.type", "CreateTime", "log.message.timestamp.type", TYPE_STRING),
    ("min.cleanable.dirty.ratio", "0.5", "log.cleaner.min.cleanable.ratio", TYPE_DOUBLE),
    ("min.compaction.lag.ms", "0", "log.cleaner.min.compaction.lag.ms", TYPE_LONG),
    ("min.insync.replicas", "1", "min.insync.replicas", TYPE_INT),
    ("preallocate", "false", "log.preallocate", TYPE_BOOLEAN),
    ("remote.copy.lag.bytes", "-1", "", TYPE_LONG),
    ("remote.copy.lag.ms", "0", "", TYPE_LONG),
    ("remote.log.copy.disable", "false", "", TYPE_BOOLEAN),
    ("remote.log.delete.on.disable", "false", "", TYPE_BOOLEAN),
    ("remote.storage.enable", "false", "", TYPE_BOOLEAN),
    ("retention.bytes", "-1", "log.retention.bytes", TYPE_LONG),
    ("retention.ms", "604800000", "log.retention.ms", TYPE_LONG),
    ("segment.bytes", "1073741824", "log.segment.bytes", TYPE_INT),
    ("segment.index.bytes", "10485760", "log.index.size.max.bytes", TYPE_INT),
    ("segment.jitter.ms", "0", "log.roll.jitter.ms", TYPE_LONG),
    ("segment.ms", "604800000", "log.roll.ms", TYPE_LONG),
    ("unclean.leader.election.enable", "false", "unclean.leader.election.enable", TYPE_BOOLEAN),
];

/// A topic's configs as CreateTopics (v5+) reports them: (name, value, source).
pub fn topic_config_values(config: &Config) -> Vec<(&'static str, String, i8)> {
    TOPIC_CONFIGS
        .iter()
        .map(|c| {
            let r = topic_config(config, *c, false);
            (r.name, r.value.unwrap_or_default(), r.config_source)
        })
        .collect()
}

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeConfigsRequest::decode(r, version)?;
    let node = b.config.node_id.to_string();
    let results = req
        .resources
        .iter()
        .map(|res| {
            let wanted = |k: &str| res.configuration_keys.as_ref().is_none_or(|ks| ks.contains(&k));
            let mut result = DescribeConfigsResult {
                error_code: error::NONE,
                // Kafka sends an empty message, not a null one, with and without an error.
                error_message: Some(String::new()),
                resource_type: res.resource_type,
                resource_name: res.resource_name,
                configs: vec![],
            };
            match res.resource_type {
                RESOURCE_TOPIC if b.meta.topic(res.resource_name).is_some() => {
                    result.configs = TOPIC_CONFIGS
                        .iter()
                        .filter(|c| wanted(c.0))
                        .map(|c| topic_config(&b.config, *c, req.include_synonyms))
                        .collect();
                }
                RESOURCE_TOPIC => {
                    result.error_code = error::UNKNOWN_TOPIC_OR_PARTITION;
                }
                RESOURCE_BROKER if res.resource_name.is_empty() || res.resource_name == node => {
                    result.configs = KEYS
                        .iter()
                        .filter(|(k, _)| wanted(k))
                        .map(|(k, _)| broker_config(&b.config, k, req.include_synonyms))
                        .collect();
                }
                _ => {
                    result.error_code = error::INVALID_REQUEST;
                    result.error_message = Some(format!(
                        "Unsupported resource type {} or name {:?}",
                        res.resource_type, res.resource_name
                    ));
                }
            }
            result
        })
        .collect();
    DescribeConfigsResponse { throttle_time_ms: 0, results }.encode(version, out);
    Ok(Reply::Sent)
}

fn topic_config(
    config: &Config,
    (name, default, broker_key, config_type): (&'static str, &str, &'static str, i8),
    include_synonyms: bool,
) -> DescribeConfigsResourceResult {
    // retention.ms and segment.ms derive from whichever unit the broker was given, the finest
    // winning (log.retention.ms, .minutes, .hours; log.roll.ms, .hours).
    let (units, derived): (&[&'static str], i64) = match name {
        "retention.ms" => (
            &["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
            config.log_retention_ms,
        ),
        "segment.ms" => (&["log.roll.ms", "log.roll.hours"], config.log_roll_ms),
        _ => (&[], 0),
    };
    let (broker_key, from_broker) = match units.iter().find(|k| config.is_given(k)) {
        Some(&k) => (k, Some(derived.to_string())),
        None => (
            broker_key,
            (!broker_key.is_empty() && config.is_given(broker_key))
                .then(|| config.value(broker_key))
                .flatten(),
        ),
    };
    let (value, source) = match &from_broker {
        Some(v) => (v.clone(), SOURCE_STATIC_BROKER_CONFIG),
        None => (default.to_string(), SOURCE_DEFAULT_CONFIG),
    };
    let mut synonyms = Vec::new();
    if include_synonyms && !broker_key.is_empty() {
        if from_broker.is_some() {
            // The synonym shows what the broker was given, in its own unit.
            synonyms.push((broker_key, config.value(broker_key), SOURCE_STATIC_BROKER_CONFIG));
        }
        synonyms.push((broker_key, Some(default.to_string()), SOURCE_DEFAULT_CONFIG));
    }
    DescribeConfigsResourceResult {
        name,
        value: Some(value),
        read_only: false,
        config_source: source,
        is_sensitive: false,
        synonyms,
        config_type,
    }
}

fn broker_config(
    config: &Config,
    key: &'static str,
    include_synonyms: bool,
) -> DescribeConfigsResourceResult {
    let source =
        if config.is_given(key) { SOURCE_STATIC_BROKER_CONFIG } else { SOURCE_DEFAULT_CONFIG };
    // Keys without a default (log.retention.ms, log.roll.ms) are null until given, as in Kafka.
    let value = config.value(key).filter(|v| !v.is_empty() || config.is_given(key));
    let numeric = value.as_deref().is_some_and(|v| !v.is_empty() && v.parse::<i64>().is_ok());
    DescribeConfigsResourceResult {
        name: key,
        synonyms: if include_synonyms { vec![(key, value.clone(), source)] } else { vec![] },
        value,
        // Static broker configs cannot change while the broker runs.
        read_only: true,
        config_source: source,
        is_sensitive: false,
        config_type: if numeric { TYPE_LONG } else { TYPE_STRING },
    }
}
