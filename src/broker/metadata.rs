//! Metadata: this node as the only broker and controller, and the topics asked for (all of
//! them for a null list). Unknown topics are created when both `auto.create.topics.enable` and
//! the request allow it, and answered at once: creation here is synchronous.

use super::{Broker, HandlerResult, Reply, ALL_TOPIC_OPERATIONS};
use crate::metadata::{validate_topic_name, TopicMeta};
use crate::protocol::codec::{Reader, ZERO_UUID};
use crate::protocol::error;
use crate::protocol::metadata::*;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = MetadataRequest::decode(r, version)?;
    let auto_create = b.config.auto_create_topics_enable && req.allow_auto_topic_creation;
    let mut create_errors = Vec::new();
    for name in req.topics.iter().flatten().filter_map(|t| t.name) {
        if !b.authorized(op::DESCRIBE, resource::TOPIC, name) {
            continue;
        }
        if auto_create && b.meta.topic(name).is_none() {
            // Kafka creates for a principal with CREATE on the cluster or on the topic.
            if !b.cluster_authorized(op::CREATE) && !b.authorized(op::CREATE, resource::TOPIC, name)
            {
                create_errors.push((name, error::TOPIC_AUTHORIZATION_FAILED));
                continue;
            }
            if let Err((code, msg)) = b.create_topic(name, b.config.num_partitions) {
                log::info!("auto-creating topic {name:?} refused: {msg}");
                create_errors.push((name, code));
            }
        }
    }
    let node = b.config.node_id;
    let ops = |t: &TopicMeta| {
        if !req.include_topic_authorized_operations {
            i32::MIN
        } else if !b.authorizer.enabled {
            ALL_TOPIC_OPERATIONS
        } else {
            b.topic_operations(&t.name)
        }
    };
    let may_describe = |name: &str| b.authorized(op::DESCRIBE, resource::TOPIC, name);
    let topics = match &req.topics {
        None => b
            .meta
            .topics()
            .filter(|t| may_describe(&t.name))
            .map(|t| describe(t, node, ops(t)))
            .collect(),
        Some(list) => list
            .iter()
            .map(|t| match (t.name, t.name.and_then(|n| b.meta.topic(n))) {
                (Some(name), _) if !may_describe(name) => {
                    missing(Some(name), ZERO_UUID, error::TOPIC_AUTHORIZATION_FAILED)
                }
                (_, Some(meta)) => describe(meta, node, ops(meta)),
                (Some(name), None) => {
                    let code = match create_errors.iter().find(|(n, _)| *n == name) {
                        Some((_, c)) => *c,
                        // An illegal name is reported as such whether or not it could be created.
                        None if validate_topic_name(name).is_err() => {
                            error::INVALID_TOPIC_EXCEPTION
                        }
                        None => error::UNKNOWN_TOPIC_OR_PARTITION,
                    };
                    missing(Some(name), ZERO_UUID, code)
                }
                (None, None) => match b.meta.topic_by_id(&t.topic_id) {
                    Some(meta) if !may_describe(&meta.name) => {
                        missing(None, t.topic_id, error::TOPIC_AUTHORIZATION_FAILED)
                    }
                    Some(meta) => describe(meta, node, ops(meta)),
                    None => missing(None, t.topic_id, error::UNKNOWN_TOPIC_ID),
                },
            })
            .collect(),
    };
    MetadataResponse {
        throttle_time_ms: 0,
        brokers: vec![MetadataResponseBroker {
            node_id: node,
            host: b.advertised().0,
            port: i32::from(b.advertised().1),
            rack: None,
        }],
        cluster_id: Some(&b.cluster_id),
        controller_id: node,
        topics,
    }
    .encode(version, out);
    Ok(Reply::Sent)
}

fn describe(t: &TopicMeta, node: i32, operations: i32) -> MetadataResponseTopic<'_> {
    MetadataResponseTopic {
        error_code: error::NONE,
        name: Some(&t.name),
        topic_id: t.topic_id,
        is_internal: t.name.starts_with("__"),
        partitions: t
            .partitions
            .iter()
            .map(|p| MetadataResponsePartition {
                error_code: error::NONE,
                partition_index: p.partition_id,
                leader_id: node,
                leader_epoch: p.leader_epoch,
                replica_nodes: vec![node],
                isr_nodes: vec![node],
                offline_replicas: vec![],
            })
            .collect(),
        topic_authorized_operations: operations,
    }
}

fn missing(name: Option<&str>, topic_id: [u8; 16], error_code: i16) -> MetadataResponseTopic<'_> {
    MetadataResponseTopic {
        error_code,
        name,
        topic_id,
        is_internal: false,
        partitions: vec![],
        topic_authorized_operations: i32::MIN,
    }
}
