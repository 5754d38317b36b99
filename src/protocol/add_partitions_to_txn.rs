//! AddPartitionsToTxn (key 24), versions 0-5.
//!
//! - v1 is the same as v0; v2 may answer PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before).
//! - v3 is the first flexible version.
//! - v4 (KIP-890, meant for brokers) carries several transactions, each with `verify_only`
//!   (ask whether its partitions are in the transaction rather than add them); the response
//!   gains a top-level error code and answers per transaction.
//! - v5 may answer TRANSACTION_ABORTABLE.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnTransaction<'a> {
    pub transactional_id: &'a str,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub verify_only: bool,
    /// (topic name, partition indexes).
    pub topics: Vec<(&'a str, Vec<i32>)>,
}

/// Before v4 the request is one transaction, decoded as such (not `verify_only`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest<'a> {
    pub transactions: Vec<AddPartitionsToTxnTransaction<'a>>,
}

fn topics<'a>(r: &mut Reader<'a>, flexible: bool) -> Result<Vec<(&'a str, Vec<i32>)>> {
    r.array(flexible, |r| {
        let name = r.string(flexible)?;
        let partitions = r.i32_array(flexible)?;
        r.end_struct(flexible)?;
        Ok((name, partitions))
    })
}

impl<'a> AddPartitionsToTxnRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let transactions = if version >= 4 {
            r.array(true, |r| {
                let t = AddPartitionsToTxnTransaction {
                    transactional_id: r.string(true)?,
                    producer_id: r.i64()?,
                    producer_epoch: r.i16()?,
                    verify_only: r.bool()?,
                    topics: topics(r, true)?,
                };
                r.end_struct(true)?;
                Ok(t)
            })?
        } else {
            vec![AddPartitionsToTxnTransaction {
                transactional_id: r.string(flexible)?,
                producer_id: r.i64()?,
                producer_epoch: r.i16()?,
                verify_only: false,
                topics: topics(r, flexible)?,
            }]
        };
        r.end_struct(flexible)?;
        Ok(AddPartitionsToTxnRequest { transactions })
    }
}

/// (topic name, [(partition index, error code)]).
pub type TopicResults<'a> = Vec<(&'a str, Vec<(i32, i16)>)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse<'a> {
    pub throttle_time_ms: i32,
    /// v4+.
    pub error_code: i16,
    /// (transactional id, its results); before v4 exactly one, whose id is not sent.
    pub results: Vec<(&'a str, TopicResults<'a>)>,
}

impl AddPartitionsToTxnResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 3;
        out.put_i32(self.throttle_time_ms);
        if version >= 4 {
            out.put_i16(self.error_code);
            out.put_array_len(Some(self.results.len()), true);
            for (transactional_id, topics) in &self.results {
                out.put_string(transactional_id, true);
                put_partition_errors(topics, true, out);
                out.put_empty_tags(true);
            }
        } else {
            let topics = self.results.first().map_or(&[][..], |(_, t)| &t[..]);
            put_partition_errors(topics, flexible, out);
        }
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
