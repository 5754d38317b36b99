//! Creates topics through the metadata log, one result per topic. A single node can hold one
//! replica: replication factor 1 or -1 (the default), and manual assignments must name only
//! this node. Topic configs are checked as Kafka checks them and kept as ConfigRecords beside
//! the topic's records. `validate_only` checks everything and creates nothing.

use std::collections::BTreeMap;

use super::alter_configs::validate_topic_configs;
use super::describe_configs::topic_config_values;
use super::{Broker, HandlerResult, Reply};
use crate::metadata::validate_topic_name;
use crate::protocol::codec::{Reader, ZERO_UUID};
use crate::protocol::create_topics::*;
use crate::protocol::error;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = CreateTopicsRequest::decode(r, version)?;
    let mut topics = Vec::with_capacity(req.topics.len());
    for (i, t) in req.topics.iter().enumerate() {
        let partitions = match (t.num_partitions, t.assignments.len()) {
            (-1, 0) => b.config.num_partitions,
            (-1, n) => n as i32,
            (n, _) => n,
        };
        let mut result = CreatableTopicResult {
            name: t.name,
            topic_id: ZERO_UUID,
            error_code: error::NONE,
            error_message: None,
            num_partitions: partitions,
            replication_factor: 1,
            configs: Vec::new(),
        };
        // Kafka creates for a principal with CREATE on the cluster or on the topic.
        let allowed = b.cluster_authorized(acl::op::CREATE)
            || b.authorized(acl::op::CREATE, acl::resource::TOPIC, t.name);
        let checked = if allowed {
            check(b, t, partitions, &req.topics[..i])
        } else {
            Err((error::TOPIC_AUTHORIZATION_FAILED, "Authorization failed.".to_string()))
        };
        let configs = match checked.and_then(|()| configs(t)) {
            Ok(c) => c,
            Err((code, msg)) => {
                (result.error_code, result.error_message) = (code, Some(msg));
                (result.num_partitions, result.replication_factor) = (-1, -1);
                topics.push(result);
                continue;
            }
        };
        if req.validate_only {
            // Kafka names the topic it would have created with a fresh id.
            result.topic_id = crate::uuid::random();
            result.configs = topic_config_values(&b.config, Some(&configs));
        } else {
            let pairs: Vec<(&str, &str)> =
                configs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            match b.create_topic_with_configs(t.name, partitions, &pairs) {
                Ok(id) => {
                    result.topic_id = id;
                    result.configs = topic_config_values(&b.config, Some(&configs));
                }
                Err((code, msg)) => {
                    (result.error_code, result.error_message) = (code, Some(msg));
                    (result.num_partitions, result.replication_factor) = (-1, -1);
                }
            }
        }
        topics.push(result);
    }
    CreateTopicsResponse { throttle_time_ms: 0, topics }.encode(version, out);
    Ok(Reply::Sent)
}

/// The topic's configs, checked as Kafka's controller checks them.
fn configs(t: &CreatableTopic<'_>) -> Result<BTreeMap<String, String>, (i16, String)> {
    let mut out = BTreeMap::new();
    let mut nulls = Vec::new();
    for (k, v) in &t.configs {
        match v {
            Some(v) => {
                out.insert(k.to_string(), v.to_string());
            }
            None => nulls.push(*k),
        }
    }
    if !nulls.is_empty() {
        return Err((
            error::INVALID_CONFIG,
            format!("Null value not supported for topic configs: {}", nulls.join(",")),
        ));
    }
    validate_topic_configs(&out)?;
    Ok(out)
}

fn check(
    b: &Broker,
    t: &CreatableTopic,
    partitions: i32,
    earlier: &[CreatableTopic],
) -> Result<(), (i16, String)> {
    if earlier.iter().any(|e| e.name == t.name) {
        return Err((error::INVALID_REQUEST, format!("Duplicate topic name {}", t.name)));
    }
    validate_topic_name(t.name).map_err(|m| (error::INVALID_TOPIC_EXCEPTION, m))?;
    if b.meta.topic(t.name).is_some() {
        return Err((error::TOPIC_ALREADY_EXISTS, format!("Topic '{}' already exists.", t.name)));
    }
    if !t.assignments.is_empty() && t.num_partitions != -1 {
        return Err((
            error::INVALID_REQUEST,
            "Both numPartitions or replicationFactor and replicasAssignments were set.".into(),
        ));
    }
    if partitions <= 0 {
        return Err((
            error::INVALID_PARTITIONS,
            "Number of partitions was set to an invalid non-positive value.".into(),
        ));
    }
    if t.replication_factor != 1 && t.replication_factor != -1 {
        return Err((
            error::INVALID_REPLICATION_FACTOR,
            format!(
                "Unable to replicate the partition {} time(s): The target replication factor of {} cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.",
                t.replication_factor, t.replication_factor
            ),
        ));
    }
    let node = b.config.node_id;
    for (p, (index, brokers)) in t.assignments.iter().enumerate() {
        if *index != p as i32 || brokers.as_slice() != [node] {
            return Err((
                error::INVALID_REPLICA_ASSIGNMENT,
                format!("Partition {index} must be assigned to broker {node} alone, in order."),
            ));
        }
    }
    Ok(())
}
