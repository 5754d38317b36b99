//! AddPartitionsToTxn (the client versions): partitions join the producer's transaction
//! before it writes to them.

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::protocol::add_partitions_to_txn::*;
use crate::protocol::codec::Reader;
use crate::protocol::error;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = AddPartitionsToTxnRequest::decode(r, version)?;
    // As Kafka: unknown partitions fail and the others are not attempted.
    let any_unknown = req.topics.iter().any(|(t, ps)| ps.iter().any(|&p| unknown(b, t, p)));
    let code = if any_unknown {
        None
    } else {
        let partitions = req
            .topics
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(|&p| (t.to_string(), p)))
            .collect::<Vec<_>>();
        let before = b.txn.get(req.transactional_id).cloned();
        let added = b.txn.add_partitions(
            req.transactional_id,
            req.producer_id,
            req.producer_epoch,
            partitions,
        );
        let code = match added {
            Ok(()) => b.record_txn_change(req.transactional_id, before),
            Err(code) => code,
        };
        Some(txn_markers::fenced_for(code, version >= 2))
    };
    // Kafka gathers the unknown partitions' errors first, and answers them first.
    let mut topics: Vec<&(&str, Vec<i32>)> = req.topics.iter().collect();
    topics.sort_by_key(|(t, ps)| !ps.iter().any(|&p| unknown(b, t, p)));
    let results = topics
        .into_iter()
        .map(|(t, ps)| {
            let codes = ps
                .iter()
                .map(|&p| {
                    let c = code.unwrap_or(if unknown(b, t, p) {
                        error::UNKNOWN_TOPIC_OR_PARTITION
                    } else {
                        error::OPERATION_NOT_ATTEMPTED
                    });
                    (p, c)
                })
                .collect();
            (*t, codes)
        })
        .collect();
    AddPartitionsToTxnResponse { throttle_time_ms: 0, results }.encode(version, out);
    Ok(Reply::Sent)
}

fn unknown(b: &Broker, name: &str, p: i32) -> bool {
    b.logs.find(name, p).is_none()
}
