//! FindCoordinator (key 10), versions 0-6.
//!
//! - v1 adds `key_type` to the request, and `throttle_time_ms` and `error_message` to the
//!   response; v2 changes throttling only.
//! - v3 is the first flexible version.
//! - v4 batches (KIP-699): the request carries `coordinator_keys` instead of `key`, and the
//!   response a `coordinators` array (each with its key and its own error) instead of the flat
//!   error/node/host/port fields.
//! - v5 only allows the TRANSACTION_ABORTABLE error; v6 allows the share key type (KIP-932).
//!
//! Both shapes are normalised to the batched one: a pre-v4 request reads as one key, and a
//! pre-v4 response writes its first coordinator in the flat fields.

use super::codec::{Put, Reader, Result};
use super::error;

pub const KEY_TYPE_GROUP: i8 = 0;
pub const KEY_TYPE_TRANSACTION: i8 = 1;
pub const KEY_TYPE_SHARE: i8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorRequest<'a> {
    /// Group ids or transactional ids, by `key_type`; exactly one before v4.
    pub keys: Vec<&'a str>,
    pub key_type: i8,
}

impl<'a> FindCoordinatorRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let key = if version < 4 { Some(r.string(flexible)?) } else { None };
        let key_type = if version >= 1 { r.i8()? } else { KEY_TYPE_GROUP };
        let keys = match key {
            Some(k) => vec![k],
            None => r.array(flexible, |r| r.string(flexible))?,
        };
        r.end_struct(flexible)?;
        Ok(FindCoordinatorRequest { keys, key_type })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator<'a> {
    /// Echoed back only from v4 on.
    pub key: &'a str,
    pub node_id: i32,
    pub host: &'a str,
    pub port: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorResponse<'a> {
    pub throttle_time_ms: i32,
    /// One per requested key, in order; before v4 only the first is written.
    pub coordinators: Vec<Coordinator<'a>>,
}

impl FindCoordinatorResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 3;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        if version < 4 {
            // An empty list should not happen; if it does, "not available" makes the client
            // retry rather than connect to a made-up node.
            let none = Coordinator {
                key: "",
                node_id: -1,
                host: "",
                port: -1,
                error_code: error::COORDINATOR_NOT_AVAILABLE,
                error_message: None,
            };
            let c = self.coordinators.first().unwrap_or(&none);
            out.put_i16(c.error_code);
            if version >= 1 {
                out.put_nullable_string(c.error_message.as_deref(), flexible);
            }
            out.put_i32(c.node_id);
            out.put_string(c.host, flexible);
            out.put_i32(c.port);
        } else {
            out.put_array_len(Some(self.coordinators.len()), flexible);
            for c in &self.coordinators {
                out.put_string(c.key, flexible);
                out.put_i32(c.node_id);
                out.put_string(c.host, flexible);
                out.put_i32(c.port);
                out.put_i16(c.error_code);
                out.put_nullable_string(c.error_message.as_deref(), flexible);
                out.put_empty_tags(flexible);
            }
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode};
    use kafka_protocol::messages::{self as kp, BrokerId};
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=6 {
            let mut m = kp::FindCoordinatorRequest::default();
            if version < 4 {
                m.key = StrBytes::from_static_str("grp");
            } else {
                m.coordinator_keys =
                    vec![StrBytes::from_static_str("a"), StrBytes::from_static_str("bb")];
            }
            if version >= 1 {
                m.key_type = KEY_TYPE_TRANSACTION;
            }
            if version >= 3 {
                m.unknown_tagged_fields.insert(7, vec![1, 2, 3].into());
            }
            let b = kp_encode(&m, version);
            let mut r = Reader::new(&b);
            let req = FindCoordinatorRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            // Every strict prefix is short of a required field.
            for cut in 0..b.len() {
                assert!(
                    FindCoordinatorRequest::decode(&mut Reader::new(&b[..cut]), version).is_err()
                );
            }
            let want_keys: Vec<&str> = if version < 4 { vec!["grp"] } else { vec!["a", "bb"] };
            assert_eq!(req.keys, want_keys, "v{version}");
            let want_type = if version >= 1 { KEY_TYPE_TRANSACTION } else { KEY_TYPE_GROUP };
            assert_eq!(req.key_type, want_type, "v{version}");
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        let resp = FindCoordinatorResponse {
            throttle_time_ms: 7,
            coordinators: vec![
                Coordinator {
                    key: "a",
                    node_id: 1,
                    host: "localhost",
                    port: 9092,
                    error_code: 0,
                    error_message: None,
                },
                Coordinator {
                    key: "bb",
                    node_id: -1,
                    host: "",
                    port: -1,
                    error_code: error::COORDINATOR_NOT_AVAILABLE,
                    error_message: Some("nope".into()),
                },
            ],
        };
        for version in 0..=6 {
            let mut out = Vec::new();
            resp.encode(version, &mut out);
            let m: kp::FindCoordinatorResponse = kp_decode(&out, version);
            if version >= 1 {
                assert_eq!(m.throttle_time_ms, 7);
            }
            if (1..4).contains(&version) {
                assert_eq!(m.error_message, None);
            }
            if version < 4 {
                assert_eq!(m.error_code, 0);
                assert_eq!(m.node_id, BrokerId(1));
                assert_eq!(m.host.as_str(), "localhost");
                assert_eq!(m.port, 9092);
            } else {
                assert_eq!(m.coordinators.len(), 2);
                let c = &m.coordinators[1];
                assert_eq!(c.key.as_str(), "bb");
                assert_eq!(c.node_id, BrokerId(-1));
                assert_eq!(c.host.as_str(), "");
                assert_eq!(c.port, -1);
                assert_eq!(c.error_code, error::COORDINATOR_NOT_AVAILABLE);
                assert_eq!(c.error_message.as_deref(), Some("nope"));
                assert_eq!(m.coordinators[0].key.as_str(), "a");
                assert_eq!(m.coordinators[0].port, 9092);
            }
        }
    }

    #[test]
    fn pre_v4_error_is_written_flat() {
        let resp = FindCoordinatorResponse {
            throttle_time_ms: 0,
            coordinators: vec![Coordinator {
                key: "g",
                node_id: -1,
                host: "",
                port: -1,
                error_code: error::COORDINATOR_NOT_AVAILABLE,
                error_message: Some("loading".into()),
            }],
        };
        let mut out = Vec::new();
        resp.encode(3, &mut out);
        let m: kp::FindCoordinatorResponse = kp_decode(&out, 3);
        assert_eq!(m.error_code, error::COORDINATOR_NOT_AVAILABLE);
        assert_eq!(m.error_message.as_deref(), Some("loading"));
        let mut out = Vec::new();
        resp.encode(0, &mut out);
        assert_eq!(out, [0, 15, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }
}
