//! Writing a transaction's COMMIT or ABORT markers to its partitions, for EndTxn and for the
//! abort that a new InitProducerId forces on an ongoing transaction.

use super::Broker;
use crate::protocol::error;
use crate::txn::Markers;

/// Kafka's coordinator epoch, which markers carry: this single node's coordinator never moves.
const COORDINATOR_EPOCH: i32 = 0;

/// Appends the markers (flushed with the turn's appends, before the answer goes out) and
/// marks the transaction complete. On a write error the transaction stays as it was, for the
/// client to end again.
pub fn write(b: &mut Broker, transactional_id: &str, m: &Markers) -> Result<(), i16> {
    for (topic, partition) in &m.partitions {
        let Some(id) = b.logs.find(topic, *partition) else {
            // Deleted since it joined the transaction: nothing to close there.
            continue;
        };
        match b.logs.write_marker(id, m.producer_id, m.producer_epoch, m.commit, COORDINATOR_EPOCH)
        {
            Ok(Ok(_)) => b.turn_acks.push((b.ctx.conn, id)),
            Ok(Err(code)) => return Err(code),
            Err(e) => {
                log::error!("{topic}-{partition}: transaction marker not written: {e}");
                return Err(error::KAFKA_STORAGE_ERROR);
            }
        }
    }
    b.txn.complete(transactional_id, m.commit);
    b.txn.completed_with(transactional_id, m.next);
    // The group sees what the transaction committed; an abort drops it.
    for p in b.txn.take_pending_offsets(m.producer_id) {
        if m.commit {
            b.groups.group_mut(&p.group).offsets.insert((p.topic, p.partition), p.offset);
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
