//! The transaction operator APIs judged against Kafka: DescribeTransactions through a
//! transaction's life (Empty, Ongoing, CompleteCommit, an unknown id), ListTransactions at
//! every version with each filter (state names known and not, producer ids, duration,
//! patterns valid and not), and DescribeProducers on partitions with an open and a committed
//! transaction, an unknown partition, an unknown topic and an invalid name. Every scenario
//! shares one Kafka, so each ListTransactions names this scenario's producer id (each broker
//! its own). Times from the brokers' clocks (the start of
//! the transaction, a marker's timestamp) are masked by the harness.

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use crate::common::BatchBuilder;
use crate::harness::{Ctx, Scenario};
use crate::scenarios::{produce, TS};

const TID: &str = "dta-1";
const TOPIC: &str = "dta";

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn describe(ids: &[&str]) -> RequestKind {
    DescribeTransactionsRequest::default()
        .with_transactional_ids(ids.iter().map(|t| TransactionalId(s(t))).collect())
        .into()
}

/// ListTransactions at `v`, with this broker's producer id as a filter when `own_pid`.
fn list(
    ctx: &Ctx,
    v: i16,
    states: &[&str],
    own_pid: bool,
    duration: i64,
    pattern: Option<&str>,
) -> RequestKind {
    let mut req = ListTransactionsRequest::default()
        .with_state_filters(states.iter().map(|x| s(x)).collect())
        .with_producer_id_filters(if own_pid { vec![ProducerId(ctx.producer_id)] } else { vec![] });
    if v >= 1 {
        req = req.with_duration_filter(duration);
    }
    if v >= 2 {
        req = req.with_transactional_id_pattern(pattern.map(s));
    }
    req.into()
}

fn describe_producers(topics: &[(&str, &[i32])]) -> RequestKind {
    DescribeProducersRequest::default()
        .with_topics(
            topics
                .iter()
                .map(|&(t, ps)| {
                    TopicRequest::default()
                        .with_name(TopicName(s(t)))
                        .with_partition_indexes(ps.to_vec())
                })
                .collect(),
        )
        .into()
}

fn state_is(state: &'static str) -> impl Fn(&ResponseKind) -> bool {
    move |r| {
        matches!(r, ResponseKind::DescribeTransactions(r)
            if r.transaction_states.iter().all(|t| t.transaction_state.as_str() == state))
    }
}

fn setup_steps(sc: Scenario) -> Scenario {
    sc.until(
        ApiKey::FindCoordinator,
        4,
        |_, _| {
            FindCoordinatorRequest::default()
                .with_key_type(1)
                .with_coordinator_keys(vec![s(TID)])
                .into()
        },
        |r| matches!(r, ResponseKind::FindCoordinator(r) if r.coordinators.iter().all(|c| c.error_code == 0)),
    )
    .until(
        ApiKey::InitProducerId,
        4,
        |_, _| {
            InitProducerIdRequest::default()
                .with_transactional_id(Some(TransactionalId(s(TID))))
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1)
                .into()
        },
        |r| matches!(r, ResponseKind::InitProducerId(r) if r.error_code == 0),
    )
}

pub fn scenarios() -> Vec<Scenario> {
    let mut sc = setup_steps(Scenario::new("transaction operator APIs").topic(TOPIC, 2)).step(
        ApiKey::DescribeTransactions,
        0,
        |_, _| describe(&[TID, "dta-nobody"]),
    );
    for v in 0..=2 {
        sc = sc
            .step(ApiKey::ListTransactions, v, |c, v| list(c, v, &[], true, -1, None))
            .step(ApiKey::ListTransactions, v, |c, v| {
                list(c, v, &["Empty", "Bogus", "PrepareCommit", "Bogus"], true, -1, None)
            })
            .step(ApiKey::ListTransactions, v, |c, v| list(c, v, &["Ongoing"], true, -1, None));
    }
    for v in 1..=2 {
        // No transaction yet: Kafka's start time is -1, so any duration keeps the id.
        sc = sc.step(ApiKey::ListTransactions, v, |c, v| list(c, v, &[], true, 3_600_000, None));
    }
    for pattern in [Some("dta-.*"), Some("dta-[0-9]+"), Some("dta"), Some(""), Some("dta-[0")] {
        sc = sc.step(ApiKey::ListTransactions, 2, move |c, v| list(c, v, &[], true, -1, pattern));
    }
    sc = sc
        .step(ApiKey::AddPartitionsToTxn, 3, |c, _| {
            AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(TransactionalId(s(TID)))
                .with_v3_and_below_producer_id(ProducerId(c.producer_id))
                .with_v3_and_below_producer_epoch(c.producer_epoch)
                .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
                    .with_name(TopicName(s(TOPIC)))
                    .with_partitions(vec![1, 0])])
                .into()
        })
        .step(ApiKey::Produce, 9, |c, _| {
            let mut b = BatchBuilder::new(0, TS)
                .producer(c.producer_id, c.producer_epoch, 0)
                .transactional();
            for i in 0..2 {
                b.push(None, Some(format!("dta {i}").as_bytes()), &[]);
            }
            let RequestKind::Produce(req) = produce(c, TOPIC, 0, -1, b.finish().into()) else {
                unreachable!()
            };
            req.with_transactional_id(Some(TransactionalId(s(TID)))).into()
        })
        .step(ApiKey::DescribeTransactions, 0, |_, _| describe(&[TID]))
        .step(ApiKey::ListTransactions, 1, |c, v| list(c, v, &["Ongoing"], true, 3_600_000, None))
        .step(ApiKey::ListTransactions, 2, |c, v| list(c, v, &["Ongoing"], true, -1, Some("dta-1")))
        .step(ApiKey::DescribeProducers, 0, |_, _| {
            describe_producers(&[
                (TOPIC, &[0, 1, 7]),
                ("dta-no-such-topic", &[0]),
                ("dta bad name", &[0]),
            ])
        })
        .step(ApiKey::EndTxn, 3, |c, _| {
            EndTxnRequest::default()
                .with_transactional_id(TransactionalId(s(TID)))
                .with_producer_id(ProducerId(c.producer_id))
                .with_producer_epoch(c.producer_epoch)
                .with_committed(true)
                .into()
        })
        // Kafka writes the markers, then completes the transaction, after it answers.
        .until(
            ApiKey::ListOffsets,
            7,
            |_, _| {
                ListOffsetsRequest::default()
                    .with_replica_id(BrokerId(-1))
                    .with_isolation_level(1)
                    .with_topics(vec![ListOffsetsTopic::default()
                        .with_name(TopicName(s(TOPIC)))
                        .with_partitions(vec![ListOffsetsPartition::default()
                            .with_partition_index(0)
                            .with_timestamp(-1)])])
                    .into()
            },
            |r| matches!(r, ResponseKind::ListOffsets(r) if r.topics[0].partitions[0].offset == 3),
        )
        .until(ApiKey::DescribeTransactions, 0, |_, _| describe(&[TID]), state_is("CompleteCommit"))
        .step(ApiKey::DescribeTransactions, 0, |_, _| describe(&[TID]))
        .step(ApiKey::ListTransactions, 0, |c, v| list(c, v, &["CompleteCommit"], true, -1, None))
        .step(ApiKey::DescribeProducers, 0, |_, _| describe_producers(&[(TOPIC, &[0, 1])]));
    vec![sc]
}
