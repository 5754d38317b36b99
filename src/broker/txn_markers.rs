//! Writing a transaction's COMMIT or ABORT markers to its partitions, for EndTxn, for the
//! abort that a new InitProducerId forces on an ongoing transaction, for a timed-out one and
//! for one a crash left prepared.

use super::{txn_log, Broker};
use crate::protocol::error;
use crate::storage::{LogId, LogManager};
use crate::txn::Markers;

/// Kafka's coordinator epoch, which markers carry: this single node's coordinator never moves.
const COORDINATOR_EPOCH: i32 = 0;

/// Records PrepareCommit/PrepareAbort in `__transaction_state`, appends the markers, then
/// records CompleteCommit/CompleteAbort (all flushed with the turn's appends, before the
/// answer goes out) and marks the transaction complete. On a write error the transaction
/// stays as it was, for the client to end again; a crash in between leaves the Prepare
/// record, which the next start-up completes.
pub fn write(b: &mut Broker, transactional_id: &str, m: &Markers) -> Result<(), i16> {
    if let Some(meta) = b.txn.get(transactional_id) {
        let prepare = txn_log::prepared_state(meta, m.commit);
        b.append_txn_state(transactional_id, &prepare)?;
    }
    let mut written = Vec::with_capacity(m.partitions.len());
    let result = write_markers(&mut b.logs, m, &mut written);
    // Those written before a failure are acknowledged with the turn all the same.
    for id in written {
        b.turn_acks.push((b.ctx.conn, id));
    }
    result?;
    b.txn.complete(transactional_id, m.commit);
    // Under transactions v2 the end may have moved the id to a new producer id.
    b.txn.completed_with(transactional_id, m.next);
    if let Some(done) = b.txn.get(transactional_id).map(|t| t.log_value()) {
        // The markers are written: the outcome stands even if this record is lost, as
        // start-up completes the prepared transaction again.
        if let Err(code) = b.append_txn_state(transactional_id, &done) {
            log::error!("{transactional_id}: completion not recorded ({code})");
        }
    }
    // The group sees what the transaction committed; an abort drops it.
    for p in b.txn.take_pending_offsets(m.producer_id) {
        if m.commit {
            b.groups.group_mut(&p.group).offsets.insert((p.topic, p.partition), p.offset);
        }
    }
    Ok(())
}

/// Appends the markers of `m` to its partitions, adding the logs written to `written`.
pub fn write_markers(
    logs: &mut LogManager,
    m: &Markers,
    written: &mut Vec<LogId>,
) -> Result<(), i16> {
    for (topic, partition) in &m.partitions {
        let Some(id) = logs.find(topic, *partition) else {
            // Deleted since it joined the transaction: nothing to close there.
            continue;
        };
        match logs.write_marker(id, m.producer_id, m.producer_epoch, m.commit, COORDINATOR_EPOCH) {
            Ok(Ok(_)) => written.push(id),
            Ok(Err(code)) => return Err(code),
            Err(e) => {
                log::error!("{topic}-{partition}: transaction marker not written: {e}");
                return Err(error::KAFKA_STORAGE_ERROR);
            }
        }
    }
    Ok(())
}

/// Kafka answers clients older than a request's v2 (v4 for InitProducerId)
/// INVALID_PRODUCER_EPOCH where newer ones get PRODUCER_FENCED.
pub fn fenced_for(code: i16, knows_fenced: bool) -> i16 {
    if code == error::PRODUCER_FENCED && !knows_fenced {
        error::INVALID_PRODUCER_EPOCH
    } else {
        code
    }
}
