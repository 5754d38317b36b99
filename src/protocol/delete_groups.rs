//! DeleteGroups (key 42), versions 0-2.
//!
//! - v1 is v0 with quota throttling; v2 is the first flexible version. The fields are the same
//!   in every version.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteGroupsRequest<'a> {
    pub groups_names: Vec<&'a str>,
}

impl<'a> DeleteGroupsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let groups_names = r.array(flexible, |r| r.string(flexible))?;
        r.end_struct(flexible)?;
        Ok(DeleteGroupsRequest { groups_names })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteGroupsResponse<'a> {
    pub throttle_time_ms: i32,
    /// (group id, error code)
    pub results: Vec<(&'a str, i16)>,
}

impl DeleteGroupsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.results.len()), flexible);
        for (group_id, code) in &self.results {
            out.put_string(group_id, flexible);
            out.put_i16(*code);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::{self as kp, GroupId};

    #[test]
    fn requests_decode_and_responses_encode_in_every_version() {
        for version in 0..=2 {
            let mut m = kp::DeleteGroupsRequest::default();
            m.groups_names = vec![GroupId(sb("a")), GroupId(sb("bb"))];
            let bytes = kp_encode(&m, version);
            let mut r = Reader::new(&bytes);
            let req = DeleteGroupsRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0);
            assert_eq!(req.groups_names, ["a", "bb"]);
            for cut in 0..bytes.len() {
                assert!(
                    DeleteGroupsRequest::decode(&mut Reader::new(&bytes[..cut]), version).is_err()
                );
            }
            let mut out = Vec::new();
            DeleteGroupsResponse { throttle_time_ms: 3, results: vec![("a", 0), ("bb", 68)] }
                .encode(version, &mut out);
            let kpr: kp::DeleteGroupsResponse = kp_decode(&out, version);
            assert_eq!(kpr.throttle_time_ms, 3);
            let got: Vec<(&str, i16)> =
                kpr.results.iter().map(|g| (g.group_id.0.as_str(), g.error_code)).collect();
            assert_eq!(got, [("a", 0), ("bb", 68)]);
        }
    }
}
