//! EndTxn: commit or abort the producer's ongoing transaction by writing its markers.

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::protocol::add_offsets_to_txn::encode_response;
use crate::protocol::codec::Reader;
use crate::protocol::end_txn::EndTxnRequest;
use crate::protocol::error;
use crate::txn::End;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = EndTxnRequest::decode(r, version)?;
    let code = match b.txn.end_txn(
        req.transactional_id,
        req.producer_id,
        req.producer_epoch,
        req.committed,
    ) {
        End::Write(m) => {
            txn_markers::write(b, req.transactional_id, &m).err().unwrap_or(error::NONE)
        }
        End::Done => error::NONE,
        End::Error(code) => code,
    };
    encode_response(txn_markers::fenced_for(code, version >= 2), version >= 3, out);
    Ok(Reply::Sent)
}
