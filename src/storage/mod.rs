//! Partition logs on disk, in Kafka's layout: `<log.dirs>/<topic>-<partition>/`, holding
//! `partition.metadata` and segments named by base offset.

mod bio;
pub mod checkpoint;
pub mod cleaner;
pub mod index;
#[cfg(test)]
mod log_tests;
mod markers;
mod partition;
mod producers;
mod reopen;
mod retention;
pub mod segment;
pub mod snapshot;
mod timestamps;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

pub use partition::{Appended, PartitionLog};
pub use producers::ActiveProducer;

use crate::uuid::{self, Uuid};

pub fn partition_dir_name(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// Creates a partition directory with its `partition.metadata`, as Kafka does.
pub fn create_partition_dir(dir: &Path, topic_id: &Uuid) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let meta = dir.join("partition.metadata");
    if !meta.exists() {
        fs::write(meta, format!("version: 0\ntopic_id: {}", uuid::to_base64(topic_id)))?;
    }
    Ok(())
}

/// A stretch of an open segment file, handed to a socket as it is (see
/// [`crate::protocol::output`]). The file stays open while a response refers to it, even if
/// its topic is deleted meanwhile.
#[derive(Debug, Clone)]
pub struct FileSlice {
    pub file: Rc<File>,
    pub position: u64,
    pub len: usize,
}

/// The rules one partition log is kept by: its topic's effective `segment.bytes`,
/// `segment.ms`, `retention.ms`, `retention.bytes` and `cleanup.policy`. The broker fills it
/// from its `log.*` defaults ([`crate::config::Config::log_config`]); a topic's own configs
/// override those fields, set through [`LogManager::set_config`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogConfig {
    /// segment.bytes: roll to a new segment past this size.
    pub segment_bytes: u64,
    /// max.message.bytes (`message.max.bytes`): the largest record batch a produce may append.
    pub max_message_bytes: usize,
    /// segment.ms: roll when the active segment's first batch is older than this.
    pub segment_ms: i64,
    /// retention.ms: delete segments whose largest timestamp is older; -1 keeps them.
    pub retention_ms: i64,
    /// retention.bytes: delete the oldest segments while the log is bigger; -1: no limit.
    pub retention_bytes: i64,
    /// cleanup.policy includes `delete` (retention applies).
    pub delete: bool,
    /// cleanup.policy includes `compact` (the log cleaner keeps the last record of each key).
    pub compact: bool,
    /// delete.retention.ms: how long a cleaned tombstone stays readable.
    pub delete_retention_ms: i64,
    /// min.compaction.lag.ms: records younger than this are not cleaned.
    pub min_compaction_lag_ms: i64,
    /// max.compaction.lag.ms: a dirty record older than this makes the log due for cleaning.
    pub max_compaction_lag_ms: i64,
    /// min.cleanable.dirty.ratio: the dirty share of a log that makes it due for cleaning.
    pub min_cleanable_ratio: f64,
    /// index.interval.bytes: bytes between entries of Kafka's index files.
    pub index_interval_bytes: u64,
    /// segment.index.bytes: the most an index file may hold; a full one rolls the segment.
    pub segment_index_bytes: u64,
    /// message.timestamp.type is LogAppendTime: appended batches are stamped with the
    /// broker's clock.
    pub log_append_time: bool,
    /// message.timestamp.before.max.ms / .after.max.ms: with CreateTime, how far a record's
    /// timestamp may lie behind / ahead of the broker's clock.
    pub timestamp_before_max_ms: i64,
    pub timestamp_after_max_ms: i64,
    /// compression.type: the codec (a batch attribute codec id, 0 for `uncompressed`) every
    /// appended batch is re-encoded to, as Kafka's `LogValidator` does; `None` is `producer`,
    /// which keeps each batch as its producer compressed it.
    pub compression: Option<i16>,
    /// compression.<codec>.level for that codec; `None` is the codec's default.
    pub compression_level: Option<i32>,
    /// flush.messages: the log is synced once this many messages are not (i64::MAX: never,
    /// the page cache and the OS decide, as Kafka's default).
    pub flush_messages: i64,
    /// flush.ms: the log flusher syncs a log last synced this long ago (i64::MAX: never).
    pub flush_ms: i64,
    /// segment.jitter.ms: each segment rolls up to this much (at random) before segment.ms.
    pub segment_jitter_ms: i64,
    /// file.delete.delay.ms: how long a deleted segment's `.deleted` files stay.
    pub file_delete_delay_ms: i64,
}

impl LogConfig {
    /// Kafka's defaults.
    pub const DEFAULT: LogConfig = LogConfig {
        segment_bytes: 1 << 30,
        max_message_bytes: 1_048_588,
        segment_ms: 7 * 24 * 3600 * 1000,
        retention_ms: 7 * 24 * 3600 * 1000,
        retention_bytes: -1,
        delete: true,
        compact: false,
        delete_retention_ms: 86_400_000,
        min_compaction_lag_ms: 0,
        max_compaction_lag_ms: i64::MAX,
        min_cleanable_ratio: 0.5,
        index_interval_bytes: 4096,
        segment_index_bytes: 10_485_760,
        log_append_time: false,
        timestamp_before_max_ms: i64::MAX,
        timestamp_after_max_ms: 3_600_000,
        compression: None,
        compression_level: None,
        flush_messages: i64::MAX,
        flush_ms: i64::MAX,
        segment_jitter_ms: 0,
        file_delete_delay_ms: 60_000,
    };
}

/// Wall-clock milliseconds, the clock record timestamps and retention.ms are measured by.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// When retention runs: Kafka's `log.initial.task.delay.ms` after start-up, then every
/// `log.retention.check.interval.ms`; and when the log flusher checks flush.ms: after the same
/// delay, then every `log.flush.scheduler.interval.ms`.
#[derive(Debug, Clone, Copy)]
pub struct RetentionSchedule {
    pub initial_delay: Duration,
    pub interval: Duration,
    pub flush_check_interval: Duration,
    /// log.flush.offset.checkpoint.interval.ms: how often the recovery points are written to
    /// `recovery-point-offset-checkpoint`.
    pub recovery_checkpoint_interval: Duration,
}

/// Logs checked per slice of a retention pass: a pass over many partitions is spread over
/// turns of the loop, so requests are answered between slices.
const RETENTION_SLICE: usize = 32;

/// Threads a turn's syncs of many logs are spread over (durable mode): enough for the file
/// system to gather them into one journal commit, few enough to start per turn.
const SYNC_THREADS: usize = 8;

/// Index of an open partition log inside the manager.
pub type LogId = usize;

/// Every open partition log, and which have appends waiting to be written.
pub struct LogManager {
    log_dir: PathBuf,
    config: LogConfig,
    logs: Vec<Option<PartitionLog>>,
    by_topic: HashMap<String, Vec<LogId>>,
    dirty: Vec<LogId>,
    /// Bytes appended to dirty logs and not yet written.
    pending_bytes: usize,
    /// Kafka's `log-start-offset-checkpoint` as found at start-up.
    start_offsets: HashMap<(String, i32), i64>,
    schedule: RetentionSchedule,
    next_retention: Instant,
    /// The next log a retention pass under way checks.
    sweep: Option<LogId>,
    /// A log start offset moved since the checkpoint was last written.
    start_moved: bool,
    cleaner: cleaner::Cleaner,
    /// Bytes the last turn appended: the cleaner reads at least a few times as much in the
    /// turn (see [`cleaner::Cleaner::tick`]), so that it keeps up with the writers.
    turn_appended: usize,
    /// The directory was left by a clean shutdown (`.kafka_cleanshutdown`): logs may be
    /// opened from what it left, without reading their active segments.
    clean_start: bool,
    /// When the log flusher next checks flush.ms (`None`: never again).
    next_flush_check: Option<Instant>,
    /// The next log a flusher pass under way checks.
    flush_sweep: Option<LogId>,
    /// Segment files renamed `.deleted`, with when to remove them (file.delete.delay.ms).
    deletions: BinaryHeap<Reverse<(Instant, PathBuf)>>,
    /// The thread that syncs rolled segments and snapshots, writes checkpoints and removes
    /// deleted files, so the loop does not wait on the disk for them.
    bio: bio::Bio,
    /// Kafka's `recovery-point-offset-checkpoint` as found at start-up: after a crash each log
    /// is recovered from its entry on.
    recovery_points: HashMap<(String, i32), i64>,
    /// When the recovery points are next checkpointed (`None`: never).
    next_recovery_checkpoint: Option<Instant>,
}

impl LogManager {
    pub fn new(
        log_dir: &Path,
        config: LogConfig,
        schedule: RetentionSchedule,
        cleaner: cleaner::CleanerConfig,
    ) -> Self {
        let now = Instant::now();
        LogManager {
            cleaner: cleaner::Cleaner::new(log_dir, cleaner),
            clean_start: log_dir.join(checkpoint::CLEAN_SHUTDOWN).exists(),
            turn_appended: 0,
            schedule,
            next_retention: now + schedule.initial_delay,
            sweep: None,
            start_moved: false,
            next_flush_check: now.checked_add(schedule.initial_delay),
            flush_sweep: None,
            deletions: BinaryHeap::new(),
            bio: bio::Bio::start(),
            recovery_points: checkpoint::read_offsets(&log_dir.join(checkpoint::RECOVERY_POINT)),
            next_recovery_checkpoint: now.checked_add(schedule.recovery_checkpoint_interval),
            log_dir: log_dir.to_path_buf(),
            config,
            logs: Vec::new(),
            by_topic: HashMap::new(),
            dirty: Vec::new(),
            pending_bytes: 0,
            start_offsets: checkpoint::read_offsets(&log_dir.join(checkpoint::LOG_START_OFFSET)),
        }
    }

    /// Opens (creating it if missing) the log of `topic`/`partition`, led in `leader_epoch`.
    /// Partitions are opened in index order, so a topic's ids are its partition indexes.
    pub fn open(
        &mut self,
        topic: &str,
        topic_id: &Uuid,
        partition: i32,
        leader_epoch: i32,
    ) -> io::Result<LogId> {
        let dir = self.log_dir.join(partition_dir_name(topic, partition));
        create_partition_dir(&dir, topic_id)?;
        let mut config = self.config;
        if topic == crate::groups::offsets::TOPIC {
            // cleanup.policy=compact, as Kafka creates it: committed offsets are not retained
            // by time, and the cleaner keeps the last commit of each group and partition.
            config.delete = false;
            config.compact = true;
        }
        let key = (topic.to_string(), partition);
        let recovery_point = self.recovery_points.get(&key).copied();
        let mut log = PartitionLog::open_after(&dir, config, self.clean_start, recovery_point)?;
        log.id = self.logs.len();
        log.jobs = Some(Vec::new());
        log.set_leader_epoch(leader_epoch);
        if let Some(&start) = self.start_offsets.get(&(topic.to_string(), partition)) {
            log.set_log_start_offset(start);
        }
        let id = self.logs.len();
        self.logs.push(Some(log));
        let ids = self.by_topic.entry(topic.to_string()).or_default();
        if ids.len() != partition as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "partitions opened out of order",
            ));
        }
        ids.push(id);
        Ok(id)
    }

    /// Replaces the broker's defaults that logs opened from now on start with (dynamic broker
    /// configs changed); open logs get theirs through [`LogManager::set_topic_config`].
    pub fn set_default_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    /// Gives every open partition of `topic` this tuning (its topic's configs changed).
    pub fn set_topic_config(&mut self, topic: &str, config: LogConfig) {
        for &id in self.by_topic.get(topic).into_iter().flatten() {
            if let Some(log) = self.logs[id].as_mut() {
                log.set_config(config);
            }
        }
    }

    pub fn find(&self, topic: &str, partition: i32) -> Option<LogId> {
        self.by_topic.get(topic)?.get(usize::try_from(partition).ok()?).copied()
    }

    pub fn get(&self, id: LogId) -> &PartitionLog {
        self.logs[id].as_ref().expect("log ids handed out refer to open logs")
    }

    pub fn get_mut(&mut self, id: LogId) -> &mut PartitionLog {
        self.logs[id].as_mut().expect("log ids handed out refer to open logs")
    }

    /// Appends one validated batch, or finds it already appended by its producer; written at
    /// the next `flush`.
    pub fn append(&mut self, id: LogId, batch: &[u8]) -> io::Result<Appended> {
        let log = self.logs[id].as_mut().expect("open log");
        if !log.has_pending() {
            self.dirty.push(id);
        }
        self.pending_bytes += batch.len();
        log.append(batch)
    }

    /// Writes every pending append to its file, and syncs the logs that reach flush.messages
    /// unsynced messages, as Kafka does inside the append: before the produce is answered.
    /// The logs written are added to `written`; those whose write failed are rolled back to
    /// what is on disk and added to `failed` instead, so their acknowledgements can be
    /// withdrawn (as are those of a log whose sync flush.messages asked for failed).
    pub fn flush(&mut self, written: &mut Vec<LogId>, failed: &mut Vec<LogId>) {
        self.turn_appended = std::mem::take(&mut self.pending_bytes);
        self.take_completions();
        let mut to_sync = Vec::new();
        for id in self.dirty.drain(..) {
            let Some(log) = self.logs[id].as_mut() else { continue };
            for job in log.take_jobs() {
                self.bio.submit(job);
            }
            let result = log.flush();
            let failed_before = log.take_write_failure() && result.is_ok();
            if let Err(e) = result {
                log::error!(
                    "{}: write failed, appends of this turn withdrawn: {e}",
                    log.dir().display()
                );
                failed.push(id);
                continue;
            }
            if failed_before {
                // An earlier write this turn (a read's or a roll's) failed and dropped
                // appends already answered: the answers are withdrawn all the same.
                log::error!("{}: appends of this turn withdrawn", log.dir().display());
                failed.push(id);
                continue;
            }
            if log.unflushed_messages() >= log.config().flush_messages && log.needs_sync() {
                to_sync.push(id);
                continue;
            }
            written.push(id);
        }
        let results = self.sync_all(&to_sync);
        let now = now_ms();
        for (id, result) in to_sync.into_iter().zip(results) {
            let log = self.logs[id].as_mut().expect("synced log is open");
            match result {
                Ok(()) => {
                    log.mark_synced(now);
                    written.push(id);
                }
                Err(e) => {
                    // Kafka would take the directory offline. The batches are written, so a
                    // retry may store them twice, but none is acknowledged unsynced.
                    log::error!(
                        "{}: sync failed, appends of this turn not acknowledged: {e}",
                        log.dir().display()
                    );
                    failed.push(id);
                }
            }
        }
    }

    /// Syncs the logs `ids` (flush.messages reached), all at once: one after another, each
    /// fdatasync would wait for its own journal commit; issued together from a few threads,
    /// the file system commits them in one, so a turn that touched many partitions costs
    /// about one sync, as a turn that touched one. The loop waits for all of them, as it
    /// waited for one: nothing is acknowledged before its data is on disk.
    fn sync_all(&self, ids: &[LogId]) -> Vec<io::Result<()>> {
        let logs: Vec<&PartitionLog> =
            ids.iter().map(|&id| self.logs[id].as_ref().expect("open log")).collect();
        if logs.len() <= 1 {
            return logs.iter().map(|l| l.sync_written()).collect();
        }
        let mut results: Vec<io::Result<()>> = Vec::with_capacity(logs.len());
        let mut targets = Vec::new();
        for (i, log) in logs.iter().enumerate() {
            match log.sync_targets() {
                Ok(ts) => {
                    results.push(Ok(()));
                    targets.extend(ts.into_iter().map(|t| (i, t)));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        let threads = targets.len().min(SYNC_THREADS);
        let failures: Vec<(usize, io::Error)> = std::thread::scope(|scope| {
            let targets = &targets;
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let mine = targets.iter().skip(t).step_by(threads);
                        mine.filter_map(|(i, target)| target.sync().err().map(|e| (*i, e)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut failures = Vec::new();
            for w in workers {
                match w.join() {
                    Ok(f) => failures.extend(f),
                    // Which syncs it did is unknown: none of the logs counts as synced.
                    Err(_) => failures.extend(
                        (0..logs.len()).map(|i| (i, io::Error::other("a sync thread panicked"))),
                    ),
                }
            }
            failures
        });
        for (i, e) in failures {
            if results[i].is_ok() {
                results[i] = Err(e);
            }
        }
        results
    }

    /// Moves the recovery points of the logs whose background syncs are done.
    fn take_completions(&mut self) {
        let wall = now_ms();
        for done in self.bio.completed() {
            if let Some(log) = self.logs.get_mut(done.log).and_then(Option::as_mut) {
                log.synced(done.offset, done.result.is_ok(), wall);
            }
        }
    }

    /// Queues the background work log `id` left (a roll's syncs).
    fn queue_jobs(&mut self, id: LogId) {
        if let Some(log) = self.logs[id].as_mut() {
            for job in log.take_jobs() {
                self.bio.submit(job);
            }
        }
    }

    /// Every open log with its topic and partition, and its recovery point.
    fn recovery_point_entries(&self) -> Vec<(&str, i32, i64)> {
        let mut v = Vec::new();
        for (topic, ids) in &self.by_topic {
            for (p, &id) in ids.iter().enumerate() {
                if let Some(log) = self.logs[id].as_ref() {
                    v.push((topic.as_str(), p as i32, log.recovery_point()));
                }
            }
        }
        v
    }

    /// Kafka's `LogManager.checkpointLogRecoveryOffsets`, every
    /// log.flush.offset.checkpoint.interval.ms: each log's recovery point (which moves only
    /// when what lies below it is synced) to `recovery-point-offset-checkpoint`, written and
    /// synced by the background thread after the syncs queued before it.
    fn checkpoint_recovery_points(&mut self) {
        self.take_completions();
        let text = checkpoint::offsets_text(&self.recovery_point_entries());
        let path = self.log_dir.join(checkpoint::RECOVERY_POINT);
        self.bio.submit(bio::Job::Checkpoint { path, text });
    }

    /// When the loop must wake for the log flusher, a `.deleted` file's removal or the
    /// recovery point checkpoint.
    pub fn next_housekeeping(&self) -> Option<Instant> {
        let flush =
            if self.flush_sweep.is_some() { Some(Instant::now()) } else { self.next_flush_check };
        let delete = self.deletions.peek().map(|Reverse((at, _))| *at);
        [flush, delete, self.next_recovery_checkpoint].into_iter().flatten().min()
    }

    /// Kafka's log flusher (`LogManager.flushDirtyLogs`), one bounded slice of it when due:
    /// every log last synced flush.ms ago or more is synced. Then the `.deleted` files whose
    /// file.delete.delay.ms is up are removed, a bounded number per call.
    pub fn housekeeping_tick(&mut self, now: Instant) {
        let mut at = match self.flush_sweep {
            Some(at) => Some(at),
            None if self.next_flush_check.is_some_and(|t| now >= t) => {
                self.next_flush_check = now.checked_add(self.schedule.flush_check_interval);
                Some(0)
            }
            None => None,
        };
        if let Some(from) = at {
            let end = (from + RETENTION_SLICE).min(self.logs.len());
            let wall = now_ms();
            for log in self.logs[from..end].iter_mut().flatten() {
                if log.flush_ms_due(wall) {
                    // Appends are written by `flush` each turn before this runs.
                    if let Err(e) = log.sync(wall) {
                        log::error!("{}: flush failed: {e}", log.dir().display());
                    }
                }
            }
            at = (end < self.logs.len()).then_some(end);
        }
        self.flush_sweep = at;
        if self.next_recovery_checkpoint.is_some_and(|t| now >= t) {
            self.next_recovery_checkpoint =
                now.checked_add(self.schedule.recovery_checkpoint_interval);
            self.checkpoint_recovery_points();
        }
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.deletions.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, path))) = self.deletions.pop() else { break };
            due.push(path);
        }
        if !due.is_empty() {
            self.bio.submit(bio::Job::Delete(due));
        }
    }

    /// Takes the `.deleted` files log `id` made and schedules their removal
    /// file.delete.delay.ms from now (never, for a delay too long to count).
    fn schedule_deletions(&mut self, id: LogId) {
        let Some(log) = self.logs[id].as_mut() else { return };
        let delay = Duration::from_millis(log.config().file_delete_delay_ms.max(0) as u64);
        let files = log.take_deleted_files();
        if let Some(due) = Instant::now().checked_add(delay) {
            self.deletions.extend(files.into_iter().map(|f| Reverse((due, f))));
        }
    }

    /// Replaces the rules of log `id`, from its topic's configs.
    pub fn set_config(&mut self, id: LogId, config: LogConfig) {
        self.get_mut(id).set_config(config);
    }

    /// Moves the log start offset of `id` up for DeleteRecords (see
    /// [`PartitionLog::delete_records`]), and writes the checkpoint when it moved.
    pub fn delete_records(&mut self, id: LogId, offset: i64) -> Result<i64, i16> {
        let log = self.get_mut(id);
        let before = log.log_start_offset();
        let low = log.delete_records(offset)?;
        if low != before {
            self.start_moved = true;
            self.write_start_offsets();
        }
        Ok(low)
    }

    /// When the loop must wake for retention: now while a pass is under way.
    pub fn next_retention(&self) -> Instant {
        if self.sweep.is_some() {
            Instant::now()
        } else {
            self.next_retention
        }
    }

    /// Runs one bounded slice of retention when it is due: a pass starts every
    /// `log.retention.check.interval.ms` and checks [`RETENTION_SLICE`] logs per call. At the
    /// end of a pass that moved a log start offset, the checkpoint is written.
    pub fn retention_tick(&mut self, now: Instant) {
        let mut at = match self.sweep {
            Some(at) => at,
            None if now >= self.next_retention => {
                self.next_retention = now + self.schedule.interval;
                0
            }
            None => return,
        };
        let end = (at + RETENTION_SLICE).min(self.logs.len());
        let wall = now_ms();
        while at < end {
            if let Some(log) = self.logs[at].as_mut() {
                let before = log.log_start_offset();
                if let Err(e) = log.delete_old_segments(wall) {
                    log::error!("{}: retention failed: {e}", log.dir().display());
                }
                self.start_moved |= log.log_start_offset() != before;
                self.schedule_deletions(at);
                self.queue_jobs(at);
            }
            at += 1;
        }
        if at < self.logs.len() {
            self.sweep = Some(at);
            return;
        }
        self.sweep = None;
        if self.start_moved {
            // In the background: the segments below the new starts are renamed already, so
            // a crash before it is written finds the starts at their first segments anyway.
            let text = checkpoint::offsets_text(&self.start_offset_entries());
            let path = self.log_dir.join(checkpoint::LOG_START_OFFSET);
            self.bio.submit(bio::Job::Checkpoint { path, text });
            self.start_moved = false;
        }
    }

    /// Runs one slice of the log cleaner when it has work (see [`cleaner`]).
    pub fn cleaner_tick(&mut self, now: Instant) {
        let logs = cleaner::Logs { logs: &mut self.logs, by_topic: &self.by_topic };
        if let Some(id) = self.cleaner.tick(logs, now, self.turn_appended) {
            self.schedule_deletions(id);
        }
    }

    /// When the cleaner wants the loop back: now while it is cleaning.
    pub fn next_cleaning(&self) -> Option<Instant> {
        self.cleaner.next_wakeup()
    }

    pub fn cleaner_stats(&self) -> cleaner::CleanerStats {
        self.cleaner.stats
    }

    /// Kafka's `log-start-offset-checkpoint`, kept current as starts move so a crash does
    /// not bring deleted records back into range.
    fn write_start_offsets(&mut self) {
        // After the checkpoints queued before it, which it must not be overwritten by.
        self.bio.drain();
        let starts = self.start_offset_entries();
        let path = self.log_dir.join(checkpoint::LOG_START_OFFSET);
        match checkpoint::write_offsets(&path, &starts) {
            Ok(()) => self.start_moved = false,
            Err(e) => log::error!("{}: {e}", path.display()),
        }
    }

    fn start_offset_entries(&self) -> Vec<(&str, i32, i64)> {
        let mut starts = Vec::new();
        for (topic, ids) in &self.by_topic {
            for (p, &id) in ids.iter().enumerate() {
                if let Some(log) = self.logs[id].as_ref() {
                    starts.push((topic.as_str(), p as i32, log.log_start_offset()));
                }
            }
        }
        starts
    }

    /// Every open log with its topic and partition.
    pub fn all(&self) -> impl Iterator<Item = (&str, i32, &PartitionLog)> {
        self.by_topic.iter().flat_map(move |(t, ids)| {
            ids.iter().enumerate().filter_map(move |(p, &id)| {
                self.logs[id].as_ref().map(|l| (t.as_str(), p as i32, l))
            })
        })
    }

    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Closes the logs of `topic` and removes their directories.
    pub fn remove_topic(&mut self, topic: &str) -> io::Result<()> {
        let Some(ids) = self.by_topic.remove(topic) else { return Ok(()) };
        self.dirty.retain(|d| !ids.contains(d));
        for id in ids {
            if let Some(log) = self.logs[id].take() {
                fs::remove_dir_all(log.dir())?;
            }
        }
        Ok(())
    }

    /// A clean shutdown as Kafka makes one: every log written, indexed and synced, the
    /// directory's checkpoints written, and last the marker that tells Kafka (and this broker)
    /// that nothing needs recovering.
    pub fn close_all(&mut self) -> io::Result<()> {
        // The background work first: its snapshots and checkpoints must not land over the
        // ones written here.
        self.bio.drain();
        self.take_completions();
        let mut ends: Vec<(&str, i32, i64)> = Vec::new();
        let mut starts: Vec<(&str, i32, i64)> = Vec::new();
        for (topic, ids) in &self.by_topic {
            for (p, &id) in ids.iter().enumerate() {
                let log = self.logs[id].as_mut().expect("open log");
                log.close()?;
                ends.push((topic, p as i32, log.log_end_offset()));
                starts.push((topic, p as i32, log.log_start_offset()));
            }
        }
        // On one node every offset written is replicated: the recovery point and the high
        // watermark are both the log end offset.
        checkpoint::write_offsets(&self.log_dir.join(checkpoint::RECOVERY_POINT), &ends)?;
        checkpoint::write_offsets(&self.log_dir.join(checkpoint::HIGH_WATERMARK), &ends)?;
        checkpoint::write_offsets(&self.log_dir.join(checkpoint::LOG_START_OFFSET), &starts)?;
        checkpoint::write_clean_shutdown(&self.log_dir)
    }

    pub fn total_partitions(&self) -> usize {
        self.logs.iter().filter(|l| l.is_some()).count()
    }
}
