//! JoinGroup: held until the rebalance completes (see `groups`), except for errors and for
//! v4+ first joins, which get MEMBER_ID_REQUIRED with the id to rejoin with.

use super::{Broker, HandlerResult, Reply};
use crate::groups::{Answer, JoinArgs, JoinResult};
use crate::protocol::codec::Reader;
use crate::protocol::join_group::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    client_id: Option<&str>,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = JoinGroupRequest::decode(r, version)?;
    if !b.authorized(acl::op::READ, acl::resource::GROUP, req.group_id) {
        let result = JoinResult {
            error_code: crate::protocol::error::GROUP_AUTHORIZATION_FAILED,
            generation_id: -1,
            member_id: req.member_id.to_string(),
            ..Default::default()
        };
        encode(&result, version, out);
        return Ok(Reply::Sent);
    }
    let args = JoinArgs {
        group_id: req.group_id.to_string(),
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.map(str::to_string),
        client_id: client_id.unwrap_or_default().to_string(),
        client_host: format!("/{}", b.ctx.peer.ip()),
        session_timeout_ms: req.session_timeout_ms,
        rebalance_timeout_ms: req.rebalance_timeout_ms,
        protocol_type: req.protocol_type.to_string(),
        protocols: req
            .protocols
            .iter()
            .map(|p| (p.name.to_string(), p.metadata.to_vec()))
            .collect(),
        require_known_member_id: version >= 4,
    };
    let group_id = args.group_id.clone();
    let consumer = b.groups.groups.get(&group_id).and_then(|g| g.consumer.as_ref());
    let tombstones = consumer.map(|c| c.tombstones()).unwrap_or_default();
    let answer = b.groups.join(args, b.ctx.responder(version), std::time::Instant::now());
    if !tombstones.is_empty()
        && b.groups.groups.get(&group_id).is_some_and(|g| g.consumer.is_none())
    {
        // The empty consumer group became a classic one: its records go, as Kafka deletes
        // them on the conversion, or a restart would bring the consumer group back.
        b.write_consumer_group_records(&group_id, &tombstones, true);
    }
    match answer {
        Answer::Now(result) => {
            encode(&result, version, out);
            Ok(Reply::Sent)
        }
        Answer::Held => Ok(Reply::Held),
    }
}

pub fn encode(j: &JoinResult, version: i16, out: &mut Vec<u8>) {
    JoinGroupResponse {
        throttle_time_ms: 0,
        error_code: j.error_code,
        generation_id: j.generation_id,
        protocol_type: j.protocol_type.as_deref(),
        protocol_name: j.protocol_name.as_deref(),
        leader: &j.leader,
        skip_assignment: false,
        member_id: &j.member_id,
        members: j
            .members
            .iter()
            .map(|(id, instance, metadata)| JoinGroupResponseMember {
                member_id: id,
                group_instance_id: instance.as_deref(),
                metadata,
            })
            .collect(),
    }
    .encode(version, out);
}
