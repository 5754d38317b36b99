//! Builds uncompressed record batches: for the metadata log the broker writes, and for tests.

use super::{BatchHeader, Header, HEADER_LEN, MAGIC};
use crate::protocol::codec::Put;

pub struct BatchBuilder {
    buf: Vec<u8>,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    leader_epoch: i32,
    attributes: i16,
}

impl BatchBuilder {
    pub fn new(base_offset: i64, base_timestamp: i64) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.put_i64(base_offset);
        buf.resize(HEADER_LEN, 0);
        BatchBuilder {
            buf,
            base_timestamp,
            max_timestamp: base_timestamp,
            count: 0,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            leader_epoch: -1,
            attributes: 0,
        }
    }

    /// Marks the batch as an idempotent producer's.
    pub fn producer(mut self, id: i64, epoch: i16, base_sequence: i32) -> Self {
        (self.producer_id, self.producer_epoch, self.base_sequence) = (id, epoch, base_sequence);
        self
    }

    /// Marks the batch as a transaction's (its producer must be set too).
    pub fn transactional(mut self) -> Self {
        self.attributes |= super::ATTR_TRANSACTIONAL;
        self
    }

    /// Marks the batch as a transaction marker: transactional and control.
    pub fn control(mut self) -> Self {
        self.attributes |= super::ATTR_TRANSACTIONAL | super::ATTR_CONTROL;
        self
    }

    pub fn leader_epoch(mut self, epoch: i32) -> Self {
        self.leader_epoch = epoch;
        self
    }

    pub fn push(&mut self, key: Option<&[u8]>, value: Option<&[u8]>, headers: &[Header<'_>]) {
        self.push_at(self.base_timestamp, key, value, headers);
    }

    /// A record with its own timestamp (the batch's base timestamp is the first record's).
    pub fn push_at(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header<'_>],
    ) {
        self.max_timestamp = self.max_timestamp.max(timestamp);
        let mut body = Vec::with_capacity(16 + value.map_or(0, <[u8]>::len));
        body.put_i8(0);
        body.put_varlong(timestamp - self.base_timestamp);
        body.put_varint(self.count);
        put_varbytes(&mut body, key);
        put_varbytes(&mut body, value);
        body.put_varint(headers.len() as i32);
        for h in headers {
            put_varbytes(&mut body, Some(h.key.as_bytes()));
            put_varbytes(&mut body, h.value);
        }
        self.buf.put_varint(body.len() as i32);
        self.buf.extend_from_slice(&body);
        self.count += 1;
    }

    pub fn finish(self) -> Vec<u8> {
        let h = BatchHeader {
            base_offset: i64::from_be_bytes(self.buf[..8].try_into().expect("8 bytes")),
            batch_length: 0,
            partition_leader_epoch: self.leader_epoch,
            magic: MAGIC,
            crc: 0,
            attributes: self.attributes,
            last_offset_delta: (self.count - 1).max(0),
            base_timestamp: self.base_timestamp,
            max_timestamp: self.max_timestamp,
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            base_sequence: self.base_sequence,
            records_count: self.count,
        };
        super::build_batch(&h, &self.buf[HEADER_LEN..], 0, None)
    }
}

pub(super) fn put_varbytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => out.put_varint(-1),
        Some(b) => {
            out.put_varint(b.len() as i32);
            out.extend_from_slice(b);
        }
    }
}
