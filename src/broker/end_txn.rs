//! EndTxn: commit or abort the producer's ongoing transaction by writing its markers. From
//! v5 (transactions v2) the end bumps the producer's epoch, which the answer names.

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::protocol::add_offsets_to_txn::encode_response;
use crate::protocol::codec::Reader;
use crate::protocol::end_txn::{encode_response_v5, EndTxnRequest};
use crate::protocol::error;
use crate::security::acl::{op, resource};
use crate::txn::End;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = EndTxnRequest::decode(r, version)?;
    let tid = req.transactional_id;
    if !b.authorized(op::WRITE, resource::TRANSACTIONAL_ID, tid) {
        let code = error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        if version >= 5 {
            encode_response_v5(code, -1, -1, out);
        } else {
            encode_response(code, version >= 3, out);
        }
        return Ok(Reply::Sent);
    }
    // Taken out for the call, which may need a new producer id from the broker.
    let mut txn = std::mem::take(&mut b.txn);
    let end = txn.end_transaction(
        tid,
        req.producer_id,
        req.producer_epoch,
        req.committed,
        version >= 5,
        || b.next_producer_id(),
    );
    b.txn = txn;
    let (code, next) = match end {
        End::Write(m) => match txn_markers::write(b, tid, &m) {
            // The id and epoch the producer continues with (Kafka's new producer id, rather
            // than the spent epoch, when the epochs ran out).
            Ok(()) => (error::NONE, m.next),
            Err(code) => (code, None),
        },
        // A retried end: the transactional id's current producer.
        End::Done => (error::NONE, b.txn.get(tid).map(|m| (m.producer_id, m.producer_epoch))),
        End::Error(code) => (code, None),
    };
    let code = txn_markers::fenced_for(code, version >= 2);
    if version >= 5 {
        let (id, epoch) = next.filter(|_| code == error::NONE).unwrap_or((-1, -1));
        encode_response_v5(code, id, epoch, out);
    } else {
        encode_response(code, version >= 3, out);
    }
    Ok(Reply::Sent)
}
