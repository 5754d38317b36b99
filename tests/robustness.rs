//! How the broker copes with the network and the disk: split and pipelined frames, many
//! connections, restarts, corrupt and hostile input, and the files it writes.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;

// ----- framing -----------------------------------------------------------------------------------

/// Every response frame up to the connection's end, as correlation ids.
fn correlation_ids_until_close(c: &mut Client) -> Vec<i32> {
    let mut ids = Vec::new();
    while let Some(payload) = c.recv_frame_or_close() {
        ids.push(i32::from_be_bytes(payload[..4].try_into().unwrap()));
    }
    ids
}

/// Requests followed at once by the client's half-close (often one segment, one event) are all
/// answered, in order, before the broker closes its side.
#[test]
fn requests_then_a_half_close_are_answered_then_closed() {
    let tmp = TempDir::new("halfclose");
    let ids = make_log_dir(tmp.path(), &[("hc", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut bytes = Vec::new();
    for id in 1..=3 {
        bytes.extend(frame(API_VERSIONS, 4, id, &api_versions_body(4)));
    }
    let fetch = FetchReq { max_wait_ms: 0, ..FetchReq::default().topic(ids[0], vec![fp(0, 0)]) };
    bytes.extend(frame(FETCH, 16, 4, &fetch.v16()));
    c.send_raw(&bytes);
    c.shutdown_write();
    assert_eq!(correlation_ids_until_close(&mut c), [1, 2, 3, 4]);
}

/// A half-close that arrives while a request is parked (a long-polling fetch) is not lost: the
/// fetch is answered when its wait ends, then the request behind it, then the broker closes.
#[test]
fn a_half_close_behind_a_parked_fetch_is_seen_when_it_is_answered() {
    let tmp = TempDir::new("parkclose");
    let ids = make_log_dir(tmp.path(), &[("pc", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let fetch = FetchReq { max_wait_ms: 200, ..FetchReq::default().topic(ids[0], vec![fp(0, 0)]) };
    let mut bytes = frame(FETCH, 16, 1, &fetch.v16());
    bytes.extend(frame(API_VERSIONS, 4, 2, &api_versions_body(4)));
    c.send_raw(&bytes);
    c.shutdown_write();
    assert_eq!(correlation_ids_until_close(&mut c), [1, 2]);
}

/// Requests written one byte per write are reassembled and answered.
#[test]
fn byte_at_a_time_frames() {
    let tmp = TempDir::new("bytes");
    let ids = make_log_dir(tmp.path(), &[("drip", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let b = batch(0, &[b"one byte at a time"]);
    let requests = [
        frame(API_VERSIONS, 4, 1, &api_versions_body(4)),
        frame(PRODUCE, 11, 2, &produce_v11_body(1, &[("drip", vec![(0, Some(b.clone()))])])),
        frame(FETCH, 16, 3, &FetchReq::default().topic(ids[0], vec![fp(0, 0)]).v16()),
    ];
    for (i, f) in requests.iter().enumerate() {
        for byte in f {
            c.send_raw(std::slice::from_ref(byte));
            c.stream.flush().unwrap();
        }
        let payload = c.recv_frame();
        assert_eq!(i32::from_be_bytes(payload[..4].try_into().unwrap()), i as i32 + 1);
    }
    assert_eq!(c.fetch_one(ids[0], 0, 0).records(), as_stored(&b, 0, 0));
}

/// 100 requests of all four APIs in a single write are answered in order.
#[test]
fn pipelined_100_requests_in_one_write() {
    let tmp = TempDir::new("pipe");
    let ids = make_log_dir(tmp.path(), &[("pipe", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut all = Vec::new();
    let mut kinds = Vec::new();
    for i in 0..100 {
        let (key, version, body) = match i % 4 {
            0 => (API_VERSIONS, 4, api_versions_body(4)),
            1 => (DESCRIBE_TOPIC_PARTITIONS, 0, dtp_body(&["pipe"], 10, None)),
            2 => {
                (PRODUCE, 11, produce_v11_body(1, &[("pipe", vec![(0, Some(batch(0, &[b"p"])))])]))
            }
            _ => (FETCH, 16, FetchReq::default().topic(ids[0], vec![fp(0, 0)]).v16()),
        };
        all.extend(frame(key, version, 5000 + i, &body));
        kinds.push((key, version));
    }
    c.send_raw(&all);
    let mut produced = 0;
    for (i, (key, version)) in kinds.into_iter().enumerate() {
        let resp = c.recv(key, version);
        assert_eq!(resp.correlation_id, 5000 + i as i32, "response #{i} out of order");
        match key {
            API_VERSIONS => assert_eq!(resp.body, expected_api_versions_v4_body()),
            DESCRIBE_TOPIC_PARTITIONS => {
                assert_eq!(decode_dtp(&resp.body).topics[0].topic_id, ids[0])
            }
            PRODUCE => {
                let p = decode_produce_v11(&resp.body);
                assert_eq!(p.partition("pipe", 0).base_offset, produced);
                produced += 1;
            }
            _ => {
                // Each fetch sees every produce sent before it in the pipeline.
                let f = decode_fetch_v16(&resp.body);
                assert_eq!(split_batches(f.partition(&ids[0], 0).records()).len() as i64, produced);
            }
        }
    }
}

/// 50 connections at once, each with its own request in flight, all answered correctly.
#[test]
fn fifty_concurrent_connections() {
    let tmp = TempDir::new("fifty");
    make_log_dir(tmp.path(), &[("many", 1)]);
    let broker = Broker::start(tmp.path());
    let mut clients: Vec<Client> = (0..50).map(|_| broker.connect()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send_raw(&frame(API_VERSIONS, 4, i as i32, &api_versions_body(4)));
    }
    for (i, c) in clients.iter_mut().enumerate().rev() {
        let payload = c.recv_frame();
        assert_eq!(i32::from_be_bytes(payload[..4].try_into().unwrap()), i as i32);
        assert_eq!(payload[4..], expected_api_versions_v4_body()[..]);
    }
}

/// 50 threads producing to one partition at the same time: every batch gets its own offset,
/// and the log holds each exactly once.
#[test]
fn fifty_concurrent_producers_one_partition() {
    let tmp = TempDir::new("race");
    let ids = make_log_dir(tmp.path(), &[("race", 1)]);
    let broker = Broker::start(tmp.path());
    let addr = broker.addr;
    let results: Vec<(i64, Vec<u8>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                s.spawn(move || {
                    let mut c = Client::connect(addr);
                    let value = format!("producer {i}");
                    let b = batch(0, &[value.as_bytes(), b"second"]);
                    let r = c.produce(&[("race", vec![(0, Some(b.clone()))])]);
                    let p = r.partition("race", 0);
                    assert_eq!(p.error_code, NONE);
                    (p.base_offset, b)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut offsets: Vec<i64> = results.iter().map(|r| r.0).collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (0..50).map(|i| i * 2).collect::<Vec<_>>());
    let on_disk = read_log(tmp.path(), "race", 0);
    let stored = split_batches(&on_disk);
    assert_eq!(stored.len(), 50);
    for (offset, b) in &results {
        let at = (*offset / 2) as usize;
        assert_eq!(stored[at], as_stored(b, *offset, 0));
    }
    let mut c = broker.connect();
    let f = c.fetch_one(ids[0], 0, 0);
    assert_eq!(f.records(), &on_disk[..]);
    assert_eq!(f.high_watermark, 100);
}

// ----- persistence -------------------------------------------------------------------------------

/// Produce, restart on the same log dir, produce again: offsets continue, and everything is
/// still served.
#[test]
fn restart_keeps_offsets() {
    let tmp = TempDir::new("restart");
    let ids = make_log_dir(tmp.path(), &[("durable", 2)]);
    let a = batch(0, &[b"a1", b"a2"]);
    let b = batch(0, &[b"b1", b"b2", b"b3"]);
    let c3 = batch(0, &[b"c1"]);
    {
        let broker = Broker::start(tmp.path());
        let mut c = broker.connect();
        assert_eq!(
            c.produce(&[("durable", vec![(0, Some(a.clone()))])])
                .partition("durable", 0)
                .base_offset,
            0
        );
        assert_eq!(
            c.produce(&[("durable", vec![(0, Some(b.clone()))])])
                .partition("durable", 0)
                .base_offset,
            2
        );
        broker.kill();
    }
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let r = c.produce(&[("durable", vec![(0, Some(c3.clone())), (1, Some(c3.clone()))])]);
    assert_eq!(r.partition("durable", 0).base_offset, 5);
    assert_eq!(r.partition("durable", 1).base_offset, 0);
    let expected = [as_stored(&a, 0, 0), as_stored(&b, 2, 0), as_stored(&c3, 5, 0)].concat();
    assert_eq!(read_log(tmp.path(), "durable", 0), expected);
    let f = c.fetch_one(ids[0], 0, 0);
    assert_eq!(f.records(), &expected[..]);
    assert_eq!((f.high_watermark, f.log_start_offset), (6, 0));
    // The topic metadata survived too.
    let d = c.dtp(&["durable"], 10, None);
    assert_eq!(d.topics[0].topic_id, ids[0]);
    assert_eq!(d.topics[0].partitions.len(), 2);
}

/// With small segments the log rolls into several files; fetch and restart see them all.
#[test]
fn segments_roll_and_survive_restart() {
    let tmp = TempDir::new("roll");
    let ids = make_log_dir(tmp.path(), &[("roll", 1)]);
    let mut sent = Vec::new();
    {
        let broker = Broker::start_with(tmp.path(), &["log.segment.bytes=1024"]);
        let mut c = broker.connect();
        for i in 0..30 {
            let v = vec![b'a' + (i % 26) as u8; 100];
            let b = batch(0, &[&v]);
            let r = c.produce(&[("roll", vec![(0, Some(b.clone()))])]);
            assert_eq!(r.partition("roll", 0).base_offset, i);
            sent.push(as_stored(&b, i, 0));
        }
        broker.kill();
    }
    let segments: Vec<_> = std::fs::read_dir(tmp.join("roll-0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".log"))
        .collect();
    assert!(segments.len() > 1, "log.segment.bytes=1024 should roll segments: {segments:?}");
    let broker = Broker::start_with(tmp.path(), &["log.segment.bytes=1024"]);
    let mut c = broker.connect();
    let r = c.produce(&[("roll", vec![(0, Some(batch(0, &[b"last"])))])]);
    assert_eq!(r.partition("roll", 0).base_offset, 30);
    sent.push(as_stored(&batch(0, &[b"last"]), 30, 0));
    // Read everything back, batch by batch, from every offset's batch.
    let mut got = Vec::new();
    let mut offset = 0;
    while offset < 31 {
        let f = c.fetch_one(ids[0], 0, offset);
        assert_eq!(f.error_code, NONE);
        assert_eq!(f.high_watermark, 31);
        let bs = split_batches(f.records());
        assert!(!bs.is_empty(), "no batch at offset {offset}");
        for b in bs {
            assert_eq!(base_offset_of(b), offset);
            got.push(b.to_vec());
            offset += 1;
        }
    }
    assert_eq!(got, sent);
}

/// Fetch returns exactly the bytes produce stored: batches of many shapes, on several
/// partitions, with offsets assigned per partition.
#[test]
fn fetch_returns_exactly_what_produce_stored() {
    let tmp = TempDir::new("roundtrip");
    let ids = make_log_dir(tmp.path(), &[("shapes", 2)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut shapes = Vec::new();
    let mut b = BatchBuilder::new(0, TS);
    b.push(None, None, &[]);
    shapes.push(b.finish());
    let mut b = BatchBuilder::new(0, TS).producer(4000, 0, 0);
    b.push(Some(b""), Some(b""), &[Header { key: "h", value: None }]);
    shapes.push(b.finish());
    let mut b = BatchBuilder::new(77, TS).leader_epoch(5);
    for i in 0..200 {
        b.push(Some(format!("key-{i}").as_bytes()), Some(&vec![i as u8; i]), &[]);
    }
    shapes.push(b.finish());
    let big = vec![0xabu8; 300_000];
    let mut b = BatchBuilder::new(0, TS);
    b.push(Some(b"big"), Some(&big), &[]);
    shapes.push(b.finish());

    let mut expected = [Vec::new(), Vec::new()];
    let mut next = [0i64, 0];
    for (i, s) in shapes.iter().enumerate() {
        let p = (i % 2) as i32;
        let r = c.produce(&[("shapes", vec![(p, Some(s.clone()))])]);
        let pr = r.partition("shapes", p);
        assert_eq!((pr.error_code, pr.base_offset), (NONE, next[p as usize]));
        let h = minikafka::records::BatchHeader::parse(s).unwrap();
        next[p as usize] += i64::from(h.last_offset_delta) + 1;
        // Only the base offset may change (and the leader epoch, outside the CRC).
        let stored = with_base_offset(s, pr.base_offset);
        let mut relaxed = expected[p as usize].clone();
        relaxed.extend_from_slice(&stored);
        let disk = read_log(tmp.path(), "shapes", p);
        assert_eq!(disk.len(), relaxed.len());
        let last = split_batches(&disk).pop().unwrap().to_vec();
        assert_eq!(last[..12], stored[..12]);
        assert_eq!(last[16..], stored[16..], "CRC-covered bytes unchanged");
        expected[p as usize] = disk;
    }
    for p in 0..2 {
        let f = c.fetch_one(ids[0], p, 0);
        assert_eq!(f.records(), &expected[p as usize][..]);
        assert_eq!(f.high_watermark, next[p as usize]);
    }
}

/// The fixture dir is served by Fetch exactly as the file holds it, and produce appends to it.
#[test]
fn fixture_served_exactly() {
    let tmp = fixture_copy();
    let before = read_log(tmp.path(), "foo", 0);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let f = c.fetch_one(fixture_foo_id(), 0, 0);
    assert_eq!(f.records(), &before[..]);
    let (h, batch_bytes) = minikafka::records::batches(f.records()).next().unwrap().unwrap();
    assert_eq!(h.records_count, 1);
    let rec = minikafka::records::Records::new(batch_bytes).unwrap().next().unwrap().unwrap();
    assert_eq!(rec.value, Some(&b"Hello World!"[..]));
    // The metadata log and meta.properties were not rewritten by serving it.
    for file in ["meta.properties", "__cluster_metadata-0/00000000000000000000.log"] {
        let orig = std::fs::read(std::path::Path::new(FIXTURE_DIR).join(file)).unwrap();
        assert_eq!(std::fs::read(tmp.path().join(file)).unwrap(), orig, "{file} unchanged");
    }
}

/// An empty or missing log dir is formatted: meta.properties and the metadata log appear, with
/// the configured node id, and the broker serves with it.
#[test]
fn empty_log_dir_gets_formatted() {
    let tmp = TempDir::new("format");
    let dir = tmp.join("does/not/exist/yet");
    let broker = Broker::start_with(&dir, &["node.id=5"]);
    let props =
        std::fs::read_to_string(dir.join("meta.properties")).expect("meta.properties written");
    assert!(props.lines().any(|l| l.trim() == "node.id=5"), "{props}");
    assert!(props.lines().any(|l| l.starts_with("cluster.id=")), "{props}");
    assert!(dir.join("__cluster_metadata-0").is_dir());
    let mut c = broker.connect();
    assert_eq!(c.api_versions(4).error_code, NONE);
    let d = c.dtp(&["nothing"], 10, None);
    assert_eq!(d.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    drop(c);
    broker.kill();
    // Starting again keeps the same cluster id.
    let broker = Broker::start_with(&dir, &["node.id=5"]);
    assert_eq!(std::fs::read_to_string(dir.join("meta.properties")).unwrap(), props);
    drop(broker);
}

/// The topics' leader is the configured node id.
#[test]
fn dtp_leader_is_node_id() {
    let tmp = TempDir::new("node");
    minikafka::metadata::format_log_dir(tmp.path(), 3).unwrap();
    minikafka::metadata::add_topic(tmp.path(), "t", 1).unwrap();
    let broker = Broker::start_with(tmp.path(), &["node.id=3"]);
    let d = broker.connect().dtp(&["t"], 10, None);
    let p = &d.topics[0].partitions[0];
    assert_eq!((p.leader_id, &p.replica_nodes, &p.isr_nodes), (3, &vec![3], &vec![3]));
}

// ----- bad input ---------------------------------------------------------------------------------

/// A corrupted batch (bad CRC) is refused with CORRUPT_MESSAGE and not stored; a good one after
/// it still gets offset 0.
#[test]
fn corrupted_batch_refused_and_not_stored() {
    let tmp = TempDir::new("crc");
    let ids = make_log_dir(tmp.path(), &[("crc", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let good = batch(0, &[b"valid record"]);
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x20;
    let r = c.produce(&[("crc", vec![(0, Some(bad))])]);
    let p = r.partition("crc", 0);
    assert_eq!(p.error_code, CORRUPT_MESSAGE);
    assert_eq!(p.base_offset, -1);
    assert!(read_log(tmp.path(), "crc", 0).is_empty(), "nothing stored");
    // A batch whose length field runs past the data is refused too.
    let mut short = good.clone();
    short.truncate(good.len() - 5);
    let r = c.produce(&[("crc", vec![(0, Some(short))])]);
    assert_ne!(r.partition("crc", 0).error_code, NONE);
    assert!(read_log(tmp.path(), "crc", 0).is_empty(), "nothing stored");
    let r = c.produce(&[("crc", vec![(0, Some(good.clone()))])]);
    assert_eq!(r.partition("crc", 0).base_offset, 0);
    assert_eq!(c.fetch_one(ids[0], 0, 0).records(), as_stored(&good, 0, 0));
}

/// acks=0: no response at all; the next request's answer is the first thing on the wire.
#[test]
fn acks_zero_gets_no_response() {
    let tmp = TempDir::new("acks0");
    let ids = make_log_dir(tmp.path(), &[("quiet", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let b = batch(0, &[b"fire and forget"]);
    c.send_raw(&frame(
        PRODUCE,
        11,
        111,
        &produce_v11_body(0, &[("quiet", vec![(0, Some(b.clone()))])]),
    ));
    c.send_raw(&frame(API_VERSIONS, 4, 222, &api_versions_body(4)));
    let payload = c.recv_frame();
    assert_eq!(i32::from_be_bytes(payload[..4].try_into().unwrap()), 222);
    assert_eq!(payload[4..], expected_api_versions_v4_body()[..]);
    // It was stored all the same.
    assert_eq!(c.fetch_one(ids[0], 0, 0).records(), as_stored(&b, 0, 0));
}

/// An oversized frame closes only its own connection and logs a warning; so does a negative
/// size.
#[test]
fn oversized_frame_closes_only_that_connection() {
    let tmp = TempDir::new("big");
    let broker = Broker::start_with(tmp.path(), &["socket.request.max.bytes=4096"]);
    let mut bystander = broker.connect();
    assert_eq!(bystander.api_versions(4).error_code, NONE);

    for size in [4097i32, i32::MAX, -1, -4096] {
        let logged_before = broker.logs.count();
        let mut c = broker.connect();
        // A size only, then the start of a header: the broker must not wait for the rest.
        let mut f = size.to_be_bytes().to_vec();
        f.extend_from_slice(&frame(API_VERSIONS, 4, 9, &api_versions_body(4))[4..]);
        let _ = c.try_send_raw(&f);
        c.expect_closed();
        let warned = broker
            .logs
            .wait_for_from(logged_before, Duration::from_secs(10), |l| l.contains("WARN"));
        assert!(
            warned.is_some(),
            "no warning logged for frame size {size}; new lines: {:?}",
            broker.logs.since(logged_before)
        );
        // The other connection is untouched, and new ones work.
        assert_eq!(bystander.api_versions(4).error_code, NONE);
        assert_eq!(broker.connect().api_versions(4).error_code, NONE);
    }
    // A frame right at the limit is fine: an ApiVersions v3 request padded to exactly 4096
    // bytes with an unknown tagged field (which flexible versions must skip).
    let mut c = broker.connect();
    let header_len = frame(API_VERSIONS, 3, 77, &[]).len() - 4;
    let mut base = api_versions_body(3);
    base.pop(); // the empty tagged-field section
                // count (1 byte) + tag 1000 (2 bytes) + length (2 bytes) + data
    let data_len = 4096 - header_len - base.len() - 5;
    assert!((128..16384).contains(&data_len));
    let mut w = W::new();
    w.raw(&base).uvarint(1).uvarint(1000).uvarint(data_len as u64).raw(&vec![0; data_len]);
    let body = w.take();
    let f = frame(API_VERSIONS, 3, 77, &body);
    assert_eq!(f.len(), 4 + 4096);
    c.send_raw(&f);
    let resp = c.recv(API_VERSIONS, 3);
    assert_eq!(resp.correlation_id, 77);
    assert_eq!(decode_api_versions(&resp.body, 3).error_code, NONE);
}

/// An unknown api key closes the connection; the broker keeps serving.
#[test]
fn unknown_api_key_closes_connection() {
    let tmp = TempDir::new("key");
    let mut broker = Broker::start(tmp.path());
    for key in [57i16, 74, 1000, 9999, i16::MAX, -1] {
        let mut c = broker.connect();
        c.send_raw(&frame(key, 0, 5, &[0u8; 16]));
        c.expect_closed();
        broker.assert_running();
        assert_eq!(broker.connect().api_versions(4).error_code, NONE);
    }
}

/// Truncated or garbage bodies: INVALID_REQUEST where the API has a top-level error code
/// (ApiVersions, Fetch), a closed connection otherwise; the broker always survives.
#[test]
fn garbage_bodies_get_an_error_or_a_close() {
    let tmp = TempDir::new("garbage");
    let ids = make_log_dir(tmp.path(), &[("g", 1)]);
    let mut broker = Broker::start(tmp.path());

    // Fetch v16 cut in the middle of its topics.
    let full = FetchReq::default().topic(ids[0], vec![fp(0, 0)]).v16();
    let mut c = broker.connect();
    c.send_raw(&frame(FETCH, 16, 31, &full[..full.len() - 20]));
    match c.recv_frame_or_close() {
        Some(payload) => {
            let resp = split_response(&payload, FETCH, 16);
            assert_eq!(resp.correlation_id, 31);
            let f = decode_fetch_v16(&resp.body);
            assert_eq!(f.error_code, INVALID_REQUEST);
            assert!(f.responses.is_empty());
        }
        None => panic!("a truncated Fetch should get INVALID_REQUEST (42), not a close"),
    }
    broker.assert_running();

    // ApiVersions v4 whose client_software_name runs past the end.
    let mut c = broker.connect();
    c.send_raw(&frame(API_VERSIONS, 4, 32, &[0x7f, b'a']));
    match c.recv_frame_or_close() {
        Some(payload) => {
            let resp = split_response(&payload, API_VERSIONS, 4);
            assert_eq!(resp.correlation_id, 32);
            assert_eq!(R::new(&resp.body).i16(), INVALID_REQUEST);
        }
        None => panic!("a garbled ApiVersions should get INVALID_REQUEST (42), not a close"),
    }
    broker.assert_running();

    // Produce and DescribeTopicPartitions have no top-level error code: the connection closes.
    let produce = produce_v11_body(1, &[("g", vec![(0, Some(batch(0, &[b"x"])))])]);
    let dtp = dtp_body(&["g"], 10, None);
    for (key, version, body) in [
        (PRODUCE, 11, produce[..produce.len() / 2].to_vec()),
        (PRODUCE, 11, vec![0xff; 40]),
        (DESCRIBE_TOPIC_PARTITIONS, 0, dtp[..3].to_vec()),
        (DESCRIBE_TOPIC_PARTITIONS, 0, vec![0x80; 12]),
    ] {
        let mut c = broker.connect();
        c.send_raw(&frame(key, version, 33, &body));
        c.expect_closed();
        broker.assert_running();
    }

    // Frames too short to hold a request header.
    for f in [
        vec![0, 0, 0, 0],
        vec![0, 0, 0, 3, 0, 18, 0],
        vec![0, 0, 0, 9, 0, 18, 0, 4, 0, 0, 0, 1, 0x7f],
    ] {
        let mut c = broker.connect();
        c.send_raw(&f);
        c.expect_closed();
        broker.assert_running();
    }

    // A client that vanishes mid-frame.
    let mut c = broker.connect();
    c.send_raw(&frame(API_VERSIONS, 4, 1, &api_versions_body(4))[..7]);
    drop(c);
    broker.assert_running();

    let mut c = broker.connect();
    assert_eq!(c.api_versions(4).error_code, NONE);
    assert!(read_log(tmp.path(), "g", 0).is_empty(), "no garbage was stored");
}

/// Random and mutated requests of every API and version: each gets a response frame or a
/// closed connection (never a hang), and the broker keeps serving.
#[test]
fn fuzzed_requests_never_kill_the_broker() {
    let tmp = TempDir::new("fuzz");
    let ids = make_log_dir(tmp.path(), &[("fz", 2)]);
    let mut broker = Broker::start(tmp.path());
    let seeds = [
        api_versions_body(4),
        dtp_body(&["fz", "other"], 5, Some(("fz", 1))),
        FetchReq::default().topic(ids[0], vec![fp(0, 0), fp(1, 0)]).v16(),
        produce_v11_body(1, &[("fz", vec![(0, Some(batch(0, &[b"a", b"b"])))])]),
    ];
    let keys = [(API_VERSIONS, 4), (DESCRIBE_TOPIC_PARTITIONS, 0), (FETCH, 16), (PRODUCE, 11)];
    let mut rng = Rng::new(0xfeed_beef);
    let (mut answered, mut closed) = (0, 0);
    for round in 0..120 {
        let which = rng.below(4) as usize;
        let (key, mut version) = keys[which];
        let mut body = seeds[which].clone();
        match rng.below(4) {
            0 => {
                // flip a few bytes
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(body.len() as u64) as usize;
                    body[at] = rng.next() as u8;
                }
            }
            1 => body.truncate(rng.below(body.len() as u64) as usize),
            2 => {
                let n = rng.below(64) as usize;
                body = rng.bytes(n);
            }
            _ => {
                // a random (maybe unsupported) version of the same API
                version = (rng.below(20) as i16) - 1;
                if key == FETCH && version < 12 || key == PRODUCE && version < 9 {
                    let n = rng.below(64) as usize;
                    body = rng.bytes(n);
                }
            }
        }
        let mut c = broker.connect();
        c.send_raw(&frame(key, version, round, &body));
        match c.recv_frame_or_close() {
            Some(payload) => {
                answered += 1;
                assert_eq!(
                    i32::from_be_bytes(payload[..4].try_into().unwrap()),
                    round,
                    "round {round}: response to key {key} v{version}"
                );
            }
            None => closed += 1,
        }
        broker.assert_running();
    }
    // The mix exercised both outcomes.
    assert!(answered > 10 && closed > 10, "answered {answered}, closed {closed}");
    let mut c = broker.connect();
    assert_eq!(c.api_versions(4).api_keys, ADVERTISED);
    let f = c.fetch_one(ids[0], 0, 0);
    assert_eq!(f.error_code, NONE);
    // Whatever the fuzzing stored is a sequence of valid batches.
    for b in minikafka::records::batches(&read_log(tmp.path(), "fz", 0)) {
        b.expect("stored batches are valid");
    }
}

/// Appends `n` one-record batches with `value_len`-byte values to partition 0 of `topic`;
/// returns the bytes written.
fn fill_with_big_batches(dir: &std::path::Path, topic: &str, n: i64, value_len: usize) -> Vec<u8> {
    let mut expected = Vec::new();
    for i in 0..n {
        let mut b = BatchBuilder::new(i, TS);
        b.push(None, Some(&vec![i as u8; value_len]), &[]);
        let b = b.finish();
        append_log(dir, topic, 0, &b);
        expected.extend(b);
    }
    expected
}

/// A Fetch of all of partition 0 from offset 0, in one response.
fn fetch_everything(topic_id: [u8; 16]) -> FetchReq {
    let p = FetchPartitionReq { partition: 0, fetch_offset: 0, partition_max_bytes: 100 << 20 };
    FetchReq { max_bytes: 100 << 20, ..FetchReq::default().topic(topic_id, vec![p]) }
}

/// A client that asks for a large response and hangs up before reading it does not hurt the
/// broker; a large response read slowly arrives whole.
#[test]
fn large_responses_and_vanishing_readers() {
    let tmp = TempDir::new("large");
    let ids = make_log_dir(tmp.path(), &[("large", 1)]);
    let expected = fill_with_big_batches(tmp.path(), "large", 5, 900_000);
    let mut broker = Broker::start(tmp.path());
    let req = fetch_everything(ids[0]);
    for _ in 0..3 {
        let mut c = broker.connect();
        c.send(FETCH, 16, &req.v16());
        drop(c);
    }
    broker.assert_running();
    let mut c = broker.connect();
    let id = c.send(FETCH, 16, &req.v16());
    // Read in small pieces so the broker's socket buffer fills up.
    let mut size = [0u8; 4];
    c.stream.read_exact(&mut size).unwrap();
    let mut payload = Vec::new();
    let mut chunk = [0u8; 1000];
    while payload.len() < i32::from_be_bytes(size) as usize {
        let want = (i32::from_be_bytes(size) as usize - payload.len()).min(chunk.len());
        c.stream.read_exact(&mut chunk[..want]).unwrap();
        payload.extend_from_slice(&chunk[..want]);
    }
    let resp = split_response(&payload, FETCH, 16);
    assert_eq!(resp.correlation_id, id);
    let f = decode_fetch_v16(&resp.body);
    assert_eq!(f.partition(&ids[0], 0).records(), &expected[..]);
    broker.assert_running();
}

/// Fetched records go from the segment file to the socket without being copied into the
/// broker's memory: a response far larger than the socket buffers is still sent whole after
/// its topic was deleted meanwhile (the open file outlives the directory), and other
/// connections are served while it waits for its reader.
#[test]
fn a_pending_fetch_response_survives_its_topic_being_deleted() {
    use kafka_protocol::messages::{delete_topics_request as dtq, DeleteTopicsRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;
    let tmp = TempDir::new("sendfile");
    let ids = make_log_dir(tmp.path(), &[("doomed", 1)]);
    let expected = fill_with_big_batches(tmp.path(), "doomed", 20, 1 << 20);
    let mut broker = Broker::start(tmp.path());
    let mut reader = broker.connect();
    let req = fetch_everything(ids[0]);
    let id = reader.send(FETCH, 16, &req.v16());
    // The size prefix has arrived: the response is built and mostly still unsent.
    let mut size = [0u8; 4];
    reader.stream.read_exact(&mut size).unwrap();
    let size = i32::from_be_bytes(size) as usize;
    assert!(size > expected.len());
    let rss = broker.rss_kib();
    assert!(rss < 12 << 10, "{rss} KiB resident: the 20 MiB of records were copied into memory");

    let mut admin = broker.connect();
    let del = DeleteTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![dtq::DeleteTopicState::default()
            .with_name(Some(TopicName(StrBytes::from_static_str("doomed"))))]);
    let resp = admin.kp_call(6, &del);
    assert_eq!(resp.responses[0].error_code, NONE);
    assert!(!tmp.join("doomed-0").exists(), "the partition directory is removed");
    assert_eq!(admin.api_versions(4).error_code, NONE);

    let mut payload = vec![0u8; size];
    reader.stream.read_exact(&mut payload).unwrap();
    let resp = split_response(&payload, FETCH, 16);
    assert_eq!(resp.correlation_id, id);
    let f = decode_fetch_v16(&resp.body);
    assert!(f.partition(&ids[0], 0).records() == &expected[..], "records arrive as stored");
    broker.assert_running();
}

/// Versions outside what is advertised, for APIs other than ApiVersions, close the connection
/// as Kafka does (the request cannot be parsed); the broker keeps serving.
#[test]
fn unsupported_versions_of_other_apis_close_the_connection() {
    let tmp = TempDir::new("vers");
    let ids = make_log_dir(tmp.path(), &[("v", 1)]);
    let mut broker = Broker::start(tmp.path());
    let fetch = FetchReq::default().topic(ids[0], vec![fp(0, 0)]).v16();
    let produce = produce_v11_body(1, &[("v", vec![(0, Some(batch(0, &[b"x"])))])]);
    for (key, version, body) in [
        (PRODUCE, 2, vec![0u8; 20]),
        (PRODUCE, 13, produce.clone()),
        (FETCH, 3, vec![0u8; 20]),
        (FETCH, 18, fetch.clone()),
        (DESCRIBE_TOPIC_PARTITIONS, 1, dtp_body(&["v"], 10, None)),
    ] {
        let mut c = broker.connect();
        c.send_raw(&frame(key, version, 3, &body));
        c.expect_closed();
        broker.assert_running();
    }
    assert!(read_log(tmp.path(), "v", 0).is_empty());
    assert_eq!(broker.connect().api_versions(4).error_code, NONE);
}

/// A null client id and a long one are both fine.
#[test]
fn client_id_null_or_long() {
    let tmp = TempDir::new("cid");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let long = "c".repeat(5000);
    for (i, client_id) in [None, Some(""), Some(long.as_str())].into_iter().enumerate() {
        for (key, version, body) in [
            (API_VERSIONS, 4, api_versions_body(4)),
            (API_VERSIONS, 0, api_versions_body(0)),
            (DESCRIBE_TOPIC_PARTITIONS, 0, dtp_body(&["x"], 10, None)),
        ] {
            c.send_raw(&frame_with_client(key, version, i as i32, client_id, &body));
            let resp = c.recv(key, version);
            assert_eq!(resp.correlation_id, i as i32, "client id {:?}", client_id.map(str::len));
        }
    }
}

/// A frame's size prefix alone must not make the broker allocate the frame: 20 connections
/// announcing ~100 MB frames and sending 256 KiB of each cost the broker about what they sent.
#[test]
fn announced_frame_sizes_do_not_allocate_ahead() {
    let tmp = TempDir::new("announce");
    let broker = Broker::start(tmp.path());
    let before = broker.rss_kib();
    let mut conns: Vec<Client> = (0..20).map(|_| broker.connect()).collect();
    for c in &mut conns {
        c.send_raw(&100_000_000i32.to_be_bytes());
    }
    // The broker has read the prefixes once it answers a request sent after them (on a fresh
    // connection: these frames are incomplete); then more of each frame arrives.
    assert_eq!(broker.connect().api_versions(4).error_code, NONE);
    let chunk = vec![0u8; 256 << 10];
    for c in &mut conns {
        c.send_raw(&chunk);
    }
    assert_eq!(broker.connect().api_versions(4).error_code, NONE);
    let grown_mib = broker.rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "resident memory grew by {grown_mib} MiB for 5 MiB received");
}

/// A write that fails (here a file-size limit, as a full disk) withdraws the turn's
/// acknowledgements: the producer is answered KAFKA_STORAGE_ERROR, the file holds exactly the
/// batches acknowledged before, and the broker goes on serving everyone else.
#[test]
fn a_failed_write_withdraws_its_acknowledgement_and_nothing_else() {
    const KAFKA_STORAGE_ERROR: i16 = 56;
    let tmp = TempDir::new("full");
    let ids = make_log_dir(tmp.path(), &[("full", 1)]);
    let broker = Broker::start_with_file_limit(tmp.path(), 64);
    let value = vec![b'v'; 10_000];
    let mut acked = Vec::new();
    let mut refused = false;
    for i in 0..20 {
        let mut c = broker.connect();
        let batch = batch(0, &[&value]);
        c.send(PRODUCE, 11, &produce_v11_body(1, &[("full", vec![(0, Some(batch.clone()))])]));
        let frame = c.recv_frame_or_close().expect("an answer");
        // Response header v1: correlation id, then an empty tagged-field section.
        let resp = decode_produce_v11(&frame[5..]);
        let p = resp.partition("full", 0);
        if p.error_code == KAFKA_STORAGE_ERROR {
            assert_eq!(p.base_offset, -1);
            refused = true;
            break;
        }
        assert_eq!((p.error_code, p.base_offset), (NONE, i), "batch {i}");
        acked.push(batch);
    }
    assert!(refused, "64 KiB cannot hold 20 batches of 10 kB");
    assert!((3..=6).contains(&acked.len()), "{} batches acknowledged", acked.len());
    assert!(broker.logs.wait_for(IO_TIMEOUT, |l| l.contains("write failed")).is_some());
    // The file holds exactly the acknowledged batches, whole.
    let on_disk = read_log(tmp.path(), "full", 0);
    let stored = split_batches(&on_disk);
    assert_eq!(stored.len(), acked.len());
    for (i, (s, a)) in stored.iter().zip(&acked).enumerate() {
        assert_eq!(s[8..], as_stored(a, 0, 0)[8..], "batch {i}");
        assert_eq!(base_offset_of(s), i as i64);
    }
    // Everyone else is served; the log reads back what was acknowledged.
    let mut c = broker.connect();
    assert_eq!(c.api_versions(4).error_code, NONE);
    let p = c.fetch_one(ids[0], 0, 0);
    assert_eq!(p.high_watermark, acked.len() as i64);
    assert_eq!(split_batches(p.records()).len(), acked.len());
}
