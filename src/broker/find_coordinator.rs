//! Every group's and transactional id's coordinator is this node.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::find_coordinator::*;
use crate::security::acl;

/// `key_type` of a consumer group and of a transactional id; 2 (a share group) is not served.
const GROUP_KEY: i8 = 0;
const TRANSACTION_KEY: i8 = 1;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = FindCoordinatorRequest::decode(r, version)?;
    // As Kafka: the transaction coordinator's topic is made when a client first looks for it.
    let txn_topic =
        if req.key_type == TRANSACTION_KEY { b.ensure_txn_state_topic() } else { Ok(()) };
    let node = b.config.node_id;
    let coordinators = req
        .keys
        .iter()
        .map(|key| {
            let mut c = Coordinator {
                key,
                node_id: node,
                host: b.advertised().0,
                port: i32::from(b.advertised().1),
                error_code: error::NONE,
                // What Kafka sends on success: the error's name before v4, empty from v4.
                error_message: Some(if version >= 4 { "" } else { "NONE" }.into()),
            };
            if req.key_type != GROUP_KEY && req.key_type != TRANSACTION_KEY {
                (c.node_id, c.host, c.port) = (-1, "", -1);
                c.error_code = error::COORDINATOR_NOT_AVAILABLE;
                c.error_message = Some("Share groups are not supported by this broker.".into());
            } else {
                let (resource, code) = if req.key_type == GROUP_KEY {
                    (acl::resource::GROUP, error::GROUP_AUTHORIZATION_FAILED)
                } else {
                    (acl::resource::TRANSACTIONAL_ID, error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
                };
                let refused = if !b.authorized(acl::op::DESCRIBE, resource, key) {
                    Some(code)
                } else {
                    txn_topic.err()
                };
                if let Some(code) = refused {
                    (c.node_id, c.host, c.port) = (-1, "", -1);
                    c.error_code = code;
                    c.error_message = None;
                }
            }
            c
        })
        .collect();
    FindCoordinatorResponse { throttle_time_ms: 0, coordinators }.encode(version, out);
    Ok(Reply::Sent)
}
