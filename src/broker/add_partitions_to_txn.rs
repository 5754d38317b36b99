//! AddPartitionsToTxn: partitions join the producer's transaction before it writes to them
//! (v0-3, from clients), or (v4+, meant for brokers, several transactions at once) are added
//! or, with `verify_only`, checked to be in it. Kafka authorizes v4+ as a cluster action,
//! v0-3 as a client's: WRITE on its transactional id and on each topic.

use super::{txn_markers, Broker, HandlerResult, Reply};
use crate::protocol::add_partitions_to_txn::*;
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::security::acl::{op, resource};

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = AddPartitionsToTxnRequest::decode(r, version)?;
    if version >= 4 && !b.cluster_authorized(op::CLUSTER_ACTION) {
        let code = error::CLUSTER_AUTHORIZATION_FAILED;
        AddPartitionsToTxnResponse { throttle_time_ms: 0, error_code: code, results: Vec::new() }
            .encode(version, out);
        return Ok(Reply::Sent);
    }
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
    let (tid, pid, epoch) = (t.transactional_id, t.producer_id, t.producer_epoch);
    let client = version < 4;
    if client && !b.authorized(op::WRITE, resource::TRANSACTIONAL_ID, tid) {
        let code = error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        let mut results: TopicResults<'a> = Vec::with_capacity(t.topics.len());
        for (n, ps) in &t.topics {
            let codes = ps.iter().map(|&p| (p, code));
            match results.iter_mut().find(|(name, _)| name == n) {
                Some((_, known)) => known.extend(codes),
                None => results.push((*n, codes.collect())),
            }
        }
        return results;
    }
    // As Kafka: partitions of topics not writable, then unknown partitions, fail and the
    // others are not attempted.
    let denied: Vec<&str> = t
        .topics
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| client && !b.authorized(op::WRITE, resource::TOPIC, n))
        .collect();
    let refusal = |b: &Broker, name: &str, p: i32| {
        if denied.contains(&name) {
            Some(error::TOPIC_AUTHORIZATION_FAILED)
        } else if b.logs.find(name, p).is_none() {
            Some(error::UNKNOWN_TOPIC_OR_PARTITION)
        } else {
            None
        }
    };
    let unknown = |b: &Broker, name: &str, p: i32| refusal(b, name, p).is_some();
    let any_unknown = t.topics.iter().any(|(n, ps)| ps.iter().any(|&p| unknown(b, n, p)));
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
    // Kafka gathers the denied, then the unknown partitions' errors first, and answers them
    // first.
    let mut topics: Vec<&(&str, Vec<i32>)> = t.topics.iter().collect();
    topics.sort_by_key(|(n, ps)| {
        let first = ps.iter().filter_map(|&p| refusal(b, n, p)).next();
        match first {
            Some(error::TOPIC_AUTHORIZATION_FAILED) => 0,
            Some(_) => 1,
            None => 2,
        }
    });
    // Kafka answers from a map by partition: a topic named twice is answered once.
    let mut results: TopicResults<'a> = Vec::with_capacity(topics.len());
    for (n, ps) in topics {
        let codes = ps.iter().map(|&p| {
            let c = match code {
                Some(c) => c,
                None if unknown(b, n, p) => refusal(b, n, p).unwrap_or(error::NONE),
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
