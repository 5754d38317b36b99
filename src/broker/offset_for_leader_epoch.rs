//! OffsetForLeaderEpoch for consumers (replica_id -1) and anyone else alike: the end offset
//! of the requested epoch from the leader epoch cache (`Partition.lastOffsetForLeaderEpoch`),
//! after the caller's current epoch is checked against the partition's.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::offset_for_leader_epoch::*;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = OffsetForLeaderEpochRequest::decode(r, version)?;
    let mut topics = Vec::with_capacity(req.topics.len());
    // Kafka: CLUSTER_ACTION (a follower) covers every topic, else DESCRIBE on each; the
    // denied topics are answered after the others.
    let replica = b.cluster_authorized(op::CLUSTER_ACTION);
    let mut denied = Vec::new();
    for t in &req.topics {
        let allowed = replica || b.authorized(op::DESCRIBE, resource::TOPIC, t.topic);
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            let mut resp = EpochEndOffset {
                error_code: error::NONE,
                partition: p.partition,
                leader_epoch: -1,
                end_offset: -1,
            };
            match b.logs.find(t.topic, p.partition) {
                _ if !allowed => resp.error_code = error::TOPIC_AUTHORIZATION_FAILED,
                None => resp.error_code = error::UNKNOWN_TOPIC_OR_PARTITION,
                Some(id) => {
                    let log = b.logs.get(id);
                    let current = log.leader_epoch();
                    // -1: the caller does not know the epoch, and is not checked.
                    if p.current_leader_epoch >= 0 && p.current_leader_epoch < current {
                        resp.error_code = error::FENCED_LEADER_EPOCH;
                    } else if p.current_leader_epoch > current {
                        resp.error_code = error::UNKNOWN_LEADER_EPOCH;
                    } else {
                        (resp.leader_epoch, resp.end_offset) =
                            log.end_offset_for_epoch(p.leader_epoch);
                    }
                }
            }
            partitions.push(resp);
        }
        let result = OffsetForLeaderTopicResult { topic: t.topic, partitions };
        if allowed {
            topics.push(result);
        } else {
            denied.push(result);
        }
    }
    topics.extend(denied);
    OffsetForLeaderEpochResponse { throttle_time_ms: 0, topics }.encode(version, out);
    Ok(Reply::Sent)
}
