//! The transaction coordinator's state in `__transaction_state` against the real binary:
//! what a clean stop or a kill -9 leaves (the producer id and epoch kept, an open transaction
//! aborted by the producer's re-init or by its timeout, a commit acknowledged before the kill
//! still committed), transactions aborted by the broker on timeout and their producer
//! fenced, and the records' bytes read with Kafka's TransactionLogKey/TransactionLogValue
//! schemas.

mod common;

use common::*;
use kafka_protocol::messages::{
    add_offsets_to_txn_request::AddOffsetsToTxnRequest,
    add_partitions_to_txn_request::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic},
    end_txn_request::EndTxnRequest,
    list_offsets_request as loq, offset_fetch_request as ofq, txn_offset_commit_request as tocq,
    FindCoordinatorRequest, GroupId, InitProducerIdRequest, ListOffsetsRequest, OffsetFetchRequest,
    ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::protocol::StrBytes;
use minikafka::records::{batches as log_batches, Records};
use std::time::{Duration, Instant};

const INVALID_PRODUCER_EPOCH: i16 = 47;
const CONCURRENT_TRANSACTIONS: i16 = 51;
const PRODUCER_FENCED: i16 = 90;
const UNSTABLE_OFFSET_COMMIT: i16 = 88;
const TOPIC: &str = "__transaction_state";

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn init(c: &mut Client, tid: &str, timeout_ms: i32) -> (i16, i64, i16) {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(sb(tid))))
        .with_transaction_timeout_ms(timeout_ms);
    let r = c.kp_call(4, &req);
    (r.error_code, r.producer_id.0, r.producer_epoch)
}

fn add(c: &mut Client, v: i16, tid: &str, pid: i64, epoch: i16, topic: &str) -> i16 {
    let t =
        AddPartitionsToTxnTopic::default().with_name(TopicName(sb(topic))).with_partitions(vec![0]);
    let req = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(sb(tid)))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![t]);
    let r = c.kp_call(v, &req);
    r.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code
}

fn end(c: &mut Client, v: i16, tid: &str, pid: i64, epoch: i16, commit: bool) -> i16 {
    let req = EndTxnRequest::default()
        .with_transactional_id(TransactionalId(sb(tid)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    c.kp_call(v, &req).error_code
}

fn tbatch(pid: i64, epoch: i16, seq: i32, n: usize, tag: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let mut b =
        BatchBuilder::new(0, now.as_millis() as i64).producer(pid, epoch, seq).transactional();
    for i in 0..n {
        b.push(None, Some(format!("{tag}-{i}").as_bytes()), &[]);
    }
    b.finish()
}

/// A transactional batch to `topic`-0, sent with its transactional id as Kafka requires.
fn produce1(c: &mut Client, tid: &str, topic: &str, batch: &[u8]) -> (i16, i64) {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ProduceRequest, TopicName};
    let data =
        PartitionProduceData::default().with_index(0).with_records(Some(batch.to_vec().into()));
    let req = ProduceRequest::default()
        .with_transactional_id(Some(TransactionalId(sb(tid))))
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(sb(topic)))
            .with_partition_data(vec![data])]);
    let r = c.kp_call(9, &req);
    let x = &r.responses[0].partition_responses[0];
    (x.error_code, x.base_offset)
}

/// The latest offset of `topic`-0: the last stable offset when `committed`.
fn latest(c: &mut Client, topic: &str, committed: bool) -> i64 {
    let req =
        ListOffsetsRequest::default().with_isolation_level(i8::from(committed)).with_topics(vec![
            loq::ListOffsetsTopic::default().with_name(TopicName(sb(topic))).with_partitions(vec![
                loq::ListOffsetsPartition::default().with_partition_index(0).with_timestamp(-1),
            ]),
        ]);
    c.kp_call(7, &req).topics[0].partitions[0].offset
}

fn fetch_committed(c: &mut Client, id: [u8; 16]) -> FetchPartitionResp {
    let mut req = FetchReq::default().topic(id, vec![fp(0, 0)]);
    req.isolation_level = 1;
    req.max_wait_ms = 0;
    c.fetch(&req).responses[0].partitions[0].clone()
}

/// Values of the batches in `records` that are not control batches.
fn data_values(records: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for b in log_batches(records) {
        let (h, batch) = b.unwrap();
        if h.is_control() {
            continue;
        }
        for rec in Records::new(batch).unwrap() {
            out.push(rec.unwrap().value.unwrap().to_vec());
        }
    }
    out
}

/// Java's `abs(String.hashCode()) % n`, written out here independently of the broker.
fn kafka_partition(id: &str, n: i32) -> i32 {
    let h = id.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    if h == i32::MIN {
        0
    } else {
        h.abs() % n
    }
}

/// A `TransactionLogValue` v0 read field by field as Kafka's schema lays it out.
#[derive(Debug, PartialEq)]
struct LogValue {
    producer_id: i64,
    producer_epoch: i16,
    timeout_ms: i32,
    status: i8,
    /// `None`: the nullable partition list is null.
    partitions: Option<Vec<(String, Vec<i32>)>>,
    last_update_ms: i64,
    start_ms: i64,
    /// The value's version (0 classic, 1 flexible) and, in v1, its tag 2.
    version: i16,
    client_transaction_version: i16,
}

struct Cur<'a>(&'a [u8]);

impl Cur<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let (a, rest) = self.0.split_at(N);
        self.0 = rest;
        a.try_into().unwrap()
    }
    fn i16(&mut self) -> i16 {
        i16::from_be_bytes(self.take())
    }
    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take())
    }
    fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.take())
    }
    fn uvarint(&mut self) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let [b] = self.take::<1>();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    fn string(&mut self) -> String {
        let n = self.i16() as usize;
        self.str(n)
    }
    fn str(&mut self, n: usize) -> String {
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8(s.to_vec()).unwrap()
    }
    /// A length: classic (int32/int16, -1 null) or compact (unsigned varint, length + 1).
    fn len(&mut self, flexible: bool, short: bool) -> Option<usize> {
        let n = match (flexible, short) {
            (true, _) => self.uvarint() as i64 - 1,
            (false, true) => i64::from(self.i16()),
            (false, false) => i64::from(self.i32()),
        };
        (n >= 0).then_some(n as usize)
    }
    /// A tagged-field section: (tag, bytes) in order.
    fn tags(&mut self) -> Vec<(u64, Vec<u8>)> {
        (0..self.uvarint())
            .map(|_| {
                let tag = self.uvarint();
                let n = self.uvarint() as usize;
                let (b, rest) = self.0.split_at(n);
                self.0 = rest;
                (tag, b.to_vec())
            })
            .collect()
    }
}

/// Every (transactional id, value) record of `__transaction_state` partition `p`, in order.
fn state_records(dir: &std::path::Path, p: i32) -> Vec<(String, LogValue)> {
    let bytes = read_log(dir, TOPIC, p);
    let mut out = Vec::new();
    for b in log_batches(&bytes) {
        let (h, batch) = b.unwrap();
        assert!(!h.is_control() && !h.is_transactional() && h.compression() == 0);
        for rec in Records::new(batch).unwrap() {
            let rec = rec.unwrap();
            let mut k = Cur(rec.key.unwrap());
            assert_eq!(k.i16(), 0, "coordinator record type TRANSACTION_LOG");
            let id = k.string();
            assert!(k.0.is_empty());
            let mut v = Cur(rec.value.unwrap());
            let version = v.i16();
            assert!(version == 0 || version == 1, "value version {version}");
            let flex = version == 1;
            let producer_id = v.i64();
            let producer_epoch = v.i16();
            let timeout_ms = v.i32();
            let status = v.take::<1>()[0] as i8;
            let partitions = v.len(flex, false).map(|n| {
                (0..n)
                    .map(|_| {
                        let n = v.len(flex, true).unwrap();
                        let t = v.str(n);
                        let m = v.len(flex, false).unwrap();
                        let ps = (0..m).map(|_| v.i32()).collect();
                        if flex {
                            assert!(v.tags().is_empty());
                        }
                        (t, ps)
                    })
                    .collect()
            });
            let last_update_ms = v.i64();
            let start_ms = v.i64();
            let mut client_transaction_version = 0;
            if flex {
                for (tag, b) in v.tags() {
                    // Tags 0 and 1 (previous and next producer ids) are int64s; 2 an int16.
                    match tag {
                        0 | 1 => assert_eq!(b.len(), 8),
                        2 => client_transaction_version = i16::from_be_bytes([b[0], b[1]]),
                        t => panic!("tag {t} is not in TransactionLogValue v1"),
                    }
                }
            }
            assert!(v.0.is_empty(), "nothing after the schema's fields");
            out.push((
                id,
                LogValue {
                    producer_id,
                    producer_epoch,
                    timeout_ms,
                    status,
                    partitions,
                    last_update_ms,
                    start_ms,
                    version,
                    client_transaction_version,
                },
            ));
        }
    }
    out
}

fn restart(b: Broker, dir: &std::path::Path, kill: bool, overrides: &[&str]) -> Broker {
    if kill {
        b.kill();
    } else {
        assert!(b.stop().success());
    }
    Broker::start_with(dir, overrides)
}

/// Every state change is in `__transaction_state` before its answer, in Kafka's format and
/// partition: Empty, Ongoing with its partitions, PrepareCommit then CompleteCommit around
/// the markers.
#[test]
fn state_records_decode_with_kafkas_schema() {
    let dir = TempDir::new("txnlog-bytes");
    make_log_dir(dir.path(), &[("a", 1), ("b", 1)]);
    let b = Broker::start_with(dir.path(), &["transaction.state.log.num.partitions=7"]);
    let mut c = b.connect();
    // As Kafka, the first FindCoordinator for a transactional id creates the topic.
    assert!(!dir.path().join("__transaction_state-0").exists());
    let find = FindCoordinatorRequest::default()
        .with_key_type(1)
        .with_coordinator_keys(vec![sb("my-txn")]);
    assert_eq!(c.kp_call(4, &find).coordinators[0].error_code, NONE);
    for q in 0..7 {
        assert!(dir.path().join(format!("{TOPIC}-{q}")).is_dir(), "partition {q}");
    }
    assert!(!dir.path().join(format!("{TOPIC}-7")).exists());
    let (_, pid, e) = init(&mut c, "my-txn", 45_000);
    assert_eq!(add(&mut c, 3, "my-txn", pid, e, "a"), NONE);
    assert_eq!(add(&mut c, 3, "my-txn", pid, e, "a"), NONE, "nothing new: nothing written");
    assert_eq!(add(&mut c, 3, "my-txn", pid, e, "b"), NONE);
    assert_eq!(end(&mut c, 3, "my-txn", pid, e, true), NONE);
    let p = kafka_partition("my-txn", 7);
    let recs = state_records(dir.path(), p);
    for q in (0..7).filter(|&q| q != p) {
        assert!(read_log(dir.path(), TOPIC, q).is_empty(), "partition {q} stays empty");
    }
    assert!(recs.iter().all(|(id, v)| id == "my-txn"
        && (v.producer_id, v.producer_epoch, v.timeout_ms) == (pid, e, 45_000)));
    assert!(recs.iter().all(|(_, v)| v.version == 0), "no transaction.version finalized: v0");
    let states: Vec<i8> = recs.iter().map(|(_, v)| v.status).collect();
    // Empty, Ongoing (a), Ongoing (a, b), PrepareCommit, CompleteCommit.
    assert_eq!(states, [0, 1, 1, 2, 4]);
    let v: Vec<&LogValue> = recs.iter().map(|(_, v)| v).collect();
    assert_eq!(v[0].partitions, None, "Empty writes a null partition list");
    assert_eq!(v[0].start_ms, -1);
    assert_eq!(v[1].partitions, Some(vec![("a".into(), vec![0])]));
    let both = Some(vec![("a".into(), vec![0]), ("b".into(), vec![0])]);
    assert_eq!(v[2].partitions, both);
    assert_eq!(v[3].partitions, both, "PrepareCommit names the partitions to mark");
    assert_eq!(v[4].partitions, Some(vec![]));
    assert!(v[1].start_ms > 0 && v[1].start_ms <= v[1].last_update_ms);
    assert_eq!(v[2].start_ms, v[1].start_ms, "the transaction began with its first partition");
    // The topic is created as Kafka's coordinator creates it.
    let meta = std::fs::read(dir.path().join("__cluster_metadata-0/00000000000000000000.log"));
    let meta = meta.unwrap();
    for needle in [&b"cleanup.policy"[..], b"compact", b"uncompressed", b"104857600"] {
        assert!(meta.windows(needle.len()).any(|w| w == needle));
    }
}

/// A clean stop or a kill -9 with one transaction committed and the next one open: after the
/// restart the coordinator knows the producer (a re-init bumps its epoch, after aborting the
/// open transaction first), the last stable offset moves past the aborted records, which
/// read_committed never returns, and the committed ones stay.
#[test]
fn restart_keeps_producer_and_the_open_transaction_is_aborted_on_reinit() {
    for kill in [false, true] {
        let dir = TempDir::new("txnlog-restart");
        let ids = make_log_dir(dir.path(), &[("a", 1)]);
        let b = Broker::start(dir.path());
        let mut c = b.connect();
        let (_, pid, e) = init(&mut c, "t", 60_000);
        assert_eq!(add(&mut c, 3, "t", pid, e, "a"), NONE);
        assert_eq!(produce1(&mut c, "t", "a", &tbatch(pid, e, 0, 2, "c")), (NONE, 0));
        assert_eq!(end(&mut c, 3, "t", pid, e, true), NONE);
        assert_eq!(add(&mut c, 3, "t", pid, e, "a"), NONE);
        assert_eq!(produce1(&mut c, "t", "a", &tbatch(pid, e, 2, 1, "open")), (NONE, 3));
        drop(c);
        let b = restart(b, dir.path(), kill, &[]);
        let mut c = b.connect();
        assert_eq!(latest(&mut c, "a", true), 3, "kill={kill}: the open transaction holds the LSO");
        // The first re-init aborts the open transaction with a bumped epoch.
        assert_eq!(init(&mut c, "t", 60_000), (CONCURRENT_TRANSACTIONS, -1, -1), "kill={kill}");
        assert_eq!(init(&mut c, "t", 60_000), (NONE, pid, e + 2), "kill={kill}");
        assert_eq!(latest(&mut c, "a", true), 5, "kill={kill}: abort marker at 4");
        let f = fetch_committed(&mut c, ids[0]);
        assert_eq!(f.aborted_transactions, Some(vec![(pid, 3)]));
        let values = data_values(f.records());
        assert!(values.iter().any(|v| v == b"c-1"));
        // What the client filters out with the aborted list: only the open transaction.
        assert_eq!(values.len(), 3);
        drop(c);
        // The abort and the new epoch survive a second restart.
        let b = restart(b, dir.path(), kill, &[]);
        let mut c = b.connect();
        assert_eq!(latest(&mut c, "a", true), 5);
        assert_eq!(init(&mut c, "t", 60_000), (NONE, pid, e + 3), "kill={kill}");
        drop(b);
    }
}

/// A commit answered before a kill -9 is committed after the restart.
#[test]
fn a_commit_acknowledged_before_a_kill_stays_committed() {
    let dir = TempDir::new("txnlog-commit-kill");
    let ids = make_log_dir(dir.path(), &[("a", 1)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, "k", 60_000);
    assert_eq!(add(&mut c, 3, "k", pid, e, "a"), NONE);
    assert_eq!(produce1(&mut c, "k", "a", &tbatch(pid, e, 0, 3, "kept")), (NONE, 0));
    assert_eq!(end(&mut c, 3, "k", pid, e, true), NONE);
    drop(c);
    b.kill();
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    assert_eq!(latest(&mut c, "a", true), 4);
    let f = fetch_committed(&mut c, ids[0]);
    assert_eq!(f.aborted_transactions.clone().unwrap_or_default(), vec![]);
    assert_eq!(data_values(f.records()), [b"kept-0", b"kept-1", b"kept-2"]);
    // Nothing left to abort: the re-init is answered at once.
    assert_eq!(init(&mut c, "k", 60_000), (NONE, pid, e + 1));
    // The retried commit of the old epoch is fenced.
    assert_eq!(end(&mut c, 3, "k", pid, e, true), PRODUCER_FENCED);
}

/// An open transaction past its timeout is aborted by the broker: the epoch bumped, the
/// markers written, the last stable offset moved on; the producer is fenced on its next
/// request (PRODUCER_FENCED from v2 of EndTxn, INVALID_PRODUCER_EPOCH before). The same
/// happens to a transaction a kill -9 left open, once the broker is back.
#[test]
fn timed_out_transactions_are_aborted_and_their_producer_fenced() {
    let dir = TempDir::new("txnlog-timeout");
    let ids = make_log_dir(dir.path(), &[("a", 1)]);
    let fast = ["transaction.abort.timed.out.transaction.cleanup.interval.ms=100"];
    let b = Broker::start_with(dir.path(), &fast);
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, "slow", 1000);
    assert_eq!(add(&mut c, 3, "slow", pid, e, "a"), NONE);
    assert_eq!(produce1(&mut c, "slow", "a", &tbatch(pid, e, 0, 2, "late")), (NONE, 0));
    assert_eq!(latest(&mut c, "a", true), 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while latest(&mut c, "a", true) != 3 {
        assert!(Instant::now() < deadline, "the timed-out transaction was never aborted");
        std::thread::yield_now();
    }
    let f = fetch_committed(&mut c, ids[0]);
    assert_eq!(f.aborted_transactions, Some(vec![(pid, 0)]));
    assert_eq!(end(&mut c, 3, "slow", pid, e, true), PRODUCER_FENCED);
    assert_eq!(end(&mut c, 1, "slow", pid, e, true), INVALID_PRODUCER_EPOCH);
    assert_eq!(add(&mut c, 3, "slow", pid, e, "a"), PRODUCER_FENCED);
    let (code, _) = produce1(&mut c, "slow", "a", &tbatch(pid, e, 2, 1, "zombie"));
    assert_ne!(code, NONE, "the fenced producer cannot write");
    // The new producer of the id starts past the abort's epoch.
    assert_eq!(init(&mut c, "slow", 1000), (NONE, pid, e + 2));

    // Open, then killed: back up, the broker aborts it on its own.
    assert_eq!(add(&mut c, 3, "slow", pid, e + 2, "a"), NONE);
    let (code, at) = produce1(&mut c, "slow", "a", &tbatch(pid, e + 2, 0, 1, "cut"));
    assert_eq!(code, NONE);
    drop(c);
    b.kill();
    let b = Broker::start_with(dir.path(), &fast);
    let mut c = b.connect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while latest(&mut c, "a", true) != at + 2 {
        assert!(Instant::now() < deadline, "the transaction cut by the kill was never aborted");
        std::thread::yield_now();
    }
    assert_eq!(end(&mut c, 3, "slow", pid, e + 2, true), PRODUCER_FENCED);
    let (_, _, epoch) = init(&mut c, "slow", 1000);
    assert_eq!(epoch, e + 4);
}

/// A crash between the PrepareCommit record and the markers (made here by appending the
/// record by hand, in Kafka's bytes, to a killed broker's log): the next start-up writes the
/// markers and CompleteCommit, so the transaction is committed.
#[test]
fn a_transaction_found_prepared_at_start_up_is_completed() {
    let dir = TempDir::new("txnlog-prepared");
    let ids = make_log_dir(dir.path(), &[("a", 1)]);
    let b = Broker::start_with(dir.path(), &["transaction.state.log.num.partitions=1"]);
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, "p", 60_000);
    assert_eq!(add(&mut c, 3, "p", pid, e, "a"), NONE);
    assert_eq!(produce1(&mut c, "p", "a", &tbatch(pid, e, 0, 2, "p")), (NONE, 0));
    drop(c);
    b.kill();
    let before = state_records(dir.path(), 0);
    assert_eq!(before.iter().map(|(_, v)| v.status).collect::<Vec<_>>(), [0, 1]);
    let start = before[1].1.start_ms;
    let mut value = W::new();
    value.i16(0).i64(pid).i16(e).i32(60_000).raw(&[2]);
    value.i32(1).string("a").i32(1).i32(0).i64(start + 1).i64(start);
    let mut key = W::new();
    key.i16(0).string("p");
    let mut rec = BatchBuilder::new(2, start + 1).leader_epoch(0);
    rec.push(Some(&key.take()), Some(&value.take()), &[]);
    append_log(dir.path(), TOPIC, 0, &rec.finish());

    let b = Broker::start_with(dir.path(), &["transaction.state.log.num.partitions=1"]);
    let mut c = b.connect();
    assert_eq!(latest(&mut c, "a", true), 3, "the commit marker at 2");
    let f = fetch_committed(&mut c, ids[0]);
    assert_eq!(f.aborted_transactions.clone().unwrap_or_default(), vec![]);
    assert_eq!(data_values(f.records()), [b"p-0", b"p-1"]);
    let after = state_records(dir.path(), 0);
    let last = &after.last().unwrap().1;
    assert_eq!((after.len(), last.status, last.partitions.clone()), (4, 4, Some(vec![])));
    assert_eq!(init(&mut c, "p", 60_000), (NONE, pid, e + 1), "nothing left to abort");
}

/// Offsets a transaction committed to a group before a kill -9 are still the transaction's
/// after the restart: held back (require_stable answers UNSTABLE_OFFSET_COMMIT), the group's
/// once the same producer commits.
#[test]
fn transactional_offsets_pending_at_a_kill_are_the_groups_at_commit() {
    let dir = TempDir::new("txnlog-offsets");
    make_log_dir(dir.path(), &[("a", 1)]);
    let opts = ["offsets.topic.num.partitions=2"];
    let b = Broker::start_with(dir.path(), &opts);
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, "o", 60_000);
    let req = AddOffsetsToTxnRequest::default()
        .with_transactional_id(TransactionalId(sb("o")))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(e)
        .with_group_id(GroupId(sb("g")));
    assert_eq!(c.kp_call(3, &req).error_code, NONE);
    let part = tocq::TxnOffsetCommitRequestPartition::default()
        .with_partition_index(0)
        .with_committed_offset(42)
        .with_committed_leader_epoch(0);
    let req = TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(sb("o")))
        .with_group_id(GroupId(sb("g")))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(e)
        .with_generation_id(-1)
        .with_topics(vec![tocq::TxnOffsetCommitRequestTopic::default()
            .with_name(TopicName(sb("a")))
            .with_partitions(vec![part])]);
    assert_eq!(c.kp_call(3, &req).topics[0].partitions[0].error_code, NONE);
    drop(c);
    b.kill();
    let b = Broker::start_with(dir.path(), &opts);
    let mut c = b.connect();
    let fetched = |c: &mut Client, stable: bool| {
        let req = OffsetFetchRequest::default()
            .with_group_id(GroupId(sb("g")))
            .with_require_stable(stable)
            .with_topics(Some(vec![ofq::OffsetFetchRequestTopic::default()
                .with_name(TopicName(sb("a")))
                .with_partition_indexes(vec![0])]));
        let r = c.kp_call(7, &req);
        let p = &r.topics[0].partitions[0];
        (p.committed_offset, p.error_code)
    };
    assert_eq!(fetched(&mut c, true), (-1, UNSTABLE_OFFSET_COMMIT));
    assert_eq!(fetched(&mut c, false), (-1, NONE));
    assert_eq!(end(&mut c, 3, "o", pid, e, true), NONE);
    assert_eq!(fetched(&mut c, true), (42, NONE));
}

/// A read_committed fetch waiting for data past the last stable offset is answered when the
/// broker aborts the timed-out transaction that held it, not at the end of its wait.
#[test]
fn a_waiting_read_committed_fetch_is_answered_by_the_timeout_abort() {
    let dir = TempDir::new("txnlog-parked");
    let ids = make_log_dir(dir.path(), &[("a", 1)]);
    let b = Broker::start_with(
        dir.path(),
        &["transaction.abort.timed.out.transaction.cleanup.interval.ms=100"],
    );
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, "w", 1000);
    assert_eq!(add(&mut c, 3, "w", pid, e, "a"), NONE);
    assert_eq!(produce1(&mut c, "w", "a", &tbatch(pid, e, 0, 2, "w")), (NONE, 0));
    let max_wait = Duration::from_secs(60);
    let mut req = FetchReq::default().topic(ids[0], vec![fp(0, 0)]);
    req.isolation_level = 1;
    req.max_wait_ms = max_wait.as_millis() as i32;
    let asked = Instant::now();
    let f = c.fetch(&req).responses[0].partitions[0].clone();
    assert!(asked.elapsed() < max_wait, "answered by the abort, not by the end of the wait");
    assert_eq!((f.last_stable_offset, f.high_watermark), (3, 3));
    assert_eq!(f.aborted_transactions, Some(vec![(pid, 0)]));
}

/// A transactional id idle past `transactional.id.expiration.ms` is forgotten and gets a
/// tombstone (a null value under its key), so it stays forgotten after a restart; one with
/// a transaction ongoing is kept.
#[test]
fn idle_transactional_ids_expire() {
    let dir = TempDir::new("txnlog-expire");
    make_log_dir(dir.path(), &[("a", 1)]);
    let opts = [
        "transaction.state.log.num.partitions=1",
        "transactional.id.expiration.ms=300",
        "transaction.remove.expired.transaction.cleanup.interval.ms=100",
    ];
    let b = Broker::start_with(dir.path(), &opts);
    let mut c = b.connect();
    let (_, idle_pid, _) = init(&mut c, "idle", 60_000);
    let (_, busy_pid, busy_e) = init(&mut c, "busy", 60_000);
    assert_eq!(add(&mut c, 3, "busy", busy_pid, busy_e, "a"), NONE);
    let tombstones = |dir: &std::path::Path| {
        let mut ids = Vec::new();
        for bt in log_batches(&read_log(dir, TOPIC, 0)) {
            for rec in Records::new(bt.unwrap().1).unwrap() {
                let rec = rec.unwrap();
                if rec.value.is_none() {
                    let mut k = Cur(rec.key.unwrap());
                    assert_eq!(k.i16(), 0);
                    ids.push(k.string());
                }
            }
        }
        ids
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while tombstones(dir.path()).is_empty() {
        assert!(Instant::now() < deadline, "the idle id never expired");
        std::thread::yield_now();
    }
    assert_eq!(tombstones(dir.path()), ["idle"], "the ongoing transaction's id is kept");
    drop(c);
    assert!(b.stop().success());
    let b = Broker::start_with(dir.path(), &opts[..1]);
    let mut c = b.connect();
    let (code, pid, epoch) = init(&mut c, "idle", 60_000);
    assert_eq!((code, epoch), (NONE, 0));
    assert_ne!(pid, idle_pid, "a new producer id for the forgotten id");
    // The kept one still has its transaction, aborted by the re-init.
    assert_eq!(init(&mut c, "busy", 60_000).0, CONCURRENT_TRANSACTIONS);
}

/// InitProducerId on Kafka once it has loaded the transaction state: Kafka answers
/// COORDINATOR_LOAD_IN_PROGRESS (14) or NOT_COORDINATOR (16) while it loads the partitions,
/// and CONCURRENT_TRANSACTIONS while it aborts an open transaction.
fn init_on_kafka(kafka: &common::kafka::Kafka, tid: &str) -> (i64, i16) {
    let mut k = Client::connect(kafka.addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, pid, epoch) = init(&mut k, tid, 60_000);
        match code {
            NONE => return (pid, epoch),
            14 | 15 | 16 | CONCURRENT_TRANSACTIONS if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            _ => {
                panic!("Kafka answered InitProducerId({tid}) with {code}:\n{}", kafka.output_tail())
            }
        }
    }
}

/// Kafka 4.4 as the judge: it opens the log directory minikafka wrote and its transaction
/// coordinator loads our `__transaction_state`. A transactional id whose transaction
/// committed gets our producer id with the next epoch; one whose transaction a kill -9 left
/// open is aborted by Kafka first (CONCURRENT_TRANSACTIONS until done), then gets the epoch
/// after the abort's, and the partition's last stable offset moves past the aborted records.
#[test]
fn kafka_loads_the_transaction_state_minikafka_wrote() {
    use common::kafka::{Kafka, KafkaOptions};
    let tmp = TempDir::new("txnlog-kafka");
    let dir = tmp.join("logs");
    let b = Broker::start(&dir);
    let mut c = b.connect();
    create_topic_with(&mut c, "j", &[]);
    let (_, done_pid, done_e) = init(&mut c, "judge-done", 60_000);
    assert_eq!(add(&mut c, 3, "judge-done", done_pid, done_e, "j"), NONE);
    assert_eq!(
        produce1(&mut c, "judge-done", "j", &tbatch(done_pid, done_e, 0, 2, "d")),
        (NONE, 0)
    );
    assert_eq!(end(&mut c, 3, "judge-done", done_pid, done_e, true), NONE);
    let (_, open_pid, open_e) = init(&mut c, "judge-open", 60_000);
    assert_eq!(add(&mut c, 3, "judge-open", open_pid, open_e, "j"), NONE);
    assert_eq!(
        produce1(&mut c, "judge-open", "j", &tbatch(open_pid, open_e, 0, 1, "o")),
        (NONE, 3)
    );
    assert_eq!(latest(&mut c, "j", true), 3);
    drop(c);
    assert!(b.stop().success());

    let kafka = Kafka::start(&dir, &tmp.join("conf"), &KafkaOptions::default());
    assert_eq!(init_on_kafka(&kafka, "judge-done"), (done_pid, done_e + 1));
    assert_eq!(init_on_kafka(&kafka, "judge-open"), (open_pid, open_e + 2));
    let mut k = Client::connect(kafka.addr);
    assert_eq!(latest(&mut k, "j", true), latest(&mut k, "j", false), "Kafka aborted it");
    assert_eq!(latest(&mut k, "j", false), 5);
    drop(k);
    kafka.stop();
}

/// With `transaction.version` 2 finalized, the state is written as Kafka writes it then:
/// value v1, with the client's transaction version (2 after an EndTxn v5) in tag 2; Kafka
/// opens the directory and its coordinator continues from the epoch the v5 end bumped to.
#[test]
fn kafka_loads_the_v1_transaction_state_of_transactions_v2() {
    use common::kafka::{Kafka, KafkaOptions};
    let tmp = TempDir::new("txnlog-kafka-v2");
    let dir = tmp.join("logs");
    let b = Broker::start_with_features(&dir, &[], &["transaction.version=2"]);
    let mut c = b.connect();
    create_topic_with(&mut c, "j", &[]);
    let (_, pid, e) = init(&mut c, "judge-v2", 60_000);
    assert_eq!(add(&mut c, 3, "judge-v2", pid, e, "j"), NONE);
    assert_eq!(produce1(&mut c, "judge-v2", "j", &tbatch(pid, e, 0, 2, "d")), (NONE, 0));
    assert_eq!(end(&mut c, 5, "judge-v2", pid, e, true), NONE);
    drop(c);
    assert!(b.stop().success());
    let recs: Vec<LogValue> = (0..50)
        .flat_map(|p| state_records(&dir, p))
        .filter(|(id, _)| id == "judge-v2")
        .map(|(_, v)| v)
        .collect();
    assert!(recs.iter().all(|v| v.version == 1), "transaction.version 2 finalized: v1");
    let states: Vec<(i8, i16)> =
        recs.iter().map(|v| (v.status, v.client_transaction_version)).collect();
    // Empty and Ongoing before the client's version is known; the v5 end records it.
    assert_eq!(states, [(0, 0), (1, 0), (2, 2), (4, 2)]);
    assert_eq!(recs[3].producer_epoch, e + 1, "the end bumped the epoch");

    let kafka = Kafka::start(&dir, &tmp.join("conf"), &KafkaOptions::default());
    assert_eq!(init_on_kafka(&kafka, "judge-v2"), (pid, e + 2));
    let mut k = Client::connect(kafka.addr);
    assert_eq!(latest(&mut k, "j", true), 3, "the commit marker read back by Kafka");
    drop(k);
    kafka.stop();
}
