//! ListOffsets (key 2), versions 1-10.
//!
//! - v1 drops `max_num_offsets` (one offset per partition from here on).
//! - v2 adds `isolation_level` and `throttle_time_ms`; v3 is the same.
//! - v4 adds `current_leader_epoch` and the response `leader_epoch`; v5 is the same.
//! - v6 is the first flexible version.
//! - v7 allows timestamp -3 (the record with the largest timestamp, KIP-734).
//! - v8 allows -4 (earliest local offset, KIP-405); v9 allows -5 (latest tiered, KIP-1005).
//! - v10 adds `timeout_ms` for remote-storage lookups (KIP-1075).

use super::codec::{Put, Reader, Result};

pub const LATEST_TIMESTAMP: i64 = -1;
pub const EARLIEST_TIMESTAMP: i64 = -2;
pub const MAX_TIMESTAMP: i64 = -3;
pub const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;
pub const LATEST_TIERED_TIMESTAMP: i64 = -5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    pub partition_index: i32,
    pub current_leader_epoch: i32,
    pub timestamp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsTopic<'a> {
    pub name: &'a str,
    pub partitions: Vec<ListOffsetsPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsRequest<'a> {
    pub replica_id: i32,
    pub isolation_level: i8,
    pub topics: Vec<ListOffsetsTopic<'a>>,
}

impl<'a> ListOffsetsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 6;
        let replica_id = r.i32()?;
        let isolation_level = if version >= 2 { r.i8()? } else { 0 };
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                let partition_index = r.i32()?;
                let current_leader_epoch = if version >= 4 { r.i32()? } else { -1 };
                let timestamp = r.i64()?;
                r.end_struct(flexible)?;
                Ok(ListOffsetsPartition { partition_index, current_leader_epoch, timestamp })
            })?;
            r.end_struct(flexible)?;
            Ok(ListOffsetsTopic { name, partitions })
        })?;
        if version >= 10 {
            r.i32()?; // timeout_ms: nothing here is remote
        }
        r.end_struct(flexible)?;
        Ok(ListOffsetsRequest { replica_id, isolation_level, topics })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsPartitionResponse {
    pub partition_index: i32,
    pub error_code: i16,
    pub timestamp: i64,
    pub offset: i64,
    pub leader_epoch: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsTopicResponse<'a> {
    pub name: &'a str,
    pub partitions: Vec<ListOffsetsPartitionResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsResponse<'a> {
    pub throttle_time_ms: i32,
    pub topics: Vec<ListOffsetsTopicResponse<'a>>,
}

impl ListOffsetsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 6;
        if version >= 2 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            out.put_string(t.name, flexible);
            out.put_array_len(Some(t.partitions.len()), flexible);
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                out.put_i16(p.error_code);
                out.put_i64(p.timestamp);
                out.put_i64(p.offset);
                if version >= 4 {
                    out.put_i32(p.leader_epoch);
                }
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
