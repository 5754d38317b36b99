//! ListTransactions (v0-2): the transactional ids the coordinator knows, filtered as Kafka's
//! `TransactionStateManager.listTransactionStates` does. A state filter that names no
//! `TransactionState` is listed back as unknown (and, if every filter is unknown, nothing
//! matches); v1's duration filter keeps transactions whose start lies further back than it
//! (an id with no transaction yet starts at -1, so it is always kept); v2's pattern keeps ids
//! it matches whole, and one that does not compile fails the request with
//! INVALID_REGULAR_EXPRESSION.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::list_transactions::*;
use crate::security::acl::{op, resource};
use crate::txn::pattern::Pattern;

/// Kafka's `TransactionState` names, including those no request here observes.
const STATE_NAMES: [&str; 8] = [
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
    "Dead",
    "PrepareEpochFence",
];

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ListTransactionsRequest::decode(r, version)?;
    let pattern = match req.transactional_id_pattern.filter(|p| !p.is_empty()).map(Pattern::compile)
    {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(why)) => {
            log::info!(
                "ListTransactions: pattern {:?} is not a valid regular expression: {why}",
                req.transactional_id_pattern.unwrap_or_default()
            );
            ListTransactionsResponse {
                error_code: error::INVALID_REGULAR_EXPRESSION,
                unknown_state_filters: Vec::new(),
                transaction_states: Vec::new(),
            }
            .encode(version, out);
            return Ok(Reply::Sent);
        }
    };
    // Kafka takes the filters as a set: each name once.
    let mut filters: Vec<&str> = Vec::new();
    for s in &req.state_filters {
        if !filters.contains(s) {
            filters.push(s);
        }
    }
    let unknown_state_filters: Vec<&str> =
        filters.iter().copied().filter(|s| !STATE_NAMES.contains(s)).collect();
    let now = crate::storage::now_ms();
    let mut transaction_states: Vec<ListedTransaction<'_>> = b
        .txn
        .iter()
        .filter(|(id, m)| {
            (req.producer_id_filters.is_empty() || req.producer_id_filters.contains(&m.producer_id))
                && (filters.is_empty() || filters.contains(&m.state.name()))
                && (req.duration_filter < 0 || now - m.start_ms > req.duration_filter)
                && pattern.as_ref().is_none_or(|p| p.matches(id))
                && b.authorized(op::DESCRIBE, resource::TRANSACTIONAL_ID, id)
        })
        .map(|(id, m)| ListedTransaction {
            transactional_id: id,
            producer_id: m.producer_id,
            transaction_state: m.state.name(),
        })
        .collect();
    transaction_states.sort_by_key(|t| t.transactional_id);
    ListTransactionsResponse { error_code: error::NONE, unknown_state_filters, transaction_states }
        .encode(version, out);
    Ok(Reply::Sent)
}
