//! TxnOffsetCommit: a transactional producer commits a group's offsets inside its
//! transaction. They are written to the group's `__consumer_offsets` partition as a
//! transactional batch of the producer, and the group sees them only when the transaction
//! commits (its markers are written, see [`super::txn_markers`]).

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::groups::offsets::{self, CommittedOffset};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::txn_offset_commit::*;
use crate::records::BatchBuilder;
use crate::security::acl::{op, resource};
use crate::storage::Appended;
use crate::txn::PendingOffset;

/// Kafka's `offset.metadata.max.bytes` default.
const OFFSET_METADATA_MAX_BYTES: usize = 4096;

/// The group's `__consumer_offsets` partition, as AddOffsetsToTxn names it.
pub fn offsets_partition(b: &Broker, group_id: &str) -> i32 {
    let partitions = b
        .meta
        .topic(offsets::TOPIC)
        .map_or(b.config.offsets_topic_num_partitions, |t| t.partitions.len() as i32);
    offsets::partition_for(group_id, partitions.max(1))
}

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = TxnOffsetCommitRequest::decode(r, version)?;
    // Kafka: WRITE on the transactional id, then READ on the group, each refusing every
    // partition; then READ on each topic.
    let denied = if !b.authorized(op::WRITE, resource::TRANSACTIONAL_ID, req.transactional_id) {
        Some(error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    } else if !b.authorized(op::READ, resource::GROUP, req.group_id) {
        Some(error::GROUP_AUTHORIZATION_FAILED)
    } else {
        None
    };
    if let Some(code) = denied {
        let results: Vec<(&str, Vec<(i32, i16)>)> = req
            .topics
            .iter()
            .map(|(name, ps)| (*name, ps.iter().map(|p| (p.partition_index, code)).collect()))
            .collect();
        encode_response(&results, version, out);
        return Ok(Reply::Sent);
    }
    let ts = crate::metadata::log::now_ms();
    // As Kafka: a commit naming no member (generation -1) is taken whatever the group does.
    let group_error = if req.group_id.is_empty() {
        error::INVALID_GROUP_ID
    } else if req.generation_id < 0 && req.member_id.is_empty() {
        error::NONE
    } else {
        let now = std::time::Instant::now();
        let (g, m, i) = (req.group_id, req.member_id, req.group_instance_id);
        b.groups.check_commit(g, req.generation_id, m, i, now)
    };
    let txn_error = if group_error != error::NONE {
        group_error
    } else {
        let partition = offsets_partition(b, req.group_id);
        let (tid, pid, epoch) = (req.transactional_id, req.producer_id, req.producer_epoch);
        let checked = match b.txn.check_offsets_partition(tid, pid, epoch, partition) {
            // KIP-890: the group's partition is not in the transaction. Transactions v2 adds
            // it here (no AddOffsetsToTxn); v4 clients know the abortable error.
            Err(error::INVALID_TXN_STATE) if version >= 5 => {
                b.txn.add_partitions(tid, pid, epoch, [(offsets::TOPIC.to_string(), partition)])
            }
            Err(error::INVALID_TXN_STATE) if version >= 4 => Err(error::TRANSACTION_ABORTABLE),
            checked => checked,
        };
        txn_markers::fenced_for(checked.err().unwrap_or(error::NONE), false)
    };
    let mut pending = Vec::new();
    let mut results: Vec<(&str, Vec<(i32, i16)>)> = Vec::with_capacity(req.topics.len());
    for (name, partitions) in &req.topics {
        let readable = b.authorized(op::READ, resource::TOPIC, name);
        let mut codes = Vec::with_capacity(partitions.len());
        for p in partitions {
            let meta = p.committed_metadata.unwrap_or("");
            let code = if !readable {
                error::TOPIC_AUTHORIZATION_FAILED
            } else if b.logs.find(name, p.partition_index).is_none() {
                error::UNKNOWN_TOPIC_OR_PARTITION
            } else if txn_error != error::NONE {
                txn_error
            } else if meta.len() > OFFSET_METADATA_MAX_BYTES {
                error::OFFSET_METADATA_TOO_LARGE
            } else {
                pending.push(PendingOffset {
                    group: req.group_id.to_string(),
                    topic: name.to_string(),
                    partition: p.partition_index,
                    offset: CommittedOffset {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: meta.to_string(),
                        commit_timestamp: ts,
                    },
                });
                error::NONE
            };
            codes.push((p.partition_index, code));
        }
        results.push((name, codes));
    }
    let written = write(b, &req, &pending);
    if written != error::NONE {
        for (_, codes) in &mut results {
            for (_, code) in codes.iter_mut().filter(|(_, c)| *c == error::NONE) {
                *code = written;
            }
        }
    } else {
        b.txn.add_pending_offsets(req.producer_id, pending);
    }
    // As Kafka: the partitions refused before the group coordinator is asked come first.
    let unknown = |c: &(i32, i16)| {
        !matches!(c.1, error::UNKNOWN_TOPIC_OR_PARTITION | error::TOPIC_AUTHORIZATION_FAILED)
    };
    for (_, codes) in &mut results {
        codes.sort_by_key(unknown);
    }
    results.sort_by_key(|(_, codes)| codes.first().is_none_or(unknown));
    encode_response(&results, version, out);
    Ok(Reply::Sent)
}

/// The offsets as a transactional batch of the producer in the group's partition.
fn write(b: &mut Broker, req: &TxnOffsetCommitRequest<'_>, pending: &[PendingOffset]) -> i16 {
    if pending.is_empty() {
        return error::NONE;
    }
    let log = match b.offsets_log(req.group_id) {
        Ok(log) => log,
        Err(code) => return code,
    };
    let mut batch = BatchBuilder::new(0, crate::metadata::log::now_ms())
        .producer(req.producer_id, req.producer_epoch, -1)
        .transactional();
    for p in pending {
        let key = offsets::offset_key(req.group_id, &p.topic, p.partition);
        batch.push(Some(&key), Some(&offsets::offset_value(&p.offset)), &[]);
    }
    match b.logs.append_for_producer(log, &batch.finish()) {
        Ok(Appended::At(_) | Appended::Duplicate(..)) => {
            b.turn_acks.push((b.ctx.conn, log));
            error::NONE
        }
        Ok(Appended::Rejected(code, _)) => code,
        Err(e) => {
            log::error!("cannot append to {}: {e}", b.logs.get(log).dir().display());
            error::KAFKA_STORAGE_ERROR
        }
    }
}
