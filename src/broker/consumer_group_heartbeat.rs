//! ConsumerGroupHeartbeat: the KIP-848 consumer group protocol; the state machine is in
//! `groups::consumer`.

use super::{Broker, HandlerResult, Reply};
use crate::groups::consumer::{HeartbeatArgs, Partitions, TopicsMeta};
use crate::protocol::codec::Reader;
use crate::protocol::consumer_group_heartbeat::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    client_id: Option<&str>,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ConsumerGroupHeartbeatRequest::decode(r, version)?;
    let result = if !b.consumer_protocol_enabled() {
        // Kafka's answer when group.version is 0: the code alone.
        crate::groups::consumer::HeartbeatResult {
            error_code: crate::protocol::error::UNSUPPORTED_VERSION,
            error_message: None,
            member_id: None,
            member_epoch: 0,
            assignment: None,
        }
    } else if !b.authorized(acl::op::READ, acl::resource::GROUP, req.group_id) {
        crate::groups::consumer::HeartbeatResult::error(
            crate::protocol::error::GROUP_AUTHORIZATION_FAILED,
            format!("Not authorized to access group {}.", req.group_id),
        )
    } else {
        let owned = req.topic_partitions.as_ref().map(|tps| {
            let mut p = Partitions::new();
            for t in tps {
                p.entry(t.topic_id).or_default().extend(t.partitions.iter().copied());
            }
            p
        });
        let args = HeartbeatArgs {
            version,
            group_id: req.group_id.to_string(),
            member_id: req.member_id.to_string(),
            member_epoch: req.member_epoch,
            instance_id: req.instance_id.map(str::to_string),
            rack_id: req.rack_id.map(str::to_string),
            rebalance_timeout_ms: req.rebalance_timeout_ms,
            subscribed_topic_names: req
                .subscribed_topic_names
                .as_ref()
                .map(|ns| ns.iter().map(|n| n.to_string()).collect()),
            subscribed_topic_regex: req.subscribed_topic_regex.map(str::to_string),
            server_assignor: req.server_assignor.map(str::to_string),
            owned,
            client_id: client_id.unwrap_or_default().to_string(),
            client_host: format!("/{}", b.ctx.peer.ip()),
        };
        let topics = topics_meta(b);
        let before = b.groups.groups.get(&args.group_id).and_then(|g| g.consumer.clone());
        b.groups.metadata_offset = b.meta_log.next_offset() - 1;
        let mut r = b.groups.consumer_heartbeat(&args, &topics, std::time::Instant::now());
        let after = b.groups.groups.get(&args.group_id).and_then(|g| g.consumer.as_ref());
        let records = after.map(|c| c.records_since(before.as_ref())).unwrap_or_default();
        let code = b.write_consumer_group_records(&args.group_id, &records, true);
        if code != crate::protocol::error::NONE {
            // Not written, not done: the group goes back to its state before, as Kafka's
            // coordinator reverts a change whose records failed to append.
            if let Some(g) = b.groups.groups.get_mut(&args.group_id) {
                g.consumer = before;
            }
            r = crate::groups::consumer::HeartbeatResult::error(
                code,
                "The group's records could not be written.",
            );
        }
        log::debug!(
            "consumer group {:?}: member {:?} at epoch {} owning {:?}: error {}, epoch {}, assignment {:?}",
            args.group_id,
            args.member_id,
            args.member_epoch,
            args.owned.as_ref().map(crate::groups::consumer::flatten),
            r.error_code,
            r.member_epoch,
            r.assignment.as_ref().map(crate::groups::consumer::flatten)
        );
        r
    };
    ConsumerGroupHeartbeatResponse {
        throttle_time_ms: 0,
        error_code: result.error_code,
        error_message: result.error_message,
        member_id: result.member_id,
        member_epoch: result.member_epoch,
        heartbeat_interval_ms: if result.error_code == crate::protocol::error::NONE {
            b.groups.consumer_config.heartbeat_interval_ms
        } else {
            0
        },
        assignment: result.assignment.map(|a| {
            crate::groups::consumer::flatten(&a)
                .into_iter()
                .map(|(topic_id, partitions)| TopicPartitions { topic_id, partitions })
                .collect()
        }),
    }
    .encode(version, out);
    Ok(Reply::Sent)
}

/// Every topic with its id and partition count, as assignors see them.
pub(crate) fn topics_meta(b: &Broker) -> TopicsMeta {
    b.meta.topics().map(|t| (t.name.clone(), (t.topic_id, t.partitions.len() as i32))).collect()
}
