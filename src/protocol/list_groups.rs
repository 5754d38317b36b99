//! ListGroups (key 16), versions 0-5.
//!
//! - v0-v2 have an empty request body; v1 adds `throttle_time_ms` to the response, v2 changes
//!   throttling only.
//! - v3 is the first flexible version.
//! - v4 adds `states_filter` to the request and `group_state` to each group (KIP-518).
//! - v5 adds `types_filter` to the request and `group_type` to each group (KIP-848).
//!
//! An empty filter matches every group. Kafka compares both filters case-insensitively
//! ("stable" matches "Stable", after trimming), so a handler should too.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListGroupsRequest<'a> {
    pub states_filter: Vec<&'a str>,
    pub types_filter: Vec<&'a str>,
}

impl<'a> ListGroupsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let states_filter =
            if version >= 4 { r.array(flexible, |r| r.string(flexible))? } else { Vec::new() };
        let types_filter =
            if version >= 5 { r.array(flexible, |r| r.string(flexible))? } else { Vec::new() };
        r.end_struct(flexible)?;
        Ok(ListGroupsRequest { states_filter, types_filter })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup<'a> {
    pub group_id: &'a str,
    pub protocol_type: &'a str,
    pub group_state: &'a str,
    /// "classic" or "consumer" (also "share", "streams" in later Kafkas).
    pub group_type: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListGroupsResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub groups: Vec<ListedGroup<'a>>,
}

impl ListGroupsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 3;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_i16(self.error_code);
        out.put_array_len(Some(self.groups.len()), flexible);
        for g in &self.groups {
            out.put_string(g.group_id, flexible);
            out.put_string(g.protocol_type, flexible);
            if version >= 4 {
                out.put_string(g.group_state, flexible);
            }
            if version >= 5 {
                out.put_string(g.group_type, flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages as kp;
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=5 {
            let mut m = kp::ListGroupsRequest::default();
            if version >= 4 {
                m.states_filter =
                    vec![StrBytes::from_static_str("Stable"), StrBytes::from_static_str("Empty")];
            }
            if version >= 5 {
                m.types_filter = vec![StrBytes::from_static_str("classic")];
            }
            if version >= 3 {
                m.unknown_tagged_fields.insert(1, vec![1, 1, 1].into());
            }
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let mut r = Reader::new(&b);
            let req = ListGroupsRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(ListGroupsRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
            }
            let want_states: &[&str] = if version >= 4 { &["Stable", "Empty"] } else { &[] };
            assert_eq!(req.states_filter, want_states);
            let want_types: &[&str] = if version >= 5 { &["classic"] } else { &[] };
            assert_eq!(req.types_filter, want_types);
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = ListGroupsResponse {
            throttle_time_ms: 4,
            error_code: 0,
            groups: vec![
                ListedGroup {
                    group_id: "a",
                    protocol_type: "consumer",
                    group_state: "Stable",
                    group_type: "classic",
                },
                ListedGroup {
                    group_id: "b",
                    protocol_type: "",
                    group_state: "Empty",
                    group_type: "classic",
                },
            ],
        };
        for version in 0..=5 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let mut s = &out[..];
            let m = kp::ListGroupsResponse::decode(&mut s, version).unwrap();
            assert!(s.is_empty(), "v{version}");
            assert_eq!(m.throttle_time_ms, if version >= 1 { 4 } else { 0 });
            assert_eq!(m.error_code, 0);
            assert_eq!(m.groups.len(), 2);
            assert_eq!(m.groups[0].group_id.as_str(), "a");
            assert_eq!(m.groups[0].protocol_type.as_str(), "consumer");
            assert_eq!(m.groups[1].group_id.as_str(), "b");
            if version >= 4 {
                assert_eq!(m.groups[1].group_state.as_str(), "Empty");
            }
            if version >= 5 {
                assert_eq!(m.groups[0].group_type.as_str(), "classic");
            }
        }
    }
}
