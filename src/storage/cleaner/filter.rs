//! What the cleaner keeps of a batch (Kafka's `Cleaner.cleanInto` filter and
//! `MemoryRecords.filterTo`), and the map of each key's last offset it decides by.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use crate::records::rewrite::{self, delete_horizon};
use crate::records::{self, BatchHeader, Record, Records, HEADER_LEN};
use crate::storage::index::AbortedTxn;

/// Kafka's `OffsetMap` (`SkimpyOffsetMap`): the last offset of every key in the dirty part of
/// a log, keyed by a 128-bit hash of the key as Kafka keys it by an MD5 digest, so that its
/// size is bounded by `log.cleaner.dedupe.buffer.size` whatever the keys' lengths.
pub struct OffsetMap {
    map: HashMap<u128, i64>,
    /// How many keys it may hold: the dedupe buffer over 24 bytes a slot, times Kafka's load
    /// factor 0.9.
    capacity: usize,
    /// The last offset the map has seen (`latestOffset`): records past it were not mapped,
    /// so the cleaner keeps them.
    pub latest_offset: i64,
}

/// Seeds of the key hash, drawn once per process: keys cannot be chosen in advance to
/// collide (the cleaner would keep the newer of two colliding keys only).
fn seeds() -> (u64, u64) {
    static SEEDS: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *SEEDS.get_or_init(|| {
        let mut h = DefaultHasher::new();
        std::time::SystemTime::now().hash(&mut h);
        std::process::id().hash(&mut h);
        let a = h.finish();
        a.hash(&mut h);
        (a, h.finish())
    })
}

/// One 64-bit lane: 8 bytes at a time, multiply-rotate, then a splitmix finish.
fn lane(seed: u64, key: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(K);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = (h ^ w.wrapping_mul(K)).rotate_left(29).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h ^= u64::from_le_bytes(tail).wrapping_mul(0x94d0_49bb_1331_11eb);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// 128 bits of two independently seeded lanes (Kafka keys its map by MD5's 128).
fn hash_key(key: &[u8]) -> u128 {
    let (a, b) = seeds();
    (u128::from(lane(a, key)) << 64) | u128::from(lane(b, key))
}

impl OffsetMap {
    pub fn new(dedupe_buffer_size: u64) -> OffsetMap {
        let slots = (dedupe_buffer_size / 24) as f64 * 0.9;
        OffsetMap { map: HashMap::new(), capacity: (slots as usize).max(1), latest_offset: -1 }
    }

    pub fn clear(&mut self) {
        // Memory goes back to the allocator between cleanings: an idle broker stays small.
        self.map = HashMap::new();
        self.latest_offset = -1;
    }

    pub fn is_full(&self) -> bool {
        self.map.len() >= self.capacity
    }

    pub fn put(&mut self, key: &[u8], offset: i64) {
        self.map.insert(hash_key(key), offset);
    }

    /// The last offset of `key`, -1 if it was not seen.
    pub fn get(&self, key: &[u8]) -> i64 {
        self.map.get(&hash_key(key)).copied().unwrap_or(-1)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

/// Whether a batch's CRC holds: a damaged batch is neither mapped nor rewritten (that would
/// give its damage a valid CRC); it is kept as it is.
pub fn intact(batch: &[u8], h: &BatchHeader) -> bool {
    batch.len() >= h.total_len() && crate::records::check_batch(batch).is_ok()
}

/// Kafka's `CleanedTransactionMetadata`: what one round has seen of each producer's
/// transactions, batch by batch in offset order, to tell a data batch of an aborted transaction
/// (removed) and a COMMIT or ABORT marker whose transaction has no data left in the log (it may
/// go, once past its delete horizon).
pub struct CleanedTxns {
    /// Aborted transactions not yet reached, by first offset.
    pending: VecDeque<AbortedTxn>,
    /// Aborted transactions under way at the batch being read, by producer: with whether a
    /// data batch of theirs was seen this round.
    ongoing_aborted: HashMap<i64, (AbortedTxn, bool)>,
    /// Producers with a data batch of a (committed) transaction seen since their last marker.
    ongoing_committed: HashSet<i64>,
    /// The aborted transactions whose ABORT marker this round keeps, for the cleaned segment's
    /// transaction index; taken by each group's swap.
    pub kept_aborted: Vec<AbortedTxn>,
}

/// ControlRecordType in a marker's key (version, type).
const ABORT: i16 = 0;
const COMMIT: i16 = 1;

impl CleanedTxns {
    /// The log's aborted transactions that end at or after `from` (the first offset cleaned):
    /// older ones were removed with their segments, and their producers may have moved on.
    pub fn new(aborted: &[AbortedTxn], from: i64) -> CleanedTxns {
        let mut pending: Vec<AbortedTxn> =
            aborted.iter().filter(|t| t.last_offset >= from).copied().collect();
        pending.sort_by_key(|t| t.first_offset);
        CleanedTxns {
            pending: pending.into(),
            ongoing_aborted: HashMap::new(),
            ongoing_committed: HashSet::new(),
            kept_aborted: Vec::new(),
        }
    }

    fn reach(&mut self, offset: i64) {
        while self.pending.front().is_some_and(|t| t.first_offset <= offset) {
            let t = self.pending.pop_front().expect("a front");
            self.ongoing_aborted.entry(t.producer_id).or_insert((t, false));
        }
    }

    /// A data batch read (`onBatchRead`): true when it belongs to an aborted transaction.
    pub fn on_batch(&mut self, h: &BatchHeader) -> bool {
        self.reach(h.last_offset());
        if !h.is_transactional() {
            return false;
        }
        match self.ongoing_aborted.get_mut(&h.producer_id) {
            Some((_, seen)) => {
                *seen = true;
                true
            }
            None => {
                self.ongoing_committed.insert(h.producer_id);
                false
            }
        }
    }

    /// A marker read (`onControlBatchRead`): true when no data of its transaction was seen
    /// this round, so that the marker may go.
    pub fn on_control_batch(&mut self, batch: &[u8], h: &BatchHeader) -> bool {
        self.reach(h.last_offset());
        // An empty control batch was cleaned before.
        let Some(kind) = marker_type(batch) else { return true };
        match kind {
            ABORT => match self.ongoing_aborted.remove(&h.producer_id) {
                Some((txn, true)) => {
                    self.kept_aborted.push(txn);
                    false
                }
                _ => true,
            },
            COMMIT => !self.ongoing_committed.remove(&h.producer_id),
            _ => false,
        }
    }
}

/// The ControlRecordType of a control batch's first record, if it has one that parses.
fn marker_type(batch: &[u8]) -> Option<i16> {
    let rec = Records::new(batch).ok()?.next()?.ok()?;
    let key = rec.key?;
    (key.len() >= 4).then(|| i16::from_be_bytes([key[2], key[3]]))
}

/// Whether a data batch belongs to a transaction that was aborted (its records are removed).
pub fn is_aborted(h: &BatchHeader, aborted: &[AbortedTxn]) -> bool {
    h.is_transactional()
        && !h.is_control()
        && aborted.iter().any(|t| {
            t.producer_id == h.producer_id
                && t.first_offset <= h.base_offset
                && h.base_offset <= t.last_offset
        })
}

/// Adds the keys of one batch to the map (`buildOffsetMapForSegment`). Returns false when the
/// map filled before the batch was done: the map then ends at the batch before it.
pub fn map_batch(map: &mut OffsetMap, batch: &[u8], h: &BatchHeader, from: i64) -> bool {
    // A compressed batch is decompressed, as Kafka's cleaner does; one that does not
    // decompress adds no keys (its records are then kept by the filter too).
    let section = match !h.is_control() && intact(batch, h) {
        true => records::records_section(batch, h, records::DECOMPRESSED_LIMIT).ok(),
        false => None,
    };
    if let Some(section) = &section {
        for rec in Records::of_section(section, h.records_count).flatten() {
            let offset = h.base_offset + i64::from(rec.offset_delta);
            if let Some(key) = rec.key.filter(|_| offset >= from) {
                if map.is_full() {
                    return false;
                }
                map.put(key, offset);
            }
        }
    }
    if h.last_offset() >= from {
        map.latest_offset = map.latest_offset.max(h.last_offset());
    }
    true
}

/// How one cleaning decides, fixed for the whole round.
pub struct Round<'a> {
    pub map: &'a OffsetMap,
    /// The clock of the round: tombstones whose delete horizon is past go.
    pub now_ms: i64,
    pub delete_retention_ms: i64,
    /// The first offset the round does not clean; the batch ending just below it stays even
    /// when empty, so the log's offsets do not seem to end early.
    pub upper_bound: i64,
    /// Producers whose last batch must stay (their sequence and epoch), by id: the last offset
    /// of their last data batch, or none when a marker of a newer epoch followed it (then
    /// their markers of that epoch stay, which carry it), and the epoch.
    pub last_batch_of_producer: &'a HashMap<i64, (Option<i64>, i16)>,
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Written as it was.
    Whole,
    /// Written with some records removed, or a delete horizon set.
    Rewritten,
    /// Only its header kept.
    Empty,
    Dropped,
}

impl Round<'_> {
    /// Appends to `out` what the round keeps of `batch` (`checkBatchRetention` and
    /// `shouldRetainRecord`). A compressed batch is decompressed, and rewritten with its own
    /// codec, as Kafka does; one that does not decompress is kept whole. A transaction marker
    /// whose transaction has no data left gets a delete horizon, and goes in a round past it.
    pub fn filter(
        &self,
        batch: &[u8],
        h: &BatchHeader,
        txns: &mut CleanedTxns,
        out: &mut Vec<u8>,
    ) -> Kept {
        let can_discard =
            if h.is_control() { txns.on_control_batch(batch, h) } else { txns.on_batch(h) };
        let discard = if h.is_control() {
            can_discard && delete_horizon(h).is_some_and(|t| t <= self.now_ms)
        } else {
            can_discard
        };
        let last_of_producer = h.producer_id >= 0
            && match self.last_batch_of_producer.get(&h.producer_id) {
                Some((Some(last), _)) => h.last_offset() == *last,
                Some((None, epoch)) => h.is_control() && h.producer_epoch == *epoch,
                None => false,
            };
        let retain_empty = last_of_producer || h.last_offset() + 1 == self.upper_bound;
        if discard && !retain_empty {
            return Kept::Dropped;
        }
        if h.is_control() {
            return self.filter_marker(batch, h, retain_empty, discard, can_discard, out);
        }
        let section = match intact(batch, h) {
            true => records::records_section(batch, h, records::DECOMPRESSED_LIMIT).ok(),
            false => None,
        };
        let Some(section) = section else {
            out.extend_from_slice(batch);
            return Kept::Whole;
        };
        let horizon = delete_horizon(h);
        let retain_deletes = horizon.is_none_or(|t| self.now_ms < t);
        let mut kept: Vec<Record<'_>> = Vec::new();
        let mut all = true;
        let mut tombstones = false;
        for rec in Records::of_section(&section, h.records_count) {
            let Ok(rec) = rec else {
                // A batch whose CRC held but whose records do not parse is kept as it is:
                // the cleaner never makes a log worse.
                out.extend_from_slice(batch);
                return Kept::Whole;
            };
            let offset = h.base_offset + i64::from(rec.offset_delta);
            let keep = !discard
                && (offset > self.map.latest_offset
                    || rec.key.is_some_and(|k| {
                        offset >= self.map.get(k) && (rec.value.is_some() || retain_deletes)
                    }));
            if keep {
                tombstones |= rec.value.is_none();
                kept.push(rec);
            } else {
                all = false;
            }
        }
        if !kept.is_empty() {
            let set_horizon = tombstones && horizon.is_none();
            if all && !set_horizon {
                out.extend_from_slice(batch);
                return Kept::Whole;
            }
            let horizon = if set_horizon {
                Some(self.now_ms.saturating_add(self.delete_retention_ms))
            } else {
                horizon
            };
            rewrite::rebuild_batch(h, &kept, horizon, h.compression(), out);
            return Kept::Rewritten;
        }
        if retain_empty {
            if h.records_count == 0 && batch.len() == HEADER_LEN {
                out.extend_from_slice(batch);
            } else {
                rewrite::empty_batch(h, out);
            }
            return Kept::Empty;
        }
        Kept::Dropped
    }

    /// A control batch the round does not drop: emptied when its records go but the batch
    /// must stay; given a delete horizon the first time its transaction is found without data
    /// (Kafka's `containsMarkerForEmptyTxn`); else kept as it is.
    fn filter_marker(
        &self,
        batch: &[u8],
        h: &BatchHeader,
        retain_empty: bool,
        discard: bool,
        empty_txn: bool,
        out: &mut Vec<u8>,
    ) -> Kept {
        if discard || h.records_count == 0 {
            if !retain_empty {
                return Kept::Dropped;
            }
            if h.records_count == 0 && batch.len() == HEADER_LEN {
                out.extend_from_slice(batch);
            } else {
                rewrite::empty_batch(h, out);
            }
            return Kept::Empty;
        }
        let records: Option<Vec<Record<'_>>> = match intact(batch, h) {
            true => Records::new(batch).ok().and_then(|r| r.collect::<Result<_, _>>().ok()),
            false => None,
        };
        match records {
            Some(records) if empty_txn && delete_horizon(h).is_none() => {
                let horizon = self.now_ms.saturating_add(self.delete_retention_ms);
                rewrite::rebuild_batch(h, &records, Some(horizon), h.compression(), out);
                Kept::Rewritten
            }
            _ => {
                out.extend_from_slice(batch);
                Kept::Whole
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_do_not_collide_on_similar_keys() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000u32 {
            assert!(seen.insert(hash_key(format!("key-{i}").as_bytes())));
            assert!(seen.insert(hash_key(&i.to_le_bytes())));
        }
        assert_ne!(hash_key(b"a"), hash_key(b"a\0"));
        assert_ne!(hash_key(b""), hash_key(b"\0"));
    }
}
