//! DeleteRecords: moves each partition's log start offset (Kafka's
//! `ReplicaManager.deleteRecordsOnLocalLog`); whole segments below it go at the next
//! retention check. On one node the low watermark is this log's start offset at once.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::delete_records::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DeleteRecordsRequest::decode(r, version)?;
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        // Kafka checks DELETE before it looks for the topic, so a denied name says nothing
        // of whether it exists.
        let allowed = b.authorized(op::DELETE, resource::TOPIC, t.name);
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for &(partition_index, offset) in &t.partitions {
            let result = match b.logs.find(t.name, partition_index) {
                _ if !allowed => Err(error::TOPIC_AUTHORIZATION_FAILED),
                None => Err(error::UNKNOWN_TOPIC_OR_PARTITION),
                // A compacted log's records are not deleted by offset (Kafka's
                // PolicyViolationException).
                Some(id) if !b.logs.get(id).config().delete => Err(error::POLICY_VIOLATION),
                Some(id) => b.logs.delete_records(id, offset),
            };
            let (low_watermark, error_code) = match result {
                Ok(low) => (low, error::NONE),
                Err(code) => (-1, code),
            };
            partitions.push(DeleteRecordsPartitionResult {
                partition_index,
                low_watermark,
                error_code,
            });
        }
        topics.push(DeleteRecordsTopicResult { name: t.name, partitions });
    }
    DeleteRecordsResponse { throttle_time_ms: 0, topics }.encode(version, out);
    Ok(Reply::Sent)
}
