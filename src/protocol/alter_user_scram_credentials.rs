//! AlterUserScramCredentials (key 51), version 0 (flexible): deletes and upserts SCRAM
//! credentials. The client salts the password itself; only the salted password travels.

use super::codec::{DecodeError, Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion<'a> {
    pub name: &'a str,
    pub mechanism: i8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upsertion<'a> {
    pub name: &'a str,
    pub mechanism: i8,
    pub iterations: i32,
    pub salt: &'a [u8],
    pub salted_password: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterUserScramCredentialsRequest<'a> {
    pub deletions: Vec<Deletion<'a>>,
    pub upsertions: Vec<Upsertion<'a>>,
}

impl<'a> AlterUserScramCredentialsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let deletions = r.array(true, |r| {
            let d = Deletion { name: r.string(true)?, mechanism: r.i8()? };
            r.end_struct(true)?;
            Ok(d)
        })?;
        let upsertions = r.array(true, |r| {
            let u = Upsertion {
                name: r.string(true)?,
                mechanism: r.i8()?,
                iterations: r.i32()?,
                salt: r.nullable_bytes(true)?.ok_or(DecodeError("null salt"))?,
                salted_password: r
                    .nullable_bytes(true)?
                    .ok_or(DecodeError("null salted password"))?,
            };
            r.end_struct(true)?;
            Ok(u)
        })?;
        r.end_struct(true)?;
        Ok(AlterUserScramCredentialsRequest { deletions, upsertions })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterResult {
    pub user: String,
    pub error_code: i16,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterUserScramCredentialsResponse {
    pub throttle_time_ms: i32,
    pub results: Vec<AlterResult>,
}

impl AlterUserScramCredentialsResponse {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.results.len()), true);
        for r in &self.results {
            out.put_string(&r.user, true);
            out.put_i16(r.error_code);
            out.put_nullable_string(r.error_message.as_deref(), true);
            out.put_empty_tags(true);
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::alter_user_scram_credentials_request::{
        ScramCredentialDeletion, ScramCredentialUpsertion,
    };
    use kafka_protocol::messages::{self as kp};
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    #[test]
    fn against_the_oracle() {
        let mut m = kp::AlterUserScramCredentialsRequest::default();
        let mut d = ScramCredentialDeletion::default();
        d.name = StrBytes::from_static_str("bob");
        d.mechanism = 2;
        m.deletions.push(d);
        let mut u = ScramCredentialUpsertion::default();
        u.name = StrBytes::from_static_str("alice");
        u.mechanism = 1;
        u.iterations = 8192;
        u.salt = vec![1, 2, 3].into();
        u.salted_password = vec![9; 32].into();
        m.upsertions.push(u);
        let mut b = Vec::new();
        m.encode(&mut b, 0).unwrap();
        let mut r = Reader::new(&b);
        let req = AlterUserScramCredentialsRequest::decode(&mut r, 0).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(req.deletions, vec![Deletion { name: "bob", mechanism: 2 }]);
        assert_eq!(
            req.upsertions,
            vec![Upsertion {
                name: "alice",
                mechanism: 1,
                iterations: 8192,
                salt: &[1, 2, 3],
                salted_password: &[9; 32]
            }]
        );
        for cut in 0..b.len() {
            assert!(
                AlterUserScramCredentialsRequest::decode(&mut Reader::new(&b[..cut]), 0).is_err()
            );
        }
        let mut out = Vec::new();
        AlterUserScramCredentialsResponse {
            throttle_time_ms: 0,
            results: vec![AlterResult {
                user: "alice".into(),
                error_code: 93,
                error_message: Some("Too few iterations".into()),
            }],
        }
        .encode(0, &mut out);
        let resp = kp::AlterUserScramCredentialsResponse::decode(&mut &out[..], 0).unwrap();
        assert_eq!(resp.results[0].error_code, 93);
        assert_eq!(resp.results[0].error_message.as_deref(), Some("Too few iterations"));
    }
}
