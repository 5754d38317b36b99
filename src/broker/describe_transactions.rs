//! DescribeTransactions (v0 only): each transactional id's state from the transaction
//! coordinator, as Kafka's `TransactionCoordinator.handleDescribeTransactions`:
//! TRANSACTIONAL_ID_NOT_FOUND for an id it does not know (the other fields left at their
//! defaults), otherwise the state's name, timeout, start time (-1 until a transaction
//! begins), producer id and epoch, and the partitions of the transaction by topic.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::describe_transactions::*;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeTransactionsRequest::decode(r, version)?;
    let mut transaction_states = Vec::with_capacity(req.transactional_ids.len());
    for &id in &req.transactional_ids {
        if !b.authorized(op::DESCRIBE, resource::TRANSACTIONAL_ID, id) {
            let denied = TransactionState::error(id, error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            transaction_states.push(denied);
            continue;
        }
        let Some(m) = b.txn.get(id) else {
            transaction_states.push(TransactionState::error(id, error::TRANSACTIONAL_ID_NOT_FOUND));
            continue;
        };
        let mut topics: Vec<TopicData<'_>> = Vec::new();
        // The set is ordered by topic, then partition.
        for (topic, partition) in &m.partitions {
            if !b.authorized(op::DESCRIBE, resource::TOPIC, topic) {
                continue;
            }
            match topics.last_mut() {
                Some(t) if t.topic == topic => t.partitions.push(*partition),
                _ => topics.push(TopicData { topic, partitions: vec![*partition] }),
            }
        }
        transaction_states.push(TransactionState {
            error_code: error::NONE,
            transactional_id: id,
            transaction_state: m.state.name(),
            transaction_timeout_ms: m.timeout_ms,
            transaction_start_time_ms: m.start_ms,
            producer_id: m.producer_id,
            producer_epoch: m.producer_epoch,
            topics,
        });
    }
    DescribeTransactionsResponse { transaction_states }.encode(version, out);
    Ok(Reply::Sent)
}
