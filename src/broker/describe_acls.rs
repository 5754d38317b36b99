//! DescribeAcls: the ACLs a filter matches, grouped by resource pattern. Without an
//! authorizer Kafka answers SECURITY_DISABLED; the caller needs DESCRIBE on the cluster.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::describe_acls::*;
use crate::protocol::error;
use crate::security::acl::op;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeAclsRequest::decode(r, version)?;
    // As in DeleteAcls, an UNKNOWN code fails the request's parsing (the connection closes).
    if let Some(why) = req.filter.has_unknown() {
        return Err(crate::protocol::codec::DecodeError(why));
    }
    let (error_code, error_message, acls) = if !b.authorizer.enabled {
        (error::SECURITY_DISABLED, Some("No Authorizer is configured on the broker"), vec![])
    } else if !b.cluster_authorized(op::DESCRIBE) {
        (error::CLUSTER_AUTHORIZATION_FAILED, Some("Cluster authorization failed."), vec![])
    } else {
        let acls =
            b.meta.acls().iter().map(|a| &a.binding).filter(|a| req.filter.matches(a)).collect();
        (error::NONE, Some(""), acls)
    };
    DescribeAclsResponse { error_code, error_message, acls }.encode(version, out);
    Ok(Reply::Sent)
}
