//! SaslHandshake (key 17), versions 0-1.
//!
//! - v0: the SASL tokens that follow travel as bare size-prefixed frames, without Kafka's
//!   request header (the form of clients before Kafka 1.0).
//! - v1: the tokens travel in SaslAuthenticate requests (KIP-152).

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeRequest<'a> {
    pub mechanism: &'a str,
}

impl<'a> SaslHandshakeRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        Ok(SaslHandshakeRequest { mechanism: r.string(false)? })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslHandshakeResponse<'a> {
    pub error_code: i16,
    /// The mechanisms this listener enables.
    pub mechanisms: &'a [String],
}

impl SaslHandshakeResponse<'_> {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i16(self.error_code);
        out.put_array_len(Some(self.mechanisms.len()), false);
        for m in self.mechanisms {
            out.put_string(m, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages as kp;
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    #[test]
    fn both_versions_against_the_oracle() {
        for version in 0..=1 {
            let mut m = kp::SaslHandshakeRequest::default();
            m.mechanism = StrBytes::from_static_str("SCRAM-SHA-512");
            let mut b = Vec::new();
            m.encode(&mut b, version).unwrap();
            let req = SaslHandshakeRequest::decode(&mut Reader::new(&b), version).unwrap();
            assert_eq!(req.mechanism, "SCRAM-SHA-512");
            for cut in 0..b.len() {
                assert!(SaslHandshakeRequest::decode(&mut Reader::new(&b[..cut]), version).is_err());
            }
            let mechanisms = ["PLAIN".to_string(), "SCRAM-SHA-256".to_string()];
            let mut out = Vec::new();
            SaslHandshakeResponse { error_code: 33, mechanisms: &mechanisms }
                .encode(version, &mut out);
            let resp = kp::SaslHandshakeResponse::decode(&mut &out[..], version).unwrap();
            assert_eq!(resp.error_code, 33);
            assert_eq!(resp.mechanisms.len(), 2);
            assert_eq!(resp.mechanisms[1].as_str(), "SCRAM-SHA-256");
        }
    }
}
