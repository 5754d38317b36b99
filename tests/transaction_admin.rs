//! The transaction operator APIs over the wire against the real binary, every advertised
//! version encoded and decoded by kafka-protocol (an independent codec): DescribeProducers
//! (v0) from each partition's producer state, DescribeTransactions (v0) and ListTransactions
//! (v0-2, with state, producer id, duration and pattern filters) from the coordinator; and
//! truncated, mutated and random bodies of the three, answered or closed, never fatal.

mod common;

use common::*;
use kafka_protocol::messages::{
    add_partitions_to_txn_request::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic},
    describe_producers_request::TopicRequest,
    describe_producers_response::PartitionResponse,
    describe_transactions_response::TransactionState,
    DescribeProducersRequest, DescribeTransactionsRequest, EndTxnRequest, InitProducerIdRequest,
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const INVALID_TOPIC_EXCEPTION: i16 = 17;
const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;
const INVALID_REGULAR_EXPRESSION: i16 = 128;

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// InitProducerId v4: (producer id, epoch); `tid` None for an idempotent producer.
fn init(c: &mut Client, tid: Option<&str>) -> (i64, i16) {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(tid.map(|t| TransactionalId(sb(t))))
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let r = c.kp_call(4, &req);
    assert_eq!(r.error_code, NONE);
    (r.producer_id.0, r.producer_epoch)
}

fn add(c: &mut Client, tid: &str, pid: i64, epoch: i16, parts: &[(&str, i32)]) {
    let topics = parts
        .iter()
        .map(|&(t, p)| {
            AddPartitionsToTxnTopic::default().with_name(TopicName(sb(t))).with_partitions(vec![p])
        })
        .collect();
    let req = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(sb(tid)))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(topics);
    let r = c.kp_call(3, &req);
    for t in &r.results_by_topic_v3_and_below {
        assert!(t.results_by_partition.iter().all(|p| p.partition_error_code == NONE), "{r:?}");
    }
}

fn end(c: &mut Client, tid: &str, pid: i64, epoch: i16, commit: bool) {
    let req = EndTxnRequest::default()
        .with_transactional_id(TransactionalId(sb(tid)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    assert_eq!(c.kp_call(4, &req).error_code, NONE);
}

fn describe(c: &mut Client, ids: &[&str]) -> Vec<TransactionState> {
    let req = DescribeTransactionsRequest::default()
        .with_transactional_ids(ids.iter().map(|t| TransactionalId(sb(t))).collect());
    let r = c.kp_call(0, &req);
    assert_eq!(r.throttle_time_ms, 0);
    r.transaction_states
}

fn list(
    c: &mut Client,
    v: i16,
    states: &[&str],
    pids: &[i64],
    duration: i64,
    pattern: Option<&str>,
) -> ListTransactionsResponse {
    let mut req = ListTransactionsRequest::default()
        .with_state_filters(states.iter().map(|s| sb(s)).collect())
        .with_producer_id_filters(pids.iter().map(|&p| ProducerId(p)).collect());
    if v >= 1 {
        req = req.with_duration_filter(duration);
    }
    if v >= 2 {
        req = req.with_transactional_id_pattern(pattern.map(sb));
    }
    c.kp_call(v, &req)
}

/// (transactional id, producer id, state) of each listed transaction, sorted by id.
fn listed(r: &ListTransactionsResponse) -> Vec<(String, i64, String)> {
    assert_eq!(r.error_code, NONE);
    let mut out: Vec<_> = r
        .transaction_states
        .iter()
        .map(|t| {
            (t.transactional_id.0.to_string(), t.producer_id.0, t.transaction_state.to_string())
        })
        .collect();
    out.sort();
    out
}

fn topics_of(s: &TransactionState) -> Vec<(String, Vec<i32>)> {
    s.topics.iter().map(|t| (t.topic.0.to_string(), t.partitions.clone())).collect()
}

#[test]
fn describe_and_list_transactions() {
    let dir = TempDir::new("txn-admin");
    make_log_dir(dir.path(), &[("a", 2), ("b", 1)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    for v in 0..=2 {
        assert_eq!(listed(&list(&mut c, v, &[], &[], -1, None)), [], "v{v}: nothing yet");
    }
    let (p1, e1) = init(&mut c, Some("t1"));
    let (p2, _) = init(&mut c, Some("t2"));

    let d = describe(&mut c, &["t1", "nobody"]);
    assert_eq!(d.len(), 2);
    assert_eq!((d[0].error_code, d[0].transactional_id.0.as_str()), (NONE, "t1"));
    assert_eq!((d[0].transaction_state.as_str(), d[0].transaction_timeout_ms), ("Empty", 60_000));
    assert_eq!(
        (d[0].transaction_start_time_ms, d[0].producer_id.0, d[0].producer_epoch),
        (-1, p1, e1)
    );
    assert!(d[0].topics.is_empty());
    // Kafka leaves the other fields at their defaults for an unknown id.
    assert_eq!(
        (d[1].error_code, d[1].transactional_id.0.as_str()),
        (TRANSACTIONAL_ID_NOT_FOUND, "nobody")
    );
    assert_eq!(
        (d[1].transaction_state.as_str(), d[1].producer_id.0, d[1].transaction_start_time_ms),
        ("", 0, 0)
    );
    assert!(describe(&mut c, &[]).is_empty());

    let before = now_ms();
    add(&mut c, "t1", p1, e1, &[("b", 0), ("a", 1)]);
    add(&mut c, "t1", p1, e1, &[("a", 0)]);
    let d = describe(&mut c, &["t1"]);
    assert_eq!(d[0].transaction_state.as_str(), "Ongoing");
    let started = d[0].transaction_start_time_ms;
    assert!((before..=now_ms()).contains(&started), "{started} not in [{before}, now]");
    assert_eq!(topics_of(&d[0]), [("a".to_string(), vec![0, 1]), ("b".to_string(), vec![0])]);

    let both = [
        ("t1".to_string(), p1, "Ongoing".to_string()),
        ("t2".to_string(), p2, "Empty".to_string()),
    ];
    for v in 0..=2 {
        assert_eq!(listed(&list(&mut c, v, &[], &[], -1, None)), both, "v{v}");
        let r = list(&mut c, v, &["Ongoing", "Bogus", "Ongoing", "PrepareCommit"], &[], -1, None);
        assert_eq!(r.unknown_state_filters, [sb("Bogus")], "v{v}: each unknown name once");
        assert_eq!(listed(&r), both[..1], "v{v}");
        // Only unknown names: nothing matches.
        let r = list(&mut c, v, &["ongoing"], &[], -1, None);
        assert_eq!((listed(&r), r.unknown_state_filters), (vec![], vec![sb("ongoing")]), "v{v}");
        assert_eq!(listed(&list(&mut c, v, &[], &[p2, 12345], -1, None)), both[1..], "v{v}");
        assert_eq!(listed(&list(&mut c, v, &["Empty"], &[p1], -1, None)), [], "v{v}");
    }
    for v in 1..=2 {
        // t2 has no transaction: its start is -1, as long ago as can be.
        assert_eq!(listed(&list(&mut c, v, &[], &[], 3_600_000, None)), both[1..], "v{v}");
        assert!(listed(&list(&mut c, v, &[], &[], 0, None)).contains(&both[1]), "v{v}");
    }
    for (pattern, want) in [
        (Some("t[0-9]"), &both[..]),
        (Some("t1"), &both[..1]),
        (Some("t"), &[][..]),
        (Some(".*2"), &both[1..]),
        (Some(""), &both[..]),
        (None, &both[..]),
    ] {
        assert_eq!(listed(&list(&mut c, 2, &[], &[], -1, pattern)), want, "{pattern:?}");
    }
    let r = list(&mut c, 2, &["Bogus"], &[], -1, Some("t("));
    assert_eq!(r.error_code, INVALID_REGULAR_EXPRESSION);
    assert!(r.transaction_states.is_empty() && r.unknown_state_filters.is_empty());

    end(&mut c, "t1", p1, e1, true);
    let d = describe(&mut c, &["t1"]);
    assert_eq!(
        (d[0].transaction_state.as_str(), d[0].transaction_start_time_ms),
        ("CompleteCommit", started)
    );
    assert!(d[0].topics.is_empty());
    assert_eq!(listed(&list(&mut c, 0, &["CompleteCommit"], &[], -1, None)).len(), 1);
    // A new InitProducerId: a new epoch, no transaction.
    init(&mut c, Some("t1"));
    let d = describe(&mut c, &["t1"]);
    assert_eq!((d[0].transaction_state.as_str(), d[0].transaction_start_time_ms), ("Empty", -1));
    assert_eq!(d[0].producer_epoch, e1 + 1);
}

fn describe_producers(
    c: &mut Client,
    topics: &[(&str, &[i32])],
) -> Vec<(String, PartitionResponse)> {
    let req = DescribeProducersRequest::default().with_topics(
        topics
            .iter()
            .map(|&(t, ps)| {
                TopicRequest::default()
                    .with_name(TopicName(sb(t)))
                    .with_partition_indexes(ps.to_vec())
            })
            .collect(),
    );
    let r = c.kp_call(0, &req);
    let mut out = Vec::new();
    for t in r.topics {
        for p in t.partitions {
            out.push((t.name.0.to_string(), p));
        }
    }
    out
}

/// (producer id, epoch, last sequence, last timestamp, coordinator epoch, txn start offset).
fn producers_of(p: &PartitionResponse) -> Vec<(i64, i32, i32, i64, i32, i64)> {
    assert_eq!((p.error_code, &p.error_message), (NONE, &None));
    p.active_producers
        .iter()
        .map(|s| {
            let s = s.clone();
            (
                s.producer_id.0,
                s.producer_epoch,
                s.last_sequence,
                s.last_timestamp,
                s.coordinator_epoch,
                s.current_txn_start_offset,
            )
        })
        .collect()
}

fn batch(pid: i64, epoch: i16, seq: i32, n: usize, ts: i64, transactional: bool) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts).producer(pid, epoch, seq);
    if transactional {
        b = b.transactional();
    }
    for i in 0..n {
        b.push(None, Some(format!("v{i}").as_bytes()), &[]);
    }
    b.finish()
}

fn produce1(c: &mut Client, topic: &str, p: i32, batch: Vec<u8>) -> i64 {
    let resp = c.produce(&[(topic, vec![(p, Some(batch))])]);
    let r = resp.partition(topic, p);
    assert_eq!(r.error_code, NONE);
    r.base_offset
}

/// A transactional batch goes with its transactional id, which Kafka requires of it.
fn produce_txn(c: &mut Client, tid: &str, topic: &str, p: i32, batch: Vec<u8>) -> i64 {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ProduceRequest, TopicName, TransactionalId};
    let s = |v: &str| kafka_protocol::protocol::StrBytes::from_string(v.to_string());
    let data = PartitionProduceData::default().with_index(p).with_records(Some(batch.into()));
    let req = ProduceRequest::default()
        .with_transactional_id(Some(TransactionalId(s(tid))))
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(s(topic)))
            .with_partition_data(vec![data])]);
    let r = c.kp_call(9, &req);
    let x = &r.responses[0].partition_responses[0];
    assert_eq!(x.error_code, NONE);
    x.base_offset
}

#[test]
fn describe_producers_from_the_partition_state() {
    let dir = TempDir::new("txn-admin-producers");
    make_log_dir(dir.path(), &[("a", 2)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let ts = now_ms() - 1000;
    let (idem, _) = init(&mut c, None);
    produce1(&mut c, "a", 0, batch(idem, 0, 0, 3, ts, false));
    produce1(&mut c, "a", 0, batch(idem, 0, 3, 1, ts + 5, false));
    let r =
        describe_producers(&mut c, &[("a", &[0, 1, 5]), ("nosuch", &[0]), ("bad name!", &[0, 1])]);
    assert_eq!(r.len(), 6);
    assert_eq!(producers_of(&r[0].1), [(idem, 0, 3, ts + 5, -1, -1)]);
    assert_eq!(producers_of(&r[1].1), []);
    assert_eq!(
        (r[2].1.partition_index, r[2].1.error_code, &r[2].1.error_message),
        (5, UNKNOWN_TOPIC_OR_PARTITION, &None)
    );
    assert_eq!((r[3].0.as_str(), r[3].1.error_code), ("nosuch", UNKNOWN_TOPIC_OR_PARTITION));
    assert_eq!(
        r[3].1.error_message.as_ref().map(|m| m.to_string()).as_deref(),
        Some("This server does not host this topic-partition.")
    );
    for (name, p) in &r[4..] {
        assert_eq!((name.as_str(), p.error_code), ("bad name!", INVALID_TOPIC_EXCEPTION));
        assert!(p.error_message.is_some() && p.active_producers.is_empty());
    }

    // A transaction open on a-1 from offset 0, then committed: the marker names the
    // coordinator's epoch and is the producer's last write there.
    let (pid, epoch) = init(&mut c, Some("tp"));
    add(&mut c, "tp", pid, epoch, &[("a", 1)]);
    assert_eq!(produce_txn(&mut c, "tp", "a", 1, batch(pid, epoch, 0, 2, ts, true)), 0);
    let r = describe_producers(&mut c, &[("a", &[1])]);
    assert_eq!(producers_of(&r[0].1), [(pid, i32::from(epoch), 1, ts, -1, 0)]);
    let before = now_ms();
    end(&mut c, "tp", pid, epoch, true);
    let r = describe_producers(&mut c, &[("a", &[1])]);
    let [(id, e, seq, last_ts, coordinator_epoch, start)] = producers_of(&r[0].1)[..] else {
        panic!("one producer: {r:?}")
    };
    assert_eq!((id, e, seq, coordinator_epoch, start), (pid, i32::from(epoch), 1, 0, -1));
    assert!((before..=now_ms()).contains(&last_ts), "the marker's time: {last_ts}");

    // A clean restart keeps it all (Kafka's producer snapshot).
    let want: Vec<_> = describe_producers(&mut c, &[("a", &[0, 1])])
        .into_iter()
        .map(|(_, p)| producers_of(&p))
        .collect();
    drop(c);
    b.stop();
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let got: Vec<_> = describe_producers(&mut c, &[("a", &[0, 1])])
        .into_iter()
        .map(|(_, p)| producers_of(&p))
        .collect();
    assert_eq!(got, want);
}

/// Truncated, mutated and random bodies of the three APIs: each gets an answer or a closed
/// connection, and the broker keeps serving.
#[test]
fn bad_requests_never_kill_the_broker() {
    use kafka_protocol::protocol::Encodable;
    let dir = TempDir::new("txn-admin-fuzz");
    make_log_dir(dir.path(), &[("fz", 1)]);
    let mut b = Broker::start(dir.path());
    {
        let mut c = b.connect();
        init(&mut c, Some("fz-id"));
    }
    let encode = |m: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        m(&mut v);
        v
    };
    let seeds: [(i16, i16, Vec<u8>); 3] = [
        (
            61,
            0,
            encode(&|v| {
                DescribeProducersRequest::default()
                    .with_topics(vec![TopicRequest::default()
                        .with_name(TopicName(sb("fz")))
                        .with_partition_indexes(vec![0, 1])])
                    .encode(v, 0)
                    .unwrap()
            }),
        ),
        (
            65,
            0,
            encode(&|v| {
                DescribeTransactionsRequest::default()
                    .with_transactional_ids(vec![TransactionalId(sb("fz-id"))])
                    .encode(v, 0)
                    .unwrap()
            }),
        ),
        (
            66,
            2,
            encode(&|v| {
                ListTransactionsRequest::default()
                    .with_state_filters(vec![sb("Empty")])
                    .with_duration_filter(0)
                    .with_transactional_id_pattern(Some(sb("((f|fz)*-*)*id")))
                    .encode(v, 2)
                    .unwrap()
            }),
        ),
    ];
    let mut rng = Rng::new(0x7a_0be);
    let (mut answered, mut closed) = (0, 0);
    for round in 0..90 {
        let (key, version, seed) = &seeds[round as usize % 3];
        let mut body = seed.clone();
        match rng.below(3) {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(body.len() as u64) as usize;
                    body[at] = rng.next() as u8;
                }
            }
            1 => body.truncate(rng.below(body.len() as u64) as usize),
            _ => {
                let n = rng.below(64) as usize;
                body = rng.bytes(n);
            }
        }
        let mut c = b.connect();
        c.send_raw(&frame(*key, *version, round, &body));
        match c.recv_frame_or_close() {
            Some(payload) => {
                answered += 1;
                assert_eq!(i32::from_be_bytes(payload[..4].try_into().unwrap()), round);
            }
            None => closed += 1,
        }
        b.assert_running();
    }
    assert!(answered > 5 && closed > 5, "answered {answered}, closed {closed}");
    // Still answering properly.
    let mut c = b.connect();
    assert_eq!(describe(&mut c, &["fz-id"])[0].transaction_state.as_str(), "Empty");
}
