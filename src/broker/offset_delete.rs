//! Deletes a group's committed offsets for some partitions, in Kafka's two steps: the broker
//! (`KafkaApis.handleOffsetDeleteRequest`) answers unknown topics and partitions, then the
//! coordinator (`OffsetMetadataManager.deleteOffsets`) answers the rest, refusing topics the
//! group's members subscribe to and writing a tombstone for each offset it deletes. A
//! group-level error replaces the whole answer, as Kafka's response builder does.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::offset_delete::*;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = OffsetDeleteRequest::decode(r, version)?;
    let refuse = |code: i16, out: &mut Vec<u8>| {
        OffsetDeleteResponse { error_code: code, throttle_time_ms: 0, topics: Vec::new() }
            .encode(version, out);
        Ok(Reply::Sent)
    };
    // Kafka: DELETE on the group first, then READ on each topic.
    if !b.authorized(op::DELETE, resource::GROUP, req.group_id) {
        return refuse(error::GROUP_AUTHORIZATION_FAILED, out);
    }
    let code = b.groups.check_offset_delete(req.group_id);
    if code != error::NONE {
        return refuse(code, out);
    }
    // The broker's step: unknown topics and partitions, in the request's order.
    let mut topics: Vec<(&str, Vec<(i32, i16)>)> = Vec::new();
    let mut valid: Vec<(&str, Vec<i32>)> = Vec::new();
    for t in &req.topics {
        if !b.authorized(op::READ, resource::TOPIC, t.name) {
            let denied = t.partitions.iter().map(|&p| (p, error::TOPIC_AUTHORIZATION_FAILED));
            topics.push((t.name, denied.collect()));
            continue;
        }
        let meta = b.meta.topic(t.name);
        let mut unknown = Vec::new();
        let mut known = Vec::new();
        for &p in &t.partitions {
            match meta.and_then(|m| m.partition(p)) {
                Some(_) => known.push(p),
                None => unknown.push((p, error::UNKNOWN_TOPIC_OR_PARTITION)),
            }
        }
        if !unknown.is_empty() {
            topics.push((t.name, unknown));
        }
        if !known.is_empty() {
            valid.push((t.name, known));
        }
    }
    // The coordinator's step, merged after: a topic already answered gets the rest of its
    // partitions appended.
    let group = &b.groups.groups[req.group_id];
    let subscribed = group.subscribed_topics().unwrap_or_default();
    let mut tombstones: Vec<(String, i32)> = Vec::new();
    for (name, partitions) in valid {
        let answered: Vec<(i32, i16)> = if subscribed.contains(name) {
            partitions.iter().map(|&p| (p, error::GROUP_SUBSCRIBED_TO_TOPIC)).collect()
        } else {
            for &p in &partitions {
                let key = (name.to_string(), p);
                if group.offsets.contains_key(&key) && !tombstones.contains(&key) {
                    tombstones.push(key);
                }
            }
            partitions.iter().map(|&p| (p, error::NONE)).collect()
        };
        match topics.iter_mut().find(|(n, _)| *n == name) {
            Some((_, ps)) => ps.extend(answered),
            None => topics.push((name, answered)),
        }
    }
    let code = b.write_offset_tombstones(req.group_id, &tombstones, false);
    if code != error::NONE {
        return refuse(code, out);
    }
    if !tombstones.is_empty() {
        log::info!("group {:?}: deleted {} committed offsets", req.group_id, tombstones.len());
    }
    OffsetDeleteResponse { error_code: error::NONE, throttle_time_ms: 0, topics }
        .encode(version, out);
    Ok(Reply::Sent)
}
