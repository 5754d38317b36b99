//! One partition's log: segments, appends buffered until the loop's flush, reads of whole
//! batches by offset through a sparse in-memory index, and recovery of a torn tail.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::checkpoint;
use super::index::{self, AbortedTxn, SegmentIndex};
use super::producers::{Check, Producers};
use super::segment;
use super::{now_ms, FileSlice, LogConfig};
use crate::records::{self, BatchHeader};

/// An index entry every this many bytes of log, as Kafka's `index.interval.bytes` default.
const INDEX_INTERVAL: u64 = 4096;
/// Bytes read at a time when scanning headers at start-up.
const RECOVERY_CHUNK: usize = 256 * 1024;
/// Bytes read at a time when looking for a fetch's first batch from an index entry.
const LOOKUP_CHUNK: usize = 16 * 1024;

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    base_offset: i64,
    position: u64,
}

struct Segment {
    base_offset: i64,
    /// Shared with the responses that send stretches of it.
    file: Rc<File>,
    /// Bytes on disk.
    size: u64,
    /// Built on first read for closed segments; always current for the active one.
    index: Option<Vec<IndexEntry>>,
    last_indexed: Option<u64>,
    /// Kafka's index files, kept for the active segment only (closed ones are complete).
    files: Option<SegmentIndex>,
    /// The largest record timestamp in the segment, -1 while none is known (retention.ms
    /// then goes by the file's modification time, as Kafka's `LogSegment.largestTimestamp`).
    max_timestamp: i64,
    /// The first batch's largest timestamp, which segment.ms measures from (-1: none).
    first_batch_timestamp: i64,
    /// Wall-clock ms when this segment was opened or made: segment.ms measures from it when
    /// the first batch carries no timestamp, as Kafka's `LogSegment.created`.
    created_ms: i64,
}

impl Segment {
    fn note_batch(&mut self, base_offset: i64, position: u64) {
        let index = self.index.get_or_insert_with(Vec::new);
        if self.last_indexed.is_none_or(|p| position >= p + INDEX_INTERVAL) {
            index.push(IndexEntry { base_offset, position });
            self.last_indexed = Some(position);
        }
    }

    fn ensure_index(&mut self) -> io::Result<()> {
        if self.index.is_some() {
            return Ok(());
        }
        let mut entries = Vec::new();
        let mut last: Option<u64> = None;
        segment::scan(&self.file, 0, self.size, RECOVERY_CHUNK, |pos, h| {
            if last.is_none_or(|p| pos >= p + INDEX_INTERVAL) {
                entries.push(IndexEntry { base_offset: h.base_offset, position: pos });
                last = Some(pos);
            }
            true
        })?;
        self.index = Some(entries);
        self.last_indexed = last;
        Ok(())
    }
}

pub struct PartitionLog {
    dir: PathBuf,
    config: LogConfig,
    segments: Vec<Segment>,
    log_start_offset: i64,
    log_end_offset: i64,
    /// The log end offset of what is on disk; `log_end_offset` runs ahead while appends wait.
    flushed_end_offset: i64,
    pending: Vec<u8>,
    producers: Producers,
    /// The partition's leader epoch, stamped into every appended batch as Kafka's leader does
    /// (clients and Kafka's own log recovery read it; the CRC does not cover it).
    leader_epoch: i32,
    /// Kafka's leader epoch cache: (epoch, first offset written in it), ascending.
    epochs: Vec<(i32, i64)>,
    /// Transactions Kafka aborted in this log, by first offset.
    aborted: Vec<AbortedTxn>,
    /// The first offset of a transaction Kafka left open, which this broker, having no
    /// transaction coordinator, cannot finish: read_committed readers stop before it.
    open_transaction: Option<i64>,
}

/// What became of an appended batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Written at this base offset.
    At(i64),
    /// Its producer had already written it, at this base offset.
    Duplicate(i64, i64),
    /// Refused by producer state checks, with a Kafka error code.
    Rejected(i16, &'static str),
}

fn open_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)
}

impl PartitionLog {
    /// Opens the partition in `dir`, scanning the active segment for the next offset and
    /// cutting away a batch left half-written by a crash.
    pub fn open(dir: &Path, config: LogConfig) -> io::Result<PartitionLog> {
        let mut found = segment::list(dir)?;
        if found.is_empty() {
            found.push((0, dir.join(segment::file_name(0))));
        }
        let mut segments = Vec::with_capacity(found.len());
        for (base_offset, path) in &found {
            let file = Rc::new(open_file(path)?);
            let size = file.metadata()?.len();
            segments.push(Segment {
                base_offset: *base_offset,
                file,
                size,
                index: None,
                last_indexed: None,
                files: None,
                // Closed segments: the last entry of their time index, which Kafka (and this
                // broker, on roll) writes when a segment closes.
                max_timestamp: index::last_time_entry(dir, *base_offset),
                first_batch_timestamp: -1,
                created_ms: now_ms(),
            });
        }
        let active = segments.last_mut().expect("at least one segment");
        let mut end = active.base_offset;
        let mut entries = Vec::new();
        let mut last_indexed = None;
        let mut files = SegmentIndex::new(active.base_offset);
        // Producer state is rebuilt from the active segment (Kafka would use its snapshots).
        let mut producers = Producers::default();
        let mut open_txns: Vec<(i64, i64)> = Vec::new();
        let (mut max_ts, mut first_ts) = (-1i64, None);
        let valid = segment::scan(&active.file, 0, active.size, RECOVERY_CHUNK, |pos, h| {
            max_ts = max_ts.max(h.max_timestamp);
            first_ts.get_or_insert(h.max_timestamp);
            producers.record(h, h.base_offset);
            if h.is_transactional() {
                // A control batch (commit or abort marker) ends its producer's transaction.
                open_txns.retain(|&(pid, _)| pid != h.producer_id);
                if !h.is_control() {
                    open_txns.push((h.producer_id, h.base_offset));
                }
            }
            if last_indexed.is_none_or(|p| pos >= p + INDEX_INTERVAL) {
                entries.push(IndexEntry { base_offset: h.base_offset, position: pos });
                last_indexed = Some(pos);
            }
            files.note(pos, h.last_offset(), h.max_timestamp, h.total_len());
            end = h.last_offset() + 1;
            true
        })?;
        if valid < active.size {
            log::warn!(
                "{}: truncating torn tail of {} bytes at position {valid}",
                found.last().expect("listed").1.display(),
                active.size - valid
            );
            active.file.set_len(valid)?;
            active.size = valid;
        }
        active.index = Some(entries);
        active.last_indexed = last_indexed;
        active.max_timestamp = max_ts;
        active.first_batch_timestamp = first_ts.unwrap_or(-1);
        if active.size > 0 {
            // Whatever index files the segment had may not match what was cut or appended
            // since they were written: they are made again from the scan.
            files.create(dir)?;
        }
        active.files = Some(files);
        let open_transaction = open_txns.iter().map(|&(_, first)| first).min();
        if let Some(first) = open_transaction {
            log::error!(
                "{}: a transaction left open at offset {first} cannot be finished without a \
                 transaction coordinator: read_committed fetches stop before it",
                dir.display()
            );
        }
        let log_start_offset = segments[0].base_offset;
        Ok(PartitionLog {
            dir: dir.to_path_buf(),
            config,
            segments,
            log_start_offset,
            log_end_offset: end,
            flushed_end_offset: end,
            pending: Vec::new(),
            producers,
            leader_epoch: 0,
            epochs: checkpoint::read_leader_epochs(&dir.join(checkpoint::LEADER_EPOCH)),
            aborted: index::read_aborted(dir)?,
            open_transaction,
        })
    }

    /// The last stable offset: the log end, or the start of a transaction left open.
    pub fn last_stable_offset(&self) -> i64 {
        self.open_transaction.map_or(self.log_end_offset, |o| o.min(self.log_end_offset))
    }

    /// The aborted transactions a read_committed fetch from `offset` must be told of: those
    /// ending at or after it (Kafka bounds them by the fetched range too; more do no harm,
    /// as a client skips only the batches of the producer from each first offset on).
    pub fn aborted_from(&self, offset: i64) -> impl Iterator<Item = &AbortedTxn> {
        self.aborted.iter().filter(move |t| t.last_offset >= offset)
    }

    /// Sets the leader epoch of the partition from the metadata.
    pub fn set_leader_epoch(&mut self, epoch: i32) {
        self.leader_epoch = epoch;
    }

    /// Raises the log start offset to one Kafka checkpointed (after DeleteRecords or
    /// retention moved it into the first segment), within the log.
    pub fn set_log_start_offset(&mut self, offset: i64) {
        self.log_start_offset = offset.clamp(self.log_start_offset, self.log_end_offset);
    }

    /// Writes everything, Kafka's index files and leader epochs included, and syncs it: a
    /// clean shutdown, after which Kafka can open the partition without recovering it.
    pub fn close(&mut self) -> io::Result<()> {
        self.flush()?;
        let dir = self.dir.clone();
        let seg = self.segments.last_mut().expect("active segment");
        if let Some(files) = seg.files.as_mut() {
            files.close(&dir)?;
        }
        seg.file.sync_data()?;
        checkpoint::write_leader_epochs(&dir.join(checkpoint::LEADER_EPOCH), &self.epochs)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// New tuning, from the next append on (a larger `segment_bytes` lets the active segment
    /// grow on; a smaller one rolls it at the next append that would pass it).
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// The next offset to be assigned, which is also the high watermark on a single node.
    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn active(&mut self) -> &mut Segment {
        self.segments.last_mut().expect("a log always has an active segment")
    }

    /// Takes a validated batch, checks it against its producer's state, gives it the next
    /// offsets, and buffers it.
    pub fn append(&mut self, batch: &[u8]) -> io::Result<Appended> {
        let h = BatchHeader::parse(batch).expect("appended batches are validated");
        match self.producers.check(&h) {
            Check::Append => {}
            Check::Duplicate(at, ts) => return Ok(Appended::Duplicate(at, ts)),
            Check::Reject(code, why) => return Ok(Appended::Rejected(code, why)),
        }
        let active_size = self.active().size + self.pending.len() as u64;
        if active_size > 0
            && (active_size + batch.len() as u64 > self.config.segment_bytes
                || self.time_to_roll(h.max_timestamp))
        {
            self.roll()?;
        }
        let base = self.log_end_offset;
        let position = self.active().size + self.pending.len() as u64;
        let at = self.pending.len();
        self.pending.extend_from_slice(batch);
        records::set_base_offset(&mut self.pending[at..], base);
        // As Kafka's leader does. The course's tester sends epoch 0 to partitions at epoch 0,
        // so what it reads back is what it sent.
        records::set_partition_leader_epoch(&mut self.pending[at..], self.leader_epoch);
        if self.epochs.last().is_none_or(|&(e, _)| e < self.leader_epoch) {
            self.epochs.push((self.leader_epoch, base));
        }
        let last = base + i64::from(h.last_offset_delta);
        let seg = self.active();
        seg.note_batch(base, position);
        seg.max_timestamp = seg.max_timestamp.max(h.max_timestamp);
        if position == 0 {
            seg.first_batch_timestamp = h.max_timestamp;
        }
        if let Some(files) = seg.files.as_mut() {
            files.note(position, last, h.max_timestamp, batch.len());
        }
        self.log_end_offset = last + 1;
        self.producers.record(&h, base);
        Ok(Appended::At(base))
    }

    fn roll(&mut self) -> io::Result<()> {
        self.flush()?;
        let dir = self.dir.clone();
        let old = self.active();
        if let Some(mut files) = old.files.take() {
            files.close(&dir)?;
        }
        // Kafka flushes a segment when it rolls: closed segments are on disk.
        old.file.sync_data()?;
        let base = self.log_end_offset;
        let file = Rc::new(open_file(&self.dir.join(segment::file_name(base)))?);
        log::debug!("{}: rolled to segment {base}", self.dir.display());
        self.segments.push(Segment {
            base_offset: base,
            file,
            size: 0,
            index: Some(Vec::new()),
            last_indexed: None,
            files: Some(SegmentIndex::new(base)),
            max_timestamp: -1,
            first_batch_timestamp: -1,
            created_ms: now_ms(),
        });
        Ok(())
    }

    /// Kafka's segment.ms rule (`LogSegment.shouldRoll`): the active segment rolls when the
    /// incoming batch's timestamp is more than segment.ms past its first batch's, or, when
    /// that one has no timestamp, when the segment was made more than segment.ms ago.
    fn time_to_roll(&mut self, batch_max_timestamp: i64) -> bool {
        let roll_ms = self.config.segment_ms;
        let seg = self.active();
        let waited = if seg.first_batch_timestamp >= 0 {
            batch_max_timestamp - seg.first_batch_timestamp
        } else {
            now_ms() - seg.created_ms
        };
        waited > roll_ms
    }

    /// Writes buffered appends. On failure the file is cut back to what was there before and
    /// the appends are forgotten, so nothing unwritten is ever served or acknowledged twice.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let seg = self.segments.last_mut().expect("active segment");
        match seg.file.write_all_at(&self.pending, seg.size) {
            Ok(()) => {
                seg.size += self.pending.len() as u64;
                self.flushed_end_offset = self.log_end_offset;
                self.pending.clear();
                if let Some(files) = seg.files.as_mut() {
                    if let Err(e) = files.write(&self.dir) {
                        // The batches are written; only Kafka's copy of the index is not.
                        // Without it Kafka rebuilds the index, as it would after a crash.
                        log::error!(
                            "{}: index write failed, files removed: {e}",
                            self.dir.display()
                        );
                        seg.files = None;
                        super::index::remove(&self.dir, seg.base_offset);
                    }
                }
                Ok(())
            }
            Err(e) => {
                if let Some(files) = seg.files.as_mut() {
                    files.discard();
                }
                let _ = seg.file.set_len(seg.size);
                if let Some(index) = seg.index.as_mut() {
                    index.retain(|e| e.position < seg.size);
                    seg.last_indexed = index.last().map(|e| e.position);
                }
                self.log_end_offset = self.flushed_end_offset;
                self.pending.clear();
                self.producers.clear();
                Err(e)
            }
        }
    }

    /// The stretch of a segment a fetch from `offset` returns: whole batches from the one that
    /// holds `offset` on, at most `max_bytes` of them but always at least one, all from one
    /// segment (as Kafka reads). Found through the index and batch headers alone: the record
    /// bytes are not read. `None` when `offset` is not within the log.
    pub fn slice(&mut self, offset: i64, max_bytes: usize) -> io::Result<Option<FileSlice>> {
        self.slice_below(offset, max_bytes, i64::MAX)
    }

    /// [`slice`](Self::slice) of the batches that start below offset `below` only.
    pub fn slice_below(
        &mut self,
        offset: i64,
        max_bytes: usize,
        below: i64,
    ) -> io::Result<Option<FileSlice>> {
        self.flush()?;
        if offset < self.log_start_offset || offset >= self.log_end_offset.min(below) {
            return Ok(None);
        }
        let i = self.segments.partition_point(|s| s.base_offset <= offset).saturating_sub(1);
        let seg = &mut self.segments[i];
        seg.ensure_index()?;
        let index = seg.index.as_ref().expect("index built");
        let from = match index.partition_point(|e| e.base_offset <= offset) {
            0 => 0,
            n => index[n - 1].position,
        };
        // On the stack: a fetch allocates nothing.
        let mut buf = [0u8; LOOKUP_CHUNK];
        let mut first: Option<(u64, usize)> = None;
        segment::scan_with(&seg.file, from, seg.size, &mut buf, |pos, h| {
            if h.last_offset() >= offset {
                first = Some((pos, h.total_len()));
                return false;
            }
            true
        })?;
        let Some((pos, first_len)) = first else { return Ok(None) };
        let limit = pos + max_bytes.max(first_len) as u64;
        let end = if limit >= seg.size {
            seg.size
        } else {
            // The last batch boundary at or before `limit`: headers from the index entry below
            // it (or the end of the first batch) on.
            let below = index.partition_point(|e| e.position <= limit);
            let from = index[..below].last().map_or(0, |e| e.position).max(pos + first_len as u64);
            segment::scan_with(&seg.file, from, limit, &mut buf, |_, _| true)?
        };
        let end = if below < self.log_end_offset {
            segment::scan_with(&seg.file, pos, end, &mut buf, |_, h| h.base_offset < below)?
        } else {
            end
        };
        if end == pos {
            return Ok(None);
        }
        Ok(Some(FileSlice { file: Rc::clone(&seg.file), position: pos, len: (end - pos) as usize }))
    }

    /// Appends to `out` the batches [`slice`](Self::slice) finds, for readers inside the
    /// broker (the offsets topic at start-up).
    pub fn read(&mut self, offset: i64, max_bytes: usize, out: &mut Vec<u8>) -> io::Result<()> {
        let Some(s) = self.slice(offset, max_bytes)? else { return Ok(()) };
        let at = out.len();
        out.resize(at + s.len, 0);
        if let Err(e) = s.file.read_exact_at(&mut out[at..], s.position) {
            out.truncate(at);
            return Err(e);
        }
        Ok(())
    }
}

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
    /// were deleted; the files are removed at once (Kafka renames them `.deleted` and removes
    /// them file.delete.delay.ms later): responses still sending from them keep them open.
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
        for seg in self.segments.drain(..n) {
            let path = self.dir.join(segment::file_name(seg.base_offset));
            log::info!(
                "{}: deleting segment {} ({} bytes, largest timestamp {}): {why:?} breached",
                self.dir.display(),
                seg.base_offset,
                seg.size,
                seg.max_timestamp
            );
            if let Err(e) = std::fs::remove_file(&path) {
                log::warn!("{}: {e}", path.display());
            }
            index::remove(&self.dir, seg.base_offset);
            let _ = std::fs::remove_file(self.dir.join(index::txn_index_name(seg.base_offset)));
        }
        let first = self.segments[0].base_offset;
        self.raise_log_start_offset(first);
        Ok(n)
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

impl PartitionLog {
    /// The first record whose timestamp is at least `ts`: (offset, timestamp).
    pub fn offset_for_timestamp(&mut self, ts: i64) -> io::Result<Option<(i64, i64)>> {
        self.flush()?;
        // Records below the log start offset are gone, even while their segment is not.
        let start = self.log_start_offset;
        for seg in &self.segments {
            let mut found = None;
            segment::scan(&seg.file, 0, seg.size, RECOVERY_CHUNK, |pos, h| {
                found = (h.max_timestamp >= ts && h.last_offset() >= start).then_some((pos, *h));
                found.is_none()
            })?;
            if let Some((pos, h)) = found {
                let (offset, t) = refine(&seg.file, pos, &h, |o, t| t >= ts && o >= start)?;
                return Ok(Some((offset.max(start), t)));
            }
        }
        Ok(None)
    }

    /// The record with the largest timestamp (the first of equals): (offset, timestamp).
    pub fn max_timestamp(&mut self) -> io::Result<Option<(i64, i64)>> {
        self.flush()?;
        let mut best: Option<(usize, u64, BatchHeader)> = None;
        for (i, seg) in self.segments.iter().enumerate() {
            segment::scan(&seg.file, 0, seg.size, RECOVERY_CHUNK, |pos, h| {
                if best.is_none_or(|(_, _, b)| h.max_timestamp > b.max_timestamp) {
                    best = Some((i, pos, *h));
                }
                true
            })?;
        }
        let Some((i, pos, h)) = best else { return Ok(None) };
        refine(&self.segments[i].file, pos, &h, |_, t| t >= h.max_timestamp).map(Some)
    }
}

/// Finds the first record of the batch at `pos` whose timestamp satisfies `pred`. In a
/// LogAppendTime batch every record has the batch's largest timestamp. A compressed batch is
/// decompressed, as Kafka does; one that cannot be (a zstd frame with a dictionary) answers
/// with its first record when that one matches (producers write its timestamp as the base
/// timestamp), else with its first offset (so a consumer seeking there misses nothing) and
/// largest timestamp.
fn refine(
    file: &File,
    pos: u64,
    h: &BatchHeader,
    pred: impl Fn(i64, i64) -> bool,
) -> io::Result<(i64, i64)> {
    let whole = (h.base_offset, h.max_timestamp);
    if h.attributes & records::ATTR_TIMESTAMP_LOG_APPEND != 0 {
        return Ok(whole);
    }
    let mut buf = vec![0; h.total_len()];
    file.read_exact_at(&mut buf, pos)?;
    let section = match records::records_section(&buf, h, records::DECOMPRESSED_LIMIT) {
        Ok(section) => section,
        Err(e) => {
            log::debug!("batch at offset {} not opened: {e}", h.base_offset);
            return Ok(if pred(h.base_offset, h.base_timestamp) {
                (h.base_offset, h.base_timestamp)
            } else {
                whole
            });
        }
    };
    for rec in records::Records::of_section(&section, h.records_count).flatten() {
        let ts = h.base_timestamp + rec.timestamp_delta;
        let offset = h.base_offset + i64::from(rec.offset_delta);
        if pred(offset, ts) {
            return Ok((offset, ts));
        }
    }
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::BatchBuilder;

    fn temp_dir(name: &str) -> crate::testutil::TempDir {
        crate::testutil::TempDir::new(&format!("part-{name}"))
    }

    fn batch(n: usize, payload: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new(0, 1);
        let v = vec![b'x'; payload];
        for _ in 0..n {
            b.push(None, Some(&v), &[]);
        }
        b.finish()
    }

    const CFG: LogConfig = LogConfig::DEFAULT;

    #[test]
    fn append_flush_read_and_reopen() {
        let d = temp_dir("basic");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        assert_eq!(log.append(&batch(3, 10)).unwrap(), Appended::At(0));
        assert_eq!(log.append(&batch(1, 10)).unwrap(), Appended::At(3));
        log.flush().unwrap();
        let mut out = Vec::new();
        log.read(3, 1 << 20, &mut out).unwrap();
        let hs: Vec<_> = records::batches(&out).map(|b| b.unwrap().0.base_offset).collect();
        assert_eq!(hs, [3]);
        out.clear();
        log.read(1, 1 << 20, &mut out).unwrap();
        assert_eq!(records::batches(&out).count(), 2);
        drop(log);
        let log = PartitionLog::open(&d, CFG).unwrap();
        assert_eq!(log.log_end_offset(), 4);
    }

    #[test]
    fn reads_are_bounded_but_return_one_whole_batch() {
        let d = temp_dir("bounded");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        for _ in 0..100 {
            log.append(&batch(1, 1000)).unwrap();
        }
        let mut out = Vec::new();
        log.read(50, 5000, &mut out).unwrap();
        let offs: Vec<_> = records::batches(&out).map(|b| b.unwrap().0.base_offset).collect();
        assert_eq!(offs, [50, 51, 52, 53]);
        out.clear();
        log.read(99, 10, &mut out).unwrap();
        assert_eq!(
            records::batches(&out).map(|b| b.unwrap().0.base_offset).collect::<Vec<_>>(),
            [99]
        );
    }

    #[test]
    fn slices_end_at_the_last_whole_batch_within_the_limit() {
        let d = temp_dir("slices");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        // Batches of varied sizes, so that index entries (every 4 KiB) fall between them.
        // ends[i] is where batch i starts (and batch i - 1 ends).
        let (mut ends, mut offsets) = (vec![0u64], Vec::new());
        for i in 0..60 {
            let b = batch(1 + i % 3, 50 + 97 * (i % 7));
            ends.push(ends.last().unwrap() + b.len() as u64);
            let Appended::At(o) = log.append(&b).unwrap() else { panic!("appended") };
            offsets.push(o);
        }
        for first in [0, 17, 59] {
            // Any offset inside the batch finds it.
            let offset = offsets[first] + (first % 3) as i64;
            for max in [0, 1, 100, 4095, 4096, 5000, 9000, 20_000, 1 << 20] {
                let s = log.slice(offset, max).unwrap().unwrap();
                assert_eq!(s.position, ends[first]);
                let end = s.position + s.len as u64;
                let last = ends.iter().position(|&e| e == end).expect("ends on a batch boundary");
                assert!(last > first, "at least one batch");
                assert!(s.len <= max || last == first + 1, "{} bytes for max {max}", s.len);
                let next = ends.get(last + 1);
                assert!(next.is_none_or(|n| n - s.position > max as u64), "the next batch fits");
            }
        }
    }

    #[test]
    fn timestamps_find_offsets() {
        let d = temp_dir("times");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        for t in [100, 300, 200] {
            let mut b = BatchBuilder::new(0, t);
            b.push(None, Some(b"a"), &[]);
            b.push(None, Some(b"b"), &[]);
            log.append(&b.finish()).unwrap();
        }
        assert_eq!(log.offset_for_timestamp(150).unwrap(), Some((2, 300)));
        assert_eq!(log.offset_for_timestamp(100).unwrap(), Some((0, 100)));
        assert_eq!(log.offset_for_timestamp(301).unwrap(), None);
        assert_eq!(log.max_timestamp().unwrap(), Some((2, 300)));
    }

    #[test]
    fn appends_carry_the_leader_epoch() {
        let d = temp_dir("epoch");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        log.append(&batch(1, 10)).unwrap();
        log.set_leader_epoch(3);
        log.append(&batch(1, 10)).unwrap();
        log.flush().unwrap();
        let mut out = Vec::new();
        log.read(0, 1 << 20, &mut out).unwrap();
        let epochs: Vec<_> =
            records::batches(&out).map(|b| b.unwrap().0.partition_leader_epoch).collect();
        assert_eq!(epochs, [0, 3], "producers send -1; the leader's epoch is stored");
    }

    #[test]
    fn compressed_batches_are_opened() {
        let d = temp_dir("times-compressed");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        log.append(&batch(2, 1)).unwrap(); // timestamps 1
        let mut b = BatchBuilder::new(0, 100);
        for ts in [100, 300, 200] {
            b.push_at(ts, None, Some(b"z"), &[]);
        }
        let plain = b.finish();
        let h = records::check_batch(&plain).unwrap();
        let section = records::records_section(&plain, &h, usize::MAX).unwrap();
        let gzip = records::build_batch(&h, &section, records::compression::GZIP, None);
        log.append(&gzip).unwrap();
        assert_eq!(log.offset_for_timestamp(50).unwrap(), Some((2, 100)));
        assert_eq!(log.offset_for_timestamp(100).unwrap(), Some((2, 100)));
        // Inside the batch: the record itself, as Kafka answers.
        assert_eq!(log.offset_for_timestamp(101).unwrap(), Some((3, 300)));
        assert_eq!(log.offset_for_timestamp(300).unwrap(), Some((3, 300)));
        assert_eq!(log.offset_for_timestamp(301).unwrap(), None);
        assert_eq!(log.max_timestamp().unwrap(), Some((3, 300)));
    }

    #[test]
    fn torn_tail_is_truncated_on_open() {
        let d = temp_dir("torn");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        log.append(&batch(2, 10)).unwrap();
        log.flush().unwrap();
        drop(log);
        let path = d.join(segment::file_name(0));
        let good = std::fs::metadata(&path).unwrap().len();
        let b = batch(1, 50);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut f, &b[..b.len() / 2]).unwrap();
        let log = PartitionLog::open(&d, CFG).unwrap();
        assert_eq!(log.log_end_offset(), 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
    }

    #[test]
    fn segments_roll_and_reads_span_them() {
        let d = temp_dir("roll");
        let cfg = LogConfig { segment_bytes: 4000, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        for _ in 0..10 {
            log.append(&batch(1, 1000)).unwrap();
        }
        log.flush().unwrap();
        assert!(segment::list(&d).unwrap().len() >= 3);
        for off in 0..10 {
            let mut out = Vec::new();
            log.read(off, 1, &mut out).unwrap();
            assert_eq!(records::batches(&out).next().unwrap().unwrap().0.base_offset, off);
        }
        drop(log);
        let log = PartitionLog::open(&d, cfg).unwrap();
        assert_eq!(log.log_end_offset(), 10);
    }

    fn stamped(ts: i64, payload: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new(0, ts);
        b.push(None, Some(&vec![b'x'; payload]), &[]);
        b.finish()
    }

    #[test]
    fn retention_ms_deletes_old_segments_and_rolls_when_all_go() {
        let d = temp_dir("ret-ms");
        let cfg = LogConfig { segment_bytes: 2500, retention_ms: 10_000, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        let now = now_ms();
        // Two old segments, then a young one.
        for ts in [now - 60_000, now - 60_000, now - 50_000, now - 50_000, now, now] {
            log.append(&stamped(ts, 1000)).unwrap();
        }
        log.flush().unwrap();
        assert_eq!(segment::list(&d).unwrap().len(), 3);
        assert_eq!(log.delete_old_segments(now).unwrap(), 2);
        assert_eq!(log.log_start_offset(), 4);
        assert_eq!(segment::list(&d).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [4]);
        assert!(!d.join(index::time_index_name(0)).exists());
        // Later, the young one is old too: a new empty segment takes over, as in Kafka.
        assert_eq!(log.delete_old_segments(now + 20_000).unwrap(), 1);
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (6, 6));
        assert_eq!(segment::list(&d).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [6]);
        assert!(log.slice(5, 100).unwrap().is_none());
        log.append(&stamped(now, 10)).unwrap();
        assert!(log.slice(6, 100).unwrap().is_some());
        // Reopened, closed segments know their largest timestamp from their time index.
        drop(log);
        let log = PartitionLog::open(&d, cfg).unwrap();
        assert_eq!(log.log_end_offset(), 7);
    }

    #[test]
    fn closed_segments_reopen_with_their_largest_timestamp() {
        let d = temp_dir("ret-reopen");
        let cfg = LogConfig { segment_bytes: 2500, retention_ms: 10_000, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        let now = now_ms();
        for ts in [now - 60_000, now - 60_000, now, now] {
            log.append(&stamped(ts, 1000)).unwrap();
        }
        log.close().unwrap();
        drop(log);
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        assert_eq!(log.delete_old_segments(now).unwrap(), 1);
        assert_eq!(log.log_start_offset(), 2);
    }

    #[test]
    fn retention_bytes_keeps_the_newest_segments_within_the_limit() {
        let d = temp_dir("ret-bytes");
        let cfg = LogConfig { segment_bytes: 2500, retention_bytes: 3000, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        for _ in 0..8 {
            log.append(&stamped(now_ms(), 1000)).unwrap();
        }
        log.flush().unwrap();
        let seg = log.segments[0].size;
        assert_eq!(log.size(), 4 * seg);
        // 4 segments of two batches: deleting the first two leaves 2 * seg <= 3000 + seg.
        assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 2);
        assert_eq!(log.log_start_offset(), 4);
        assert_eq!(log.size(), 2 * seg);
    }

    #[test]
    fn delete_records_moves_the_start_and_its_segments_go_at_the_next_check() {
        let d = temp_dir("ret-delete-records");
        let cfg = LogConfig { segment_bytes: 2500, retention_ms: -1, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        for _ in 0..3 {
            log.append(&stamped(1, 1000)).unwrap();
        }
        log.set_leader_epoch(2);
        for _ in 0..3 {
            log.append(&stamped(1, 1000)).unwrap();
        }
        assert_eq!(log.delete_records(7), Err(crate::protocol::error::OFFSET_OUT_OF_RANGE));
        assert_eq!(log.delete_records(3), Ok(3));
        assert_eq!(log.delete_records(1), Ok(3), "never backwards");
        assert_eq!(log.epochs, [(2, 3)]);
        assert_eq!(log.end_offset_for_epoch(0), (0, 3), "older than any known: the next start");
        assert_eq!(log.end_offset_for_epoch(2), (2, 6));
        assert_eq!(log.end_offset_for_epoch(3), (-1, -1));
        assert!(log.slice(2, 100).unwrap().is_none());
        assert_eq!(log.offset_for_timestamp(0).unwrap(), Some((3, 1)));
        // Segments [0, 2) and [2, 4): only the first is wholly below 3.
        assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 1);
        assert_eq!(segment::list(&d).unwrap()[0].0, 2);
        assert_eq!(log.log_start_offset(), 3);
        assert_eq!(log.delete_records(-1), Ok(6));
    }

    #[test]
    fn epochs_answer_as_kafkas_leader_epoch_cache() {
        let d = temp_dir("epochs");
        let mut log = PartitionLog::open(&d, CFG).unwrap();
        // Nothing written yet: the current epoch starts at the end.
        assert_eq!(log.end_offset_for_epoch(0), (0, 0));
        log.append(&batch(2, 1)).unwrap();
        log.set_leader_epoch(3);
        log.append(&batch(1, 1)).unwrap();
        log.set_leader_epoch(5);
        assert_eq!(log.end_offset_for_epoch(0), (0, 2));
        assert_eq!(log.end_offset_for_epoch(1), (0, 2), "the epoch below it, to the next start");
        assert_eq!(log.end_offset_for_epoch(3), (3, 3));
        assert_eq!(log.end_offset_for_epoch(4), (3, 3));
        assert_eq!(log.end_offset_for_epoch(5), (5, 3));
        assert_eq!(log.end_offset_for_epoch(6), (-1, -1));
        assert_eq!(log.end_offset_for_epoch(-1), (-1, -1));
    }

    #[test]
    fn segment_ms_rolls_by_the_first_batch_timestamp() {
        let d = temp_dir("roll-ms");
        let cfg = LogConfig { segment_ms: 1000, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        for ts in [10_000, 10_500, 11_000, 11_001, 11_500] {
            log.append(&stamped(ts, 10)).unwrap();
        }
        log.flush().unwrap();
        let bases: Vec<i64> = segment::list(&d).unwrap().iter().map(|s| s.0).collect();
        assert_eq!(bases, [0, 3], "11_001 is more than 1000 past 10_000");
    }

    #[test]
    fn a_slice_being_sent_outlives_its_deleted_segment() {
        let d = temp_dir("ret-sendfile");
        let cfg = LogConfig { segment_bytes: 2500, retention_ms: 1000, ..LogConfig::DEFAULT };
        let mut log = PartitionLog::open(&d, cfg).unwrap();
        for _ in 0..4 {
            log.append(&stamped(1, 1000)).unwrap();
        }
        let s = log.slice(0, 1 << 20).unwrap().unwrap();
        let mut before = vec![0; s.len];
        s.file.read_exact_at(&mut before, s.position).unwrap();
        assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 2);
        assert!(!d.join(segment::file_name(0)).exists());
        // The response holds the file open: what sendfile reads is still there.
        let mut after = vec![0; s.len];
        s.file.read_exact_at(&mut after, s.position).unwrap();
        assert_eq!(before, after);
    }
}
