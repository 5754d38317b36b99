//! JoinGroup (key 11), versions 0-9.
//!
//! - v1 adds `rebalance_timeout_ms`; before it the session timeout is also the rebalance
//!   timeout, and that is what a v0 request decodes to. v2 adds `throttle_time_ms` to the
//!   response; v3 changes throttling only.
//! - v4: a new member with an empty member id is answered MEMBER_ID_REQUIRED with its new id
//!   in `member_id`, and joins again with it (KIP-394).
//! - v5 adds `group_instance_id` (static membership, KIP-345) to the request and to each
//!   response member.
//! - v6 is the first flexible version.
//! - v7 adds `protocol_type` to the response and makes `protocol_name` nullable (KIP-559).
//! - v8 adds `reason` to the request (KIP-800).
//! - v9 adds `skip_assignment` to the response (for the KIP-848 upgrade path).

use super::codec::{DecodeError, Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupRequestProtocol<'a> {
    pub name: &'a str,
    pub metadata: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupRequest<'a> {
    pub group_id: &'a str,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    /// Empty for a member joining for the first time.
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub protocol_type: &'a str,
    pub protocols: Vec<JoinGroupRequestProtocol<'a>>,
    pub reason: Option<&'a str>,
}

fn bytes<'a>(r: &mut Reader<'a>, flexible: bool) -> Result<&'a [u8]> {
    r.nullable_bytes(flexible)?.ok_or(DecodeError("null where bytes are required"))
}

impl<'a> JoinGroupRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 6;
        let group_id = r.string(flexible)?;
        let session_timeout_ms = r.i32()?;
        let rebalance_timeout_ms = if version >= 1 { r.i32()? } else { session_timeout_ms };
        let member_id = r.string(flexible)?;
        let group_instance_id = if version >= 5 { r.nullable_string(flexible)? } else { None };
        let protocol_type = r.string(flexible)?;
        let protocols = r.array(flexible, |r| {
            let name = r.string(flexible)?;
            let metadata = bytes(r, flexible)?;
            r.end_struct(flexible)?;
            Ok(JoinGroupRequestProtocol { name, metadata })
        })?;
        let reason = if version >= 8 { r.nullable_string(flexible)? } else { None };
        r.end_struct(flexible)?;
        Ok(JoinGroupRequest {
            group_id,
            session_timeout_ms,
            rebalance_timeout_ms,
            member_id,
            group_instance_id,
            protocol_type,
            protocols,
            reason,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupResponseMember<'a> {
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub metadata: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub generation_id: i32,
    pub protocol_type: Option<&'a str>,
    /// `None` (or empty) on errors; written as "" before v7, where it is not nullable.
    pub protocol_name: Option<&'a str>,
    pub leader: &'a str,
    pub skip_assignment: bool,
    pub member_id: &'a str,
    /// Filled in for the leader only; empty for followers.
    pub members: Vec<JoinGroupResponseMember<'a>>,
}

impl JoinGroupResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 6;
        if version >= 2 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_i16(self.error_code);
        out.put_i32(self.generation_id);
        if version >= 7 {
            out.put_nullable_string(self.protocol_type, flexible);
            // Kafka sends an empty name as null from v7 on; clients check for null.
            out.put_nullable_string(self.protocol_name.filter(|n| !n.is_empty()), flexible);
        } else {
            out.put_string(self.protocol_name.unwrap_or(""), flexible);
        }
        out.put_string(self.leader, flexible);
        if version >= 9 {
            out.put_bool(self.skip_assignment);
        }
        out.put_string(self.member_id, flexible);
        out.put_array_len(Some(self.members.len()), flexible);
        for m in &self.members {
            out.put_string(m.member_id, flexible);
            if version >= 5 {
                out.put_nullable_string(m.group_instance_id, flexible);
            }
            out.put_nullable_bytes(Some(m.metadata), flexible);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::{self as kp, GroupId};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=9 {
            let mut m = kp::JoinGroupRequest::default();
            m.group_id = GroupId(sb("grp"));
            m.session_timeout_ms = 45_000;
            if version >= 1 {
                m.rebalance_timeout_ms = 300_000;
            }
            m.member_id = sb("m-1");
            if version >= 5 {
                m.group_instance_id = Some(sb("inst"));
            }
            m.protocol_type = sb("consumer");
            let mut p1 = kp::join_group_request::JoinGroupRequestProtocol::default();
            p1.name = sb("range");
            p1.metadata = vec![0, 1, 2].into();
            let mut p2 = kp::join_group_request::JoinGroupRequestProtocol::default();
            p2.name = sb("roundrobin");
            if version >= 6 {
                p2.unknown_tagged_fields.insert(3, vec![9].into());
                m.unknown_tagged_fields.insert(0, vec![1, 2].into());
            }
            m.protocols = vec![p1, p2];
            if version >= 8 {
                m.reason = Some(sb("why not"));
            }
            let b = kp_encode(&m, version);
            let mut r = Reader::new(&b);
            let req = JoinGroupRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(JoinGroupRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
            }
            let want = JoinGroupRequest {
                group_id: "grp",
                session_timeout_ms: 45_000,
                rebalance_timeout_ms: if version >= 1 { 300_000 } else { 45_000 },
                member_id: "m-1",
                group_instance_id: (version >= 5).then_some("inst"),
                protocol_type: "consumer",
                protocols: vec![
                    JoinGroupRequestProtocol { name: "range", metadata: &[0, 1, 2] },
                    JoinGroupRequestProtocol { name: "roundrobin", metadata: &[] },
                ],
                reason: (version >= 8).then_some("why not"),
            };
            assert_eq!(req, want, "v{version}");
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = JoinGroupResponse {
            throttle_time_ms: 5,
            error_code: 0,
            generation_id: 3,
            protocol_type: Some("consumer"),
            protocol_name: Some("range"),
            leader: "m-1",
            skip_assignment: true,
            member_id: "m-2",
            members: vec![
                JoinGroupResponseMember {
                    member_id: "m-1",
                    group_instance_id: Some("inst"),
                    metadata: &[7, 8],
                },
                JoinGroupResponseMember {
                    member_id: "m-2",
                    group_instance_id: None,
                    metadata: &[],
                },
            ],
        };
        for version in 0..=9 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let m: kp::JoinGroupResponse = kp_decode(&out, version);
            if version >= 2 {
                assert_eq!(m.throttle_time_ms, 5);
            }
            assert_eq!(m.error_code, 0);
            assert_eq!(m.generation_id, 3);
            if version >= 7 {
                assert_eq!(m.protocol_type.as_deref(), Some("consumer"));
            }
            assert_eq!(m.protocol_name.as_deref(), Some("range"));
            assert_eq!(m.leader.as_str(), "m-1");
            assert_eq!(m.skip_assignment, version >= 9);
            assert_eq!(m.member_id.as_str(), "m-2");
            assert_eq!(m.members.len(), 2);
            assert_eq!(m.members[0].member_id.as_str(), "m-1");
            assert_eq!(m.members[0].metadata.as_ref(), [7, 8]);
            let want_instance = (version >= 5).then_some("inst");
            assert_eq!(m.members[0].group_instance_id.as_deref(), want_instance);
            assert_eq!(m.members[1].group_instance_id.as_deref(), None);
            assert_eq!(m.members[1].metadata.as_ref(), [0u8; 0]);
        }
    }

    #[test]
    fn missing_protocol_name_is_empty_before_v7_and_null_after() {
        let resp = JoinGroupResponse {
            throttle_time_ms: 0,
            error_code: crate::protocol::error::MEMBER_ID_REQUIRED,
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: "",
            skip_assignment: false,
            member_id: "new-id",
            members: vec![],
        };
        for version in 0..=9 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let m: kp::JoinGroupResponse = kp_decode(&out, version);
            let want = if version >= 7 { None } else { Some("") };
            assert_eq!(m.protocol_name.as_deref(), want, "v{version}");
            assert_eq!(m.member_id.as_str(), "new-id");
            if version >= 7 {
                assert_eq!(m.protocol_type, None);
            }
        }
    }

    #[test]
    fn null_protocol_metadata_is_rejected() {
        let mut b = Vec::new();
        b.put_string("g", false);
        b.put_i32(1);
        b.put_string("", false);
        b.put_string("consumer", false);
        b.put_array_len(Some(1), false);
        b.put_string("range", false);
        b.put_nullable_bytes(None, false);
        assert!(JoinGroupRequest::decode(&mut Reader::new(&b), 0).is_err());
    }
}
