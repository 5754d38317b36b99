//! The transaction coordinator over the wire against the real binary: InitProducerId with a
//! transactional id, AddPartitionsToTxn v0-5 (v4+ batched, verifying), AddOffsetsToTxn v0-4
//! and EndTxn v0-4 (encoded and decoded by kafka-protocol, an independent codec), their error
//! paths, partition verification of transactional Produce (KIP-890), and what the markers
//! leave in the partitions: read_committed fetches and ListOffsets stopping at the last
//! stable offset, aborted transactions listed, Kafka's `.txnindex` entries.

mod common;

use common::*;
use kafka_protocol::messages::{
    add_offsets_to_txn_request::AddOffsetsToTxnRequest,
    add_partitions_to_txn_request::{AddPartitionsToTxnRequest, AddPartitionsToTxnTopic},
    end_txn_request::EndTxnRequest,
    list_offsets_request as loq, offset_fetch_request as ofq, txn_offset_commit_request as tocq,
    GroupId, InitProducerIdRequest, ListOffsetsRequest, OffsetFetchRequest, ProduceRequest,
    ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::protocol::StrBytes;

const INVALID_PRODUCER_EPOCH: i16 = 47;
const INVALID_TXN_STATE: i16 = 48;
const INVALID_PRODUCER_ID_MAPPING: i16 = 49;
const INVALID_TRANSACTION_TIMEOUT: i16 = 50;
const CONCURRENT_TRANSACTIONS: i16 = 51;
const OPERATION_NOT_ATTEMPTED: i16 = 55;
const PRODUCER_FENCED: i16 = 90;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const UNSTABLE_OFFSET_COMMIT: i16 = 88;

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn init(c: &mut Client, v: i16, tid: &str, timeout_ms: i32) -> (i16, i64, i16) {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(sb(tid))))
        .with_transaction_timeout_ms(timeout_ms);
    let r = c.kp_call(v, &req);
    (r.error_code, r.producer_id.0, r.producer_epoch)
}

/// AddPartitionsToTxn; the error code of every partition, in request order.
fn add(c: &mut Client, v: i16, tid: &str, pid: i64, epoch: i16, parts: &[(&str, i32)]) -> Vec<i16> {
    let mut topics: Vec<AddPartitionsToTxnTopic> = Vec::new();
    for &(t, p) in parts {
        match topics.iter_mut().find(|x| x.name.0.as_str() == t) {
            Some(x) => x.partitions.push(p),
            None => topics.push(
                AddPartitionsToTxnTopic::default()
                    .with_name(TopicName(sb(t)))
                    .with_partitions(vec![p]),
            ),
        }
    }
    let req = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(sb(tid)))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(topics);
    let r = c.kp_call(v, &req);
    assert_eq!(r.throttle_time_ms, 0);
    parts
        .iter()
        .map(|&(t, p)| {
            let topic = r.results_by_topic_v3_and_below.iter().find(|x| x.name.0.as_str() == t);
            let topic = topic.unwrap_or_else(|| panic!("{t} not in {r:?}"));
            let part = topic.results_by_partition.iter().find(|x| x.partition_index == p);
            part.unwrap_or_else(|| panic!("{t}-{p} not in {r:?}")).partition_error_code
        })
        .collect()
}

fn end(c: &mut Client, v: i16, tid: &str, pid: i64, epoch: i16, commit: bool) -> i16 {
    let req = EndTxnRequest::default()
        .with_transactional_id(TransactionalId(sb(tid)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    c.kp_call(v, &req).error_code
}

fn add_offsets(c: &mut Client, v: i16, tid: &str, pid: i64, epoch: i16, group: &str) -> i16 {
    let req = AddOffsetsToTxnRequest::default()
        .with_transactional_id(TransactionalId(sb(tid)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_group_id(GroupId(sb(group)));
    c.kp_call(v, &req).error_code
}

/// A transactional batch of `n` records.
fn tbatch(pid: i64, epoch: i16, seq: i32, n: usize, tag: &str) -> Vec<u8> {
    // Now: an old timestamp would roll the segment at the marker (segment.ms).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let ts = now.as_millis() as i64;
    let mut b = BatchBuilder::new(0, ts).producer(pid, epoch, seq).transactional();
    for i in 0..n {
        b.push(None, Some(format!("{tag}-{i}").as_bytes()), &[]);
    }
    b.finish()
}

/// A Produce v9 of `batch` naming transactional id "t": (error code, base offset).
fn produce1(c: &mut Client, topic: &str, p: i32, batch: &[u8]) -> (i16, i64) {
    let r = produce_txn(c, 9, Some("t"), &[(topic, p, batch)]);
    (r[0].0, r[0].1)
}

/// A Produce at version `v` naming `tid`, one batch per partition: per partition in request
/// order, (error code, base offset, error message).
fn produce_txn(
    c: &mut Client,
    v: i16,
    tid: Option<&str>,
    parts: &[(&str, i32, &[u8])],
) -> Vec<(i16, i64, Option<String>)> {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    let mut topics: Vec<TopicProduceData> = Vec::new();
    for &(t, p, batch) in parts {
        let data =
            PartitionProduceData::default().with_index(p).with_records(Some(batch.to_vec().into()));
        match topics.iter_mut().find(|x| x.name.0.as_str() == t) {
            Some(x) => x.partition_data.push(data),
            None => topics.push(
                TopicProduceData::default()
                    .with_name(TopicName(sb(t)))
                    .with_partition_data(vec![data]),
            ),
        }
    }
    let req = ProduceRequest::default()
        .with_transactional_id(tid.map(|t| TransactionalId(sb(t))))
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(topics);
    let r = c.kp_call(v, &req);
    parts
        .iter()
        .map(|&(t, p, _)| {
            let topic = r.responses.iter().find(|x| x.name.0.as_str() == t).unwrap();
            let x = topic.partition_responses.iter().find(|x| x.index == p).unwrap();
            (x.error_code, x.base_offset, x.error_message.as_ref().map(|m| m.to_string()))
        })
        .collect()
}

fn fetch(c: &mut Client, id: [u8; 16], offset: i64, committed: bool) -> FetchPartitionResp {
    let mut req = FetchReq::default().topic(id, vec![fp(0, offset)]);
    req.isolation_level = i8::from(committed);
    req.max_wait_ms = 0;
    let resp = c.fetch(&req);
    resp.responses[0].partitions[0].clone()
}

fn latest(c: &mut Client, topic: &str, committed: bool) -> i64 {
    let req =
        ListOffsetsRequest::default().with_isolation_level(i8::from(committed)).with_topics(vec![
            loq::ListOffsetsTopic::default().with_name(TopicName(sb(topic))).with_partitions(vec![
                loq::ListOffsetsPartition::default().with_partition_index(0).with_timestamp(-1),
            ]),
        ]);
    let r = c.kp_call(7, &req);
    r.topics[0].partitions[0].offset
}

/// (base offset, control?) of each batch in `records`.
fn batch_kinds(records: &[u8]) -> Vec<(i64, bool)> {
    split_batches(records)
        .into_iter()
        .map(|b| (base_offset_of(b), i16::from_be_bytes([b[21], b[22]]) & 0x20 != 0))
        .collect()
}

#[test]
fn init_producer_id_timeouts_epochs_and_fencing() {
    let dir = TempDir::new("txn-init");
    make_log_dir(dir.path(), &[]);
    let b = Broker::start_with(dir.path(), &["transaction.max.timeout.ms=60000"]);
    let mut c = b.connect();
    for v in 0..=5 {
        assert_eq!(init(&mut c, v, "t", 60_001).0, INVALID_TRANSACTION_TIMEOUT, "v{v}");
        assert_eq!(init(&mut c, v, "t", 0).0, INVALID_TRANSACTION_TIMEOUT, "v{v}");
    }
    let (code, pid, epoch) = init(&mut c, 5, "t", 60_000);
    assert_eq!((code, epoch), (NONE, 0));
    assert_eq!(init(&mut c, 5, "t", 1000), (NONE, pid, 1));
    // Another transactional id has its own producer id.
    let (_, other, _) = init(&mut c, 5, "u", 1000);
    assert_ne!(other, pid);
    // The epoch-0 producer is fenced: PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before.
    for v in 0..=3 {
        let want = if v >= 2 { PRODUCER_FENCED } else { INVALID_PRODUCER_EPOCH };
        assert_eq!(add(&mut c, v, "t", pid, 0, &[("__none", 0)])[0], UNKNOWN_TOPIC_OR_PARTITION);
        assert_eq!(end(&mut c, v, "t", pid, 0, true), want, "v{v}");
        assert_eq!(add_offsets(&mut c, v, "t", pid, 0, "g"), want, "v{v}");
    }
    // A v3+ producer naming an epoch that is not current is fenced too.
    let req = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(sb("t"))))
        .with_transaction_timeout_ms(1000)
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(0);
    assert_eq!(c.kp_call(4, &req).error_code, PRODUCER_FENCED);
    assert_eq!(c.kp_call(3, &req).error_code, INVALID_PRODUCER_EPOCH);
}

#[test]
fn add_partitions_and_end_txn_error_paths() {
    let dir = TempDir::new("txn-errors");
    make_log_dir(dir.path(), &[("a", 2)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, pid, epoch) = init(&mut c, 4, "t", 60_000);
    for v in 0..=3 {
        assert_eq!(
            add(&mut c, v, "nobody", pid, epoch, &[("a", 0)]),
            [INVALID_PRODUCER_ID_MAPPING]
        );
        assert_eq!(add(&mut c, v, "t", pid + 1, epoch, &[("a", 0)]), [INVALID_PRODUCER_ID_MAPPING]);
        // An unknown partition fails, the others are not attempted.
        assert_eq!(
            add(&mut c, v, "t", pid, epoch, &[("a", 0), ("a", 9), ("zz", 0)]),
            [OPERATION_NOT_ATTEMPTED, UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION]
        );
    }
    for v in 0..=4 {
        assert_eq!(end(&mut c, v, "nobody", pid, epoch, true), INVALID_PRODUCER_ID_MAPPING);
        // No transaction yet: nothing to end.
        assert_eq!(end(&mut c, v, "t", pid, epoch, true), INVALID_TXN_STATE, "v{v}");
        assert_eq!(add_offsets(&mut c, v, "nobody", pid, epoch, "g"), INVALID_PRODUCER_ID_MAPPING);
    }
    for v in 0..=3 {
        assert_eq!(add(&mut c, v, "t", pid, epoch, &[("a", 0), ("a", 1)]), [NONE, NONE], "v{v}");
    }
    assert_eq!(add_offsets(&mut c, 4, "t", pid, epoch, "g"), NONE);
    assert_eq!(end(&mut c, 4, "t", pid, epoch, true), NONE);
    // A retried commit is answered again; aborting the committed transaction is refused.
    for v in 0..=4 {
        assert_eq!(end(&mut c, v, "t", pid, epoch, true), NONE, "v{v}");
        assert_eq!(end(&mut c, v, "t", pid, epoch, false), INVALID_TXN_STATE, "v{v}");
    }
    assert_eq!(add(&mut c, 3, "t", pid, epoch, &[("a", 0)]), [NONE]);
    assert_eq!(end(&mut c, 2, "t", pid, epoch, false), NONE);
    assert_eq!(end(&mut c, 2, "t", pid, epoch, false), NONE);
    assert_eq!(end(&mut c, 2, "t", pid, epoch, true), INVALID_TXN_STATE);
}

/// A committed and an aborted transaction, then one left open: what read_committed and
/// read_uncommitted fetches see, the last stable offset, and the `.txnindex` entry.
#[test]
fn markers_commit_abort_and_the_last_stable_offset() {
    let dir = TempDir::new("txn-markers");
    let ids = make_log_dir(dir.path(), &[("a", 1)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, 4, "t", 60_000);
    assert_eq!(add(&mut c, 3, "t", pid, e, &[("a", 0)]), [NONE]);
    assert_eq!(produce1(&mut c, "a", 0, &tbatch(pid, e, 0, 2, "c")), (NONE, 0));
    assert_eq!(latest(&mut c, "a", true), 0, "open from offset 0");
    assert_eq!(latest(&mut c, "a", false), 2);
    let f = fetch(&mut c, ids[0], 0, true);
    assert_eq!((f.last_stable_offset, f.high_watermark), (0, 2));
    assert!(f.records().is_empty(), "read_committed stops at the LSO");
    assert_eq!(end(&mut c, 4, "t", pid, e, true), NONE);
    // The marker is in the file when EndTxn is answered.
    let on_disk = read_log(dir.path(), "a", 0);
    let last = *split_batches(&on_disk).last().unwrap();
    assert_eq!((base_offset_of(last), i16::from_be_bytes([last[21], last[22]])), (2, 0x30));
    assert_eq!(latest(&mut c, "a", true), 3, "commit marker at 2");
    // Aborted: offsets 3-4, marker at 5.
    assert_eq!(add(&mut c, 3, "t", pid, e, &[("a", 0)]), [NONE]);
    assert_eq!(produce1(&mut c, "a", 0, &tbatch(pid, e, 2, 2, "x")), (NONE, 3));
    assert_eq!(end(&mut c, 4, "t", pid, e, false), NONE);
    // Left open: 6.
    assert_eq!(add(&mut c, 3, "t", pid, e, &[("a", 0)]), [NONE]);
    assert_eq!(produce1(&mut c, "a", 0, &tbatch(pid, e, 4, 1, "o")), (NONE, 6));
    let f = fetch(&mut c, ids[0], 0, true);
    assert_eq!((f.last_stable_offset, f.high_watermark), (6, 7));
    assert_eq!(f.aborted_transactions, Some(vec![(pid, 3)]));
    assert_eq!(batch_kinds(f.records()), [(0, false), (2, true), (3, false), (5, true)]);
    let f = fetch(&mut c, ids[0], 0, false);
    assert_eq!(f.aborted_transactions, None);
    assert_eq!(batch_kinds(f.records()).len(), 5);
    // Kafka's format: version 0, producer id, first, last, last stable offset then.
    let txnindex = std::fs::read(dir.path().join("a-0/00000000000000000000.txnindex")).unwrap();
    let mut want = W::new();
    want.i16(0).i64(pid).i64(3).i64(5).i64(6);
    assert_eq!(txnindex, want.take());
    // A new InitProducerId aborts the open transaction (fencing the old epoch) and asks
    // for a retry, which gets the epoch after the fence.
    assert_eq!(init(&mut c, 4, "t", 60_000).0, CONCURRENT_TRANSACTIONS);
    assert_eq!(init(&mut c, 4, "t", 60_000), (NONE, pid, e + 2));
    let f = fetch(&mut c, ids[0], 0, true);
    assert_eq!((f.last_stable_offset, f.high_watermark), (8, 8));
    assert_eq!(f.aborted_transactions, Some(vec![(pid, 3), (pid, 6)]));
    // The fenced producer's writes are refused by the partition.
    let (code, _) = produce1(&mut c, "a", 0, &tbatch(pid, e, 5, 1, "z"));
    assert_eq!(code, INVALID_PRODUCER_EPOCH);
}

// ----- KIP-890: partition verification, AddPartitionsToTxn v4-5 ------------------------------

const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
const INVALID_REQUEST: i16 = 42;
const TRANSACTION_ABORTABLE: i16 = 120;

/// A transactional Produce to a partition its transaction does not hold is refused, with the
/// error its version knows; from v12 the produce adds the partition itself.
#[test]
fn transactional_produce_is_verified() {
    let dir = TempDir::new("txn-verify");
    let ids = make_log_dir(dir.path(), &[("a", 3)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, 4, "t", 60_000);
    let batch = tbatch(pid, e, 0, 1, "v");
    for v in 3..=10 {
        let msg = Some("Partition was not added to the transaction".to_string());
        assert_eq!(
            produce_txn(&mut c, v, Some("t"), &[("a", 0, &batch)]),
            [(INVALID_TXN_STATE, -1, msg.filter(|_| v >= 8))],
            "v{v}"
        );
    }
    assert_eq!(
        produce_txn(&mut c, 11, Some("t"), &[("a", 0, &batch)]),
        [(TRANSACTION_ABORTABLE, -1, None)]
    );
    // What the coordinator says of the producer comes back as a producer knows it.
    assert_eq!(
        produce_txn(&mut c, 11, Some("nobody"), &[("a", 0, &batch)]),
        [(INVALID_PRODUCER_ID_MAPPING, -1, None)]
    );
    let old = tbatch(pid, e - 1, 0, 1, "v");
    assert_eq!(
        produce_txn(&mut c, 12, Some("t"), &[("a", 0, &old)]),
        [(INVALID_PRODUCER_EPOCH, -1, None)]
    );
    assert_eq!(
        produce_txn(&mut c, 11, Some(""), &[("a", 0, &batch)]),
        [(INVALID_REQUEST, -1, None)]
    );
    // Refused as a whole: transactional records without a transactional id, or from two
    // producers; a partition that takes no transactional batch is refused with them.
    let mut plain = BatchBuilder::new(0, 0).producer(pid, e, 0);
    plain.push(None, Some(b"p"), &[]);
    let plain = plain.finish();
    let other = tbatch(pid + 1, 0, 0, 1, "o");
    let two = [("a", 0, &batch[..]), ("a", 1, &plain[..])];
    assert_eq!(
        produce_txn(&mut c, 11, None, &two),
        vec![(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, None); 2]
    );
    let two = [("a", 0, &batch[..]), ("a", 1, &other[..]), ("a", 2, &plain[..])];
    assert_eq!(
        produce_txn(&mut c, 11, Some("t"), &two),
        vec![(INVALID_PRODUCER_ID_MAPPING, -1, None); 3]
    );
    assert_eq!(latest(&mut c, "a", false), 0, "nothing written");
    // Added first: accepted.
    assert_eq!(add(&mut c, 3, "t", pid, e, &[("a", 0)]), [NONE]);
    assert_eq!(produce_txn(&mut c, 9, Some("t"), &[("a", 0, &batch)]), [(NONE, 0, None)]);
    // v12 (transactions v2): partition 1 joins the transaction by its produce, and the commit
    // writes its marker there too.
    let batch1 = tbatch(pid, e, 0, 2, "w");
    assert_eq!(produce_txn(&mut c, 12, Some("t"), &[("a", 1, &batch1)]), [(NONE, 0, None)]);
    assert_eq!(end(&mut c, 4, "t", pid, e, true), NONE);
    let f = c.fetch_one(ids[0], 1, 0);
    assert_eq!(batch_kinds(f.records()), [(0, false), (2, true)]);
    // The next transaction starts without partitions: v11 is refused again.
    let next = tbatch(pid, e, 2, 1, "x");
    assert_eq!(
        produce_txn(&mut c, 11, Some("t"), &[("a", 1, &next)]),
        [(TRANSACTION_ABORTABLE, -1, None)]
    );
}

/// AddPartitionsToTxn v4-5 (KIP-890, broker to broker): several transactions in one request,
/// each added or (`verify_only`) checked, answered per transaction.
#[test]
fn add_partitions_v4_batched_and_verify_only() {
    use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTransaction;
    let dir = TempDir::new("txn-apv4");
    make_log_dir(dir.path(), &[("a", 2)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, p1, e1) = init(&mut c, 4, "t1", 60_000);
    let (_, p2, e2) = init(&mut c, 4, "t2", 60_000);
    let txn = |tid: &str, pid: i64, epoch: i16, verify: bool, parts: &[(&str, i32)]| {
        let topics = parts
            .iter()
            .map(|&(t, p)| {
                AddPartitionsToTxnTopic::default()
                    .with_name(TopicName(sb(t)))
                    .with_partitions(vec![p])
            })
            .collect();
        AddPartitionsToTxnTransaction::default()
            .with_transactional_id(TransactionalId(sb(tid)))
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_verify_only(verify)
            .with_topics(topics)
    };
    let call = |c: &mut Client, v: i16, txns: Vec<AddPartitionsToTxnTransaction>| {
        let r = c.kp_call(v, &AddPartitionsToTxnRequest::default().with_transactions(txns));
        assert_eq!(r.error_code, NONE);
        r.results_by_transaction
            .iter()
            .map(|t| {
                let codes = t
                    .topic_results
                    .iter()
                    .flat_map(|x| x.results_by_partition.iter().map(|p| p.partition_error_code));
                (t.transactional_id.0.to_string(), codes.collect::<Vec<_>>())
            })
            .collect::<Vec<_>>()
    };
    let owned = |v: &[(&str, &[i16])]| {
        v.iter().map(|(t, c)| (t.to_string(), c.to_vec())).collect::<Vec<_>>()
    };
    for v in 4..=5 {
        // Nothing added yet: verification fails per partition.
        let r = call(
            &mut c,
            v,
            vec![
                txn("t1", p1, e1, true, &[("a", 0)]),
                txn("t2", p2, e2 + 1, true, &[("a", 0)]),
                txn("nobody", p1, e1, true, &[("a", 0)]),
                txn("t2", p2, e2, true, &[("zz", 0)]),
            ],
        );
        let want: &[(&str, &[i16])] = &[
            ("t1", &[TRANSACTION_ABORTABLE]),
            ("t2", &[PRODUCER_FENCED]),
            ("nobody", &[INVALID_PRODUCER_ID_MAPPING]),
            ("t2", &[UNKNOWN_TOPIC_OR_PARTITION]),
        ];
        assert_eq!(r, owned(want), "v{v}");
    }
    // Added by v4 for t1, v5 for t2; then verified.
    let r = call(&mut c, 4, vec![txn("t1", p1, e1, false, &[("a", 0)])]);
    assert_eq!(r, owned(&[("t1", &[NONE])]));
    let r = call(&mut c, 5, vec![txn("t2", p2, e2, false, &[("a", 1)])]);
    assert_eq!(r, owned(&[("t2", &[NONE])]));
    let r = call(
        &mut c,
        5,
        vec![txn("t1", p1, e1, true, &[("a", 0), ("a", 1)]), txn("t2", p2, e2, true, &[("a", 1)])],
    );
    assert_eq!(r, owned(&[("t1", &[NONE, TRANSACTION_ABORTABLE]), ("t2", &[NONE])]));
    // The transactions are the clients' to produce to and end.
    let batch = tbatch(p1, e1, 0, 1, "t1");
    assert_eq!(produce_txn(&mut c, 9, Some("t1"), &[("a", 0, &batch)]), [(NONE, 0, None)]);
    assert_eq!(end(&mut c, 4, "t1", p1, e1, false), NONE);
    assert_eq!(end(&mut c, 4, "t2", p2, e2, true), NONE);
    // A v4 request without transactions is answered with none.
    assert_eq!(call(&mut c, 4, vec![]), owned(&[]));
}

// ----- Transactions v2 (KIP-890 part 2): EndTxn v5 ---------------------------------------------

/// EndTxn v5: (error code, producer id, producer epoch).
fn end_v5(c: &mut Client, tid: &str, pid: i64, epoch: i16, commit: bool) -> (i16, i64, i16) {
    let req = EndTxnRequest::default()
        .with_transactional_id(TransactionalId(sb(tid)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    let r = c.kp_call(5, &req);
    (r.error_code, r.producer_id.0, r.producer_epoch)
}

/// EndTxn v5 bumps the producer's epoch at every end: the markers carry the new epoch, the
/// answer names it, a retry names the old one, and the old epoch is fenced from then on. An
/// abort with nothing ongoing still bumps it.
#[test]
fn end_txn_v5_bumps_the_epoch() {
    let dir = TempDir::new("txn-v5");
    let ids = make_log_dir(dir.path(), &[("a", 1)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, 4, "t", 60_000);
    assert_eq!(end_v5(&mut c, "t", pid, e, true), (INVALID_TXN_STATE, -1, -1), "none ongoing");
    assert_eq!(end_v5(&mut c, "nobody", pid, e, true), (INVALID_PRODUCER_ID_MAPPING, -1, -1));
    assert_eq!(end_v5(&mut c, "t", pid + 1, e, true), (INVALID_PRODUCER_ID_MAPPING, -1, -1));
    assert_eq!(end_v5(&mut c, "", pid, e, true), (INVALID_REQUEST, -1, -1));
    assert_eq!(add(&mut c, 3, "t", pid, e, &[("a", 0)]), [NONE]);
    assert_eq!(produce1(&mut c, "a", 0, &tbatch(pid, e, 0, 2, "c")), (NONE, 0));
    assert_eq!(end_v5(&mut c, "t", pid, e + 1, true), (PRODUCER_FENCED, -1, -1));
    assert_eq!(end_v5(&mut c, "t", pid, e, true), (NONE, pid, e + 1));
    // The commit marker carries the new epoch.
    let f = c.fetch_one(ids[0], 0, 0);
    let marker = *split_batches(f.records()).last().unwrap();
    assert_eq!(base_offset_of(marker), 2);
    assert_eq!(i16::from_be_bytes([marker[51], marker[52]]), e + 1);
    // A retry names the epoch it was sent with; with the new epoch there is nothing to commit.
    assert_eq!(end_v5(&mut c, "t", pid, e, true), (NONE, pid, e + 1));
    assert_eq!(end_v5(&mut c, "t", pid, e, false), (INVALID_TXN_STATE, -1, -1));
    assert_eq!(end_v5(&mut c, "t", pid, e + 1, true), (INVALID_TXN_STATE, -1, -1));
    assert_eq!(end_v5(&mut c, "t", pid, e + 2, true), (PRODUCER_FENCED, -1, -1));
    // A v1 end of the new epoch is a retry of a committed transaction.
    assert_eq!(end(&mut c, 4, "t", pid, e + 1, true), NONE);
    // The next transaction is the new epoch's; the old one is fenced.
    assert_eq!(add(&mut c, 3, "t", pid, e, &[("a", 0)]), [PRODUCER_FENCED]);
    assert_eq!(add(&mut c, 3, "t", pid, e + 1, &[("a", 0)]), [NONE]);
    assert_eq!(produce1(&mut c, "a", 0, &tbatch(pid, e + 1, 0, 1, "x")), (NONE, 3));
    assert_eq!(end_v5(&mut c, "t", pid, e + 1, false), (NONE, pid, e + 2));
    let f = fetch(&mut c, ids[0], 0, true);
    assert_eq!((f.last_stable_offset, f.high_watermark), (5, 5));
    assert_eq!(f.aborted_transactions, Some(vec![(pid, 3)]));
    // An abort with nothing ongoing ends an empty transaction: the epoch moves, no marker.
    assert_eq!(end_v5(&mut c, "t", pid, e + 2, false), (NONE, pid, e + 3));
    assert_eq!(end_v5(&mut c, "t", pid, e + 2, false), (NONE, pid, e + 3), "retried");
    assert_eq!(latest(&mut c, "a", false), 5);
    // A v1 end does not bump.
    assert_eq!(add(&mut c, 3, "t", pid, e + 3, &[("a", 0)]), [NONE]);
    assert_eq!(end(&mut c, 4, "t", pid, e + 3, true), NONE);
    assert_eq!(end(&mut c, 4, "t", pid, e + 3, true), NONE);
}

// ----- TxnOffsetCommit ------------------------------------------------------------------------

/// TxnOffsetCommit of `offsets` (topic, partition, offset) for group `g`; the error codes.
fn txn_commit(
    c: &mut Client,
    v: i16,
    (tid, pid, epoch): (&str, i64, i16),
    g: &str,
    offsets: &[(&str, i32, i64)],
) -> Vec<i16> {
    let topics = offsets
        .iter()
        .map(|&(t, p, o)| {
            tocq::TxnOffsetCommitRequestTopic::default()
                .with_name(TopicName(sb(t)))
                .with_partitions(vec![tocq::TxnOffsetCommitRequestPartition::default()
                    .with_partition_index(p)
                    .with_committed_offset(o)
                    .with_committed_leader_epoch(0)
                    .with_committed_metadata(Some(sb("m")))])
        })
        .collect();
    let req = TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(sb(tid)))
        .with_group_id(GroupId(sb(g)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_generation_id(-1)
        .with_topics(topics);
    let r = c.kp_call(v, &req);
    r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)).collect()
}

/// OffsetFetch v7 of one partition: (offset, error), `require_stable` as asked.
fn fetched(c: &mut Client, g: &str, t: &str, p: i32, stable: bool) -> (i64, i16) {
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(sb(g)))
        .with_require_stable(stable)
        .with_topics(Some(vec![ofq::OffsetFetchRequestTopic::default()
            .with_name(TopicName(sb(t)))
            .with_partition_indexes(vec![p])]));
    let r = c.kp_call(7, &req);
    let part = &r.topics[0].partitions[0];
    (part.committed_offset, part.error_code)
}

/// Offsets committed in a transaction are the group's once it commits, never if it aborts,
/// and still so after a restart (replayed from `__consumer_offsets` by its markers).
#[test]
fn txn_offset_commit_visible_at_commit_only() {
    let dir = TempDir::new("txn-offsets");
    make_log_dir(dir.path(), &[("a", 2)]);
    let b = Broker::start_with(dir.path(), &["offsets.topic.num.partitions=3"]);
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, 4, "t", 60_000);
    let me = ("t", pid, e);
    for v in 0..=3 {
        let nobody = ("nobody", pid, e);
        assert_eq!(
            txn_commit(&mut c, v, nobody, "g", &[("a", 0, 5)]),
            [INVALID_PRODUCER_ID_MAPPING]
        );
        // The group's partition is not in a transaction yet.
        assert_eq!(txn_commit(&mut c, v, me, "g", &[("a", 0, 5)]), [INVALID_TXN_STATE], "v{v}");
        let old = ("t", pid, e - 1);
        assert_eq!(txn_commit(&mut c, v, old, "g", &[("a", 0, 5)]), [INVALID_PRODUCER_EPOCH]);
    }
    assert_eq!(add_offsets(&mut c, 3, "t", pid, e, "g"), NONE);
    for v in 0..=3 {
        let offs = [("a", 0, 10 + i64::from(v)), ("a", 7, 1)];
        // Kafka answers the unknown partition first.
        assert_eq!(txn_commit(&mut c, v, me, "g", &offs), [UNKNOWN_TOPIC_OR_PARTITION, NONE]);
    }
    assert_eq!(fetched(&mut c, "g", "a", 0, false), (-1, NONE), "not before the commit");
    assert_eq!(fetched(&mut c, "g", "a", 0, true), (-1, UNSTABLE_OFFSET_COMMIT));
    assert_eq!(end(&mut c, 3, "t", pid, e, true), NONE);
    assert_eq!(fetched(&mut c, "g", "a", 0, true), (13, NONE));
    // Aborted: never seen.
    assert_eq!(add_offsets(&mut c, 3, "t", pid, e, "g"), NONE);
    assert_eq!(txn_commit(&mut c, 3, me, "g", &[("a", 0, 99), ("a", 1, 98)]), [NONE, NONE]);
    assert_eq!(end(&mut c, 3, "t", pid, e, false), NONE);
    assert_eq!(fetched(&mut c, "g", "a", 0, true), (13, NONE));
    assert_eq!(fetched(&mut c, "g", "a", 1, true), (-1, NONE));
    // Committed offsets survive a restart; aborted ones stay out.
    drop(c);
    assert!(b.stop().success());
    let b = Broker::start_with(dir.path(), &["offsets.topic.num.partitions=3"]);
    let mut c = b.connect();
    assert_eq!(fetched(&mut c, "g", "a", 0, true), (13, NONE));
    assert_eq!(fetched(&mut c, "g", "a", 1, true), (-1, NONE));
}

// ----- librdkafka ------------------------------------------------------------------------------

/// Polls until every assigned partition reports its end; the values seen, in order.
fn consume_to_end(c: &rdkafka::consumer::BaseConsumer, partitions: usize) -> Vec<String> {
    use rdkafka::error::KafkaError;
    use rdkafka::message::Message;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (mut got, mut ends, mut errors) = (Vec::new(), 0, Vec::new());
    while ends < partitions {
        assert!(std::time::Instant::now() < deadline, "got {got:?}, errors {errors:?}");
        match c.poll(std::time::Duration::from_millis(100)) {
            Some(Ok(m)) => got.push(String::from_utf8_lossy(m.payload().unwrap()).into_owned()),
            Some(Err(KafkaError::PartitionEOF(_))) => ends += 1,
            Some(Err(e)) => errors.push(e.to_string()),
            None => {}
        }
    }
    got
}

/// librdkafka's transactional producer commits one transaction and aborts another over two
/// partitions; a read_committed consumer sees the committed records only, a
/// read_uncommitted one sees all of them.
#[test]
fn librdkafka_transactions_commit_and_abort() {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use rdkafka::{Offset, TopicPartitionList};
    use std::time::Duration;

    let dir = TempDir::new("txn-rdkafka");
    make_log_dir(dir.path(), &[("tx", 2)]);
    let b = Broker::start(dir.path());
    let mut config = rdkafka_config(b.addr);
    config.set("transactional.id", "rd-txn").set("linger.ms", "0");
    let p: BaseProducer = config.create().expect("producer");
    p.init_transactions(Duration::from_secs(30)).expect("init_transactions");
    let send = |tag: &str| {
        for i in 0..4 {
            let v = format!("{tag}-{i}");
            p.send(BaseRecord::<(), str>::to("tx").payload(&v).partition(i % 2)).expect("send");
        }
        p.flush(Duration::from_secs(30)).expect("flush");
    };
    // A consume-transform-produce loop's offsets, sent with each transaction.
    let mut gconfig = rdkafka_config(b.addr);
    gconfig.set("group.id", "app").set("enable.auto.commit", "false");
    let app: BaseConsumer = gconfig.create().expect("group consumer");
    let group = app.group_metadata().expect("group metadata");
    let offsets = |part: i32, at: i64| {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("tx", part, Offset::Offset(at)).unwrap();
        tpl
    };
    p.begin_transaction().unwrap();
    send("committed");
    p.send_offsets_to_transaction(&offsets(0, 7), &group, Duration::from_secs(30))
        .expect("send offsets");
    p.commit_transaction(Duration::from_secs(30)).expect("commit");
    p.begin_transaction().unwrap();
    send("aborted");
    p.send_offsets_to_transaction(&offsets(1, 9), &group, Duration::from_secs(30))
        .expect("send offsets");
    p.abort_transaction(Duration::from_secs(30)).expect("abort");
    p.begin_transaction().unwrap();
    send("later");
    p.commit_transaction(Duration::from_secs(30)).expect("commit");

    let read = |isolation: &str| {
        let mut config = rdkafka_config(b.addr);
        config
            .set("group.id", format!("g-{isolation}"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("isolation.level", isolation)
            .set("fetch.wait.max.ms", "100");
        let c: BaseConsumer = config.create().expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for part in 0..2 {
            tpl.add_partition_offset("tx", part, Offset::Beginning).unwrap();
        }
        c.assign(&tpl).unwrap();
        let mut got = consume_to_end(&c, 2);
        got.sort();
        got
    };
    let all = |tags: &[&str]| {
        let mut v: Vec<String> =
            tags.iter().flat_map(|t| (0..4).map(move |i| format!("{t}-{i}"))).collect();
        v.sort();
        v
    };
    assert_eq!(read("read_committed"), all(&["committed", "later"]));
    let mut both = offsets(0, 0);
    both.add_partition("tx", 1);
    let committed = app.committed_offsets(both, Duration::from_secs(30)).expect("committed");
    let got: Vec<Offset> = committed.elements().iter().map(|e| e.offset()).collect();
    assert_eq!(
        got,
        [Offset::Offset(7), Offset::Invalid],
        "the aborted offsets are not the group's"
    );
    assert_eq!(read("read_uncommitted"), all(&["committed", "aborted", "later"]));
}

/// TxnOffsetCommit v4 refuses offsets of a group whose partition the transaction does not
/// hold with TRANSACTION_ABORTABLE; v5 (transactions v2) adds the partition itself, with no
/// AddOffsetsToTxn, and the commit gives the group its offsets.
#[test]
fn txn_offset_commit_v5_adds_the_offsets_partition() {
    let dir = TempDir::new("txn-offsets-v5");
    make_log_dir(dir.path(), &[("a", 1)]);
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let (_, pid, e) = init(&mut c, 4, "t", 60_000);
    for v in 0..=3 {
        assert_eq!(txn_commit(&mut c, v, ("t", pid, e), "g", &[("a", 0, 5)]), [INVALID_TXN_STATE]);
    }
    assert_eq!(txn_commit(&mut c, 4, ("t", pid, e), "g", &[("a", 0, 5)]), [TRANSACTION_ABORTABLE]);
    // Errors of the producer come first, as before.
    assert_eq!(
        txn_commit(&mut c, 5, ("t", pid, e + 1), "g", &[("a", 0, 5)]),
        [INVALID_PRODUCER_EPOCH]
    );
    assert_eq!(txn_commit(&mut c, 5, ("t", pid, e), "g", &[("a", 0, 7)]), [NONE]);
    assert_eq!(fetched(&mut c, "g", "a", 0, true), (-1, UNSTABLE_OFFSET_COMMIT));
    assert_eq!(end_v5(&mut c, "t", pid, e, true), (NONE, pid, e + 1));
    assert_eq!(fetched(&mut c, "g", "a", 0, true), (7, NONE));
}

/// ApiVersions announces `transaction.version` (with `metadata.version`) once the metadata log
/// finalizes it, as `--feature transaction.version=2` does at start-up and Kafka's storage
/// tool does at format; without it the response carries no features (no tagged fields).
#[test]
fn transaction_version_is_announced_once_finalized() {
    use kafka_protocol::messages::ApiVersionsRequest;
    let dir = TempDir::new("txn-feature");
    let b = Broker::start(dir.path());
    let r = b.connect().kp_call(3, &ApiVersionsRequest::default());
    assert!(r.finalized_features.is_empty() && r.supported_features.is_empty());
    assert_eq!(r.finalized_features_epoch, -1);
    b.stop();
    let with_feature = |dir: &std::path::Path| {
        let args: Vec<std::ffi::OsString> = vec![
            "--feature".into(),
            "transaction.version=2".into(),
            "--override".into(),
            "listeners=PLAINTEXT://127.0.0.1:0".into(),
            "--override".into(),
            format!("log.dirs={}", dir.display()).into(),
        ];
        Broker::start_args(args)
    };
    let b = with_feature(dir.path());
    for v in 3..=4 {
        let r = b.connect().kp_call(v, &ApiVersionsRequest::default());
        let levels: Vec<(String, i16, i16)> = r
            .finalized_features
            .iter()
            .map(|f| (f.name.to_string(), f.min_version_level, f.max_version_level))
            .collect();
        assert!(levels.contains(&("transaction.version".into(), 2, 2)), "{levels:?}");
        assert!(levels.iter().any(|l| l.0 == "metadata.version"), "{levels:?}");
        let tv = r.supported_features.iter().find(|f| f.name.as_str() == "transaction.version");
        assert_eq!(tv.map(|f| (f.min_version, f.max_version)), Some((0, 2)));
        // group.version, which the directory's format recorded at 1, is announced with it.
        assert!(levels.contains(&("group.version".into(), 1, 1)), "{levels:?}");
        let gv = r.supported_features.iter().find(|f| f.name.as_str() == "group.version");
        assert_eq!(gv.map(|f| (f.min_version, f.max_version)), Some((0, 1)));
        assert!(r.finalized_features_epoch >= 0);
    }
    b.stop();
    // Recorded: a start without the option keeps announcing it.
    let b = Broker::start(dir.path());
    let r = b.connect().kp_call(3, &ApiVersionsRequest::default());
    assert!(r.finalized_features.iter().any(|f| f.name.as_str() == "transaction.version"));
}
