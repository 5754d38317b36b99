//! CreateAcls: each binding validated as Kafka's broker and controller validate it
//! (INVALID_REQUEST with their messages), then recorded as an `AccessControlEntryRecord`
//! with a fresh id unless the same binding exists already (which still succeeds). One synced
//! append holds the whole request's records. The caller needs ALTER on the cluster.

use super::{Broker, HandlerResult, Reply};
use crate::metadata::records::MetadataRecord;
use crate::protocol::codec::Reader;
use crate::protocol::create_acls::*;
use crate::protocol::error;
use crate::security::acl::{self, StoredAcl};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = CreateAclsRequest::decode(r, version)?;
    let refuse = |code: i16, message: &str| {
        let results = req.creations.iter().map(|_| (code, Some(message.to_string()))).collect();
        CreateAclsResponse { results }
    };
    if let Some((code, message)) = b.acl_change_refusal() {
        refuse(code, message).encode(version, out);
        return Ok(Reply::Sent);
    }
    // Kafka's CreateAclsRequest refuses a binding with an indefinite or unknown type (ANY,
    // MATCH, UNKNOWN) before anything is validated: the whole request fails with
    // UNKNOWN_SERVER_ERROR and no message.
    if req.creations.iter().any(|b| !acl::definite(b)) {
        let results = req.creations.iter().map(|_| (error::UNKNOWN_SERVER_ERROR, None)).collect();
        CreateAclsResponse { results }.encode(version, out);
        return Ok(Reply::Sent);
    }
    let mut records: Vec<MetadataRecord> = Vec::new();
    let mut results = Vec::with_capacity(req.creations.len());
    for binding in &req.creations {
        if let Err(why) = acl::validate_new(binding) {
            results.push((error::INVALID_REQUEST, Some(why)));
            continue;
        }
        let exists = b.meta.acls().iter().any(|a| a.binding == *binding)
            || records.iter().any(
                |r| matches!(r, MetadataRecord::AccessControlEntry(a) if a.binding == *binding),
            );
        if !exists {
            let acl = StoredAcl { id: crate::uuid::random(), binding: binding.clone() };
            records.push(MetadataRecord::AccessControlEntry(acl));
        }
        // Kafka leaves a success's message at its default, the empty string.
        results.push((error::NONE, Some(String::new())));
    }
    if !records.is_empty() {
        if let Err(e) = b.meta_log.append(&records) {
            log::error!("cannot record ACLs in the metadata log: {e}");
            for r in results.iter_mut().filter(|r| r.0 == error::NONE) {
                *r = (error::KAFKA_STORAGE_ERROR, Some(e.to_string()));
            }
        } else {
            for rec in records {
                b.meta.apply(rec);
            }
        }
    }
    CreateAclsResponse { results }.encode(version, out);
    Ok(Reply::Sent)
}
