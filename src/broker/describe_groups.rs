//! DescribeGroups: state, protocol and members; member metadata and assignments only once
//! the group is Stable, as Kafka shows them. Unknown groups are described as Dead before v6,
//! and GROUP_ID_NOT_FOUND from v6.

use super::{Broker, HandlerResult, Reply};
use crate::groups::GroupState;
use crate::protocol::codec::Reader;
use crate::protocol::describe_groups::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeGroupsRequest::decode(r, version)?;
    let ops = |id: &str| {
        if req.include_authorized_operations {
            b.authorized_operations(resource::GROUP, id)
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        }
    };
    let groups = req
        .groups
        .iter()
        .map(|id| match b.groups.groups.get(*id).filter(|g| g.consumer.is_none()) {
            // Kafka's `DescribeGroupsResponse.groupError`: nothing about the group shown.
            _ if !b.authorized(op::DESCRIBE, resource::GROUP, id) => DescribedGroup {
                error_code: error::GROUP_AUTHORIZATION_FAILED,
                error_message: None,
                group_id: id,
                group_state: "",
                protocol_type: "",
                protocol_data: "",
                members: vec![],
                authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            },
            None => DescribedGroup {
                error_code: match () {
                    _ if id.is_empty() => error::INVALID_GROUP_ID,
                    _ if version >= 6 => error::GROUP_ID_NOT_FOUND,
                    _ => error::NONE,
                },
                error_message: (version >= 6 && !id.is_empty()).then(|| {
                    // Kafka's `classicGroup` lookup: a KIP-848 group is no classic group.
                    if b.groups.groups.get(*id).is_some_and(|g| g.consumer.is_some()) {
                        format!("Group {id} is not a classic group.")
                    } else {
                        format!("Group {id} not found.")
                    }
                }),
                group_id: id,
                group_state: "Dead",
                protocol_type: "",
                protocol_data: "",
                members: vec![],
                // Kafka fills the operations in only for answers without an error.
                authorized_operations: if version >= 6 || id.is_empty() {
                    AUTHORIZED_OPERATIONS_OMITTED
                } else {
                    ops(id)
                },
            },
            Some(g) => {
                let stable = g.state == GroupState::Stable;
                let protocol = g.protocol_name.as_deref().unwrap_or("");
                DescribedGroup {
                    error_code: error::NONE,
                    error_message: None,
                    group_id: &g.group_id,
                    group_state: g.state.name(),
                    protocol_type: g.protocol_type.as_deref().unwrap_or(""),
                    protocol_data: if stable { protocol } else { "" },
                    members: g
                        .members
                        .values()
                        .map(|m| DescribedGroupMember {
                            member_id: &m.member_id,
                            group_instance_id: m.group_instance_id.as_deref(),
                            client_id: &m.client_id,
                            client_host: &m.client_host,
                            member_metadata: if stable {
                                m.protocols
                                    .iter()
                                    .find(|(n, _)| n == protocol)
                                    .map_or(&[], |(_, md)| md)
                            } else {
                                &[]
                            },
                            member_assignment: if stable { &m.assignment } else { &[] },
                        })
                        .collect(),
                    authorized_operations: ops(&g.group_id),
                }
            }
        })
        .collect();
    // Kafka answers the denied groups first, then the coordinator's answers.
    let mut groups: Vec<DescribedGroup<'_>> = groups;
    groups.sort_by_key(|g| g.error_code != error::GROUP_AUTHORIZATION_FAILED);
    DescribeGroupsResponse { throttle_time_ms: 0, groups }.encode(version, out);
    Ok(Reply::Sent)
}
