//! DescribeUserScramCredentials: the mechanisms and iteration counts of users' SCRAM
//! credentials, as Kafka's `ScramImage.describe` answers: every user with a credential when
//! none is named; a name given twice is DUPLICATE_RESOURCE, a user without any credential
//! RESOURCE_NOT_FOUND.

use std::collections::BTreeMap;

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::describe_user_scram_credentials::*;
use crate::protocol::error;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeUserScramCredentialsRequest::decode(r, version)?;
    if !b.cluster_authorized(crate::security::acl::op::DESCRIBE) {
        DescribeUserScramCredentialsResponse {
            throttle_time_ms: 0,
            error_code: error::CLUSTER_AUTHORIZATION_FAILED,
            error_message: Some("Cluster authorization failed.".into()),
            results: vec![],
        }
        .encode(version, out);
        return Ok(Reply::Sent);
    }
    let mut infos: BTreeMap<&str, Vec<(i8, i32)>> = BTreeMap::new();
    for ((user, mechanism), cred) in b.meta.scram_credentials() {
        infos.entry(user).or_default().push((*mechanism, cred.iterations));
    }
    // (user, named more than once)
    let mut wanted: Vec<(&str, bool)> = Vec::new();
    match req.users.as_deref() {
        None | Some([]) => wanted.extend(infos.keys().map(|u| (*u, false))),
        Some(users) => {
            for u in users {
                match wanted.iter_mut().find(|(w, _)| w == u) {
                    Some(w) => w.1 = true,
                    None => wanted.push((u, false)),
                }
            }
        }
    }
    let results = wanted
        .into_iter()
        .map(|(user, duplicate)| {
            let (error_code, error_message, credential_infos) = if duplicate {
                let msg = format!(
                    "Cannot describe SCRAM credentials for the same user twice in a single \
                     request: {user}"
                );
                (error::DUPLICATE_RESOURCE, Some(msg), vec![])
            } else if let Some(i) = infos.get(user) {
                // Kafka's ApiError.NONE carries an empty message, not a null one.
                (error::NONE, Some(String::new()), i.clone())
            } else {
                let msg =
                    format!("Attempt to describe a user credential that does not exist: {user}");
                (error::RESOURCE_NOT_FOUND, Some(msg), vec![])
            };
            UserResult { user: user.to_string(), error_code, error_message, credential_infos }
        })
        .collect();
    DescribeUserScramCredentialsResponse {
        throttle_time_ms: 0,
        error_code: error::NONE,
        error_message: Some(String::new()),
        results,
    }
    .encode(version, out);
    Ok(Reply::Sent)
}
