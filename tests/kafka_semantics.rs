//! Behaviour real clients rely on beyond the course's checks: every advertised version of each
//! API (encoded and decoded by kafka-protocol, an independent codec), Fetch offsets and size
//! limits, DescribeTopicPartitions paging, and per-partition Produce errors.

mod common;

use common::*;
use kafka_protocol::messages::{
    describe_topic_partitions_request as dtpq, fetch_request as fq, produce_request as pq,
    ApiVersionsRequest, DescribeTopicPartitionsRequest, FetchRequest, ProduceRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

fn topic_name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

// ----- every version ------------------------------------------------------------------------------

/// ApiVersions v0-v4 all answer with the same entries.
#[test]
fn api_versions_every_version() {
    let tmp = TempDir::new("av");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for version in 0..=4 {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kafka-protocol"))
            .with_client_software_version(StrBytes::from_static_str("0.18"));
        let resp = c.kp_call(version, &req);
        assert_eq!(resp.error_code, 0, "v{version}");
        let keys: Vec<_> =
            resp.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
        assert_eq!(keys, ADVERTISED, "v{version}");
        assert_eq!(resp.throttle_time_ms, 0);
        // And our own decoder agrees on the layout.
        let body = c.call(API_VERSIONS, version, &api_versions_body(version));
        assert_eq!(decode_api_versions(&body, version).api_keys, ADVERTISED);
    }
}

/// Fetch v4-v17 (by name before v13, by id from v13) all return the fixture's batch exactly.
#[test]
fn fetch_every_version() {
    let tmp = fixture_copy();
    let on_disk = read_log(tmp.path(), "foo", 0);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for version in 4..=17 {
        let part = fq::FetchPartition::default()
            .with_partition(0)
            .with_fetch_offset(0)
            .with_partition_max_bytes(1 << 20);
        let mut topic = fq::FetchTopic::default().with_partitions(vec![part]);
        if version >= 13 {
            topic = topic.with_topic_id(uuid::Uuid::from_bytes(fixture_foo_id()));
        } else {
            topic = topic.with_topic(topic_name("foo"));
        }
        let mut req = FetchRequest::default()
            .with_max_wait_ms(100)
            .with_min_bytes(1)
            .with_max_bytes(1 << 20)
            .with_topics(vec![topic]);
        if version < 15 {
            req = req.with_replica_id((-1).into());
        }
        if version >= 7 {
            req = req.with_session_epoch(-1);
        }
        let resp = c.kp_call(version, &req);
        assert_eq!(resp.throttle_time_ms, 0, "v{version}");
        assert_eq!(resp.error_code, 0, "v{version}");
        assert_eq!(resp.responses.len(), 1, "v{version}");
        let t = &resp.responses[0];
        if version >= 13 {
            assert_eq!(t.topic_id.as_bytes(), &fixture_foo_id(), "v{version}");
        } else {
            assert_eq!(t.topic.0.as_str(), "foo", "v{version}");
        }
        let p = &t.partitions[0];
        assert_eq!((p.partition_index, p.error_code), (0, 0), "v{version}");
        assert_eq!((p.high_watermark, p.last_stable_offset), (1, 1), "v{version}");
        if version >= 5 {
            assert_eq!(p.log_start_offset, 0, "v{version}");
        }
        assert_eq!(p.records.as_deref(), Some(&on_disk[..]), "v{version}");
    }
}

/// Produce v3-v12 each append a batch; offsets run on across versions; all is fetched back.
#[test]
fn produce_every_version() {
    let tmp = TempDir::new("pv");
    let ids = make_log_dir(tmp.path(), &[("versions", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut expected = Vec::new();
    let mut next = 0i64;
    for version in 3..=12 {
        let value = format!("produced with v{version}");
        let b = batch(0, &[value.as_bytes(), b"second"]);
        let part =
            pq::PartitionProduceData::default().with_index(0).with_records(Some(b.clone().into()));
        let topic = pq::TopicProduceData::default()
            .with_name(topic_name("versions"))
            .with_partition_data(vec![part]);
        let req = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![topic]);
        let resp = c.kp_call(version, &req);
        assert_eq!(resp.responses.len(), 1, "v{version}");
        assert_eq!(resp.responses[0].name.0.as_str(), "versions");
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!((p.index, p.error_code, p.base_offset), (0, 0, next), "v{version}");
        assert_eq!(p.log_append_time_ms, -1, "v{version}");
        if version >= 5 {
            assert_eq!(p.log_start_offset, 0, "v{version}");
        }
        assert_eq!(resp.throttle_time_ms, 0);
        expected.extend(as_stored(&b, next, 0));
        next += 2;
    }
    assert_eq!(read_log(tmp.path(), "versions", 0), expected);
    assert_eq!(c.fetch_one(ids[0], 0, 0).records(), &expected[..]);
}

/// DescribeTopicPartitions encoded by kafka-protocol is understood, and its response decodes the
/// same with both decoders.
#[test]
fn dtp_kafka_protocol_roundtrip() {
    let tmp = TempDir::new("dtpkp");
    let ids = make_log_dir(tmp.path(), &[("b", 2), ("a", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let req = DescribeTopicPartitionsRequest::default()
        .with_topics(vec![
            dtpq::TopicRequest::default().with_name(topic_name("b")),
            dtpq::TopicRequest::default().with_name(topic_name("a")),
        ])
        .with_response_partition_limit(2000);
    let resp = c.kp_call(0, &req);
    let names: Vec<_> =
        resp.topics.iter().map(|t| t.name.as_ref().unwrap().0.as_str().to_string()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(resp.topics[0].topic_id.as_bytes(), &ids[1]);
    assert_eq!(resp.topics[1].topic_id.as_bytes(), &ids[0]);
    assert_eq!(resp.topics[1].partitions.len(), 2);
    assert!(resp.next_cursor.is_none());
}

// ----- DescribeTopicPartitions ------------------------------------------------------------------

/// Kafka answers every topic (unknown ones included) with the operations a client may perform;
/// with no authorizer that is all topic operations, 0x0df8.
#[test]
fn dtp_topic_authorized_operations_match_kafka() {
    let tmp = TempDir::new("ops");
    make_log_dir(tmp.path(), &[("known", 1)]);
    let broker = Broker::start(tmp.path());
    let d = broker.connect().dtp(&["known", "unknown"], 100, None);
    for t in &d.topics {
        assert_eq!(
            t.topic_authorized_operations, ALL_TOPIC_OPERATIONS,
            "topic {:?}: Kafka without an authorizer sends 0x0df8",
            t.name
        );
    }
}

/// Known and unknown topics mixed: sorted together, each with its own error.
#[test]
fn dtp_known_and_unknown_mixed() {
    let tmp = TempDir::new("mixed");
    let ids = make_log_dir(tmp.path(), &[("m", 2)]);
    let broker = Broker::start(tmp.path());
    let d = broker.connect().dtp(&["z-missing", "m", "a-missing"], 100, None);
    let got: Vec<_> = d
        .topics
        .iter()
        .map(|t| (t.name.clone().unwrap(), t.error_code, t.partitions.len()))
        .collect();
    assert_eq!(
        got,
        [("a-missing".to_string(), 3, 0), ("m".to_string(), 0, 2), ("z-missing".to_string(), 3, 0)]
    );
    assert_eq!(d.topics[1].topic_id, ids[0]);
    assert_eq!(d.topics[0].topic_id, [0; 16]);
    assert_eq!(d.next_cursor, None);
}

/// response_partition_limit pages through the partitions; the cursor points at the next one.
#[test]
fn dtp_paging_with_cursor() {
    let tmp = TempDir::new("page");
    make_log_dir(tmp.path(), &[("a", 3), ("b", 2), ("c", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let topics = ["c", "b", "a"];
    let parts = |d: &DtpResp| -> Vec<(String, i32)> {
        d.topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| (t.name.clone().unwrap(), p.partition_index)))
            .collect()
    };
    let p = |t: &str, i: i32| (t.to_string(), i);

    // Limit reached inside a topic: cursor on that topic's next partition.
    let d = c.dtp(&topics, 2, None);
    assert_eq!(parts(&d), [p("a", 0), p("a", 1)]);
    assert_eq!(d.next_cursor, Some(p("a", 2)));
    let d = c.dtp(&topics, 2, Some(("a", 2)));
    assert_eq!(parts(&d), [p("a", 2), p("b", 0)]);
    assert_eq!(d.next_cursor, Some(p("b", 1)));
    let d = c.dtp(&topics, 2, Some(("b", 1)));
    assert_eq!(parts(&d), [p("b", 1), p("c", 0)]);
    assert_eq!(d.next_cursor, None, "everything fits: null cursor");

    // Limit reached exactly at a topic's end: cursor on the next topic's partition 0.
    let d = c.dtp(&topics, 3, None);
    assert_eq!(parts(&d), [p("a", 0), p("a", 1), p("a", 2)]);
    assert_eq!(d.next_cursor, Some(p("b", 0)));
    let d = c.dtp(&topics, 3, Some(("b", 0)));
    assert_eq!(parts(&d), [p("b", 0), p("b", 1), p("c", 0)]);
    assert_eq!(d.next_cursor, None);
    // The topics before the cursor's are left out.
    assert!(d.topics.iter().all(|t| t.name.as_deref() != Some("a")));
}

/// An empty topic list describes every topic (as Kafka does), sorted.
#[test]
fn dtp_empty_list_describes_all_topics() {
    let tmp = TempDir::new("all");
    make_log_dir(tmp.path(), &[("zed", 1), ("alp", 2)]);
    let broker = Broker::start(tmp.path());
    let d = broker.connect().dtp(&[], 100, None);
    let names: Vec<_> = d.topics.iter().map(|t| t.name.clone().unwrap()).collect();
    assert_eq!(names, ["alp", "zed"]);
    assert!(d.topics.iter().all(|t| t.error_code == NONE));
}

// ----- Fetch ---------------------------------------------------------------------------------------

fn fetch_fixture(batches_n: usize, per_batch: usize) -> (TempDir, [u8; 16], Vec<Vec<u8>>) {
    let tmp = TempDir::new("fetch");
    let ids = make_log_dir(tmp.path(), &[("f", 2)]);
    let bs = batches("f", batches_n, per_batch);
    for b in &bs {
        append_log(tmp.path(), "f", 0, b);
    }
    (tmp, ids[0], bs)
}

/// Fetching from inside a batch returns that whole batch and what follows.
#[test]
fn fetch_from_middle_offset() {
    let (tmp, id, bs) = fetch_fixture(4, 3);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for offset in 0..12 {
        let f = c.fetch_one(id, 0, offset);
        assert_eq!(f.error_code, NONE);
        let first = (offset / 3) as usize;
        assert_eq!(f.records(), &bs[first..].concat()[..], "fetch at {offset}");
        assert_eq!((f.high_watermark, f.last_stable_offset, f.log_start_offset), (12, 12, 0));
    }
}

/// At the end of the log: no records, no error. Past it (or before the start): error 1.
#[test]
fn fetch_offset_bounds() {
    let (tmp, id, _) = fetch_fixture(2, 2);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let f = c.fetch_one(id, 0, 4);
    assert_eq!(f.error_code, NONE);
    assert!(f.records().is_empty());
    assert_eq!(f.high_watermark, 4);
    for offset in [5, 1000, -1, i64::MIN] {
        let f = c.fetch_one(id, 0, offset);
        assert_eq!(f.error_code, OFFSET_OUT_OF_RANGE, "offset {offset}");
        assert!(f.records().is_empty());
    }
    // The empty partition: offset 0 is the end; 1 is out of range.
    assert_eq!(c.fetch_one(id, 1, 0).error_code, NONE);
    assert_eq!(c.fetch_one(id, 1, 1).error_code, OFFSET_OUT_OF_RANGE);
}

/// partition_max_bytes bounds the answer in whole batches, but the first batch always comes.
#[test]
fn fetch_partition_max_bytes() {
    let (tmp, id, bs) = fetch_fixture(5, 2);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let len = |n: usize| bs[..n].iter().map(Vec::len).sum::<usize>() as i32;
    for (limit, want) in
        [(1, 1), (len(1), 1), (len(2), 2), (len(2) + 1, 2), (len(3) - 1, 2), (len(5), 5)]
    {
        let req = FetchReq::default().topic(
            id,
            vec![FetchPartitionReq { partition: 0, fetch_offset: 0, partition_max_bytes: limit }],
        );
        let f = c.fetch(&req);
        let p = f.partition(&id, 0);
        assert_eq!(p.error_code, NONE);
        assert_eq!(p.records(), &bs[..want].concat()[..], "partition_max_bytes {limit}");
    }
}

/// max_bytes bounds the whole response: the first partition with data gets at least one batch,
/// the rest what is left.
#[test]
fn fetch_max_bytes_across_partitions() {
    let (tmp, id, bs) = fetch_fixture(3, 1);
    let other = batches("g", 3, 1);
    for b in &other {
        append_log(tmp.path(), "f", 1, b);
    }
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let both = |max_bytes: i32, p0_max: i32| FetchReq {
        max_bytes,
        ..FetchReq::default().topic(
            id,
            vec![
                FetchPartitionReq { partition: 0, fetch_offset: 0, partition_max_bytes: p0_max },
                fp(1, 0),
            ],
        )
    };
    // The first partition gets one batch past the limit; none is left for the second.
    let f = c.fetch(&both(1, 1 << 20));
    assert_eq!(f.partition(&id, 0).records(), &bs[0][..]);
    assert!(f.partition(&id, 1).records().is_empty());
    assert_eq!(f.partition(&id, 1).error_code, NONE);
    // Partition 0 takes two batches (its own limit); partition 1 gets what max_bytes leaves,
    // one batch short of two.
    let p0 = (bs[0].len() + bs[1].len()) as i32;
    let f = c.fetch(&both(p0 + (other[0].len() + other[1].len()) as i32 - 1, p0));
    assert_eq!(f.partition(&id, 0).records(), &bs[..2].concat()[..]);
    assert_eq!(f.partition(&id, 1).records(), &other[0][..]);
    let f = c.fetch(&both(1 << 20, 1 << 20));
    assert_eq!(f.partition(&id, 0).records(), &bs.concat()[..]);
    assert_eq!(f.partition(&id, 1).records(), &other.concat()[..]);
}

/// Several topics and partitions in one Fetch, each answered with its own
/// error: a missing partition of a known topic is UNKNOWN_TOPIC_OR_PARTITION, an unknown id is
/// UNKNOWN_TOPIC_ID with -1 offsets.
#[test]
fn fetch_many_topics_own_errors() {
    let (tmp, id, bs) = fetch_fixture(1, 1);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let unknown = [9u8; 16];
    let req = FetchReq::default()
        .topic(id, vec![fp(1, 0), fp(5, 0), fp(0, 0)])
        .topic(unknown, vec![fp(0, 0)]);
    let f = c.fetch(&req);
    assert_eq!(f.error_code, NONE);
    assert_eq!(f.responses.len(), 2);
    let known = f.responses.iter().find(|t| t.topic_id == id).expect("known topic answered");
    let mut idx: Vec<_> =
        known.partitions.iter().map(|p| (p.partition_index, p.error_code)).collect();
    idx.sort_unstable();
    assert_eq!(idx, [(0, NONE), (1, NONE), (5, UNKNOWN_TOPIC_OR_PARTITION)]);
    assert_eq!(f.partition(&id, 0).records(), &bs[0][..]);
    assert!(f.partition(&id, 1).records().is_empty());
    let p = f.partition(&unknown, 0);
    assert_eq!((p.partition_index, p.error_code), (0, UNKNOWN_TOPIC_ID));
    assert_eq!((p.high_watermark, p.last_stable_offset, p.log_start_offset), (-1, -1, -1));
    assert_eq!(p.preferred_read_replica, -1);
}

// ----- Produce -------------------------------------------------------------------------------------

/// One request mixing good and bad partitions and topics: each answered on its own, only the
/// good ones stored.
#[test]
fn produce_mixed_good_and_bad() {
    let tmp = TempDir::new("pmix");
    make_log_dir(tmp.path(), &[("good", 2)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let b = batch(0, &[b"v"]);
    let mut corrupt = b.clone();
    let n = corrupt.len();
    corrupt[n - 1] ^= 1;
    let r = c.produce(&[
        ("good", vec![(0, Some(b.clone())), (9, Some(b.clone())), (1, Some(corrupt))]),
        ("bad", vec![(0, Some(b.clone()))]),
    ]);
    assert_eq!(r.responses.len(), 2);
    let g = |p| r.partition("good", p).error_code;
    assert_eq!((g(0), g(9), g(1)), (NONE, UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_MESSAGE));
    assert_eq!(r.partition("bad", 0).error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(r.partition("good", 0).base_offset, 0);
    assert_eq!(read_log(tmp.path(), "good", 0), as_stored(&b, 0, 0));
    assert!(read_log(tmp.path(), "good", 1).is_empty());
}

/// A batch above message.max.bytes is refused with MESSAGE_TOO_LARGE and not stored.
#[test]
fn produce_message_too_large() {
    let tmp = TempDir::new("mtl");
    make_log_dir(tmp.path(), &[("small", 1)]);
    let broker = Broker::start_with(tmp.path(), &["message.max.bytes=1000"]);
    let mut c = broker.connect();
    let big = batch(0, &[&[7u8; 2000]]);
    let r = c.produce(&[("small", vec![(0, Some(big))])]);
    assert_eq!(r.partition("small", 0).error_code, MESSAGE_TOO_LARGE);
    assert!(read_log(tmp.path(), "small", 0).is_empty());
    let ok = batch(0, &[&[7u8; 500]]);
    assert_eq!(c.produce(&[("small", vec![(0, Some(ok))])]).partition("small", 0).error_code, NONE);
}

// ----- Fetch long polling ----------------------------------------------------------------------------

/// A Fetch at the end of the log with max_wait_ms waits, and an append wakes it with the new
/// batch well before the wait is over.
#[test]
fn fetch_long_poll_woken_by_produce() {
    let tmp = TempDir::new("lp");
    let ids = make_log_dir(tmp.path(), &[("lp", 1)]);
    let broker = Broker::start(tmp.path());
    let mut consumer = broker.connect();
    let req = FetchReq { max_wait_ms: 20_000, ..FetchReq::default().topic(ids[0], vec![fp(0, 0)]) };
    let started = std::time::Instant::now();
    let id = consumer.send(FETCH, 16, &req.v16());
    let b = batch(0, &[b"wake up"]);
    let r = broker.connect().produce(&[("lp", vec![(0, Some(b.clone()))])]);
    assert_eq!(r.partition("lp", 0).base_offset, 0);
    let resp = consumer.recv(FETCH, 16);
    assert_eq!(resp.correlation_id, id);
    let f = decode_fetch_v16(&resp.body);
    // Whether the fetch was parked before the produce or not, Kafka answers with the batch.
    assert_eq!(f.partition(&ids[0], 0).records(), as_stored(&b, 0, 0));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the append must wake the parked fetch, not its 20 s timeout ({:?})",
        started.elapsed()
    );
}

/// With nothing to return, the Fetch waits out max_wait_ms and answers with no records; a
/// request pipelined behind it is answered after it.
#[test]
fn fetch_long_poll_times_out_in_order() {
    let tmp = TempDir::new("lpt");
    let ids = make_log_dir(tmp.path(), &[("idle", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let req = FetchReq { max_wait_ms: 300, ..FetchReq::default().topic(ids[0], vec![fp(0, 0)]) };
    let started = std::time::Instant::now();
    let mut both = frame(FETCH, 16, 1, &req.v16());
    both.extend(frame(API_VERSIONS, 4, 2, &api_versions_body(4)));
    c.send_raw(&both);
    let first = c.recv(FETCH, 16);
    let waited = started.elapsed();
    assert_eq!(first.correlation_id, 1);
    let f = decode_fetch_v16(&first.body);
    assert_eq!(f.partition(&ids[0], 0).error_code, NONE);
    assert!(f.partition(&ids[0], 0).records().is_empty());
    assert!(waited >= std::time::Duration::from_millis(250), "answered after {waited:?}");
    let second = c.recv(API_VERSIONS, 4);
    assert_eq!(second.correlation_id, 2);
    // max_wait_ms 0 answers at once (no lower bound to check, only that it answers).
    let req = FetchReq { max_wait_ms: 0, ..FetchReq::default().topic(ids[0], vec![fp(0, 0)]) };
    assert!(c.fetch(&req).partition(&ids[0], 0).records().is_empty());
}

/// read_committed fetches get an empty aborted-transactions list (none were aborted), while
/// read_uncommitted ones get null, as Kafka answers; the data is the same.
#[test]
fn fetch_aborted_transactions_follow_the_isolation_level() {
    let tmp = fixture_copy();
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let foo = fixture_foo_id();
    for (isolation_level, want) in [(0i8, None), (1, Some(vec![]))] {
        let req = FetchReq { isolation_level, ..FetchReq::default() }.topic(foo, vec![fp(0, 0)]);
        let resp = c.fetch(&req);
        let p = resp.partition(&foo, 0);
        assert_eq!(p.aborted_transactions, want, "isolation level {isolation_level}");
        assert_eq!((p.high_watermark, p.last_stable_offset), (1, 1));
        assert!(!p.records().is_empty());
    }
}

/// acks=0 has no response to carry an error, so Kafka closes the connection instead (the
/// producer notices and refreshes its metadata); a good acks=0 produce leaves it open.
#[test]
fn acks0_error_closes_the_connection() {
    let tmp = TempDir::new("acks0");
    let ids = make_log_dir(tmp.path(), &[("quiet", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    c.send(PRODUCE, 11, &produce_v11_body(0, &[("quiet", vec![(0, Some(batch(0, &[b"ok"])))])]));
    assert_eq!(c.api_versions(4).error_code, NONE, "still open after a good acks=0 produce");
    assert_eq!(c.fetch_one(ids[0], 0, 0).records(), &batch(0, &[b"ok"])[..]);
    c.send(PRODUCE, 11, &produce_v11_body(0, &[("quiet", vec![(3, Some(batch(0, &[b"x"])))])]));
    c.expect_closed();
}
