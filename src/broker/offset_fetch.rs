//! OffsetFetch: a group's committed offsets; -1 for partitions without one. A null topic list
//! asks for every partition the group has committed.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::offset_fetch::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = OffsetFetchRequest::decode(r, version)?;
    let groups = req
        .groups
        .iter()
        .map(|g| {
            if !b.authorized(acl::op::DESCRIBE, acl::resource::GROUP, g.group_id) {
                return OffsetFetchResponseGroup {
                    group_id: g.group_id,
                    topics: vec![],
                    error_code: error::GROUP_AUTHORIZATION_FAILED,
                };
            }
            // v9: a member of a consumer group fetches at its current member epoch.
            let consumer = b.groups.groups.get(g.group_id).and_then(|grp| grp.consumer.as_ref());
            if let (Some(c), Some(member_id)) = (consumer, g.member_id) {
                let code = c.check_member_epoch(member_id, g.member_epoch);
                if code != error::NONE {
                    return OffsetFetchResponseGroup {
                        group_id: g.group_id,
                        topics: vec![],
                        error_code: code,
                    };
                }
            }
            let describable = |t: &str| b.authorized(acl::op::DESCRIBE, acl::resource::TOPIC, t);
            let committed = b.groups.groups.get(g.group_id).map(|grp| &grp.offsets);
            let topics = match &g.topics {
                Some(topics) => topics
                    .iter()
                    .map(|t| OffsetFetchResponseTopic {
                        name: t.name,
                        partitions: t
                            .partition_indexes
                            .iter()
                            .map(|&p| {
                                if !describable(t.name) {
                                    return OffsetFetchResponsePartition {
                                        partition_index: p,
                                        committed_offset: -1,
                                        committed_leader_epoch: -1,
                                        metadata: Some(""),
                                        error_code: error::TOPIC_AUTHORIZATION_FAILED,
                                    };
                                }
                                let c = committed.and_then(|o| o.get(&(t.name.to_string(), p)));
                                if req.require_stable
                                    && b.txn.has_pending_offset(g.group_id, t.name, p)
                                {
                                    // A transaction holds a newer offset: the client retries.
                                    return OffsetFetchResponsePartition {
                                        partition_index: p,
                                        committed_offset: -1,
                                        committed_leader_epoch: -1,
                                        metadata: Some(""),
                                        error_code: error::UNSTABLE_OFFSET_COMMIT,
                                    };
                                }
                                OffsetFetchResponsePartition {
                                    partition_index: p,
                                    committed_offset: c.map_or(-1, |c| c.offset),
                                    committed_leader_epoch: c.map_or(-1, |c| c.leader_epoch),
                                    metadata: Some(c.map_or("", |c| c.metadata.as_str())),
                                    error_code: error::NONE,
                                }
                            })
                            .collect(),
                    })
                    .collect(),
                None => {
                    let mut topics: Vec<OffsetFetchResponseTopic> = Vec::new();
                    // Topics the principal may not describe are left out.
                    let visible =
                        committed.into_iter().flatten().filter(|((t, _), _)| describable(t));
                    for ((topic, p), c) in visible {
                        let part = OffsetFetchResponsePartition {
                            partition_index: *p,
                            committed_offset: c.offset,
                            committed_leader_epoch: c.leader_epoch,
                            metadata: Some(&c.metadata),
                            error_code: error::NONE,
                        };
                        match topics.last_mut() {
                            Some(t) if t.name == topic => t.partitions.push(part),
                            _ => topics.push(OffsetFetchResponseTopic {
                                name: topic,
                                partitions: vec![part],
                            }),
                        }
                    }
                    topics
                }
            };
            OffsetFetchResponseGroup {
                group_id: g.group_id,
                topics,
                error_code: if g.group_id.is_empty() {
                    error::INVALID_GROUP_ID
                } else {
                    error::NONE
                },
            }
        })
        .collect();
    OffsetFetchResponse { throttle_time_ms: 0, groups }.encode(version, out);
    Ok(Reply::Sent)
}
