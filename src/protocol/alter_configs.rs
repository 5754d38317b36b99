//! AlterConfigs (key 33), versions 0-2, and IncrementalAlterConfigs (key 44), versions 0-1:
//! the same request but for the per-key operation, and the same response.
//!
//! - AlterConfigs v1 is the same as v0; v2 is the first flexible version.
//! - IncrementalAlterConfigs v1 is the first flexible version.

use super::codec::{Put, Reader, Result};

/// IncrementalAlterConfigs' `config_operation` values.
pub const OP_SET: i8 = 0;
pub const OP_DELETE: i8 = 1;
pub const OP_APPEND: i8 = 2;
pub const OP_SUBTRACT: i8 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterableConfig<'a> {
    pub name: &'a str,
    /// Always [`OP_SET`] in AlterConfigs.
    pub op: i8,
    pub value: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigsResource<'a> {
    pub resource_type: i8,
    pub resource_name: &'a str,
    pub configs: Vec<AlterableConfig<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigsRequest<'a> {
    pub resources: Vec<AlterConfigsResource<'a>>,
    pub validate_only: bool,
}

impl<'a> AlterConfigsRequest<'a> {
    /// Decodes either API's request; `incremental` for IncrementalAlterConfigs.
    pub fn decode(r: &mut Reader<'a>, version: i16, incremental: bool) -> Result<Self> {
        let flexible = version >= if incremental { 1 } else { 2 };
        let resources = r.array(flexible, |r| {
            let resource_type = r.i8()?;
            let resource_name = r.string(flexible)?;
            let configs = r.array(flexible, |r| {
                let name = r.string(flexible)?;
                let op = if incremental { r.i8()? } else { OP_SET };
                let value = r.nullable_string(flexible)?;
                r.end_struct(flexible)?;
                Ok(AlterableConfig { name, op, value })
            })?;
            r.end_struct(flexible)?;
            Ok(AlterConfigsResource { resource_type, resource_name, configs })
        })?;
        let validate_only = r.bool()?;
        r.end_struct(flexible)?;
        Ok(AlterConfigsRequest { resources, validate_only })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigsResourceResponse<'a> {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub resource_type: i8,
    pub resource_name: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigsResponse<'a> {
    pub throttle_time_ms: i32,
    pub responses: Vec<AlterConfigsResourceResponse<'a>>,
}

impl AlterConfigsResponse<'_> {
    pub fn encode(&self, version: i16, incremental: bool, out: &mut Vec<u8>) {
        let flexible = version >= if incremental { 1 } else { 2 };
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.responses.len()), flexible);
        for r in &self.responses {
            out.put_i16(r.error_code);
            out.put_nullable_string(r.error_message.as_deref(), flexible);
            out.put_i8(r.resource_type);
            out.put_string(r.resource_name, flexible);
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
