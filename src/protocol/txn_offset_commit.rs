//! TxnOffsetCommit (key 28), versions 0-5.
//!
//! - v1 is the same as v0; v2 adds `committed_leader_epoch`.
//! - v3 adds `generation_id`, `member_id` and `group_instance_id`, and is the first flexible
//!   version.
//! - v4 may answer TRANSACTION_ABORTABLE (KIP-890) where v3 answers INVALID_TXN_STATE.
//! - v5 is the same as v4; it also does AddOffsetsToTxn's work (transactions v2).

use super::codec::{Put, Reader, Result};

/// A partition's commit: the same fields as OffsetCommit's.
pub type TxnOffsetCommitPartition<'a> = super::offset_commit::OffsetCommitRequestPartition<'a>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest<'a> {
    pub transactional_id: &'a str,
    pub group_id: &'a str,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub generation_id: i32,
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub topics: Vec<(&'a str, Vec<TxnOffsetCommitPartition<'a>>)>,
}

impl<'a> TxnOffsetCommitRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let transactional_id = r.string(flexible)?;
        let group_id = r.string(flexible)?;
        let producer_id = r.i64()?;
        let producer_epoch = r.i16()?;
        let (generation_id, member_id, group_instance_id) = if version >= 3 {
            (r.i32()?, r.string(flexible)?, r.nullable_string(flexible)?)
        } else {
            (-1, "", None)
        };
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions =
                r.array(flexible, |r| TxnOffsetCommitPartition::decode(r, flexible, version >= 2))?;
            r.end_struct(flexible)?;
            Ok((name, partitions))
        })?;
        r.end_struct(flexible)?;
        Ok(TxnOffsetCommitRequest {
            transactional_id,
            group_id,
            producer_id,
            producer_epoch,
            generation_id,
            member_id,
            group_instance_id,
            topics,
        })
    }
}

/// The response: per topic, (partition index, error code) in request order.
pub fn encode_response(topics: &[(&str, Vec<(i32, i16)>)], version: i16, out: &mut Vec<u8>) {
    let flexible = version >= 3;
    out.put_i32(0);
    super::add_partitions_to_txn::put_partition_errors(topics, flexible, out);
    out.put_empty_tags(flexible);
}
