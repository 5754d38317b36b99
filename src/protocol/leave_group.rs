//! LeaveGroup (key 13), versions 0-5.
//!
//! - v1 adds `throttle_time_ms` to the response; v2 changes throttling only.
//! - v3 batches (KIP-345): the request carries `members` (member id + group instance id)
//!   instead of one `member_id`, and the response a per-member result in `members`.
//! - v4 is the first flexible version.
//! - v5 adds a per-member `reason` (KIP-800).
//!
//! A pre-v3 request reads as one member with no instance id. A pre-v3 response has only the
//! top-level error, so the first member's error stands in for it when that is NONE, as Kafka
//! does.

use super::codec::{Put, Reader, Result};
use super::error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberIdentity<'a> {
    /// May be empty from v3 on when `group_instance_id` names the member.
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub reason: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveGroupRequest<'a> {
    pub group_id: &'a str,
    pub members: Vec<MemberIdentity<'a>>,
}

impl<'a> LeaveGroupRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let group_id = r.string(flexible)?;
        let members = if version < 3 {
            let member_id = r.string(flexible)?;
            vec![MemberIdentity { member_id, group_instance_id: None, reason: None }]
        } else {
            r.array(flexible, |r| {
                let member_id = r.string(flexible)?;
                let group_instance_id = r.nullable_string(flexible)?;
                let reason = if version >= 5 { r.nullable_string(flexible)? } else { None };
                r.end_struct(flexible)?;
                Ok(MemberIdentity { member_id, group_instance_id, reason })
            })?
        };
        r.end_struct(flexible)?;
        Ok(LeaveGroupRequest { group_id, members })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberResponse<'a> {
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub error_code: i16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveGroupResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub members: Vec<MemberResponse<'a>>,
}

impl LeaveGroupResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 4;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        if version < 3 {
            let member_error = self.members.iter().map(|m| m.error_code).find(|&e| e != 0);
            let code = match self.error_code {
                error::NONE => member_error.unwrap_or(error::NONE),
                e => e,
            };
            out.put_i16(code);
        } else {
            out.put_i16(self.error_code);
            out.put_array_len(Some(self.members.len()), flexible);
            for m in &self.members {
                out.put_string(m.member_id, flexible);
                out.put_nullable_string(m.group_instance_id, flexible);
                out.put_i16(m.error_code);
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
    use kafka_protocol::messages::{self as kp, GroupId};
    use kafka_protocol::protocol::{Decodable, Encodable};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=5 {
            let mut m = kp::LeaveGroupRequest::default();
            m.group_id = GroupId(sb("grp"));
            if version < 3 {
                m.member_id = sb("m-1");
            } else {
                let mut a = kp::leave_group_request::MemberIdentity::default();
                a.member_id = sb("m-1");
                let mut b = kp::leave_group_request::MemberIdentity::default();
                b.group_instance_id = Some(sb("inst"));
                if version >= 5 {
                    b.reason = Some(sb("shutdown"));
                }
                if version >= 4 {
                    b.unknown_tagged_fields.insert(2, vec![0].into());
                    m.unknown_tagged_fields.insert(4, vec![].into());
                }
                m.members = vec![a, b];
            }
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let mut r = Reader::new(&b);
            let req = LeaveGroupRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(LeaveGroupRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
            }
            assert_eq!(req.group_id, "grp");
            let first = MemberIdentity { member_id: "m-1", group_instance_id: None, reason: None };
            let mut want = vec![first];
            if version >= 3 {
                want.push(MemberIdentity {
                    member_id: "",
                    group_instance_id: Some("inst"),
                    reason: (version >= 5).then_some("shutdown"),
                });
            }
            assert_eq!(req.members, want, "v{version}");
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = LeaveGroupResponse {
            throttle_time_ms: 3,
            error_code: 0,
            members: vec![
                MemberResponse { member_id: "m-1", group_instance_id: None, error_code: 0 },
                MemberResponse {
                    member_id: "",
                    group_instance_id: Some("inst"),
                    error_code: error::UNKNOWN_MEMBER_ID,
                },
            ],
        };
        for version in 0..=5 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::LeaveGroupResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.throttle_time_ms, if version >= 1 { 3 } else { 0 });
            if version < 3 {
                assert_eq!(m.error_code, error::UNKNOWN_MEMBER_ID, "member error lifted");
            } else {
                assert_eq!(m.error_code, 0);
                assert_eq!(m.members.len(), 2);
                assert_eq!(m.members[0].member_id.as_str(), "m-1");
                assert_eq!(m.members[0].group_instance_id, None);
                assert_eq!(m.members[1].member_id.as_str(), "");
                assert_eq!(m.members[1].group_instance_id.as_deref(), Some("inst"));
                assert_eq!(m.members[1].error_code, error::UNKNOWN_MEMBER_ID);
            }
        }
    }
}
