//! Opening a partition after a clean shutdown without reading its active segment: what a full
//! scan would learn is taken from what the shutdown left, as Kafka's `LogLoader` does when it
//! finds `.kafka_cleanshutdown`. The end offset comes from the offset index's last entry and
//! the few batches after it, producer state from the `<log end>.snapshot` written at
//! shutdown, the largest timestamp from the time index, and the in-memory index from the
//! offset index. Anything missing or not as expected and the caller scans instead.

use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::index::{self, SegmentIndex};
use super::partition::{IndexEntry, Segment, RECOVERY_CHUNK};
use super::producers::Producers;
use super::{segment, snapshot, LogConfig};
use crate::records::{BatchHeader, HEADER_LEN};

/// What a clean reopen learnt of the active segment.
pub struct Reopened {
    pub end: i64,
    pub producers: Producers,
    /// (producer id, first offset) of each transaction the snapshot says is open.
    pub open_txns: Vec<(i64, i64)>,
}

/// Fills `active` (its in-memory index, index files, timestamps) from the files a clean
/// shutdown left, or returns `None` (and leaves `active` as it was) when they do not allow it.
pub fn clean_active(dir: &Path, active: &mut Segment, config: &LogConfig) -> Option<Reopened> {
    match try_clean_active(dir, active, config) {
        Ok(r) => r,
        Err(e) => {
            log::warn!("{}: scanning the active segment: {e}", dir.display());
            None
        }
    }
}

fn try_clean_active(
    dir: &Path,
    active: &mut Segment,
    config: &LogConfig,
) -> io::Result<Option<Reopened>> {
    let base = active.base_offset;
    if active.size == 0 || index::needs_rebuild(dir, base) {
        return Ok(None);
    }
    let max_ts = index::last_time_entry(dir, base);
    let (files, entries) =
        SegmentIndex::resume(dir, base, config.index_interval_bytes, (max_ts, base))?;
    if !index::sound(&entries, active.size) {
        return Ok(None);
    }
    // The batches after the last offset index entry: at most index.interval.bytes and a batch.
    let from = entries.last().map_or(0, |e| e.1);
    let (mut end, mut tail_max) = (None, -1);
    let valid = segment::scan(&active.file, from, active.size, RECOVERY_CHUNK, |_, h| {
        end = Some(h.last_offset() + 1);
        tail_max = tail_max.max(h.max_timestamp);
        true
    })?;
    let Some(end) = end.filter(|_| valid == active.size) else { return Ok(None) };
    let Some((at, entries_of_producers)) = snapshot::latest(dir, end) else { return Ok(None) };
    if at != end {
        return Ok(None);
    }
    let mut first = [0u8; HEADER_LEN];
    active.file.read_exact_at(&mut first, 0)?;
    let Some(first) = BatchHeader::parse(&first) else { return Ok(None) };
    if tail_max > max_ts {
        // Not what a clean close leaves (its last time entry is the segment's largest): the
        // files are trusted no further.
        return Ok(None);
    }
    active.index =
        Some(entries.iter().map(|&(o, p)| IndexEntry { base_offset: o, position: p }).collect());
    active.last_indexed = entries.last().map(|e| e.1);
    active.max_timestamp = max_ts;
    active.first_batch_timestamp = first.max_timestamp;
    active.files = Some(files);
    let open_txns = entries_of_producers
        .iter()
        .filter(|e| e.current_txn_first_offset >= 0)
        .map(|e| (e.producer_id, e.current_txn_first_offset))
        .collect();
    Ok(Some(Reopened {
        end,
        producers: Producers::from_snapshot(&entries_of_producers),
        open_txns,
    }))
}
