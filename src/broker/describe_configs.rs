//! Topic and broker configurations, as admin tools ask for them. A topic's config is its
//! override (TOPIC_CONFIG), else the broker key it derives from: this node's dynamic config
//! (DYNAMIC_BROKER_CONFIG), the cluster's (DYNAMIC_DEFAULT_BROKER_CONFIG), `server.properties`
//! (STATIC_BROKER_CONFIG), else Kafka's default; synonyms list them nearest first.

use std::collections::BTreeMap;

use super::{Broker, HandlerResult, Reply};
use crate::broker_config;
use crate::config::Config;
use crate::config_docs;
use crate::protocol::codec::Reader;
use crate::protocol::describe_configs::*;
use crate::protocol::error;
use crate::security::acl::op;
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
            let (value, source) = topic_config::created(config, overrides, d);
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
    let denied = |res: &DescribeConfigsResource<'_>| {
        b.config_resource_denied(op::DESCRIBE_CONFIGS, res.resource_type, res.resource_name)
    };
    // Kafka answers the authorized resources first, then the denied ones with the error's
    // default message.
    let refused = req.resources.iter().filter_map(|res| {
        let code = denied(res)?;
        Some(DescribeConfigsResult {
            error_code: code,
            error_message: Some(super::acls::denial_message(code).to_string()),
            resource_type: res.resource_type,
            resource_name: res.resource_name,
            configs: vec![],
        })
    });
    let results = req
        .resources
        .iter()
        .filter(|res| denied(res).is_none())
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
                        .map(|c| documented(c, req.include_documentation, topic_doc))
                        .collect();
                }
                RESOURCE_TOPIC => {
                    result.error_code = error::UNKNOWN_TOPIC_OR_PARTITION;
                }
                // The cluster's resource lists only the keys set at its level, as Kafka does.
                RESOURCE_BROKER if res.resource_name.is_empty() => {
                    result.configs = broker_config::described_keys()
                        .into_iter()
                        .filter(|k| b.config.dynamic_default.contains_key(*k) && wanted(k))
                        .map(|k| broker_entry(&b.config, k, false, req.include_synonyms))
                        .map(|c| documented(c, req.include_documentation, config_docs::broker))
                        .collect();
                }
                RESOURCE_BROKER if res.resource_name == node => {
                    result.configs = broker_config::described_keys()
                        .into_iter()
                        .filter(|k| wanted(k))
                        .map(|k| broker_entry(&b.config, k, true, req.include_synonyms))
                        .map(|c| documented(c, req.include_documentation, config_docs::broker))
                        .collect();
                }
                RESOURCE_BROKER => {
                    let name = res.resource_name;
                    result.error_code = error::INVALID_REQUEST;
                    result.error_message = Some(match name.parse::<i32>() {
                        Ok(_) => format!(
                            "Unexpected broker id, expected {node} or empty string, but received {name}"
                        ),
                        Err(_) => format!("Broker id must be an integer, but it is: {name}"),
                    });
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
        .chain(refused)
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
    // Kafka lists where the value could come from, nearest first: the topic's override, then
    // the broker synonyms of every layer.
    let mut synonyms = Vec::new();
    if include_synonyms {
        if let Some(v) = overrides.and_then(|o| o.get(d.name)) {
            synonyms.push((d.name, Some(v.clone()), SOURCE_TOPIC_CONFIG));
        }
        synonyms.extend(topic_config::broker_synonyms(config, d));
    }
    DescribeConfigsResourceResult {
        name: d.name,
        value: Some(value),
        read_only: false,
        config_source: source as i8,
        is_sensitive: false,
        synonyms,
        config_type: d.kind as i8,
        documentation: None,
    }
}

/// One broker key as Kafka's `createBrokerConfigEntry` reports it: the value in force, the
/// source of the nearest synonym (only the cluster layer's for the cluster resource), and
/// whether it can change while the broker runs.
fn broker_entry(
    config: &Config,
    key: &'static str,
    per_broker: bool,
    include_synonyms: bool,
) -> DescribeConfigsResourceResult {
    let mut all = broker_config::key_synonyms(config, key);
    if !per_broker {
        all.retain(|s| s.2 == SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG);
    }
    let source = all.first().map_or(SOURCE_DEFAULT_CONFIG, |s| s.2);
    let def = broker_config::dynamic_def(key);
    let value = if per_broker {
        // Keys without a default (log.retention.ms, log.roll.ms) are null until given.
        crate::properties::get(&config.given, key)
            .map(str::to_string)
            .or_else(|| broker_config::static_default(key).map(str::to_string))
    } else {
        config.dynamic_default.get(key).cloned()
    };
    DescribeConfigsResourceResult {
        name: key,
        value,
        read_only: def.is_none(),
        config_source: source,
        is_sensitive: false,
        synonyms: if include_synonyms { all } else { vec![] },
        config_type: broker_config::key_type(key) as i8,
        documentation: None,
    }
}

/// An entry with its documentation when the request asks for it (Kafka sends null otherwise).
fn documented(
    mut c: DescribeConfigsResourceResult,
    include: bool,
    doc: fn(&str) -> Option<String>,
) -> DescribeConfigsResourceResult {
    if include {
        c.documentation = doc(c.name);
    }
    c
}

fn topic_doc(name: &str) -> Option<String> {
    config_docs::topic(name).map(str::to_string)
}
