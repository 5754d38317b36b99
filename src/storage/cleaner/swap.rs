//! The cleaner's view of a partition log, and Kafka's file-suffix protocol for replacing
//! segments: a cleaned segment is written as `<base>.log.cleaned`, renamed `<base>.log.swap`
//! once complete and synced, the segments it replaces are removed, and the swap file is
//! renamed `<base>.log`. A crash before the `.swap` rename leaves the old segments and a
//! `.cleaned` file that is discarded; after it, the swap is finished at the next start-up
//! ([`complete_swaps`], as Kafka's `LogLoader` does), so the log is whole at every point.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::records::BatchHeader;
use crate::storage::index::{self, SegmentIndex};
use crate::storage::partition::{PartitionLog, Segment};
use crate::storage::{now_ms, segment};

/// A closed segment as a cleaning round sees it.
#[derive(Debug, Clone)]
pub struct SegRef {
    pub base_offset: i64,
    pub file: Rc<File>,
    pub size: u64,
}

/// The part of a log a cleaning may touch, and how dirty it is (`LogCleanerManager
/// .cleanableOffsets` and `LogToClean`).
#[derive(Debug, Clone, Copy)]
pub struct Cleanable {
    pub first_dirty: i64,
    pub first_uncleanable: i64,
    pub clean_bytes: u64,
    pub dirty_bytes: u64,
    /// A dirty record has waited longer than max.compaction.lag.ms.
    pub overdue: bool,
}

impl Cleanable {
    pub fn ratio(&self) -> f64 {
        let total = self.clean_bytes + self.dirty_bytes;
        if total == 0 {
            0.0
        } else {
            self.dirty_bytes as f64 / total as f64
        }
    }
}

impl PartitionLog {
    /// Bumped whenever segments are removed or replaced, so a cleaning under way can tell the
    /// log it started on has changed beneath it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What a cleaning at wall-clock `now` could clean, given the cleaner's checkpoint.
    pub fn cleanable(&self, checkpoint: Option<i64>, now: i64) -> Cleanable {
        let first_dirty = checkpoint
            .filter(|&c| c >= self.log_start_offset && c <= self.log_end_offset)
            .unwrap_or(self.log_start_offset);
        let active = self.segments.last().map_or(self.log_end_offset, |s| s.base_offset);
        let mut first_uncleanable = active.min(self.last_stable_offset());
        if self.config.min_compaction_lag_ms > 0 {
            let lag = self.config.min_compaction_lag_ms;
            if let Some(s) = self.segments.iter().find(|s| now - s.max_timestamp < lag) {
                first_uncleanable = first_uncleanable.min(s.base_offset);
            }
        }
        let (mut clean_bytes, mut dirty_bytes, mut first_dirty_seg) = (0, 0, None);
        for (i, s) in self.segments.iter().enumerate() {
            let next = self.segments.get(i + 1).map_or(self.log_end_offset, |n| n.base_offset);
            if next > first_uncleanable {
                break;
            }
            if next <= first_dirty {
                clean_bytes += s.size;
            } else {
                dirty_bytes += s.size;
                first_dirty_seg.get_or_insert(s);
            }
        }
        let lag = self.config.max_compaction_lag_ms;
        let overdue = lag < i64::MAX
            && first_dirty_seg.is_some_and(|s| {
                let ts = first_batch_timestamp(s);
                ts >= 0 && now - ts > lag
            });
        Cleanable { first_dirty, first_uncleanable, clean_bytes, dirty_bytes, overdue }
    }

    /// The closed segments wholly below `end`.
    pub fn segments_below(&self, end: i64) -> Vec<SegRef> {
        let mut out = Vec::new();
        for (i, s) in self.segments.iter().enumerate() {
            let next = self.segments.get(i + 1).map_or(i64::MAX, |n| n.base_offset);
            if next > end {
                break;
            }
            out.push(SegRef { base_offset: s.base_offset, file: Rc::clone(&s.file), size: s.size });
        }
        out
    }

    /// Producers whose last data batch a cleaning must keep: the last offset of that batch,
    /// by producer id (Kafka's `lastRecordsOfActiveProducers`).
    pub fn last_batches_of_producers(&self) -> std::collections::HashMap<i64, (Option<i64>, i16)> {
        self.producers.last_records()
    }

    pub fn aborted_txns(&self) -> &[index::AbortedTxn] {
        &self.aborted
    }

    /// Puts `cleaned` (`<base>.log.cleaned`, complete and synced) in place of the consecutive
    /// segments whose base offsets are `replaced`. Fails without touching the log if those are
    /// no longer its segments. Of the aborted transactions whose ABORT marker was in them,
    /// those of `kept_aborted` stay in the transaction index (Kafka's cleaned index); the
    /// others' markers went with their data.
    pub fn swap_in(
        &mut self,
        replaced: &[i64],
        cleaned: Cleaned,
        kept_aborted: &[index::AbortedTxn],
    ) -> io::Result<()> {
        let at = self.segments.iter().position(|s| Some(&s.base_offset) == replaced.first());
        let Some(at) = at.filter(|&at| {
            replaced.len() < self.segments.len() - at
                && self.segments[at..at + replaced.len()]
                    .iter()
                    .zip(replaced)
                    .all(|(s, b)| s.base_offset == *b)
        }) else {
            let _ = fs::remove_file(&cleaned.path);
            return Err(io::Error::other("segments changed while cleaning"));
        };
        let base = replaced[0];
        let next_base = self.segments[at + replaced.len()].base_offset;
        let dir = self.dir.clone();
        let swap = dir.join(format!("{}.swap", segment::file_name(base)));
        fs::rename(&cleaned.path, &swap)?;
        let mut txn_entries = Vec::new();
        for &b in replaced {
            if let Ok(bytes) = fs::read(dir.join(index::txn_index_name(b))) {
                for e in bytes.chunks(index::TXN_ENTRY_LEN) {
                    if index::txn_entry(e).is_none_or(|t| kept_aborted.contains(&t)) {
                        txn_entries.extend_from_slice(e);
                    }
                }
            }
            // Renamed `.deleted` and removed later, as Kafka does with replaced segments: a
            // fetch still sending from one keeps its open file either way.
            self.mark_deleted(b);
        }
        if dir.join(segment::file_name(base)).exists() {
            return Err(io::Error::other("a replaced segment could not be moved aside"));
        }
        let path = dir.join(segment::file_name(base));
        fs::rename(&swap, &path)?;
        let mut files = cleaned.index;
        if let Err(e) = files.close(&dir) {
            // Kafka (and this broker) rebuild a missing index.
            log::warn!("{}: index of cleaned segment {base}: {e}", dir.display());
            index::remove(&dir, base);
        }
        if !txn_entries.is_empty() {
            fs::write(dir.join(index::txn_index_name(base)), &txn_entries)?;
        }
        let file = Rc::new(OpenOptions::new().read(true).write(true).open(&path)?);
        let seg = Segment {
            base_offset: base,
            file,
            size: cleaned.size,
            index: None,
            last_indexed: None,
            files: None,
            max_timestamp: cleaned.max_timestamp,
            first_batch_timestamp: -1,
            created_ms: now_ms(),
            roll_jitter_ms: 0,
        };
        self.segments.splice(at..at + replaced.len(), [seg]);
        self.aborted
            .retain(|t| !(base..next_base).contains(&t.last_offset) || kept_aborted.contains(t));
        self.generation += 1;
        Ok(())
    }
}

/// A cleaned segment being written.
pub struct Cleaned {
    pub path: PathBuf,
    pub file: File,
    pub size: u64,
    pub max_timestamp: i64,
    pub index: SegmentIndex,
}

impl Cleaned {
    pub fn create(dir: &Path, base_offset: i64, index_interval: u64) -> io::Result<Cleaned> {
        let path = dir.join(format!("{}.cleaned", segment::file_name(base_offset)));
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)?;
        Ok(Cleaned {
            path,
            file,
            size: 0,
            max_timestamp: -1,
            index: SegmentIndex::with_interval(base_offset, index_interval),
        })
    }

    /// Appends the batches in `out` (whole batches, as the filter wrote them).
    pub fn append(&mut self, out: &[u8]) -> io::Result<()> {
        let mut pos = 0;
        while let Some(h) = BatchHeader::parse(&out[pos..]) {
            self.index.note(
                self.size + pos as u64,
                h.last_offset(),
                h.max_timestamp,
                h.total_len(),
            );
            self.max_timestamp = self.max_timestamp.max(h.max_timestamp);
            pos += h.total_len();
        }
        self.file.write_all_at(out, self.size)?;
        self.size += out.len() as u64;
        Ok(())
    }
}

/// The first batch's largest timestamp, which max.compaction.lag.ms measures from.
fn first_batch_timestamp(s: &Segment) -> i64 {
    let mut buf = [0u8; crate::records::HEADER_LEN];
    match s.file.read_exact_at(&mut buf, 0) {
        Ok(()) => BatchHeader::parse(&buf).map_or(-1, |h| h.max_timestamp),
        Err(_) => -1,
    }
}

/// Finishes or undoes what a cleaning left in `dir` when the broker stopped: `.cleaned` files
/// are removed; a `<base>.log.swap` replaces the segments its offsets cover, then becomes
/// `<base>.log` (Kafka's `LogLoader.completeSwapOperations`).
pub fn complete_swaps(dir: &Path) -> io::Result<()> {
    let mut swaps = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if name.ends_with(".cleaned") {
            log::info!("{}: removing an unfinished cleaned segment", path.display());
            fs::remove_file(&path)?;
        } else if let Some(log) = name.strip_suffix(".log.swap") {
            if let Ok(base) = log.parse::<i64>() {
                swaps.push((base, path));
            }
        }
    }
    for (base, swap) in swaps {
        let file = File::open(&swap)?;
        let size = file.metadata()?.len();
        let mut next = base;
        segment::scan(&file, 0, size, 256 * 1024, |_, h| {
            next = h.last_offset() + 1;
            true
        })?;
        for (b, path) in segment::list(dir)? {
            if b >= base && b < next.max(base + 1) {
                fs::remove_file(&path)?;
                index::remove(dir, b);
                let _ = fs::remove_file(dir.join(index::txn_index_name(b)));
            }
        }
        log::info!("{}: completing the swap of a cleaned segment", swap.display());
        fs::rename(&swap, dir.join(segment::file_name(base)))?;
    }
    Ok(())
}
