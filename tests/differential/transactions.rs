//! Transactions, judged against Kafka's transaction coordinator (transactions v1, the
//! versions below EndTxn v5): InitProducerId with a transactional id, AddPartitionsToTxn,
//! AddOffsetsToTxn and EndTxn with their error paths, and what the markers leave behind for
//! read_committed readers (the last stable offset, the aborted transactions, the batches).
//! Kafka writes markers after it answers EndTxn: the steps after one wait (`until`) for the
//! last stable offset to move before they are judged.

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use crate::common::BatchBuilder;
use crate::harness::{Ctx, Scenario};
use crate::scenarios::{fetch, produce, versions, FetchAt, TS};

pub fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

pub fn init(tid: &str, timeout_ms: i32) -> RequestKind {
    InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(s(tid))))
        .with_transaction_timeout_ms(timeout_ms)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
        .into()
}

pub fn find_txn_coordinator(tid: &str) -> RequestKind {
    FindCoordinatorRequest::default().with_key_type(1).with_coordinator_keys(vec![s(tid)]).into()
}

/// Kafka makes `__transaction_state` on the first FindCoordinator for a transactional id,
/// and answers COORDINATOR_NOT_AVAILABLE until it has loaded it.
pub fn found(r: &ResponseKind) -> bool {
    matches!(r, ResponseKind::FindCoordinator(r) if r.coordinators.iter().all(|c| c.error_code == 0))
}

pub fn initialised(r: &ResponseKind) -> bool {
    matches!(r, ResponseKind::InitProducerId(r) if r.error_code == 0)
}

pub fn add_partitions(ctx: &Ctx, tid: &str, pid_delta: i64, parts: &[(&str, i32)]) -> RequestKind {
    let topics = parts
        .iter()
        .map(|&(t, p)| {
            AddPartitionsToTxnTopic::default().with_name(TopicName(s(t))).with_partitions(vec![p])
        })
        .collect();
    AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(s(tid)))
        .with_v3_and_below_producer_id(ProducerId(ctx.producer_id + pid_delta))
        .with_v3_and_below_producer_epoch(ctx.producer_epoch)
        .with_v3_and_below_topics(topics)
        .into()
}

pub fn added(r: &ResponseKind) -> bool {
    matches!(r, ResponseKind::AddPartitionsToTxn(r) if r.results_by_topic_v3_and_below.iter()
        .all(|t| t.results_by_partition.iter().all(|p| p.partition_error_code == 0)))
}

pub fn end(ctx: &Ctx, tid: &str, epoch_delta: i16, commit: bool) -> RequestKind {
    EndTxnRequest::default()
        .with_transactional_id(TransactionalId(s(tid)))
        .with_producer_id(ProducerId(ctx.producer_id))
        .with_producer_epoch(ctx.producer_epoch + epoch_delta)
        .with_committed(commit)
        .into()
}

/// A transactional batch of `n` records from `sequence`, in a Produce naming the id.
fn txn_produce(ctx: &Ctx, tid: &str, name: &str, n: usize, sequence: i32) -> RequestKind {
    txn_produce_to(ctx, Some(tid), name, 0, n, sequence)
}

/// The context with the producer's epoch moved by `delta` (EndTxn v5 bumps it).
fn at_epoch(ctx: &Ctx, delta: i16) -> Ctx {
    Ctx {
        topic_ids: ctx.topic_ids.clone(),
        member_id: ctx.member_id.clone(),
        generation_id: ctx.generation_id,
        producer_id: ctx.producer_id,
        producer_epoch: ctx.producer_epoch + delta,
    }
}

/// As [`txn_produce`], from the producer's epoch plus `epoch_delta`.
fn txn_produce_at(
    ctx: &Ctx,
    tid: &str,
    name: &str,
    epoch_delta: i16,
    sequence: i32,
) -> RequestKind {
    let ctx = at_epoch(ctx, epoch_delta);
    txn_produce_to(&ctx, Some(tid), name, 0, 1, sequence)
}

fn add_partitions_at(ctx: &Ctx, tid: &str, epoch_delta: i16, name: &str) -> RequestKind {
    let ctx = at_epoch(ctx, epoch_delta);
    add_partitions(&ctx, tid, 0, &[(name, 0)])
}

fn txn_produce_to(
    ctx: &Ctx,
    tid: Option<&str>,
    name: &str,
    partition: i32,
    n: usize,
    sequence: i32,
) -> RequestKind {
    let mut b = BatchBuilder::new(0, TS)
        .producer(ctx.producer_id, ctx.producer_epoch, sequence)
        .transactional();
    for i in 0..n {
        b.push(None, Some(format!("txn {}", sequence + i as i32).as_bytes()), &[]);
    }
    let RequestKind::Produce(req) = produce(ctx, name, partition, -1, b.finish().into()) else {
        unreachable!()
    };
    req.with_transactional_id(tid.map(|t| TransactionalId(s(t)))).into()
}

pub fn latest(name: &str, committed: bool) -> RequestKind {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(i8::from(committed))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(s(name)))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])])
        .into()
}

pub fn stable_at(offset: i64) -> impl Fn(&ResponseKind) -> bool {
    move |r| matches!(r, ResponseKind::ListOffsets(r) if r.topics[0].partitions[0].offset == offset)
}

fn read_committed(ctx: &Ctx, v: i16, name: &str, offset: i64) -> RequestKind {
    let RequestKind::Fetch(req) =
        fetch(ctx, v, name, &[FetchAt { partition: 0, offset, max_bytes: 1 << 20 }], 0)
    else {
        unreachable!()
    };
    req.with_isolation_level(1).into()
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let (tid, name) = ("dtx-1", "dtx");
    out.push(
        Scenario::new("transactions: a committed and an aborted transaction, read_committed")
            .topic(name, 1)
            .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
            .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised)
            .step(ApiKey::AddPartitionsToTxn, 3, move |c, _| {
                add_partitions(c, tid, 0, &[(name, 0)])
            })
            .step(ApiKey::Produce, 9, move |c, _| txn_produce(c, tid, name, 2, 0))
            .step(ApiKey::ListOffsets, 7, move |_, _| latest(name, true))
            .step(ApiKey::EndTxn, 3, move |c, _| end(c, tid, 0, true))
            .until(ApiKey::ListOffsets, 7, move |_, _| latest(name, true), stable_at(3))
            // Kafka completes the transaction just after its markers: retried until it has.
            .until(
                ApiKey::AddPartitionsToTxn,
                3,
                move |c, _| add_partitions(c, tid, 0, &[(name, 0)]),
                added,
            )
            .step(ApiKey::Produce, 9, move |c, _| txn_produce(c, tid, name, 2, 2))
            .step(ApiKey::EndTxn, 3, move |c, _| end(c, tid, 0, false))
            .until(ApiKey::ListOffsets, 7, move |_, _| latest(name, true), stable_at(6))
            .step(ApiKey::ListOffsets, 7, move |_, _| latest(name, false))
            // From 3: the segment the commit marker rolled to (its clock is years past TS).
            .step(ApiKey::Fetch, 12, move |c, v| read_committed(c, v, name, 3)),
    );
    let tid = "dtx-errors";
    let mut errors = Scenario::new("transactions: error paths")
        .topic("dtx-e", 1)
        .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
        .step(ApiKey::InitProducerId, 4, move |_, _| init(tid, 900_001))
        .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised)
        .step(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid));
    for v in versions(ApiKey::EndTxn) {
        errors = errors
            .step(ApiKey::EndTxn, v, move |c, _| end(c, tid, 0, true))
            .step(ApiKey::EndTxn, v, move |c, _| end(c, tid, 1, false))
            .step(ApiKey::EndTxn, v, move |c, _| end(c, "dtx-nobody", 0, true));
    }
    // The client versions; v4+ (a batch of transactions) in `verification_scenario`.
    for v in 0..=3 {
        errors = errors
            .step(ApiKey::AddPartitionsToTxn, v, move |c, _| {
                add_partitions(c, "dtx-nobody", 0, &[("dtx-e", 0)])
            })
            .step(ApiKey::AddPartitionsToTxn, v, move |c, _| {
                add_partitions(c, tid, 1, &[("dtx-e", 0)])
            })
            .step(ApiKey::AddPartitionsToTxn, v, move |c, _| {
                add_partitions(c, tid, 0, &[("dtx-e", 0), ("dtx-no-such-topic", 0)])
            });
    }
    for v in versions(ApiKey::AddOffsetsToTxn) {
        errors = errors.step(ApiKey::AddOffsetsToTxn, v, move |c, _| {
            AddOffsetsToTxnRequest::default()
                .with_transactional_id(TransactionalId(s(tid)))
                .with_producer_id(ProducerId(c.producer_id))
                .with_producer_epoch(c.producer_epoch - 1)
                .with_group_id(GroupId(s("dtx-group")))
                .into()
        });
    }
    out.push(errors);
    out.push(offsets_scenario());
    out.push(verification_scenario());
    out.push(end_txn_v5_scenario());
    out.push(offsets_v5_scenario());
    out
}

fn txn_offset_commit(ctx: &Ctx, tid: &str, group: &str, parts: &[(i32, i64)]) -> RequestKind {
    txn_offset_commit_to(ctx, tid, group, "dtx-o", parts)
}

fn txn_offset_commit_to(
    ctx: &Ctx,
    tid: &str,
    group: &str,
    topic: &str,
    parts: &[(i32, i64)],
) -> RequestKind {
    use kafka_protocol::messages::txn_offset_commit_request::*;
    let partitions = parts
        .iter()
        .map(|&(p, o)| {
            TxnOffsetCommitRequestPartition::default()
                .with_partition_index(p)
                .with_committed_offset(o)
                .with_committed_leader_epoch(0)
                .with_committed_metadata(Some(s("m")))
        })
        .collect();
    TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(s(tid)))
        .with_group_id(GroupId(s(group)))
        .with_producer_id(ProducerId(ctx.producer_id))
        .with_producer_epoch(ctx.producer_epoch)
        .with_generation_id(-1)
        .with_topics(vec![TxnOffsetCommitRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(partitions)])
        .into()
}

fn offset_fetch(group: &str) -> RequestKind {
    offset_fetch_of(group, "dtx-o", &[0, 1])
}

fn offset_fetch_of(group: &str, topic: &str, partitions: &[i32]) -> RequestKind {
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    OffsetFetchRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_require_stable(true)
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partition_indexes(partitions.to_vec())]))
        .into()
}

/// TxnOffsetCommit: refused before AddOffsetsToTxn, then held until the commit
/// (OffsetFetch with `require_stable` meanwhile), then the group's.
fn offsets_scenario() -> Scenario {
    let (tid, group) = ("dtx-o", "dtx-o-group");
    let mut sc = Scenario::new("transactions: TxnOffsetCommit")
        .topic("dtx-o", 2)
        .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
        .until(
            ApiKey::FindCoordinator,
            4,
            move |_, _| {
                FindCoordinatorRequest::default()
                    .with_key_type(0)
                    .with_coordinator_keys(vec![s(group)])
                    .into()
            },
            found,
        )
        .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised)
        .step(ApiKey::TxnOffsetCommit, 3, move |c, _| txn_offset_commit(c, tid, group, &[(0, 1)]))
        .step(ApiKey::TxnOffsetCommit, 4, move |c, _| txn_offset_commit(c, tid, group, &[(0, 1)]))
        .step(ApiKey::AddOffsetsToTxn, 3, move |c, _| {
            AddOffsetsToTxnRequest::default()
                .with_transactional_id(TransactionalId(s(tid)))
                .with_producer_id(ProducerId(c.producer_id))
                .with_producer_epoch(c.producer_epoch)
                .with_group_id(GroupId(s(group)))
                .into()
        });
    for v in versions(ApiKey::TxnOffsetCommit) {
        let at = 10 + i64::from(v);
        sc = sc.step(ApiKey::TxnOffsetCommit, v, move |c, _| {
            txn_offset_commit(c, tid, group, &[(0, at), (5, 1)])
        });
    }
    sc.step(ApiKey::OffsetFetch, 7, move |_, _| offset_fetch(group))
        .step(ApiKey::EndTxn, 3, move |c, _| end(c, tid, 0, true))
        .until(
            ApiKey::OffsetFetch,
            7,
            move |_, _| offset_fetch(group),
            |r| {
                matches!(r, ResponseKind::OffsetFetch(r)
                if r.topics[0].partitions.iter().all(|p| p.error_code == 0))
            },
        )
        .step(ApiKey::OffsetFetch, 7, move |_, _| offset_fetch(group))
}

/// AddPartitionsToTxn v4+: transactions in a batch (one entry per transactional id, Kafka's
/// map key), added or only verified.
/// (transactional id, epoch delta, verify only, partitions).
type Txn<'a> = (&'a str, i16, bool, &'a [(&'a str, i32)]);

fn add_or_verify(ctx: &Ctx, txns: &[Txn<'_>]) -> RequestKind {
    use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTransaction;
    let transactions = txns
        .iter()
        .map(|&(tid, epoch_delta, verify_only, parts)| {
            AddPartitionsToTxnTransaction::default()
                .with_transactional_id(TransactionalId(s(tid)))
                .with_producer_id(ProducerId(ctx.producer_id))
                .with_producer_epoch(ctx.producer_epoch + epoch_delta)
                .with_verify_only(verify_only)
                .with_topics(
                    parts
                        .iter()
                        .map(|&(name, p)| {
                            AddPartitionsToTxnTopic::default()
                                .with_name(TopicName(s(name)))
                                .with_partitions(vec![p])
                        })
                        .collect(),
                )
        })
        .collect();
    AddPartitionsToTxnRequest::default().with_transactions(transactions).into()
}

/// KIP-890 part 1: a transactional Produce to a partition not in the transaction, at every
/// Produce version (refused with the error the version knows; from v12 the produce adds the
/// partition), and AddPartitionsToTxn v4-5 verifying and adding.
fn verification_scenario() -> Scenario {
    let (tid, name) = ("dtx-v", "dtx-v");
    let mut sc = Scenario::new("transactions: partition verification (KIP-890)")
        .topic(name, 3)
        .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
        .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised);
    for v in 3..=11 {
        sc = sc.step(ApiKey::Produce, v, move |c, _| txn_produce_to(c, Some(tid), name, 0, 1, 0));
    }
    sc = sc
        .step(ApiKey::Produce, 11, move |c, _| txn_produce_to(c, Some("dtx-nobody"), name, 0, 1, 0))
        .step(ApiKey::Produce, 11, move |c, _| txn_produce_to(c, None, name, 0, 1, 0));
    for v in 4..=5 {
        sc = sc
            .step(ApiKey::AddPartitionsToTxn, v, move |c, _| {
                add_or_verify(
                    c,
                    &[(tid, 0, true, &[(name, 0)]), ("dtx-nobody", 0, true, &[(name, 0)])],
                )
            })
            .step(ApiKey::AddPartitionsToTxn, v, move |c, _| {
                add_or_verify(c, &[(tid, 1, true, &[(name, 0)])])
            })
            .step(ApiKey::AddPartitionsToTxn, v, move |c, _| {
                add_or_verify(c, &[(tid, 0, true, &[("dtx-no-such-topic", 0)])])
            });
    }
    sc.step(ApiKey::AddPartitionsToTxn, 4, move |c, _| {
        add_or_verify(c, &[(tid, 0, false, &[(name, 1)])])
    })
    .step(ApiKey::AddPartitionsToTxn, 5, move |c, _| {
        add_or_verify(c, &[(tid, 0, true, &[(name, 1)])])
    })
    .step(ApiKey::Produce, 9, move |c, _| txn_produce_to(c, Some(tid), name, 1, 2, 0))
    // Transactions v2: the produce adds partition 2 to the transaction.
    .step(ApiKey::Produce, 12, move |c, _| txn_produce_to(c, Some(tid), name, 2, 1, 0))
    .step(ApiKey::AddPartitionsToTxn, 5, move |c, _| {
        add_or_verify(c, &[(tid, 0, true, &[(name, 2)])])
    })
    .step(ApiKey::EndTxn, 4, move |c, _| end(c, tid, 0, true))
    // The next transaction starts with a v12 produce (once Kafka has completed the last one).
    .until(
        ApiKey::Produce,
        12,
        move |c, _| txn_produce_to(c, Some(tid), name, 0, 1, 0),
        |r| {
            matches!(r, ResponseKind::Produce(r)
                if r.responses[0].partition_responses[0].error_code == 0)
        },
    )
    .step(ApiKey::AddPartitionsToTxn, 5, move |c, _| {
        add_or_verify(c, &[(tid, 0, true, &[(name, 0), (name, 1)])])
    })
    .step(ApiKey::EndTxn, 4, move |c, _| end(c, tid, 0, false))
    .until(ApiKey::ListOffsets, 7, move |_, _| latest(name, true), stable_at(2))
}

fn ended(r: &ResponseKind) -> bool {
    matches!(r, ResponseKind::EndTxn(r) if r.error_code == 0)
}

/// Transactions v2: EndTxn v5 bumps the producer epoch at every end (the answer names it,
/// the markers carry it); a retry names the epoch before, the new one starts the next
/// transaction, and an abort with none ongoing ends an empty one.
fn end_txn_v5_scenario() -> Scenario {
    let (tid, name) = ("dtx-2", "dtx-2");
    Scenario::new("transactions v2: EndTxn v5 bumps the epoch")
        .topic(name, 1)
        .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
        .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised)
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 0, true))
        .step(ApiKey::AddPartitionsToTxn, 3, move |c, _| add_partitions(c, tid, 0, &[(name, 0)]))
        .step(ApiKey::Produce, 9, move |c, _| txn_produce(c, tid, name, 2, 0))
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 1, true))
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 0, true))
        .until(ApiKey::ListOffsets, 7, move |_, _| latest(name, true), stable_at(3))
        // Kafka answers a retry CONCURRENT_TRANSACTIONS until its markers are written.
        .until(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 0, true), ended)
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 0, false))
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 1, true))
        .step(ApiKey::EndTxn, 4, move |c, _| end(c, tid, 1, true))
        .step(ApiKey::AddPartitionsToTxn, 3, move |c, _| add_partitions_at(c, tid, 0, name))
        .step(ApiKey::AddPartitionsToTxn, 3, move |c, _| add_partitions_at(c, tid, 1, name))
        .step(ApiKey::Produce, 9, move |c, _| txn_produce_at(c, tid, name, 1, 0))
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 1, false))
        .until(ApiKey::ListOffsets, 7, move |_, _| latest(name, true), stable_at(5))
        .step(ApiKey::Fetch, 12, move |c, v| read_committed(c, v, name, 3))
        // An abort with nothing ongoing ends an empty transaction, bumping the epoch.
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 2, false))
        .until(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 2, false), ended)
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 3, true))
        .step(ApiKey::ListOffsets, 7, move |_, _| latest(name, false))
}

/// Transactions v2: TxnOffsetCommit v5 adds the group's partition to the transaction (no
/// AddOffsetsToTxn), and the offsets are the group's once EndTxn v5 commits.
fn offsets_v5_scenario() -> Scenario {
    let (tid, group) = ("dtx-o5", "dtx-o5-group");
    Scenario::new("transactions v2: TxnOffsetCommit v5")
        .topic("dtx-o5", 1)
        .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
        .until(
            ApiKey::FindCoordinator,
            4,
            move |_, _| {
                FindCoordinatorRequest::default()
                    .with_key_type(0)
                    .with_coordinator_keys(vec![s(group)])
                    .into()
            },
            found,
        )
        .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised)
        .step(ApiKey::TxnOffsetCommit, 5, move |c, _| {
            let c = at_epoch(c, 1);
            txn_offset_commit_to(&c, tid, group, "dtx-o5", &[(0, 3)])
        })
        .step(ApiKey::TxnOffsetCommit, 5, move |c, _| {
            txn_offset_commit_to(c, tid, group, "dtx-o5", &[(0, 3)])
        })
        .step(ApiKey::OffsetFetch, 7, move |_, _| offset_fetch_of(group, "dtx-o5", &[0]))
        .step(ApiKey::EndTxn, 5, move |c, _| end(c, tid, 0, true))
        .until(
            ApiKey::OffsetFetch,
            7,
            move |_, _| offset_fetch_of(group, "dtx-o5", &[0]),
            |r| {
                matches!(r, ResponseKind::OffsetFetch(r)
                if r.topics[0].partitions.iter().all(|p| p.error_code == 0))
            },
        )
        .step(ApiKey::OffsetFetch, 7, move |_, _| offset_fetch_of(group, "dtx-o5", &[0]))
}
