//! The record-batch walker: a Produce `records` field or a log segment, batch by batch, each
//! decompressed and its records read. The CRC stops most mutated inputs at the door, so the
//! same bytes are also read as if their CRC had matched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minikafka::records::{self, BatchHeader, Records};

/// What the broker allows a batch to decompress to in these runs.
const LIMIT: usize = 1 << 20;

fn walk(batch: &[u8], h: &BatchHeader) {
    let _ = (h.total_len(), h.last_offset(), h.is_control(), h.is_transactional());
    if let Ok(section) = records::records_section(batch, h, LIMIT) {
        for rec in Records::of_section(&section, h.records_count) {
            if rec.is_err() {
                break;
            }
        }
        let _ = Records::section_is_whole(&section, h.records_count);
    }
    for rec in Records::of_checked(batch, h) {
        if rec.is_err() {
            break;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    for b in records::batches(data) {
        match b {
            Ok((h, batch)) => walk(batch, &h),
            Err(_) => break,
        }
    }
    for batch in records::checked_batches(data) {
        let _ = records::peek_offsets(batch);
    }
    if let Some(h) = BatchHeader::parse(data) {
        walk(data, &h);
    }
});
