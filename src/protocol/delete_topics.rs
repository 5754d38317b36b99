//! DeleteTopics (key 20), versions 1-6.
//!
//! - v1 adds `throttle_time_ms` (v0 was removed in Kafka 4.0); v2-v3 are the same.
//! - v4 is the first flexible version.
//! - v5 adds `error_message` to the response.
//! - v6 names topics by name or id (`topics` replaces `topic_names`) and echoes the id.

use super::codec::{Put, Reader, Result, Uuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopicState<'a> {
    pub name: Option<&'a str>,
    pub topic_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopicsRequest<'a> {
    pub topics: Vec<DeleteTopicState<'a>>,
    pub timeout_ms: i32,
}

impl<'a> DeleteTopicsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let topics = if version >= 6 {
            r.array(flexible, |r| {
                let name = r.nullable_string(flexible)?;
                let topic_id = r.uuid()?;
                r.end_struct(flexible)?;
                Ok(DeleteTopicState { name, topic_id })
            })?
        } else {
            r.array(flexible, |r| {
                Ok(DeleteTopicState { name: Some(r.string(flexible)?), topic_id: [0; 16] })
            })?
        };
        let timeout_ms = r.i32()?;
        r.end_struct(flexible)?;
        Ok(DeleteTopicsRequest { topics, timeout_ms })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletableTopicResult {
    pub name: Option<String>,
    pub topic_id: Uuid,
    pub error_code: i16,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteTopicsResponse {
    pub throttle_time_ms: i32,
    pub responses: Vec<DeletableTopicResult>,
}

impl DeleteTopicsResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 4;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.responses.len()), flexible);
        for t in &self.responses {
            if version >= 6 {
                out.put_nullable_string(t.name.as_deref(), flexible);
                out.put_uuid(&t.topic_id);
            } else {
                out.put_string(t.name.as_deref().unwrap_or(""), flexible);
            }
            out.put_i16(t.error_code);
            if version >= 5 {
                out.put_nullable_string(t.error_message.as_deref(), flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
