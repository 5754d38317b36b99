//! DescribeConfigs (key 32), versions 1-4.
//!
//! - v1 adds `include_synonyms` and replaces `is_default` with `config_source` and synonyms
//!   (v0 was removed in Kafka 4.0).
//! - v2 is the same as v1.
//! - v3 adds `include_documentation`, `config_type` and `documentation`.
//! - v4 is the first flexible version.

use super::codec::{Put, Reader, Result};

pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;

/// `config_source` values.
pub const SOURCE_TOPIC_CONFIG: i8 = 1;
pub const SOURCE_DYNAMIC_BROKER_CONFIG: i8 = 2;
pub const SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
pub const SOURCE_STATIC_BROKER_CONFIG: i8 = 4;
pub const SOURCE_DEFAULT_CONFIG: i8 = 5;

/// `config_type` values (v3+).
pub const TYPE_BOOLEAN: i8 = 1;
pub const TYPE_STRING: i8 = 2;
pub const TYPE_INT: i8 = 3;
pub const TYPE_LONG: i8 = 5;
pub const TYPE_DOUBLE: i8 = 6;
pub const TYPE_LIST: i8 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsResource<'a> {
    pub resource_type: i8,
    pub resource_name: &'a str,
    /// `None`: every key.
    pub configuration_keys: Option<Vec<&'a str>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsRequest<'a> {
    pub resources: Vec<DescribeConfigsResource<'a>>,
    pub include_synonyms: bool,
    pub include_documentation: bool,
}

impl<'a> DescribeConfigsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 4;
        let resources = r.array(flexible, |r| {
            let resource_type = r.i8()?;
            let resource_name = r.string(flexible)?;
            let configuration_keys = match r.array_len(flexible)? {
                None => None,
                Some(n) => {
                    let mut keys = Vec::with_capacity(crate::protocol::codec::capacity_for(n));
                    for _ in 0..n {
                        keys.push(r.string(flexible)?);
                    }
                    Some(keys)
                }
            };
            r.end_struct(flexible)?;
            Ok(DescribeConfigsResource { resource_type, resource_name, configuration_keys })
        })?;
        let include_synonyms = r.bool()?;
        let include_documentation = if version >= 3 { r.bool()? } else { false };
        r.end_struct(flexible)?;
        Ok(DescribeConfigsRequest { resources, include_synonyms, include_documentation })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsResourceResult {
    pub name: &'static str,
    pub value: Option<String>,
    pub read_only: bool,
    pub config_source: i8,
    pub is_sensitive: bool,
    /// (name, value, source)
    pub synonyms: Vec<(&'static str, Option<String>, i8)>,
    pub config_type: i8,
    /// v3+, when the request asks for it.
    pub documentation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsResult<'a> {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub resource_type: i8,
    pub resource_name: &'a str,
    pub configs: Vec<DescribeConfigsResourceResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsResponse<'a> {
    pub throttle_time_ms: i32,
    pub results: Vec<DescribeConfigsResult<'a>>,
}

impl DescribeConfigsResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 4;
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.results.len()), flexible);
        for res in &self.results {
            out.put_i16(res.error_code);
            out.put_nullable_string(res.error_message.as_deref(), flexible);
            out.put_i8(res.resource_type);
            out.put_string(res.resource_name, flexible);
            out.put_array_len(Some(res.configs.len()), flexible);
            for c in &res.configs {
                out.put_string(c.name, flexible);
                out.put_nullable_string(c.value.as_deref(), flexible);
                out.put_bool(c.read_only);
                out.put_i8(c.config_source);
                out.put_bool(c.is_sensitive);
                out.put_array_len(Some(c.synonyms.len()), flexible);
                for (name, value, source) in &c.synonyms {
                    out.put_string(name, flexible);
                    out.put_nullable_string(value.as_deref(), flexible);
                    out.put_i8(*source);
                    out.put_empty_tags(flexible);
                }
                if version >= 3 {
                    out.put_i8(c.config_type);
                    out.put_nullable_string(c.documentation.as_deref(), flexible);
                }
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}
