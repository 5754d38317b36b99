//! AddPartitionsToTxn: partitions join the producer's transaction before it writes to them
//! (v0-3, from clients), or (v4+, meant for brokers, several transactions at once) are added
//! or, with `verify_only`, checked to be in it. Kafka authorizes v4+ as a cluster action,
//! which a broker without an authorizer, as this one, grants to anyone.

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
    let results = req.transactions.iter().map(|t| (t.transactional_id, answer(b, t, version)));
    let results = results.collect();
    AddPartitionsToTxnResponse { throttle_time_ms: 0, error_code: error::NONE, results }
        .encode(version, out);
    Ok(Reply::Sent)
}

/// One transaction's per-partition results.
fn answer<'a>(
    b: &mut Broker,
    t: &AddPartitionsToTxnTransaction<'a>,
    version: i16,
) -> TopicResults<'a> {
    // As Kafka: unknown partitions fail and the others are not attempted.
    let unknown = |b: &Broker, name: &str, p: i32| b.logs.find(name, p).is_none();
    let any_unknown = t.topics.iter().any(|(n, ps)| ps.iter().any(|&p| unknown(b, n, p)));
    let (tid, pid, epoch) = (t.transactional_id, t.producer_id, t.producer_epoch);
    let code = if any_unknown || t.verify_only {
        None
    } else {
        let partitions = t.topics.iter().flat_map(|(n, ps)| ps.iter().map(|&p| (n.to_string(), p)));
        let before = b.txn.get(tid).cloned();
        let code = match b.txn.add_partitions(tid, pid, epoch, partitions.collect::<Vec<_>>()) {
            // The change is in `__transaction_state` before it is answered.
            Ok(()) => b.record_txn_change(tid, before),
            Err(code) => code,
        };
        Some(txn_markers::fenced_for(code, version >= 2))
    };
    // Kafka gathers the unknown partitions' errors first, and answers them first.
    let mut topics: Vec<&(&str, Vec<i32>)> = t.topics.iter().collect();
    topics.sort_by_key(|(n, ps)| !ps.iter().any(|&p| unknown(b, n, p)));
    // Kafka answers from a map by partition: a topic named twice is answered once.
    let mut results: TopicResults<'a> = Vec::with_capacity(topics.len());
    for (n, ps) in topics {
        let codes = ps.iter().map(|&p| {
            let c = match code {
                Some(c) => c,
                None if unknown(b, n, p) => error::UNKNOWN_TOPIC_OR_PARTITION,
                None if any_unknown => error::OPERATION_NOT_ATTEMPTED,
                None => b.txn.verify_partition(tid, pid, epoch, n, p),
            };
            (p, c)
        });
        match results.iter_mut().find(|(name, _)| name == n) {
            Some((_, known)) => known.extend(codes),
            None => results.push((*n, codes.collect())),
        }
    }
    results
}
