//! DescribeProducers (v0 only): the producers each partition's producer state knows, as
//! Kafka's `KafkaApis.handleDescribeProducersRequest` and `UnifiedLog.activeProducers` list
//! them. An invalid topic name or an unknown topic fails each of its partitions with a
//! message; a partition the topic does not have fails with UNKNOWN_TOPIC_OR_PARTITION and
//! no message (Kafka's replica manager answers those).

use super::{Broker, HandlerResult, Reply};
use crate::metadata as kraft;
use crate::protocol::codec::Reader;
use crate::protocol::describe_producers::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

const UNKNOWN_TOPIC_MESSAGE: &str = "This server does not host this topic-partition.";

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeProducersRequest::decode(r, version)?;
    let mut invalid_messages = Vec::new();
    for t in &req.topics {
        invalid_messages.push(kraft::validate_topic_name(t.name).err());
    }
    let mut topics = Vec::with_capacity(req.topics.len());
    for (t, invalid) in req.topics.iter().zip(&invalid_messages) {
        let topic_error = match invalid {
            Some(m) => Some((error::INVALID_TOPIC_EXCEPTION, m.as_str())),
            // Kafka checks READ after the name, before the topic's existence; the denied
            // partitions carry the error's default message.
            None if !b.authorized(op::READ, resource::TOPIC, t.name) => {
                let code = error::TOPIC_AUTHORIZATION_FAILED;
                Some((code, super::acls::denial_message(code)))
            }
            None if b.meta.topic(t.name).is_none() => {
                Some((error::UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_MESSAGE))
            }
            None => None,
        };
        let partitions = t
            .partition_indexes
            .iter()
            .map(|&p| {
                let failed = |code, message| PartitionResponse {
                    partition_index: p,
                    error_code: code,
                    error_message: message,
                    active_producers: Vec::new(),
                };
                if let Some((code, message)) = topic_error {
                    return failed(code, Some(message));
                }
                let Some(id) = b.logs.find(t.name, p) else {
                    return failed(error::UNKNOWN_TOPIC_OR_PARTITION, None);
                };
                let active_producers = b
                    .logs
                    .get(id)
                    .active_producers()
                    .into_iter()
                    .map(|(s, current_txn_start_offset)| ProducerState {
                        producer_id: s.producer_id,
                        producer_epoch: i32::from(s.epoch),
                        last_sequence: s.last_sequence,
                        last_timestamp: s.last_timestamp,
                        coordinator_epoch: s.coordinator_epoch,
                        current_txn_start_offset,
                    })
                    .collect();
                PartitionResponse {
                    partition_index: p,
                    error_code: error::NONE,
                    error_message: None,
                    active_producers,
                }
            })
            .collect();
        topics.push(TopicResponse { name: t.name, partitions });
    }
    DescribeProducersResponse { topics }.encode(version, out);
    Ok(Reply::Sent)
}
