//! DeleteAcls (key 31), versions 1-3 (v0 was removed in Kafka 4.0).
//!
//! - v1 adds the pattern type to filters and matches.
//! - v2 is the first flexible version.
//! - v3 admits the USER resource type; the wire is unchanged.

use super::codec::{Put, Reader, Result};
use super::describe_acls::decode_filter;
use crate::security::acl::{AclBinding, AclFilter};

pub struct DeleteAclsRequest<'a> {
    pub filters: Vec<AclFilter<'a>>,
}

impl<'a> DeleteAclsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let filters = r.array(flexible, |r| {
            let f = decode_filter(r, flexible)?;
            r.end_struct(flexible)?;
            Ok(f)
        })?;
        r.end_struct(flexible)?;
        Ok(DeleteAclsRequest { filters })
    }
}

pub struct FilterResult {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub matching: Vec<AclBinding>,
}

pub struct DeleteAclsResponse {
    pub results: Vec<FilterResult>,
}

impl DeleteAclsResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(0);
        out.put_array_len(Some(self.results.len()), flexible);
        for r in &self.results {
            out.put_i16(r.error_code);
            out.put_nullable_string(r.error_message.as_deref(), flexible);
            out.put_array_len(Some(r.matching.len()), flexible);
            for b in &r.matching {
                out.put_i16(0);
                out.put_nullable_string(None, flexible);
                out.put_i8(b.resource_type);
                out.put_string(&b.resource_name, flexible);
                out.put_i8(b.pattern_type);
                out.put_string(&b.principal, flexible);
                out.put_string(&b.host, flexible);
                out.put_i8(b.operation);
                out.put_i8(b.permission_type);
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
