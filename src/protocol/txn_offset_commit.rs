//! TxnOffsetCommit (key 28), versions 0-3.
//!
//! - v1 is the same as v0; v2 adds `committed_leader_epoch`.
//! - v3 adds `generation_id`, `member_id` and `group_instance_id`, and is the first flexible
//!   version.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitPartition<'a> {
    pub partition_index: i32,
    pub committed_offset: i64,
    pub committed_leader_epoch: i32,
    pub committed_metadata: Option<&'a str>,
}

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
            let partitions = r.array(flexible, |r| {
                let partition_index = r.i32()?;
                let committed_offset = r.i64()?;
                let committed_leader_epoch = if version >= 2 { r.i32()? } else { -1 };
                let committed_metadata = r.nullable_string(flexible)?;
                r.end_struct(flexible)?;
                Ok(TxnOffsetCommitPartition {
                    partition_index,
                    committed_offset,
                    committed_leader_epoch,
                    committed_metadata,
                })
            })?;
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
    out.put_empty_tags(flexible);
}
