//! The `__cluster_metadata-0` log: replayed at start-up, appended to when topics change.
//!
//! A KRaft log directory holds record-batch segments (`<base offset>.log`) and, once Kafka has
//! taken one, snapshots (`<end offset>-<epoch>.checkpoint`) in the same batch format. Replay is:
//! the newest snapshot if any, then every log batch at or past its end offset. Control batches
//! (leader changes, snapshot headers) carry no metadata records and are skipped.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::cache::Cache;
use super::records::MetadataRecord;
use crate::records::{self, BatchBuilder, Records};
use crate::storage::segment;

pub struct MetadataLog {
    active: PathBuf,
    next_offset: i64,
    leader_epoch: i32,
}

impl MetadataLog {
    /// Replays `dir` into `cache`. A torn tail of the active segment is cut off, so that later
    /// appends follow the last whole batch.
    pub fn load(dir: &Path, cache: &mut Cache) -> io::Result<MetadataLog> {
        let mut start = 0;
        let mut leader_epoch = 1;
        if let Some((end, path)) = newest_snapshot(dir)? {
            let bytes = fs::read(&path)?;
            replay(&bytes, i64::MIN, cache, &mut leader_epoch, &path);
            start = end;
        }
        let segments = segment::list(dir)?;
        let mut next_offset = start;
        for (i, (_, path)) in segments.iter().enumerate() {
            let bytes = fs::read(path)?;
            let (valid, last) = replay(&bytes, start, cache, &mut leader_epoch, path);
            if let Some(last) = last {
                next_offset = next_offset.max(last + 1);
            }
            if valid < bytes.len() && i + 1 == segments.len() {
                log::warn!(
                    "{}: truncating {} bytes of torn metadata at position {valid}",
                    path.display(),
                    bytes.len() - valid
                );
                fs::OpenOptions::new().write(true).open(path)?.set_len(valid as u64)?;
            }
        }
        let active = match segments.last() {
            Some((_, p)) => p.clone(),
            None => dir.join(segment::file_name(next_offset)),
        };
        Ok(MetadataLog { active, next_offset, leader_epoch })
    }

    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Appends `recs` as one batch and syncs it: metadata changes are rare and must survive.
    pub fn append(&mut self, recs: &[MetadataRecord]) -> io::Result<()> {
        let batch = encode_batch(self.next_offset, self.leader_epoch, recs);
        let mut f = fs::OpenOptions::new().create(true).append(true).open(&self.active)?;
        let len = f.metadata()?.len();
        if let Err(e) = f.write_all(&batch).and_then(|()| f.sync_data()) {
            // A write that failed part way (a full disk) must not stay: the next append
            // would follow its torn bytes, and replay, which stops there, would never see it.
            if let Err(cut) = f.set_len(len) {
                log::error!("{}: cannot cut a failed append: {cut}", self.active.display());
            }
            return Err(e);
        }
        self.next_offset += recs.len() as i64;
        Ok(())
    }
}

/// Builds one uncompressed batch of metadata records.
pub fn encode_batch(base_offset: i64, leader_epoch: i32, recs: &[MetadataRecord]) -> Vec<u8> {
    let mut b = BatchBuilder::new(base_offset, now_ms()).leader_epoch(leader_epoch);
    let mut value = Vec::with_capacity(64);
    for r in recs {
        value.clear();
        r.encode(&mut value);
        b.push(None, Some(&value), &[]);
    }
    b.finish()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Applies the records of every batch ending at or after `from`. Returns how many leading
/// bytes held whole, valid batches, and the last offset seen.
fn replay(
    bytes: &[u8],
    from: i64,
    cache: &mut Cache,
    leader_epoch: &mut i32,
    path: &Path,
) -> (usize, Option<i64>) {
    let mut valid = 0;
    let mut last = None;
    for batch in records::batches(bytes) {
        let (h, data) = match batch {
            Ok(b) => b,
            Err(e) => {
                log::warn!("{}: {} at position {valid}", path.display(), e.reason);
                break;
            }
        };
        valid += data.len();
        last = Some(h.last_offset().max(h.base_offset));
        *leader_epoch = (*leader_epoch).max(h.partition_leader_epoch);
        if h.is_control() || h.last_offset() < from {
            continue;
        }
        if h.compression() != 0 {
            log::warn!(
                "{}: compressed metadata batch at {} skipped",
                path.display(),
                h.base_offset
            );
            continue;
        }
        let Ok(recs) = Records::new(data) else { continue };
        for rec in recs {
            let Ok(rec) = rec else {
                log::warn!("{}: malformed record in batch {}", path.display(), h.base_offset);
                break;
            };
            match rec.value.map(MetadataRecord::decode) {
                Some(Ok(m)) => cache.apply(m),
                Some(Err(e)) => log::warn!("{}: metadata record skipped: {e}", path.display()),
                None => {}
            }
        }
    }
    (valid, last)
}

fn newest_snapshot(dir: &Path) -> io::Result<Option<(i64, PathBuf)>> {
    let mut best: Option<(i64, PathBuf)> = None;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(stem) = name.strip_suffix(".checkpoint") else { continue };
        let Some(Ok(end)) = stem.split('-').next().map(str::parse::<i64>) else { continue };
        if best.as_ref().is_none_or(|(b, _)| end > *b) {
            best = Some((end, path));
        }
    }
    Ok(best)
}
