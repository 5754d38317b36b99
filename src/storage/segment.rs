//! Segment files: `<base offset, 20 digits>.log`, and a chunked scan of their batch headers.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::records::{BatchHeader, HEADER_LEN, LOG_OVERHEAD};

/// Kafka's suffix of the files of a segment deleted and not yet removed.
pub const DELETED_SUFFIX: &str = ".deleted";
/// Kafka's suffix of a segment the log cleaner is writing.
pub const CLEANED_SUFFIX: &str = ".cleaned";

pub fn file_name(base_offset: i64) -> String {
    format!("{base_offset:020}.log")
}

/// The `.log` segments in `dir`, sorted by base offset.
pub fn list(dir: &Path) -> io::Result<Vec<(i64, PathBuf)>> {
    let mut v = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(stem) = name.strip_suffix(".log") else { continue };
        if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(base) = stem.parse::<i64>() {
                v.push((base, path));
            }
        }
    }
    v.sort();
    Ok(v)
}

/// Removes what Kafka's `LogLoader` removes before it loads a log: files of deleted segments
/// a restart came before the removal of, and the output of a cleaning that did not finish.
/// `.swap` files are the cleaner's recovery, not touched here. Returns the lowest base offset
/// of the `.cleaned` files found (a `.swap` at or above it is part of an unfinished split,
/// which Kafka drops too).
pub fn remove_temp_files(dir: &Path) -> io::Result<Option<i64>> {
    let mut min_cleaned = None;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        let cleaned = name.ends_with(CLEANED_SUFFIX);
        // KRaft snapshots (`.checkpoint.deleted`) have a recovery of their own in Kafka.
        let deleted = name.ends_with(DELETED_SUFFIX) && !name.ends_with(".checkpoint.deleted");
        if !cleaned && !deleted || !entry.file_type()?.is_file() {
            continue;
        }
        if cleaned {
            if let Some(base) = name.get(..20).and_then(|s| s.parse::<i64>().ok()) {
                min_cleaned = Some(min_cleaned.map_or(base, |m: i64| m.min(base)));
            }
        }
        log::debug!("{}: removing stray file {name}", dir.display());
        match fs::remove_file(entry.path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(min_cleaned)
}

/// Walks the batch headers of `file` from `start` to `end`, calling `f(position, header)`
/// for each whole batch until `f` returns false. Returns the position it stopped at: `end`,
/// the batch `f` stopped on, or the start of the first batch that is cut short or malformed
/// (a torn tail). Reads `chunk` bytes at a time, so it costs one read per chunk, not per batch.
pub fn scan(
    file: &File,
    start: u64,
    end: u64,
    chunk: usize,
    f: impl FnMut(u64, &BatchHeader) -> bool,
) -> io::Result<u64> {
    // No bigger than the range: opening many small or empty logs must stay cheap.
    let span = usize::try_from(end.saturating_sub(start)).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; chunk.min(span).max(HEADER_LEN)];
    scan_with(file, start, end, &mut buf, f)
}

/// [`scan`] reading into `buf` (at least [`HEADER_LEN`] bytes), for callers that keep one.
pub fn scan_with(
    file: &File,
    start: u64,
    end: u64,
    buf: &mut [u8],
    mut f: impl FnMut(u64, &BatchHeader) -> bool,
) -> io::Result<u64> {
    let (mut buf_at, mut buf_len) = (start, 0usize);
    let mut pos = start;
    while pos < end {
        if end - pos < HEADER_LEN as u64 {
            return Ok(pos);
        }
        let off = (pos - buf_at) as usize;
        if pos < buf_at || off + HEADER_LEN > buf_len {
            let want = (end - pos).min(buf.len() as u64) as usize;
            file.read_exact_at(&mut buf[..want], pos)?;
            (buf_at, buf_len) = (pos, want);
        }
        let off = (pos - buf_at) as usize;
        let h = BatchHeader::parse(&buf[off..buf_len]).expect("header bytes are buffered");
        if (h.batch_length as usize) < HEADER_LEN - LOG_OVERHEAD || pos + h.total_len() as u64 > end
        {
            return Ok(pos);
        }
        if !f(pos, &h) {
            return Ok(pos);
        }
        pos += h.total_len() as u64;
    }
    Ok(pos)
}

/// [`scan`] for recovery after a crash: each batch is read whole and checked as an append
/// is (magic, lengths, CRC-32C), and its offsets must follow the previous batch's (the first
/// at or past `base_offset`). Stops at the first batch that fails, as Kafka's
/// `LogSegment.recover` does: what a crash left half-written or damaged past the last sync is
/// cut there by the caller.
pub fn scan_checked(
    file: &File,
    base_offset: i64,
    end: u64,
    chunk: usize,
    mut f: impl FnMut(u64, &BatchHeader),
) -> io::Result<u64> {
    let span = usize::try_from(end).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; chunk.min(span).max(HEADER_LEN)];
    let mut big = Vec::new();
    let (mut buf_at, mut buf_len) = (0u64, 0usize);
    let (mut pos, mut next) = (0u64, base_offset);
    while end - pos >= HEADER_LEN as u64 {
        let off = (pos - buf_at) as usize;
        if pos < buf_at || off + HEADER_LEN > buf_len {
            let want = (end - pos).min(buf.len() as u64) as usize;
            file.read_exact_at(&mut buf[..want], pos)?;
            (buf_at, buf_len) = (pos, want);
        }
        let off = (pos - buf_at) as usize;
        let h = BatchHeader::parse(&buf[off..buf_len]).expect("header bytes are buffered");
        if (h.batch_length as usize) < HEADER_LEN - LOG_OVERHEAD || pos + h.total_len() as u64 > end
        {
            break;
        }
        let bytes = if off + h.total_len() <= buf_len {
            &buf[off..off + h.total_len()]
        } else {
            big.resize(h.total_len(), 0);
            file.read_exact_at(&mut big, pos)?;
            &big[..]
        };
        if crate::records::check_batch(bytes).is_err() || h.base_offset < next {
            break;
        }
        f(pos, &h);
        next = h.last_offset() + 1;
        pos += h.total_len() as u64;
    }
    Ok(pos)
}
