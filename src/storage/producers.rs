//! Idempotent producer state of one partition: per producer id, its epoch and the last five
//! batches it wrote, as Kafka keeps it (`ProducerStateManager`).
//!
//! A batch is in sequence when its first sequence follows the producer's last one (wrapping
//! at `i32::MAX`); a retried batch among the last five is a duplicate, answered with the
//! offset it got the first time and not written again. A new epoch must start at sequence 0;
//! an older epoch is fenced. A producer this partition has never seen may start anywhere (its
//! state may have been lost with old segments).

use std::collections::{HashMap, VecDeque};

use crate::protocol::error;
use crate::records::BatchHeader;

/// Kafka keeps this many batches per producer for duplicate detection.
const CACHED_BATCHES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachedBatch {
    first_seq: i32,
    last_seq: i32,
    base_offset: i64,
    /// Its max timestamp: Kafka answers a duplicate with it as the log append time.
    max_timestamp: i64,
}

#[derive(Debug)]
struct Producer {
    epoch: i16,
    batches: VecDeque<CachedBatch>,
    /// The max timestamp of its last batch or marker here (Kafka's `lastTimestamp`).
    last_timestamp: i64,
    /// The coordinator epoch of the last marker written for it here, -1 before any.
    coordinator_epoch: i32,
}

impl Default for Producer {
    fn default() -> Producer {
        Producer { epoch: 0, batches: VecDeque::new(), last_timestamp: -1, coordinator_epoch: -1 }
    }
}

/// A producer as DescribeProducers lists it (Kafka's `ProducerStateEntry`), less the first
/// offset of its open transaction, which the partition knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveProducer {
    pub producer_id: i64,
    pub epoch: i16,
    /// The last sequence of its last batch, -1 when none is kept (after a new epoch).
    pub last_sequence: i32,
    pub last_timestamp: i64,
    pub coordinator_epoch: i32,
}

/// What to do with an incoming batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Append it.
    Append,
    /// Already written at this base offset, with this max timestamp: do not write it again.
    Duplicate(i64, i64),
    /// Refuse it with this error code.
    Reject(i16, &'static str),
}

#[derive(Debug, Default)]
pub struct Producers {
    by_id: HashMap<i64, Producer>,
}

fn last_seq(h: &BatchHeader) -> i32 {
    // Sequences wrap from i32::MAX to 0.
    ((i64::from(h.base_sequence) + i64::from(h.last_offset_delta)) % (i64::from(i32::MAX) + 1))
        as i32
}

/// How many sequences a batch spans past its first: its last offset delta.
fn seq_delta(first: i32, last: i32) -> i32 {
    ((i64::from(last) - i64::from(first)).rem_euclid(1 << 31)) as i32
}

impl Producers {
    /// For batches without sequences that the broker writes for a producer: one of an older
    /// epoch than the producer's is fenced.
    pub fn check_epoch(&self, h: &BatchHeader) -> Check {
        match self.by_id.get(&h.producer_id) {
            Some(p) if h.producer_epoch < p.epoch => Check::Reject(
                error::INVALID_PRODUCER_EPOCH,
                "producer epoch is older than the current one",
            ),
            _ => Check::Append,
        }
    }

    pub fn check(&self, h: &BatchHeader) -> Check {
        if h.producer_id < 0 {
            return Check::Append;
        }
        let Some(p) = self.by_id.get(&h.producer_id) else { return Check::Append };
        if h.is_control() {
            // A transaction marker carries the coordinator's epoch, at least the producer's.
            return if h.producer_epoch < p.epoch {
                Check::Reject(error::INVALID_PRODUCER_EPOCH, "marker of an older producer epoch")
            } else {
                Check::Append
            };
        }
        if h.producer_epoch < p.epoch {
            return Check::Reject(
                error::INVALID_PRODUCER_EPOCH,
                "producer epoch is older than the current one",
            );
        }
        if h.producer_epoch > p.epoch {
            return if h.base_sequence == 0 {
                Check::Append
            } else {
                Check::Reject(
                    error::OUT_OF_ORDER_SEQUENCE_NUMBER,
                    "a new producer epoch must start at sequence 0",
                )
            };
        }
        let last = last_seq(h);
        if let Some(b) =
            p.batches.iter().find(|b| b.first_seq == h.base_sequence && b.last_seq == last)
        {
            return Check::Duplicate(b.base_offset, b.max_timestamp);
        }
        let expected =
            p.batches.back().map_or(h.base_sequence, |b| b.last_seq.wrapping_add(1).max(0));
        if h.base_sequence != expected {
            return Check::Reject(
                error::OUT_OF_ORDER_SEQUENCE_NUMBER,
                "batch sequence is not the next one expected",
            );
        }
        Check::Append
    }

    /// Records a batch written at `base_offset` (by an append, or found at recovery).
    pub fn record(&mut self, h: &BatchHeader, base_offset: i64) {
        if h.producer_id >= 0 && (h.is_control() || h.base_sequence < 0) {
            // A marker (or the coordinator's transactional offsets) of a newer epoch fences
            // the producer's older one here, as Kafka's `ProducerStateManager` bumps the epoch
            // on `appendEndTxnMarker`.
            let p = self.by_id.entry(h.producer_id).or_default();
            if h.producer_epoch > p.epoch {
                p.epoch = h.producer_epoch;
                p.batches.clear();
            }
            p.last_timestamp = h.max_timestamp;
            return;
        }
        if h.producer_id < 0 || h.base_sequence < 0 {
            return;
        }
        let p = self.by_id.entry(h.producer_id).or_default();
        if h.producer_epoch != p.epoch {
            p.epoch = h.producer_epoch;
            p.batches.clear();
        }
        if p.batches.len() == CACHED_BATCHES {
            p.batches.pop_front();
        }
        p.last_timestamp = h.max_timestamp;
        p.batches.push_back(CachedBatch {
            first_seq: h.base_sequence,
            last_seq: last_seq(h),
            base_offset,
            max_timestamp: h.max_timestamp,
        });
    }

    /// Each producer's last batch, as Kafka's snapshot keeps it.
    pub fn to_snapshot(&self) -> Vec<super::snapshot::ProducerEntry> {
        let mut out: Vec<super::snapshot::ProducerEntry> = self
            .by_id
            .iter()
            .filter_map(|(&id, p)| {
                let b = p.batches.back()?;
                let delta = seq_delta(b.first_seq, b.last_seq);
                Some(super::snapshot::ProducerEntry {
                    producer_id: id,
                    epoch: p.epoch,
                    last_sequence: b.last_seq,
                    last_offset: b.base_offset + i64::from(delta),
                    offset_delta: delta,
                    timestamp: p.last_timestamp,
                    coordinator_epoch: p.coordinator_epoch,
                    current_txn_first_offset: -1,
                })
            })
            .collect();
        out.sort_by_key(|e| e.producer_id);
        out
    }

    /// A marker written for `producer_id` names its coordinator's epoch.
    pub fn set_coordinator_epoch(&mut self, producer_id: i64, coordinator_epoch: i32) {
        if let Some(p) = self.by_id.get_mut(&producer_id) {
            p.coordinator_epoch = coordinator_epoch;
        }
    }

    /// Every producer this partition knows, by producer id.
    pub fn active(&self) -> Vec<ActiveProducer> {
        let mut out: Vec<ActiveProducer> = self
            .by_id
            .iter()
            .map(|(&id, p)| ActiveProducer {
                producer_id: id,
                epoch: p.epoch,
                last_sequence: p.batches.back().map_or(-1, |b| b.last_seq),
                last_timestamp: p.last_timestamp,
                coordinator_epoch: p.coordinator_epoch,
            })
            .collect();
        out.sort_by_key(|p| p.producer_id);
        out
    }

    /// State as a snapshot left it: each producer with its last batch.
    pub fn from_snapshot(entries: &[super::snapshot::ProducerEntry]) -> Producers {
        let mut by_id = HashMap::new();
        for e in entries.iter().filter(|e| e.last_offset >= 0 && e.last_sequence >= 0) {
            let first_seq = ((i64::from(e.last_sequence) - i64::from(e.offset_delta))
                .rem_euclid(1 << 31)) as i32;
            let batch = CachedBatch {
                first_seq,
                last_seq: e.last_sequence,
                base_offset: e.last_offset - i64::from(e.offset_delta),
                max_timestamp: e.timestamp,
            };
            by_id.insert(
                e.producer_id,
                Producer {
                    epoch: e.epoch,
                    batches: VecDeque::from([batch]),
                    last_timestamp: e.timestamp,
                    coordinator_epoch: e.coordinator_epoch,
                },
            );
        }
        Producers { by_id }
    }

    /// Each producer's last entry (Kafka's `LastRecord`): the last offset of its last data
    /// batch, or none when a marker of a newer epoch came after it, and its epoch.
    pub fn last_records(&self) -> HashMap<i64, (Option<i64>, i16)> {
        self.by_id
            .iter()
            .map(|(&id, p)| {
                let last = p
                    .batches
                    .back()
                    .map(|b| b.base_offset + i64::from(seq_delta(b.first_seq, b.last_seq)));
                (id, (last, p.epoch))
            })
            .collect()
    }

    /// Forgets the batches at or past `end`: after a failed write, what was appended and not
    /// written. A producer left without batches is forgotten (one the partition does not know
    /// is accepted at any sequence).
    pub fn truncate(&mut self, end: i64) {
        self.by_id.retain(|_, p| {
            let had = p.batches.len();
            p.batches.retain(|b| b.base_offset < end);
            had == 0 || !p.batches.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::BatchBuilder;

    fn batch(pid: i64, epoch: i16, seq: i32, n: usize) -> BatchHeader {
        let mut b = BatchBuilder::new(0, 0).producer(pid, epoch, seq);
        for _ in 0..n {
            b.push(None, Some(b"x"), &[]);
        }
        BatchHeader::parse(&b.finish()).unwrap()
    }

    #[test]
    fn sequences_duplicates_and_fencing() {
        let mut s = Producers::default();
        let b0 = batch(7, 0, 0, 3);
        assert_eq!(s.check(&b0), Check::Append);
        s.record(&b0, 100);
        assert_eq!(s.check(&b0), Check::Duplicate(100, 0));
        let gap = batch(7, 0, 4, 1);
        assert_eq!(
            s.check(&gap).clone(),
            Check::Reject(
                error::OUT_OF_ORDER_SEQUENCE_NUMBER,
                "batch sequence is not the next one expected"
            )
        );
        let b1 = batch(7, 0, 3, 1);
        assert_eq!(s.check(&b1), Check::Append);
        s.record(&b1, 103);
        assert!(matches!(
            s.check(&batch(7, 1, 5, 1)),
            Check::Reject(error::OUT_OF_ORDER_SEQUENCE_NUMBER, _)
        ));
        let e1 = batch(7, 1, 0, 1);
        assert_eq!(s.check(&e1), Check::Append);
        s.record(&e1, 104);
        assert!(matches!(
            s.check(&batch(7, 0, 4, 1)),
            Check::Reject(error::INVALID_PRODUCER_EPOCH, _)
        ));
        // Unknown producers and plain batches are taken as they come.
        assert_eq!(s.check(&batch(8, 0, 42, 1)), Check::Append);
        assert_eq!(s.check(&batch(-1, -1, -1, 1)), Check::Append);
    }

    #[test]
    fn active_producers_as_describe_producers_lists_them() {
        let mut s = Producers::default();
        let mut b = BatchBuilder::new(0, 50).producer(4, 0, 0);
        b.push(None, Some(b"x"), &[]);
        b.push(None, Some(b"y"), &[]);
        s.record(&BatchHeader::parse(&b.finish()).unwrap(), 0);
        let want = ActiveProducer {
            producer_id: 4,
            epoch: 0,
            last_sequence: 1,
            last_timestamp: 50,
            coordinator_epoch: -1,
        };
        assert_eq!(s.active(), [want]);
        // A marker of a newer epoch: its time, its coordinator epoch, no batches kept.
        let marker = crate::storage::markers::marker_batch(4, 1, true, 3);
        s.record(&BatchHeader::parse(&marker).unwrap(), 2);
        s.set_coordinator_epoch(4, 3);
        let [p] = s.active()[..] else { panic!("one producer") };
        assert_eq!((p.epoch, p.last_sequence, p.coordinator_epoch), (1, -1, 3));
        assert!(p.last_timestamp > 50);
    }

    #[test]
    fn only_the_last_five_batches_are_remembered() {
        let mut s = Producers::default();
        let first = batch(1, 0, 0, 1);
        s.record(&first, 0);
        for i in 1..=5 {
            s.record(&batch(1, 0, i, 1), i64::from(i));
        }
        assert!(matches!(s.check(&first), Check::Reject(..)));
        assert_eq!(s.check(&batch(1, 0, 5, 1)), Check::Duplicate(5, 0));
    }
}
