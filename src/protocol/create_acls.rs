//! CreateAcls (key 30), versions 1-3 (v0 was removed in Kafka 4.0).
//!
//! - v1 adds the resource pattern type.
//! - v2 is the first flexible version.
//! - v3 admits the USER resource type; the wire is unchanged.

use super::codec::{Put, Reader, Result};
use crate::security::acl::AclBinding;

pub struct CreateAclsRequest {
    pub creations: Vec<AclBinding>,
}

impl CreateAclsRequest {
    pub fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let creations = r.array(flexible, |r| {
            let b = AclBinding {
                resource_type: r.i8()?,
                resource_name: r.string(flexible)?.to_string(),
                pattern_type: r.i8()?,
                principal: r.string(flexible)?.to_string(),
                host: r.string(flexible)?.to_string(),
                operation: r.i8()?,
                permission_type: r.i8()?,
            };
            r.end_struct(flexible)?;
            Ok(b)
        })?;
        r.end_struct(flexible)?;
        Ok(CreateAclsRequest { creations })
    }
}

pub struct CreateAclsResponse {
    /// (error code, error message) per creation, in request order.
    pub results: Vec<(i16, Option<String>)>,
}

impl CreateAclsResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(0);
        out.put_array_len(Some(self.results.len()), flexible);
        for (code, message) in &self.results {
            out.put_i16(*code);
            out.put_nullable_string(message.as_deref(), flexible);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
