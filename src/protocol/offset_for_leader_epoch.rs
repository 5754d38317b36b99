//! OffsetForLeaderEpoch (key 23), versions 2-4 (Kafka 4.0 removed v0-1).
//!
//! - v2 adds `current_leader_epoch` (the request) and `throttle_time_ms` (the response).
//! - v3 adds `replica_id` (-1 for consumers).
//! - v4 is the first flexible version.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetForLeaderPartition {
    pub partition: i32,
    pub current_leader_epoch: i32,
    pub leader_epoch: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetForLeaderTopic<'a> {
    pub topic: &'a str,
    pub partitions: Vec<OffsetForLeaderPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetForLeaderEpochRequest<'a> {
    pub replica_id: i32,
    pub topics: Vec<OffsetForLeaderTopic<'a>>,
}

impl<'a> OffsetForLeaderEpochRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let replica_id = if version >= 3 { r.i32()? } else { -2 };
        let topics = r.array(flexible, |r| {
            let topic = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                let partition = r.i32()?;
                let current_leader_epoch = r.i32()?;
                let leader_epoch = r.i32()?;
                r.end_struct(flexible)?;
                Ok(OffsetForLeaderPartition { partition, current_leader_epoch, leader_epoch })
            })?;
            r.end_struct(flexible)?;
            Ok(OffsetForLeaderTopic { topic, partitions })
        })?;
        r.end_struct(flexible)?;
        Ok(OffsetForLeaderEpochRequest { replica_id, topics })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochEndOffset {
    pub error_code: i16,
    pub partition: i32,
    pub leader_epoch: i32,
    pub end_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetForLeaderTopicResult<'a> {
    pub topic: &'a str,
    pub partitions: Vec<EpochEndOffset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetForLeaderEpochResponse<'a> {
    pub throttle_time_ms: i32,
    pub topics: Vec<OffsetForLeaderTopicResult<'a>>,
}

impl OffsetForLeaderEpochResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 4;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            out.put_string(t.topic, flexible);
            out.put_array_len(Some(t.partitions.len()), flexible);
            for p in &t.partitions {
                out.put_i16(p.error_code);
                out.put_i32(p.partition);
                out.put_i32(p.leader_epoch);
                out.put_i64(p.end_offset);
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
