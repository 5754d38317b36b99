//! OffsetFetch (key 9), versions 1-9.
//!
//! - v1 is the oldest left (v0 read ZooKeeper offsets and was removed in Kafka 4.0); its
//!   topic list cannot be null and its response has no top-level error code.
//! - v2 lets `topics` be null (every topic with a committed offset) and adds the top-level
//!   `error_code` for group and coordinator errors.
//! - v3 adds `throttle_time_ms`; v4 changes throttling only.
//! - v5 adds `committed_leader_epoch` to response partitions.
//! - v6 is the first flexible version.
//! - v7 adds `require_stable` (answer UNSTABLE_OFFSET_COMMIT for partitions with pending
//!   transactional commits).
//! - v8 batches: the request carries `groups` (each with its own nullable `topics`), the
//!   response `groups` (each with its own `error_code`), replacing the flat fields.
//! - v9 adds `member_id` and `member_epoch` to each request group (KIP-848; null and -1 from
//!   classic consumers).
//!
//! Both shapes are normalised to the batched one: a pre-v8 request reads as one group, and a
//! pre-v8 response writes its first group flat, its error in the top-level `error_code`
//! (v2-v7) or, lacking that field in v1, in every partition that has no error of its own.

use super::codec::{DecodeError, Put, Reader, Result};
use super::error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchRequestTopic<'a> {
    pub name: &'a str,
    pub partition_indexes: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchRequestGroup<'a> {
    pub group_id: &'a str,
    pub member_id: Option<&'a str>,
    pub member_epoch: i32,
    /// `None`: every topic the group has committed offsets for.
    pub topics: Option<Vec<OffsetFetchRequestTopic<'a>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchRequest<'a> {
    /// Exactly one before v8.
    pub groups: Vec<OffsetFetchRequestGroup<'a>>,
    pub require_stable: bool,
}

fn decode_topics<'a>(
    r: &mut Reader<'a>,
    flexible: bool,
) -> Result<Option<Vec<OffsetFetchRequestTopic<'a>>>> {
    let Some(n) = r.array_len(flexible)? else {
        return Ok(None);
    };
    let mut topics = Vec::with_capacity(crate::protocol::codec::capacity_for(n));
    for _ in 0..n {
        let name = r.string(flexible)?;
        let partition_indexes = r.i32_array(flexible)?;
        r.end_struct(flexible)?;
        topics.push(OffsetFetchRequestTopic { name, partition_indexes });
    }
    Ok(Some(topics))
}

impl<'a> OffsetFetchRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 6;
        let groups = if version < 8 {
            let group_id = r.string(flexible)?;
            let topics = decode_topics(r, flexible)?;
            if version < 2 && topics.is_none() {
                return Err(DecodeError("null topics before OffsetFetch v2"));
            }
            vec![OffsetFetchRequestGroup { group_id, member_id: None, member_epoch: -1, topics }]
        } else {
            r.array(flexible, |r| {
                let group_id = r.string(flexible)?;
                let (member_id, member_epoch) = if version >= 9 {
                    (r.nullable_string(flexible)?, r.i32()?)
                } else {
                    (None, -1)
                };
                let topics = decode_topics(r, flexible)?;
                r.end_struct(flexible)?;
                Ok(OffsetFetchRequestGroup { group_id, member_id, member_epoch, topics })
            })?
        };
        let require_stable = if version >= 7 { r.bool()? } else { false };
        r.end_struct(flexible)?;
        Ok(OffsetFetchRequest { groups, require_stable })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchResponsePartition<'a> {
    pub partition_index: i32,
    /// -1 when nothing is committed (with error NONE and metadata "", as Kafka answers).
    pub committed_offset: i64,
    /// -1 when unknown; written from v5 on.
    pub committed_leader_epoch: i32,
    pub metadata: Option<&'a str>,
    pub error_code: i16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchResponseTopic<'a> {
    pub name: &'a str,
    pub partitions: Vec<OffsetFetchResponsePartition<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchResponseGroup<'a> {
    pub group_id: &'a str,
    pub topics: Vec<OffsetFetchResponseTopic<'a>>,
    pub error_code: i16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchResponse<'a> {
    pub throttle_time_ms: i32,
    /// One per requested group, in order; before v8 only the first is written.
    pub groups: Vec<OffsetFetchResponseGroup<'a>>,
}

fn encode_topics(
    topics: &[OffsetFetchResponseTopic<'_>],
    version: i16,
    group_error: i16,
    out: &mut Vec<u8>,
) {
    let flexible = version >= 6;
    out.put_array_len(Some(topics.len()), flexible);
    for t in topics {
        out.put_string(t.name, flexible);
        out.put_array_len(Some(t.partitions.len()), flexible);
        for p in &t.partitions {
            out.put_i32(p.partition_index);
            out.put_i64(p.committed_offset);
            if version >= 5 {
                out.put_i32(p.committed_leader_epoch);
            }
            out.put_nullable_string(p.metadata, flexible);
            let code =
                if version < 2 && p.error_code == error::NONE { group_error } else { p.error_code };
            out.put_i16(code);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

impl OffsetFetchResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 6;
        if version >= 3 {
            out.put_i32(self.throttle_time_ms);
        }
        if version < 8 {
            let (topics, group_error) = match self.groups.first() {
                Some(g) => (&g.topics[..], g.error_code),
                None => (&[][..], error::NONE),
            };
            encode_topics(topics, version, group_error, out);
            if version >= 2 {
                out.put_i16(group_error);
            }
        } else {
            out.put_array_len(Some(self.groups.len()), flexible);
            for g in &self.groups {
                out.put_string(g.group_id, flexible);
                encode_topics(&g.topics, version, g.error_code, out);
                out.put_i16(g.error_code);
                out.put_empty_tags(flexible);
            }
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::sb;
    use kafka_protocol::messages::offset_fetch_request as kreq;
    use kafka_protocol::messages::{self as kp, GroupId, TopicName};
    use kafka_protocol::protocol::{Decodable, Encodable};

    fn decode(b: &[u8], version: i16) -> OffsetFetchRequest<'_> {
        let mut r = Reader::new(b);
        let req = OffsetFetchRequest::decode(&mut r, version).unwrap();
        assert_eq!(r.remaining(), 0, "v{version}");
        // Every strict prefix is short of a required field.
        for cut in 0..b.len() {
            assert!(OffsetFetchRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
        }
        req
    }

    #[test]
    fn requests_decode_in_every_version() {
        for version in 1..=9 {
            let mut m = kp::OffsetFetchRequest::default();
            if version < 8 {
                m.group_id = GroupId(sb("grp"));
                let mut t = kreq::OffsetFetchRequestTopic::default();
                t.name = TopicName(sb("topic"));
                t.partition_indexes = vec![0, 2];
                if version >= 6 {
                    t.unknown_tagged_fields.insert(0, vec![1].into());
                }
                m.topics = Some(vec![t]);
            } else {
                let mut g1 = kreq::OffsetFetchRequestGroup::default();
                g1.group_id = GroupId(sb("grp"));
                let mut t = kreq::OffsetFetchRequestTopics::default();
                t.name = TopicName(sb("topic"));
                t.partition_indexes = vec![0, 2];
                t.unknown_tagged_fields.insert(0, vec![1].into());
                g1.topics = Some(vec![t]);
                if version >= 9 {
                    g1.member_id = Some(sb("m-1"));
                    g1.member_epoch = 5;
                }
                let mut g2 = kreq::OffsetFetchRequestGroup::default();
                g2.group_id = GroupId(sb("all"));
                g2.topics = None;
                g2.unknown_tagged_fields.insert(2, vec![1, 2].into());
                m.groups = vec![g1, g2];
            }
            if version >= 7 {
                m.require_stable = true;
            }
            if version >= 6 {
                m.unknown_tagged_fields.insert(5, vec![].into());
            }
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let req = decode(&b, version);
            let mut want = vec![OffsetFetchRequestGroup {
                group_id: "grp",
                member_id: (version >= 9).then_some("m-1"),
                member_epoch: if version >= 9 { 5 } else { -1 },
                topics: Some(vec![OffsetFetchRequestTopic {
                    name: "topic",
                    partition_indexes: vec![0, 2],
                }]),
            }];
            if version >= 8 {
                want.push(OffsetFetchRequestGroup {
                    group_id: "all",
                    member_id: None,
                    member_epoch: -1,
                    topics: None,
                });
            }
            assert_eq!(req.groups, want, "v{version}");
            assert_eq!(req.require_stable, version >= 7);
        }
    }

    #[test]
    fn null_topics_mean_all_from_v2() {
        for version in 2..=7 {
            let mut m = kp::OffsetFetchRequest::default();
            m.group_id = GroupId(sb("grp"));
            m.topics = None;
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let req = decode(&b, version);
            assert_eq!(req.groups.len(), 1);
            assert_eq!(req.groups[0].group_id, "grp");
            assert_eq!(req.groups[0].topics, None, "v{version}");
        }
        let mut b = Vec::new();
        b.put_string("grp", false);
        b.put_array_len(None, false);
        assert!(OffsetFetchRequest::decode(&mut Reader::new(&b), 1).is_err());
    }

    fn response() -> OffsetFetchResponse<'static> {
        OffsetFetchResponse {
            throttle_time_ms: 6,
            groups: vec![
                OffsetFetchResponseGroup {
                    group_id: "grp",
                    topics: vec![OffsetFetchResponseTopic {
                        name: "topic",
                        partitions: vec![
                            OffsetFetchResponsePartition {
                                partition_index: 0,
                                committed_offset: 42,
                                committed_leader_epoch: 3,
                                metadata: Some("meta"),
                                error_code: 0,
                            },
                            OffsetFetchResponsePartition {
                                partition_index: 2,
                                committed_offset: -1,
                                committed_leader_epoch: -1,
                                metadata: None,
                                error_code: error::UNSTABLE_OFFSET_COMMIT,
                            },
                        ],
                    }],
                    error_code: 0,
                },
                OffsetFetchResponseGroup {
                    group_id: "gone",
                    topics: vec![],
                    error_code: error::GROUP_ID_NOT_FOUND,
                },
            ],
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = response();
        for version in 1..=9 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::OffsetFetchResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.throttle_time_ms, if version >= 3 { 6 } else { 0 });
            let want_epoch = if version >= 5 { 3 } else { -1 };
            if version < 8 {
                assert_eq!(m.error_code, 0);
                assert_eq!(m.topics.len(), 1);
                assert_eq!(m.topics[0].name.as_str(), "topic");
                let p = &m.topics[0].partitions;
                assert_eq!(p[0].partition_index, 0);
                assert_eq!(p[0].committed_offset, 42);
                assert_eq!(p[0].committed_leader_epoch, want_epoch);
                assert_eq!(p[0].metadata.as_deref(), Some("meta"));
                assert_eq!(p[0].error_code, 0);
                assert_eq!(p[1].partition_index, 2);
                assert_eq!(p[1].committed_offset, -1);
                assert_eq!(p[1].metadata, None);
                assert_eq!(p[1].error_code, error::UNSTABLE_OFFSET_COMMIT);
            } else {
                assert_eq!(m.groups.len(), 2);
                let g = &m.groups[0];
                assert_eq!(g.group_id.as_str(), "grp");
                assert_eq!(g.error_code, 0);
                let p = &g.topics[0].partitions;
                assert_eq!(g.topics[0].name.as_str(), "topic");
                assert_eq!(p[0].committed_offset, 42);
                assert_eq!(p[0].committed_leader_epoch, 3);
                assert_eq!(p[0].metadata.as_deref(), Some("meta"));
                assert_eq!(p[1].error_code, error::UNSTABLE_OFFSET_COMMIT);
                assert_eq!(m.groups[1].group_id.as_str(), "gone");
                assert_eq!(m.groups[1].error_code, error::GROUP_ID_NOT_FOUND);
                assert!(m.groups[1].topics.is_empty());
            }
        }
    }

    #[test]
    fn group_error_goes_top_level_or_into_partitions_before_v2() {
        let mut resp = response();
        resp.groups.truncate(1);
        resp.groups[0].error_code = error::NOT_COORDINATOR;
        for version in 1..=7 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::OffsetFetchResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            let p = &m.topics[0].partitions;
            if version >= 2 {
                assert_eq!(m.error_code, error::NOT_COORDINATOR);
                assert_eq!(p[0].error_code, 0);
            } else {
                assert_eq!(p[0].error_code, error::NOT_COORDINATOR);
            }
            assert_eq!(p[1].error_code, error::UNSTABLE_OFFSET_COMMIT);
        }
    }
}
