//! OffsetCommit: a member of the current generation, or anyone for a group without members
//! (generation -1, no member id: manual commits), stores offsets in `__consumer_offsets`.

use super::{Broker, HandlerResult, Reply};
use crate::groups::offsets::CommittedOffset;
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::offset_commit::*;
use crate::security::acl;

/// Kafka's `offset.metadata.max.bytes` default.
const OFFSET_METADATA_MAX_BYTES: usize = 4096;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = OffsetCommitRequest::decode(r, version)?;
    let now = std::time::Instant::now();
    let group_allowed = b.authorized(acl::op::READ, acl::resource::GROUP, req.group_id);
    let group_error = if !group_allowed {
        error::GROUP_AUTHORIZATION_FAILED
    } else {
        let code = b.groups.check_commit(
            req.group_id,
            req.generation_id_or_member_epoch,
            req.member_id,
            req.group_instance_id,
            now,
        );
        // Kafka's `ConsumerGroup.validateOffsetCommit`: a member of the consumer protocol
        // commits with v9+, whose field is its member epoch.
        let member = b
            .groups
            .groups
            .get(req.group_id)
            .and_then(|g| g.consumer.as_ref())
            .and_then(|c| c.members.get(req.member_id));
        if member.is_some() && version < 9 {
            error::UNSUPPORTED_VERSION
        } else {
            code
        }
    };
    let ts = crate::metadata::log::now_ms();
    let mut commits = Vec::new();
    // Per partition: the error found before writing, or None if it is to be written.
    let mut errors: Vec<Vec<Option<i16>>> = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let mut es = Vec::with_capacity(t.partitions.len());
        let readable = b.authorized(acl::op::READ, acl::resource::TOPIC, t.name);
        for p in &t.partitions {
            let meta = p.committed_metadata.unwrap_or("");
            // Kafka: the group's authorization, then each topic's, then the group's state.
            let e = if !group_allowed {
                Some(group_error)
            } else if !readable {
                Some(error::TOPIC_AUTHORIZATION_FAILED)
            } else if group_error != error::NONE
                && !(group_error == error::STALE_MEMBER_EPOCH
                    && committed_at_older_epoch(b, &req, t.name, p.partition_index))
            {
                Some(group_error)
            } else if b.logs.find(t.name, p.partition_index).is_none() {
                Some(error::UNKNOWN_TOPIC_OR_PARTITION)
            } else if meta.len() > OFFSET_METADATA_MAX_BYTES {
                Some(error::OFFSET_METADATA_TOO_LARGE)
            } else {
                commits.push((
                    t.name,
                    p.partition_index,
                    CommittedOffset {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: meta.to_string(),
                        commit_timestamp: ts,
                    },
                ));
                None
            };
            es.push(e);
        }
        errors.push(es);
    }
    let written = b.commit_offsets(req.group_id, &commits);
    let topics = req
        .topics
        .iter()
        .zip(errors)
        .map(|(t, es)| OffsetCommitResponseTopic {
            name: t.name,
            partitions: t
                .partitions
                .iter()
                .zip(es)
                .map(|(p, e)| OffsetCommitResponsePartition {
                    partition_index: p.partition_index,
                    error_code: e.unwrap_or(written),
                })
                .collect(),
        })
        .collect();
    OffsetCommitResponse { throttle_time_ms: 0, topics }.encode(version, out);
    Ok(Reply::Sent)
}

/// Kafka 4.4 takes a consumer protocol member's commit at an older epoch for the partitions
/// it was assigned at or before that epoch (so a commit racing a rebalance that kept the
/// partition is not lost).
fn committed_at_older_epoch(
    b: &Broker,
    req: &OffsetCommitRequest<'_>,
    topic: &str,
    p: i32,
) -> bool {
    let Some(id) = b.meta.topic(topic).map(|t| t.topic_id) else { return false };
    b.groups.groups.get(req.group_id).and_then(|g| g.consumer.as_ref()).is_some_and(|c| {
        c.commit_at_older_epoch(req.member_id, req.generation_id_or_member_epoch, &id, p)
    })
}
