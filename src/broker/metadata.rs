//! Metadata: this node as the only broker and controller, and the topics asked for (all of
//! them for a null list). Unknown topics are created when both `auto.create.topics.enable` and
//! the request allow it, and answered at once: creation here is synchronous.

use super::{Broker, HandlerResult, Reply, ALL_TOPIC_OPERATIONS};
use crate::metadata::{validate_topic_name, TopicMeta};
use crate::protocol::codec::{Reader, ZERO_UUID};
use crate::protocol::error;
use crate::protocol::metadata::*;

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
        if auto_create && b.meta.topic(name).is_none() {
            if let Err((code, msg)) = b.create_topic(name, b.config.num_partitions) {
                log::info!("auto-creating topic {name:?} refused: {msg}");
                create_errors.push((name, code));
            }
        }
    }
    let node = b.config.node_id;
    let ops = req.include_topic_authorized_operations;
    let topics = match &req.topics {
        None => b.meta.topics().map(|t| describe(t, node, ops)).collect(),
        Some(list) => list
            .iter()
            .map(|t| match (t.name, t.name.and_then(|n| b.meta.topic(n))) {
                (_, Some(meta)) => describe(meta, node, ops),
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
                    Some(meta) => describe(meta, node, ops),
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

fn describe(t: &TopicMeta, node: i32, include_ops: bool) -> MetadataResponseTopic<'_> {
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
        topic_authorized_operations: if include_ops { ALL_TOPIC_OPERATIONS } else { i32::MIN },
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
