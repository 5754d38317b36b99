//! DeleteAcls: every ACL each filter matches goes, by `RemoveAccessControlEntryRecord`s in
//! one synced append; each filter's answer lists what it matched. A filter naming UNKNOWN
//! closes the connection, as Kafka's request parsing does. The caller needs ALTER on the
//! cluster.

use super::{Broker, HandlerResult, Reply};
use crate::metadata::records::MetadataRecord;
use crate::protocol::codec::Reader;
use crate::protocol::delete_acls::*;
use crate::protocol::error;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DeleteAclsRequest::decode(r, version)?;
    // Kafka's request refuses filters with UNKNOWN codes as it parses them, which closes
    // the connection.
    if let Some(why) = req.filters.iter().find_map(|f| f.has_unknown()) {
        return Err(crate::protocol::codec::DecodeError(why));
    }
    let refuse = |code: i16, message: &str| DeleteAclsResponse {
        results: req
            .filters
            .iter()
            .map(|_| FilterResult {
                error_code: code,
                error_message: Some(message.to_string()),
                matching: vec![],
            })
            .collect(),
    };
    if let Some((code, message)) = b.acl_change_refusal() {
        refuse(code, message).encode(version, out);
        return Ok(Reply::Sent);
    }
    let mut gone: Vec<crate::uuid::Uuid> = Vec::new();
    let mut results = Vec::with_capacity(req.filters.len());
    for f in &req.filters {
        let mut matching = Vec::new();
        for a in b.meta.acls().iter().filter(|a| f.matches(&a.binding)) {
            matching.push(a.binding.clone());
            if !gone.contains(&a.id) {
                gone.push(a.id);
            }
        }
        results.push(FilterResult { error_code: error::NONE, error_message: None, matching });
    }
    if !gone.is_empty() {
        let records: Vec<MetadataRecord> =
            gone.into_iter().map(|id| MetadataRecord::RemoveAccessControlEntry { id }).collect();
        if let Err(e) = b.meta_log.append(&records) {
            log::error!("cannot record the removal of ACLs in the metadata log: {e}");
            for r in results.iter_mut().filter(|r| r.error_code == error::NONE) {
                r.error_code = error::KAFKA_STORAGE_ERROR;
                r.error_message = Some(e.to_string());
                r.matching.clear();
            }
        } else {
            for rec in records {
                b.meta.apply(rec);
            }
        }
    }
    DeleteAclsResponse { results }.encode(version, out);
    Ok(Reply::Sent)
}
