//! Producer ids for idempotent producers. Ids come in blocks of 1000 recorded in the metadata
//! log as a ProducerIdsRecord, as Kafka's controller hands them out, so no id is reused after
//! a restart. Transactions are not served.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::init_producer_id::*;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = InitProducerIdRequest::decode(r, version)?;
    let mut resp = InitProducerIdResponse {
        throttle_time_ms: 0,
        error_code: error::NONE,
        producer_id: -1,
        producer_epoch: -1,
    };
    if req.transactional_id.is_some() {
        // No transaction coordinator here: a clear refusal beats a transaction that cannot end.
        resp.error_code = error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else {
        // Without a transactional id Kafka hands out a fresh id every time, even to a
        // producer that names its old one (v3+): its sequences start over anyway.
        match b.next_producer_id() {
            Ok(id) => (resp.producer_id, resp.producer_epoch) = (id, 0),
            Err(code) => resp.error_code = code,
        }
    }
    resp.encode(version, out);
    Ok(Reply::Sent)
}
