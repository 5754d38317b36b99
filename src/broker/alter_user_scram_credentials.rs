//! AlterUserScramCredentials: deletions and upsertions of SCRAM credentials, recorded as
//! `RemoveUserScramCredentialRecord`s and `UserScramCredentialRecord`s (StoredKey and
//! ServerKey derived from the salted password, which is not kept) in one synced append, as
//! Kafka's `ScramControlManager` does. Its rules: a user altered twice in a request (even for
//! two mechanisms) is DUPLICATE_RESOURCE; an empty name or too few or too many iterations
//! UNACCEPTABLE_CREDENTIAL; an unknown mechanism UNSUPPORTED_SASL_MECHANISM; deleting what
//! does not exist RESOURCE_NOT_FOUND. Results come deletions first, then upsertions, then
//! errors; Kafka's order within each comes from a hash map, so clients key them by user.

use super::{Broker, HandlerResult, Reply};
use crate::metadata::records::MetadataRecord;
use crate::protocol::alter_user_scram_credentials::*;
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::security::scram::Mechanism;

type Failure = (i16, String);

fn check_name_and_mechanism(name: &str, mechanism: i8) -> Result<Mechanism, Failure> {
    if name.is_empty() {
        return Err((error::UNACCEPTABLE_CREDENTIAL, "Username must not be empty".into()));
    }
    Mechanism::from_kafka_type(mechanism)
        .ok_or((error::UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism".into()))
}

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = AlterUserScramCredentialsRequest::decode(r, version)?;
    if !b.cluster_authorized(crate::security::acl::op::ALTER) {
        let mut users: Vec<&str> = Vec::new();
        for name in
            req.deletions.iter().map(|d| d.name).chain(req.upsertions.iter().map(|u| u.name))
        {
            if !users.contains(&name) {
                users.push(name);
            }
        }
        let results = users
            .into_iter()
            .map(|u| AlterResult {
                user: u.to_string(),
                error_code: error::CLUSTER_AUTHORIZATION_FAILED,
                error_message: Some("Cluster authorization failed.".into()),
            })
            .collect();
        AlterUserScramCredentialsResponse { throttle_time_ms: 0, results }.encode(version, out);
        return Ok(Reply::Sent);
    }
    let mut deletions: Vec<(&str, i8)> = Vec::new();
    let mut upserts: Vec<&Upsertion> = Vec::new();
    let mut errors: Vec<(&str, Failure)> = Vec::new();
    let duplicate = || {
        (
            error::DUPLICATE_RESOURCE,
            "A user credential cannot be altered twice in the same request".to_string(),
        )
    };
    for d in &req.deletions {
        if errors.iter().any(|(u, _)| *u == d.name) {
            continue;
        }
        if let Some(i) = deletions.iter().position(|(u, _)| *u == d.name) {
            deletions.remove(i);
            errors.push((d.name, duplicate()));
            continue;
        }
        let checked = check_name_and_mechanism(d.name, d.mechanism).and_then(|m| {
            match b.meta.scram_credential(d.name, m) {
                Some(_) => Ok(()),
                None => Err((
                    error::RESOURCE_NOT_FOUND,
                    "Attempt to delete a user credential that does not exist".into(),
                )),
            }
        });
        match checked {
            Ok(()) => deletions.push((d.name, d.mechanism)),
            Err(f) => errors.push((d.name, f)),
        }
    }
    for u in &req.upsertions {
        if errors.iter().any(|(e, _)| *e == u.name) {
            continue;
        }
        let in_deletions = deletions.iter().position(|(d, _)| *d == u.name);
        let in_upserts = upserts.iter().position(|x| x.name == u.name);
        if in_deletions.is_some() || in_upserts.is_some() {
            if let Some(i) = in_deletions {
                deletions.remove(i);
            }
            if let Some(i) = in_upserts {
                upserts.remove(i);
            }
            errors.push((u.name, duplicate()));
            continue;
        }
        let checked = check_name_and_mechanism(u.name, u.mechanism).and_then(|_| {
            if u.iterations < Mechanism::MIN_ITERATIONS {
                Err((error::UNACCEPTABLE_CREDENTIAL, "Too few iterations".into()))
            } else if u.iterations > Mechanism::MAX_ITERATIONS {
                Err((error::UNACCEPTABLE_CREDENTIAL, "Too many iterations".into()))
            } else {
                Ok(())
            }
        });
        match checked {
            Ok(()) => upserts.push(u),
            Err(f) => errors.push((u.name, f)),
        }
    }
    let mut records = Vec::new();
    let mut results = Vec::new();
    for (name, mechanism) in &deletions {
        records.push(MetadataRecord::RemoveUserScramCredential {
            name: name.to_string(),
            mechanism: *mechanism,
        });
        results.push(AlterResult { user: name.to_string(), error_code: 0, error_message: None });
    }
    for u in &upserts {
        let m = Mechanism::from_kafka_type(u.mechanism).expect("checked above");
        let cred = m.credential(u.salted_password, u.salt, u.iterations);
        records.push(MetadataRecord::UserScramCredential {
            name: u.name.to_string(),
            mechanism: u.mechanism,
            salt: cred.salt,
            stored_key: cred.stored_key,
            server_key: cred.server_key,
            iterations: cred.iterations,
        });
        results.push(AlterResult { user: u.name.to_string(), error_code: 0, error_message: None });
    }
    if !records.is_empty() {
        if let Err(e) = b.meta_log.append(&records) {
            log::error!("cannot record SCRAM credentials in the metadata log: {e}");
            for r in &mut results {
                r.error_code = error::KAFKA_STORAGE_ERROR;
                r.error_message = Some(e.to_string());
            }
            records.clear();
        }
        for rec in records {
            b.meta.apply(rec);
        }
    }
    results.extend(errors.into_iter().map(|(user, (code, message))| AlterResult {
        user: user.to_string(),
        error_code: code,
        error_message: Some(message),
    }));
    AlterUserScramCredentialsResponse { throttle_time_ms: 0, results }.encode(version, out);
    Ok(Reply::Sent)
}
