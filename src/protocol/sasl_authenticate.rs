//! SaslAuthenticate (key 36), versions 0-2: one SASL token each way.
//!
//! - v1 adds `session_lifetime_ms` to the response (KIP-368 re-authentication).
//! - v2 is the first flexible version.

use super::codec::{DecodeError, Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslAuthenticateRequest<'a> {
    pub auth_bytes: &'a [u8],
}

impl<'a> SaslAuthenticateRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let auth_bytes = r.nullable_bytes(flexible)?.ok_or(DecodeError("null auth_bytes"))?;
        r.end_struct(flexible)?;
        Ok(SaslAuthenticateRequest { auth_bytes })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslAuthenticateResponse<'a> {
    pub error_code: i16,
    pub error_message: Option<&'a str>,
    pub auth_bytes: &'a [u8],
    pub session_lifetime_ms: i64,
}

impl SaslAuthenticateResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i16(self.error_code);
        out.put_nullable_string(self.error_message, flexible);
        out.put_nullable_bytes(Some(self.auth_bytes), flexible);
        if version >= 1 {
            out.put_i64(self.session_lifetime_ms);
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
    fn every_version_against_the_oracle() {
        for version in 0..=2 {
            let mut m = kp::SaslAuthenticateRequest::default();
            m.auth_bytes = b"\0alice\0secret".to_vec().into();
            if version >= 2 {
                m.unknown_tagged_fields.insert(3, vec![1].into());
            }
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let mut r = Reader::new(&b);
            let req = SaslAuthenticateRequest::decode(&mut r, version).unwrap();
            assert_eq!((req.auth_bytes, r.remaining()), (&b"\0alice\0secret"[..], 0));
            for cut in 0..b.len() {
                assert!(
                    SaslAuthenticateRequest::decode(&mut Reader::new(&b[..cut]), version).is_err()
                );
            }
            let mut out = Vec::new();
            SaslAuthenticateResponse {
                error_code: 58,
                error_message: Some("Authentication failed"),
                auth_bytes: b"v=abc",
                session_lifetime_ms: 3_600_000,
            }
            .encode(version, &mut out);
            let resp = kp::SaslAuthenticateResponse::decode(&mut &out[..], version).unwrap();
            assert_eq!(resp.error_code, 58);
            assert_eq!(
                resp.error_message,
                Some(StrBytes::from_static_str("Authentication failed"))
            );
            assert_eq!(&resp.auth_bytes[..], b"v=abc");
            assert_eq!(resp.session_lifetime_ms, if version >= 1 { 3_600_000 } else { 0 });
        }
    }
}
