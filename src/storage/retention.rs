//! Retention and the log start offset: whole segments deleted by retention.ms and
//! retention.bytes, DeleteRecords, and the leader epoch cache that follows the start.

use std::io;

use super::index;
use super::partition::{PartitionLog, Segment};
use super::segment;

/// Why segments were deleted, for the log line (Kafka's `SegmentDeletionReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breach {
    RetentionMs,
    RetentionBytes,
    LogStartOffset,
}

impl PartitionLog {
    /// Bytes of all segments on disk, as Kafka's `UnifiedLog.size` (DescribeLogDirs,
    /// retention.bytes).
    pub fn size(&self) -> u64 {
        self.segments.iter().map(|s| s.size).sum()
    }

    /// Kafka's `UnifiedLog.deleteOldSegments` at wall-clock `now_ms`: under a delete policy,
    /// the oldest segments past retention.ms (by their largest timestamp), then those that
    /// keep the log over retention.bytes; under any policy, those wholly below the log start
    /// offset. Whole segments only, oldest first, never beyond the high watermark. When every
    /// segment goes, Kafka rolls a new empty one first, and so does this. Returns how many
    /// were deleted. As in Kafka, their files are renamed `.deleted` (see
    /// [`take_deleted_files`](Self::take_deleted_files)) and removed file.delete.delay.ms
    /// later; responses still sending from them keep them open meanwhile.
    pub fn delete_old_segments(&mut self, now_ms: i64) -> io::Result<usize> {
        self.flush()?;
        let mut deleted = 0;
        if self.config.delete {
            if self.config.retention_ms >= 0 {
                let retention_ms = self.config.retention_ms;
                let n = self.deletable(|seg, _| now_ms - largest_timestamp(seg) > retention_ms);
                deleted += self.delete_first(n, Breach::RetentionMs)?;
            }
            let size = self.size() as i64;
            if self.config.retention_bytes >= 0 && size >= self.config.retention_bytes {
                let mut diff = size - self.config.retention_bytes;
                let n = self.deletable(|seg, _| {
                    let take = diff - seg.size as i64 >= 0;
                    if take {
                        diff -= seg.size as i64;
                    }
                    take
                });
                deleted += self.delete_first(n, Breach::RetentionBytes)?;
            }
        }
        let start = self.log_start_offset;
        let n = self.deletable(|_, next| next.is_some_and(|n| n.base_offset <= start));
        deleted += self.delete_first(n, Breach::LogStartOffset)?;
        Ok(deleted)
    }

    /// How many segments from the first on satisfy `pred(segment, next)` and lie wholly
    /// below the high watermark, the active one only if it is not empty
    /// (`LocalLog.deletableSegments`).
    fn deletable(&self, mut pred: impl FnMut(&Segment, Option<&Segment>) -> bool) -> usize {
        let mut n = 0;
        for (i, seg) in self.segments.iter().enumerate() {
            let next = self.segments.get(i + 1);
            let upper = next.map_or(self.log_end_offset, |s| s.base_offset);
            let last_and_empty = next.is_none() && seg.size == 0;
            if upper > self.flushed_end_offset || last_and_empty || !pred(seg, next) {
                break;
            }
            n += 1;
        }
        n
    }

    fn delete_first(&mut self, n: usize, why: Breach) -> io::Result<usize> {
        if n == 0 {
            return Ok(0);
        }
        if n == self.segments.len() {
            self.roll()?;
        }
        let gone: Vec<_> = self.segments.drain(..n).collect();
        for seg in gone {
            log::info!(
                "{}: deleting segment {} ({} bytes, largest timestamp {}): {why:?} breached",
                self.dir.display(),
                seg.base_offset,
                seg.size,
                seg.max_timestamp
            );
            self.mark_deleted(seg.base_offset);
        }
        self.generation += 1;
        let first = self.segments[0].base_offset;
        self.raise_log_start_offset(first);
        Ok(n)
    }

    /// Renames the files of the segment at `base` `.deleted`, for the manager to remove
    /// file.delete.delay.ms later (Kafka's `LocalLog.deleteSegmentFiles`).
    pub(super) fn mark_deleted(&mut self, base: i64) {
        let names = [
            segment::file_name(base),
            index::offset_index_name(base),
            index::time_index_name(base),
            index::txn_index_name(base),
        ];
        for name in names {
            let from = self.dir.join(&name);
            let to = self.dir.join(format!("{name}{}", segment::DELETED_SUFFIX));
            match std::fs::rename(&from, &to) {
                Ok(()) => self.deleted_files.push(to),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    // As Kafka, which would take the log directory offline: here the file
                    // goes at once rather than linger unnamed.
                    log::warn!("{}: rename failed, removing it now: {e}", from.display());
                    let _ = std::fs::remove_file(&from);
                }
            }
        }
    }

    /// Kafka's `maybeIncrementLogStartOffset`: a higher start, and the leader epoch cache cut
    /// from the start (the last epoch begun at or below it now starts at it).
    fn raise_log_start_offset(&mut self, offset: i64) -> bool {
        if offset <= self.log_start_offset {
            return false;
        }
        self.log_start_offset = offset;
        let cut = self.epochs.partition_point(|&(_, start)| start <= offset);
        if cut > 0 {
            let epoch = self.epochs[cut - 1].0;
            self.epochs.drain(..cut);
            self.epochs.insert(0, (epoch, offset));
        }
        self.aborted.retain(|t| t.last_offset >= offset);
        true
    }

    /// DeleteRecords: moves the log start offset up to `offset` (-1: the high watermark). The
    /// segments wholly below it go at the next retention check, as in Kafka. Returns the new
    /// low watermark, or OFFSET_OUT_OF_RANGE for an offset past the high watermark.
    pub fn delete_records(&mut self, offset: i64) -> Result<i64, i16> {
        let high_watermark = self.log_end_offset;
        let offset = if offset == -1 { high_watermark } else { offset };
        if offset < 0 || offset > high_watermark {
            return Err(crate::protocol::error::OFFSET_OUT_OF_RANGE);
        }
        self.raise_log_start_offset(offset);
        Ok(self.log_start_offset)
    }

    /// The leader epoch cache's answer for `epoch` (`LeaderEpochFileCache.endOffsetFor`):
    /// (epoch, end offset), or (-1, -1) when unknown. The current epoch counts as begun at
    /// the log end offset even before anything is written in it, as Kafka's leader records
    /// it on election.
    pub fn end_offset_for_epoch(&self, epoch: i32) -> (i32, i64) {
        const UNDEFINED: (i32, i64) = (-1, -1);
        let latest =
            self.epochs.last().map_or(self.leader_epoch, |&(e, _)| e.max(self.leader_epoch));
        if epoch < 0 {
            return UNDEFINED;
        }
        if epoch == latest {
            return (epoch, self.log_end_offset);
        }
        let mut epochs = self.epochs.clone();
        if epochs.last().is_none_or(|&(e, _)| e < self.leader_epoch) {
            epochs.push((self.leader_epoch, self.log_end_offset));
        }
        let Some(higher) = epochs.iter().find(|&&(e, _)| e > epoch) else { return UNDEFINED };
        match epochs.iter().rev().find(|&&(e, _)| e <= epoch) {
            Some(&(floor, _)) => (floor, higher.1),
            None => (epoch, higher.1),
        }
    }

    /// The leader epoch the partition is led in.
    pub fn leader_epoch(&self) -> i32 {
        self.leader_epoch
    }
}

/// Kafka's `LogSegment.largestTimestamp`: the largest record timestamp, or the file's last
/// modification time when no record carries one.
fn largest_timestamp(seg: &Segment) -> i64 {
    if seg.max_timestamp >= 0 {
        return seg.max_timestamp;
    }
    seg.file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(seg.created_ms, |d| d.as_millis() as i64)
}
