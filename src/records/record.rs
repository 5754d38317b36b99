//! The records inside an uncompressed batch: varint-framed, with deltas from the batch header.

use super::{check_batch, BatchError, HEADER_LEN};
use crate::protocol::codec::{Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub key: &'a str,
    pub value: Option<&'a [u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub attributes: i8,
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<Header<'a>>,
}

/// Iterates the records of one uncompressed batch.
pub struct Records<'a> {
    r: Reader<'a>,
    left: i32,
}

impl<'a> Records<'a> {
    /// Fails for a bad batch; compressed batches are the caller's to avoid.
    pub fn new(batch: &'a [u8]) -> std::result::Result<Self, BatchError> {
        let h = check_batch(batch)?;
        Ok(Records { r: Reader::new(&batch[HEADER_LEN..h.total_len()]), left: h.records_count })
    }

    /// The records of a batch already checked, whose header is `h`.
    pub fn of_checked(batch: &'a [u8], h: &super::BatchHeader) -> Self {
        let end = h.total_len().min(batch.len());
        Records { r: Reader::new(&batch[HEADER_LEN.min(end)..end]), left: h.records_count }
    }

    /// The records of a records section (see [`super::records_section`]) holding `count`.
    pub fn of_section(section: &'a [u8], count: i32) -> Self {
        Records { r: Reader::new(section), left: count }
    }

    /// Whether a records section holds exactly `count` records that parse, and nothing after
    /// them (Kafka's iterator over a compressed batch refuses anything else).
    pub fn section_is_whole(section: &[u8], count: i32) -> bool {
        let mut recs = Records::of_section(section, count);
        let mut n = 0;
        for rec in recs.by_ref() {
            if rec.is_err() {
                return false;
            }
            n += 1;
        }
        n == count && recs.r.remaining() == 0
    }

    fn record(&mut self) -> Result<Record<'a>> {
        let len = self.r.varint()?;
        let body = self.r.take(usize::try_from(len).map_err(|_| neg())?)?;
        let mut r = Reader::new(body);
        let attributes = r.i8()?;
        let timestamp_delta = r.varlong()?;
        let offset_delta = r.varint()?;
        let key = varbytes(&mut r)?;
        let value = varbytes(&mut r)?;
        let n = r.varint()?;
        let n = usize::try_from(n).map_err(|_| neg())?.min(r.remaining());
        let mut headers = Vec::with_capacity(crate::protocol::codec::capacity_for(n));
        for _ in 0..n {
            let k = varbytes(&mut r)?.ok_or(crate::protocol::codec::DecodeError("null header"))?;
            let key = std::str::from_utf8(k)
                .map_err(|_| crate::protocol::codec::DecodeError("header key not UTF-8"))?;
            headers.push(Header { key, value: varbytes(&mut r)? });
        }
        Ok(Record { attributes, timestamp_delta, offset_delta, key, value, headers })
    }
}

fn neg() -> crate::protocol::codec::DecodeError {
    crate::protocol::codec::DecodeError("negative length in record")
}

fn varbytes<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>> {
    let n = r.varint()?;
    if n < 0 {
        return Ok(None);
    }
    r.take(n as usize).map(Some)
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left <= 0 {
            return None;
        }
        self.left -= 1;
        let rec = self.record();
        if rec.is_err() {
            self.left = 0;
        }
        Some(rec)
    }
}
