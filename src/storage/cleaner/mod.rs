//! The log cleaner: compaction of `cleanup.policy=compact` logs as Kafka's `LogCleaner` does
//! it, run on the event loop's thread in bounded slices between turns.
//!
//! A round picks the dirtiest log whose dirty part (past its `cleaner-offset-checkpoint`
//! entry, up to the active segment, an open transaction or `min.compaction.lag.ms`) is over
//! `min.cleanable.dirty.ratio` of it, or has waited past `max.compaction.lag.ms`. It maps
//! every key of the dirty part to its last offset, then rewrites the log's closed segments,
//! in groups of up to `segment.bytes`, keeping the last record of each key, into cleaned
//! segments swapped in by Kafka's file-suffix protocol ([`swap`]). Tombstones get a delete
//! horizon of `delete.retention.ms` the first time they are cleaned and go in the first
//! cleaning after it; so do COMMIT and ABORT markers, from the first cleaning that finds no
//! record of their transaction left (an aborted transaction's records go in the first). It runs after the turn's answers are sent, in reads of at most
//! [`SLICE_BYTES`]: [`TURN_BUDGET`] of work a turn, or, while writers append, as long as it
//! takes to read [`KEEP_UP`] times what the turn appended (up to [`TURN_MAX`]), so that the
//! dirty part of a busy log does not outgrow it. A request arriving meanwhile waits at most that.
//! wait long behind it.

mod filter;
mod swap;

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use swap::complete_swaps;
use swap::{Cleaned, SegRef};

use super::checkpoint;
use super::index::AbortedTxn;
use super::{now_ms, LogId, PartitionLog};
use crate::records::{BatchHeader, HEADER_LEN};

/// Kafka's cleaner offset checkpoint, in the log directory.
pub const CLEANER_CHECKPOINT: &str = "cleaner-offset-checkpoint";

/// Bytes of log read per slice, and per read.
pub const SLICE_BYTES: usize = 32 * 1024;

/// The cleaner's share of one turn of the loop: slices run until it is spent. Small enough
/// that a request arriving meanwhile barely notices; the loop turns again at once while a
/// round is under way, so the cleaner still runs near the speed of its reads.
pub const TURN_BUDGET: Duration = Duration::from_micros(100);

/// Each appended byte is read twice by a round (to map its key, then to rewrite it), and the
/// clean part of the log once more each round: a turn reads this many times what it appended.
pub const KEEP_UP: u64 = 4;

/// The most a turn spends cleaning, however much it appended (the issue's "at most a
/// millisecond per turn").
pub const TURN_MAX: Duration = Duration::from_millis(1);

/// The broker's `log.cleaner.*` settings.
#[derive(Debug, Clone, Copy)]
pub struct CleanerConfig {
    /// log.cleaner.enable
    pub enable: bool,
    /// log.cleaner.backoff.ms: the pause when no log needs cleaning.
    pub backoff: Duration,
    /// log.cleaner.dedupe.buffer.size: bounds the keys one round maps.
    pub dedupe_buffer_size: u64,
}

impl CleanerConfig {
    pub const DEFAULT: CleanerConfig = CleanerConfig {
        enable: true,
        backoff: Duration::from_millis(15_000),
        dedupe_buffer_size: 128 << 20,
    };
}

/// What the cleaner has done since start-up (for the log and the bench).
#[derive(Debug, Clone, Copy, Default)]
pub struct CleanerStats {
    pub rounds: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub busy: Duration,
}

pub struct Cleaner {
    config: CleanerConfig,
    checkpoints: HashMap<(String, i32), i64>,
    checkpoint_path: PathBuf,
    next_check: Instant,
    map: filter::OffsetMap,
    job: Option<Job>,
    pub stats: CleanerStats,
}

/// One round of cleaning one log, carried across slices.
struct Job {
    id: LogId,
    topic: String,
    partition: i32,
    generation: u64,
    now_ms: i64,
    first_dirty: i64,
    first_uncleanable: i64,
    delete_retention_ms: i64,
    segment_bytes: u64,
    segs: Vec<SegRef>,
    last_batch_of_producer: HashMap<i64, (Option<i64>, i16)>,
    aborted: Vec<AbortedTxn>,
    /// What the rewrite has seen of transactions, across its groups.
    txns: filter::CleanedTxns,
    phase: Phase,
    buf: Vec<u8>,
    out: Vec<u8>,
    started: Instant,
    read: u64,
    written: u64,
}

enum Phase {
    /// Mapping keys of the dirty segments, from segment `seg` at `pos`.
    Map { seg: usize, pos: u64 },
    /// Rewriting groups of segments: `groups[g]` is being written, from segment `seg` at `pos`.
    Clean {
        groups: Vec<(usize, usize)>,
        g: usize,
        seg: usize,
        pos: u64,
        cleaned: Option<Box<Cleaned>>,
    },
}

/// Logs by id with their topic and partition, as the manager holds them.
pub struct Logs<'a> {
    pub logs: &'a mut [Option<PartitionLog>],
    pub by_topic: &'a HashMap<String, Vec<LogId>>,
}

impl Cleaner {
    pub fn new(log_dir: &Path, config: CleanerConfig) -> Cleaner {
        let checkpoint_path = log_dir.join(CLEANER_CHECKPOINT);
        Cleaner {
            checkpoints: checkpoint::read_offsets(&checkpoint_path),
            checkpoint_path,
            map: filter::OffsetMap::new(config.dedupe_buffer_size),
            next_check: Instant::now() + config.backoff.min(Duration::from_secs(1)),
            job: None,
            stats: CleanerStats::default(),
            config,
        }
    }

    /// When the loop must call [`tick`](Self::tick) next: now while a round is under way.
    pub fn next_wakeup(&self) -> Option<Instant> {
        if !self.config.enable {
            return None;
        }
        Some(if self.job.is_some() { Instant::now() } else { self.next_check })
    }

    /// Runs one slice of cleaning, or looks for a log to clean when it is time to. Returns
    /// the log it worked on (whose replaced segments are then to be removed in time).
    pub fn tick(&mut self, logs: Logs<'_>, now: Instant, appended: usize) -> Option<LogId> {
        if !self.config.enable {
            return None;
        }
        if self.job.is_none() {
            if now < self.next_check {
                return None;
            }
            match self.choose(&logs) {
                Some(job) => self.job = Some(job),
                None => {
                    self.next_check = now + self.config.backoff;
                    return None;
                }
            }
        }
        let t0 = Instant::now();
        let mut job = self.job.take().expect("a job");
        let id = job.id;
        let log = logs.logs.get_mut(job.id).and_then(Option::as_mut);
        let read_before = job.read;
        let keep_up = KEEP_UP * appended as u64;
        let outcome = match log {
            Some(log) if log.generation() == job.generation => loop {
                match self.slice(&mut job, log) {
                    Ok(false) => {
                        let spent = t0.elapsed();
                        let behind = job.read - read_before < keep_up;
                        if spent < TURN_BUDGET || (behind && spent < TURN_MAX) {
                            continue;
                        }
                        break Ok(false);
                    }
                    outcome => break outcome,
                }
            },
            _ => Err(io::Error::other("the log changed while it was cleaned")),
        };
        self.stats.busy += t0.elapsed();
        match outcome {
            Ok(false) => self.job = Some(job),
            Ok(true) => self.finish(job, &logs),
            Err(e) => {
                log::warn!("{}-{}: cleaning abandoned: {e}", job.topic, job.partition);
                if let Phase::Clean { cleaned: Some(c), .. } = &job.phase {
                    let _ = std::fs::remove_file(&c.path);
                }
                self.map.clear();
                self.next_check = now + self.config.backoff;
            }
        }
        Some(id)
    }

    /// The dirtiest log that needs cleaning (`grabFilthiestCompactedLog`).
    fn choose(&mut self, logs: &Logs<'_>) -> Option<Job> {
        let now = now_ms();
        let mut best: Option<(f64, LogId, &str, i32, swap::Cleanable)> = None;
        for (topic, ids) in logs.by_topic {
            for (p, &id) in ids.iter().enumerate() {
                let Some(log) = logs.logs[id].as_ref() else { continue };
                if !log.config().compact {
                    continue;
                }
                let key = (topic.clone(), p as i32);
                let c = log.cleanable(self.checkpoints.get(&key).copied(), now);
                let due = (c.overdue && c.dirty_bytes > 0)
                    || c.ratio() > log.config().min_cleanable_ratio;
                let ratio = if c.overdue { f64::INFINITY } else { c.ratio() };
                if due && best.as_ref().is_none_or(|b| ratio > b.0) {
                    best = Some((ratio, id, topic, p as i32, c));
                }
            }
        }
        let (_, id, topic, partition, c) = best?;
        let log = logs.logs[id].as_ref().expect("chosen from open logs");
        let segs = log.segments_below(c.first_uncleanable);
        let first = segs.iter().rposition(|s| s.base_offset <= c.first_dirty).unwrap_or(0);
        log::info!(
            "{topic}-{partition}: cleaning offsets {}..{} ({} dirty bytes of {})",
            c.first_dirty,
            c.first_uncleanable,
            c.dirty_bytes,
            c.dirty_bytes + c.clean_bytes
        );
        self.map.clear();
        Some(Job {
            id,
            topic: topic.to_string(),
            partition,
            generation: log.generation(),
            now_ms: now,
            first_dirty: c.first_dirty,
            first_uncleanable: c.first_uncleanable,
            delete_retention_ms: log.config().delete_retention_ms,
            segment_bytes: log.config().segment_bytes,
            last_batch_of_producer: log.last_batches_of_producers(),
            aborted: log.aborted_txns().to_vec(),
            txns: filter::CleanedTxns::new(
                log.aborted_txns(),
                segs.first().map_or(0, |s| s.base_offset),
            ),
            segs,
            phase: Phase::Map { seg: first, pos: 0 },
            buf: Vec::new(),
            out: Vec::new(),
            started: Instant::now(),
            read: 0,
            written: 0,
        })
    }

    /// One slice of `job`; true when the round is done.
    fn slice(&mut self, job: &mut Job, log: &mut PartitionLog) -> io::Result<bool> {
        match &mut job.phase {
            Phase::Map { seg, pos } => {
                let Some(s) = job.segs.get(*seg) else {
                    job.phase = clean_phase(&job.segs, self.map.latest_offset, job.segment_bytes);
                    return Ok(false);
                };
                let (read, end) = read_batches(&s.file, *pos, s.size, &mut job.buf)?;
                job.read += read as u64;
                let mut done = 0;
                let mut full = false;
                for (at, h) in batches_in(&job.buf[..read]) {
                    if h.is_control() || filter::is_aborted(&h, &job.aborted) {
                        done = at + h.total_len();
                        continue;
                    }
                    let batch = &job.buf[at..at + h.total_len()];
                    if !filter::map_batch(&mut self.map, batch, &h, job.first_dirty) {
                        full = true;
                        break;
                    }
                    done = at + h.total_len();
                }
                *pos += done as u64;
                if full {
                    log::info!(
                        "{}-{}: offset map full at {} keys (log.cleaner.dedupe.buffer.size)",
                        job.topic,
                        job.partition,
                        self.map.len()
                    );
                } else if !end {
                    return Ok(false);
                } else {
                    // Offsets may have gaps at a segment's end: the map covers them.
                    let next =
                        job.segs.get(*seg + 1).map_or(job.first_uncleanable, |n| n.base_offset);
                    self.map.latest_offset = self.map.latest_offset.max(next - 1);
                    if *seg + 1 < job.segs.len() {
                        *seg += 1;
                        *pos = 0;
                        return Ok(false);
                    }
                }
                job.phase = clean_phase(&job.segs, self.map.latest_offset, job.segment_bytes);
                Ok(false)
            }
            Phase::Clean { groups, g, seg, pos, cleaned } => {
                let Some(&(first, end)) = groups.get(*g) else { return Ok(true) };
                let c = match cleaned {
                    Some(c) => c,
                    None => {
                        let base = job.segs[first].base_offset;
                        let interval = log.config().index_interval_bytes;
                        cleaned.insert(Box::new(Cleaned::create(log.dir(), base, interval)?))
                    }
                };
                let s = &job.segs[*seg];
                let (read, at_end) = read_batches(&s.file, *pos, s.size, &mut job.buf)?;
                job.read += read as u64;
                let round = filter::Round {
                    map: &self.map,
                    now_ms: job.now_ms,
                    delete_retention_ms: job.delete_retention_ms,
                    upper_bound: job.first_uncleanable,
                    last_batch_of_producer: &job.last_batch_of_producer,
                };
                job.out.clear();
                let mut done = 0;
                for (at, h) in batches_in(&job.buf[..read]) {
                    round.filter(&job.buf[at..at + h.total_len()], &h, &mut job.txns, &mut job.out);
                    done = at + h.total_len();
                }
                c.append(&job.out)?;
                job.written += job.out.len() as u64;
                *pos += done as u64;
                if !at_end {
                    return Ok(false);
                }
                if *seg + 1 < end {
                    *seg += 1;
                    *pos = 0;
                    return Ok(false);
                }
                let c = cleaned.take().expect("being written");
                c.file.sync_data()?;
                let replaced: Vec<i64> =
                    job.segs[first..end].iter().map(|s| s.base_offset).collect();
                let kept_aborted = std::mem::take(&mut job.txns.kept_aborted);
                log.swap_in(&replaced, *c, &kept_aborted)?;
                job.generation = log.generation();
                *g += 1;
                if let Some(&(next, _)) = groups.get(*g) {
                    (*seg, *pos) = (next, 0);
                    Ok(false)
                } else {
                    Ok(true)
                }
            }
        }
    }

    fn finish(&mut self, job: Job, logs: &Logs<'_>) {
        let end = self.map.latest_offset + 1;
        self.map.clear();
        self.stats.rounds += 1;
        self.stats.bytes_read += job.read;
        self.stats.bytes_written += job.written;
        let secs = job.started.elapsed().as_secs_f64();
        log::info!(
            "{}-{}: cleaned up to offset {end}: read {:.1} MB, wrote {:.1} MB in {:.3} s",
            job.topic,
            job.partition,
            job.read as f64 / 1e6,
            job.written as f64 / 1e6,
            secs
        );
        self.checkpoints.insert((job.topic, job.partition), end);
        self.write_checkpoint(logs);
    }

    /// Kafka's `cleaner-offset-checkpoint`: where each compacted log's dirty part begins.
    fn write_checkpoint(&mut self, logs: &Logs<'_>) {
        let open = |t: &str, p: i32| {
            logs.by_topic
                .get(t)
                .and_then(|ids| ids.get(p as usize))
                .is_some_and(|&id| logs.logs[id].is_some())
        };
        self.checkpoints.retain(|(t, p), _| open(t, *p));
        let entries: Vec<(&str, i32, i64)> =
            self.checkpoints.iter().map(|((t, p), o)| (t.as_str(), *p, *o)).collect();
        if let Err(e) = checkpoint::write_offsets(&self.checkpoint_path, &entries) {
            log::error!("{}: {e}", self.checkpoint_path.display());
        }
    }

    /// The checkpoint of a log, for tests and DescribeLogDirs-like reports.
    pub fn checkpoint(&self, topic: &str, partition: i32) -> Option<i64> {
        self.checkpoints.get(&(topic.to_string(), partition)).copied()
    }
}

/// The groups of segments a round rewrites (`groupSegmentsBySize`): consecutive segments
/// below the map's end, each group within `segment.bytes`, as (first, end) indexes.
fn clean_phase(segs: &[SegRef], latest_offset: i64, segment_bytes: u64) -> Phase {
    let upto = segs.iter().take_while(|s| s.base_offset <= latest_offset).count();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < upto {
        let (start, mut size) = (i, segs[i].size);
        i += 1;
        while i < upto && size + segs[i].size <= segment_bytes {
            size += segs[i].size;
            i += 1;
        }
        groups.push((start, i));
    }
    let seg = groups.first().map_or(0, |g| g.0);
    Phase::Clean { groups, g: 0, seg, pos: 0, cleaned: None }
}

/// Reads whole batches of `file` from `pos` (below `size`) into `buf`: up to [`SLICE_BYTES`],
/// or one batch when a batch is larger. Returns the bytes read and whether they reach the
/// end of the file's batches.
fn read_batches(file: &File, pos: u64, size: u64, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let left = size.saturating_sub(pos);
    if left < HEADER_LEN as u64 {
        return Ok((0, true));
    }
    let want = left.min(SLICE_BYTES as u64) as usize;
    buf.resize(want, 0);
    file.read_exact_at(buf, pos)?;
    let whole: usize = batches_in(buf).last().map_or(0, |(at, h)| at + h.total_len());
    if whole == 0 {
        // One batch larger than a slice.
        let h = BatchHeader::parse(buf).expect("a header's worth was read");
        let len = h.total_len();
        if len < HEADER_LEN || len as u64 > left {
            return Ok((0, true));
        }
        buf.resize(len, 0);
        file.read_exact_at(buf, pos)?;
        return Ok((len, pos + len as u64 >= size));
    }
    Ok((whole, pos + whole as u64 >= size || left as usize == whole))
}

/// The whole batches at the start of `b`: (position, header).
fn batches_in(b: &[u8]) -> impl Iterator<Item = (usize, BatchHeader)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let h = BatchHeader::parse(&b[at..])?;
        let len = h.total_len();
        if len < HEADER_LEN || at + len > b.len() {
            return None;
        }
        let here = at;
        at += len;
        Some((here, h))
    })
}

#[cfg(test)]
mod tests;
