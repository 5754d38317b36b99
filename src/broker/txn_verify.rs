//! KIP-890 part 1, server-side partition verification: a transactional batch is appended only
//! to a partition its producer's transaction holds. Kafka's partition leader asks the
//! transaction coordinator (AddPartitionsToTxn v4+ with `VerifyOnly`); here both are this
//! broker, so the leader asks [`crate::txn::TxnCoordinator::verify_partition`] directly.
//! From Produce v12 (transactions v2) the produce adds the partition itself instead.

use super::Broker;
use crate::protocol::error;
use crate::protocol::nested::Step;
use crate::protocol::produce::{PartitionProduceResponse, ProduceRequest};
use crate::records::BatchHeader;
use crate::security::acl;

/// The producer (id, epoch) of the transactional batches in a partition's records, if any.
/// Kafka looks at every batch; a batch that does not parse is left to the append to refuse.
pub fn transactional_producer(records: Option<&[u8]>) -> Option<(i64, i16)> {
    let mut rest = records?;
    while let Some(h) = BatchHeader::parse(rest) {
        if h.producer_id >= 0 && h.is_transactional() {
            return Some((h.producer_id, h.producer_epoch));
        }
        rest = rest.get(h.total_len()..)?;
    }
    None
}

/// Kafka refuses a whole Produce before any append (one error for every partition) when its
/// records are transactional but it names no transactional id (judged on each partition's
/// first batch, as Kafka's `RequestUtils.hasTransactionalRecords`:
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), or when its transactional batches name more than
/// one producer (INVALID_PRODUCER_ID_MAPPING).
pub fn request_error(b: &Broker, req: &ProduceRequest<'_>) -> Option<i16> {
    let mut producer = None;
    let mut topic = "";
    for item in req.topic_data() {
        let p = match item {
            Ok(Step::Outer(name, _)) => {
                topic = name;
                continue;
            }
            Ok(Step::Inner(p)) => p,
            Err(_) => return None,
        };
        let first_transactional =
            p.records.and_then(BatchHeader::parse).is_some_and(|h| h.is_transactional());
        // Kafka: transactional records need WRITE on the request's transactional id.
        if first_transactional
            && !req.transactional_id.is_some_and(|tid| {
                b.authorized(acl::op::WRITE, acl::resource::TRANSACTIONAL_ID, tid)
            })
        {
            return Some(error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }
        // Only partitions the broker leads reach Kafka's check.
        if b.logs.find(topic, p.index).is_none() {
            continue;
        }
        if let Some(this) = transactional_producer(p.records) {
            if *producer.get_or_insert(this) != this {
                return Some(error::INVALID_PRODUCER_ID_MAPPING);
            }
        }
    }
    None
}

/// Checks a partition's transactional batches before they are appended: `None` to append
/// them, else the partition's answer (as Kafka's `ReplicaManager` translates the
/// coordinator's errors for the Produce version).
pub fn verify(
    b: &mut Broker,
    transactional_id: &str,
    version: i16,
    topic: &str,
    index: i32,
    (pid, epoch): (i64, i16),
) -> Option<PartitionProduceResponse> {
    let mut code = b.txn.verify_partition(transactional_id, pid, epoch, topic, index);
    if code == error::TRANSACTION_ABORTABLE && version >= 12 {
        // Transactions v2: the partition joins the transaction with its first batch.
        let added = b.txn.add_partitions(transactional_id, pid, epoch, [(topic.into(), index)]);
        code = added.err().unwrap_or(error::NONE);
        if code == error::NONE {
            b.txn.set_client_transaction_version(transactional_id, 2);
        }
    }
    let (code, message) = match code {
        error::NONE => return None,
        // What producers expect of a produce from an old epoch.
        error::PRODUCER_FENCED => (error::INVALID_PRODUCER_EPOCH, None),
        // Clients before Produce v11 do not know TRANSACTION_ABORTABLE.
        error::TRANSACTION_ABORTABLE if version <= 10 => {
            (error::INVALID_TXN_STATE, Some("Partition was not added to the transaction"))
        }
        code => (code, None),
    };
    log::debug!("transactional produce to {topic}-{index} refused ({code}): not verified");
    Some(PartitionProduceResponse::error(index, code, message))
}
