//! OffsetCommit (key 8), versions 2-9.
//!
//! - v2-v4 carry `retention_time_ms` (-1: the broker's retention); v0-v1 were removed in
//!   Kafka 4.0. v3 adds `throttle_time_ms` to the response, v4 changes throttling only.
//! - v5 drops `retention_time_ms`; retention is the broker's `offsets.retention.minutes`.
//! - v6 adds `committed_leader_epoch` per partition.
//! - v7 adds `group_instance_id` (static membership, KIP-345).
//! - v8 is the first flexible version.
//! - v9 has the v8 shape; it is the first usable with KIP-848 groups (then
//!   `generation_id_or_member_epoch` holds the member epoch), and may be answered
//!   GROUP_ID_NOT_FOUND or STALE_MEMBER_EPOCH.
//!
//! A commit with generation -1 and an empty member id comes from outside any group (admin
//! tools, `assign()` consumers); Kafka accepts it for an Empty or non-existent group.

use super::codec::{Put, Reader, Result};

impl<'a> OffsetCommitRequestPartition<'a> {
    /// One partition of OffsetCommit or TxnOffsetCommit, whose layouts are the same but for
    /// the version that adds `committed_leader_epoch`.
    pub fn decode(r: &mut Reader<'a>, flexible: bool, with_epoch: bool) -> Result<Self> {
        let partition_index = r.i32()?;
        let committed_offset = r.i64()?;
        let committed_leader_epoch = if with_epoch { r.i32()? } else { -1 };
        let committed_metadata = r.nullable_string(flexible)?;
        r.end_struct(flexible)?;
        Ok(OffsetCommitRequestPartition {
            partition_index,
            committed_offset,
            committed_leader_epoch,
            committed_metadata,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitRequestPartition<'a> {
    pub partition_index: i32,
    pub committed_offset: i64,
    /// -1 before v6.
    pub committed_leader_epoch: i32,
    pub committed_metadata: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitRequestTopic<'a> {
    pub name: &'a str,
    pub partitions: Vec<OffsetCommitRequestPartition<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitRequest<'a> {
    pub group_id: &'a str,
    pub generation_id_or_member_epoch: i32,
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    /// -1 (broker default) from v5 on, where the field is gone.
    pub retention_time_ms: i64,
    pub topics: Vec<OffsetCommitRequestTopic<'a>>,
}

impl<'a> OffsetCommitRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 8;
        let group_id = r.string(flexible)?;
        let generation_id_or_member_epoch = r.i32()?;
        let member_id = r.string(flexible)?;
        let group_instance_id = if version >= 7 { r.nullable_string(flexible)? } else { None };
        let retention_time_ms = if version <= 4 { r.i64()? } else { -1 };
        let topics = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array(flexible, |r| {
                OffsetCommitRequestPartition::decode(r, flexible, version >= 6)
            })?;
            r.end_struct(flexible)?;
            Ok(OffsetCommitRequestTopic { name, partitions })
        })?;
        r.end_struct(flexible)?;
        Ok(OffsetCommitRequest {
            group_id,
            generation_id_or_member_epoch,
            member_id,
            group_instance_id,
            retention_time_ms,
            topics,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetCommitResponsePartition {
    pub partition_index: i32,
    pub error_code: i16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitResponseTopic<'a> {
    pub name: &'a str,
    pub partitions: Vec<OffsetCommitResponsePartition>,
}

/// Group-level errors have no field of their own: they go in every partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitResponse<'a> {
    pub throttle_time_ms: i32,
    pub topics: Vec<OffsetCommitResponseTopic<'a>>,
}

impl OffsetCommitResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 8;
        if version >= 3 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            out.put_string(t.name, flexible);
            out.put_array_len(Some(t.partitions.len()), flexible);
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                out.put_i16(p.error_code);
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error;
    use crate::protocol::oracle::sb;
    use kafka_protocol::messages::offset_commit_request as kreq;
    use kafka_protocol::messages::{self as kp, GroupId, TopicName};
    use kafka_protocol::protocol::{Decodable, Encodable};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 2..=9 {
            let mut m = kp::OffsetCommitRequest::default();
            m.group_id = GroupId(sb("grp"));
            m.generation_id_or_member_epoch = 6;
            m.member_id = sb("m-1");
            if version >= 7 {
                m.group_instance_id = Some(sb("inst"));
            }
            if version <= 4 {
                m.retention_time_ms = 86_400_000;
            }
            let mut p0 = kreq::OffsetCommitRequestPartition::default();
            p0.partition_index = 0;
            p0.committed_offset = 42;
            p0.committed_metadata = Some(sb("meta"));
            if version >= 6 {
                p0.committed_leader_epoch = 3;
            }
            let mut p1 = kreq::OffsetCommitRequestPartition::default();
            p1.partition_index = 1;
            p1.committed_offset = 1 << 40;
            p1.committed_metadata = None;
            let mut t = kreq::OffsetCommitRequestTopic::default();
            t.name = TopicName(sb("topic"));
            if version >= 8 {
                p1.unknown_tagged_fields.insert(0, vec![1].into());
                t.unknown_tagged_fields.insert(0, vec![2].into());
                m.unknown_tagged_fields.insert(0, vec![3].into());
            }
            t.partitions = vec![p0, p1];
            m.topics = vec![t];
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let mut r = Reader::new(&b);
            let req = OffsetCommitRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(OffsetCommitRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
            }
            let want = OffsetCommitRequest {
                group_id: "grp",
                generation_id_or_member_epoch: 6,
                member_id: "m-1",
                group_instance_id: (version >= 7).then_some("inst"),
                retention_time_ms: if version <= 4 { 86_400_000 } else { -1 },
                topics: vec![OffsetCommitRequestTopic {
                    name: "topic",
                    partitions: vec![
                        OffsetCommitRequestPartition {
                            partition_index: 0,
                            committed_offset: 42,
                            committed_leader_epoch: if version >= 6 { 3 } else { -1 },
                            committed_metadata: Some("meta"),
                        },
                        OffsetCommitRequestPartition {
                            partition_index: 1,
                            committed_offset: 1 << 40,
                            committed_leader_epoch: -1,
                            committed_metadata: None,
                        },
                    ],
                }],
            };
            assert_eq!(req, want, "v{version}");
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = OffsetCommitResponse {
            throttle_time_ms: 8,
            topics: vec![
                OffsetCommitResponseTopic {
                    name: "topic",
                    partitions: vec![
                        OffsetCommitResponsePartition { partition_index: 0, error_code: 0 },
                        OffsetCommitResponsePartition {
                            partition_index: 1,
                            error_code: error::OFFSET_METADATA_TOO_LARGE,
                        },
                    ],
                },
                OffsetCommitResponseTopic { name: "other", partitions: vec![] },
            ],
        };
        for version in 2..=9 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::OffsetCommitResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.throttle_time_ms, if version >= 3 { 8 } else { 0 });
            assert_eq!(m.topics.len(), 2);
            assert_eq!(m.topics[0].name.as_str(), "topic");
            assert_eq!(m.topics[1].name.as_str(), "other");
            let p = &m.topics[0].partitions;
            assert_eq!((p[0].partition_index, p[0].error_code), (0, 0));
            assert_eq!((p[1].partition_index, p[1].error_code), (1, 12));
            assert!(m.topics[1].partitions.is_empty());
        }
    }
}
