//! Producer ids for idempotent producers. Ids come in blocks of 1000 recorded in the metadata
//! log as a ProducerIdsRecord, as Kafka's controller hands them out, so no id is reused after
//! a restart. A transactional id gets its producer id and epoch from the transaction
//! coordinator (see [`crate::txn`]).

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::init_producer_id::*;
use crate::security::acl::{op, resource};
use crate::txn::Init;

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
    // Kafka: WRITE on the transactional id; without one, IDEMPOTENT_WRITE on the cluster or
    // WRITE on some topic.
    let denied = match req.transactional_id {
        Some(tid) if !b.authorized(op::WRITE, resource::TRANSACTIONAL_ID, tid) => {
            Some(error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        }
        None if !b.cluster_authorized(op::IDEMPOTENT_WRITE)
            && !b.authorized_on_any(op::WRITE, resource::TOPIC) =>
        {
            Some(error::CLUSTER_AUTHORIZATION_FAILED)
        }
        _ => None,
    };
    if let Some(code) = denied {
        resp.error_code = code;
    } else if let Some(tid) = req.transactional_id {
        let max = b.config.transaction_max_timeout_ms;
        let expected = (req.producer_id, req.producer_epoch);
        // Taken out for the call, which may need a new producer id from the broker.
        let before = b.txn.get(tid).cloned();
        let mut txn = std::mem::take(&mut b.txn);
        let init = txn.init_producer_id(tid, req.transaction_timeout_ms, max, expected, || {
            b.next_producer_id()
        });
        b.txn = txn;
        match init {
            Init::Ready(id, epoch) => match b.record_txn_change(tid, before) {
                error::NONE => (resp.producer_id, resp.producer_epoch) = (id, epoch),
                code => resp.error_code = code,
            },
            Init::AbortFirst(m) => {
                // As Kafka: the old epoch's transaction is aborted and the client told to
                // retry, which then finds it complete.
                resp.error_code = match txn_markers::write(b, tid, &m) {
                    Ok(()) => error::CONCURRENT_TRANSACTIONS,
                    Err(code) => code,
                };
            }
            Init::Error(code) => resp.error_code = txn_markers::fenced_for(code, version >= 4),
        }
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
