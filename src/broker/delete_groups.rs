//! Deletes groups without members, as Kafka's group coordinator does
//! (`GroupCoordinatorShard.deleteGroups`): tombstones for every committed offset and for the
//! group itself in `__consumer_offsets`, so the group stays deleted after a restart.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::delete_groups::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DeleteGroupsRequest::decode(r, version)?;
    let mut results = Vec::with_capacity(req.groups_names.len());
    for &group_id in &req.groups_names {
        let mut code = if b.authorized(op::DELETE, resource::GROUP, group_id) {
            b.groups.check_delete(group_id)
        } else {
            error::GROUP_AUTHORIZATION_FAILED
        };
        let consumer = b.groups.groups.get(group_id).and_then(|g| g.consumer.as_ref());
        let tombstones = consumer.map(|c| c.tombstones()).unwrap_or_default();
        if code == error::NONE {
            code = b.write_consumer_group_records(group_id, &tombstones, true);
        }
        if code == error::NONE {
            let keys: Vec<(String, i32)> =
                b.groups.groups[group_id].offsets.keys().cloned().collect();
            code = b.write_offset_tombstones(group_id, &keys, true);
            if code == error::NONE {
                b.groups.remove_group(group_id);
                log::info!("deleted group {group_id:?} and its {} committed offsets", keys.len());
            }
        }
        results.push((group_id, code));
    }
    // Kafka answers the groups it may delete first, then the denied ones.
    results.sort_by_key(|&(_, code)| code == error::GROUP_AUTHORIZATION_FAILED);
    DeleteGroupsResponse { throttle_time_ms: 0, results }.encode(version, out);
    Ok(Reply::Sent)
}
