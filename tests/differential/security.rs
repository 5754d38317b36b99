//! Security APIs a PLAINTEXT listener answers: SaslHandshake and SaslAuthenticate (refused
//! there with ILLEGAL_SASL_STATE), and the SCRAM credential admin APIs with every error path
//! of Kafka's `ScramControlManager` and `ScramImage.describe`. Both sides list results in hash
//! map order, so the harness sorts them by user.

use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use crate::harness::Scenario;
use crate::scenarios::versions;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// A salted password as the admin client sends it: what matters to the comparison is that
/// both brokers get the same bytes (neither reveals what it derived).
fn upsert(name: &str, mechanism: i8, iterations: i32) -> ScramCredentialUpsertion {
    ScramCredentialUpsertion::default()
        .with_name(s(name))
        .with_mechanism(mechanism)
        .with_iterations(iterations)
        .with_salt(b"salt-salt-salt".to_vec().into())
        .with_salted_password(vec![7u8; if mechanism == 2 { 64 } else { 32 }].into())
}

fn delete(name: &str, mechanism: i8) -> ScramCredentialDeletion {
    ScramCredentialDeletion::default().with_name(s(name)).with_mechanism(mechanism)
}

fn alter(
    deletions: Vec<ScramCredentialDeletion>,
    upsertions: Vec<ScramCredentialUpsertion>,
) -> RequestKind {
    AlterUserScramCredentialsRequest::default()
        .with_deletions(deletions)
        .with_upsertions(upsertions)
        .into()
}

/// Waits for Kafka's broker to see what its controller committed: DescribeUserScramCredentials
/// is answered from the broker's metadata cache, which follows an alteration a moment later.
/// `want`: each user with the mechanisms it must then have (none: absent).
fn scram_settled(want: &'static [(&'static str, &'static [i8])]) -> impl Fn(&ResponseKind) -> bool {
    move |r| {
        let ResponseKind::DescribeUserScramCredentials(r) = r else { return false };
        want.iter().all(|(user, mechanisms)| {
            let found = r.results.iter().find(|u| u.user.as_str() == *user);
            let mut have: Vec<i8> = found
                .map_or(Vec::new(), |u| u.credential_infos.iter().map(|c| c.mechanism).collect());
            have.sort();
            have == *mechanisms
        })
    }
}

fn describe(users: Option<&[&str]>) -> RequestKind {
    DescribeUserScramCredentialsRequest::default()
        .with_users(users.map(|u| u.iter().map(|n| UserName::default().with_name(s(n))).collect()))
        .into()
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut sasl = Scenario::new("security: SASL requests on a PLAINTEXT listener");
    for v in versions(ApiKey::SaslHandshake) {
        sasl = sasl.step(ApiKey::SaslHandshake, v, |_, _| {
            SaslHandshakeRequest::default().with_mechanism(s("PLAIN")).into()
        });
    }
    for v in versions(ApiKey::SaslAuthenticate) {
        sasl = sasl.step(ApiKey::SaslAuthenticate, v, |_, _| {
            SaslAuthenticateRequest::default().with_auth_bytes(b"\0u\0p".to_vec().into()).into()
        });
    }
    out.push(sasl);
    out.push(
        Scenario::new("security: SCRAM credentials altered and described")
            .step(ApiKey::DescribeUserScramCredentials, 0, |_, _| describe(None))
            .step(ApiKey::AlterUserScramCredentials, 0, |_, _| {
                alter(vec![], vec![upsert("dif-bob", 2, 8192), upsert("dif-eve", 1, 4096)])
            })
            .until(
                ApiKey::DescribeUserScramCredentials,
                0,
                |_, _| describe(None),
                scram_settled(&[("dif-bob", &[2]), ("dif-eve", &[1])]),
            )
            .step(ApiKey::DescribeUserScramCredentials, 0, |_, _| describe(None))
            .step(ApiKey::DescribeUserScramCredentials, 0, |_, _| describe(Some(&[])))
            .step(ApiKey::DescribeUserScramCredentials, 0, |_, _| {
                describe(Some(&["dif-bob", "dif-zed", "dif-eve", "dif-eve"]))
            })
            .step(ApiKey::AlterUserScramCredentials, 0, |_, _| {
                alter(
                    vec![delete("dif-nobody", 1), delete("dif-eve", 1), delete("dif-eve", 2)],
                    vec![
                        upsert("dif-few", 1, 1024),
                        upsert("dif-many", 2, 20000),
                        upsert("", 1, 4096),
                        upsert("dif-odd", 7, 4096),
                        upsert("dif-twice", 1, 4096),
                        upsert("dif-twice", 2, 4096),
                        upsert("dif-bob", 1, 4096),
                    ],
                )
            })
            .until(
                ApiKey::DescribeUserScramCredentials,
                0,
                |_, _| describe(None),
                // dif-eve named twice in one request: both refused (DUPLICATE_RESOURCE).
                scram_settled(&[("dif-bob", &[1, 2]), ("dif-eve", &[1])]),
            )
            .step(ApiKey::DescribeUserScramCredentials, 0, |_, _| describe(None))
            .step(ApiKey::AlterUserScramCredentials, 0, |_, _| {
                alter(vec![delete("dif-bob", 2), delete("dif-eve", 1)], vec![])
            })
            .until(
                ApiKey::DescribeUserScramCredentials,
                0,
                |_, _| describe(None),
                scram_settled(&[("dif-bob", &[1]), ("dif-eve", &[])]),
            )
            .step(ApiKey::DescribeUserScramCredentials, 0, |_, _| {
                describe(Some(&["dif-bob", "dif-eve"]))
            }),
    );
    out
}
