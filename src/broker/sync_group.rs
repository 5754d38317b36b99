//! SyncGroup: the leader's assignments are handed to every member; followers that ask first
//! are held until the leader's SyncGroup arrives.

use super::{Broker, HandlerResult, Reply};
use crate::groups::{Answer, SyncArgs, SyncResult};
use crate::protocol::codec::Reader;
use crate::protocol::sync_group::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = SyncGroupRequest::decode(r, version)?;
    if !b.authorized(acl::op::READ, acl::resource::GROUP, req.group_id) {
        let result = SyncResult {
            error_code: crate::protocol::error::GROUP_AUTHORIZATION_FAILED,
            protocol_type: None,
            protocol_name: None,
            assignment: Vec::new(),
        };
        encode(&result, version, out);
        return Ok(Reply::Sent);
    }
    let args = SyncArgs {
        group_id: req.group_id,
        generation_id: req.generation_id,
        member_id: req.member_id,
        protocol_type: req.protocol_type,
        protocol_name: req.protocol_name,
        group_instance_id: req.group_instance_id,
        assignments: req
            .assignments
            .iter()
            .map(|a| (a.member_id.to_string(), a.assignment.to_vec()))
            .collect(),
    };
    let answer = b.groups.sync(args, b.ctx.responder(version), std::time::Instant::now());
    match answer {
        Answer::Now(result) => {
            encode(&result, version, out);
            Ok(Reply::Sent)
        }
        Answer::Held => Ok(Reply::Held),
    }
}

pub fn encode(s: &SyncResult, version: i16, out: &mut Vec<u8>) {
    SyncGroupResponse {
        throttle_time_ms: 0,
        error_code: s.error_code,
        protocol_type: s.protocol_type.as_deref(),
        protocol_name: s.protocol_name.as_deref(),
        assignment: &s.assignment,
    }
    .encode(version, out);
}
