//! DescribeProducers (key 61), version 0 only; flexible from the start (KIP-664).
//!
//! - v0: per partition asked for, its error (with a message) and its active producers: id,
//!   epoch, last sequence, last timestamp, coordinator epoch and the first offset of the
//!   producer's open transaction there.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeProducersTopic<'a> {
    pub name: &'a str,
    pub partition_indexes: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeProducersRequest<'a> {
    pub topics: Vec<DescribeProducersTopic<'a>>,
}

impl<'a> DescribeProducersRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let topics = r.array(true, |r| {
            let t = DescribeProducersTopic {
                name: r.string(true)?,
                partition_indexes: r.i32_array(true)?,
            };
            r.skip_tagged_fields()?;
            Ok(t)
        })?;
        r.skip_tagged_fields()?;
        Ok(DescribeProducersRequest { topics })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerState {
    pub producer_id: i64,
    pub producer_epoch: i32,
    pub last_sequence: i32,
    pub last_timestamp: i64,
    pub coordinator_epoch: i32,
    pub current_txn_start_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionResponse<'a> {
    pub partition_index: i32,
    pub error_code: i16,
    pub error_message: Option<&'a str>,
    pub active_producers: Vec<ProducerState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResponse<'a> {
    pub name: &'a str,
    pub partitions: Vec<PartitionResponse<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeProducersResponse<'a> {
    pub topics: Vec<TopicResponse<'a>>,
}

impl DescribeProducersResponse<'_> {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(0); // throttle_time_ms
        out.put_array_len(Some(self.topics.len()), true);
        for t in &self.topics {
            out.put_string(t.name, true);
            out.put_array_len(Some(t.partitions.len()), true);
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                out.put_i16(p.error_code);
                out.put_nullable_string(p.error_message, true);
                out.put_array_len(Some(p.active_producers.len()), true);
                for s in &p.active_producers {
                    out.put_i64(s.producer_id);
                    out.put_i32(s.producer_epoch);
                    out.put_i32(s.last_sequence);
                    out.put_i64(s.last_timestamp);
                    out.put_i32(s.coordinator_epoch);
                    out.put_i64(s.current_txn_start_offset);
                    out.put_empty_tags(true);
                }
                out.put_empty_tags(true);
            }
            out.put_empty_tags(true);
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::*;
    use kafka_protocol::messages::describe_producers_request as q;
    use kafka_protocol::messages::{
        DescribeProducersRequest as KpReq, DescribeProducersResponse as KpResp, TopicName,
    };

    #[test]
    fn request_and_response_against_kafka_protocol() {
        let req = KpReq::default().with_topics(vec![q::TopicRequest::default()
            .with_name(TopicName(sb("t")))
            .with_partition_indexes(vec![0, 3])]);
        let bytes = kp_encode(&req, 0);
        let mut r = Reader::new(&bytes);
        let ours = DescribeProducersRequest::decode(&mut r, 0).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(
            ours.topics,
            [DescribeProducersTopic { name: "t", partition_indexes: vec![0, 3] }]
        );

        let resp = DescribeProducersResponse {
            topics: vec![TopicResponse {
                name: "t",
                partitions: vec![
                    PartitionResponse {
                        partition_index: 0,
                        error_code: 0,
                        error_message: None,
                        active_producers: vec![ProducerState {
                            producer_id: 7,
                            producer_epoch: 2,
                            last_sequence: 9,
                            last_timestamp: 123,
                            coordinator_epoch: 0,
                            current_txn_start_offset: 4,
                        }],
                    },
                    PartitionResponse {
                        partition_index: 3,
                        error_code: 3,
                        error_message: Some("gone"),
                        active_producers: vec![],
                    },
                ],
            }],
        };
        let mut out = Vec::new();
        resp.encode(0, &mut out);
        let kp: KpResp = kp_decode(&out, 0);
        let parts = &kp.topics[0].partitions;
        let s = &parts[0].active_producers[0];
        assert_eq!(
            (s.producer_id.0, s.producer_epoch, s.last_sequence, s.last_timestamp),
            (7, 2, 9, 123)
        );
        assert_eq!((s.coordinator_epoch, s.current_txn_start_offset), (0, 4));
        assert_eq!(parts[1].error_message.as_ref().map(|m| m.as_str()), Some("gone"));
    }
}
