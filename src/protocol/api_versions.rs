//! ApiVersions (key 18), versions 0-4.
//!
//! - v1 adds `throttle_time_ms` after the api keys.
//! - v2 is the same as v1.
//! - v3 is the first flexible version; the request gains `client_software_name` and
//!   `client_software_version`; the response may carry supported/finalized features as tagged
//!   fields. We send none: librdkafka 2.0 (Debian's kcat) misreads tagged fields holding default
//!   values and refuses the connection.
//! - v4 is the same as v3 (it lets brokers answer an unknown version with error 35 in a v0 body).
//!
//! The response header is always v0, whatever the version, so clients can parse it before
//! they know which versions the broker speaks.

use super::apis::ApiSpec;
use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsRequest<'a> {
    pub client_software_name: Option<&'a str>,
    pub client_software_version: Option<&'a str>,
}

impl<'a> ApiVersionsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        if version < 3 {
            return Ok(ApiVersionsRequest {
                client_software_name: None,
                client_software_version: None,
            });
        }
        let req = ApiVersionsRequest {
            client_software_name: Some(r.string(true)?),
            client_software_version: Some(r.string(true)?),
        };
        r.skip_tagged_fields()?;
        Ok(req)
    }
}

#[derive(Debug, Clone)]
pub struct ApiVersionsResponse<'a> {
    pub error_code: i16,
    pub api_keys: &'a [ApiSpec],
    pub throttle_time_ms: i32,
}

impl ApiVersionsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 3;
        out.put_i16(self.error_code);
        out.put_array_len(Some(self.api_keys.len()), flexible);
        for k in self.api_keys {
            out.put_i16(k.key);
            out.put_i16(k.min);
            out.put_i16(k.max);
            out.put_empty_tags(flexible);
        }
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::apis::spec;

    #[test]
    fn v4_body_bytes() {
        let mut out = Vec::new();
        let only = std::slice::from_ref(spec(18).unwrap());
        let resp = ApiVersionsResponse { error_code: 0, api_keys: only, throttle_time_ms: 0 };
        resp.encode(4, &mut out);
        assert_eq!(out, [0, 0, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]);
        out.clear();
        resp.encode(0, &mut out);
        assert_eq!(out, [0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 4]);
    }

    #[test]
    fn v3_request_decodes() {
        let b = [4, b'k', b'c', b'a', 3, b'1', b'.', 0];
        let req = ApiVersionsRequest::decode(&mut Reader::new(&b), 3).unwrap();
        assert_eq!(req.client_software_name, Some("kca"));
        assert_eq!(req.client_software_version, Some("1."));
    }
}
