//! DescribeAcls (key 29), versions 1-3 (v0 was removed in Kafka 4.0).
//!
//! - v1 adds the pattern type to the filter and the answer.
//! - v2 is the first flexible version.
//! - v3 admits the USER resource type; the wire is unchanged.

use super::codec::{Put, Reader, Result};
use crate::security::acl::{AclBinding, AclFilter};

pub fn decode_filter<'a>(r: &mut Reader<'a>, flexible: bool) -> Result<AclFilter<'a>> {
    Ok(AclFilter {
        resource_type: r.i8()?,
        resource_name: r.nullable_string(flexible)?,
        pattern_type: r.i8()?,
        principal: r.nullable_string(flexible)?,
        host: r.nullable_string(flexible)?,
        operation: r.i8()?,
        permission_type: r.i8()?,
    })
}

pub struct DescribeAclsRequest<'a> {
    pub filter: AclFilter<'a>,
}

impl<'a> DescribeAclsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let filter = decode_filter(r, flexible)?;
        r.end_struct(flexible)?;
        Ok(DescribeAclsRequest { filter })
    }
}

pub struct DescribeAclsResponse<'a> {
    pub error_code: i16,
    pub error_message: Option<&'a str>,
    /// Grouped by resource pattern by the encoder, in the order of first appearance.
    pub acls: Vec<&'a AclBinding>,
}

impl DescribeAclsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(0);
        out.put_i16(self.error_code);
        out.put_nullable_string(self.error_message, flexible);
        let mut groups: Vec<(&AclBinding, Vec<&AclBinding>)> = Vec::new();
        for b in &self.acls {
            let same = |g: &&mut (&AclBinding, Vec<&AclBinding>)| {
                g.0.resource_type == b.resource_type
                    && g.0.resource_name == b.resource_name
                    && g.0.pattern_type == b.pattern_type
            };
            match groups.iter_mut().find(same) {
                Some(g) => g.1.push(b),
                None => groups.push((b, vec![b])),
            }
        }
        out.put_array_len(Some(groups.len()), flexible);
        for (key, acls) in groups {
            out.put_i8(key.resource_type);
            out.put_string(&key.resource_name, flexible);
            out.put_i8(key.pattern_type);
            out.put_array_len(Some(acls.len()), flexible);
            for a in acls {
                out.put_string(&a.principal, flexible);
                out.put_string(&a.host, flexible);
                out.put_i8(a.operation);
                out.put_i8(a.permission_type);
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
