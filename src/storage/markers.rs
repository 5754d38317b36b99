//! Transaction markers: the COMMIT or ABORT control batch a transaction coordinator writes to
//! each partition of a transaction, closing the producer's transaction there. An abort is
//! recorded in the active segment's `.txnindex`, as Kafka's `TransactionIndex` keeps it, so
//! read_committed readers learn which records to skip.

use std::io::{self, Write};

use super::index::{self, AbortedTxn};
use super::now_ms;
use super::partition::PartitionLog;
use super::{Appended, LogId, LogManager};
use crate::records::BatchBuilder;

/// Control record types (Kafka's `ControlRecordType`).
const ABORT: i16 = 0;
const COMMIT: i16 = 1;

/// A marker batch: one control record, key (version 0, type), value (version 0,
/// coordinator epoch), as Kafka's `EndTransactionMarker` serialises it.
pub fn marker_batch(producer_id: i64, epoch: i16, commit: bool, coordinator_epoch: i32) -> Vec<u8> {
    let mut key = Vec::with_capacity(4);
    key.extend_from_slice(&0i16.to_be_bytes());
    key.extend_from_slice(&(if commit { COMMIT } else { ABORT }).to_be_bytes());
    let mut value = Vec::with_capacity(6);
    value.extend_from_slice(&0i16.to_be_bytes());
    value.extend_from_slice(&coordinator_epoch.to_be_bytes());
    let mut b = BatchBuilder::new(0, now_ms()).producer(producer_id, epoch, -1).control();
    b.push(Some(&key), Some(&value), &[]);
    b.finish()
}

impl PartitionLog {
    /// Appends a transactional batch the broker writes for a producer (TxnOffsetCommit's
    /// offsets): no sequence, so only its epoch is checked; it opens the producer's
    /// transaction here like a produced one.
    pub fn append_for_producer(&mut self, batch: &[u8]) -> io::Result<Appended> {
        self.append_with(batch, true)
    }

    /// Appends a COMMIT or ABORT marker for `producer_id` and closes its transaction here;
    /// returns the marker's offset.
    pub fn write_marker(
        &mut self,
        producer_id: i64,
        epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
    ) -> io::Result<Result<i64, i16>> {
        let batch = marker_batch(producer_id, epoch, commit, coordinator_epoch);
        let at = match self.append_with(&batch, true)? {
            Appended::At(at) | Appended::Duplicate(at, _) => at,
            Appended::Rejected(code, why) => {
                log::warn!(
                    "{}: marker of producer {producer_id} refused: {why}",
                    self.dir.display()
                );
                return Ok(Err(code));
            }
        };
        self.producers.set_coordinator_epoch(producer_id, coordinator_epoch);
        let Some(i) = self.open_txns.iter().position(|t| t.0 == producer_id) else {
            // Nothing written here in this transaction: the marker closes nothing.
            return Ok(Ok(at));
        };
        let (_, first_offset) = self.open_txns.swap_remove(i);
        if !commit {
            let txn = AbortedTxn { producer_id, first_offset, last_offset: at };
            // Kafka's entry keeps the last stable offset once this transaction is done.
            let lso = self.open_txns.iter().map(|t| t.1).min().unwrap_or(at + 1);
            let base = self.segments.last().expect("active segment").base_offset;
            append_txn_index(&self.dir.join(index::txn_index_name(base)), &txn, lso)?;
            let pos = self.aborted.partition_point(|t| t.first_offset <= first_offset);
            self.aborted.insert(pos, txn);
        }
        Ok(Ok(at))
    }
}

impl LogManager {
    /// [`PartitionLog::write_marker`] on log `id`, flushed with the turn's appends.
    pub fn write_marker(
        &mut self,
        id: LogId,
        producer_id: i64,
        epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
    ) -> io::Result<Result<i64, i16>> {
        self.note_append(id, MARKER_LEN);
        self.get_mut(id).write_marker(producer_id, epoch, commit, coordinator_epoch)
    }

    /// [`PartitionLog::append_for_producer`] on log `id`, flushed with the turn's appends.
    pub fn append_for_producer(&mut self, id: LogId, batch: &[u8]) -> io::Result<Appended> {
        self.note_append(id, batch.len());
        self.get_mut(id).append_for_producer(batch)
    }

    fn note_append(&mut self, id: LogId, len: usize) {
        if !self.get(id).has_pending() {
            self.dirty.push(id);
        }
        self.pending_bytes += len;
    }
}

/// A marker batch's size: the batch header and its one control record.
const MARKER_LEN: usize = 78;

/// One 34-byte `.txnindex` entry: version 0, producer id, first, last and last stable offset.
fn append_txn_index(path: &std::path::Path, txn: &AbortedTxn, lso: i64) -> io::Result<()> {
    let mut e = Vec::with_capacity(34);
    e.extend_from_slice(&0i16.to_be_bytes());
    for v in [txn.producer_id, txn.first_offset, txn.last_offset, lso] {
        e.extend_from_slice(&v.to_be_bytes());
    }
    std::fs::OpenOptions::new().create(true).append(true).open(path)?.write_all(&e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::BatchHeader;
    use crate::storage::LogConfig;

    fn txn_batch(pid: i64, epoch: i16, seq: i32) -> Vec<u8> {
        let mut b = BatchBuilder::new(0, now_ms()).producer(pid, epoch, seq).transactional();
        b.push(None, Some(b"v"), &[]);
        b.finish()
    }

    #[test]
    fn markers_close_transactions_and_aborts_reach_the_txnindex() {
        let dir = crate::testutil::TempDir::new("markers");
        let mut log = PartitionLog::open(&dir, LogConfig::DEFAULT).unwrap();
        assert_eq!(log.append(&txn_batch(7, 0, 0)).unwrap(), Appended::At(0));
        assert_eq!(log.append(&txn_batch(8, 0, 0)).unwrap(), Appended::At(1));
        assert_eq!(log.append(&txn_batch(7, 0, 1)).unwrap(), Appended::At(2));
        assert_eq!(log.last_stable_offset(), 0);
        assert_eq!(log.write_marker(7, 0, false, 0).unwrap(), Ok(3));
        assert_eq!(log.last_stable_offset(), 1);
        let aborted: Vec<_> = log.aborted_from(0).copied().collect();
        assert_eq!(aborted, [AbortedTxn { producer_id: 7, first_offset: 0, last_offset: 3 }]);
        assert_eq!(log.write_marker(8, 0, true, 0).unwrap(), Ok(4));
        assert_eq!(log.last_stable_offset(), 5);
        log.flush().unwrap();
        let bytes = std::fs::read(&*dir.join(index::txn_index_name(0))).unwrap();
        assert_eq!(bytes.len(), 34);
        assert_eq!(i64::from_be_bytes(bytes[26..34].try_into().unwrap()), 1, "lso then");
        assert_eq!(index::read_aborted(&dir).unwrap(), aborted);
        // The marker's epoch fences the producer's older one.
        assert_eq!(log.write_marker(7, 1, false, 0).unwrap(), Ok(5));
        assert!(matches!(
            log.append(&txn_batch(7, 0, 2)).unwrap(),
            Appended::Rejected(crate::protocol::error::INVALID_PRODUCER_EPOCH, _)
        ));
        let mut read = Vec::new();
        log.read(4, 1 << 20, &mut read).unwrap();
        let h = BatchHeader::parse(&read).unwrap();
        assert!(h.is_control() && h.is_transactional());
        assert_eq!(h.producer_id, 8);
    }
}
