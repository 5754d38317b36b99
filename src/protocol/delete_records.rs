//! DeleteRecords (key 21), versions 0-2.
//!
//! - v1 is the same as v0.
//! - v2 is the first flexible version.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsTopic<'a> {
    pub name: &'a str,
    /// (partition index, offset to delete below; -1: the high watermark).
    pub partitions: Vec<(i32, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsRequest<'a> {
    pub topics: Vec<DeleteRecordsTopic<'a>>,
    pub timeout_ms: i32,
}

impl<'a> DeleteRecordsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                let p = (r.i32()?, r.i64()?);
                r.end_struct(flexible)?;
                Ok(p)
            })?;
            r.end_struct(flexible)?;
            Ok(DeleteRecordsTopic { name, partitions })
        })?;
        let timeout_ms = r.i32()?;
        r.end_struct(flexible)?;
        Ok(DeleteRecordsRequest { topics, timeout_ms })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsPartitionResult {
    pub partition_index: i32,
    pub low_watermark: i64,
    pub error_code: i16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsTopicResult<'a> {
    pub name: &'a str,
    pub partitions: Vec<DeleteRecordsPartitionResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsResponse<'a> {
    pub throttle_time_ms: i32,
    pub topics: Vec<DeleteRecordsTopicResult<'a>>,
}

impl DeleteRecordsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            out.put_string(t.name, flexible);
            out.put_array_len(Some(t.partitions.len()), flexible);
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                out.put_i64(p.low_watermark);
                out.put_i16(p.error_code);
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
