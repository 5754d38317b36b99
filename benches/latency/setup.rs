//! Log directories prepared before the broker starts: formatted, with topics created through
//! the library, and optionally segments pre-filled with record batches.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::Path;

use minikafka::records::BatchBuilder;

use crate::broker::TempDir;

pub const NODE_ID: i32 = 1;
/// A fixed, plausible timestamp: the broker does not care and runs stay reproducible.
const TIMESTAMP_MS: i64 = 1_700_000_000_000;

/// A formatted log directory holding `topics` (name, partition count).
pub fn log_dir(tag: &str, topics: &[(&str, i32)]) -> Result<TempDir, String> {
    let dir = TempDir::new(tag)?;
    minikafka::metadata::format_log_dir(dir.path(), NODE_ID)
        .map_err(|e| format!("format {}: {e}", dir.path().display()))?;
    for &(name, partitions) in topics {
        minikafka::metadata::add_topic(dir.path(), name, partitions)
            .map_err(|e| format!("add topic {name}: {e}"))?;
    }
    Ok(dir)
}

/// A batch of `count` records with `value_len`-byte values and no key, base offset 0.
pub fn batch(count: usize, value_len: usize) -> Vec<u8> {
    let value: Vec<u8> = (0..value_len).map(|i| b'a' + (i % 26) as u8).collect();
    let mut b = BatchBuilder::new(0, TIMESTAMP_MS);
    for _ in 0..count {
        b.push(None, Some(&value), &[]);
    }
    b.finish()
}

/// A batch of one record per key of `keys` (`key-<n>`, zero-padded to 8 digits) with
/// `value_len`-byte values, base offset 0: what a compacted topic is fed.
pub fn keyed_batch(keys: std::ops::Range<usize>, value_len: usize) -> Vec<u8> {
    let value: Vec<u8> = (0..value_len).map(|i| b'a' + (i % 26) as u8).collect();
    let mut b = BatchBuilder::new(0, TIMESTAMP_MS);
    for k in keys {
        b.push(Some(format!("key-{k:08}").as_bytes()), Some(&value), &[]);
    }
    b.finish()
}

/// How many `value_len`-byte records make a batch of about `target` bytes (at least 1).
pub fn records_for(target: usize, value_len: usize) -> usize {
    let one = batch(1, value_len).len();
    let two = batch(2, value_len).len();
    let per_record = two - one;
    1 + target.saturating_sub(one) / per_record
}

/// Appends copies of `template` with consecutive base offsets to the first segment of
/// `<topic>-<partition>` until about `bytes` are written. Returns (batches, records, bytes).
pub fn prefill(
    log_dir: &Path,
    topic: &str,
    partition: i32,
    template: &[u8],
    bytes: usize,
) -> Result<(usize, i64, usize), String> {
    let path = log_dir.join(format!("{topic}-{partition}")).join(format!("{:020}.log", 0));
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("open {}: {e}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let per_batch = i64::from(i32::from_be_bytes(template[23..27].try_into().unwrap())) + 1;
    let mut b = template.to_vec();
    let (mut batches, mut offset, mut written) = (0usize, 0i64, 0usize);
    while written < bytes {
        b[..8].copy_from_slice(&offset.to_be_bytes());
        w.write_all(&b).map_err(|e| format!("write {}: {e}", path.display()))?;
        batches += 1;
        offset += per_batch;
        written += b.len();
    }
    w.flush().map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok((batches, offset, written))
}
