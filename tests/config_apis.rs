//! Topic configs over the wire against the real binary: CreateTopics with configs,
//! IncrementalAlterConfigs v0-v1, AlterConfigs v0-v2 and DescribeConfigs v1-v4 (synonyms,
//! sources, types), encoded and decoded by kafka-protocol at every advertised version; the
//! ConfigRecords in the metadata log, their survival across a restart and a topic's deletion;
//! `segment.bytes` and `max.message.bytes` overrides taking effect.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use kafka_protocol::messages::alter_configs_request as acq;
use kafka_protocol::messages::create_topics_request as ctq;
use kafka_protocol::messages::describe_configs_request as dcq;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResourceResult;
use kafka_protocol::messages::{
    AlterConfigsRequest, CreateTopicsRequest, DeleteTopicsRequest, DescribeConfigsRequest,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;

const INVALID_CONFIG: i16 = 40;
const TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn create(
    c: &mut Client,
    version: i16,
    name: &str,
    configs: &[(&str, &str)],
) -> (i16, Vec<(String, String, i8)>) {
    let req = CreateTopicsRequest::default()
        .with_topics(vec![ctq::CreatableTopic::default()
            .with_name(TopicName(s(name)))
            .with_num_partitions(1)
            .with_replication_factor(1)
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        ctq::CreatableTopicConfig::default().with_name(s(k)).with_value(Some(s(v)))
                    })
                    .collect(),
            )])
        .with_timeout_ms(5000);
    let r = c.kp_call(version, &req);
    let t = &r.topics[0];
    let configs = t
        .configs
        .iter()
        .flatten()
        .map(|c| {
            (c.name.to_string(), c.value.as_deref().unwrap_or("").to_string(), c.config_source)
        })
        .collect();
    (t.error_code, configs)
}

fn describe(
    c: &mut Client,
    version: i16,
    topic: &str,
    keys: &[&str],
) -> Vec<DescribeConfigsResourceResult> {
    let req = DescribeConfigsRequest::default()
        .with_resources(vec![dcq::DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(topic))
            .with_configuration_keys(Some(keys.iter().map(|k| s(k)).collect()))])
        .with_include_synonyms(true);
    let r = c.kp_call(version, &req);
    assert_eq!(r.results[0].error_code, NONE, "{:?}", r.results[0].error_message);
    r.results[0].configs.clone()
}

/// (value, source) of `key` of `topic`.
fn value(c: &mut Client, topic: &str, key: &str) -> (String, i8) {
    let d = describe(c, 4, topic, &[key]);
    (d[0].value.as_deref().unwrap_or("").to_string(), d[0].config_source)
}

fn incremental(
    c: &mut Client,
    version: i16,
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> (i16, Option<String>) {
    incremental_alter_configs(c, version, resource_type, name, ops, validate_only)
}

fn alter(
    c: &mut Client,
    version: i16,
    resource_type: i8,
    name: &str,
    configs: &[(&str, &str)],
    validate_only: bool,
) -> (i16, Option<String>) {
    let req = AlterConfigsRequest::default()
        .with_resources(vec![acq::AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        acq::AlterableConfig::default().with_name(s(k)).with_value(Some(s(v)))
                    })
                    .collect(),
            )])
        .with_validate_only(validate_only);
    let r = c.kp_call(version, &req);
    assert_eq!(r.responses.len(), 1);
    (r.responses[0].error_code, r.responses[0].error_message.as_ref().map(|m| m.to_string()))
}

#[test]
fn create_topics_keeps_its_configs_and_refuses_bad_ones() {
    let dir = TempDir::new("cfg-create");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    for v in 2..=7 {
        let name = format!("ct-{v}");
        let (err, configs) = create(
            &mut c,
            v,
            &name,
            &[("cleanup.policy", "compact"), ("segment.bytes", "2097152")],
        );
        assert_eq!(err, NONE, "v{v}");
        if v >= 5 {
            let get = |k: &str| configs.iter().find(|c| c.0 == k).cloned().unwrap();
            assert_eq!(
                get("cleanup.policy"),
                ("cleanup.policy".into(), "compact".into(), TOPIC_CONFIG)
            );
            assert_eq!(get("segment.bytes").2, TOPIC_CONFIG);
            assert_eq!(get("flush.ms").2, DEFAULT_CONFIG);
        }
        assert_eq!(value(&mut c, &name, "cleanup.policy"), ("compact".into(), TOPIC_CONFIG));
        assert_eq!(value(&mut c, &name, "segment.bytes"), ("2097152".into(), TOPIC_CONFIG));
        let (err, _) = create(&mut c, v, &format!("ct-bad-{v}"), &[("no.such.key", "1")]);
        assert_eq!(err, INVALID_CONFIG);
        let (err, _) =
            create(&mut c, v, &format!("ct-bad-{v}"), &[("message.timestamp.type", "Now")]);
        assert_eq!(err, INVALID_CONFIG);
    }
    // The records are in the metadata log, in Kafka's format.
    drop(c);
    b.stop();
    let (cache, _) = minikafka::metadata::load(dir.path()).unwrap();
    let configs = cache.topic_configs("ct-7").unwrap();
    assert_eq!(configs.get("cleanup.policy").map(String::as_str), Some("compact"));
    assert!(cache.topic("ct-bad-7").is_none());
}

#[test]
fn every_version_of_incremental_alter_configs() {
    let dir = TempDir::new("cfg-inc");
    let mut b = Broker::start(dir.path());
    let mut c = b.connect();
    for v in 0..=1 {
        let t = format!("inc-{v}");
        assert_eq!(create(&mut c, 7, &t, &[]).0, NONE);
        let ok = (NONE, None);
        assert_eq!(
            incremental(&mut c, v, 2, &t, &[("segment.bytes", SET, Some("2097152"))], false),
            ok
        );
        assert_eq!(value(&mut c, &t, "segment.bytes"), ("2097152".into(), TOPIC_CONFIG));
        // APPEND starts from the default ("delete"); SUBTRACT takes items away.
        assert_eq!(
            incremental(&mut c, v, 2, &t, &[("cleanup.policy", APPEND, Some("compact"))], false),
            ok
        );
        assert_eq!(value(&mut c, &t, "cleanup.policy"), ("delete,compact".into(), TOPIC_CONFIG));
        assert_eq!(
            incremental(&mut c, v, 2, &t, &[("cleanup.policy", SUBTRACT, Some("delete"))], false),
            ok
        );
        assert_eq!(value(&mut c, &t, "cleanup.policy"), ("compact".into(), TOPIC_CONFIG));
        assert_eq!(incremental(&mut c, v, 2, &t, &[("segment.bytes", DELETE, None)], false), ok);
        assert_eq!(value(&mut c, &t, "segment.bytes"), ("1073741824".into(), DEFAULT_CONFIG));
        // validate_only checks and changes nothing.
        assert_eq!(incremental(&mut c, v, 2, &t, &[("flush.ms", SET, Some("5"))], true), ok);
        assert_eq!(value(&mut c, &t, "flush.ms").1, DEFAULT_CONFIG);
        let err = incremental(&mut c, v, 2, &t, &[("no.such.key", SET, Some("1"))], false);
        assert_eq!(err, (INVALID_CONFIG, Some("Unknown topic config name: no.such.key".into())));
        let err = incremental(&mut c, v, 2, &t, &[("segment.bytes", SET, Some("12"))], false);
        assert_eq!(
            err,
            (
                INVALID_CONFIG,
                Some("Invalid value 12 for configuration segment.bytes: Value must be at least 1048576".into())
            )
        );
        let err = incremental(&mut c, v, 2, &t, &[("flush.ms", APPEND, Some("1"))], false);
        assert_eq!(err.0, INVALID_CONFIG);
        let err = incremental(&mut c, v, 2, "inc-none", &[("flush.ms", SET, Some("1"))], false);
        assert_eq!(err.0, UNKNOWN_TOPIC_OR_PARTITION);
        let err = incremental(&mut c, v, 4, "1", &[("log.dirs", SET, Some("/x"))], false);
        assert_eq!(
            err,
            (INVALID_REQUEST, Some("Cannot update these configs dynamically: [log.dirs]".into()))
        );
        let err = incremental(&mut c, v, 99, &t, &[("flush.ms", SET, Some("1"))], false);
        assert_eq!(err.0, INVALID_REQUEST);
    }
    b.assert_running();
}

#[test]
fn every_version_of_alter_configs_replaces_the_whole_set() {
    let dir = TempDir::new("cfg-alter");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    for v in 0..=2 {
        let t = format!("alter-{v}");
        assert_eq!(create(&mut c, 7, &t, &[("flush.ms", "10")]).0, NONE);
        let set = [("segment.bytes", "3145728"), ("message.timestamp.type", "LogAppendTime")];
        assert_eq!(alter(&mut c, v, 2, &t, &set, false), (NONE, None));
        assert_eq!(value(&mut c, &t, "segment.bytes"), ("3145728".into(), TOPIC_CONFIG));
        assert_eq!(
            value(&mut c, &t, "message.timestamp.type"),
            ("LogAppendTime".into(), TOPIC_CONFIG)
        );
        assert_eq!(value(&mut c, &t, "flush.ms").1, DEFAULT_CONFIG, "v{v}: replaced, not merged");
        assert_eq!(alter(&mut c, v, 2, &t, &[("flush.ms", "1")], true), (NONE, None));
        assert_eq!(value(&mut c, &t, "segment.bytes").1, TOPIC_CONFIG, "validate_only");
        assert_eq!(alter(&mut c, v, 2, &t, &[("flush.ms", "-1")], false).0, INVALID_CONFIG);
        assert_eq!(
            alter(&mut c, v, 2, "alter-none", &[("flush.ms", "1")], false).0,
            UNKNOWN_TOPIC_OR_PARTITION
        );
        assert_eq!(alter(&mut c, v, 4, "1", &[("log.dirs", "/x")], false).0, INVALID_REQUEST);
    }
}

#[test]
fn every_version_of_describe_configs_names_sources_and_synonyms() {
    let dir = TempDir::new("cfg-describe");
    let b = Broker::start_with(dir.path(), &["message.max.bytes=2000000"]);
    let mut c = b.connect();
    assert_eq!(create(&mut c, 7, "d", &[("segment.bytes", "4194304")]).0, NONE);
    for v in 1..=4 {
        let d = describe(&mut c, v, "d", &["segment.bytes", "max.message.bytes", "preallocate"]);
        let get = |k: &str| d.iter().find(|c| c.name.as_str() == k).unwrap();
        let seg = get("segment.bytes");
        assert_eq!((seg.value.as_deref(), seg.config_source), (Some("4194304"), TOPIC_CONFIG));
        let syn: Vec<(&str, Option<&str>, i8)> =
            seg.synonyms.iter().map(|s| (s.name.as_str(), s.value.as_deref(), s.source)).collect();
        assert_eq!(
            syn,
            [
                ("segment.bytes", Some("4194304"), TOPIC_CONFIG),
                ("log.segment.bytes", Some("1073741824"), DEFAULT_CONFIG)
            ]
        );
        let max = get("max.message.bytes");
        assert_eq!(
            (max.value.as_deref(), max.config_source),
            (Some("2000000"), STATIC_BROKER_CONFIG)
        );
        assert_eq!(max.synonyms[0].source, STATIC_BROKER_CONFIG);
        assert_eq!(max.synonyms[1].source, DEFAULT_CONFIG);
        if v >= 3 {
            assert_eq!((seg.config_type, get("preallocate").config_type), (3, 1));
            // INT, BOOLEAN
        }
    }
}

fn segment_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".log"))
        .count()
}

fn batch(bytes: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, 1_700_000_000_000);
    b.push(None, Some(&vec![b'x'; bytes]), &[]);
    b.finish()
}

#[test]
fn overrides_survive_a_restart_take_effect_and_go_with_their_topic() {
    let dir = TempDir::new("cfg-restart");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    assert_eq!(
        create(&mut c, 7, "small", &[("max.message.bytes", "1000"), ("segment.bytes", "1048576")])
            .0,
        NONE
    );
    assert_eq!(create(&mut c, 7, "plain", &[]).0, NONE);
    // max.message.bytes of the topic, not the broker's message.max.bytes.
    let r = c.produce(&[
        ("small", vec![(0, Some(batch(2000)))]),
        ("plain", vec![(0, Some(batch(2000)))]),
    ]);
    assert_eq!(r.partition("small", 0).error_code, MESSAGE_TOO_LARGE);
    assert_eq!(r.partition("plain", 0).error_code, NONE);
    assert_eq!(
        incremental(&mut c, 1, 2, "small", &[("max.message.bytes", SET, Some("200000"))], false).0,
        NONE
    );
    // segment.bytes of the topic: 100 KB batches roll a 1 MiB segment.
    for _ in 0..12 {
        let r = c.produce(&[("small", vec![(0, Some(batch(100_000)))])]);
        assert_eq!(r.partition("small", 0).error_code, NONE);
    }
    assert_eq!(segment_files(&dir.join("small-0")), 2);
    assert_eq!(segment_files(&dir.join("plain-0")), 1);
    drop(c);
    b.stop();

    let b = Broker::start(dir.path());
    let mut c = b.connect();
    assert_eq!(value(&mut c, "small", "max.message.bytes"), ("200000".into(), TOPIC_CONFIG));
    assert_eq!(value(&mut c, "small", "segment.bytes"), ("1048576".into(), TOPIC_CONFIG));
    let r = c.produce(&[("small", vec![(0, Some(batch(300_000)))])]);
    assert_eq!(r.partition("small", 0).error_code, MESSAGE_TOO_LARGE, "applied again at start-up");
    for _ in 0..12 {
        let r = c.produce(&[("small", vec![(0, Some(batch(100_000)))])]);
        assert_eq!(r.partition("small", 0).error_code, NONE);
    }
    assert_eq!(segment_files(&dir.join("small-0")), 3);
    // A deleted topic takes its configs along: the same name comes back with the defaults.
    let del = DeleteTopicsRequest::default()
        .with_topic_names(vec![TopicName(s("small"))])
        .with_timeout_ms(5000);
    assert_eq!(c.kp_call(5, &del).responses[0].error_code, NONE);
    assert_eq!(create(&mut c, 7, "small", &[]).0, NONE);
    assert_eq!(value(&mut c, "small", "max.message.bytes"), ("1048588".into(), DEFAULT_CONFIG));
    drop(c);
    b.stop();
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    assert_eq!(value(&mut c, "small", "max.message.bytes"), ("1048588".into(), DEFAULT_CONFIG));
}
