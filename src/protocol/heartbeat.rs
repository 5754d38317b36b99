//! Heartbeat (key 12), versions 0-4.
//!
//! - v1 adds `throttle_time_ms` to the response; v2 changes throttling only.
//! - v3 adds `group_instance_id` (static membership, KIP-345).
//! - v4 is the first flexible version.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRequest<'a> {
    pub group_id: &'a str,
    pub generation_id: i32,
    pub member_id: &'a str,
    pub group_instance_id: Option<&'a str>,
}

impl<'a> HeartbeatRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let group_id = r.string(flexible)?;
        let generation_id = r.i32()?;
        let member_id = r.string(flexible)?;
        let group_instance_id = if version >= 3 { r.nullable_string(flexible)? } else { None };
        r.end_struct(flexible)?;
        Ok(HeartbeatRequest { group_id, generation_id, member_id, group_instance_id })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
}

impl HeartbeatResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 4;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_i16(self.error_code);
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
        for version in 0..=4 {
            let mut m = kp::HeartbeatRequest::default();
            m.group_id = GroupId(StrBytes::from_static_str("grp"));
            m.generation_id = 12;
            m.member_id = StrBytes::from_static_str("m-1");
            if version >= 3 {
                m.group_instance_id = Some(StrBytes::from_static_str("inst"));
            }
            if version >= 4 {
                m.unknown_tagged_fields.insert(1, vec![5, 5].into());
            }
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let mut r = Reader::new(&b);
            let req = HeartbeatRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(HeartbeatRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
            }
            let want = HeartbeatRequest {
                group_id: "grp",
                generation_id: 12,
                member_id: "m-1",
                group_instance_id: (version >= 3).then_some("inst"),
            };
            assert_eq!(req, want, "v{version}");
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = HeartbeatResponse {
            throttle_time_ms: 9,
            error_code: crate::protocol::error::REBALANCE_IN_PROGRESS,
        };
        for version in 0..=4 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::HeartbeatResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.error_code, 27);
            assert_eq!(m.throttle_time_ms, if version >= 1 { 9 } else { 0 });
        }
    }
}
