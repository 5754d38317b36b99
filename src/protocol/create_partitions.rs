//! CreatePartitions (key 37), versions 0-3.
//!
//! - v1 is v0 with quota throttling; v2 is the first flexible version; v3 is v2 with
//!   controller-mutation quota errors. The fields are the same in every version.
//! - `assignments` is nullable: null lets the controller place the new partitions.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsTopic<'a> {
    pub name: &'a str,
    pub count: i32,
    /// One broker list per new partition, or `None` when the request leaves placement open.
    pub assignments: Option<Vec<Vec<i32>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsRequest<'a> {
    pub topics: Vec<CreatePartitionsTopic<'a>>,
    pub timeout_ms: i32,
    pub validate_only: bool,
}

impl<'a> CreatePartitionsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let count = r.i32()?;
            let assignments = match r.array_len(flexible)? {
                None => None,
                Some(n) => {
                    let mut v = Vec::with_capacity(super::codec::capacity_for(n));
                    for _ in 0..n {
                        v.push(r.i32_array(flexible)?);
                        r.end_struct(flexible)?;
                    }
                    Some(v)
                }
            };
            r.end_struct(flexible)?;
            Ok(CreatePartitionsTopic { name, count, assignments })
        })?;
        let timeout_ms = r.i32()?;
        let validate_only = r.bool()?;
        r.end_struct(flexible)?;
        Ok(CreatePartitionsRequest { topics, timeout_ms, validate_only })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsTopicResult {
    pub name: String,
    pub error_code: i16,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePartitionsResponse {
    pub throttle_time_ms: i32,
    pub results: Vec<CreatePartitionsTopicResult>,
}

impl CreatePartitionsResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.results.len()), flexible);
        for t in &self.results {
            out.put_string(&t.name, flexible);
            out.put_i16(t.error_code);
            out.put_nullable_string(t.error_message.as_deref(), flexible);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::{self as kp, BrokerId, TopicName};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=3 {
            let mut m = kp::CreatePartitionsRequest::default();
            let mut a = kp::create_partitions_request::CreatePartitionsTopic::default();
            a.name = TopicName(sb("t"));
            a.count = 3;
            let mut asg = kp::create_partitions_request::CreatePartitionsAssignment::default();
            asg.broker_ids = vec![BrokerId(1)];
            a.assignments = Some(vec![asg.clone(), asg]);
            let mut b = kp::create_partitions_request::CreatePartitionsTopic::default();
            b.name = TopicName(sb("u"));
            b.count = 5;
            b.assignments = None;
            m.topics = vec![a, b];
            m.timeout_ms = 1500;
            m.validate_only = true;
            let bytes = kp_encode(&m, version);
            let mut r = Reader::new(&bytes);
            let req = CreatePartitionsRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            for cut in 0..bytes.len() {
                let short =
                    CreatePartitionsRequest::decode(&mut Reader::new(&bytes[..cut]), version);
                assert!(short.is_err(), "v{version} cut {cut}");
            }
            assert_eq!(
                req,
                CreatePartitionsRequest {
                    topics: vec![
                        CreatePartitionsTopic {
                            name: "t",
                            count: 3,
                            assignments: Some(vec![vec![1], vec![1]])
                        },
                        CreatePartitionsTopic { name: "u", count: 5, assignments: None },
                    ],
                    timeout_ms: 1500,
                    validate_only: true,
                },
                "v{version}"
            );
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        for version in 0..=3 {
            let resp = CreatePartitionsResponse {
                throttle_time_ms: 4,
                results: vec![
                    CreatePartitionsTopicResult {
                        name: "t".into(),
                        error_code: 0,
                        error_message: None,
                    },
                    CreatePartitionsTopicResult {
                        name: "u".into(),
                        error_code: 37,
                        error_message: Some("Topic already has 1 partition(s).".into()),
                    },
                ],
            };
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let kpr: kp::CreatePartitionsResponse = kp_decode(&out, version);
            assert_eq!(kpr.throttle_time_ms, 4);
            assert_eq!(kpr.results.len(), 2);
            assert_eq!(kpr.results[1].name.0.as_str(), "u");
            assert_eq!(kpr.results[1].error_code, 37);
            assert_eq!(
                kpr.results[1].error_message.as_ref().map(|s| s.as_str()),
                Some("Topic already has 1 partition(s).")
            );
            assert_eq!(kpr.results[0].error_message, None);
        }
    }
}
