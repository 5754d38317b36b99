//! SCRAM users given at start-up (`--add-scram`), recorded as Kafka's storage tool records
//! them at format time: a `UserScramCredentialRecord` with a fresh random salt, written only
//! when the user has no credential of that mechanism yet, so a password changed later with
//! AlterUserScramCredentials is not put back at the next start.

use std::io::{self, Read};

use super::Broker;
use crate::metadata::records::MetadataRecord;
use crate::security::scram::AddScram;

impl Broker {
    pub fn add_scram_users(&mut self, users: &[AddScram]) -> io::Result<()> {
        for u in users {
            if self.meta.scram_credential(&u.name, u.mechanism).is_some() {
                continue;
            }
            let mut salt = [0u8; 16];
            std::fs::File::open("/dev/urandom")?.read_exact(&mut salt)?;
            let iterations = u.iterations as u32;
            let salted = u.mechanism.salted_password(u.password.as_bytes(), &salt, iterations);
            let cred = u.mechanism.credential(&salted, &salt, u.iterations);
            let rec = MetadataRecord::UserScramCredential {
                name: u.name.clone(),
                mechanism: u.mechanism.kafka_type(),
                salt: cred.salt,
                stored_key: cred.stored_key,
                server_key: cred.server_key,
                iterations: cred.iterations,
            };
            self.meta_log.append(std::slice::from_ref(&rec))?;
            self.meta.apply(rec);
            log::info!("added the {} credential of user {:?}", u.mechanism.name(), u.name);
        }
        Ok(())
    }
}
