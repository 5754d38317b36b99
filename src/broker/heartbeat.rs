//! Heartbeat: keeps a member's session alive and tells it when to rejoin.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::heartbeat::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = HeartbeatRequest::decode(r, version)?;
    let error_code = if !b.authorized(acl::op::READ, acl::resource::GROUP, req.group_id) {
        crate::protocol::error::GROUP_AUTHORIZATION_FAILED
    } else {
        b.groups.heartbeat(
            req.group_id,
            req.generation_id,
            req.member_id,
            req.group_instance_id,
            std::time::Instant::now(),
        )
    };
    HeartbeatResponse { throttle_time_ms: 0, error_code }.encode(version, out);
    Ok(Reply::Sent)
}
