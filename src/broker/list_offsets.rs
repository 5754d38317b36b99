//! Earliest (-2, and -4: every offset is local), latest (-1), the largest timestamp (-3), or
//! the first offset at or after a timestamp, found by scanning batch headers (no time index).
//! Latest tiered (-5) has no answer on a broker without remote storage: offset -1.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::list_offsets::*;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ListOffsetsRequest::decode(r, version)?;
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let mut partitions = Vec::with_capacity(t.partitions.len());
        let describable = b.authorized(acl::op::DESCRIBE, acl::resource::TOPIC, t.name);
        for p in &t.partitions {
            let mut resp = ListOffsetsPartitionResponse {
                partition_index: p.partition_index,
                error_code: error::NONE,
                timestamp: -1,
                offset: -1,
                leader_epoch: -1,
            };
            if !describable {
                resp.error_code = error::TOPIC_AUTHORIZATION_FAILED;
                partitions.push(resp);
                continue;
            }
            let Some(id) = b.logs.find(t.name, p.partition_index) else {
                resp.error_code = error::UNKNOWN_TOPIC_OR_PARTITION;
                partitions.push(resp);
                continue;
            };
            resp.leader_epoch = b
                .meta
                .topic(t.name)
                .and_then(|m| m.partition(p.partition_index))
                .map_or(0, |m| m.leader_epoch);
            let log = b.logs.get_mut(id);
            let found = match p.timestamp {
                EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => {
                    Ok(Some((log.log_start_offset(), -1)))
                }
                // read_committed consumers start no further than the last stable offset.
                LATEST_TIMESTAMP if req.isolation_level == 1 => {
                    Ok(Some((log.last_stable_offset(), -1)))
                }
                LATEST_TIMESTAMP => Ok(Some((log.log_end_offset(), -1))),
                LATEST_TIERED_TIMESTAMP => Ok(None),
                MAX_TIMESTAMP => log.max_timestamp(),
                ts if ts >= 0 => log.offset_for_timestamp(ts),
                _ => {
                    resp.error_code = error::INVALID_REQUEST;
                    Ok(None)
                }
            };
            match found {
                Ok(Some((offset, timestamp))) => {
                    (resp.offset, resp.timestamp) = (offset, timestamp);
                }
                // Nothing found: no offset, and so no epoch either.
                Ok(None) => resp.leader_epoch = -1,
                Err(e) => {
                    log::error!("{}: {e}", log.dir().display());
                    resp.error_code = error::KAFKA_STORAGE_ERROR;
                }
            }
            partitions.push(resp);
        }
        topics.push(ListOffsetsTopicResponse { name: t.name, partitions });
    }
    ListOffsetsResponse { throttle_time_ms: 0, topics }.encode(version, out);
    Ok(Reply::Sent)
}
