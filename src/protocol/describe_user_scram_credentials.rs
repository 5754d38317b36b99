//! DescribeUserScramCredentials (key 50), version 0 (flexible): which SCRAM mechanisms each
//! user has a credential for, and with how many iterations. Never the credential itself.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeUserScramCredentialsRequest<'a> {
    /// None or empty: every user.
    pub users: Option<Vec<&'a str>>,
}

impl<'a> DescribeUserScramCredentialsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let users = match r.array_len(true)? {
            None => None,
            Some(n) => {
                let mut v = Vec::with_capacity(super::codec::capacity_for(n));
                for _ in 0..n {
                    v.push(r.string(true)?);
                    r.end_struct(true)?;
                }
                Some(v)
            }
        };
        r.end_struct(true)?;
        Ok(DescribeUserScramCredentialsRequest { users })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserResult {
    pub user: String,
    pub error_code: i16,
    pub error_message: Option<String>,
    /// (mechanism type, iterations)
    pub credential_infos: Vec<(i8, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeUserScramCredentialsResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub results: Vec<UserResult>,
}

impl DescribeUserScramCredentialsResponse {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        out.put_nullable_string(self.error_message.as_deref(), true);
        out.put_array_len(Some(self.results.len()), true);
        for r in &self.results {
            out.put_string(&r.user, true);
            out.put_i16(r.error_code);
            out.put_nullable_string(r.error_message.as_deref(), true);
            out.put_array_len(Some(r.credential_infos.len()), true);
            for (mechanism, iterations) in &r.credential_infos {
                out.put_i8(*mechanism);
                out.put_i32(*iterations);
                out.put_empty_tags(true);
            }
            out.put_empty_tags(true);
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{self as kp, describe_user_scram_credentials_request::UserName};
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    #[test]
    fn against_the_oracle() {
        for users in [None, Some(vec![]), Some(vec!["alice", "bob"])] {
            let mut m = kp::DescribeUserScramCredentialsRequest::default();
            m.users = users.as_ref().map(|u| {
                u.iter()
                    .map(|n| {
                        let mut x = UserName::default();
                        x.name = StrBytes::from_string(n.to_string());
                        x
                    })
                    .collect()
            });
            let mut b = Vec::new();
            m.encode(&mut b, 0).unwrap();
            let mut r = Reader::new(&b);
            let req = DescribeUserScramCredentialsRequest::decode(&mut r, 0).unwrap();
            assert_eq!((req.users, r.remaining()), (users.clone(), 0));
            for cut in 0..b.len() {
                let mut r = Reader::new(&b[..cut]);
                assert!(DescribeUserScramCredentialsRequest::decode(&mut r, 0).is_err());
            }
        }
        let mut out = Vec::new();
        DescribeUserScramCredentialsResponse {
            throttle_time_ms: 0,
            error_code: 0,
            error_message: None,
            results: vec![UserResult {
                user: "alice".into(),
                error_code: 0,
                error_message: None,
                credential_infos: vec![(1, 4096), (2, 8192)],
            }],
        }
        .encode(0, &mut out);
        let resp = kp::DescribeUserScramCredentialsResponse::decode(&mut &out[..], 0).unwrap();
        assert_eq!(resp.results[0].user.as_str(), "alice");
        assert_eq!(resp.results[0].credential_infos[1].iterations, 8192);
        assert_eq!(resp.results[0].credential_infos[1].mechanism, 2);
    }
}
