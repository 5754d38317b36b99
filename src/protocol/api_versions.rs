//! ApiVersions (key 18), versions 0-4.
//!
//! - v1 adds `throttle_time_ms` after the api keys.
//! - v2 is the same as v1.
//! - v3 is the first flexible version; the request gains `client_software_name` and
//!   `client_software_version`; the response may carry supported/finalized features as tagged
//!   fields. They are sent only when the metadata log finalizes a feature beyond
//!   `metadata.version` (see `broker::api_versions`): librdkafka 2.0 (Debian's kcat) misreads
//!   tagged fields holding default values, and the course's tester requires none.
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

/// The features part of a v3+ response (tags 0, 1 and 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// (name, min version, max version) this broker supports.
    pub supported: Vec<(String, i16, i16)>,
    pub finalized_epoch: i64,
    /// (name, level) finalized in the cluster.
    pub finalized: Vec<(String, i16)>,
}

#[derive(Debug, Clone)]
pub struct ApiVersionsResponse<'a> {
    pub error_code: i16,
    pub api_keys: &'a [ApiSpec],
    pub throttle_time_ms: i32,
    pub features: Option<&'a Features>,
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
        match self.features.filter(|_| flexible) {
            None => out.put_empty_tags(flexible),
            Some(f) => {
                let mut supported = Vec::new();
                supported.put_array_len(Some(f.supported.len()), true);
                for (name, min, max) in &f.supported {
                    supported.put_string(name, true);
                    supported.put_i16(*min);
                    supported.put_i16(*max);
                    supported.put_empty_tags(true);
                }
                let mut finalized = Vec::new();
                finalized.put_array_len(Some(f.finalized.len()), true);
                for (name, level) in &f.finalized {
                    finalized.put_string(name, true);
                    finalized.put_i16(*level); // max_version_level
                    finalized.put_i16(*level); // min_version_level
                    finalized.put_empty_tags(true);
                }
                let epoch = f.finalized_epoch.to_be_bytes();
                out.put_uvarint(3);
                for (tag, field) in [(0, &supported[..]), (1, &epoch[..]), (2, &finalized[..])] {
                    out.put_uvarint(tag);
                    out.put_uvarint(field.len() as u64);
                    out.extend_from_slice(field);
                }
            }
        }
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
        let resp = ApiVersionsResponse {
            error_code: 0,
            api_keys: only,
            throttle_time_ms: 0,
            features: None,
        };
        resp.encode(4, &mut out);
        assert_eq!(out, [0, 0, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]);
        out.clear();
        resp.encode(0, &mut out);
        assert_eq!(out, [0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 4]);
    }

    #[test]
    fn features_decode_with_the_oracle() {
        use kafka_protocol::messages as kp;
        use kafka_protocol::protocol::Decodable;
        let f = Features {
            supported: vec![("transaction.version".into(), 0, 2)],
            finalized_epoch: 42,
            finalized: vec![("metadata.version".into(), 21), ("transaction.version".into(), 2)],
        };
        let only = std::slice::from_ref(spec(18).unwrap());
        for version in 3..=4 {
            let mut out = Vec::new();
            ApiVersionsResponse {
                error_code: 0,
                api_keys: only,
                throttle_time_ms: 0,
                features: Some(&f),
            }
            .encode(version, &mut out);
            let r = kp::ApiVersionsResponse::decode(&mut &out[..], version).unwrap();
            assert_eq!(r.finalized_features_epoch, 42);
            let tv = r.finalized_features.iter().find(|x| x.name.as_str() == "transaction.version");
            assert_eq!(tv.map(|x| (x.min_version_level, x.max_version_level)), Some((2, 2)));
            assert_eq!(r.supported_features[0].max_version, 2);
        }
    }

    #[test]
    fn v3_request_decodes() {
        let b = [4, b'k', b'c', b'a', 3, b'1', b'.', 0];
        let req = ApiVersionsRequest::decode(&mut Reader::new(&b), 3).unwrap();
        assert_eq!(req.client_software_name, Some("kca"));
        assert_eq!(req.client_software_version, Some("1."));
    }
}
