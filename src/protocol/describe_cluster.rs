//! DescribeCluster (key 60), versions 0-2; flexible from the start.
//!
//! - v1 adds `endpoint_type` (1: brokers, 2: controllers) to request and response.
//! - v2 adds `include_fenced_brokers` to the request and `is_fenced` to each broker.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeClusterRequest {
    pub include_cluster_authorized_operations: bool,
    pub endpoint_type: i8,
    pub include_fenced_brokers: bool,
}

impl DescribeClusterRequest {
    pub fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self> {
        let include_cluster_authorized_operations = r.bool()?;
        let endpoint_type = if version >= 1 { r.i8()? } else { 1 };
        let include_fenced_brokers = if version >= 2 { r.bool()? } else { false };
        r.skip_tagged_fields()?;
        Ok(DescribeClusterRequest {
            include_cluster_authorized_operations,
            endpoint_type,
            include_fenced_brokers,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeClusterBroker<'a> {
    pub broker_id: i32,
    pub host: &'a str,
    pub port: i32,
    pub rack: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeClusterResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<&'a str>,
    pub endpoint_type: i8,
    pub cluster_id: &'a str,
    pub controller_id: i32,
    pub brokers: Vec<DescribeClusterBroker<'a>>,
    pub cluster_authorized_operations: i32,
}

impl DescribeClusterResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        out.put_nullable_string(self.error_message, true);
        if version >= 1 {
            out.put_i8(self.endpoint_type);
        }
        out.put_string(self.cluster_id, true);
        out.put_i32(self.controller_id);
        out.put_array_len(Some(self.brokers.len()), true);
        for b in &self.brokers {
            out.put_i32(b.broker_id);
            out.put_string(b.host, true);
            out.put_i32(b.port);
            out.put_nullable_string(b.rack, true);
            if version >= 2 {
                out.put_bool(false); // is_fenced
            }
            out.put_empty_tags(true);
        }
        out.put_i32(self.cluster_authorized_operations);
        out.put_empty_tags(true);
    }
}
