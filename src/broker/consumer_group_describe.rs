//! ConsumerGroupDescribe: the members, epochs and assignments of KIP-848 groups.

use super::{Broker, HandlerResult, Reply};
use crate::groups::consumer::{flatten, Partitions};
use crate::protocol::codec::Reader;
use crate::protocol::consumer_group_describe::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ConsumerGroupDescribeRequest::decode(r, version)?;
    let names: std::collections::BTreeMap<_, _> =
        b.meta.topics().map(|t| (t.topic_id, t.name.clone())).collect();
    let described = |p: &Partitions| -> Vec<DescribedTopicPartitions> {
        flatten(p)
            .into_iter()
            .map(|(topic_id, partitions)| DescribedTopicPartitions {
                topic_id,
                topic_name: names.get(&topic_id).cloned().unwrap_or_default(),
                partitions,
            })
            .collect()
    };
    let groups = req
        .group_ids
        .iter()
        .map(|&id| {
            let failed = |code: i16, message: Option<String>| DescribedGroup {
                error_code: code,
                error_message: message,
                group_id: id.to_string(),
                authorized_operations: i32::MIN,
                ..Default::default()
            };
            if !b.consumer_protocol_enabled() {
                return failed(error::UNSUPPORTED_VERSION, None);
            }
            if !b.authorized(op::DESCRIBE, resource::GROUP, id) {
                return failed(error::GROUP_AUTHORIZATION_FAILED, None);
            }
            if id.is_empty() {
                return failed(error::INVALID_GROUP_ID, None);
            }
            let c = match b.groups.groups.get(id) {
                None => {
                    return failed(
                        error::GROUP_ID_NOT_FOUND,
                        Some(format!("Group {id} not found.")),
                    )
                }
                Some(g) => match &g.consumer {
                    None => {
                        return failed(
                            error::GROUP_ID_NOT_FOUND,
                            Some(format!("Group {id} is not a consumer group.")),
                        )
                    }
                    Some(c) => c,
                },
            };
            DescribedGroup {
                error_code: error::NONE,
                error_message: None,
                group_id: id.to_string(),
                group_state: c.state_name().to_string(),
                group_epoch: c.group_epoch,
                assignment_epoch: c.target_assignment_epoch,
                assignor_name: if c.assignor.is_empty() {
                    b.groups.consumer_config.assignors[0].clone()
                } else {
                    c.assignor.clone()
                },
                members: c
                    .members
                    .values()
                    .map(|m| DescribedMember {
                        member_id: m.member_id.clone(),
                        instance_id: m.instance_id.clone(),
                        rack_id: m.rack_id.clone(),
                        member_epoch: m.member_epoch,
                        client_id: m.client_id.clone(),
                        client_host: m.client_host.clone(),
                        subscribed_topic_names: m.subscribed_topic_names.clone(),
                        subscribed_topic_regex: m.subscribed_topic_regex.clone(),
                        assignment: described(&m.assigned),
                        target_assignment: described(
                            &c.target_assignment.get(&m.member_id).cloned().unwrap_or_default(),
                        ),
                        member_type: 1,
                    })
                    .collect(),
                authorized_operations: if req.include_authorized_operations {
                    b.authorized_operations(resource::GROUP, id)
                } else {
                    i32::MIN
                },
            }
        })
        .collect();
    ConsumerGroupDescribeResponse { throttle_time_ms: 0, groups }.encode(version, out);
    Ok(Reply::Sent)
}
