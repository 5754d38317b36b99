//! Topic and broker configurations, as admin tools ask for them. A topic's config is its
//! override (TOPIC_CONFIG), else the broker key it derives from when that was set
//! (STATIC_BROKER_CONFIG), else Kafka's default; synonyms list them nearest first.

use std::collections::BTreeMap;

use super::{Broker, HandlerResult, Reply};
use crate::config::{Config, KEYS};
use crate::protocol::codec::Reader;
use crate::protocol::describe_configs::*;
use crate::protocol::error;
use crate::topic_config::{self, Def, TOPIC_CONFIGS};

/// A topic's configs as CreateTopics (v5+) reports them: (name, value, source), every key
/// with the topic's given `overrides` (none for a fresh topic without configs).
pub fn topic_config_values(
    config: &Config,
    overrides: Option<&BTreeMap<String, String>>,
) -> Vec<(&'static str, String, i8)> {
    TOPIC_CONFIGS
        .iter()
        .map(|d| {
            let (value, source) = topic_config::effective(config, overrides, d);
            (d.name, value, source as i8)
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
                    let overrides = b.meta.topic_configs(res.resource_name);
                    result.configs = TOPIC_CONFIGS
                        .iter()
                        .filter(|d| wanted(d.name))
                        .map(|d| topic_config(&b.config, overrides, d, req.include_synonyms))
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
    overrides: Option<&BTreeMap<String, String>>,
    d: &Def,
    include_synonyms: bool,
) -> DescribeConfigsResourceResult {
    let (value, source) = topic_config::effective(config, overrides, d);
    // Kafka lists where the value could come from, nearest first: the topic's override, the
    // broker's setting of its synonym key, the default of that key.
    let mut synonyms = Vec::new();
    if include_synonyms {
        if let Some(v) = overrides.and_then(|o| o.get(d.name)) {
            synonyms.push((d.name, Some(v.clone()), SOURCE_TOPIC_CONFIG));
        }
        if let Some((key, v)) = topic_config::broker_synonym(config, d) {
            synonyms.push((key, Some(v), SOURCE_STATIC_BROKER_CONFIG));
        }
        if let Some((key, default)) = topic_config::default_synonym(d) {
            synonyms.push((key, Some(default.to_string()), SOURCE_DEFAULT_CONFIG));
        }
    }
    DescribeConfigsResourceResult {
        name: d.name,
        value: Some(value),
        read_only: false,
        config_source: source as i8,
        is_sensitive: false,
        synonyms,
        config_type: d.kind as i8,
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
