//! Partition logs on disk, in Kafka's layout: `<log.dirs>/<topic>-<partition>/`, holding
//! `partition.metadata` and segments named by base offset.

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

/// Tuning shared by every partition log.
#[derive(Debug, Clone, Copy)]
pub struct LogConfig {
    /// `log.segment.bytes`: roll to a new segment past this size.
    pub segment_bytes: u64,
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
        }
    }

    /// Opens (creating it if missing) the log of `topic`/`partition`. Partitions are opened in
    /// index order, so a topic's ids are its partition indexes.
    pub fn open(&mut self, topic: &str, topic_id: &Uuid, partition: i32) -> io::Result<LogId> {
        let dir = self.log_dir.join(partition_dir_name(topic, partition));
        create_partition_dir(&dir, topic_id)?;
        let log = PartitionLog::open(&dir, self.config)?;
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

    pub fn total_partitions(&self) -> usize {
        self.logs.iter().filter(|l| l.is_some()).count()
    }
}
