//! The cluster is this node: broker, and controller for admin clients' purposes.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::describe_cluster::*;
use crate::protocol::error;
use crate::security::acl::CLUSTER_NAME;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeClusterRequest::decode(r, version)?;
    let node = b.config.node_id;
    let mut resp = DescribeClusterResponse {
        throttle_time_ms: 0,
        error_code: error::NONE,
        error_message: None,
        endpoint_type: req.endpoint_type,
        cluster_id: &b.cluster_id,
        controller_id: node,
        brokers: vec![DescribeClusterBroker {
            broker_id: node,
            host: b.advertised().0,
            port: i32::from(b.advertised().1),
            rack: None,
        }],
        cluster_authorized_operations: if req.include_cluster_authorized_operations {
            b.authorized_operations(crate::security::acl::resource::CLUSTER, CLUSTER_NAME)
        } else {
            i32::MIN
        },
    };
    if !matches!(req.endpoint_type, 1 | 2) {
        resp.error_code = error::UNSUPPORTED_ENDPOINT_TYPE;
        resp.error_message = Some("Unsupported endpoint type");
        resp.brokers.clear();
    }
    resp.encode(version, out);
    Ok(Reply::Sent)
}
