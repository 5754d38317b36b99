//! Interoperability with librdkafka (through the `rdkafka` crate): the real `minikafka` binary
//! on an ephemeral port, driven by librdkafka's admin client, producer and consumer, with
//! every compression codec, every acks setting, the idempotent producer, ListOffsets, a broker
//! restart, and (once the broker serves them) consumer groups.
//!
//! librdkafka is built from source by `rdkafka-sys` (configure + make) with zlib and zstd; snappy
//! and lz4 are built into librdkafka itself.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{block_on, rdkafka_config, Broker, TempDir};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewTopic, OwnedResourceSpecifier,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, DeliveryResult, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, Timestamp, TopicPartitionList};

/// How long a test waits for any one thing librdkafka does (metadata, delivery, consumption).
const WAIT: Duration = Duration::from_secs(20);
/// How long a group test waits for the group to form (kept short: they fail today).
const GROUP_WAIT: Duration = Duration::from_secs(15);
/// Base of the CreateTime timestamps the tests set.
const TS0: i64 = 1_700_000_000_000;
/// Compressible filler so that every codec really shrinks each batch (librdkafka sends a
/// batch uncompressed when compression does not make it smaller).
const FILLER: &str = "lorem ipsum dolor sit amet, consectetur adipiscing elit; ";

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// One record as produced and as consumed (consumed ones also carry their offset).
#[derive(Clone, Debug, PartialEq)]
struct Rec {
    partition: i32,
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    ts: i64,
}

/// A consumed record with its position.
#[derive(Clone, Debug)]
struct Got {
    offset: i64,
    rec: Rec,
}

/// Records `ids` spread round-robin over `partitions`, with keys (some null), compressible
/// values naming `tag` and the id, headers (some null-valued, some repeated, some binary) and
/// distinct CreateTime timestamps.
fn recs(tag: &str, ids: Range<usize>, partitions: i32) -> Vec<Rec> {
    ids.map(|id| {
        let mut headers = vec![
            ("id".to_string(), Some(id.to_string().into_bytes())),
            ("tag".to_string(), Some(tag.as_bytes().to_vec())),
        ];
        if id % 5 == 0 {
            headers.push(("null".to_string(), None));
        }
        if id % 4 == 1 {
            headers.push(("bin".to_string(), Some(vec![0, 255, id as u8, 0])));
        }
        if id % 6 == 2 {
            headers.push(("dup".to_string(), Some(b"a".to_vec())));
            headers.push(("dup".to_string(), Some(b"b".to_vec())));
        }
        Rec {
            partition: (id % partitions as usize) as i32,
            key: (id % 7 != 3).then(|| format!("key-{id}").into_bytes()),
            value: format!("{tag}#{id}|{}", FILLER.repeat(6)).into_bytes(),
            headers,
            ts: TS0 + id as i64 * 10,
        }
    })
    .collect()
}

fn got_from(m: &BorrowedMessage<'_>) -> Got {
    let headers = m
        .headers()
        .map(|h| {
            (0..h.count())
                .map(|i| {
                    let x = h.get(i);
                    (x.key.to_string(), x.value.map(<[u8]>::to_vec))
                })
                .collect()
        })
        .unwrap_or_default();
    let ts = match m.timestamp() {
        Timestamp::CreateTime(t) => t,
        other => panic!(
            "record at {}-{} has timestamp {other:?}, not CreateTime",
            m.partition(),
            m.offset()
        ),
    };
    Got {
        offset: m.offset(),
        rec: Rec {
            partition: m.partition(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers,
            ts,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

/// The broker's last log lines, for failure messages.
fn broker_tail(b: &Broker) -> String {
    let lines = b.logs.lines();
    let from = lines.len().saturating_sub(25);
    lines[from..].join("\n")
}

fn admin(addr: SocketAddr) -> AdminClient<DefaultClientContext> {
    rdkafka_config(addr).create().expect("create admin client")
}

fn admin_opts() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(10)))
        .operation_timeout(Some(Duration::from_secs(10)))
}

// ---------------------------------------------------------------------------------------------
// Producer
// ---------------------------------------------------------------------------------------------

type Report = Result<(i32, i64), String>;

/// Collects delivery reports keyed by the index of the record in the slice that was sent.
#[derive(Clone, Default)]
struct Reports(Arc<Mutex<Vec<(usize, Report)>>>);

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = usize;

    fn delivery(&self, r: &DeliveryResult<'_>, id: usize) {
        let report = match r {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        self.0.lock().unwrap().push((id, report));
    }
}

impl Reports {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn take(&self) -> BTreeMap<usize, Report> {
        let mut out = BTreeMap::new();
        for (id, r) in self.0.lock().unwrap().drain(..) {
            assert!(out.insert(id, r).is_none(), "two delivery reports for record {id}");
        }
        out
    }
}

struct Prod {
    p: BaseProducer<Reports>,
    reports: Reports,
}

fn producer(addr: SocketAddr, settings: &[(&str, &str)]) -> Prod {
    let mut c = rdkafka_config(addr);
    c.set("linger.ms", "5").set("message.timeout.ms", "15000");
    for (k, v) in settings {
        c.set(*k, *v);
    }
    let reports = Reports::default();
    let p = c.create_with_context(reports.clone()).expect("create producer");
    Prod { p, reports }
}

impl Prod {
    /// Enqueues every record (to its partition), with `first_id + index` as delivery opaque.
    fn send(&self, topic: &str, recs: &[Rec], first_id: usize) {
        for (i, r) in recs.iter().enumerate() {
            let mut headers = OwnedHeaders::new();
            for (k, v) in &r.headers {
                headers = headers.insert(Header { key: k, value: v.as_deref() });
            }
            let mut record: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(topic, first_id + i)
                    .partition(r.partition)
                    .payload(r.value.as_slice())
                    .timestamp(r.ts)
                    .headers(headers);
            if let Some(k) = &r.key {
                record = record.key(k.as_slice());
            }
            if let Err((e, _)) = self.p.send(record) {
                panic!("enqueueing record {i}: {e}");
            }
            self.p.poll(Duration::ZERO);
        }
    }

    /// Flushes and waits until `n` delivery reports are in, then returns them all.
    fn reports(&self, n: usize, timeout: Duration) -> BTreeMap<usize, Report> {
        let deadline = Instant::now() + timeout;
        let _ = self.p.flush(timeout);
        while self.reports.len() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} delivery reports within {timeout:?}",
                self.reports.len()
            );
            self.p.poll(Duration::from_millis(50));
        }
        self.reports.take()
    }

    /// Sends `recs` and asserts that each one is delivered, returning (partition, offset) per
    /// record in order.
    fn send_ok(&self, topic: &str, recs: &[Rec]) -> Vec<(i32, i64)> {
        self.send(topic, recs, 0);
        let reports = self.reports(recs.len(), WAIT);
        assert_eq!(reports.len(), recs.len());
        reports
            .into_iter()
            .map(|(id, r)| {
                let (p, o) = r.unwrap_or_else(|e| panic!("record {id} not delivered: {e}"));
                assert_eq!(p, recs[id].partition, "record {id} delivered to another partition");
                (p, o)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Consumer
// ---------------------------------------------------------------------------------------------

fn consumer(addr: SocketAddr, group: &str, settings: &[(&str, &str)]) -> BaseConsumer {
    let mut c = rdkafka_config(addr);
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        .set("fetch.error.backoff.ms", "50");
    for (k, v) in settings {
        c.set(*k, *v);
    }
    c.create().expect("create consumer")
}

fn assign_from_beginning(c: &BaseConsumer, topic: &str, partitions: i32) {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    c.assign(&tpl).expect("assign");
}

/// Polls until `n` records arrived; panics with what came and the errors seen otherwise.
fn consume_n(c: &BaseConsumer, n: usize, timeout: Duration) -> Vec<Got> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut errors = Vec::new();
    while got.len() < n {
        assert!(
            Instant::now() < deadline,
            "consumed only {} of {n} records within {timeout:?}; errors: {errors:?}",
            got.len()
        );
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => got.push(got_from(&m)),
            Some(Err(e)) => errors.push(e.to_string()),
            None => {}
        }
    }
    got
}

/// Groups consumed records by partition, checking offsets run 0, 1, 2, ... in each.
fn by_partition(got: &[Got]) -> BTreeMap<i32, Vec<Rec>> {
    let mut out: BTreeMap<i32, Vec<Rec>> = BTreeMap::new();
    for g in got {
        let v = out.entry(g.rec.partition).or_default();
        assert_eq!(
            g.offset,
            v.len() as i64,
            "partition {} delivered offset {} after {} records",
            g.rec.partition,
            g.offset,
            v.len()
        );
        v.push(g.rec.clone());
    }
    out
}

fn expected_by_partition(recs: &[Rec]) -> BTreeMap<i32, Vec<Rec>> {
    let mut out: BTreeMap<i32, Vec<Rec>> = BTreeMap::new();
    for r in recs {
        out.entry(r.partition).or_default().push(r.clone());
    }
    out
}

/// Asserts consumed records equal the expected ones, partition by partition and in order.
fn assert_same(got: &[Got], expected: &[Rec]) {
    let got = by_partition(got);
    let want = expected_by_partition(expected);
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "partitions");
    for (p, w) in &want {
        let g = &got[p];
        assert_eq!(g.len(), w.len(), "record count of partition {p}");
        for (i, (g, w)) in g.iter().zip(w).enumerate() {
            assert_eq!(g, w, "partition {p} offset {i}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The log on disk
// ---------------------------------------------------------------------------------------------

/// Header fields of one stored v2 batch.
#[derive(Debug)]
struct StoredBatch {
    base_offset: i64,
    attributes: i16,
    last_offset_delta: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    records: i32,
}

fn stored_batches(dir: &Path, topic: &str, partition: i32) -> Vec<StoredBatch> {
    let log = common::read_log(dir, topic, partition);
    common::split_batches(&log)
        .into_iter()
        .map(|b| {
            assert_eq!(b[16], 2, "magic of a stored batch");
            let i16_at = |at: usize| i16::from_be_bytes(b[at..at + 2].try_into().unwrap());
            let i32_at = |at: usize| i32::from_be_bytes(b[at..at + 4].try_into().unwrap());
            let i64_at = |at: usize| i64::from_be_bytes(b[at..at + 8].try_into().unwrap());
            StoredBatch {
                base_offset: i64_at(0),
                attributes: i16_at(21),
                last_offset_delta: i32_at(23),
                producer_id: i64_at(43),
                producer_epoch: i16_at(51),
                base_sequence: i32_at(53),
                records: i32_at(57),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Admin client and metadata
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_creates_alters_and_describes_topic_configs() {
    let dir = TempDir::new("rdk-configs");
    let broker = Broker::start(dir.path());
    let admin = admin(broker.addr);
    let new = NewTopic::new("tuned", 1, TopicReplication::Fixed(1))
        .set("cleanup.policy", "compact")
        .set("segment.bytes", "2097152");
    let created = block_on(admin.create_topics(&[new], &admin_opts()), WAIT).expect("CreateTopics");
    assert_eq!(created, vec![Ok("tuned".to_string())], "{}", broker_tail(&broker));

    let describe = || {
        let r = block_on(
            admin.describe_configs(&[ResourceSpecifier::Topic("tuned")], &admin_opts()),
            WAIT,
        )
        .expect("DescribeConfigs");
        r.into_iter().next().unwrap().expect("the topic's configs")
    };
    let d = describe();
    let e = d.get("cleanup.policy").expect("cleanup.policy");
    assert_eq!((e.value.as_deref(), &e.source), (Some("compact"), &ConfigSource::DynamicTopic));
    let e = d.get("max.message.bytes").expect("max.message.bytes");
    assert_eq!((e.value.as_deref(), &e.source), (Some("1048588"), &ConfigSource::Default));

    // librdkafka's alter_configs is Kafka's AlterConfigs: the new set replaces the old one.
    let alter =
        AlterConfig::new(ResourceSpecifier::Topic("tuned")).set("max.message.bytes", "5000");
    let r = block_on(admin.alter_configs(&[alter], &admin_opts()), WAIT).expect("AlterConfigs");
    assert_eq!(r, vec![Ok(OwnedResourceSpecifier::Topic("tuned".into()))]);
    let d = describe();
    let e = d.get("max.message.bytes").unwrap();
    assert_eq!((e.value.as_deref(), &e.source), (Some("5000"), &ConfigSource::DynamicTopic));
    assert_eq!(d.get("cleanup.policy").unwrap().source, ConfigSource::Default, "replaced");

    // A value Kafka refuses is not kept. (rust-rdkafka 0.39 reports every resource of an
    // AlterConfigs result as Ok, whatever its error code: the refusal itself is checked over
    // the wire in tests/config_apis.rs.)
    let bad = AlterConfig::new(ResourceSpecifier::Topic("tuned")).set("segment.bytes", "12");
    block_on(admin.alter_configs(&[bad], &admin_opts()), WAIT).expect("AlterConfigs");
    let d = describe();
    assert_eq!(d.get("segment.bytes").unwrap().value.as_deref(), Some("1073741824"));
    assert_eq!(d.get("max.message.bytes").unwrap().value.as_deref(), Some("5000"));
}

#[test]
fn admin_creates_topic_sees_it_in_metadata_and_deletes_it() {
    let dir = TempDir::new("rdk-admin");
    // No auto-creation, so that a metadata request cannot bring a deleted topic back.
    let broker = Broker::start_with(dir.path(), &["auto.create.topics.enable=false"]);
    let admin = admin(broker.addr);

    let created = block_on(
        admin.create_topics(
            &[NewTopic::new("orders", 3, TopicReplication::Fixed(1))],
            &admin_opts(),
        ),
        WAIT,
    )
    .expect("CreateTopics request");
    assert_eq!(created, vec![Ok("orders".to_string())], "{}", broker_tail(&broker));

    // Metadata as a consumer sees it: the topic with 3 partitions led by the one broker, which
    // advertises the address the clients reached it on (the real port, not 0).
    let c = consumer(broker.addr, "rdk-admin", &[]);
    let md = c.fetch_metadata(Some("orders"), WAIT).expect("metadata");
    assert_eq!(md.brokers().len(), 1, "brokers");
    let b = &md.brokers()[0];
    assert_eq!((b.host(), b.port()), ("127.0.0.1", i32::from(broker.addr.port())));
    assert_eq!(md.topics().len(), 1);
    let t = &md.topics()[0];
    assert_eq!(t.name(), "orders");
    assert_eq!(t.error(), None);
    let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ids.sort();
    assert_eq!(ids, vec![0, 1, 2]);
    for p in t.partitions() {
        assert_eq!(p.error(), None, "partition {}", p.id());
        assert_eq!(p.leader(), b.id(), "leader of partition {}", p.id());
        assert_eq!(p.replicas(), &[b.id()]);
        assert_eq!(p.isr(), &[b.id()]);
    }
    // Listed among all topics too.
    let all = c.fetch_metadata(None, WAIT).expect("metadata of all topics");
    assert!(all.topics().iter().any(|t| t.name() == "orders" && t.partitions().len() == 3));

    // Creating it again, or with an impossible replication factor, fails per topic.
    let again = block_on(
        admin.create_topics(
            &[
                NewTopic::new("orders", 1, TopicReplication::Fixed(1)),
                NewTopic::new("replicated", 1, TopicReplication::Fixed(3)),
            ],
            &admin_opts(),
        ),
        WAIT,
    )
    .expect("CreateTopics request");
    assert_eq!(
        again,
        vec![
            Err(("orders".to_string(), RDKafkaErrorCode::TopicAlreadyExists)),
            Err(("replicated".to_string(), RDKafkaErrorCode::InvalidReplicationFactor)),
        ]
    );

    let deleted = block_on(admin.delete_topics(&["orders"], &admin_opts()), WAIT)
        .expect("DeleteTopics request");
    assert_eq!(deleted, vec![Ok("orders".to_string())]);
    let md = c.fetch_metadata(Some("orders"), WAIT).expect("metadata after delete");
    assert_eq!(md.topics().len(), 1);
    assert_eq!(
        md.topics()[0].error().map(RDKafkaErrorCode::from),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition),
        "a deleted topic is unknown"
    );
    let all = c.fetch_metadata(None, WAIT).expect("metadata of all topics");
    assert!(all.topics().iter().all(|t| t.name() != "orders"), "deleted topic still listed");

    let gone = block_on(admin.delete_topics(&["orders"], &admin_opts()), WAIT)
        .expect("DeleteTopics request");
    assert_eq!(gone, vec![Err(("orders".to_string(), RDKafkaErrorCode::UnknownTopicOrPartition))]);
}

#[test]
fn producer_auto_creates_topic_with_default_partition_count() {
    let dir = TempDir::new("rdk-auto");
    let broker = Broker::start_with(dir.path(), &["num.partitions=2"]);
    let prod = producer(broker.addr, &[("acks", "all")]);
    let recs = recs("auto", 0..10, 2);
    let placed = prod.send_ok("fresh", &recs);
    assert_eq!(placed.iter().filter(|(p, _)| *p == 0).count(), 5);

    let c = consumer(broker.addr, "rdk-auto", &[]);
    let md = c.fetch_metadata(Some("fresh"), WAIT).expect("metadata");
    assert_eq!(md.topics()[0].partitions().len(), 2, "auto-created with num.partitions=2");
    assign_from_beginning(&c, "fresh", 2);
    assert_same(&consume_n(&c, 10, WAIT), &recs);
}

// ---------------------------------------------------------------------------------------------
// Produce with every acks setting and codec, consume back with manual assignment
// ---------------------------------------------------------------------------------------------

/// Produces with acks=1, then acks=all, then acks=0 (each producer flushed before the next, so
/// the per-partition order is known), all with `codec`; consumes everything back from the
/// beginning with a manually assigned consumer; checks the stored batches carry the codec.
/// A backlog of megabytes, consumed from the beginning: librdkafka's fetches of up to 1 MiB a
/// partition get their records sent from the segment files (stretches over 16 KiB), and
/// every record arrives, in order, as produced.
#[test]
fn a_backlog_of_megabytes_is_consumed_whole() {
    const PARTS: i32 = 2;
    const N: usize = 12_000;
    let dir = TempDir::new("rdk-backlog");
    common::make_log_dir(dir.path(), &[("backlog", PARTS)]);
    let broker = Broker::start(dir.path());
    let all = recs("backlog", 0..N, PARTS);
    let prod = producer(broker.addr, &[("acks", "1"), ("linger.ms", "20")]);
    prod.send_ok("backlog", &all);
    let bytes: u64 =
        (0..PARTS).map(|p| common::read_log(dir.path(), "backlog", p).len() as u64).sum();
    assert!(bytes > 4 << 20, "only {bytes} bytes stored");
    let c = consumer(broker.addr, "rdk-backlog", &[("max.partition.fetch.bytes", "1048576")]);
    assign_from_beginning(&c, "backlog", PARTS);
    let got = consume_n(&c, N, WAIT);
    assert_same(&got, &all);
}

fn roundtrip(codec: &str, codec_id: i16) {
    const PARTS: i32 = 3;
    const EACH: usize = 30;
    let topic = format!("codec-{codec}");
    let dir = TempDir::new(&format!("rdk-{codec}"));
    common::make_log_dir(dir.path(), &[(&topic, PARTS)]);
    let broker = Broker::start(dir.path());

    let all = recs(codec, 0..3 * EACH, PARTS);
    let mut delivered: BTreeMap<usize, (i32, i64)> = BTreeMap::new();
    for (round, acks) in ["1", "all", "0"].into_iter().enumerate() {
        let prod = producer(broker.addr, &[("acks", acks), ("compression.codec", codec)]);
        let slice = &all[round * EACH..(round + 1) * EACH];
        prod.send(&topic, slice, round * EACH);
        let reports = prod.reports(EACH, WAIT);
        for (id, r) in reports {
            let (p, o) = r.unwrap_or_else(|e| {
                panic!("acks={acks} {codec}: record {id} failed: {e}\n{}", broker_tail(&broker))
            });
            assert_eq!(p, all[id].partition);
            if acks != "0" {
                assert!(o >= 0, "acks={acks}: delivery report of record {id} has offset {o}");
                delivered.insert(id, (p, o));
            }
        }
    }

    let c = consumer(broker.addr, &format!("rdk-{codec}"), &[]);
    assign_from_beginning(&c, &topic, PARTS);
    let got = consume_n(&c, all.len(), WAIT);
    assert_same(&got, &all);
    // Acknowledged offsets are where the records are.
    for g in &got {
        let id: usize = String::from_utf8_lossy(&g.rec.value)
            .split_once('#')
            .and_then(|(_, rest)| rest.split_once('|'))
            .map(|(id, _)| id.parse().unwrap())
            .unwrap();
        if let Some(at) = delivered.get(&id) {
            assert_eq!(*at, (g.rec.partition, g.offset), "record {id}: reported vs consumed");
        }
    }
    assert_eq!(delivered.len(), 2 * EACH);

    // Every stored batch carries the producer's codec: the broker stores what it was sent.
    for p in 0..PARTS {
        let batches = stored_batches(dir.path(), &topic, p);
        assert!(!batches.is_empty(), "partition {p} has no batches on disk");
        for b in &batches {
            assert_eq!(b.attributes & 7, codec_id, "codec of a batch of partition {p}: {b:?}");
            assert_eq!(b.producer_id, -1, "non-idempotent producer: {b:?}");
        }
        let (lo, hi) = c.fetch_watermarks(&topic, p, WAIT).expect("watermarks");
        assert_eq!((lo, hi), (0, EACH as i64), "watermarks of partition {p}");
    }
}

#[test]
fn roundtrip_uncompressed() {
    roundtrip("none", 0);
}

#[test]
fn roundtrip_gzip() {
    roundtrip("gzip", 1);
}

#[test]
fn roundtrip_snappy() {
    roundtrip("snappy", 2);
}

#[test]
fn roundtrip_lz4() {
    roundtrip("lz4", 3);
}

#[test]
fn roundtrip_zstd() {
    roundtrip("zstd", 4);
}

// ---------------------------------------------------------------------------------------------
// Idempotent producer
// ---------------------------------------------------------------------------------------------

#[test]
fn idempotent_producer_no_duplicates_and_contiguous_offsets() {
    const PARTS: i32 = 2;
    const N: usize = 300;
    let dir = TempDir::new("rdk-idem");
    common::make_log_dir(dir.path(), &[("idem", PARTS)]);
    let broker = Broker::start(dir.path());
    let settings = [
        ("enable.idempotence", "true"),
        ("compression.codec", "lz4"),
        ("linger.ms", "1"),
        // Small batches, several in flight per partition.
        ("batch.num.messages", "7"),
        ("max.in.flight.requests.per.connection", "5"),
    ];
    let prod = producer(broker.addr, &settings);
    let first = recs("idem", 0..N, PARTS);
    let placed = prod.send_ok("idem", &first);
    // Offsets per partition are exactly 0..n, each once.
    let mut per: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for (p, o) in &placed {
        per.entry(*p).or_default().push(*o);
    }
    for (p, offsets) in &per {
        let mut sorted = offsets.clone();
        sorted.sort();
        assert_eq!(sorted, (0..offsets.len() as i64).collect::<Vec<_>>(), "offsets of {p}");
        assert_eq!(&sorted, offsets, "offsets of {p} follow the send order");
    }

    // A second idempotent producer gets another producer id and continues the offsets.
    let prod2 = producer(broker.addr, &settings);
    let second = recs("idem2", N..N + 20, PARTS);
    let placed2 = prod2.send_ok("idem", &second);
    for (i, (p, o)) in placed2.iter().enumerate() {
        assert_eq!(*o, (N / PARTS as usize + i / PARTS as usize) as i64, "offset in {p}");
    }

    let c = consumer(broker.addr, "rdk-idem", &[]);
    assign_from_beginning(&c, "idem", PARTS);
    let mut all = first.clone();
    all.extend(second.iter().cloned());
    assert_same(&consume_n(&c, all.len(), WAIT), &all);
    for p in 0..PARTS {
        assert_eq!(
            c.fetch_watermarks("idem", p, WAIT).unwrap(),
            (0, (all.len() / PARTS as usize) as i64),
            "no duplicate stored in partition {p}"
        );
    }

    // On disk: idempotent batches, one producer id per producer, sequences contiguous from 0.
    for p in 0..PARTS {
        let batches = stored_batches(dir.path(), "idem", p);
        assert!(batches.len() > 1, "partition {p}: expected several batches");
        let mut pids = Vec::new();
        let mut next_seq: BTreeMap<i64, i32> = BTreeMap::new();
        let mut next_offset = 0;
        for b in &batches {
            assert_eq!(b.attributes & 7, 3, "lz4: {b:?}");
            assert!(b.producer_id >= 0 && b.producer_epoch >= 0, "idempotent batch: {b:?}");
            assert_eq!(b.base_offset, next_offset, "contiguous offsets: {b:?}");
            assert_eq!(b.last_offset_delta + 1, b.records);
            next_offset += i64::from(b.records);
            let seq = next_seq.entry(b.producer_id).or_insert(0);
            assert_eq!(b.base_sequence, *seq, "sequence of {b:?}");
            *seq += b.records;
            if pids.last() != Some(&b.producer_id) {
                pids.push(b.producer_id);
            }
        }
        assert_eq!(pids.len(), 2, "two producers, two producer ids, in order: {pids:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// ListOffsets
// ---------------------------------------------------------------------------------------------

#[test]
fn list_offsets_watermarks_and_offsets_for_times() {
    let dir = TempDir::new("rdk-lo");
    common::make_log_dir(dir.path(), &[("times", 3)]);
    let broker = Broker::start(dir.path());
    let prod = producer(broker.addr, &[("acks", "all"), ("linger.ms", "50")]);
    let rec = |partition: i32, ts: i64, v: &str| Rec {
        partition,
        key: None,
        value: v.as_bytes().to_vec(),
        headers: Vec::new(),
        ts,
    };
    // Partition 0: two batches, timestamps t0, t0+1000, ..., t0+9000.
    let a: Vec<Rec> = (0..5).map(|i| rec(0, TS0 + i * 1000, "a")).collect();
    let b: Vec<Rec> = (5..10).map(|i| rec(0, TS0 + i * 1000, "b")).collect();
    // Partition 1: timestamps out of order within one batch.
    let c: Vec<Rec> = [100, 500, 200, 300].iter().map(|d| rec(1, TS0 + d, "c")).collect();
    prod.send_ok("times", &a);
    prod.send_ok("times", &b);
    prod.send_ok("times", &c);
    // Partition 2 stays empty.

    let cons = consumer(broker.addr, "rdk-lo", &[]);
    assert_eq!(cons.fetch_watermarks("times", 0, WAIT).unwrap(), (0, 10));
    assert_eq!(cons.fetch_watermarks("times", 1, WAIT).unwrap(), (0, 4));
    assert_eq!(cons.fetch_watermarks("times", 2, WAIT).unwrap(), (0, 0));
    assert!(stored_batches(dir.path(), "times", 0).len() >= 2);

    let lookup = |p: i32, ts: i64| -> Offset {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("times", p, Offset::Offset(ts)).unwrap();
        let r = cons.offsets_for_times(tpl, WAIT).expect("offsets_for_times");
        let e = r.find_partition("times", p).expect("partition in the answer");
        e.error().unwrap_or_else(|err| panic!("offsets_for_times({p}, {ts}): {err}"));
        e.offset()
    };
    // The first offset whose timestamp is at or after the target.
    assert_eq!(lookup(0, TS0 - 1), Offset::Offset(0));
    assert_eq!(lookup(0, TS0), Offset::Offset(0));
    assert_eq!(lookup(0, TS0 + 1), Offset::Offset(1));
    assert_eq!(lookup(0, TS0 + 3500), Offset::Offset(4));
    assert_eq!(lookup(0, TS0 + 4500), Offset::Offset(5));
    assert_eq!(lookup(0, TS0 + 6500), Offset::Offset(7));
    assert_eq!(lookup(0, TS0 + 9000), Offset::Offset(9));
    assert_eq!(lookup(0, TS0 + 9001), Offset::End, "after the last timestamp");
    // Out of order: the first record in offset order with a timestamp >= target.
    assert_eq!(lookup(1, TS0 + 250), Offset::Offset(1));
    assert_eq!(lookup(1, TS0 + 150), Offset::Offset(1));
    assert_eq!(lookup(1, TS0 + 100), Offset::Offset(0));
    assert_eq!(lookup(1, TS0 + 501), Offset::End);
    assert_eq!(lookup(2, TS0), Offset::End, "empty partition");

    // More appends move the latest offset.
    prod.send_ok("times", &[rec(2, TS0, "d")]);
    assert_eq!(cons.fetch_watermarks("times", 2, WAIT).unwrap(), (0, 1));
    assert_eq!(lookup(2, TS0), Offset::Offset(0));
}

// ---------------------------------------------------------------------------------------------
// Broker restart
// ---------------------------------------------------------------------------------------------

#[test]
fn nothing_acknowledged_is_lost_across_a_broker_restart() {
    const PARTS: i32 = 2;
    let dir = TempDir::new("rdk-restart");
    common::make_log_dir(dir.path(), &[("durable", PARTS)]);
    let broker = Broker::start(dir.path());
    let prod = producer(
        broker.addr,
        &[("acks", "all"), ("linger.ms", "0"), ("message.timeout.ms", "3000")],
    );
    // A first lot, all acknowledged.
    let before = recs("before", 0..40, PARTS);
    prod.send("durable", &before, 0);
    let first = prod.reports(before.len(), WAIT);
    assert!(first.values().all(Result::is_ok), "{first:?}");

    // A second lot in flight when the broker is killed: kill as soon as one of its first half
    // is acknowledged, then enqueue the second half, which can only fail.
    let during = recs("during", 40..240, PARTS);
    prod.send("durable", &during[..100], 40);
    let deadline = Instant::now() + WAIT;
    while prod.reports.len() == 0 {
        assert!(Instant::now() < deadline, "no delivery report for the second lot");
        prod.p.poll(Duration::from_millis(1));
    }
    broker.kill();
    prod.send("durable", &during[100..], 140);
    // What is still in flight fails (the broker is gone) within message.timeout.ms.
    let second = prod.reports(during.len(), WAIT);
    assert!(second.values().any(Result::is_err), "records sent after the kill were acknowledged");
    drop(prod);
    let mut acked: BTreeMap<(i32, i64), Rec> = BTreeMap::new();
    for (id, r) in first.into_iter().chain(second) {
        if let Ok((p, o)) = r {
            let rec = if id < 40 { &before[id] } else { &during[id - 40] };
            assert!(acked.insert((p, o), rec.clone()).is_none(), "two records acked at {p}-{o}");
        }
    }
    assert!(acked.len() > 40, "at least one of the second lot was acknowledged");
    eprintln!("acknowledged before the kill: {} of {}", acked.len(), 40 + during.len());

    // Restart on the same directory (a new port, so new clients).
    let broker = Broker::start(dir.path());
    let c = consumer(broker.addr, "rdk-restart", &[]);
    let mut ends = BTreeMap::new();
    for p in 0..PARTS {
        let (lo, hi) = c.fetch_watermarks("durable", p, WAIT).expect("watermarks");
        assert_eq!(lo, 0);
        let max_acked = acked.keys().filter(|(q, _)| *q == p).map(|(_, o)| *o).max().unwrap();
        assert!(hi > max_acked, "partition {p}: high watermark {hi}, acked offset {max_acked}");
        ends.insert(p, hi);
    }
    assign_from_beginning(&c, "durable", PARTS);
    let total = ends.values().sum::<i64>() as usize;
    let got = consume_n(&c, total, WAIT);
    let mut stored = BTreeMap::new();
    for g in &got {
        stored.insert((g.rec.partition, g.offset), g.rec.clone());
    }
    assert_eq!(stored.len(), total, "each offset consumed once");
    for (at, rec) in &acked {
        assert_eq!(stored.get(at), Some(rec), "acknowledged record at {at:?}");
    }

    // The restarted broker appends after what it had.
    let prod = producer(broker.addr, &[("acks", "all")]);
    let after = recs("after", 240..244, PARTS);
    let placed = prod.send_ok("durable", &after);
    for (i, (p, o)) in placed.iter().enumerate() {
        assert_eq!(*o, ends[p] + (i as i64 / i64::from(PARTS)), "offset after restart");
    }
    let more = consume_n(&c, after.len(), WAIT);
    for g in &more {
        let i = after.iter().position(|r| *r == g.rec).expect("a record produced after restart");
        assert_eq!((g.rec.partition, g.offset), placed[i]);
    }
}

// ---------------------------------------------------------------------------------------------
// Consumer groups: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
// OffsetFetch, ListGroups and DescribeGroups. Without them librdkafka finds no coordinator, no
// assignment or commit ever happens, and these tests fail at their deadlines.
// ---------------------------------------------------------------------------------------------

/// Group members heartbeat often so that a rebalance is noticed quickly.
const GROUP_SETTINGS: [(&str, &str); 3] = [
    ("heartbeat.interval.ms", "100"),
    ("session.timeout.ms", "6000"),
    ("partition.assignment.strategy", "range"),
];

fn group_broker(dir: &Path) -> Broker {
    Broker::start_with(dir, &["group.initial.rebalance.delay.ms=0"])
}

fn partitions_of(tpl: &TopicPartitionList) -> BTreeSet<i32> {
    tpl.elements().iter().map(|e| e.partition()).collect()
}

/// Polls every consumer until `done` holds for their assignments; messages must not arrive.
fn poll_until_assigned(
    cs: &[&BaseConsumer],
    timeout: Duration,
    done: impl Fn(&[BTreeSet<i32>]) -> bool,
) -> Vec<BTreeSet<i32>> {
    let deadline = Instant::now() + timeout;
    let mut errors = Vec::new();
    loop {
        let now: Vec<BTreeSet<i32>> =
            cs.iter().map(|c| partitions_of(&c.assignment().unwrap())).collect();
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "group did not settle within {timeout:?}: assignments {now:?}; errors {errors:?}"
        );
        for c in cs {
            match c.poll(Duration::from_millis(50)) {
                Some(Ok(m)) => panic!("unexpected record at {}-{}", m.partition(), m.offset()),
                Some(Err(e)) => errors.push(e.to_string()),
                None => {}
            }
        }
    }
}

/// Decodes a ConsumerProtocolAssignment: version, [topic, [partition]], user data.
fn decode_assignment(b: &[u8]) -> BTreeMap<String, BTreeSet<i32>> {
    let mut at = 2;
    let i16_at = |at: &mut usize| {
        let v = i16::from_be_bytes(b[*at..*at + 2].try_into().unwrap());
        *at += 2;
        v
    };
    let i32_at = |at: &mut usize| {
        let v = i32::from_be_bytes(b[*at..*at + 4].try_into().unwrap());
        *at += 4;
        v
    };
    let mut out = BTreeMap::new();
    for _ in 0..i32_at(&mut at) {
        let n = i16_at(&mut at) as usize;
        let topic = String::from_utf8(b[at..at + n].to_vec()).unwrap();
        at += n;
        let parts = (0..i32_at(&mut at)).map(|_| i32_at(&mut at)).collect();
        out.insert(topic, parts);
    }
    out
}

#[test]
fn group_members_share_partitions_and_commit() {
    const PARTS: i32 = 4;
    let dir = TempDir::new("rdk-group");
    common::make_log_dir(dir.path(), &[("shared", PARTS)]);
    let broker = group_broker(dir.path());
    let a = consumer(broker.addr, "sharers", &GROUP_SETTINGS);
    let b = consumer(broker.addr, "sharers", &GROUP_SETTINGS);
    a.subscribe(&["shared"]).unwrap();
    b.subscribe(&["shared"]).unwrap();
    let split = poll_until_assigned(&[&a, &b], GROUP_WAIT, |s| {
        !s[0].is_empty()
            && !s[1].is_empty()
            && s[0].is_disjoint(&s[1])
            && s[0].union(&s[1]).count() == PARTS as usize
    });

    let recs = recs("group", 0..40, PARTS);
    producer(broker.addr, &[("acks", "all")]).send_ok("shared", &recs);

    let deadline = Instant::now() + WAIT;
    let mut got: [Vec<Got>; 2] = [Vec::new(), Vec::new()];
    while got[0].len() + got[1].len() < recs.len() {
        assert!(
            Instant::now() < deadline,
            "consumed {} + {} of {} records",
            got[0].len(),
            got[1].len(),
            recs.len()
        );
        for (i, c) in [&a, &b].into_iter().enumerate() {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(50)) {
                got[i].push(got_from(&m));
            }
        }
    }
    for (i, c) in [&a, &b].into_iter().enumerate() {
        assert_eq!(partitions_of(&c.assignment().unwrap()), split[i], "assignment changed");
        for g in &got[i] {
            assert!(split[i].contains(&g.rec.partition), "member {i} got {}", g.rec.partition);
        }
        let mine: Vec<Rec> =
            recs.iter().filter(|r| split[i].contains(&r.partition)).cloned().collect();
        assert_same(&got[i], &mine);
    }

    // Both commit their positions; each reads its committed offsets back.
    for (i, c) in [&a, &b].into_iter().enumerate() {
        c.commit_consumer_state(CommitMode::Sync).expect("commit");
        let committed = c.committed(WAIT).expect("committed offsets");
        assert_eq!(partitions_of(&committed), split[i]);
        for e in committed.elements() {
            assert_eq!(e.offset(), Offset::Offset(10), "committed offset of {}", e.partition());
        }
    }

    // ListGroups + DescribeGroups: one stable consumer group with both members.
    let groups = a.fetch_group_list(Some("sharers"), WAIT).expect("group list");
    assert_eq!(groups.groups().len(), 1);
    let g = &groups.groups()[0];
    assert_eq!((g.name(), g.state(), g.protocol_type()), ("sharers", "Stable", "consumer"));
    assert_eq!(g.protocol(), "range");
    assert_eq!(g.members().len(), 2);
    let mut described: Vec<BTreeSet<i32>> = g
        .members()
        .iter()
        .map(|m| decode_assignment(m.assignment().expect("member assignment")))
        .map(|t| t.get("shared").cloned().unwrap_or_default())
        .collect();
    described.sort();
    let mut want = split.clone();
    want.sort();
    assert_eq!(described, want, "DescribeGroups member assignments");
}

#[test]
fn group_consumer_resumes_from_committed_offsets() {
    const PARTS: i32 = 2;
    let dir = TempDir::new("rdk-resume");
    common::make_log_dir(dir.path(), &[("resume", PARTS)]);
    let broker = group_broker(dir.path());
    let prod = producer(broker.addr, &[("acks", "all")]);
    let old = recs("old", 0..10, PARTS);
    prod.send_ok("resume", &old);

    {
        let c = consumer(broker.addr, "resumers", &GROUP_SETTINGS);
        c.subscribe(&["resume"]).unwrap();
        let got = consume_n(&c, old.len(), GROUP_WAIT);
        assert_same(&got, &old);
        c.commit_consumer_state(CommitMode::Sync).expect("commit");
    } // Closed: leaves the group.

    let new = recs("new", 10..16, PARTS);
    let placed = prod.send_ok("resume", &new);
    assert!(placed.iter().all(|(_, o)| *o >= 5));

    // A new consumer in the same group starts at the committed offsets (auto.offset.reset is
    // earliest, so starting anywhere else would deliver old records first).
    let c = consumer(broker.addr, "resumers", &GROUP_SETTINGS);
    c.subscribe(&["resume"]).unwrap();
    let got = consume_n(&c, new.len(), GROUP_WAIT);
    let mut per: BTreeMap<i32, Vec<(i64, Rec)>> = BTreeMap::new();
    for g in got {
        per.entry(g.rec.partition).or_default().push((g.offset, g.rec));
    }
    for (p, recs) in &per {
        let want: Vec<(i64, Rec)> = new
            .iter()
            .filter(|r| r.partition == *p)
            .enumerate()
            .map(|(i, r)| (5 + i as i64, r.clone()))
            .collect();
        assert_eq!(recs, &want, "partition {p} resumes at offset 5");
    }
    assert_eq!(per.len(), PARTS as usize);
}

#[test]
fn group_committed_offsets_survive_a_broker_restart() {
    const PARTS: i32 = 3;
    let dir = TempDir::new("rdk-gdurable");
    common::make_log_dir(dir.path(), &[("kept", PARTS)]);
    let broker = group_broker(dir.path());
    let old = recs("old", 0..9, PARTS);
    producer(broker.addr, &[("acks", "all")]).send_ok("kept", &old);
    {
        let c = consumer(broker.addr, "keepers", &GROUP_SETTINGS);
        c.subscribe(&["kept"]).unwrap();
        assert_same(&consume_n(&c, old.len(), GROUP_WAIT), &old);
        c.commit_consumer_state(CommitMode::Sync).expect("commit");
    }
    broker.kill();

    let broker = group_broker(dir.path());
    let c = consumer(broker.addr, "keepers", &GROUP_SETTINGS);
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTS {
        tpl.add_partition("kept", p);
    }
    let committed = c.committed_offsets(tpl, GROUP_WAIT).expect("OffsetFetch after restart");
    for p in 0..PARTS {
        let e = committed.find_partition("kept", p).unwrap();
        assert_eq!(e.offset(), Offset::Offset(3), "committed offset of partition {p}");
    }

    let new = recs("new", 9..12, PARTS);
    producer(broker.addr, &[("acks", "all")]).send_ok("kept", &new);
    c.subscribe(&["kept"]).unwrap();
    let got = consume_n(&c, new.len(), GROUP_WAIT);
    for g in &got {
        assert_eq!(g.offset, 3, "resumed at the committed offset");
        assert_eq!(g.rec, new[g.rec.partition as usize]);
    }
}

#[test]
fn standalone_consumer_commits_and_fetches_offsets() {
    // A manually assigned consumer commits outside any generation (generation -1, no member id),
    // which Kafka accepts for a group with no members.
    let dir = TempDir::new("rdk-standalone");
    common::make_log_dir(dir.path(), &[("solo", 2)]);
    let broker = group_broker(dir.path());
    producer(broker.addr, &[("acks", "all")]).send_ok("solo", &recs("solo", 0..6, 2));
    let c = consumer(broker.addr, "solo-group", &[]);
    assign_from_beginning(&c, "solo", 2);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("solo", 0, Offset::Offset(2)).unwrap();
    tpl.add_partition_offset("solo", 1, Offset::Offset(3)).unwrap();
    match c.commit(&tpl, CommitMode::Sync) {
        Ok(()) => {}
        Err(e @ KafkaError::ConsumerCommit(_)) => {
            panic!("commit failed: {e} (is OffsetCommit served?)")
        }
        Err(e) => panic!("commit failed: {e}"),
    }
    let mut ask = TopicPartitionList::new();
    ask.add_partition("solo", 0);
    ask.add_partition("solo", 1);
    let committed = c.committed_offsets(ask, GROUP_WAIT).expect("OffsetFetch");
    assert_eq!(committed.find_partition("solo", 0).unwrap().offset(), Offset::Offset(2));
    assert_eq!(committed.find_partition("solo", 1).unwrap().offset(), Offset::Offset(3));
}

/// librdkafka's AdminClient grows a topic (CreatePartitions) under a subscribed consumer,
/// which rebalances onto the new partitions after its metadata refresh and reads a record
/// produced to one; then, the consumer gone, its group is deleted (DeleteGroups) with its
/// committed offsets, and an unknown group and a topic already that large are refused.
#[test]
fn admin_grows_a_subscribed_topic_and_deletes_the_group() {
    use rdkafka::admin::NewPartitions;
    let dir = TempDir::new("rdk-grow");
    common::make_log_dir(dir.path(), &[("growing", 1)]);
    let broker = group_broker(dir.path());
    let mut settings = GROUP_SETTINGS.to_vec();
    settings.push(("topic.metadata.refresh.interval.ms", "300"));
    let c = consumer(broker.addr, "growers", &settings);
    c.subscribe(&["growing"]).unwrap();
    poll_until_assigned(&[&c], GROUP_WAIT, |s| s[0] == BTreeSet::from([0]));

    let a = admin(broker.addr);
    let grown =
        block_on(a.create_partitions(&[NewPartitions::new("growing", 3)], &admin_opts()), WAIT)
            .expect("create_partitions");
    assert_eq!(grown, vec![Ok("growing".to_string())]);
    let again =
        block_on(a.create_partitions(&[NewPartitions::new("growing", 3)], &admin_opts()), WAIT)
            .expect("create_partitions");
    assert!(
        matches!(&again[0], Err((t, e)) if t == "growing" && *e == RDKafkaErrorCode::InvalidPartitions),
        "{again:?}"
    );
    poll_until_assigned(&[&c], GROUP_WAIT, |s| s[0] == BTreeSet::from([0, 1, 2]));

    let recs = vec![Rec {
        partition: 2,
        key: Some(b"k".to_vec()),
        value: b"on the new partition".to_vec(),
        headers: Vec::new(),
        ts: TS0,
    }];
    producer(broker.addr, &[("acks", "all")]).send_ok("growing", &recs);
    let got = consume_n(&c, 1, WAIT);
    assert_same(&got, &recs);
    c.commit_consumer_state(CommitMode::Sync).expect("commit");

    // A member is still in the group: not deletable yet.
    let busy = block_on(a.delete_groups(&["growers"], &admin_opts()), WAIT).expect("delete_groups");
    assert!(
        matches!(&busy[0], Err((g, e)) if g == "growers" && *e == RDKafkaErrorCode::NonEmptyGroup),
        "{busy:?}"
    );
    drop(c); // closes the consumer, which leaves the group
    let deleted = block_on(a.delete_groups(&["growers", "nobody"], &admin_opts()), WAIT)
        .expect("delete_groups");
    assert_eq!(deleted[0], Ok("growers".to_string()), "{deleted:?}");
    assert!(
        matches!(&deleted[1], Err((g, e)) if g == "nobody" && *e == RDKafkaErrorCode::GroupIdNotFound),
        "{deleted:?}"
    );
    // Its committed offsets went with it: a new member of the same name starts from the
    // beginning and reads the record again.
    let c = consumer(broker.addr, "growers", &settings);
    c.subscribe(&["growing"]).unwrap();
    assert_same(&consume_n(&c, 1, WAIT), &recs);
}

/// A LogAppendTime topic: librdkafka's records, compressed or not, come back with the time
/// the broker appended them, marked as such.
#[test]
fn log_append_time_topic_gives_consumers_the_append_time() {
    let dir = TempDir::new("rdk-lat");
    let broker = Broker::start(dir.path());
    let admin = admin(broker.addr);
    let new = NewTopic::new("lat", 1, TopicReplication::Fixed(1))
        .set("message.timestamp.type", "LogAppendTime");
    let created = block_on(admin.create_topics(&[new], &admin_opts()), WAIT).expect("CreateTopics");
    assert_eq!(created, vec![Ok("lat".to_string())], "{}", broker_tail(&broker));
    let now = || {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64
    };
    let before = now();
    for (round, codec) in ["none", "lz4"].into_iter().enumerate() {
        let prod = producer(broker.addr, &[("compression.codec", codec)]);
        let recs = recs(codec, round * 10..round * 10 + 10, 1);
        prod.send_ok("lat", &recs);
    }
    let after = now();
    let c = consumer(broker.addr, "rdk-lat", &[]);
    assign_from_beginning(&c, "lat", 1);
    let deadline = Instant::now() + WAIT;
    let mut seen = 0;
    while seen < 20 {
        assert!(Instant::now() < deadline, "consumed only {seen} of 20");
        let Some(m) = c.poll(Duration::from_millis(100)) else { continue };
        let m = m.expect("a record");
        match m.timestamp() {
            Timestamp::LogAppendTime(t) => {
                assert!((before..=after).contains(&t), "{t} not in [{before}, {after}]")
            }
            other => panic!("record at {} has timestamp {other:?}", m.offset()),
        }
        seen += 1;
    }
    for b in stored_batches(dir.path(), "lat", 0) {
        assert_ne!(b.attributes & 0x08, 0, "{b:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// KIP-848 consumer groups (`group.protocol=consumer`): ConsumerGroupHeartbeat, with
// OffsetCommit/OffsetFetch v9 at member epochs.
// ---------------------------------------------------------------------------------------------

/// Polls every consumer until all records of `want` arrived, each exactly once, and
/// commits what each consumed; returns them in arrival order.
fn consume_all_and_commit(cs: &[&BaseConsumer], n: usize) -> Vec<Got> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut errors = Vec::new();
    while got.len() < n {
        assert!(
            Instant::now() < deadline,
            "consumed {} of {n} records; errors {errors:?}",
            got.len()
        );
        for c in cs {
            match c.poll(Duration::from_millis(50)) {
                Some(Ok(m)) => {
                    got.push(got_from(&m));
                    c.commit_message(&m, CommitMode::Sync).expect("commit");
                }
                Some(Err(e)) => errors.push(e.to_string()),
                None => {}
            }
        }
    }
    got
}

/// The first member is given all six partitions and revokes three when the second joins.
/// librdkafka 2.12 re-reads committed records when that revocation comes while it is still
/// positioning the partitions it was first given (by `auto.offset.reset`): its debug log
/// (`debug=cgrp,fetch`) shows it query the BEGINNING offset again for the partitions it kept
/// ("timed offset query for offset BEGINNING") after records were read and committed there.
/// Kafka 4.3+ computes a group's target at most once per
/// `group.consumer.assignment.interval.ms` (a second by default), so the revocation comes a
/// second later, when the first member has long settled; so does this broker. With the
/// interval at 0 (targets at every change, as before) the session re-read records here in
/// 4 of 6 runs; with the default it passed 8 of 8.
#[test]
fn consumer_protocol_group_shares_partitions_as_members_come_and_go() {
    let dir = TempDir::new("rdk-kip848");
    common::make_log_dir(dir.path(), &[("kip848", 6)]);
    let broker = Broker::start_with(dir.path(), &["group.consumer.heartbeat.interval.ms=200"]);
    consumer_protocol_session(broker.addr);
}

/// The same session against a real one-node Kafka.
#[test]
fn consumer_protocol_group_against_kafka() {
    let dir = TempDir::new("rdk-kip848-kafka");
    let opts = common::kafka::KafkaOptions::default()
        .set("group.consumer.min.heartbeat.interval.ms", "200")
        .set("group.consumer.heartbeat.interval.ms", "200");
    let kafka = common::kafka::Kafka::start_fresh(dir.path(), &opts);
    let new = NewTopic::new("kip848", 6, TopicReplication::Fixed(1));
    let created = block_on(admin(kafka.addr).create_topics(&[new], &admin_opts()), WAIT);
    assert!(created.expect("CreateTopics")[0].is_ok());
    consumer_protocol_session(kafka.addr);
    kafka.stop();
}

fn consumer_protocol_session(addr: SocketAddr) {
    const PARTS: i32 = 6;
    let settings = [("group.protocol", "consumer")];
    let prod = producer(addr, &[("acks", "all")]);
    // Settled: every partition owned once, the members within one partition of each other
    // (while partitions move, some are briefly owned by nobody).
    let covers = |s: &[BTreeSet<i32>]| {
        let sizes = s.iter().map(|p| p.len());
        sizes.clone().max().unwrap_or(0) - sizes.min().unwrap_or(0) <= 1
            && s.iter().map(|p| p.len()).sum::<usize>() == PARTS as usize
            && s.iter().flatten().collect::<BTreeSet<_>>().len() == PARTS as usize
    };
    let mut all_recs = Vec::new();
    let mut all_got = Vec::new();

    let a = consumer(addr, "kip848", &settings);
    let b = consumer(addr, "kip848", &settings);
    a.subscribe(&["kip848"]).unwrap();
    b.subscribe(&["kip848"]).unwrap();
    let split = poll_until_assigned(&[&a, &b], GROUP_WAIT, covers);
    assert_eq!(split.iter().map(|s| s.len()).collect::<Vec<_>>(), [3, 3], "uniform: {split:?}");
    let recs1 = recs("one", 0..60, PARTS);
    prod.send_ok("kip848", &recs1);
    all_got.extend(consume_all_and_commit(&[&a, &b], recs1.len()));
    all_recs.extend(recs1);

    // A third member: two partitions each, none read twice.
    let c = consumer(addr, "kip848", &settings);
    c.subscribe(&["kip848"]).unwrap();
    let split = poll_until_assigned(&[&a, &b, &c], GROUP_WAIT, covers);
    assert_eq!(split.iter().map(|s| s.len()).collect::<Vec<_>>(), [2, 2, 2], "{split:?}");
    let recs2 = recs("two", 60..120, PARTS);
    prod.send_ok("kip848", &recs2);
    all_got.extend(consume_all_and_commit(&[&a, &b, &c], recs2.len()));
    all_recs.extend(recs2);

    // One leaves: the other two take its partitions from its committed offsets.
    drop(a);
    let split = poll_until_assigned(&[&b, &c], GROUP_WAIT, covers);
    assert_eq!(split.iter().map(|s| s.len()).collect::<Vec<_>>(), [3, 3], "{split:?}");
    let recs3 = recs("three", 120..180, PARTS);
    prod.send_ok("kip848", &recs3);
    all_got.extend(consume_all_and_commit(&[&b, &c], recs3.len()));
    all_recs.extend(recs3);

    // Every record exactly once, in order within its partition.
    assert_same(&all_got, &all_recs);
    for (i, cons) in [&b, &c].into_iter().enumerate() {
        let committed = cons.committed(WAIT).expect("committed offsets");
        assert_eq!(partitions_of(&committed), split[i]);
        for e in committed.elements() {
            assert_eq!(e.offset(), Offset::Offset(30), "committed offset of {}", e.partition());
        }
    }
    let groups = b.fetch_group_list(Some("kip848"), WAIT).expect("group list");
    assert_eq!(groups.groups().len(), 1);
}

#[path = "common/consumer_protocol.rs"]
mod consumer_protocol;

/// How long the remaining members of a KIP-848 group take to own a leaving member's
/// partitions.
const LEAVE_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(1000);
/// What a client takes to act on its heartbeat's answer and show it in its assignment.
const CLIENT_SLACK: Duration = Duration::from_millis(500);

/// Two librdkafka members, a third joins, the second leaves (`common/consumer_protocol.rs`):
/// every record read once and committed, and the leaving member's partitions owned by the
/// others within one heartbeat interval of its leave (which comes more than
/// `group.consumer.assignment.interval.ms` after the previous rebalance: the coordinator
/// computes the new target at the leave, and each member has it at its next heartbeat).
#[test]
fn consumer_protocol_partitions_of_a_leaving_member_move_within_a_heartbeat_interval() {
    let dir = TempDir::new("rdk-kip848-leave");
    let hb =
        format!("group.consumer.heartbeat.interval.ms={}", LEAVE_HEARTBEAT_INTERVAL.as_millis());
    let broker = Broker::start_with(dir.path(), &[&hb]);
    let s = consumer_protocol::rdkafka_session(broker.addr, "leave", 30);
    eprintln!("{}", s.summary());
    s.assert_exactly_once();
    let moved = s.moved_after_leave.expect("measured");
    assert!(moved <= LEAVE_HEARTBEAT_INTERVAL + CLIENT_SLACK, "{}", s.summary());
}
