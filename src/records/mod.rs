//! Record batch v2 (magic 2), the unit Kafka stores on disk and moves on the wire.
//!
//! ```text
//! baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8 crc:uint32
//! attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64
//! producerId:int64 producerEpoch:int16 baseSequence:int32 recordsCount:int32 records...
//! ```
//! The CRC covers everything from `attributes` to the end, so the broker may rewrite the base
//! offset and the leader epoch without recomputing it: that is how it assigns offsets.

mod builder;
pub mod compression;
pub mod crc32c;
mod record;
pub mod rewrite;

pub use builder::BatchBuilder;
pub use record::{Header, Record, Records};

use crate::protocol::error;

/// `baseOffset` + `batchLength`: the bytes before the length-counted part of a batch.
pub const LOG_OVERHEAD: usize = 12;
/// Everything up to and including `recordsCount`.
pub const HEADER_LEN: usize = 61;
pub const MAGIC: i8 = 2;

const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;

pub const ATTR_COMPRESSION_MASK: i16 = 0x07;
pub const ATTR_TIMESTAMP_LOG_APPEND: i16 = 0x08;
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
pub const ATTR_CONTROL: i16 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records_count: i32,
}

fn be<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    b[at..at + N].try_into().expect("slice of checked length")
}

impl BatchHeader {
    /// Parses the fixed header; `None` if fewer than [`HEADER_LEN`] bytes are given.
    pub fn parse(b: &[u8]) -> Option<BatchHeader> {
        if b.len() < HEADER_LEN {
            return None;
        }
        Some(BatchHeader {
            base_offset: i64::from_be_bytes(be(b, 0)),
            batch_length: i32::from_be_bytes(be(b, 8)),
            partition_leader_epoch: i32::from_be_bytes(be(b, 12)),
            magic: b[16] as i8,
            crc: u32::from_be_bytes(be(b, CRC_AT)),
            attributes: i16::from_be_bytes(be(b, ATTRIBUTES_AT)),
            last_offset_delta: i32::from_be_bytes(be(b, 23)),
            base_timestamp: i64::from_be_bytes(be(b, 27)),
            max_timestamp: i64::from_be_bytes(be(b, 35)),
            producer_id: i64::from_be_bytes(be(b, 43)),
            producer_epoch: i16::from_be_bytes(be(b, 51)),
            base_sequence: i32::from_be_bytes(be(b, 53)),
            records_count: i32::from_be_bytes(be(b, 57)),
        })
    }

    /// The whole batch's size in bytes, log overhead included.
    pub fn total_len(&self) -> usize {
        self.batch_length.max(0) as usize + LOG_OVERHEAD
    }

    /// Saturates: a hostile or corrupt header near `i64::MAX` must not overflow (found by
    /// fuzzing, fuzz/fuzz_targets/batches.rs).
    pub fn last_offset(&self) -> i64 {
        self.base_offset.saturating_add(i64::from(self.last_offset_delta))
    }

    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    pub fn compression(&self) -> i16 {
        self.attributes & ATTR_COMPRESSION_MASK
    }
}

/// Reads the base offset and last offset delta of a batch from its first 27 bytes.
pub fn peek_offsets(b: &[u8]) -> Option<(i64, i32, usize)> {
    if b.len() < 27 {
        return None;
    }
    let len = i32::from_be_bytes(be(b, 8));
    Some((i64::from_be_bytes(be(b, 0)), i32::from_be_bytes(be(b, 23)), len.max(0) as usize))
}

/// Overwrites a batch's base offset in place (outside the CRC's coverage).
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    batch[..8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Sets a batch's partition leader epoch (bytes 12..16, outside the CRC).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    batch[12..16].copy_from_slice(&epoch.to_be_bytes());
}

/// Stamps a batch with its log append time, as Kafka's `setMaxTimestamp(LOG_APPEND_TIME,
/// now)`: the timestamp type bit and the max timestamp change (record timestamps and the base
/// timestamp stay; readers take every record's timestamp from the max), then the CRC is
/// computed again. A compressed batch's payload is untouched.
pub fn stamp_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attributes = i16::from_be_bytes(be(batch, ATTRIBUTES_AT)) | ATTR_TIMESTAMP_LOG_APPEND;
    batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[35..43].copy_from_slice(&now_ms.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

/// The most a batch's records section may decompress to: a bound on what one hostile batch can
/// make the broker allocate (Kafka sets none; its producers' batches stay far below it).
pub const DECOMPRESSED_LIMIT: usize = 128 << 20;

/// A checked batch's records section, decoded: the batch's own bytes when it is uncompressed,
/// else its payload decompressed (at most `limit` bytes). Read it with [`Records::of_section`].
pub fn records_section<'a>(
    batch: &'a [u8],
    h: &BatchHeader,
    limit: usize,
) -> Result<std::borrow::Cow<'a, [u8]>, compression::CompressionError> {
    let end = h.total_len().min(batch.len());
    let payload = &batch[HEADER_LEN.min(end)..end];
    match h.compression() {
        compression::NONE => Ok(std::borrow::Cow::Borrowed(payload)),
        codec => compression::decompress(codec, payload, limit).map(std::borrow::Cow::Owned),
    }
}

/// Builds a batch from `h`'s header fields and `records`, an uncompressed records section of
/// `h.records_count` records, compressed with `codec` (0: stored as it is): the attributes
/// name the codec, and the length and CRC-32C match the new bytes.
pub fn build_batch(h: &BatchHeader, records: &[u8], codec: i16, level: Option<i32>) -> Vec<u8> {
    let payload = match codec {
        compression::NONE => std::borrow::Cow::Borrowed(records),
        _ => std::borrow::Cow::Owned(compression::compress(codec, records, level)),
    };
    let mut b = Vec::with_capacity(HEADER_LEN + payload.len());
    b.extend_from_slice(&h.base_offset.to_be_bytes());
    b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + payload.len()) as i32).to_be_bytes());
    b.extend_from_slice(&h.partition_leader_epoch.to_be_bytes());
    b.push(MAGIC as u8);
    b.extend_from_slice(&[0; 4]); // the CRC, once the rest is there
    let attributes = (h.attributes & !ATTR_COMPRESSION_MASK) | (codec & ATTR_COMPRESSION_MASK);
    b.extend_from_slice(&attributes.to_be_bytes());
    b.extend_from_slice(&h.last_offset_delta.to_be_bytes());
    b.extend_from_slice(&h.base_timestamp.to_be_bytes());
    b.extend_from_slice(&h.max_timestamp.to_be_bytes());
    b.extend_from_slice(&h.producer_id.to_be_bytes());
    b.extend_from_slice(&h.producer_epoch.to_be_bytes());
    b.extend_from_slice(&h.base_sequence.to_be_bytes());
    b.extend_from_slice(&h.records_count.to_be_bytes());
    b.extend_from_slice(&payload);
    let crc = crc32c::crc32c(&b[ATTRIBUTES_AT..]);
    b[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

/// Why a batch was refused, as a Kafka error code and a reason for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchError {
    pub code: i16,
    pub reason: &'static str,
}

fn corrupt(reason: &'static str) -> BatchError {
    BatchError { code: error::CORRUPT_MESSAGE, reason }
}

/// Checks one batch at the start of `b` and returns its header; the batch is the first
/// `header.total_len()` bytes.
pub fn check_batch(b: &[u8]) -> Result<BatchHeader, BatchError> {
    let h = BatchHeader::parse(b).ok_or(corrupt("record batch shorter than its header"))?;
    if h.magic != MAGIC {
        return Err(BatchError {
            code: error::INVALID_RECORD,
            reason: "record batch magic is not 2",
        });
    }
    if (h.batch_length as i64) < (HEADER_LEN - LOG_OVERHEAD) as i64 {
        return Err(corrupt("record batch length smaller than its header"));
    }
    if h.total_len() > b.len() {
        return Err(corrupt("record batch length runs past the data"));
    }
    if h.last_offset_delta < 0 || h.records_count < 0 {
        return Err(corrupt("record batch with a negative record count"));
    }
    if crc32c::crc32c(&b[ATTRIBUTES_AT..h.total_len()]) != h.crc {
        return Err(corrupt("record batch CRC-32C mismatch"));
    }
    Ok(h)
}

/// Iterates the batches of a `records` field or a log segment, each checked with
/// [`check_batch`]. Stops at the first bad batch, yielding its error.
pub struct Batches<'a> {
    rest: &'a [u8],
}

pub fn batches(b: &[u8]) -> Batches<'_> {
    Batches { rest: b }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<(BatchHeader, &'a [u8]), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match check_batch(self.rest) {
            Ok(h) => {
                let (batch, rest) = self.rest.split_at(h.total_len());
                self.rest = rest;
                Some(Ok((h, batch)))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Splits bytes already checked with [`batches`] into their batches again, by their lengths
/// alone: the CRC is not computed twice.
pub fn checked_batches(mut b: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (_, _, len) = peek_offsets(b)?;
        let (batch, rest) = b.split_at((len + LOG_OVERHEAD).min(b.len()));
        b = rest;
        Some(batch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = BatchBuilder::new(0, 1_700_000_000_000);
        b.push(Some(b"k"), Some(b"v1"), &[]);
        b.push(None, Some(b"v2"), &[]);
        b.finish()
    }

    #[test]
    fn stamping_sets_the_type_and_max_timestamp_and_keeps_the_crc_valid() {
        let mut b = sample();
        let before = check_batch(&b).unwrap();
        stamp_log_append_time(&mut b, 1_800_000_000_000);
        let h = check_batch(&b).expect("the CRC is computed again");
        assert_eq!(h.attributes, before.attributes | ATTR_TIMESTAMP_LOG_APPEND);
        assert_eq!(h.max_timestamp, 1_800_000_000_000);
        assert_eq!(h.base_timestamp, before.base_timestamp);
        assert_eq!(b[HEADER_LEN..], sample()[HEADER_LEN..], "records untouched");
    }

    /// Fuzzing regression (batches target): a base offset near `i64::MAX` overflowed.
    #[test]
    fn last_offset_of_a_batch_at_the_end_of_the_offset_space_saturates() {
        let mut b = sample();
        set_base_offset(&mut b, i64::MAX - 7);
        b[23..27].copy_from_slice(&i32::MAX.to_be_bytes());
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.last_offset(), i64::MAX);
        assert!(check_batch(&b).is_err(), "the CRC no longer matches");
    }

    #[test]
    fn built_batch_checks_and_iterates() {
        let batch = sample();
        let h = check_batch(&batch).unwrap();
        assert_eq!(h.total_len(), batch.len());
        assert_eq!(h.last_offset_delta, 1);
        assert_eq!(h.records_count, 2);
        let recs: Vec<_> = Records::new(&batch).unwrap().map(Result::unwrap).collect();
        assert_eq!(recs[0].key, Some(&b"k"[..]));
        assert_eq!(recs[1].value, Some(&b"v2"[..]));
        assert_eq!(recs[1].offset_delta, 1);
    }

    #[test]
    fn corruption_is_detected() {
        let mut batch = sample();
        let n = batch.len();
        batch[n - 2] ^= 1;
        assert_eq!(check_batch(&batch).unwrap_err().code, error::CORRUPT_MESSAGE);
        let batch = sample();
        assert!(check_batch(&batch[..batch.len() - 1]).is_err());
        let mut batch = sample();
        batch[16] = 1;
        assert_eq!(check_batch(&batch).unwrap_err().code, error::INVALID_RECORD);
    }

    #[test]
    fn batches_rebuilt_with_each_codec_read_back() {
        let plain = sample();
        let h = check_batch(&plain).unwrap();
        let section = records_section(&plain, &h, usize::MAX).unwrap();
        assert!(matches!(section, std::borrow::Cow::Borrowed(_)), "no copy when uncompressed");
        for codec in [compression::GZIP, compression::SNAPPY, compression::LZ4, compression::ZSTD] {
            let packed = build_batch(&h, &section, codec, None);
            let ph = check_batch(&packed).expect("length and CRC right");
            assert_eq!(ph.compression(), codec);
            assert_eq!((ph.base_timestamp, ph.records_count), (h.base_timestamp, 2));
            let back = records_section(&packed, &ph, usize::MAX).unwrap();
            assert_eq!(back[..], section[..]);
            let recs: Vec<_> =
                Records::of_section(&back, ph.records_count).map(Result::unwrap).collect();
            assert_eq!(recs[1].value, Some(&b"v2"[..]));
            assert_eq!(
                records_section(&packed, &ph, section.len() - 1),
                Err(compression::CompressionError::TooLarge)
            );
            let unpacked = build_batch(&ph, &back, compression::NONE, None);
            assert_eq!(unpacked, plain, "back to the very same bytes");
        }
    }

    #[test]
    fn base_offset_rewrite_keeps_crc_valid() {
        let mut batch = sample();
        set_base_offset(&mut batch, 42);
        let h = check_batch(&batch).unwrap();
        assert_eq!((h.base_offset, h.last_offset()), (42, 43));
    }
}
