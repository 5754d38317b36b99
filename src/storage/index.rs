//! Kafka's per-segment index files, kept so that Kafka opens a directory this broker wrote
//! without rebuilding them (`storage/internals/log/{OffsetIndex,TimeIndex,LogSegment}.java`).
//!
//! `<base>.index` holds 8-byte entries (offset - base: i32, position: i32); `<base>.timeindex`
//! 12-byte ones (timestamp: i64, offset - base: i32), both big-endian. As `LogSegment.append`
//! does, a batch gets an entry when more than `index.interval.bytes` (4096) were appended since
//! the last one: the offset entry is the batch's last offset at the batch's position, the time
//! entry the largest timestamp so far with the last offset of the batch holding it, added only
//! when that timestamp grew. Closing a segment adds a last time entry for its largest
//! timestamp. Kafka preallocates the files and trims them on close; these are written at
//! their exact length, which is what Kafka leaves after a clean close.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Kafka's `index.interval.bytes` default.
pub const INDEX_INTERVAL_BYTES: u64 = 4096;

pub fn offset_index_name(base_offset: i64) -> String {
    format!("{base_offset:020}.index")
}

pub fn time_index_name(base_offset: i64) -> String {
    format!("{base_offset:020}.timeindex")
}

/// A transaction Kafka aborted, from a segment's `.txnindex` (`TransactionIndex.java`): 34-byte
/// entries of version (i16, 0), producer id, first offset, last offset and the last stable
/// offset then (i64 each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    pub last_offset: i64,
}

/// Bytes of one `.txnindex` entry.
pub const TXN_ENTRY_LEN: usize = 34;

/// The transaction of one `.txnindex` entry; None for a short entry or an unknown version.
pub fn txn_entry(e: &[u8]) -> Option<AbortedTxn> {
    if e.len() != TXN_ENTRY_LEN || e[..2] != [0, 0] {
        return None;
    }
    let i64_at = |at: usize| i64::from_be_bytes(e[at..at + 8].try_into().expect("8"));
    Some(AbortedTxn { producer_id: i64_at(2), first_offset: i64_at(10), last_offset: i64_at(18) })
}

/// Every aborted transaction recorded in the `.txnindex` files of `dir`, by first offset. An
/// entry of an unknown version is an error: its transaction's records cannot be told apart.
pub fn read_aborted(dir: &Path) -> io::Result<Vec<AbortedTxn>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "txnindex") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        for e in bytes.chunks_exact(TXN_ENTRY_LEN) {
            let Some(txn) = txn_entry(e) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: transaction index entry of unknown version", path.display()),
                ));
            };
            out.push(txn);
        }
    }
    out.sort_by_key(|t| t.first_offset);
    Ok(out)
}

pub fn txn_index_name(base_offset: i64) -> String {
    format!("{base_offset:020}.txnindex")
}

/// The timestamp of the last entry of a segment's time index: the segment's largest
/// timestamp once it is closed. -1 if there is none.
pub fn last_time_entry(dir: &Path, base_offset: i64) -> i64 {
    let Ok(f) = File::open(dir.join(time_index_name(base_offset))) else { return -1 };
    let len = f.metadata().map_or(0, |m| m.len());
    // Kafka preallocates an open index; a closed one is trimmed to whole entries.
    if len < 12 || len % 12 != 0 {
        return -1;
    }
    let mut e = [0u8; 8];
    match f.read_exact_at(&mut e, len - 12) {
        Ok(()) => i64::from_be_bytes(e),
        Err(_) => -1,
    }
}

/// Whether a closed segment's index files are missing or cannot be Kafka's (a length that is
/// not a whole number of entries): then they are made again from the segment, as Kafka's
/// `LogLoader` rebuilds them.
pub fn needs_rebuild(dir: &Path, base_offset: i64) -> bool {
    let len = |name: String| std::fs::metadata(dir.join(name)).map(|m| m.len()).ok();
    match (len(offset_index_name(base_offset)), len(time_index_name(base_offset))) {
        (Some(o), Some(t)) => o % 8 != 0 || t % 12 != 0,
        _ => true,
    }
}

/// A segment's `.index` entries: (a batch's last offset, the batch's position), ascending.
pub fn offset_entries(dir: &Path, base_offset: i64) -> io::Result<Vec<(i64, u64)>> {
    let b = std::fs::read(dir.join(offset_index_name(base_offset)))?;
    Ok(b.chunks_exact(8)
        .map(|e| {
            let rel = i32::from_be_bytes(e[..4].try_into().expect("4"));
            let pos = u32::from_be_bytes(e[4..].try_into().expect("4"));
            (base_offset + i64::from(rel), u64::from(pos))
        })
        .collect())
}

/// Whether offset index entries can be trusted for a segment of `size` bytes: offsets and
/// positions strictly rising, all within the segment (a file Kafka preallocated and did not
/// trim ends in zeros, which fail this).
pub fn sound(entries: &[(i64, u64)], size: u64) -> bool {
    entries.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1)
        && entries.last().is_none_or(|e| e.1 < size)
}

/// From a segment's `.timeindex`: the offset of the last entry whose timestamp is below `ts`
/// (reading from that offset's batch on finds the first record at or after `ts`), or `None`
/// when there is no such entry or no usable file.
pub fn offset_before_time(dir: &Path, base_offset: i64, ts: i64) -> Option<i64> {
    let b = std::fs::read(dir.join(time_index_name(base_offset))).ok()?;
    let entries = b.chunks_exact(12);
    let n = entries
        .clone()
        .take_while(|e| i64::from_be_bytes(e[..8].try_into().expect("8")) < ts)
        .count();
    let e = b.chunks_exact(12).nth(n.checked_sub(1)?)?;
    Some(base_offset + i64::from(i32::from_be_bytes(e[8..12].try_into().expect("4"))))
}

/// From a segment's `.index`: the position of the last entry at or below `offset` (0 when
/// there is none), where a scan for `offset` may start.
pub fn position_for(dir: &Path, base_offset: i64, offset: i64) -> u64 {
    let Ok(b) = std::fs::read(dir.join(offset_index_name(base_offset))) else { return 0 };
    b.chunks_exact(8)
        .take_while(|e| {
            base_offset + i64::from(i32::from_be_bytes(e[..4].try_into().expect("4"))) <= offset
        })
        .last()
        .map_or(0, |e| u64::from(u32::from_be_bytes(e[4..8].try_into().expect("4"))))
}

/// Removes both index files of a segment, if there are any.
pub fn remove(dir: &Path, base_offset: i64) {
    let _ = std::fs::remove_file(dir.join(offset_index_name(base_offset)));
    let _ = std::fs::remove_file(dir.join(time_index_name(base_offset)));
}

/// Where the index of a segment stands after the batches noted so far.
#[derive(Debug, Clone, Copy)]
struct State {
    bytes_since_entry: u64,
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    last_time_entry: i64,
    offset_len: u64,
    time_len: u64,
}

/// The two index files of one (the active) segment: entries are noted per batch and written
/// with the batches they index.
pub struct SegmentIndex {
    base_offset: i64,
    /// `index.interval.bytes`: an entry when more than this was appended since the last.
    interval: u64,
    state: State,
    /// The state as written to the files, to go back to when a write fails.
    written: State,
    offsets: Vec<u8>,
    times: Vec<u8>,
    files: Option<(File, File)>,
}

impl SegmentIndex {
    pub fn new(base_offset: i64) -> SegmentIndex {
        SegmentIndex::with_interval(base_offset, INDEX_INTERVAL_BYTES)
    }

    pub fn with_interval(base_offset: i64, interval: u64) -> SegmentIndex {
        let state = State {
            bytes_since_entry: 0,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            last_time_entry: -1,
            offset_len: 0,
            time_len: 0,
        };
        SegmentIndex {
            base_offset,
            interval,
            state,
            written: state,
            offsets: Vec::new(),
            times: Vec::new(),
            files: None,
        }
    }

    /// Notes a batch of `len` bytes at `position` ending at `last_offset`.
    pub fn note(&mut self, position: u64, last_offset: i64, max_timestamp: i64, len: usize) {
        let s = &mut self.state;
        if max_timestamp > s.max_timestamp {
            s.max_timestamp = max_timestamp;
            s.offset_of_max_timestamp = last_offset;
        }
        if s.bytes_since_entry > self.interval {
            let relative = (last_offset - self.base_offset) as i32;
            self.offsets.extend_from_slice(&relative.to_be_bytes());
            self.offsets.extend_from_slice(&(position as i32).to_be_bytes());
            self.state.offset_len += 8;
            self.maybe_time_entry();
            self.state.bytes_since_entry = 0;
        }
        self.state.bytes_since_entry += len as u64;
    }

    fn maybe_time_entry(&mut self) {
        let s = &mut self.state;
        if s.max_timestamp > s.last_time_entry {
            let relative = (s.offset_of_max_timestamp - self.base_offset) as i32;
            self.times.extend_from_slice(&s.max_timestamp.to_be_bytes());
            self.times.extend_from_slice(&relative.to_be_bytes());
            s.last_time_entry = s.max_timestamp;
            s.time_len += 12;
        }
    }

    /// Takes up the index files an active segment was closed with (a clean shutdown), to go
    /// on appending entries to them: as Kafka after loading a segment, the byte count since
    /// the last entry starts at 0. `max_timestamp` and its offset are the segment's so far.
    /// Returns the offset entries as (offset, position) for the in-memory index.
    pub fn resume(
        dir: &Path,
        base_offset: i64,
        interval: u64,
        max_timestamp: (i64, i64),
    ) -> io::Result<(SegmentIndex, Vec<(i64, u64)>)> {
        let open = |name: String| OpenOptions::new().read(true).write(true).open(dir.join(name));
        let offsets = open(offset_index_name(base_offset))?;
        let times = open(time_index_name(base_offset))?;
        let entries = offset_entries(dir, base_offset)?;
        let (time_len, last_time_entry) =
            (times.metadata()?.len(), last_time_entry(dir, base_offset));
        let o_len = entries.len() as u64 * 8;
        let state = State {
            bytes_since_entry: 0,
            max_timestamp: max_timestamp.0,
            offset_of_max_timestamp: max_timestamp.1,
            last_time_entry,
            offset_len: o_len,
            time_len,
        };
        let mut ix = SegmentIndex::with_interval(base_offset, interval);
        ix.state = state;
        ix.written = state;
        ix.files = Some((offsets, times));
        Ok((ix, entries))
    }

    /// Starts both files anew (at open, after the segment was scanned and noted).
    pub fn create(&mut self, dir: &Path) -> io::Result<()> {
        let open = |name: String| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(dir.join(name))
        };
        self.files = Some((
            open(offset_index_name(self.base_offset))?,
            open(time_index_name(self.base_offset))?,
        ));
        self.written = State { offset_len: 0, time_len: 0, ..self.written };
        self.write(dir)
    }

    /// Writes the entries noted since the last write.
    pub fn write(&mut self, dir: &Path) -> io::Result<()> {
        if self.offsets.is_empty() && self.times.is_empty() && self.files.is_some() {
            self.written = self.state;
            return Ok(());
        }
        if self.files.is_none() {
            return self.create(dir);
        }
        let (offsets, times) = self.files.as_ref().expect("opened");
        let result = offsets
            .write_all_at(&self.offsets, self.written.offset_len)
            .and_then(|()| times.write_all_at(&self.times, self.written.time_len));
        self.offsets.clear();
        self.times.clear();
        match result {
            Ok(()) => {
                self.written = self.state;
                Ok(())
            }
            Err(e) => {
                let _ = offsets.set_len(self.written.offset_len);
                let _ = times.set_len(self.written.time_len);
                self.state = self.written;
                Err(e)
            }
        }
    }

    /// Whether one more batch could need an entry the files have no room for under
    /// `segment.index.bytes` (`max_bytes`): Kafka rolls the segment then (`AbstractIndex.isFull`
    /// of either index, their entries capped at max_bytes / 8 and max_bytes / 12).
    pub fn is_full(&self, max_bytes: u64) -> bool {
        self.state.offset_len + 8 > max_bytes / 8 * 8
            || self.state.time_len + 12 > max_bytes / 12 * 12
    }

    /// Forgets entries noted since the last write (their batches were not written).
    pub fn discard(&mut self) {
        self.offsets.clear();
        self.times.clear();
        self.state = self.written;
    }

    /// Adds the closing time entry and writes it (on roll: the files are synced with their
    /// segment, in the background).
    pub fn finish(&mut self, dir: &Path) -> io::Result<()> {
        self.maybe_time_entry();
        self.write(dir)
    }

    /// [`finish`](Self::finish), and syncs both files (at shutdown).
    pub fn close(&mut self, dir: &Path) -> io::Result<()> {
        self.finish(dir)?;
        if let Some((offsets, times)) = &self.files {
            offsets.sync_data()?;
            times.sync_data()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(b: &[u8], size: usize) -> Vec<Vec<u8>> {
        b.chunks(size).map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn entries_follow_kafkas_interval_and_timestamps() {
        let d = crate::testutil::TempDir::new("index");
        let mut ix = SegmentIndex::new(100);
        // Batches of 3000 bytes, 2 records each: positions 0, 3000, 6000, ...
        let ts = [10, 30, 20, 40, 40, 50];
        for (i, t) in ts.iter().enumerate() {
            ix.note(i as u64 * 3000, 101 + 2 * i as i64, *t, 3000);
        }
        ix.close(&d).unwrap();
        let off = std::fs::read(d.join(offset_index_name(100))).unwrap();
        // Entries when more than 4096 bytes came since the last: batches 2 and 4.
        let want: Vec<Vec<u8>> = [(5i32, 6000i32), (9, 12000)]
            .iter()
            .map(|(o, p)| [o.to_be_bytes(), p.to_be_bytes()].concat())
            .collect();
        assert_eq!(entries(&off, 8), want);
        let time = std::fs::read(d.join(time_index_name(100))).unwrap();
        // Max so far at batch 2 is 30 (batch 1, last offset 103); at 4 it is 40 (batch 3,
        // offset 107); closing adds 50 at 111.
        let want: Vec<Vec<u8>> = [(30i64, 3i32), (40, 7), (50, 11)]
            .iter()
            .map(|(t, o)| [t.to_be_bytes().to_vec(), o.to_be_bytes().to_vec()].concat())
            .collect();
        assert_eq!(entries(&time, 12), want);
    }
}
