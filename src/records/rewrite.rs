//! Batches rewritten by the log cleaner, as Kafka's `MemoryRecords.filterTo` writes them: the
//! retained records of a batch in a new batch that keeps the original's base offset, last
//! offset, producer fields, leader epoch and flags, or, when none is retained but the batch
//! must stay for its producer's sake, an empty batch header.

use super::builder::put_varbytes;
use super::{build_batch, BatchHeader, Header, Record};
use super::{ATTR_CONTROL, ATTR_TIMESTAMP_LOG_APPEND, ATTR_TRANSACTIONAL};
use crate::protocol::codec::Put;

/// `DELETE_HORIZON_FLAG_MASK`: the base timestamp holds the time after which the batch's
/// tombstones (and transaction markers) may be removed (KIP-534).
pub const ATTR_DELETE_HORIZON: i16 = 0x40;

/// The delete horizon of a cleaned batch, if it carries one.
pub fn delete_horizon(h: &BatchHeader) -> Option<i64> {
    (h.attributes & ATTR_DELETE_HORIZON != 0).then_some(h.base_timestamp)
}

/// The absolute timestamp of a record of the batch `h`.
pub fn record_timestamp(h: &BatchHeader, r: &Record<'_>) -> i64 {
    h.base_timestamp.wrapping_add(r.timestamp_delta)
}

/// Appends to `out` a batch holding `records` of the batch `h` (Kafka's
/// `buildRetainedRecordsInto`), in `codec`. Its base timestamp is `delete_horizon` when given
/// (with the flag set), else the first record's timestamp, and record timestamp deltas are
/// taken from it, so every record keeps its timestamp. The last offset delta is the
/// original's, so the producer's last sequence survives the records removed after it.
pub fn rebuild_batch(
    h: &BatchHeader,
    records: &[Record<'_>],
    delete_horizon: Option<i64>,
    codec: i16,
    out: &mut Vec<u8>,
) {
    let first_ts = records.first().map_or(-1, |r| record_timestamp(h, r));
    let base_timestamp = delete_horizon.unwrap_or(first_ts);
    let max_timestamp = if h.attributes & ATTR_TIMESTAMP_LOG_APPEND != 0 {
        h.max_timestamp
    } else {
        records.iter().map(|r| record_timestamp(h, r)).max().unwrap_or(-1)
    };
    let mut attributes = h.attributes & !ATTR_DELETE_HORIZON;
    if delete_horizon.is_some() {
        attributes |= ATTR_DELETE_HORIZON;
    }
    let mut section = Vec::new();
    let mut body = Vec::new();
    for r in records {
        body.clear();
        body.put_i8(r.attributes);
        body.put_varlong(record_timestamp(h, r).wrapping_sub(base_timestamp));
        body.put_varint(r.offset_delta);
        put_varbytes(&mut body, r.key);
        put_varbytes(&mut body, r.value);
        body.put_varint(r.headers.len() as i32);
        for Header { key, value } in &r.headers {
            put_varbytes(&mut body, Some(key.as_bytes()));
            put_varbytes(&mut body, *value);
        }
        section.put_varint(body.len() as i32);
        section.extend_from_slice(&body);
    }
    let rebuilt = BatchHeader {
        attributes,
        base_timestamp,
        max_timestamp,
        records_count: records.len() as i32,
        ..*h
    };
    out.extend(build_batch(&rebuilt, &section, codec, None));
}

/// Appends to `out` the header of `h` with no records (Kafka's `writeEmptyHeader`): kept so
/// that a producer's last sequence and epoch, or the offsets up to a cleaning's end, survive.
pub fn empty_batch(h: &BatchHeader, out: &mut Vec<u8>) {
    let keep = ATTR_TIMESTAMP_LOG_APPEND | ATTR_TRANSACTIONAL | ATTR_CONTROL;
    let empty =
        BatchHeader { attributes: h.attributes & keep, base_timestamp: -1, records_count: 0, ..*h };
    out.extend(build_batch(&empty, &[], 0, None));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{check_batch, BatchBuilder, Records, HEADER_LEN};

    fn sample() -> Vec<u8> {
        // Three records at 1000, 1000 (the builder's deltas are 0), with a header on one.
        let mut b = BatchBuilder::new(40, 1000).producer(7, 1, 10).leader_epoch(3);
        b.push(Some(b"a"), Some(b"1"), &[]);
        b.push(Some(b"b"), None, &[Header { key: "h", value: Some(b"x") }]);
        b.push(Some(b"a"), Some(b"2"), &[]);
        b.finish()
    }

    #[test]
    fn rebuilt_batches_keep_offsets_producer_and_timestamps() {
        let src = sample();
        let h = check_batch(&src).unwrap();
        let recs: Vec<_> = Records::new(&src).unwrap().map(Result::unwrap).collect();
        let kept = [recs[1].clone(), recs[2].clone()];
        let mut out = Vec::new();
        rebuild_batch(&h, &kept, Some(5000), 0, &mut out);
        let n = check_batch(&out).expect("a valid batch with its CRC");
        assert_eq!(n.total_len(), out.len());
        assert_eq!((n.base_offset, n.last_offset(), n.records_count), (40, 42, 2));
        assert_eq!((n.producer_id, n.producer_epoch, n.base_sequence), (7, 1, 10));
        assert_eq!(n.partition_leader_epoch, 3);
        assert_eq!(delete_horizon(&n), Some(5000));
        assert_eq!(n.max_timestamp, 1000);
        let again: Vec<_> = Records::new(&out).unwrap().map(Result::unwrap).collect();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].offset_delta, 1);
        assert_eq!(again[0].headers, kept[0].headers);
        assert!(again.iter().all(|r| record_timestamp(&n, r) == 1000));
        let mut plain = Vec::new();
        rebuild_batch(&h, &kept[1..], None, 0, &mut plain);
        let p = check_batch(&plain).unwrap();
        assert_eq!((p.base_timestamp, delete_horizon(&p), p.last_offset()), (1000, None, 42));
    }

    #[test]
    fn empty_batches_are_headers_that_keep_the_last_offset() {
        let src = sample();
        let h = check_batch(&src).unwrap();
        let mut out = Vec::new();
        empty_batch(&h, &mut out);
        let e = check_batch(&out).unwrap();
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!((e.base_offset, e.last_offset(), e.records_count), (40, 42, 0));
        assert_eq!((e.base_timestamp, e.max_timestamp, e.producer_id), (-1, 1000, 7));
    }
}
