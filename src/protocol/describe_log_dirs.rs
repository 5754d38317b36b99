//! DescribeLogDirs (key 35), versions 1-4 (Kafka 4.0 removed v0).
//!
//! - v2 is the first flexible version.
//! - v3 adds the response's top-level `error_code`.
//! - v4 adds `total_bytes` and `usable_bytes` of each directory's volume.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribableLogDirTopic<'a> {
    pub topic: &'a str,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeLogDirsRequest<'a> {
    /// `None`: every partition.
    pub topics: Option<Vec<DescribableLogDirTopic<'a>>>,
}

impl<'a> DescribeLogDirsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let topics = match r.array_len(flexible)? {
            None => None,
            Some(n) => {
                let mut topics = Vec::with_capacity(super::codec::capacity_for(n));
                for _ in 0..n {
                    let topic = r.string(flexible)?;
                    let partitions = r.i32_array(flexible)?;
                    r.end_struct(flexible)?;
                    topics.push(DescribableLogDirTopic { topic, partitions });
                }
                Some(topics)
            }
        };
        r.end_struct(flexible)?;
        Ok(DescribeLogDirsRequest { topics })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeLogDirsPartition {
    pub partition_index: i32,
    pub partition_size: i64,
    pub offset_lag: i64,
    pub is_future_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeLogDirsTopic<'a> {
    pub name: &'a str,
    pub partitions: Vec<DescribeLogDirsPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeLogDirsResult<'a> {
    pub error_code: i16,
    pub log_dir: &'a str,
    pub topics: Vec<DescribeLogDirsTopic<'a>>,
    pub total_bytes: i64,
    pub usable_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeLogDirsResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub results: Vec<DescribeLogDirsResult<'a>>,
}

impl DescribeLogDirsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(self.throttle_time_ms);
        if version >= 3 {
            out.put_i16(self.error_code);
        }
        out.put_array_len(Some(self.results.len()), flexible);
        for d in &self.results {
            out.put_i16(d.error_code);
            out.put_string(d.log_dir, flexible);
            out.put_array_len(Some(d.topics.len()), flexible);
            for t in &d.topics {
                out.put_string(t.name, flexible);
                out.put_array_len(Some(t.partitions.len()), flexible);
                for p in &t.partitions {
                    out.put_i32(p.partition_index);
                    out.put_i64(p.partition_size);
                    out.put_i64(p.offset_lag);
                    out.put_bool(p.is_future_key);
                    out.put_empty_tags(flexible);
                }
                out.put_empty_tags(flexible);
            }
            if version >= 4 {
                out.put_i64(d.total_bytes);
                out.put_i64(d.usable_bytes);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
