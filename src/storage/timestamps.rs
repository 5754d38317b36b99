//! Finding records by timestamp (ListOffsets): the first record at or after a time, and the
//! record with the largest timestamp.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::index;
use super::partition::PartitionLog;
use super::partition::RECOVERY_CHUNK;
use super::segment;
use crate::records::{self, BatchHeader};

impl PartitionLog {
    /// The first record whose timestamp is at least `ts`: (offset, timestamp).
    pub fn offset_for_timestamp(&mut self, ts: i64) -> io::Result<Option<(i64, i64)>> {
        self.flush()?;
        // Records below the log start offset are gone, even while their segment is not.
        let start = self.log_start_offset;
        for seg in &self.segments {
            // Kafka's `findOffsetByTimestamp`: the first segment whose largest timestamp
            // reaches `ts`, entered through its time and offset indexes, not scanned whole.
            if seg.max_timestamp >= 0 && seg.max_timestamp < ts {
                continue;
            }
            let from = index::offset_before_time(&self.dir, seg.base_offset, ts)
                .map_or(0, |o| index::position_for(&self.dir, seg.base_offset, o))
                .min(seg.size);
            let mut found = None;
            segment::scan(&seg.file, from, seg.size, RECOVERY_CHUNK, |pos, h| {
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
        // Only segments whose largest timestamp is unknown, or is the largest, are read.
        let known_max = self.segments.iter().map(|s| s.max_timestamp).max().unwrap_or(-1);
        for (i, seg) in self.segments.iter().enumerate() {
            if seg.max_timestamp >= 0 && seg.max_timestamp < known_max {
                continue;
            }
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
