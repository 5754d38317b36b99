//! AddPartitionsToTxn (key 24), versions 0-3: the ones clients send.
//!
//! - v1 is the same as v0; v2 may answer PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before).
//! - v3 is the first flexible version.
//! - v4+ (brokers verifying a transaction, several transactions per request) are not served.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest<'a> {
    pub transactional_id: &'a str,
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// (topic name, partition indexes).
    pub topics: Vec<(&'a str, Vec<i32>)>,
}

impl<'a> AddPartitionsToTxnRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let transactional_id = r.string(flexible)?;
        let producer_id = r.i64()?;
        let producer_epoch = r.i16()?;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions = r.i32_array(flexible)?;
            r.end_struct(flexible)?;
            Ok((name, partitions))
        })?;
        r.end_struct(flexible)?;
        Ok(AddPartitionsToTxnRequest { transactional_id, producer_id, producer_epoch, topics })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse<'a> {
    pub throttle_time_ms: i32,
    /// (topic name, [(partition index, error code)]).
    pub results: Vec<(&'a str, Vec<(i32, i16)>)>,
}

impl AddPartitionsToTxnResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 3;
        out.put_i32(self.throttle_time_ms);
        put_partition_errors(&self.results, flexible, out);
        out.put_empty_tags(flexible);
    }
}

/// Per topic, its partitions' (index, error code): the result array AddPartitionsToTxn and
/// TxnOffsetCommit answer with, flexible from the same version.
pub fn put_partition_errors(topics: &[(&str, Vec<(i32, i16)>)], flexible: bool, out: &mut Vec<u8>) {
    out.put_array_len(Some(topics.len()), flexible);
    for (name, partitions) in topics {
        out.put_string(name, flexible);
        out.put_array_len(Some(partitions.len()), flexible);
        for &(index, code) in partitions {
            out.put_i32(index);
            out.put_i16(code);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
