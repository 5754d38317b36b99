//! ListGroups: every group this coordinator knows, filtered by state (v4+) and type (v5+).

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::list_groups::*;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ListGroupsRequest::decode(r, version)?;
    // DESCRIBE on the cluster lists every group; otherwise only those the principal may
    // DESCRIBE, as Kafka.
    let all = b.cluster_authorized(op::DESCRIBE);
    let groups = b
        .groups
        .groups
        .values()
        .filter(|g| all || b.authorized(op::DESCRIBE, resource::GROUP, &g.group_id))
        .map(|g| ListedGroup {
            group_id: &g.group_id,
            protocol_type: if g.consumer.is_some() {
                "consumer"
            } else {
                g.protocol_type.as_deref().unwrap_or("")
            },
            group_state: g.consumer.as_ref().map_or(g.state.name(), |c| c.state_name()),
            group_type: g.group_type(),
        })
        .filter(|g| {
            req.states_filter.is_empty()
                || req.states_filter.iter().any(|s| s.eq_ignore_ascii_case(g.group_state))
        })
        .filter(|g| {
            req.types_filter.is_empty()
                || req.types_filter.iter().any(|t| t.eq_ignore_ascii_case(g.group_type))
        })
        .collect();
    ListGroupsResponse { throttle_time_ms: 0, error_code: error::NONE, groups }
        .encode(version, out);
    Ok(Reply::Sent)
}
