//! The broker's own codecs against real producers and consumers, on the real binary.
//!
//! librdkafka (built with zlib and zstd; snappy and lz4 are its own) produces with each
//! compression.codec; a raw Fetch brings back the batches exactly as stored, and our
//! decoders must read every value out of them. Then compression.type in force: batches
//! produced with one codec are stored re-encoded to the topic's (or the broker's) codec, and
//! librdkafka consumes the values from what our encoders wrote.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kafka_protocol::messages::{MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use minikafka::records::{self, compression};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

const WAIT: Duration = Duration::from_secs(30);

fn tn(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

fn create(c: &mut Client, name: &str, configs: &[(&str, &str)]) -> [u8; 16] {
    create_topic_with(c, name, configs)
}

fn topic_id(c: &mut Client, name: &str) -> [u8; 16] {
    let req = MetadataRequest::default().with_topics(Some(vec![
        kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
            .with_name(Some(tn(name))),
    ]));
    let resp = c.kp_call(12, &req);
    *resp.topics[0].topic_id.as_bytes()
}

/// Values varied enough to exercise matches and literals: text with repeats, and bytes.
fn values(tag: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut v = format!("{tag} value {i} ").repeat(1 + i % 7).into_bytes();
            v.extend((0..(i * 37) % 300).map(|j| (j * 31 + i) as u8));
            v
        })
        .collect()
}

/// Produces `vals` to partition 0 of `topic` with librdkafka and waits for every ack.
fn produce(addr: std::net::SocketAddr, topic: &str, codec: &str, vals: &[Vec<u8>]) {
    let p: BaseProducer = rdkafka_config(addr)
        .set("compression.codec", codec)
        .set("linger.ms", "50")
        .set("message.timeout.ms", "15000")
        .create()
        .expect("create producer");
    for (i, v) in vals.iter().enumerate() {
        let key = format!("key-{i}");
        p.send(BaseRecord::to(topic).partition(0).key(&key).payload(v)).expect("enqueue");
    }
    p.flush(WAIT).expect("every record acknowledged");
}

/// Fetches partition 0 from offset 0 until `n` records came back; returns the raw batches.
fn fetch_batches(c: &mut Client, id: [u8; 16], n: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WAIT;
    let mut batches = Vec::new();
    let mut next = 0i64;
    while next < n as i64 {
        assert!(Instant::now() < deadline, "fetched only {next} of {n} records");
        let p = c.fetch_one(id, 0, next);
        assert_eq!(p.error_code, NONE);
        for b in records::batches(p.records()) {
            let (h, b) = b.expect("a fetched batch checks (lengths, CRC-32C)");
            next = h.last_offset() + 1;
            batches.push(b.to_vec());
        }
    }
    batches
}

/// Every record value of the batches, read with our decoders; checks each batch's codec.
fn values_of(batches: &[Vec<u8>], codec: i16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for b in batches {
        let h = records::check_batch(b).unwrap();
        assert_eq!(h.compression(), codec, "codec of the batch at {}", h.base_offset);
        let section = records::records_section(b, &h, 64 << 20).unwrap_or_else(|e| {
            panic!("{} batch at {}: {e}", compression::name(codec), h.base_offset)
        });
        let recs: Vec<_> = records::Records::of_section(&section, h.records_count)
            .map(|r| r.expect("a record parses"))
            .collect();
        assert_eq!(recs.len(), h.records_count as usize);
        out.extend(recs.iter().map(|r| r.value.unwrap().to_vec()));
    }
    out
}

fn consume(addr: std::net::SocketAddr, topic: &str, n: usize) -> Vec<Vec<u8>> {
    let c: BaseConsumer = rdkafka_config(addr)
        .set("group.id", format!("g-{topic}"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "100")
        .create()
        .expect("create consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning).unwrap();
    c.assign(&tpl).unwrap();
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut errors = Vec::new();
    while got.len() < n {
        assert!(Instant::now() < deadline, "consumed {} of {n}; errors {errors:?}", got.len());
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => got.push(m.payload().unwrap_or_default().to_vec()),
            Some(Err(e)) => errors.push(e.to_string()),
            None => {}
        }
    }
    got
}

fn librdkafka_codec_is_read(codec: &str, id: i16) {
    let dir = TempDir::new(&format!("codec-read-{codec}"));
    let broker = Broker::start(dir.path());
    let mut c = broker.connect();
    let topic = format!("read-{codec}");
    let tid = create(&mut c, &topic, &[]);
    let vals = values(codec, 500);
    produce(broker.addr, &topic, codec, &vals);
    let batches = fetch_batches(&mut c, tid, vals.len());
    assert!(batches.len() < vals.len(), "librdkafka batched the records");
    assert_eq!(values_of(&batches, id), vals);
}

#[test]
fn librdkafka_gzip_batches_decompress() {
    librdkafka_codec_is_read("gzip", compression::GZIP);
}

#[test]
fn librdkafka_snappy_batches_decompress() {
    librdkafka_codec_is_read("snappy", compression::SNAPPY);
}

#[test]
fn librdkafka_lz4_batches_decompress() {
    librdkafka_codec_is_read("lz4", compression::LZ4);
}

#[test]
fn librdkafka_zstd_batches_decompress() {
    librdkafka_codec_is_read("zstd", compression::ZSTD);
}

/// compression.type on a topic: librdkafka's `from` batches are stored as `to`, and
/// librdkafka consumes them; `producer` keeps the producer's codec.
fn topic_compression_type(from: &str, to: &str, stored: i16) {
    let dir = TempDir::new(&format!("codec-{from}-to-{to}"));
    let broker = Broker::start(dir.path());
    let mut c = broker.connect();
    let topic = format!("{from}-to-{to}");
    let tid = create(&mut c, &topic, &[("compression.type", to)]);
    let vals = values(&topic, 400);
    produce(broker.addr, &topic, from, &vals);
    let batches = fetch_batches(&mut c, tid, vals.len());
    assert_eq!(values_of(&batches, stored), vals, "our decoders read what the broker stored");
    assert_eq!(consume(broker.addr, &topic, vals.len()), vals, "librdkafka reads it too");
}

#[test]
fn lz4_produced_to_a_gzip_topic_is_stored_gzip() {
    topic_compression_type("lz4", "gzip", compression::GZIP);
}

#[test]
fn lz4_produced_to_an_uncompressed_topic_is_stored_uncompressed() {
    topic_compression_type("lz4", "uncompressed", compression::NONE);
}

#[test]
fn gzip_produced_to_an_lz4_topic_is_stored_lz4() {
    topic_compression_type("gzip", "lz4", compression::LZ4);
}

#[test]
fn none_produced_to_a_snappy_topic_is_stored_snappy() {
    topic_compression_type("none", "snappy", compression::SNAPPY);
}

#[test]
fn snappy_produced_to_a_zstd_topic_is_stored_zstd() {
    topic_compression_type("snappy", "zstd", compression::ZSTD);
}

#[test]
fn zstd_produced_to_a_gzip_topic_is_stored_gzip() {
    topic_compression_type("zstd", "gzip", compression::GZIP);
}

#[test]
fn producer_compression_type_keeps_the_producers_codec() {
    topic_compression_type("snappy", "producer", compression::SNAPPY);
}

/// The broker's compression.type is every topic's default; a topic's own overrides it.
#[test]
fn broker_compression_type_applies_to_topics_without_their_own() {
    let dir = TempDir::new("codec-broker");
    let broker = Broker::start_with(dir.path(), &["compression.type=gzip"]);
    let mut c = broker.connect();
    let plain = create(&mut c, "plain", &[]);
    let own = create(&mut c, "own", &[("compression.type", "producer")]);
    let vals = values("broker", 100);
    produce(broker.addr, "plain", "lz4", &vals);
    produce(broker.addr, "own", "lz4", &vals);
    assert_eq!(values_of(&fetch_batches(&mut c, plain, 100), compression::GZIP), vals);
    assert_eq!(values_of(&fetch_batches(&mut c, own, 100), compression::LZ4), vals);
    assert_eq!(topic_id(&mut c, "plain"), plain);
}

/// A batch of `records_count` records whose payload is `payload` under `codec`, with a valid
/// CRC-32C: only decompressing can tell it is bad.
fn with_payload(codec: i16, records_count: i32, payload: &[u8]) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, 1_700_000_000_000);
    b.push(None, Some(b"x"), &[]);
    let plain = b.finish();
    let mut h = records::check_batch(&plain).unwrap();
    h.records_count = records_count;
    h.last_offset_delta = records_count - 1;
    let mut out = records::build_batch(&h, payload, compression::NONE, None);
    out[22] = codec as u8;
    let crc = records::crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Hostile compressed payloads: each refused with an error code and a log line, the broker
/// still serving, and nothing appended.
#[test]
fn hostile_compressed_batches_are_refused() {
    let dir = TempDir::new("codec-hostile");
    let mut broker = Broker::start(dir.path());
    let mut c = broker.connect();
    let tid = create(&mut c, "hostile", &[]);
    // A zstd frame of RLE blocks (4 bytes for every 128 KiB): 256 MiB out of 8 KiB, past the
    // broker's 128 MiB bound on one batch.
    let mut bomb = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 13 << 3]; // magic; no size, 8 MiB window
    for i in 0..2048u32 {
        let last = u32::from(i == 2047);
        bomb.extend_from_slice(&(last | 1 << 1 | (128 * 1024) << 3).to_le_bytes()[..3]);
        bomb.push(b'z');
    }
    let mut junk = Vec::new();
    let mut x = 7u32;
    for _ in 0..4000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        junk.push((x >> 16) as u8);
    }
    let good = compression::compress(compression::GZIP, b"hello", None);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zstd bomb", with_payload(compression::ZSTD, 1, &bomb)),
        ("gzip junk", with_payload(compression::GZIP, 1, &junk)),
        ("snappy junk", with_payload(compression::SNAPPY, 1, &junk)),
        ("lz4 junk", with_payload(compression::LZ4, 1, &junk)),
        ("zstd junk", with_payload(compression::ZSTD, 1, &junk)),
        ("gzip cut short", with_payload(compression::GZIP, 1, &good[..good.len() - 3])),
    ];
    for (what, batch) in cases {
        let resp = c.produce(&[("hostile", vec![(0, Some(batch))])]);
        let p = resp.partition("hostile", 0);
        assert_eq!(p.error_code, -1, "{what}: UNKNOWN_SERVER_ERROR, as Kafka answers");
        broker.assert_running();
    }
    assert!(broker.logs.wait_for(WAIT, |l| l.contains("larger than the limit")).is_some());
    let fetched = c.fetch_one(tid, 0, 0);
    assert_eq!((fetched.high_watermark, fetched.records().len()), (0, 0), "nothing appended");
    // And a good one still goes in.
    let mut b = BatchBuilder::new(0, 1_700_000_000_000);
    b.push(None, Some(b"fine"), &[]);
    let plain = b.finish();
    let h = records::check_batch(&plain).unwrap();
    let gzip = records::build_batch(&h, &plain[records::HEADER_LEN..], compression::GZIP, None);
    let ok = c.produce(&[("hostile", vec![(0, Some(gzip))])]);
    assert_eq!(ok.partition("hostile", 0).error_code, NONE);
}

/// compression.type changed by IncrementalAlterConfigs applies to the next produce, and
/// survives a restart.
#[test]
fn altering_compression_type_applies_to_the_next_produce() {
    use kafka_protocol::messages::incremental_alter_configs_request as iac;
    use kafka_protocol::messages::IncrementalAlterConfigsRequest;

    let alter = |c: &mut Client, value: &'static str| {
        let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
            iac::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("alt"))
                .with_configs(vec![iac::AlterableConfig::default()
                    .with_name(StrBytes::from_static_str("compression.type"))
                    .with_config_operation(0)
                    .with_value(Some(StrBytes::from_static_str(value)))]),
        ]);
        let resp = c.kp_call(1, &req);
        assert_eq!(resp.responses[0].error_code, NONE, "{resp:?}");
    };
    let dir = TempDir::new("codec-alter");
    let broker = Broker::start(dir.path());
    let mut c = broker.connect();
    let tid = create(&mut c, "alt", &[]);
    let one = |v: &str| {
        let mut b = BatchBuilder::new(0, 1_700_000_000_000);
        b.push(None, Some(v.as_bytes()), &[]);
        b.finish()
    };
    let codecs_of = |c: &mut Client| -> Vec<i16> {
        let p = c.fetch_one(tid, 0, 0);
        records::batches(p.records()).map(|b| b.unwrap().0.compression()).collect()
    };
    c.produce(&[("alt", vec![(0, Some(one("a")))])]);
    alter(&mut c, "snappy");
    c.produce(&[("alt", vec![(0, Some(one("b")))])]);
    alter(&mut c, "zstd");
    c.produce(&[("alt", vec![(0, Some(one("c")))])]);
    assert_eq!(codecs_of(&mut c), [0, compression::SNAPPY, compression::ZSTD]);
    drop(c);
    broker.stop();
    let broker = Broker::start(dir.path());
    let mut c = broker.connect();
    c.produce(&[("alt", vec![(0, Some(one("d")))])]);
    let codecs = codecs_of(&mut c);
    assert_eq!(codecs, [0, compression::SNAPPY, compression::ZSTD, compression::ZSTD]);
    let fetched = c.fetch_one(tid, 0, 0);
    let batches: Vec<Vec<u8>> =
        records::batches(fetched.records()).map(|b| b.unwrap().1.to_vec()).collect();
    let values: Vec<Vec<u8>> = batches
        .iter()
        .zip(&codecs)
        .flat_map(|(b, &codec)| values_of(std::slice::from_ref(b), codec))
        .collect();
    assert_eq!(values, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]);
}

/// The broker's compression.type set dynamically (the cluster default) reaches every topic
/// without its own, from the next produce.
#[test]
fn dynamic_broker_compression_type_reaches_the_logs() {
    use kafka_protocol::messages::incremental_alter_configs_request as iac;
    use kafka_protocol::messages::IncrementalAlterConfigsRequest;

    let dir = TempDir::new("codec-dynamic");
    let broker = Broker::start(dir.path());
    let mut c = broker.connect();
    let tid = create(&mut c, "dyn", &[]);
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        iac::AlterConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(StrBytes::from_static_str(""))
            .with_configs(vec![iac::AlterableConfig::default()
                .with_name(StrBytes::from_static_str("compression.type"))
                .with_config_operation(0)
                .with_value(Some(StrBytes::from_static_str("lz4")))]),
    ]);
    let resp = c.kp_call(1, &req);
    assert_eq!(resp.responses[0].error_code, NONE, "{resp:?}");
    let mut b = BatchBuilder::new(0, 1_700_000_000_000);
    b.push(None, Some(b"v"), &[]);
    let resp = c.produce(&[("dyn", vec![(0, Some(b.finish()))])]);
    assert_eq!(resp.partition("dyn", 0).error_code, NONE);
    let p = c.fetch_one(tid, 0, 0);
    let codecs: Vec<i16> =
        records::batches(p.records()).map(|b| b.unwrap().0.compression()).collect();
    assert_eq!(codecs, [compression::LZ4]);
}
