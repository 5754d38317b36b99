//! DescribeGroups (key 15), versions 0-6.
//!
//! - v1 adds `throttle_time_ms` to the response; v2 changes throttling only.
//! - v3 adds `include_authorized_operations` to the request and `authorized_operations` to
//!   each group (i32::MIN when not asked for).
//! - v4 adds `group_instance_id` to each member.
//! - v5 is the first flexible version.
//! - v6 (Kafka 4.1) adds a per-group `error_message`, and unknown groups are answered
//!   GROUP_ID_NOT_FOUND instead of being described as Dead.

use super::codec::{Put, Reader, Result};

/// `authorized_operations` when the client did not ask for them.
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeGroupsRequest<'a> {
    pub groups: Vec<&'a str>,
    pub include_authorized_operations: bool,
}

impl<'a> DescribeGroupsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 5;
        let groups = r.array(flexible, |r| r.string(flexible))?;
        let include_authorized_operations = if version >= 3 { r.bool()? } else { false };
        r.end_struct(flexible)?;
        Ok(DescribeGroupsRequest { groups, include_authorized_operations })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedGroupMember<'a> {
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub client_id: &'a str,
    pub client_host: &'a str,
    /// Kafka fills this and `member_assignment` only while the group is Stable.
    pub member_metadata: &'a [u8],
    pub member_assignment: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedGroup<'a> {
    pub error_code: i16,
    /// Sent from v6.
    pub error_message: Option<String>,
    pub group_id: &'a str,
    /// "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or "Dead"; an unknown
    /// group is described as Dead with no error.
    pub group_state: &'a str,
    pub protocol_type: &'a str,
    /// The selected protocol (assignor) name, filled only while Stable.
    pub protocol_data: &'a str,
    pub members: Vec<DescribedGroupMember<'a>>,
    pub authorized_operations: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeGroupsResponse<'a> {
    pub throttle_time_ms: i32,
    pub groups: Vec<DescribedGroup<'a>>,
}

impl DescribeGroupsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 5;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(Some(self.groups.len()), flexible);
        for g in &self.groups {
            out.put_i16(g.error_code);
            if version >= 6 {
                out.put_nullable_string(g.error_message.as_deref(), flexible);
            }
            out.put_string(g.group_id, flexible);
            out.put_string(g.group_state, flexible);
            out.put_string(g.protocol_type, flexible);
            out.put_string(g.protocol_data, flexible);
            out.put_array_len(Some(g.members.len()), flexible);
            for m in &g.members {
                out.put_string(m.member_id, flexible);
                if version >= 4 {
                    out.put_nullable_string(m.group_instance_id, flexible);
                }
                out.put_string(m.client_id, flexible);
                out.put_string(m.client_host, flexible);
                out.put_nullable_bytes(Some(m.member_metadata), flexible);
                out.put_nullable_bytes(Some(m.member_assignment), flexible);
                out.put_empty_tags(flexible);
            }
            if version >= 3 {
                out.put_i32(g.authorized_operations);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{self as kp, GroupId};
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=6 {
            let mut m = kp::DescribeGroupsRequest::default();
            m.groups = vec![
                GroupId(StrBytes::from_static_str("a")),
                GroupId(StrBytes::from_static_str("bc")),
            ];
            if version >= 3 {
                m.include_authorized_operations = true;
            }
            if version >= 5 {
                m.unknown_tagged_fields.insert(0, vec![3].into());
            }
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let mut r = Reader::new(&b);
            let req = DescribeGroupsRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(
                    DescribeGroupsRequest::decode(&mut Reader::new(&b[..cut]), version).is_err()
                );
            }
            assert_eq!(req.groups, ["a", "bc"]);
            assert_eq!(req.include_authorized_operations, version >= 3);
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = DescribeGroupsResponse {
            throttle_time_ms: 2,
            groups: vec![
                DescribedGroup {
                    error_code: 0,
                    error_message: None,
                    group_id: "a",
                    group_state: "Stable",
                    protocol_type: "consumer",
                    protocol_data: "range",
                    members: vec![DescribedGroupMember {
                        member_id: "m-1",
                        group_instance_id: Some("inst"),
                        client_id: "cli",
                        client_host: "/127.0.0.1",
                        member_metadata: &[1, 2],
                        member_assignment: &[3],
                    }],
                    authorized_operations: 0x0f,
                },
                DescribedGroup {
                    error_code: 69,
                    error_message: Some("Group bc not found.".into()),
                    group_id: "bc",
                    group_state: "Dead",
                    protocol_type: "",
                    protocol_data: "",
                    members: vec![],
                    authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
                },
            ],
        };
        for version in 0..=6 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::DescribeGroupsResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.throttle_time_ms, if version >= 1 { 2 } else { 0 });
            assert_eq!(m.groups.len(), 2);
            let g = &m.groups[0];
            assert_eq!(g.error_code, 0);
            assert_eq!(g.group_id.as_str(), "a");
            assert_eq!(g.group_state.as_str(), "Stable");
            assert_eq!(g.protocol_type.as_str(), "consumer");
            assert_eq!(g.protocol_data.as_str(), "range");
            if version >= 3 {
                assert_eq!(g.authorized_operations, 0x0f);
                assert_eq!(m.groups[1].authorized_operations, i32::MIN);
            }
            let mem = &g.members[0];
            assert_eq!(mem.member_id.as_str(), "m-1");
            let want_instance = (version >= 4).then_some("inst");
            assert_eq!(mem.group_instance_id.as_deref(), want_instance);
            assert_eq!(mem.client_id.as_str(), "cli");
            assert_eq!(mem.client_host.as_str(), "/127.0.0.1");
            assert_eq!(mem.member_metadata.as_ref(), [1, 2]);
            assert_eq!(mem.member_assignment.as_ref(), [3]);
            assert_eq!(m.groups[1].group_state.as_str(), "Dead");
            assert!(m.groups[1].members.is_empty());
            let message = (version >= 6).then_some("Group bc not found.");
            assert_eq!(m.groups[1].error_message.as_deref(), message);
            assert_eq!(m.groups[0].error_message, None);
        }
    }
}
