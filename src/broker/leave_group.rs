//! LeaveGroup: members leave at once (a rebalance follows) instead of timing out.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::leave_group::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = LeaveGroupRequest::decode(r, version)?;
    if !b.authorized(acl::op::READ, acl::resource::GROUP, req.group_id) {
        let error_code = crate::protocol::error::GROUP_AUTHORIZATION_FAILED;
        LeaveGroupResponse { throttle_time_ms: 0, error_code, members: vec![] }
            .encode(version, out);
        return Ok(Reply::Sent);
    }
    let ids: Vec<(String, Option<String>)> = req
        .members
        .iter()
        .map(|m| (m.member_id.to_string(), m.group_instance_id.map(str::to_string)))
        .collect();
    let (error_code, errors) = b.groups.leave(req.group_id, &ids, std::time::Instant::now());
    // Before v3 the one member's error is the response's.
    let error_code =
        if version < 3 { errors.first().copied().unwrap_or(error_code) } else { error_code };
    let members = req
        .members
        .iter()
        .zip(errors)
        .map(|(m, error_code)| MemberResponse {
            member_id: m.member_id,
            group_instance_id: m.group_instance_id,
            error_code,
        })
        .collect();
    LeaveGroupResponse { throttle_time_ms: 0, error_code, members }.encode(version, out);
    Ok(Reply::Sent)
}
