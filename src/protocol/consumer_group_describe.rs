//! ConsumerGroupDescribe (key 69), versions 0-1: the KIP-848 groups' own describe.
//!
//! Every version is flexible. v1 (KIP-1099) adds `member_type` to each member: whether it
//! speaks the classic (0) or the consumer (1) protocol, -1 when unknown.

use super::codec::{Put, Reader, Result, Uuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupDescribeRequest<'a> {
    pub group_ids: Vec<&'a str>,
    pub include_authorized_operations: bool,
}

impl<'a> ConsumerGroupDescribeRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let group_ids = r.array(true, |r| r.string(true))?;
        let include_authorized_operations = r.bool()?;
        r.end_struct(true)?;
        Ok(ConsumerGroupDescribeRequest { group_ids, include_authorized_operations })
    }
}

/// A topic's partitions, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DescribedTopicPartitions {
    pub topic_id: Uuid,
    pub topic_name: String,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DescribedMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub member_epoch: i32,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    pub subscribed_topic_regex: Option<String>,
    pub assignment: Vec<DescribedTopicPartitions>,
    pub target_assignment: Vec<DescribedTopicPartitions>,
    /// Sent from v1: 1 for a consumer protocol member.
    pub member_type: i8,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DescribedGroup {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub group_id: String,
    pub group_state: String,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub assignor_name: String,
    pub members: Vec<DescribedMember>,
    pub authorized_operations: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerGroupDescribeResponse {
    pub throttle_time_ms: i32,
    pub groups: Vec<DescribedGroup>,
}

fn put_assignment(out: &mut Vec<u8>, tps: &[DescribedTopicPartitions]) {
    out.put_array_len(Some(tps.len()), true);
    for t in tps {
        out.put_uuid(&t.topic_id);
        out.put_string(&t.topic_name, true);
        out.put_i32_array(&t.partitions, true);
        out.put_empty_tags(true);
    }
    out.put_empty_tags(true);
}

impl ConsumerGroupDescribeResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.groups.len()), true);
        for g in &self.groups {
            out.put_i16(g.error_code);
            out.put_nullable_string(g.error_message.as_deref(), true);
            out.put_string(&g.group_id, true);
            out.put_string(&g.group_state, true);
            out.put_i32(g.group_epoch);
            out.put_i32(g.assignment_epoch);
            out.put_string(&g.assignor_name, true);
            out.put_array_len(Some(g.members.len()), true);
            for m in &g.members {
                out.put_string(&m.member_id, true);
                out.put_nullable_string(m.instance_id.as_deref(), true);
                out.put_nullable_string(m.rack_id.as_deref(), true);
                out.put_i32(m.member_epoch);
                out.put_string(&m.client_id, true);
                out.put_string(&m.client_host, true);
                out.put_array_len(Some(m.subscribed_topic_names.len()), true);
                for t in &m.subscribed_topic_names {
                    out.put_string(t, true);
                }
                out.put_nullable_string(m.subscribed_topic_regex.as_deref(), true);
                put_assignment(out, &m.assignment);
                put_assignment(out, &m.target_assignment);
                if version >= 1 {
                    out.put_i8(m.member_type);
                }
                out.put_empty_tags(true);
            }
            out.put_i32(g.authorized_operations);
            out.put_empty_tags(true);
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::{self as kp, GroupId};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=1 {
            let mut m = kp::ConsumerGroupDescribeRequest::default();
            m.group_ids = vec![GroupId(sb("g1")), GroupId(sb("g2"))];
            m.include_authorized_operations = true;
            let b = kp_encode(&m, version);
            let mut r = Reader::new(&b);
            let req = ConsumerGroupDescribeRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0);
            assert_eq!(req.group_ids, vec!["g1", "g2"]);
            assert!(req.include_authorized_operations);
            for cut in 0..b.len() {
                assert!(ConsumerGroupDescribeRequest::decode(&mut Reader::new(&b[..cut]), version)
                    .is_err());
            }
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let tp = |n: &str, ps: Vec<i32>| DescribedTopicPartitions {
            topic_id: [n.len() as u8; 16],
            topic_name: n.to_string(),
            partitions: ps,
        };
        let resp = ConsumerGroupDescribeResponse {
            throttle_time_ms: 0,
            groups: vec![
                DescribedGroup {
                    group_id: "g".into(),
                    group_state: "Stable".into(),
                    group_epoch: 4,
                    assignment_epoch: 4,
                    assignor_name: "uniform".into(),
                    members: vec![DescribedMember {
                        member_id: "m1".into(),
                        instance_id: Some("i".into()),
                        member_epoch: 4,
                        client_id: "c".into(),
                        client_host: "/127.0.0.1".into(),
                        subscribed_topic_names: vec!["t".into(), "uu".into()],
                        assignment: vec![tp("t", vec![0, 1])],
                        target_assignment: vec![tp("t", vec![0]), tp("uu", vec![2])],
                        member_type: 1,
                        ..Default::default()
                    }],
                    authorized_operations: i32::MIN,
                    ..Default::default()
                },
                DescribedGroup {
                    error_code: crate::protocol::error::GROUP_ID_NOT_FOUND,
                    error_message: Some("Group x not found.".into()),
                    group_id: "x".into(),
                    authorized_operations: i32::MIN,
                    ..Default::default()
                },
            ],
        };
        for version in 0..=1 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let m: kp::ConsumerGroupDescribeResponse = kp_decode(&out, version);
            assert_eq!(m.groups.len(), 2);
            let g = &m.groups[0];
            assert_eq!((g.group_epoch, g.assignment_epoch), (4, 4));
            assert_eq!(g.assignor_name.as_str(), "uniform");
            assert_eq!(g.group_state.as_str(), "Stable");
            let mem = &g.members[0];
            assert_eq!(mem.member_id.as_str(), "m1");
            assert_eq!(mem.client_host.as_str(), "/127.0.0.1");
            assert_eq!(mem.subscribed_topic_names.len(), 2);
            assert_eq!(mem.assignment.topic_partitions[0].partitions, vec![0, 1]);
            assert_eq!(mem.target_assignment.topic_partitions.len(), 2);
            assert_eq!(mem.target_assignment.topic_partitions[1].topic_name.as_str(), "uu");
            assert_eq!(mem.member_type, if version >= 1 { 1 } else { -1 });
            assert_eq!(m.groups[1].error_code, 69);
            assert_eq!(m.groups[1].error_message.as_deref(), Some("Group x not found."));
        }
    }
}
