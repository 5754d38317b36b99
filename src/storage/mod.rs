//! Partition logs on disk, in Kafka's layout: `<log.dirs>/<topic>-<partition>/`, holding
//! `partition.metadata` and segments named by base offset.

pub mod checkpoint;
pub mod index;
mod partition;
mod producers;
pub mod segment;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use partition::{Appended, PartitionLog};

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

/// A partition log's tuning: the broker's settings, or its topic's overrides of them
/// (`crate::topic_config::TopicConfig`, applied with [`LogManager::set_topic_config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes` (`log.segment.bytes`): roll to a new segment past this size.
    pub segment_bytes: u64,
    /// `max.message.bytes` (`message.max.bytes`): the largest record set a produce may append.
    pub max_message_bytes: usize,
}

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
}

impl LogManager {
    pub fn new(log_dir: &Path, config: LogConfig) -> Self {
        LogManager {
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
        let mut log = PartitionLog::open(&dir, self.config)?;
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

    /// Writes every pending append to its file. The logs written are added to `written`;
    /// those whose write failed are rolled back to what is on disk and added to `failed`
    /// instead, so their acknowledgements can be withdrawn.
    pub fn flush(&mut self, written: &mut Vec<LogId>, failed: &mut Vec<LogId>) {
        self.pending_bytes = 0;
        for id in self.dirty.drain(..) {
            let Some(log) = self.logs[id].as_mut() else { continue };
            match log.flush() {
                Ok(()) => written.push(id),
                Err(e) => {
                    log::error!(
                        "{}: write failed, appends of this turn withdrawn: {e}",
                        log.dir().display()
                    );
                    failed.push(id);
                }
            }
        }
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
