//! CreateTopics (key 19), versions 2-7.
//!
//! - v2-v3 are the old baseline (v0-v1 were removed in Kafka 4.0): `validate_only` is there.
//! - v4 lets `num_partitions` and `replication_factor` be -1, for the broker's defaults.
//! - v5 is the first flexible version, and the response describes the created topic:
//!   `num_partitions`, `replication_factor`, its `configs`, and `topic_config_error_code`
//!   (tag 0).
//! - v6 is the same as v5; v7 adds `topic_id` to the response.

use super::codec::{Put, Reader, Result, Uuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatableTopic<'a> {
    pub name: &'a str,
    pub num_partitions: i32,
    pub replication_factor: i16,
    /// (partition_index, broker_ids)
    pub assignments: Vec<(i32, Vec<i32>)>,
    /// (name, value)
    pub configs: Vec<(&'a str, Option<&'a str>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTopicsRequest<'a> {
    pub topics: Vec<CreatableTopic<'a>>,
    pub timeout_ms: i32,
    pub validate_only: bool,
}

impl<'a> CreateTopicsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 5;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let num_partitions = r.i32()?;
            let replication_factor = r.i16()?;
            let assignments = r.array(flexible, |r| {
                let partition = r.i32()?;
                let brokers = r.i32_array(flexible)?;
                r.end_struct(flexible)?;
                Ok((partition, brokers))
            })?;
            let configs = r.array(flexible, |r| {
                let name = r.string(flexible)?;
                let value = r.nullable_string(flexible)?;
                r.end_struct(flexible)?;
                Ok((name, value))
            })?;
            r.end_struct(flexible)?;
            Ok(CreatableTopic { name, num_partitions, replication_factor, assignments, configs })
        })?;
        let timeout_ms = r.i32()?;
        let validate_only = r.bool()?;
        r.end_struct(flexible)?;
        Ok(CreateTopicsRequest { topics, timeout_ms, validate_only })
    }
}

/// One entry of a created topic's `configs` (v5+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatableTopicConfigs {
    pub name: &'static str,
    pub value: Option<String>,
    pub read_only: bool,
    pub config_source: i8,
    pub is_sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatableTopicResult<'a> {
    pub name: &'a str,
    pub topic_id: Uuid,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub num_partitions: i32,
    pub replication_factor: i16,
    pub configs: Vec<CreatableTopicConfigs>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTopicsResponse<'a> {
    pub throttle_time_ms: i32,
    pub topics: Vec<CreatableTopicResult<'a>>,
}

impl CreateTopicsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 5;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            out.put_string(t.name, flexible);
            if version >= 7 {
                out.put_uuid(&t.topic_id);
            }
            out.put_i16(t.error_code);
            out.put_nullable_string(t.error_message.as_deref(), flexible);
            if version >= 5 {
                out.put_i32(t.num_partitions);
                out.put_i16(t.replication_factor);
                out.put_array_len(Some(t.configs.len()), flexible);
                for c in &t.configs {
                    out.put_string(c.name, flexible);
                    out.put_nullable_string(c.value.as_deref(), flexible);
                    out.put_bool(c.read_only);
                    out.put_i8(c.config_source);
                    out.put_bool(c.is_sensitive);
                    out.put_empty_tags(flexible);
                }
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
