//! AlterConfigs and IncrementalAlterConfigs: topic config overrides, checked as Kafka's
//! controller checks them and recorded as ConfigRecords in the metadata log (a null value
//! deletes one). AlterConfigs replaces a topic's whole set of overrides; the incremental form
//! sets, deletes, appends to or subtracts from single keys.
//!
//! Broker resources (dynamic broker configs) are in [`super::broker_configs`].

use std::collections::BTreeMap;

use super::{Broker, HandlerResult, Reply};
use crate::protocol::alter_configs::*;
use crate::protocol::codec::Reader;
use crate::protocol::describe_configs::{RESOURCE_BROKER, RESOURCE_TOPIC};
use crate::protocol::error;
use crate::security::acl::op;
use crate::topic_config::{self, Def, Kind};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    incremental: bool,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = AlterConfigsRequest::decode(r, version, incremental)?;
    // Kafka's controller answers the denied resources first, with the error's default
    // message, then the others.
    let denied = |b: &Broker, res: &AlterConfigsResource<'_>| {
        b.config_resource_denied(op::ALTER_CONFIGS, res.resource_type, res.resource_name)
    };
    let mut responses: Vec<_> = req
        .resources
        .iter()
        .filter_map(|res| {
            let code = denied(b, res)?;
            Some(AlterConfigsResourceResponse {
                error_code: code,
                error_message: Some(super::acls::denial_message(code).to_string()),
                resource_type: res.resource_type,
                resource_name: res.resource_name,
            })
        })
        .collect();
    // Collected first: altering needs the broker mutably.
    let allowed: Vec<_> = req.resources.iter().filter(|res| denied(b, res).is_none()).collect();
    responses.extend(allowed.into_iter().map(|res| {
        let outcome = match res.resource_type {
            RESOURCE_TOPIC => alter_topic(b, res, incremental, req.validate_only),
            RESOURCE_BROKER => super::broker_configs::alter(b, res, incremental, req.validate_only),
            t => Err((error::INVALID_REQUEST, format!("Unknown resource type {t}"))),
        };
        let (error_code, error_message) = match outcome {
            Ok(()) => (error::NONE, None),
            Err((code, msg)) => {
                log::debug!("altering configs of {:?}: {msg}", res.resource_name);
                (code, Some(msg))
            }
        };
        AlterConfigsResourceResponse {
            error_code,
            error_message,
            resource_type: res.resource_type,
            resource_name: res.resource_name,
        }
    }));
    AlterConfigsResponse { throttle_time_ms: 0, responses }.encode(version, incremental, out);
    Ok(Reply::Sent)
}

pub(super) type Failure = (i16, String);

fn alter_topic(
    b: &mut Broker,
    res: &AlterConfigsResource<'_>,
    incremental: bool,
    validate_only: bool,
) -> Result<(), Failure> {
    let name = res.resource_name;
    let old = b.meta.topic_configs(name).cloned().unwrap_or_default();
    let new = if incremental {
        apply_ops(&old, &res.configs, &|n| topic_config::lookup(n).copied())?
    } else {
        let mut nulls = Vec::new();
        let mut new = BTreeMap::new();
        for c in &res.configs {
            match c.value {
                Some(v) => {
                    new.insert(c.name.to_string(), v.to_string());
                }
                None => nulls.push(c.name),
            }
        }
        if !nulls.is_empty() {
            return Err((
                error::INVALID_CONFIG,
                format!("Null value not supported for topic configs: {}", nulls.join(",")),
            ));
        }
        new
    };
    if b.meta.topic(name).is_none() {
        return Err((
            error::UNKNOWN_TOPIC_OR_PARTITION,
            format!("The topic '{name}' does not exist."),
        ));
    }
    validate_topic_configs(&new)?;
    if validate_only {
        return Ok(());
    }
    let changes = config_changes(&old, &new);
    b.set_topic_configs(name, &changes)
}

/// A topic's overrides after IncrementalAlterConfigs' operations, as Kafka's controller
/// computes them (`ConfigurationControlManager`).
pub(super) fn apply_ops(
    old: &BTreeMap<String, String>,
    ops: &[AlterableConfig<'_>],
    lookup: &dyn Fn(&str) -> Option<Def>,
) -> Result<BTreeMap<String, String>, Failure> {
    let mut new = old.clone();
    for op in ops {
        match op.op {
            OP_SET => match op.value {
                Some(v) => {
                    new.insert(op.name.to_string(), v.to_string());
                }
                None => {
                    new.remove(op.name);
                }
            },
            OP_DELETE => {
                new.remove(op.name);
            }
            OP_APPEND | OP_SUBTRACT => {
                let def = lookup(op.name).filter(|d| d.kind == Kind::List);
                let Some(def) = def else {
                    let verb = if op.op == OP_APPEND { "APPEND" } else { "SUBTRACT" };
                    return Err((
                        error::INVALID_CONFIG,
                        format!("Can't {verb} to key {} because its type is not LIST.", op.name),
                    ));
                };
                let current = new.get(op.name).map_or(def.default, String::as_str);
                let mut items: Vec<String> =
                    topic_config::list_items(current).into_iter().map(str::to_string).collect();
                for v in op.value.unwrap_or_default().split(',') {
                    if op.op == OP_APPEND {
                        if !items.iter().any(|i| i == v) {
                            items.push(v.to_string());
                        }
                    } else {
                        items.retain(|i| i != v);
                    }
                }
                new.insert(op.name.to_string(), items.join(","));
            }
            other => {
                return Err((
                    error::INVALID_REQUEST,
                    format!("Unknown alter config operation type {other}"),
                ));
            }
        }
    }
    Ok(new)
}

/// Checks a topic's overrides as Kafka's `LogConfig.validate` does: known keys, valid values,
/// and a compaction lag range that is not upside down.
pub fn validate_topic_configs<'a>(
    configs: impl IntoIterator<Item = (&'a String, &'a String)> + Clone,
) -> Result<(), Failure> {
    for (k, _) in configs.clone() {
        if topic_config::lookup(k).is_none() {
            return Err((error::INVALID_CONFIG, format!("Unknown topic config name: {k}")));
        }
    }
    let mut lags = (0i64, i64::MAX);
    for (k, v) in configs {
        let def = topic_config::lookup(k).expect("checked above");
        def.validate(v).map_err(|m| (error::INVALID_CONFIG, m))?;
        match k.as_str() {
            "min.compaction.lag.ms" => lags.0 = v.trim().parse().unwrap_or(0),
            "max.compaction.lag.ms" => lags.1 = v.trim().parse().unwrap_or(i64::MAX),
            _ => {}
        }
    }
    if lags.0 > lags.1 {
        return Err((
            error::INVALID_CONFIG,
            format!(
                "conflict topic config setting min.compaction.lag.ms ({}) > max.compaction.lag.ms ({})",
                lags.0, lags.1
            ),
        ));
    }
    Ok(())
}

/// The ConfigRecords that turn `old` into `new`: a value for each key set or changed, `None`
/// for each key removed.
pub(super) fn config_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>)> {
    let set = new.iter().filter(|(k, v)| old.get(*k) != Some(*v));
    let removed = old.keys().filter(|k| !new.contains_key(*k));
    set.map(|(k, v)| (k.clone(), Some(v.clone())))
        .chain(removed.map(|k| (k.clone(), None)))
        .collect()
}
