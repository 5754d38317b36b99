//! Produce (key 0), versions 3-12.
//!
//! - v3 adds `transactional_id` and requires record batch v2 (magic 2).
//! - v4-v7 change error semantics only (v5 adds `log_start_offset` to the response).
//! - v8 adds `record_errors` and `error_message` to partition responses.
//! - v9 is the first flexible version.
//! - v10 adds `current_leader` (tag 0) to partitions and `node_endpoints` (tag 0) to the
//!   response, sent only with NOT_LEADER_OR_FOLLOWER; v11 is the same as v10.
//! - v12 is the same as v11 (KIP-890: a transactional producer need not add partitions first).
//!
//! acks=0 requests get no response at all.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceData<'a> {
    pub index: i32,
    pub records: Option<&'a [u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProduceData<'a> {
    pub name: &'a str,
    pub partition_data: Vec<PartitionProduceData<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest<'a> {
    pub transactional_id: Option<&'a str>,
    pub acks: i16,
    pub timeout_ms: i32,
    pub topic_data: Vec<TopicProduceData<'a>>,
}

impl<'a> ProduceRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 9;
        let transactional_id = r.nullable_string(flexible)?;
        let acks = r.i16()?;
        let timeout_ms = r.i32()?;
        let topic_data = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partition_data = r.array(flexible, |r| {
                let index = r.i32()?;
                let records = r.nullable_bytes(flexible)?;
                r.end_struct(flexible)?;
                Ok(PartitionProduceData { index, records })
            })?;
            r.end_struct(flexible)?;
            Ok(TopicProduceData { name, partition_data })
        })?;
        r.end_struct(flexible)?;
        Ok(ProduceRequest { transactional_id, acks, timeout_ms, topic_data })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    pub index: i32,
    pub error_code: i16,
    pub base_offset: i64,
    pub log_append_time_ms: i64,
    pub log_start_offset: i64,
    pub error_message: Option<&'static str>,
}

impl PartitionProduceResponse {
    /// A partition that took nothing: every offset field -1, as Kafka answers errors.
    pub fn error(index: i32, error_code: i16, error_message: Option<&'static str>) -> Self {
        PartitionProduceResponse {
            index,
            error_code,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            error_message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProduceResponse<'a> {
    pub name: &'a str,
    pub partition_responses: Vec<PartitionProduceResponse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceResponse<'a> {
    pub responses: Vec<TopicProduceResponse<'a>>,
    pub throttle_time_ms: i32,
}

impl ProduceResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 9;
        out.put_array_len(Some(self.responses.len()), flexible);
        for t in &self.responses {
            out.put_string(t.name, flexible);
            out.put_array_len(Some(t.partition_responses.len()), flexible);
            for p in &t.partition_responses {
                out.put_i32(p.index);
                out.put_i16(p.error_code);
                out.put_i64(p.base_offset);
                out.put_i64(p.log_append_time_ms);
                if version >= 5 {
                    out.put_i64(p.log_start_offset);
                }
                if version >= 8 {
                    out.put_array_len(Some(0), flexible); // record_errors
                    out.put_nullable_string(p.error_message, flexible);
                }
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_i32(self.throttle_time_ms);
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v11_round_trip_of_the_course_shape() {
        let mut b = Vec::new();
        b.put_nullable_string(None, true);
        b.put_i16(1);
        b.put_i32(5000);
        b.put_array_len(Some(1), true);
        b.put_string("t", true);
        b.put_array_len(Some(1), true);
        b.put_i32(2);
        b.put_nullable_bytes(Some(&[1, 2, 3]), true);
        b.put_empty_tags(true);
        b.put_empty_tags(true);
        b.put_empty_tags(true);
        let mut r = Reader::new(&b);
        let req = ProduceRequest::decode(&mut r, 11).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(req.acks, 1);
        assert_eq!(req.topic_data[0].partition_data[0].records, Some(&[1u8, 2, 3][..]));

        let resp = ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t",
                partition_responses: vec![PartitionProduceResponse::error(2, 3, None)],
            }],
            throttle_time_ms: 0,
        };
        let mut out = Vec::new();
        resp.encode(11, &mut out);
        let mut want = vec![2, 2, b't', 2, 0, 0, 0, 2, 0, 3];
        want.extend([0xff; 24]);
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(out, want);
    }
}
