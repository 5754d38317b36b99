//! AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction, so its
//! markers reach the offsets the transaction commits there.

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::groups::offsets;
use crate::protocol::add_offsets_to_txn::{encode_response, AddOffsetsToTxnRequest};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = AddOffsetsToTxnRequest::decode(r, version)?;
    let denied = if !b.authorized(op::WRITE, resource::TRANSACTIONAL_ID, req.transactional_id) {
        error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    } else if !b.authorized(op::READ, resource::GROUP, req.group_id) {
        error::GROUP_AUTHORIZATION_FAILED
    } else {
        error::NONE
    };
    if denied != error::NONE {
        encode_response(denied, version >= 3, out);
        return Ok(Reply::Sent);
    }
    let partition = super::txn_offset_commit::offsets_partition(b, req.group_id);
    let before = b.txn.get(req.transactional_id).cloned();
    let code = match b.txn.add_partitions(
        req.transactional_id,
        req.producer_id,
        req.producer_epoch,
        [(offsets::TOPIC.to_string(), partition)],
    ) {
        Ok(()) => b.record_txn_change(req.transactional_id, before),
        Err(code) => code,
    };
    encode_response(txn_markers::fenced_for(code, version >= 2), version >= 3, out);
    Ok(Reply::Sent)
}
