//! Request header v1/v2 and response header v0/v1.
//!
//! Request header v2 (flexible versions) only adds tagged fields after `client_id`, which stays
//! a classic int16-length nullable string even there. Responses use header v1 (tagged fields
//! after the correlation id) for flexible versions, except ApiVersions, which always answers
//! with header v0 so that a client can read it before it knows which versions we speak.

use super::apis;
use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    pub client_id: Option<&'a str>,
}

impl<'a> RequestHeader<'a> {
    /// Reads the fields every request header version shares. Enough to answer with an error.
    pub fn decode_prefix(r: &mut Reader<'a>) -> Result<(i16, i16, i32)> {
        Ok((r.i16()?, r.i16()?, r.i32()?))
    }

    /// Decodes the whole header; `flexible` selects v2.
    pub fn decode(r: &mut Reader<'a>, flexible: bool) -> Result<Self> {
        let (api_key, api_version, correlation_id) = Self::decode_prefix(r)?;
        let client_id = r.nullable_string(false)?;
        r.end_struct(flexible)?;
        Ok(RequestHeader { api_key, api_version, correlation_id, client_id })
    }
}

/// Whether the response to (`api_key`, `version`) carries header v1.
pub fn response_header_flexible(api_key: i16, version: i16) -> bool {
    api_key != apis::API_VERSIONS && apis::spec(api_key).is_some_and(|s| s.is_flexible(version))
}

pub fn encode_response_header(out: &mut Vec<u8>, correlation_id: i32, flexible: bool) {
    out.put_i32(correlation_id);
    out.put_empty_tags(flexible);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_v2_header_with_tags() {
        let b = [0, 18, 0, 4, 0, 0, 0, 7, 0, 3, b'c', b'l', b'i', 0, 0xee];
        let mut r = Reader::new(&b);
        let h = RequestHeader::decode(&mut r, true).unwrap();
        assert_eq!(
            h,
            RequestHeader {
                api_key: 18,
                api_version: 4,
                correlation_id: 7,
                client_id: Some("cli")
            }
        );
        assert_eq!(r.rest(), [0xee]);
    }

    #[test]
    fn api_versions_always_answers_with_header_v0() {
        assert!(!response_header_flexible(apis::API_VERSIONS, 4));
        assert!(response_header_flexible(apis::FETCH, 16));
        assert!(!response_header_flexible(apis::FETCH, 11));
    }
}
