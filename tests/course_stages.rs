//! The 25 stages of the "Build your own Kafka" course (shared/COURSE.md), each replayed over TCP
//! against the real binary: what the course's tester sends, and its checks made byte by byte,
//! plus the files on disk where a stage writes them.

mod common;

use common::*;

// ----- 1-8: ApiVersions and the connection -------------------------------------------------------

/// Stage 1: the port accepts. Started the course's way: a `server.properties` path as the only
/// argument (with KRaft keys the broker must ignore), and a formatted log dir.
#[test]
fn stage01_bind_port_from_properties_file() {
    let tmp = TempDir::new("s01");
    let logs = tmp.join("kraft-combined-logs");
    make_log_dir(&logs, &[]);
    let props = tmp.join("server.properties");
    write_server_properties(&props, &logs, "PLAINTEXT://127.0.0.1:0");
    let broker = Broker::start_args(vec![props.into()]);
    assert!(broker.addr.ip().is_loopback());
    assert_ne!(broker.addr.port(), 0);
    let mut c = broker.connect();
    // The port is not just open: it speaks Kafka.
    assert_eq!(c.api_versions(4).error_code, NONE);
}

/// Stage 1 again with a properties file whose listener is the course's fixed :9092, overridden
/// on the command line: `--override` wins over the file.
#[test]
fn stage01_override_beats_properties_file() {
    let tmp = TempDir::new("s01o");
    let logs = tmp.join("logs");
    let props = tmp.join("server.properties");
    write_server_properties(
        &props,
        &tmp.join("not-this-dir"),
        "PLAINTEXT://:9092,CONTROLLER://:9093",
    );
    let broker = Broker::start_args(vec![
        props.into(),
        "--override".into(),
        "listeners=PLAINTEXT://127.0.0.1:0".into(),
        "--override".into(),
        format!("log.dirs={}", logs.display()).into(),
    ]);
    assert_ne!(broker.addr.port(), 9092);
    let mut c = broker.connect();
    assert_eq!(c.api_versions(4).error_code, NONE);
    assert!(logs.join("meta.properties").exists(), "the overridden log.dirs is the one used");
    assert!(!tmp.join("not-this-dir").join("meta.properties").exists());
}

/// Stage 2: correlation id 7 → 4-byte size, then correlation id 7.
#[test]
fn stage02_correlation_id_7() {
    let tmp = TempDir::new("s02");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    c.send_raw(&frame(API_VERSIONS, 4, 7, &api_versions_body(4)));
    let mut size = [0u8; 4];
    std::io::Read::read_exact(&mut c.stream, &mut size).unwrap();
    let size = i32::from_be_bytes(size);
    let mut payload = vec![0u8; size as usize];
    std::io::Read::read_exact(&mut c.stream, &mut payload).unwrap();
    assert_eq!(&payload[..4], &[0, 0, 0, 7]);
    assert_eq!(payload.len(), 4 + expected_api_versions_v4_body().len(), "message_size");
}

/// Stage 3: random correlation ids echoed in response header v0 (no tagged-field byte).
#[test]
fn stage03_correlation_id_echoed() {
    let tmp = TempDir::new("s03");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut rng = Rng::new(0x5eed_0003);
    let mut ids = vec![0, -1, i32::MAX, i32::MIN, 311_908_132];
    ids.extend((0..5).map(|_| rng.next() as i32));
    for id in ids {
        c.send_raw(&frame(API_VERSIONS, 4, id, &api_versions_body(4)));
        let payload = c.recv_frame();
        assert_eq!(i32::from_be_bytes(payload[..4].try_into().unwrap()), id);
        // Header v0: the body starts right after the id, with error_code 0.
        assert_eq!(payload[4..], expected_api_versions_v4_body()[..]);
    }
}

/// Stage 4: a version outside 0-4 → error 35 in a v0 body after header v0.
#[test]
fn stage04_unsupported_api_versions_version() {
    let tmp = TempDir::new("s04");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for version in [5i16, 0x7fff, -1] {
        let id = c.next_id();
        // Sent as the course does: a v2 header and a v4-shaped body.
        let mut w = W::new();
        w.i32(0)
            .i16(API_VERSIONS)
            .i16(version)
            .i32(id)
            .nullable_string(Some("kafka-tester"))
            .tags();
        w.raw(&api_versions_body(4));
        let mut f = w.take();
        let n = (f.len() - 4) as i32;
        f[..4].copy_from_slice(&n.to_be_bytes());
        c.send_raw(&f);
        let payload = c.recv_frame();
        let resp = split_response(&payload, API_VERSIONS, 0);
        assert_eq!(resp.correlation_id, id, "version {version}");
        let body = decode_api_versions(&resp.body, 0);
        assert_eq!(body.error_code, UNSUPPORTED_VERSION, "version {version}");
        // Kafka lists (at least) ApiVersions' own range so the client can retry; the broker's
        // design lists all its ranges. Either way each entry must be a true one.
        assert!(body.api_keys.contains(&(API_VERSIONS, 0, 4)), "{body:?}");
        for e in &body.api_keys {
            assert!(ADVERTISED.contains(e), "entry {e:?} is not what the broker supports");
        }
        let _: kafka_protocol::messages::ApiVersionsResponse = oracle(&resp.body, 0);
    }
    // The connection is still usable afterwards.
    assert_eq!(c.api_versions(4).error_code, NONE);
}

/// Stage 5: the ApiVersions v4 body, byte for byte, and a correct message_size.
#[test]
fn stage05_api_versions_body_exact() {
    let tmp = TempDir::new("s05");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    c.send_raw(&frame(API_VERSIONS, 4, 0x1234_5678, &api_versions_body(4)));
    let mut expected = W::new();
    let body = expected_api_versions_v4_body();
    expected.i32(4 + body.len() as i32).i32(0x1234_5678).raw(&body);
    let expected = expected.take();
    let mut got = vec![0u8; expected.len()];
    std::io::Read::read_exact(&mut c.stream, &mut got).unwrap();
    assert_eq!(got, expected);
    let oracle: kafka_protocol::messages::ApiVersionsResponse = oracle(&body, 4);
    assert_eq!(oracle.error_code, 0);
    let keys: Vec<_> =
        oracle.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
    assert_eq!(keys, ADVERTISED);
    assert!(oracle.supported_features.is_empty() && oracle.finalized_features.is_empty());
}

/// Stage 6: several requests, one after another, on one connection.
#[test]
fn stage06_serial_requests() {
    let tmp = TempDir::new("s06");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for i in 0..5 {
        let id = 40 + i;
        c.send_raw(&frame(API_VERSIONS, 4, id, &api_versions_body(4)));
        let payload = c.recv_frame();
        assert_eq!(i32::from_be_bytes(payload[..4].try_into().unwrap()), id);
        assert_eq!(payload[4..], expected_api_versions_v4_body()[..]);
    }
}

/// Stage 7: several connections with interleaved requests, each answered on its own.
#[test]
fn stage07_concurrent_clients() {
    let tmp = TempDir::new("s07");
    let broker = Broker::start(tmp.path());
    let mut clients: Vec<Client> = (0..4).map(|_| broker.connect()).collect();
    for round in 0..3 {
        for (i, c) in clients.iter_mut().enumerate() {
            c.send_raw(&frame(API_VERSIONS, 4, (round * 100 + i) as i32, &api_versions_body(4)));
        }
        // Read in reverse order: no connection's answer may depend on another's.
        for (i, c) in clients.iter_mut().enumerate().rev() {
            let payload = c.recv_frame();
            assert_eq!(
                i32::from_be_bytes(payload[..4].try_into().unwrap()),
                (round * 100 + i) as i32
            );
            assert_eq!(payload[4..], expected_api_versions_v4_body()[..]);
        }
    }
}

fn advertised_entry(key: i16) -> (i16, i16, i16) {
    let tmp = TempDir::new("adv");
    let broker = Broker::start(tmp.path());
    let resp = broker.connect().api_versions(4);
    assert_eq!(resp.error_code, NONE);
    assert_eq!(resp.throttle_time_ms, Some(0));
    *resp.api_keys.iter().find(|e| e.0 == key).unwrap_or_else(|| panic!("no entry for key {key}"))
}

/// Stage 8: DescribeTopicPartitions (75) is advertised, max >= 0.
#[test]
fn stage08_dtp_in_api_versions() {
    let (_, min, max) = advertised_entry(DESCRIBE_TOPIC_PARTITIONS);
    assert_eq!((min, max), (0, 0));
}

// ----- 9-12: DescribeTopicPartitions -------------------------------------------------------------

/// Stage 9: an unknown topic → error 3, all-zero id, no partitions, null cursor.
#[test]
fn stage09_dtp_unknown_topic() {
    let tmp = TempDir::new("s09");
    make_log_dir(tmp.path(), &[("bar", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let body = c.call(DESCRIBE_TOPIC_PARTITIONS, 0, &dtp_body(&["unknown-topic-saz"], 1, None));
    let resp = decode_dtp(&body);
    assert_eq!(resp.throttle_time_ms, 0);
    assert_eq!(resp.topics.len(), 1);
    let t = &resp.topics[0];
    assert_eq!(t.error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(t.name.as_deref(), Some("unknown-topic-saz"));
    assert_eq!(t.topic_id, [0; 16]);
    assert!(!t.is_internal);
    assert!(t.partitions.is_empty());
    assert_eq!(resp.next_cursor, None);
    // Byte layout: everything but the authorized-operations word is fixed.
    let mut w = W::new();
    w.i32(0).compact_len(1).i16(3).compact_string("unknown-topic-saz").uuid(&[0; 16]).bool(false);
    w.compact_len(0).i32(t.topic_authorized_operations).tags().i8(-1).tags();
    assert_eq!(body, w.take());
    let _: kafka_protocol::messages::DescribeTopicPartitionsResponse = oracle(&body, 0);
}

fn assert_single_node_partition(p: &DtpPartition, index: i32) {
    assert_eq!(p.error_code, NONE);
    assert_eq!(p.partition_index, index);
    assert_eq!(p.leader_id, 1);
    assert_eq!(p.leader_epoch, 0);
    assert_eq!(p.replica_nodes, [1]);
    assert_eq!(p.isr_nodes, [1]);
    // null (this broker's choice) or empty (what Kafka sends when there is no ELR).
    assert!(p.eligible_leader_replicas.as_deref().unwrap_or(&[]).is_empty());
    assert!(p.last_known_elr.as_deref().unwrap_or(&[]).is_empty());
    assert!(p.offline_replicas.is_empty());
}

/// Stage 10: one partition; the topic id comes from the metadata log. Here the metadata log is
/// the real Kafka-written fixture.
#[test]
fn stage10_dtp_one_partition_fixture() {
    let tmp = fixture_copy();
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let body = c.call(DESCRIBE_TOPIC_PARTITIONS, 0, &dtp_body(&["foo"], 100, None));
    let resp = decode_dtp(&body);
    assert_eq!(resp.topics.len(), 1);
    let t = &resp.topics[0];
    assert_eq!((t.error_code, t.name.as_deref(), t.is_internal), (NONE, Some("foo"), false));
    assert_eq!(t.topic_id, fixture_foo_id());
    assert_eq!(t.partitions.len(), 1);
    assert_single_node_partition(&t.partitions[0], 0);
    assert_eq!(resp.next_cursor, None);
    let o: kafka_protocol::messages::DescribeTopicPartitionsResponse = oracle(&body, 0);
    assert_eq!(o.topics[0].topic_id.as_bytes(), &fixture_foo_id());
}

/// Stage 10 on a log dir written by the library (the course's tester writes one like it).
#[test]
fn stage10_dtp_one_partition() {
    let tmp = TempDir::new("s10");
    let ids = make_log_dir(tmp.path(), &[("pax", 1)]);
    let broker = Broker::start(tmp.path());
    let resp = broker.connect().dtp(&["pax"], 1, None);
    assert_eq!(resp.topics.len(), 1);
    assert_eq!(resp.topics[0].topic_id, ids[0]);
    assert_eq!(resp.topics[0].error_code, NONE);
    assert_eq!(resp.topics[0].partitions.len(), 1);
    assert_single_node_partition(&resp.topics[0].partitions[0], 0);
    assert_eq!(resp.next_cursor, None);
}

/// Stage 11: every partition, in index order.
#[test]
fn stage11_dtp_many_partitions() {
    let tmp = TempDir::new("s11");
    let ids = make_log_dir(tmp.path(), &[("quz", 3)]);
    let broker = Broker::start(tmp.path());
    let resp = broker.connect().dtp(&["quz"], 100, None);
    assert_eq!(resp.topics.len(), 1);
    let t = &resp.topics[0];
    assert_eq!((t.error_code, t.topic_id), (NONE, ids[0]));
    assert_eq!(t.partitions.len(), 3);
    for (i, p) in t.partitions.iter().enumerate() {
        assert_single_node_partition(p, i as i32);
    }
    assert_eq!(resp.next_cursor, None);
}

/// Stage 12: several topics, asked for out of order, come back sorted by name.
#[test]
fn stage12_dtp_many_topics_sorted() {
    let tmp = TempDir::new("s12");
    let ids = make_log_dir(tmp.path(), &[("qux", 2), ("baz", 1), ("paz", 3)]);
    let broker = Broker::start(tmp.path());
    let resp = broker.connect().dtp(&["qux", "paz", "baz"], 100, None);
    let names: Vec<_> = resp.topics.iter().map(|t| t.name.clone().unwrap()).collect();
    assert_eq!(names, ["baz", "paz", "qux"]);
    let expect = [("baz", ids[1], 1), ("paz", ids[2], 3), ("qux", ids[0], 2)];
    for (t, (_, id, n)) in resp.topics.iter().zip(expect) {
        assert_eq!((t.error_code, t.topic_id), (NONE, id));
        assert_eq!(t.partitions.len(), n);
        for (i, p) in t.partitions.iter().enumerate() {
            assert_single_node_partition(p, i as i32);
        }
    }
    assert_eq!(resp.next_cursor, None);
}

// ----- 13-18: Fetch ------------------------------------------------------------------------------

/// Stage 13: Fetch (1) is advertised, max >= 16.
#[test]
fn stage13_fetch_in_api_versions() {
    let (_, min, max) = advertised_entry(FETCH);
    assert_eq!(min, 4);
    assert!(max >= 16, "Fetch max {max}");
}

/// Stage 14: Fetch v16 with no topics → error 0, throttle 0, no responses; exact frame.
#[test]
fn stage14_fetch_no_topics() {
    let tmp = TempDir::new("s14");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    c.send_raw(&frame(FETCH, 16, 0x0102_0304, &FetchReq::default().v16()));
    let payload = c.recv_frame();
    let mut w = W::new();
    // header v1: correlation id + tags; body: throttle, error, session, responses [], tags.
    w.i32(0x0102_0304).tags().i32(0).i16(0).i32(0).compact_len(0).tags();
    assert_eq!(payload, w.take());
}

/// Stage 15: an unknown topic id → partition error 100.
#[test]
fn stage15_fetch_unknown_topic() {
    let tmp = TempDir::new("s15");
    make_log_dir(tmp.path(), &[("foo", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let unknown = [
        0x71, 0xa5, 0x9a, 0x51, 0x04, 0x0b, 0x44, 0x77, 0x9d, 0x77, 0x2c, 0x14, 0x60, 0x73, 0x23,
        0x08,
    ];
    let body = c.call(FETCH, 16, &FetchReq::default().topic(unknown, vec![fp(0, 0)]).v16());
    let resp = decode_fetch_v16(&body);
    assert_eq!((resp.throttle_time_ms, resp.error_code), (0, NONE));
    assert_eq!(resp.responses.len(), 1);
    assert_eq!(resp.responses[0].topic_id, unknown);
    assert_eq!(resp.responses[0].partitions.len(), 1);
    let p = &resp.responses[0].partitions[0];
    assert_eq!((p.partition_index, p.error_code), (0, UNKNOWN_TOPIC_ID));
    assert!(p.records().is_empty());
    let _: kafka_protocol::messages::FetchResponse = oracle(&body, 16);
}

/// Stage 16: a topic with no records → error 0, no records.
#[test]
fn stage16_fetch_empty_topic() {
    let tmp = TempDir::new("s16");
    let ids = make_log_dir(tmp.path(), &[("empty", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let body = c.call(FETCH, 16, &FetchReq::default().topic(ids[0], vec![fp(0, 0)]).v16());
    let resp = decode_fetch_v16(&body);
    assert_eq!((resp.throttle_time_ms, resp.error_code), (0, NONE));
    assert_eq!(resp.responses.len(), 1);
    assert_eq!(resp.responses[0].topic_id, ids[0]);
    let p = &resp.responses[0].partitions[0];
    assert_eq!((p.partition_index, p.error_code), (0, NONE));
    assert!(p.records().is_empty(), "no records: {:?}", p.records);
    assert_eq!((p.high_watermark, p.last_stable_offset, p.log_start_offset), (0, 0, 0));
    let _: kafka_protocol::messages::FetchResponse = oracle(&body, 16);
}

/// Stage 17: one batch on disk → that batch exactly as stored.
#[test]
fn stage17_fetch_one_message() {
    let tmp = TempDir::new("s17");
    let ids = make_log_dir(tmp.path(), &[("one", 1)]);
    append_log(tmp.path(), "one", 0, &batch(0, &[b"Hello World!"]));
    let on_disk = read_log(tmp.path(), "one", 0);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let p = c.fetch_one(ids[0], 0, 0);
    assert_eq!(p.error_code, NONE);
    assert_eq!(p.records(), &on_disk[..]);
    assert_eq!((p.high_watermark, p.last_stable_offset, p.log_start_offset), (1, 1, 0));
}

/// Stage 17 with the real Kafka-written fixture (`foo`, "Hello World!").
#[test]
fn stage17_fetch_fixture_batch() {
    let tmp = fixture_copy();
    let on_disk = read_log(tmp.path(), "foo", 0);
    assert_eq!(on_disk.len(), 80);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let body =
        c.call(FETCH, 16, &FetchReq::default().topic(fixture_foo_id(), vec![fp(0, 0)]).v16());
    let resp = decode_fetch_v16(&body);
    let p = resp.partition(&fixture_foo_id(), 0);
    assert_eq!(p.error_code, NONE);
    assert_eq!(p.records(), &on_disk[..]);
    assert_eq!((p.high_watermark, p.last_stable_offset, p.log_start_offset), (1, 1, 0));
    let o: kafka_protocol::messages::FetchResponse = oracle(&body, 16);
    assert_eq!(o.responses[0].partitions[0].records.as_deref(), Some(&on_disk[..]));
}

/// Stage 18: 2-4 batches on disk → all of them, exactly as stored.
#[test]
fn stage18_fetch_many_messages() {
    let tmp = TempDir::new("s18");
    let ids = make_log_dir(tmp.path(), &[("many", 1)]);
    let bs = batches("many", 4, 3);
    for b in &bs {
        append_log(tmp.path(), "many", 0, b);
    }
    let on_disk = read_log(tmp.path(), "many", 0);
    assert_eq!(on_disk, bs.concat());
    let broker = Broker::start(tmp.path());
    let p = broker.connect().fetch_one(ids[0], 0, 0);
    assert_eq!(p.error_code, NONE);
    assert_eq!(p.records(), &on_disk[..]);
    assert_eq!((p.high_watermark, p.last_stable_offset, p.log_start_offset), (12, 12, 0));
}

// ----- 19-25: Produce ----------------------------------------------------------------------------

/// Stage 19: Produce (0) is advertised, max >= 11.
#[test]
fn stage19_produce_in_api_versions() {
    let (_, min, max) = advertised_entry(PRODUCE);
    assert_eq!(min, 3);
    assert!(max >= 11, "Produce max {max}");
}

fn assert_unknown_partition(p: &ProducePartitionResp, index: i32) {
    assert_eq!(p.index, index);
    assert_eq!(p.error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!((p.base_offset, p.log_append_time_ms, p.log_start_offset), (-1, -1, -1));
    assert!(p.record_errors.is_empty());
}

/// Stage 20: a bad partition of a known topic, then an unknown topic → error 3 and -1s.
#[test]
fn stage20_produce_invalid() {
    let tmp = TempDir::new("s20");
    make_log_dir(tmp.path(), &[("known", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();

    let body =
        c.call(PRODUCE, 11, &produce_v11_body(1, &[("known", vec![(7, Some(batch(0, &[b"x"])))])]));
    let resp = decode_produce_v11(&body);
    assert_eq!(resp.throttle_time_ms, 0);
    assert_eq!(resp.responses.len(), 1);
    assert_eq!(resp.responses[0].name, "known");
    assert_eq!(resp.responses[0].partitions.len(), 1);
    assert_unknown_partition(&resp.responses[0].partitions[0], 7);
    let _: kafka_protocol::messages::ProduceResponse = oracle(&body, 11);

    let body = c.call(
        PRODUCE,
        11,
        &produce_v11_body(1, &[("nosuch", vec![(0, Some(batch(0, &[b"x"])))])]),
    );
    let resp = decode_produce_v11(&body);
    assert_eq!(resp.throttle_time_ms, 0);
    assert_eq!(resp.responses.len(), 1);
    assert_eq!(resp.responses[0].name, "nosuch");
    assert_unknown_partition(&resp.responses[0].partitions[0], 0);

    // Nothing was created or written.
    assert!(!tmp.join("known-7").exists());
    assert!(!tmp.join("nosuch-0").exists());
    assert!(read_log(tmp.path(), "known", 0).is_empty());
}

/// Produces one batch per (topic, partition), checks the answer and the files right away, then
/// fetches each partition back like the course does.
fn produce_and_verify(topics: &[(&str, i32)], records_per_batch: usize) {
    let tmp = TempDir::new("prod");
    let ids = make_log_dir(tmp.path(), topics);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut sent = Vec::new();
    let mut request = Vec::new();
    for (name, n) in topics {
        let mut parts = Vec::new();
        for p in 0..*n {
            let values: Vec<Vec<u8>> = (0..records_per_batch)
                .map(|r| format!("Message {r} for {name}-{p}").into_bytes())
                .collect();
            let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
            let b = batch(0, &refs);
            sent.push((*name, p, b.clone()));
            parts.push((p, Some(b)));
        }
        request.push((*name, parts));
    }
    let body = c.call(PRODUCE, 11, &produce_v11_body(1, &request));
    // The files are checked the moment the response is in.
    for (name, p, b) in &sent {
        assert_eq!(
            read_log(tmp.path(), name, *p),
            as_stored(b, 0, 0),
            "{name}-{p} on disk right after the response"
        );
    }
    let resp = decode_produce_v11(&body);
    let _: kafka_protocol::messages::ProduceResponse = oracle(&body, 11);
    assert_eq!(resp.throttle_time_ms, 0);
    assert_eq!(resp.responses.len(), topics.len());
    for (name, n) in topics {
        let t = resp.responses.iter().find(|t| t.name == *name).expect("topic answered");
        assert_eq!(t.partitions.len(), *n as usize);
        for p in 0..*n {
            let pr = resp.partition(name, p);
            assert_eq!(pr.error_code, NONE, "{name}-{p}");
            assert_eq!((pr.base_offset, pr.log_append_time_ms, pr.log_start_offset), (0, -1, 0));
            assert!(pr.record_errors.is_empty());
            assert_eq!(pr.error_message, None);
        }
    }
    for (i, (name, p, b)) in sent.iter().enumerate() {
        let id = ids[topics.iter().position(|t| t.0 == *name).unwrap()];
        let f = c.fetch_one(id, *p, 0);
        assert_eq!(f.error_code, NONE);
        assert_eq!(f.records(), as_stored(b, 0, 0), "fetch #{i} of {name}-{p}");
        assert_eq!(f.high_watermark, records_per_batch as i64);
    }
}

/// Stage 21: an existing, empty partition → error 0, base 0, log_append_time -1, start 0.
#[test]
fn stage21_produce_response() {
    produce_and_verify(&[("pear", 1)], 1);
}

/// Stage 22: one record; the first log file starts with that batch, CRC unchanged.
#[test]
fn stage22_single_record_stored() {
    let tmp = TempDir::new("s22");
    let ids = make_log_dir(tmp.path(), &[("raspberry", 3)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    // A batch the way Java producers send it: base offset 0, leader epoch -1, with a header.
    let mut b = BatchBuilder::new(0, TS);
    b.push(None, Some(b"Hello Kafka!"), &[Header { key: "trace", value: Some(b"1") }]);
    let sent = b.finish();
    let resp = c.produce(&[("raspberry", vec![(0, Some(sent.clone()))])]);
    let on_disk = read_log(tmp.path(), "raspberry", 0);
    // Byte for byte but for the leader epoch, which the CRC does not cover.
    assert_eq!(on_disk, as_stored(&sent, 0, 0));
    let p = resp.partition("raspberry", 0);
    assert_eq!(
        (p.error_code, p.base_offset, p.log_append_time_ms, p.log_start_offset),
        (0, 0, -1, 0)
    );
    let stored = minikafka::records::batches(&on_disk).next().unwrap().expect("valid CRC");
    assert_eq!(stored.0.records_count, 1);
    // The other partitions are untouched.
    assert!(read_log(tmp.path(), "raspberry", 1).is_empty());
    assert_eq!(c.fetch_one(ids[0], 0, 0).records(), on_disk);
}

/// Stage 23: several records in one batch take consecutive offsets; the next batch starts after
/// the last offset delta.
#[test]
fn stage23_batch_of_records() {
    let tmp = TempDir::new("s23");
    let ids = make_log_dir(tmp.path(), &[("apple", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let first = batch(0, &[b"Message 1", b"Message 2", b"Message 3"]);
    let resp = c.produce(&[("apple", vec![(0, Some(first.clone()))])]);
    assert_eq!(resp.partition("apple", 0).base_offset, 0);
    let first = as_stored(&first, 0, 0);
    assert_eq!(read_log(tmp.path(), "apple", 0), first);
    let second = batch(0, &[b"Message 4", b"Message 5"]);
    let resp = c.produce(&[("apple", vec![(0, Some(second.clone()))])]);
    let p = resp.partition("apple", 0);
    assert_eq!((p.error_code, p.base_offset, p.log_start_offset), (NONE, 3, 0));
    let second = as_stored(&second, 3, 0);
    let expected = [first.clone(), second.clone()].concat();
    assert_eq!(read_log(tmp.path(), "apple", 0), expected);
    let f = c.fetch_one(ids[0], 0, 0);
    assert_eq!(f.records(), &expected[..]);
    assert_eq!(f.high_watermark, 5);
    // Fetching from inside the second batch returns that batch.
    assert_eq!(c.fetch_one(ids[0], 0, 4).records(), second);
}

/// Stage 23 as the course phrases it: 3 records, last offset delta 2, one answer.
#[test]
fn stage23_three_records_one_batch() {
    produce_and_verify(&[("banana", 1)], 3);
}

/// Stage 24: one topic, several partitions in one request, each answered and stored.
#[test]
fn stage24_many_partitions() {
    produce_and_verify(&[("orange", 3)], 1);
}

/// Stage 25: several topics in one request, each answered and stored.
#[test]
fn stage25_many_topics() {
    produce_and_verify(&[("topic1", 1), ("topic2", 2), ("topic3", 1)], 2);
}

/// All 25 stages' requests on one connection in the order the course runs them, against one
/// log dir with the fixture's `foo` and two more topics.
#[test]
fn all_stages_on_one_connection() {
    let tmp = fixture_copy();
    let ids = {
        let a = minikafka::metadata::add_topic(tmp.path(), "alpha", 2).unwrap();
        let b = minikafka::metadata::add_topic(tmp.path(), "beta", 1).unwrap();
        [a, b]
    };
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    // The fixture was formatted before Kafka 4: group.version 0, so Kafka would leave the
    // consumer protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe) out, and so do we.
    let without_consumer_protocol: Vec<_> =
        ADVERTISED.into_iter().filter(|(k, _, _)| !matches!(k, 68 | 69)).collect();
    assert_eq!(c.api_versions(4).api_keys, without_consumer_protocol);
    let dtp = c.dtp(&["beta", "zeta", "foo", "alpha"], 100, None);
    let names: Vec<_> = dtp.topics.iter().map(|t| t.name.clone().unwrap()).collect();
    assert_eq!(names, ["alpha", "beta", "foo", "zeta"]);
    assert_eq!(dtp.topics[3].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(dtp.topics[0].partitions.len(), 2);
    assert_eq!(c.fetch(&FetchReq::default()).responses.len(), 0);
    let foo = read_log(tmp.path(), "foo", 0);
    assert_eq!(c.fetch_one(fixture_foo_id(), 0, 0).records(), &foo[..]);
    // Produce to foo appends after the Hello World! batch.
    let b = batch(0, &[b"after"]);
    let r =
        c.produce(&[("foo", vec![(0, Some(b.clone()))]), ("alpha", vec![(1, Some(b.clone()))])]);
    assert_eq!(r.partition("foo", 0).base_offset, 1);
    assert_eq!(r.partition("alpha", 1).base_offset, 0);
    assert_eq!(read_log(tmp.path(), "foo", 0), [foo.clone(), as_stored(&b, 1, 0)].concat());
    assert_eq!(c.fetch_one(ids[0], 1, 0).records(), as_stored(&b, 0, 0));
    assert!(c.fetch_one(ids[1], 0, 0).records().is_empty());
}

/// A log dir written by hand the way the course's tester writes it — metadata records all at
/// offset delta 0, PartitionRecord v0 and v1, a non-zero leader epoch — is understood: DTP,
/// Fetch and Produce all work on it.
#[test]
fn tester_style_log_dir_with_zero_offset_deltas() {
    let tmp = TempDir::new("handmade");
    let bar = [0x40, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x91];
    let baz = [
        0x71, 0xa5, 0x9a, 0x51, 0x04, 0x0b, 0x44, 0x77, 0x9d, 0x77, 0x2c, 0x14, 0x60, 0x73, 0x23,
        0x08,
    ];
    write_tester_style_log_dir(tmp.path(), &[("bar", bar, 1, 0), ("baz", baz, 3, 4)]);
    let stored = batches("baz", 2, 2);
    for b in &stored {
        append_log(tmp.path(), "baz", 2, b);
    }
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let d = c.dtp(&["baz", "bar"], 100, None);
    assert_eq!(d.topics.len(), 2);
    assert_eq!((d.topics[0].name.as_deref(), d.topics[0].topic_id), (Some("bar"), bar));
    assert_eq!((d.topics[1].name.as_deref(), d.topics[1].topic_id), (Some("baz"), baz));
    assert_eq!(d.topics[0].partitions.len(), 1);
    assert_eq!(d.topics[1].partitions.len(), 3);
    for (i, p) in d.topics[1].partitions.iter().enumerate() {
        assert_eq!((p.error_code, p.partition_index, p.leader_id), (NONE, i as i32, 1));
        assert_eq!(p.leader_epoch, 4, "leader epoch from the PartitionRecord");
    }
    assert_eq!(c.fetch_one(baz, 2, 0).records(), &stored.concat()[..]);
    assert!(c.fetch_one(baz, 0, 0).records().is_empty());
    assert_eq!(c.fetch_one([0x55; 16], 0, 0).error_code, UNKNOWN_TOPIC_ID);
    let b = batch(0, &[b"x"]);
    let r = c.produce(&[
        ("baz", vec![(2, Some(b.clone())), (1, Some(b.clone()))]),
        ("bar", vec![(0, Some(b.clone()))]),
    ]);
    assert_eq!(r.partition("baz", 2).base_offset, 4);
    assert_eq!(r.partition("baz", 1).base_offset, 0);
    assert_eq!(r.partition("bar", 0).base_offset, 0);
    assert_eq!(read_log(tmp.path(), "bar", 0), as_stored(&b, 0, 0));
    // Stamped with the leader epoch its PartitionRecord gives.
    assert_eq!(read_log(tmp.path(), "baz", 2), [stored.concat(), as_stored(&b, 4, 4)].concat());
}
