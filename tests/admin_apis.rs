//! The topic administration and producer APIs, over the wire against the real binary:
//! Metadata v0-v12, CreateTopics v2-v7, DeleteTopics v1-v6, ListOffsets v1-v10,
//! InitProducerId v0-v5, and idempotent Produce. Requests are encoded and responses decoded by
//! kafka-protocol (an independent codec) at every advertised version, each response required
//! to decode with no byte left over; what is on disk is checked with plain file reads and
//! with the library's metadata log loader.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;
use kafka_protocol::messages::{
    create_topics_request as ctq, delete_topics_request as dtq, list_offsets_request as loq,
    metadata_request as mq, BrokerId, CreateTopicsRequest, CreateTopicsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse, InitProducerIdRequest, InitProducerIdResponse,
    ListOffsetsRequest, ListOffsetsResponse, MetadataRequest, MetadataResponse, ProducerId,
    TopicName, TransactionalId,
};
use kafka_protocol::protocol::{HeaderVersion, Request, StrBytes};

const LEADER_NOT_AVAILABLE: i16 = 5;
const INVALID_TOPIC_EXCEPTION: i16 = 17;
const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICATION_FACTOR: i16 = 38;
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
const INVALID_PRODUCER_EPOCH: i16 = 47;

const EARLIEST: i64 = -2;
const LATEST: i64 = -1;
const MAX_TIMESTAMP: i64 = -3;

const ZERO_ID: [u8; 16] = [0; 16];

// ----- a kafka-protocol round trip for any API ----------------------------------------------------

/// Sends `req` at `version` with the request header kafka-protocol prescribes for it, reads
/// the response, checks the correlation id, and decodes the body with kafka-protocol,
/// requiring every byte to be consumed.
fn kp<Q: Request>(c: &mut Client, version: i16, req: &Q) -> Q::Response {
    let mut body = Vec::new();
    req.encode(&mut body, version)
        .unwrap_or_else(|e| panic!("kafka-protocol cannot encode api {} v{version}: {e}", Q::KEY));
    let id = c.next_id();
    let mut w = W::new();
    w.i32(0).i16(Q::KEY).i16(version).i32(id).nullable_string(Some(CLIENT_ID));
    if Q::header_version(version) >= 2 {
        w.tags();
    }
    w.raw(&body);
    let mut frame = w.take();
    let size = (frame.len() - 4) as i32;
    frame[..4].copy_from_slice(&size.to_be_bytes());
    c.send_raw(&frame);
    let payload = c.recv_frame();
    let mut r = R::new(&payload);
    assert_eq!(r.i32(), id, "correlation id of api {} v{version}", Q::KEY);
    if <Q::Response as HeaderVersion>::header_version(version) >= 1 {
        r.no_tags();
    }
    oracle::<Q::Response>(&payload[r.pos()..], version)
}

fn tn(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

fn kuuid(b: [u8; 16]) -> uuid::Uuid {
    uuid::Uuid::from_bytes(b)
}

fn id_of(u: &uuid::Uuid) -> [u8; 16] {
    *u.as_bytes()
}

fn name_of(n: &Option<TopicName>) -> Option<&str> {
    n.as_ref().map(|n| n.0.as_str())
}

fn cluster_id_of(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("meta.properties")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .expect("meta.properties has cluster.id")
        .trim()
        .to_string()
}

fn partition_dirs(dir: &Path, topic: &str) -> Vec<String> {
    let prefix = format!("{topic}-");
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.strip_prefix(&prefix).is_some_and(|p| p.parse::<u32>().is_ok()))
        .collect();
    v.sort();
    v
}

/// The topic id a partition directory's `partition.metadata` names.
fn partition_metadata_id(dir: &Path, topic: &str, p: i32) -> [u8; 16] {
    let text = fs::read_to_string(dir.join(format!("{topic}-{p}/partition.metadata")))
        .unwrap_or_else(|e| panic!("{topic}-{p}/partition.metadata: {e}"));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("version: 0"), "{text:?}");
    let id = lines.next().and_then(|l| l.strip_prefix("topic_id: ")).expect("topic_id line");
    minikafka::uuid::from_base64(id.trim()).expect("base64 topic id")
}

// ----- request builders ------------------------------------------------------------------------

/// Metadata for the named topics (`None`: all topics; at v0 an empty list means that).
fn metadata(
    c: &mut Client,
    version: i16,
    topics: Option<&[&str]>,
    allow: bool,
) -> MetadataResponse {
    let topics = match topics {
        None if version == 0 => Some(vec![]),
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|n| mq::MetadataRequestTopic::default().with_name(Some(tn(n))))
                .collect(),
        ),
    };
    let req = MetadataRequest::default().with_topics(topics).with_allow_auto_topic_creation(allow);
    kp(c, version, &req)
}

fn md_topic<'a>(
    resp: &'a MetadataResponse,
    name: &str,
) -> &'a kafka_protocol::messages::metadata_response::MetadataResponseTopic {
    resp.topics
        .iter()
        .find(|t| name_of(&t.name) == Some(name))
        .unwrap_or_else(|| panic!("topic {name} not in {resp:?}"))
}

fn md_names(resp: &MetadataResponse) -> Vec<String> {
    let mut v: Vec<String> =
        resp.topics.iter().map(|t| name_of(&t.name).unwrap_or("<null>").to_string()).collect();
    v.sort();
    v
}

fn creatable(name: &str, partitions: i32, rf: i16) -> ctq::CreatableTopic {
    ctq::CreatableTopic::default()
        .with_name(tn(name))
        .with_num_partitions(partitions)
        .with_replication_factor(rf)
}

fn create_topics(
    c: &mut Client,
    version: i16,
    topics: Vec<ctq::CreatableTopic>,
    validate_only: bool,
) -> CreateTopicsResponse {
    let req = CreateTopicsRequest::default()
        .with_topics(topics)
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only);
    kp(c, version, &req)
}

fn delete_by_names(c: &mut Client, version: i16, names: &[&str]) -> DeleteTopicsResponse {
    let mut req = DeleteTopicsRequest::default().with_timeout_ms(30_000);
    if version >= 6 {
        req = req.with_topics(
            names.iter().map(|n| dtq::DeleteTopicState::default().with_name(Some(tn(n)))).collect(),
        );
    } else {
        req = req.with_topic_names(names.iter().map(|n| tn(n)).collect());
    }
    kp(c, version, &req)
}

fn delete_by_id(c: &mut Client, id: [u8; 16]) -> DeleteTopicsResponse {
    let req = DeleteTopicsRequest::default().with_timeout_ms(30_000).with_topics(vec![
        dtq::DeleteTopicState::default().with_name(None).with_topic_id(kuuid(id)),
    ]);
    kp(c, 6, &req)
}

/// ListOffsets for one (topic, partition, timestamp) per entry; returns the response.
fn list_offsets(c: &mut Client, version: i16, queries: &[(&str, i32, i64)]) -> ListOffsetsResponse {
    let mut topics: Vec<loq::ListOffsetsTopic> = Vec::new();
    for (name, p, ts) in queries {
        let part =
            loq::ListOffsetsPartition::default().with_partition_index(*p).with_timestamp(*ts);
        let part = if version >= 4 { part.with_current_leader_epoch(-1) } else { part };
        match topics.iter_mut().find(|t| t.name.0.as_str() == *name) {
            Some(t) => t.partitions.push(part),
            None => topics.push(
                loq::ListOffsetsTopic::default().with_name(tn(name)).with_partitions(vec![part]),
            ),
        }
    }
    let mut req = ListOffsetsRequest::default().with_replica_id(BrokerId(-1)).with_topics(topics);
    if version >= 10 {
        req = req.with_timeout_ms(30_000);
    }
    kp(c, version, &req)
}

/// (error, timestamp, offset) of one partition in a ListOffsets response.
fn lo_result(resp: &ListOffsetsResponse, topic: &str, p: i32) -> (i16, i64, i64) {
    let t = resp
        .topics
        .iter()
        .find(|t| t.name.0.as_str() == topic)
        .unwrap_or_else(|| panic!("{topic} not in {resp:?}"));
    let r = t
        .partitions
        .iter()
        .find(|r| r.partition_index == p)
        .unwrap_or_else(|| panic!("{topic}-{p} not in {resp:?}"));
    (r.error_code, r.timestamp, r.offset)
}

fn lo_one(c: &mut Client, version: i16, topic: &str, p: i32, ts: i64) -> (i16, i64, i64) {
    lo_result(&list_offsets(c, version, &[(topic, p, ts)]), topic, p)
}

fn init_pid(
    c: &mut Client,
    version: i16,
    transactional_id: Option<&str>,
    producer: Option<(i64, i16)>,
) -> InitProducerIdResponse {
    let mut req = InitProducerIdRequest::default()
        .with_transactional_id(
            transactional_id.map(|t| TransactionalId(StrBytes::from_string(t.to_string()))),
        )
        .with_transaction_timeout_ms(60_000);
    if let Some((id, epoch)) = producer {
        req = req.with_producer_id(ProducerId(id)).with_producer_epoch(epoch);
    }
    kp(c, version, &req)
}

/// A fresh idempotent producer id (epoch 0).
fn new_pid(c: &mut Client) -> i64 {
    let r = init_pid(c, 5, None, None);
    assert_eq!((r.error_code, r.producer_epoch), (NONE, 0), "{r:?}");
    r.producer_id.0
}

/// An idempotent batch of `n` records at sequence `seq`.
fn pbatch(pid: i64, epoch: i16, seq: i32, n: usize, ts: i64, tag: &str) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts).producer(pid, epoch, seq);
    for i in 0..n {
        let v = format!("{tag} seq {} record {i}", seq + i as i32);
        b.push(None, Some(v.as_bytes()), &[]);
    }
    b.finish()
}

/// A plain batch of `n` records, all at timestamp `ts`.
fn ts_batch(ts: i64, n: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts);
    for i in 0..n {
        let v = format!("at {ts} record {i}");
        b.push(Some(b"k"), Some(v.as_bytes()), &[]);
    }
    b.finish()
}

/// Produces one batch to one partition; returns (error, base offset).
fn produce1(c: &mut Client, topic: &str, p: i32, batch: &[u8]) -> (i16, i64) {
    let resp = c.produce(&[(topic, vec![(p, Some(batch.to_vec()))])]);
    let r = resp.partition(topic, p);
    (r.error_code, r.base_offset)
}

// ----- ApiVersions -----------------------------------------------------------------------------

/// Every ApiVersions version advertises the version ranges these tests exercise, in the order
/// of their keys relative to one another.
#[test]
fn api_versions_advertise_admin_apis() {
    let tmp = TempDir::new("av-admin");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let wanted = [(2, 1, 10), (3, 0, 12), (19, 2, 7), (20, 1, 6), (22, 0, 5)];
    for v in 0..=4 {
        let req = kafka_protocol::messages::ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("admin-apis"))
            .with_client_software_version(StrBytes::from_static_str("1"));
        let resp = kp(&mut c, v, &req);
        assert_eq!(resp.error_code, NONE, "v{v}");
        let got: Vec<(i16, i16, i16)> = resp
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version))
            .filter(|k| wanted.iter().any(|w| w.0 == k.0))
            .collect();
        assert_eq!(got, wanted, "v{v}");
    }
}

// ----- Metadata --------------------------------------------------------------------------------

/// Every version from v0 to v12 describes this node as the only broker, at the port it really
/// listens on, as controller, with the cluster id of meta.properties, and every topic with its
/// id, partitions, leader, replicas, ISR and leader epoch.
#[test]
fn metadata_every_version_describes_broker_and_topics() {
    let tmp = TempDir::new("md-all");
    let ids = make_log_dir(tmp.path(), &[("alpha", 3), ("beta", 1)]);
    let cluster_id = cluster_id_of(tmp.path());
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in 0..=12 {
        let resp = metadata(&mut c, v, None, true);
        assert_eq!(resp.throttle_time_ms, 0, "v{v}");
        assert_eq!(resp.brokers.len(), 1, "v{v}: {:?}", resp.brokers);
        let b = &resp.brokers[0];
        assert_eq!(b.node_id, BrokerId(1), "v{v}");
        assert_eq!(b.host.as_str(), "127.0.0.1", "v{v}: advertised host");
        assert_ne!(b.port, 0, "v{v}: advertised port is 0, not the bound port");
        assert_eq!(b.port, i32::from(broker.addr.port()), "v{v}: advertised port");
        assert_eq!(b.rack, None, "v{v}");
        if v >= 1 {
            assert_eq!(resp.controller_id, BrokerId(1), "v{v}");
        }
        if v >= 2 {
            assert_eq!(resp.cluster_id.as_deref(), Some(cluster_id.as_str()), "v{v}");
        }
        assert_eq!(md_names(&resp), ["alpha", "beta"], "v{v}");
        for (name, n, id) in [("alpha", 3, ids[0]), ("beta", 1, ids[1])] {
            let t = md_topic(&resp, name);
            assert_eq!(t.error_code, NONE, "v{v} {name}");
            assert!(!t.is_internal, "v{v} {name}");
            if v >= 10 {
                assert_eq!(id_of(&t.topic_id), id, "v{v} {name}");
            }
            if v >= 8 {
                // Not asked for: Kafka sends i32::MIN.
                assert_eq!(t.topic_authorized_operations, i32::MIN, "v{v} {name}");
            }
            let mut parts: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
            parts.sort();
            assert_eq!(parts, (0..n).collect::<Vec<_>>(), "v{v} {name}");
            for p in &t.partitions {
                assert_eq!(p.error_code, NONE, "v{v} {name}");
                assert_eq!(p.leader_id, BrokerId(1), "v{v} {name}");
                assert_eq!(p.replica_nodes, [BrokerId(1)], "v{v} {name}");
                assert_eq!(p.isr_nodes, [BrokerId(1)], "v{v} {name}");
                if v >= 5 {
                    assert!(p.offline_replicas.is_empty(), "v{v} {name}");
                }
                if v >= 7 {
                    assert_eq!(p.leader_epoch, 0, "v{v} {name}");
                }
            }
        }
        // Asking by name gives that topic alone.
        let one = metadata(&mut c, v, Some(&["beta"]), true);
        assert_eq!(md_names(&one), ["beta"], "v{v}");
        assert_eq!(md_topic(&one, "beta").partitions.len(), 1, "v{v}");
        if v >= 1 {
            // From v1 an empty list asks for no topics (null asks for all).
            let none = metadata(&mut c, v, Some(&[]), true);
            assert!(none.topics.is_empty(), "v{v}: empty list answered {:?}", none.topics);
            assert_eq!(none.brokers.len(), 1, "v{v}");
        }
    }
}

/// v8-v10 can ask for the topics' authorized operations; with no authorizer all are allowed.
#[test]
fn metadata_topic_authorized_operations_when_asked() {
    let tmp = TempDir::new("md-ops");
    make_log_dir(tmp.path(), &[("ops", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in 8..=12 {
        let req = MetadataRequest::default()
            .with_topics(None)
            .with_include_topic_authorized_operations(true);
        let resp = kp(&mut c, v, &req);
        assert_eq!(
            md_topic(&resp, "ops").topic_authorized_operations,
            ALL_TOPIC_OPERATIONS,
            "v{v}"
        );
    }
}

/// An unknown topic is created on first mention, with `num.partitions` partitions, at every
/// version (v0-v3 have no allow_auto_topic_creation field: creation is allowed).
#[test]
fn metadata_auto_creates_unknown_topics() {
    let tmp = TempDir::new("md-auto");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start_with(tmp.path(), &["num.partitions=3"]);
    let mut c = broker.connect();
    for v in 0..=12 {
        let name = format!("auto-v{v}");
        let resp = metadata(&mut c, v, Some(&[&name]), true);
        assert_eq!(resp.topics.len(), 1, "v{v}");
        let t = md_topic(&resp, &name);
        // Kafka itself answers LEADER_NOT_AVAILABLE while the creation is under way; this
        // broker creates synchronously and may answer with the created topic at once.
        assert!(
            t.error_code == NONE || t.error_code == LEADER_NOT_AVAILABLE,
            "v{v}: error {}",
            t.error_code
        );
        // Asked again, the topic is there with 3 partitions, led by this node.
        let again = metadata(&mut c, v, Some(&[&name]), true);
        let t2 = md_topic(&again, &name);
        assert_eq!(t2.error_code, NONE, "v{v}");
        assert_eq!(t2.partitions.len(), 3, "v{v}");
        if t.error_code == NONE {
            assert_eq!(t.partitions.len(), 3, "v{v}: first answer");
        }
        assert!(t2.partitions.iter().all(|p| p.leader_id == BrokerId(1)), "v{v}");
        assert_eq!(partition_dirs(tmp.path(), &name).len(), 3, "v{v}");
        let id = partition_metadata_id(tmp.path(), &name, 2);
        if v >= 10 {
            assert_eq!(id_of(&t2.topic_id), id, "v{v}");
            assert_ne!(id, ZERO_ID, "v{v}");
        }
    }
    // All 13 are in the metadata log.
    drop(c);
    broker.kill();
    let (cache, _) = minikafka::metadata::load(tmp.path()).unwrap();
    for v in 0..=12 {
        let t =
            cache.topic(&format!("auto-v{v}")).unwrap_or_else(|| panic!("auto-v{v} not in log"));
        assert_eq!(t.partitions.len(), 3);
    }
}

/// The first answer to an auto-creating Metadata request (the brief's contract: error 0 with
/// the partitions, since creation is synchronous here).
#[test]
fn metadata_auto_create_answers_created_topic_at_once() {
    let tmp = TempDir::new("md-auto0");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start_with(tmp.path(), &["num.partitions=3"]);
    let mut c = broker.connect();
    let resp = metadata(&mut c, 12, Some(&["fresh"]), true);
    let t = md_topic(&resp, "fresh");
    assert_eq!(t.error_code, NONE);
    assert_eq!(t.partitions.len(), 3);
    assert_ne!(id_of(&t.topic_id), ZERO_ID);
    assert_eq!(id_of(&t.topic_id), partition_metadata_id(tmp.path(), "fresh", 0));
}

/// With `auto.create.topics.enable=false`, unknown topics are UNKNOWN_TOPIC_OR_PARTITION at
/// every version, and nothing is created.
#[test]
fn metadata_auto_create_disabled_by_config() {
    let tmp = TempDir::new("md-noauto");
    make_log_dir(tmp.path(), &[("known", 1)]);
    let broker = Broker::start_with(tmp.path(), &["auto.create.topics.enable=false"]);
    let mut c = broker.connect();
    for v in 0..=12 {
        let resp = metadata(&mut c, v, Some(&["nope", "known"]), true);
        assert_eq!(md_names(&resp), ["known", "nope"], "v{v}");
        let t = md_topic(&resp, "nope");
        assert_eq!(t.error_code, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
        assert!(t.partitions.is_empty(), "v{v}");
        if v >= 10 {
            assert_eq!(id_of(&t.topic_id), ZERO_ID, "v{v}");
        }
        assert_eq!(md_topic(&resp, "known").error_code, NONE, "v{v}");
    }
    assert!(partition_dirs(tmp.path(), "nope").is_empty());
    assert_eq!(md_names(&metadata(&mut c, 12, None, true)), ["known"]);
}

/// allow_auto_topic_creation=false (v4+) keeps unknown topics unknown.
#[test]
fn metadata_allow_auto_topic_creation_false() {
    let tmp = TempDir::new("md-noallow");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in 4..=12 {
        let resp = metadata(&mut c, v, Some(&["ghost"]), false);
        assert_eq!(md_topic(&resp, "ghost").error_code, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
    }
    assert!(partition_dirs(tmp.path(), "ghost").is_empty());
    assert!(metadata(&mut c, 12, None, true).topics.is_empty());
}

/// An invalid name is INVALID_TOPIC_EXCEPTION whether or not creation is allowed
/// (`KafkaApis.getTopicMetadata` validates the name in both branches).
#[test]
fn metadata_invalid_topic_name() {
    let tmp = TempDir::new("md-bad");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in [1, 4, 9, 12] {
        let resp = metadata(&mut c, v, Some(&["bad/name"]), true);
        let t = md_topic(&resp, "bad/name");
        assert_eq!(t.error_code, INVALID_TOPIC_EXCEPTION, "v{v} allow=true");
        assert!(t.partitions.is_empty());
    }
    for v in [4, 9, 12] {
        let resp = metadata(&mut c, v, Some(&["bad/name", "a b"]), false);
        for name in ["bad/name", "a b"] {
            assert_eq!(
                md_topic(&resp, name).error_code,
                INVALID_TOPIC_EXCEPTION,
                "v{v} {name:?} allow_auto_topic_creation=false"
            );
        }
    }
    assert!(metadata(&mut c, 12, None, true).topics.is_empty());
}

/// v12 can ask by topic id (name null): a known id is described with its name, an unknown
/// one is UNKNOWN_TOPIC_ID with a null name and the id echoed.
#[test]
fn metadata_by_topic_id() {
    let tmp = TempDir::new("md-id");
    let ids = make_log_dir(tmp.path(), &[("byid", 2)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let unknown = [0x42; 16];
    let topic =
        |id: [u8; 16]| mq::MetadataRequestTopic::default().with_name(None).with_topic_id(kuuid(id));
    let req = MetadataRequest::default()
        .with_topics(Some(vec![topic(ids[0])]))
        .with_allow_auto_topic_creation(true);
    let resp = kp(&mut c, 12, &req);
    assert_eq!(resp.topics.len(), 1, "{resp:?}");
    let t = &resp.topics[0];
    assert_eq!((t.error_code, name_of(&t.name)), (NONE, Some("byid")));
    assert_eq!(id_of(&t.topic_id), ids[0]);
    assert_eq!(t.partitions.len(), 2);

    let req = MetadataRequest::default()
        .with_topics(Some(vec![topic(unknown)]))
        .with_allow_auto_topic_creation(true);
    let resp = kp(&mut c, 12, &req);
    assert_eq!(resp.topics.len(), 1, "{resp:?}");
    let t = &resp.topics[0];
    assert_eq!(t.error_code, UNKNOWN_TOPIC_ID);
    assert_eq!(t.name, None);
    assert_eq!(id_of(&t.topic_id), unknown);
    assert!(t.partitions.is_empty());
}

// ----- CreateTopics ----------------------------------------------------------------------------

/// v2-v7 each create a topic: partition directories with partition.metadata, v5+ report the
/// partition count and replication factor, v7 the id Metadata reports. The metadata log holds
/// the topics after the broker stops, and a restarted broker serves them with the same ids.
#[test]
fn create_topics_every_version_persists() {
    let tmp = TempDir::new("ct-all");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut created = Vec::new();
    for v in 2..=7 {
        let name = format!("ct-v{v}");
        let resp = create_topics(&mut c, v, vec![creatable(&name, 2, 1)], false);
        if v >= 2 {
            assert_eq!(resp.throttle_time_ms, 0, "v{v}");
        }
        assert_eq!(resp.topics.len(), 1, "v{v}");
        let r = &resp.topics[0];
        assert_eq!(r.name.0.as_str(), name, "v{v}");
        assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
        assert_eq!(r.error_message, None, "v{v}");
        if v >= 5 {
            assert_eq!((r.num_partitions, r.replication_factor), (2, 1), "v{v}");
            assert_eq!(r.topic_config_error_code, NONE, "v{v}");
        }
        assert_eq!(partition_dirs(tmp.path(), &name), [format!("{name}-0"), format!("{name}-1")]);
        let disk_id = partition_metadata_id(tmp.path(), &name, 0);
        assert_eq!(partition_metadata_id(tmp.path(), &name, 1), disk_id, "v{v}");
        let md = metadata(&mut c, 12, Some(&[&name]), false);
        let t = md_topic(&md, &name);
        assert_eq!(t.error_code, NONE, "v{v}");
        assert_eq!(t.partitions.len(), 2, "v{v}");
        assert_eq!(id_of(&t.topic_id), disk_id, "v{v}");
        assert_ne!(disk_id, ZERO_ID);
        if v >= 7 {
            assert_eq!(id_of(&r.topic_id), disk_id, "v{v}: CreateTopics id vs Metadata id");
        }
        created.push((name, disk_id));
    }
    // The new topics take produce and answer ListOffsets.
    assert_eq!(produce1(&mut c, "ct-v7", 1, &batch(0, &[b"x", b"y"])), (NONE, 0));
    assert_eq!(lo_one(&mut c, 10, "ct-v7", 1, LATEST), (NONE, -1, 2));
    drop(c);
    broker.kill();

    let (cache, _) = minikafka::metadata::load(tmp.path()).unwrap();
    for (name, id) in &created {
        let t = cache.topic(name).unwrap_or_else(|| panic!("{name} not in the metadata log"));
        assert_eq!(&t.topic_id, id, "{name}");
        assert_eq!(t.partitions.len(), 2, "{name}");
        assert_eq!(cache.topic_by_id(id).map(|t| t.name.as_str()), Some(name.as_str()));
    }

    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let md = metadata(&mut c, 12, None, false);
    let mut names: Vec<String> = created.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    assert_eq!(md_names(&md), names);
    for (name, id) in &created {
        assert_eq!(id_of(&md_topic(&md, name).topic_id), *id, "{name} after restart");
    }
    assert_eq!(lo_one(&mut c, 10, "ct-v7", 1, LATEST), (NONE, -1, 2));
    // Still there: creating again is refused.
    let resp = create_topics(&mut c, 7, vec![creatable("ct-v3", 1, 1)], false);
    assert_eq!(resp.topics[0].error_code, TOPIC_ALREADY_EXISTS);
}

/// Refusals, one result per topic, at every version; nothing refused is created.
#[test]
fn create_topics_errors() {
    let tmp = TempDir::new("ct-err");
    make_log_dir(tmp.path(), &[("exists", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let long = "x".repeat(250);
    for v in 2..=7 {
        let ok = format!("ok-v{v}");
        let cases: Vec<(ctq::CreatableTopic, i16)> = vec![
            (creatable("exists", 1, 1), TOPIC_ALREADY_EXISTS),
            (creatable("", 1, 1), INVALID_TOPIC_EXCEPTION),
            (creatable(".", 1, 1), INVALID_TOPIC_EXCEPTION),
            (creatable("..", 1, 1), INVALID_TOPIC_EXCEPTION),
            (creatable(&long, 1, 1), INVALID_TOPIC_EXCEPTION),
            (creatable("a b", 1, 1), INVALID_TOPIC_EXCEPTION),
            (creatable("bad/name", 1, 1), INVALID_TOPIC_EXCEPTION),
            (creatable(&format!("rf3-v{v}"), 1, 3), INVALID_REPLICATION_FACTOR),
            (creatable(&format!("zero-v{v}"), 0, 1), INVALID_PARTITIONS),
            (creatable(&ok, 1, 1), NONE),
        ];
        let expected: Vec<(String, i16)> =
            cases.iter().map(|(t, e)| (t.name.0.to_string(), *e)).collect();
        let resp = create_topics(&mut c, v, cases.into_iter().map(|(t, _)| t).collect(), false);
        let got: Vec<(String, i16)> =
            resp.topics.iter().map(|r| (r.name.0.to_string(), r.error_code)).collect();
        assert_eq!(got, expected, "v{v}");
        for r in &resp.topics {
            if r.error_code != NONE {
                assert!(r.error_message.is_some(), "v{v} {}: no error message", r.name.0);
                assert_eq!(id_of(&r.topic_id), ZERO_ID, "v{v} {}", r.name.0);
                if v >= 5 {
                    assert_eq!(
                        (r.num_partitions, r.replication_factor),
                        (-1, -1),
                        "v{v} {}",
                        r.name.0
                    );
                }
            }
        }
        for n in [format!("rf3-v{v}"), format!("zero-v{v}"), "a b".into(), long.clone()] {
            assert!(partition_dirs(tmp.path(), &n).is_empty(), "v{v}: {n} has directories");
        }
    }
    let md = metadata(&mut c, 12, None, false);
    let mut expected: Vec<String> = (2..=7).map(|v| format!("ok-v{v}")).collect();
    expected.push("exists".into());
    expected.sort();
    assert_eq!(md_names(&md), expected);
    // The existing topic was left alone.
    assert_eq!(md_topic(&md, "exists").partitions.len(), 1);
}

/// num_partitions and replication_factor -1 (v4+) take the broker's defaults.
#[test]
fn create_topics_defaults() {
    let tmp = TempDir::new("ct-def");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start_with(tmp.path(), &["num.partitions=3"]);
    let mut c = broker.connect();
    for v in 4..=7 {
        let name = format!("def-v{v}");
        let resp = create_topics(&mut c, v, vec![creatable(&name, -1, -1)], false);
        let r = &resp.topics[0];
        assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
        if v >= 5 {
            assert_eq!((r.num_partitions, r.replication_factor), (3, 1), "v{v}");
        }
        assert_eq!(partition_dirs(tmp.path(), &name).len(), 3, "v{v}");
        let md = metadata(&mut c, 12, Some(&[&name]), false);
        assert_eq!(md_topic(&md, &name).partitions.len(), 3, "v{v}");
    }
}

/// validate_only checks and answers as if creating, and creates nothing: no directories, no
/// Metadata entry, nothing in the metadata log; errors are still reported.
#[test]
fn create_topics_validate_only() {
    let tmp = TempDir::new("ct-val");
    make_log_dir(tmp.path(), &[("exists", 1)]);
    let log_before = fs::read(tmp.join("__cluster_metadata-0/00000000000000000000.log")).unwrap();
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in 2..=7 {
        let name = format!("dry-v{v}");
        let resp = create_topics(
            &mut c,
            v,
            vec![creatable(&name, 4, 1), creatable("exists", 1, 1), creatable("a b", 1, 1)],
            true,
        );
        let codes: Vec<i16> = resp.topics.iter().map(|r| r.error_code).collect();
        assert_eq!(codes, [NONE, TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION], "v{v}");
        if v >= 5 {
            let r = &resp.topics[0];
            assert_eq!((r.num_partitions, r.replication_factor), (4, 1), "v{v}");
        }
        assert!(partition_dirs(tmp.path(), &name).is_empty(), "v{v}: directories created");
        let md = metadata(&mut c, 12, Some(&[&name]), false);
        assert_eq!(md_topic(&md, &name).error_code, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
    }
    drop(c);
    broker.kill();
    let (cache, _) = minikafka::metadata::load(tmp.path()).unwrap();
    assert_eq!(cache.topics().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["exists"]);
    let log_after = fs::read(tmp.join("__cluster_metadata-0/00000000000000000000.log")).unwrap();
    assert_eq!(log_after, log_before, "validate_only wrote to the metadata log");
}

/// v5+ describe each topic created (or that validate_only would create) with its configs, in
/// name order, as DescribeConfigs describes them: Kafka's default where nothing was set, the
/// broker key it derives from (a static broker config) where that was given. franz-go's kadm
/// hands these to its users; minikafka used to send none. Refused topics get none.
#[test]
fn create_topics_v5_describes_configs() {
    const DEFAULT_CONFIG: i8 = 5;
    const STATIC_BROKER_CONFIG: i8 = 4;
    let tmp = TempDir::new("ct-cfg");
    make_log_dir(tmp.path(), &[("exists", 1)]);
    let broker = Broker::start_with(tmp.path(), &["log.segment.bytes=2097152"]);
    let mut c = broker.connect();
    for v in 5..=7 {
        for validate_only in [false, true] {
            let name = format!("cfg-v{v}-{validate_only}");
            let resp = create_topics(
                &mut c,
                v,
                vec![creatable(&name, 1, 1), creatable("exists", 1, 1)],
                validate_only,
            );
            let (made, refused) = (&resp.topics[0], &resp.topics[1]);
            assert_eq!((made.error_code, refused.error_code), (NONE, TOPIC_ALREADY_EXISTS));
            assert!(refused.configs.as_ref().is_none_or(Vec::is_empty), "v{v}: {refused:?}");
            let got: Vec<(&str, Option<&str>, i8)> = made
                .configs
                .as_ref()
                .unwrap_or_else(|| panic!("v{v}: configs is null"))
                .iter()
                .map(|c| {
                    assert!(!c.read_only && !c.is_sensitive, "v{v}: {c:?}");
                    (c.name.as_str(), c.value.as_deref(), c.config_source)
                })
                .collect();
            let mut sorted = got.clone();
            sorted.sort();
            assert_eq!(got, sorted, "v{v}: not in name order");
            assert_eq!(got.len(), 37, "v{v}: Kafka 4.4 lists 37 topic configs: {got:?}");
            for want in [
                ("cleanup.policy", Some("delete"), DEFAULT_CONFIG),
                ("max.message.bytes", Some("1048588"), DEFAULT_CONFIG),
                ("message.timestamp.type", Some("CreateTime"), DEFAULT_CONFIG),
                ("segment.bytes", Some("2097152"), STATIC_BROKER_CONFIG),
            ] {
                assert!(got.contains(&want), "v{v}: {want:?} not in {got:?}");
            }
        }
    }
}

// ----- DeleteTopics ----------------------------------------------------------------------------

/// v1-v6 delete by name (v6 also by id): the directories go, Metadata forgets the topic,
/// produce is refused, and all of it survives a restart.
#[test]
fn delete_topics_every_version() {
    let tmp = TempDir::new("dt-all");
    let names: Vec<String> = (1..=6).map(|v| format!("del-v{v}")).collect();
    let mut spec: Vec<(&str, i32)> = names.iter().map(|n| (n.as_str(), 2)).collect();
    spec.push(("del-byid", 1));
    spec.push(("keep", 1));
    let ids = make_log_dir(tmp.path(), &spec);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(produce1(&mut c, "del-v1", 0, &batch(0, &[b"doomed"])), (NONE, 0));
    for (i, name) in names.iter().enumerate() {
        let v = i as i16 + 1;
        let resp = delete_by_names(&mut c, v, &[name]);
        assert_eq!(resp.throttle_time_ms, 0, "v{v}");
        assert_eq!(resp.responses.len(), 1, "v{v}");
        let r = &resp.responses[0];
        assert_eq!(name_of(&r.name), Some(name.as_str()), "v{v}");
        assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
        if v >= 5 {
            assert_eq!(r.error_message, None, "v{v}");
        }
        if v >= 6 {
            assert_eq!(id_of(&r.topic_id), ids[i], "v{v}: the deleted topic's id");
        }
        let gone = eventually(Duration::from_secs(10), || {
            partition_dirs(tmp.path(), name).is_empty() && !tmp.join(&format!("{name}-0")).exists()
        });
        assert!(gone, "v{v}: {name} directories remain: {:?}", partition_dirs(tmp.path(), name));
        let md = metadata(&mut c, 12, Some(&[name]), false);
        assert_eq!(md_topic(&md, name).error_code, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
    }
    // By id (v6): the response names the topic.
    let resp = delete_by_id(&mut c, ids[6]);
    assert_eq!(resp.responses.len(), 1);
    let r = &resp.responses[0];
    assert_eq!(r.error_code, NONE, "{r:?}");
    assert_eq!(id_of(&r.topic_id), ids[6]);
    assert_eq!(name_of(&r.name), Some("del-byid"), "Kafka names a topic deleted by id");
    assert!(
        eventually(Duration::from_secs(10), || partition_dirs(tmp.path(), "del-byid").is_empty())
    );

    assert_eq!(md_names(&metadata(&mut c, 12, None, false)), ["keep"]);
    assert_eq!(produce1(&mut c, "del-v1", 0, &batch(0, &[b"late"])).0, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(lo_one(&mut c, 10, "del-v1", 0, LATEST).0, UNKNOWN_TOPIC_OR_PARTITION);
    drop(c);
    broker.kill();

    let (cache, _) = minikafka::metadata::load(tmp.path()).unwrap();
    assert_eq!(cache.topics().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["keep"]);
    for id in &ids[..7] {
        assert!(cache.topic_by_id(id).is_none());
    }
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(md_names(&metadata(&mut c, 12, None, false)), ["keep"]);
    for name in &names {
        assert!(partition_dirs(tmp.path(), name).is_empty(), "{name} came back");
    }
    assert_eq!(produce1(&mut c, "del-v2", 0, &batch(0, &[b"late"])).0, UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(produce1(&mut c, "keep", 0, &batch(0, &[b"fine"])), (NONE, 0));
}

/// Unknown names are UNKNOWN_TOPIC_OR_PARTITION at every version; an unknown id (v6) is
/// UNKNOWN_TOPIC_ID with a null name; known topics in the same request are deleted.
#[test]
fn delete_topics_unknown() {
    let tmp = TempDir::new("dt-unknown");
    make_log_dir(tmp.path(), &[("real", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in 1..=6 {
        let resp = delete_by_names(&mut c, v, &["nonesuch"]);
        assert_eq!(resp.responses.len(), 1, "v{v}");
        let r = &resp.responses[0];
        assert_eq!(name_of(&r.name), Some("nonesuch"), "v{v}");
        assert_eq!(r.error_code, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
        if v >= 6 {
            assert_eq!(id_of(&r.topic_id), ZERO_ID, "v{v}");
        }
    }
    let unknown = [0x5a; 16];
    let resp = delete_by_id(&mut c, unknown);
    assert_eq!(resp.responses.len(), 1);
    let r = &resp.responses[0];
    assert_eq!((r.error_code, r.name.clone()), (UNKNOWN_TOPIC_ID, None), "{r:?}");
    assert_eq!(id_of(&r.topic_id), unknown);

    let resp = delete_by_names(&mut c, 4, &["ghost", "real"]);
    let mut got: Vec<(String, i16)> = resp
        .responses
        .iter()
        .map(|r| (name_of(&r.name).unwrap_or("").to_string(), r.error_code))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("ghost".to_string(), UNKNOWN_TOPIC_OR_PARTITION), ("real".to_string(), NONE)]
    );
    assert!(metadata(&mut c, 12, None, false).topics.is_empty());
}

/// A topic deleted and created again is a new topic: a new id and an empty log.
#[test]
fn delete_then_recreate_is_a_new_topic() {
    let tmp = TempDir::new("dt-recreate");
    let ids = make_log_dir(tmp.path(), &[("phoenix", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(produce1(&mut c, "phoenix", 0, &batch(0, &[b"a", b"b", b"c"])), (NONE, 0));
    assert_eq!(delete_by_names(&mut c, 6, &["phoenix"]).responses[0].error_code, NONE);
    let resp = create_topics(&mut c, 7, vec![creatable("phoenix", 1, 1)], false);
    let r = &resp.topics[0];
    assert_eq!(r.error_code, NONE, "{r:?}");
    assert_ne!(id_of(&r.topic_id), ids[0], "a recreated topic gets a new id");
    assert_eq!(partition_metadata_id(tmp.path(), "phoenix", 0), id_of(&r.topic_id));
    assert_eq!(lo_one(&mut c, 10, "phoenix", 0, LATEST), (NONE, -1, 0));
    assert!(read_log(tmp.path(), "phoenix", 0).is_empty());
    assert_eq!(produce1(&mut c, "phoenix", 0, &batch(0, &[b"new"])), (NONE, 0));
}

// ----- ListOffsets -----------------------------------------------------------------------------

/// Earliest, latest, max timestamp (v7+) and by-timestamp lookups at v1-v10, over batches
/// whose timestamps are not in offset order; unknown partitions and topics are errors.
#[test]
fn list_offsets_every_version() {
    let tmp = TempDir::new("lo-all");
    make_log_dir(tmp.path(), &[("times", 2)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    // offsets 0-1 at TS, 2-4 at TS+3000, 5 at TS+2000, 6-7 at TS+1000.
    let layout = [(TS, 2usize), (TS + 3000, 3), (TS + 2000, 1), (TS + 1000, 2)];
    let mut next = 0;
    for (ts, n) in layout {
        assert_eq!(produce1(&mut c, "times", 0, &ts_batch(ts, n)), (NONE, next));
        next += n as i64;
    }
    for v in 1..=10 {
        let resp = list_offsets(
            &mut c,
            v,
            &[
                ("times", 0, EARLIEST),
                ("times", 1, LATEST),
                ("times", 7, LATEST),
                ("absent", 0, EARLIEST),
            ],
        );
        if v >= 2 {
            assert_eq!(resp.throttle_time_ms, 0, "v{v}");
        }
        assert_eq!(lo_result(&resp, "times", 0), (NONE, -1, 0), "v{v} earliest");
        assert_eq!(lo_result(&resp, "times", 1), (NONE, -1, 0), "v{v} empty partition latest");
        assert_eq!(lo_result(&resp, "times", 7).0, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
        assert_eq!(lo_result(&resp, "absent", 0).0, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");

        assert_eq!(lo_one(&mut c, v, "times", 0, EARLIEST), (NONE, -1, 0), "v{v} earliest");
        assert_eq!(lo_one(&mut c, v, "times", 0, LATEST), (NONE, -1, 8), "v{v} latest");
        for (target, want_ts, want_offset) in [
            (0, TS, 0),
            (TS - 1, TS, 0),
            (TS, TS, 0),
            (TS + 1, TS + 3000, 2),
            (TS + 1000, TS + 3000, 2),
            (TS + 2500, TS + 3000, 2),
            (TS + 3000, TS + 3000, 2),
        ] {
            assert_eq!(
                lo_one(&mut c, v, "times", 0, target),
                (NONE, want_ts, want_offset),
                "v{v} timestamp {target}"
            );
        }
        assert_eq!(lo_one(&mut c, v, "times", 0, TS + 3001), (NONE, -1, -1), "v{v} after all");
        if v >= 7 {
            assert_eq!(
                lo_one(&mut c, v, "times", 0, MAX_TIMESTAMP),
                (NONE, TS + 3000, 2),
                "v{v} max timestamp"
            );
            assert_eq!(lo_one(&mut c, v, "times", 1, MAX_TIMESTAMP), (NONE, -1, -1), "v{v}");
        }
        assert_eq!(lo_one(&mut c, v, "times", 1, TS), (NONE, -1, -1), "v{v} empty by time");
        assert_eq!(lo_one(&mut c, v, "times", 1, EARLIEST), (NONE, -1, 0), "v{v}");
        assert_eq!(lo_one(&mut c, v, "times", -1, LATEST).0, UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
    }
}

/// Offsets answered by ListOffsets follow appends and survive a restart.
#[test]
fn list_offsets_after_restart() {
    let tmp = TempDir::new("lo-restart");
    make_log_dir(tmp.path(), &[("persist", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(produce1(&mut c, "persist", 0, &ts_batch(TS + 500, 4)), (NONE, 0));
    assert_eq!(produce1(&mut c, "persist", 0, &ts_batch(TS + 100, 1)), (NONE, 4));
    drop(c);
    broker.kill();
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(lo_one(&mut c, 10, "persist", 0, LATEST), (NONE, -1, 5));
    assert_eq!(lo_one(&mut c, 10, "persist", 0, EARLIEST), (NONE, -1, 0));
    assert_eq!(lo_one(&mut c, 10, "persist", 0, MAX_TIMESTAMP), (NONE, TS + 500, 0));
    assert_eq!(lo_one(&mut c, 10, "persist", 0, TS + 200), (NONE, TS + 500, 0));
    assert_eq!(lo_one(&mut c, 10, "persist", 0, TS + 501), (NONE, -1, -1));
}

// ----- InitProducerId --------------------------------------------------------------------------

/// v0-v5 hand out distinct ids at epoch 0.
#[test]
fn init_producer_id_every_version() {
    let tmp = TempDir::new("pid-all");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut seen = Vec::new();
    for v in 0..=5 {
        for _ in 0..3 {
            let r = init_pid(&mut c, v, None, None);
            assert_eq!(r.throttle_time_ms, 0, "v{v}");
            assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
            assert!(r.producer_id.0 >= 0, "v{v}: {r:?}");
            assert_eq!(r.producer_epoch, 0, "v{v}");
            assert!(
                !seen.contains(&r.producer_id.0),
                "v{v}: id {} handed out twice",
                r.producer_id.0
            );
            seen.push(r.producer_id.0);
        }
    }
    // A second connection gets new ids too.
    let mut c2 = broker.connect();
    let id = new_pid(&mut c2);
    assert!(!seen.contains(&id));
}

/// Ids are never reused across a restart: the next id is larger than every earlier one.
#[test]
fn init_producer_id_survives_restart() {
    let tmp = TempDir::new("pid-restart");
    make_log_dir(tmp.path(), &[]);
    let mut max = -1;
    for round in 0..3 {
        let broker = Broker::start(tmp.path());
        let mut c = broker.connect();
        for _ in 0..2 {
            let id = new_pid(&mut c);
            assert!(id > max, "round {round}: id {id} is not above {max}");
            max = id;
        }
        drop(c);
        broker.kill();
    }
}

/// An idempotent producer (no transactional id) that asks again with its id and epoch gets a
/// fresh id at epoch 0, as Kafka's coordinator hands out for non-transactional producers.
#[test]
fn init_producer_id_reinit_gets_a_new_id() {
    let tmp = TempDir::new("pid-reinit");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for v in 3..=5 {
        let id = new_pid(&mut c);
        let r = init_pid(&mut c, v, None, Some((id, 0)));
        assert_eq!((r.error_code, r.producer_epoch), (NONE, 0), "v{v}");
        assert!(r.producer_id.0 > id, "v{v}: a new id, not {id} again: {r:?}");
    }
}

/// A transactional id keeps its producer id; each InitProducerId bumps its epoch, at every
/// version (tests/transactions.rs has the rest of the coordinator).
#[test]
fn init_producer_id_transactional_bumps_the_epoch() {
    let tmp = TempDir::new("pid-txn");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let first = init_pid(&mut c, 0, Some("my-txn"), None);
    assert_eq!((first.error_code, first.producer_epoch), (NONE, 0), "{first:?}");
    for v in 0..=5 {
        let r = init_pid(&mut c, v, Some("my-txn"), None);
        assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
        assert_eq!((r.producer_id, r.producer_epoch), (first.producer_id, v + 1), "v{v}");
    }
}

// ----- idempotent produce ----------------------------------------------------------------------

/// In-order batches get consecutive offsets; a retried batch is answered with its original
/// offset and not written twice.
#[test]
fn idempotent_produce_in_order_and_duplicates() {
    let tmp = TempDir::new("idem");
    let ids = make_log_dir(tmp.path(), &[("idem", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let pid = new_pid(&mut c);
    let b0 = pbatch(pid, 0, 0, 3, TS, "a");
    let b1 = pbatch(pid, 0, 3, 2, TS, "a");
    let b2 = pbatch(pid, 0, 5, 1, TS, "a");
    assert_eq!(produce1(&mut c, "idem", 0, &b0), (NONE, 0));
    assert_eq!(produce1(&mut c, "idem", 0, &b1), (NONE, 3));
    // The retry of the last batch.
    assert_eq!(produce1(&mut c, "idem", 0, &b1), (NONE, 3), "duplicate of the last batch");
    assert_eq!(produce1(&mut c, "idem", 0, &b2), (NONE, 5));
    // Older batches among the last five are duplicates too.
    assert_eq!(produce1(&mut c, "idem", 0, &b0), (NONE, 0), "duplicate of an older batch");
    assert_eq!(produce1(&mut c, "idem", 0, &b1), (NONE, 3));
    let expected: Vec<u8> =
        [with_base_offset(&b0, 0), with_base_offset(&b1, 3), with_base_offset(&b2, 5)].concat();
    assert_eq!(lo_one(&mut c, 10, "idem", 0, LATEST), (NONE, -1, 6));
    let fetched = c.fetch_one(ids[0], 0, 0);
    assert_eq!(fetched.high_watermark, 6);
    let got: Vec<(i64, usize)> =
        split_batches(fetched.records()).iter().map(|b| (base_offset_of(b), b.len())).collect();
    assert_eq!(got, [(0, b0.len()), (3, b1.len()), (5, b2.len())]);
    // The batches as written: the producer fields kept, only the base offset assigned (the
    // partition leader epoch may be stamped by the broker, so compare around it).
    for (stored, sent) in split_batches(fetched.records()).iter().zip([&b0, &b1, &b2]) {
        assert_eq!(stored[8..12], sent[8..12]);
        assert_eq!(stored[16..], sent[16..], "batch body changed");
    }
    let on_disk = read_log(tmp.path(), "idem", 0);
    assert_eq!(on_disk.len(), expected.len(), "the log holds each batch once");
    assert_eq!(split_batches(&on_disk).len(), 3);
    // A second producer is independent.
    let other = new_pid(&mut c);
    assert_eq!(produce1(&mut c, "idem", 0, &pbatch(other, 0, 0, 1, TS, "b")), (NONE, 6));
}

/// A gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing; the expected
/// sequence still goes through afterwards.
#[test]
fn idempotent_produce_sequence_gap() {
    let tmp = TempDir::new("idem-gap");
    make_log_dir(tmp.path(), &[("gap", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let pid = new_pid(&mut c);
    assert_eq!(produce1(&mut c, "gap", 0, &pbatch(pid, 0, 0, 2, TS, "g")), (NONE, 0));
    let before = read_log(tmp.path(), "gap", 0);
    let (err, _) = produce1(&mut c, "gap", 0, &pbatch(pid, 0, 5, 1, TS, "g"));
    assert_eq!(err, OUT_OF_ORDER_SEQUENCE_NUMBER, "sequence 5 where 2 is expected");
    // Overlapping but not identical to a written batch: also out of order.
    let (err, _) = produce1(&mut c, "gap", 0, &pbatch(pid, 0, 1, 1, TS, "g"));
    assert_eq!(err, OUT_OF_ORDER_SEQUENCE_NUMBER, "sequence 1 where 2 is expected");
    assert_eq!(read_log(tmp.path(), "gap", 0), before, "a refused batch was written");
    assert_eq!(lo_one(&mut c, 10, "gap", 0, LATEST), (NONE, -1, 2));
    assert_eq!(produce1(&mut c, "gap", 0, &pbatch(pid, 0, 2, 1, TS, "g")), (NONE, 2));
}

/// An older epoch after a newer one is INVALID_PRODUCER_EPOCH; a new epoch must start at
/// sequence 0.
#[test]
fn idempotent_produce_epochs() {
    let tmp = TempDir::new("idem-epoch");
    make_log_dir(tmp.path(), &[("epochs", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let pid = new_pid(&mut c);
    assert_eq!(produce1(&mut c, "epochs", 0, &pbatch(pid, 0, 0, 2, TS, "e0")), (NONE, 0));
    // The producer moves to epoch 1 (as after an epoch bump); starting at sequence 3: refused.
    let (err, _) = produce1(&mut c, "epochs", 0, &pbatch(pid, 1, 3, 1, TS, "e1"));
    assert_eq!(err, OUT_OF_ORDER_SEQUENCE_NUMBER, "a new epoch not starting at 0");
    assert_eq!(produce1(&mut c, "epochs", 0, &pbatch(pid, 1, 0, 1, TS, "e1")), (NONE, 2));
    // The old epoch is fenced, even continuing its own sequence.
    let (err, _) = produce1(&mut c, "epochs", 0, &pbatch(pid, 0, 2, 1, TS, "e0"));
    assert_eq!(err, INVALID_PRODUCER_EPOCH, "epoch 0 after epoch 1");
    assert_eq!(produce1(&mut c, "epochs", 0, &pbatch(pid, 1, 1, 2, TS, "e1")), (NONE, 3));
    let (err, _) = produce1(&mut c, "epochs", 0, &pbatch(pid, 0, 0, 2, TS, "e0"));
    assert_eq!(err, INVALID_PRODUCER_EPOCH, "a retry of an epoch-0 batch after epoch 1");
    assert_eq!(lo_one(&mut c, 10, "epochs", 0, LATEST), (NONE, -1, 5));
    assert_eq!(split_batches(&read_log(tmp.path(), "epochs", 0)).len(), 3);
}

/// Producer state is rebuilt from the log: after a restart the last batch is still a
/// duplicate, the next sequence is accepted, a gap is still refused, the old epoch still
/// fenced.
#[test]
fn idempotent_dedup_survives_restart() {
    let tmp = TempDir::new("idem-restart");
    make_log_dir(tmp.path(), &[("durable", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let pid = new_pid(&mut c);
    let b0 = pbatch(pid, 0, 0, 3, TS, "d");
    let b1 = pbatch(pid, 0, 3, 2, TS, "d");
    assert_eq!(produce1(&mut c, "durable", 0, &b0), (NONE, 0));
    assert_eq!(produce1(&mut c, "durable", 0, &b1), (NONE, 3));
    let other = new_pid(&mut c);
    let o0 = pbatch(other, 0, 0, 1, TS, "o");
    assert_eq!(produce1(&mut c, "durable", 0, &o0), (NONE, 5));
    drop(c);
    broker.kill();
    let before = read_log(tmp.path(), "durable", 0);

    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(produce1(&mut c, "durable", 0, &b1), (NONE, 3), "retry after restart");
    assert_eq!(produce1(&mut c, "durable", 0, &o0), (NONE, 5), "other producer's retry");
    assert_eq!(read_log(tmp.path(), "durable", 0), before, "a duplicate was written");
    let (err, _) = produce1(&mut c, "durable", 0, &pbatch(pid, 0, 9, 1, TS, "d"));
    assert_eq!(err, OUT_OF_ORDER_SEQUENCE_NUMBER, "gap after restart");
    assert_eq!(produce1(&mut c, "durable", 0, &pbatch(pid, 0, 5, 1, TS, "d")), (NONE, 6));
    assert_eq!(lo_one(&mut c, 10, "durable", 0, LATEST), (NONE, -1, 7));
    // A restarted broker hands out a new id, not one of these.
    let fresh = new_pid(&mut c);
    assert!(fresh > pid && fresh > other, "{fresh} vs {pid}, {other}");
}

// ----- hand-encoded requests, byte-exact responses ---------------------------------------------

/// Sends a hand-written body with request header v2 and reads a response with header v1 (a
/// tag section after the correlation id), as every flexible version here uses.
fn raw_flexible_call(c: &mut Client, api_key: i16, version: i16, body: &[u8]) -> Vec<u8> {
    let id = c.next_id();
    let mut w = W::new();
    w.i32(0).i16(api_key).i16(version).i32(id).nullable_string(Some(CLIENT_ID)).tags().raw(body);
    let mut frame = w.take();
    let size = (frame.len() - 4) as i32;
    frame[..4].copy_from_slice(&size.to_be_bytes());
    c.send_raw(&frame);
    let payload = c.recv_frame();
    let mut r = R::new(&payload);
    assert_eq!(r.i32(), id, "correlation id");
    r.no_tags();
    payload[r.pos()..].to_vec()
}

/// CreateTopics v7 and Metadata v12 written and read byte by byte, without kafka-protocol.
#[test]
fn create_topics_v7_and_metadata_v12_bytes() {
    let tmp = TempDir::new("raw");
    make_log_dir(tmp.path(), &[]);
    let cluster_id = cluster_id_of(tmp.path());
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();

    let mut w = W::new();
    w.compact_len(1);
    w.compact_string("rawtopic").i32(2).i16(1).compact_len(0).compact_len(0).tags();
    w.i32(30_000).bool(false).tags();
    let body = raw_flexible_call(&mut c, 19, 7, &w.take());
    let id = partition_metadata_id(tmp.path(), "rawtopic", 0);
    let mut r = R::new(&body);
    assert_eq!(r.i32(), 0, "throttle_time_ms");
    assert_eq!(r.compact_len(), Some(1));
    assert_eq!(r.compact_string(), "rawtopic");
    assert_eq!(r.uuid(), id, "topic_id");
    assert_eq!(r.i16(), NONE, "error_code");
    assert_eq!(r.compact_nullable_string(), None, "error_message");
    assert_eq!(r.i32(), 2, "num_partitions");
    assert_eq!(r.i16(), 1, "replication_factor");
    let configs = r.compact_len();
    assert!(configs.is_some(), "configs is null; Kafka sends the topic's configs");
    for _ in 0..configs.unwrap() {
        r.compact_string();
        r.compact_nullable_string();
        r.bool();
        r.i8();
        r.bool();
        r.no_tags();
    }
    r.tags(); // topic_config_error_code (tag 0) may ride here
    r.no_tags();
    r.done();

    let mut w = W::new();
    w.compact_len(1).uuid(&ZERO_ID).compact_nullable_string(Some("rawtopic")).tags();
    w.bool(false).bool(false).tags();
    let body = raw_flexible_call(&mut c, 3, 12, &w.take());
    let mut e = W::new();
    e.i32(0);
    e.compact_len(1).i32(1).compact_string("127.0.0.1").i32(i32::from(broker.addr.port()));
    e.compact_nullable_string(None).tags();
    e.compact_nullable_string(Some(&cluster_id)).i32(1);
    e.compact_len(1).i16(0).compact_nullable_string(Some("rawtopic")).uuid(&id).bool(false);
    e.compact_len(2);
    for p in 0..2 {
        e.i16(0).i32(p).i32(1).i32(0);
        e.compact_len(1).i32(1).compact_len(1).i32(1).compact_len(0).tags();
    }
    e.i32(i32::MIN).tags();
    e.tags();
    assert_eq!(body, e.take(), "Metadata v12 response body");
}

/// InitProducerId v4 (flexible) written and read byte by byte.
#[test]
fn init_producer_id_v4_bytes() {
    let tmp = TempDir::new("raw-pid");
    make_log_dir(tmp.path(), &[]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let mut w = W::new();
    w.compact_nullable_string(None).i32(60_000).i64(-1).i16(-1).tags();
    let req = w.take();
    let first = raw_flexible_call(&mut c, 22, 4, &req);
    assert_eq!(first.len(), 4 + 2 + 8 + 2 + 1, "{first:02x?}");
    let pid = i64::from_be_bytes(first[6..14].try_into().unwrap());
    let mut e = W::new();
    e.i32(0).i16(0).i64(pid).i16(0).tags();
    assert_eq!(first, e.take());
    assert!(pid >= 0);
    let second = raw_flexible_call(&mut c, 22, 4, &req);
    let pid2 = i64::from_be_bytes(second[6..14].try_into().unwrap());
    assert_ne!(pid2, pid);
    // A transactional id: its own id, at epoch 0.
    let mut w = W::new();
    w.compact_nullable_string(Some("t")).i32(60_000).i64(-1).i16(-1).tags();
    let txn = raw_flexible_call(&mut c, 22, 4, &w.take());
    let tpid = i64::from_be_bytes(txn[6..14].try_into().unwrap());
    assert!(tpid > pid2);
    let mut e = W::new();
    e.i32(0).i16(0).i64(tpid).i16(0).tags();
    assert_eq!(txn, e.take());
}
