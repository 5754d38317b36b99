//! Topics sorted by name, partitions in index order, paged by `response_partition_limit`.
//! An empty topic list describes every topic, as Kafka does.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::{Reader, ZERO_UUID};
use crate::protocol::describe_topic_partitions::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

/// Kafka's cap on `response_partition_limit` (`max.request.partition.size.limit`).
const MAX_PARTITION_LIMIT: i32 = 2000;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeTopicPartitionsRequest::decode(r, version)?;
    let mut names: Vec<&str> = if req.topics.is_empty() {
        b.meta.topics().map(|t| t.name.as_str()).collect()
    } else {
        req.topics.clone()
    };
    names.sort_unstable();
    names.dedup();
    let (first, mut first_partition) = match &req.cursor {
        Some(c) => (c.topic_name, c.partition_index.max(0)),
        None => ("", 0),
    };
    // As Kafka: topics the principal may not DESCRIBE are left out of a listing of all, and
    // answered TOPIC_AUTHORIZATION_FAILED after the others when named (from the cursor's).
    let mut denied = Vec::new();
    names.retain(|n| {
        let allowed = b.authorized(op::DESCRIBE, resource::TOPIC, n);
        if !allowed && !req.topics.is_empty() && *n >= first {
            denied.push(ResponseTopic {
                error_code: error::TOPIC_AUTHORIZATION_FAILED,
                name: n,
                topic_id: ZERO_UUID,
                is_internal: false,
                partitions: vec![],
                topic_authorized_operations: i32::MIN,
            });
        }
        allowed
    });
    let mut budget = req.response_partition_limit.clamp(1, MAX_PARTITION_LIMIT);
    let node = b.config.node_id;
    let mut topics = Vec::new();
    let mut next_cursor = None;
    for name in names.into_iter().filter(|n| *n >= first) {
        if budget == 0 {
            next_cursor = Some((name, 0));
            break;
        }
        let start = if name == first { std::mem::take(&mut first_partition) } else { 0 };
        let Some(t) = b.meta.topic(name) else {
            topics.push(ResponseTopic {
                error_code: error::UNKNOWN_TOPIC_OR_PARTITION,
                name,
                topic_id: ZERO_UUID,
                is_internal: false,
                partitions: vec![],
                topic_authorized_operations: b.topic_operations(name),
            });
            continue;
        };
        let mut partitions = Vec::new();
        for p in t.partitions.iter().filter(|p| p.partition_id >= start) {
            if budget == 0 {
                next_cursor = Some((name, p.partition_id));
                break;
            }
            budget -= 1;
            partitions.push(ResponsePartition {
                error_code: error::NONE,
                partition_index: p.partition_id,
                leader_id: node,
                leader_epoch: p.leader_epoch,
                replica_nodes: vec![node],
                isr_nodes: vec![node],
                offline_replicas: vec![],
            });
        }
        topics.push(ResponseTopic {
            error_code: error::NONE,
            name,
            topic_id: t.topic_id,
            is_internal: false,
            partitions,
            topic_authorized_operations: b.topic_operations(name),
        });
        if next_cursor.is_some() {
            break;
        }
    }
    topics.extend(denied);
    DescribeTopicPartitionsResponse { throttle_time_ms: 0, topics, next_cursor }
        .encode(version, out);
    Ok(Reply::Sent)
}
