//! SyncGroup (key 14), versions 0-5.
//!
//! - v1 adds `throttle_time_ms` to the response; v2 changes throttling only.
//! - v3 adds `group_instance_id` (static membership, KIP-345).
//! - v4 is the first flexible version.
//! - v5 adds `protocol_type` and `protocol_name` (both nullable) to request and response
//!   (KIP-559): the broker rejects a request whose non-null values differ from the group's
//!   with INCONSISTENT_GROUP_PROTOCOL, and echoes the group's in the response.

use super::codec::{DecodeError, Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupRequestAssignment<'a> {
    pub member_id: &'a str,
    pub assignment: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupRequest<'a> {
    pub group_id: &'a str,
    pub generation_id: i32,
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
    pub protocol_type: Option<&'a str>,
    pub protocol_name: Option<&'a str>,
    /// Sent by the leader only; empty from followers.
    pub assignments: Vec<SyncGroupRequestAssignment<'a>>,
}

impl<'a> SyncGroupRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let group_id = r.string(flexible)?;
        let generation_id = r.i32()?;
        let member_id = r.string(flexible)?;
        let group_instance_id = if version >= 3 { r.nullable_string(flexible)? } else { None };
        let (protocol_type, protocol_name) = if version >= 5 {
            (r.nullable_string(flexible)?, r.nullable_string(flexible)?)
        } else {
            (None, None)
        };
        let assignments = r.array(flexible, |r| {
            let member_id = r.string(flexible)?;
            let assignment =
                r.nullable_bytes(flexible)?.ok_or(DecodeError("null where bytes are required"))?;
            r.end_struct(flexible)?;
            Ok(SyncGroupRequestAssignment { member_id, assignment })
        })?;
        r.end_struct(flexible)?;
        Ok(SyncGroupRequest {
            group_id,
            generation_id,
            member_id,
            group_instance_id,
            protocol_type,
            protocol_name,
            assignments,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub protocol_type: Option<&'a str>,
    pub protocol_name: Option<&'a str>,
    /// Empty on errors.
    pub assignment: &'a [u8],
}

impl SyncGroupResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 4;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_i16(self.error_code);
        if version >= 5 {
            out.put_nullable_string(self.protocol_type, flexible);
            out.put_nullable_string(self.protocol_name, flexible);
        }
        out.put_nullable_bytes(Some(self.assignment), flexible);
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
            let mut m = kp::SyncGroupRequest::default();
            m.group_id = GroupId(sb("grp"));
            m.generation_id = 4;
            m.member_id = sb("m-1");
            if version >= 3 {
                m.group_instance_id = Some(sb("inst"));
            }
            if version >= 5 {
                m.protocol_type = Some(sb("consumer"));
                m.protocol_name = Some(sb("range"));
            }
            let mut a = kp::sync_group_request::SyncGroupRequestAssignment::default();
            a.member_id = sb("m-1");
            a.assignment = vec![1, 2, 3, 4].into();
            let mut b = kp::sync_group_request::SyncGroupRequestAssignment::default();
            b.member_id = sb("m-2");
            if version >= 4 {
                b.unknown_tagged_fields.insert(0, vec![1].into());
                m.unknown_tagged_fields.insert(9, vec![2, 2].into());
            }
            m.assignments = vec![a, b];
            let mut buf = Vec::new();
            m.encode(&mut buf, version).unwrap();
            let mut r = Reader::new(&buf);
            let req = SyncGroupRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..buf.len() {
                assert!(SyncGroupRequest::decode(&mut Reader::new(&buf[..cut]), version).is_err());
            }
            let want = SyncGroupRequest {
                group_id: "grp",
                generation_id: 4,
                member_id: "m-1",
                group_instance_id: (version >= 3).then_some("inst"),
                protocol_type: (version >= 5).then_some("consumer"),
                protocol_name: (version >= 5).then_some("range"),
                assignments: vec![
                    SyncGroupRequestAssignment { member_id: "m-1", assignment: &[1, 2, 3, 4] },
                    SyncGroupRequestAssignment { member_id: "m-2", assignment: &[] },
                ],
            };
            assert_eq!(req, want, "v{version}");
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = SyncGroupResponse {
            throttle_time_ms: 1,
            error_code: 0,
            protocol_type: Some("consumer"),
            protocol_name: None,
            assignment: &[0, 3, 0, 0],
        };
        for version in 0..=5 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::SyncGroupResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.throttle_time_ms, if version >= 1 { 1 } else { 0 });
            assert_eq!(m.error_code, 0);
            if version >= 5 {
                assert_eq!(m.protocol_type.as_deref(), Some("consumer"));
                assert_eq!(m.protocol_name, None);
            }
            assert_eq!(m.assignment.as_ref(), [0, 3, 0, 0]);
        }
    }
}
