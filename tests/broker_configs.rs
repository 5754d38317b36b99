//! Dynamic broker configs over the wire against the real binary: IncrementalAlterConfigs and
//! AlterConfigs of BROKER resources (this node's id, and "" for the cluster), the values put
//! in force at once for every topic without its own override, DescribeConfigs' sources and
//! synonyms through the layers, validate_only, Kafka's refusals, the ConfigRecords in the
//! metadata log and their survival across a restart.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use kafka_protocol::messages::alter_configs_request as acq;
use kafka_protocol::messages::describe_configs_request as dcq;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResourceResult;
use kafka_protocol::messages::{AlterConfigsRequest, DescribeConfigsRequest};
use kafka_protocol::protocol::StrBytes;

const TOPIC_CONFIG: i8 = 1;
const DYNAMIC_BROKER: i8 = 2;
const DYNAMIC_DEFAULT: i8 = 3;
const STATIC_BROKER: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;
const SET: i8 = 0;
const DELETE: i8 = 1;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn create(c: &mut Client, name: &str, configs: &[(&str, &str)]) {
    create_topic_with(c, name, configs);
}

fn describe(
    c: &mut Client,
    resource_type: i8,
    name: &str,
    keys: Option<&[&str]>,
) -> Vec<DescribeConfigsResourceResult> {
    let req = DescribeConfigsRequest::default()
        .with_resources(vec![dcq::DescribeConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configuration_keys(keys.map(|ks| ks.iter().map(|k| s(k)).collect()))])
        .with_include_synonyms(true);
    let r = c.kp_call(4, &req);
    assert_eq!(r.results[0].error_code, NONE, "{:?}", r.results[0].error_message);
    r.results[0].configs.clone()
}

type Synonyms = Vec<(String, Option<String>, i8)>;

/// (value, source, synonyms) of `key` of topic `topic`.
fn topic_value(c: &mut Client, topic: &str, key: &str) -> (String, i8, Synonyms) {
    let d = describe(c, 2, topic, Some(&[key]));
    let syn = d[0]
        .synonyms
        .iter()
        .map(|s| (s.name.to_string(), s.value.as_ref().map(|v| v.to_string()), s.source))
        .collect();
    (d[0].value.as_deref().unwrap_or("").to_string(), d[0].config_source, syn)
}

fn syn(list: &[(&str, &str, i8)]) -> Synonyms {
    list.iter().map(|(k, v, s)| (k.to_string(), Some(v.to_string()), *s)).collect()
}

fn incremental(
    c: &mut Client,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> (i16, Option<String>) {
    incremental_alter_configs(c, 1, 4, name, ops, validate_only)
}

fn alter(c: &mut Client, name: &str, configs: &[(&str, &str)]) -> (i16, Option<String>) {
    let req =
        AlterConfigsRequest::default().with_resources(vec![acq::AlterConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(s(name))
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        acq::AlterableConfig::default().with_name(s(k)).with_value(Some(s(v)))
                    })
                    .collect(),
            )]);
    let r = c.kp_call(2, &req);
    (r.responses[0].error_code, r.responses[0].error_message.as_ref().map(|m| m.to_string()))
}

fn batch(bytes: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, 1_700_000_000_000);
    b.push(None, Some(&vec![b'x'; bytes]), &[]);
    b.finish()
}

fn produce(c: &mut Client, topic: &str, bytes: usize) -> i16 {
    c.produce(&[(topic, vec![(0, Some(batch(bytes)))])]).partition(topic, 0).error_code
}

fn segment_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".log"))
        .count()
}

#[test]
fn cluster_and_node_values_take_effect_at_once_and_survive_a_restart() {
    let dir = TempDir::new("brokercfg");
    let b = Broker::start_with(dir.path(), &["log.retention.hours=2"]);
    let mut c = b.connect();
    create(&mut c, "plain", &[]);
    create(&mut c, "own", &[("max.message.bytes", "500000")]);
    assert_eq!(produce(&mut c, "plain", 5000), NONE);

    // The cluster's default: every topic without its own max.message.bytes follows it.
    assert_eq!(incremental(&mut c, "", &[("message.max.bytes", SET, Some("3000"))], false).0, NONE);
    assert_eq!(
        topic_value(&mut c, "plain", "max.message.bytes"),
        (
            "3000".into(),
            DYNAMIC_DEFAULT,
            syn(&[
                ("message.max.bytes", "3000", DYNAMIC_DEFAULT),
                ("message.max.bytes", "1048588", DEFAULT_CONFIG)
            ])
        )
    );
    assert_eq!(produce(&mut c, "plain", 5000), MESSAGE_TOO_LARGE);
    assert_eq!(produce(&mut c, "own", 5000), NONE, "a topic override stays in force");
    assert_eq!(topic_value(&mut c, "own", "max.message.bytes").1, TOPIC_CONFIG);

    // This node's own value wins over the cluster's.
    assert_eq!(
        incremental(&mut c, "1", &[("message.max.bytes", SET, Some("8000"))], false).0,
        NONE
    );
    let (v, source, synonyms) = topic_value(&mut c, "plain", "max.message.bytes");
    assert_eq!((v.as_str(), source), ("8000", DYNAMIC_BROKER));
    assert_eq!(
        synonyms,
        syn(&[
            ("message.max.bytes", "8000", DYNAMIC_BROKER),
            ("message.max.bytes", "3000", DYNAMIC_DEFAULT),
            ("message.max.bytes", "1048588", DEFAULT_CONFIG)
        ])
    );
    assert_eq!(produce(&mut c, "plain", 5000), NONE);
    assert_eq!(produce(&mut c, "plain", 9000), MESSAGE_TOO_LARGE);

    // validate_only checks and changes nothing.
    assert_eq!(incremental(&mut c, "1", &[("message.max.bytes", SET, Some("100"))], true).0, NONE);
    assert_eq!(topic_value(&mut c, "plain", "max.message.bytes").0, "8000");

    // A finer unit set dynamically displaces the static coarser one.
    assert_eq!(topic_value(&mut c, "plain", "retention.ms").0, "7200000");
    assert_eq!(
        incremental(&mut c, "", &[("log.retention.ms", SET, Some("5000000"))], false).0,
        NONE
    );
    assert_eq!(
        topic_value(&mut c, "plain", "retention.ms"),
        (
            "5000000".into(),
            DYNAMIC_DEFAULT,
            syn(&[
                ("log.retention.ms", "5000000", DYNAMIC_DEFAULT),
                ("log.retention.hours", "2", STATIC_BROKER),
                ("log.retention.hours", "168", DEFAULT_CONFIG)
            ])
        )
    );

    // Open logs roll by the new segment size; a topic created afterwards starts with it.
    assert_eq!(
        incremental(&mut c, "", &[("log.segment.bytes", SET, Some("1048576"))], false).0,
        NONE
    );
    assert_eq!(
        incremental(&mut c, "1", &[("message.max.bytes", SET, Some("200000"))], false).0,
        NONE
    );
    create(&mut c, "later", &[]);
    for t in ["plain", "later"] {
        for _ in 0..12 {
            assert_eq!(produce(&mut c, t, 100_000), NONE);
        }
        assert_eq!(segment_files(&dir.join(&format!("{t}-0"))), 2, "{t}");
    }

    // The broker resources describe what is set where.
    let cluster = describe(&mut c, 4, "", None);
    let names: Vec<&str> = cluster.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["message.max.bytes", "log.segment.bytes", "log.retention.ms"]);
    assert!(cluster.iter().all(|c| c.config_source == DYNAMIC_DEFAULT && !c.read_only));
    let node =
        describe(&mut c, 4, "1", Some(&["message.max.bytes", "log.dirs", "log.retention.ms"]));
    let get = |k: &str| node.iter().find(|c| c.name.as_str() == k).unwrap();
    let mmb = get("message.max.bytes");
    assert_eq!(
        (mmb.value.as_deref(), mmb.config_source, mmb.read_only),
        (Some("200000"), DYNAMIC_BROKER, false)
    );
    assert!(get("log.dirs").read_only);
    assert_eq!(get("log.retention.ms").config_source, DYNAMIC_DEFAULT);
    drop(c);
    b.stop();

    // Recorded as Kafka's controller records them: ConfigRecords of resource type 4.
    let (cache, _) = minikafka::metadata::load(dir.path()).unwrap();
    let cluster = cache.resource_configs(4, "").unwrap();
    assert_eq!(cluster.get("message.max.bytes").map(String::as_str), Some("3000"));
    assert_eq!(cache.resource_configs(4, "1").unwrap().len(), 1);

    let b = Broker::start_with(dir.path(), &["log.retention.hours=2"]);
    let mut c = b.connect();
    assert_eq!(topic_value(&mut c, "plain", "max.message.bytes").0, "200000");
    assert_eq!(topic_value(&mut c, "plain", "retention.ms").1, DYNAMIC_DEFAULT);
    assert_eq!(produce(&mut c, "plain", 300_000), MESSAGE_TOO_LARGE, "in force after a restart");

    // Deleting this node's value falls back to the cluster's; AlterConfigs replaces the
    // cluster's whole set.
    assert_eq!(incremental(&mut c, "1", &[("message.max.bytes", DELETE, None)], false).0, NONE);
    assert_eq!(topic_value(&mut c, "plain", "max.message.bytes").0, "3000");
    assert_eq!(alter(&mut c, "", &[("log.cleaner.delete.retention.ms", "1000")]), (NONE, None));
    assert_eq!(
        topic_value(&mut c, "plain", "max.message.bytes"),
        (
            "1048588".into(),
            DEFAULT_CONFIG,
            syn(&[("message.max.bytes", "1048588", DEFAULT_CONFIG)])
        )
    );
    assert_eq!(topic_value(&mut c, "plain", "delete.retention.ms").0, "1000");
    assert_eq!(topic_value(&mut c, "plain", "retention.ms").0, "7200000");
}

#[test]
fn refusals_are_kafkas() {
    let dir = TempDir::new("brokercfg-bad");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    let bad = |c: &mut Client, name: &str, ops: &[(&str, i8, Option<&str>)]| {
        let (code, msg) = incremental(c, name, ops, false);
        assert_eq!(code, INVALID_REQUEST, "{msg:?}");
        msg.unwrap()
    };
    assert_eq!(
        bad(&mut c, "1", &[("log.dirs", SET, Some("/x"))]),
        "Cannot update these configs dynamically: [log.dirs]"
    );
    assert_eq!(
        bad(&mut c, "", &[("log.retention.hours", SET, Some("1"))]),
        "Cannot update these configs dynamically: [log.retention.hours]"
    );
    assert_eq!(
        bad(&mut c, "1", &[("log.segment.bytes", SET, Some("abc"))]),
        "Invalid value abc for configuration log.segment.bytes: Not a number of type INT"
    );
    assert_eq!(
        bad(&mut c, "", &[("log.cleanup.policy", SET, Some("shred"))]),
        "Invalid value shred for configuration log.cleanup.policy: String must be one of: compact, delete"
    );
    assert_eq!(
        bad(&mut c, "2", &[("message.max.bytes", SET, Some("1"))]),
        "Unexpected broker id, expected 1, but received 2"
    );
    assert_eq!(
        bad(&mut c, "1", &[("message.max.bytes", SET, None)]),
        "Null value not supported for : message.max.bytes"
    );
    assert!(describe(&mut c, 4, "", None).is_empty(), "nothing was recorded");
}

#[test]
fn documentation_only_when_asked_for_every_key() {
    let dir = TempDir::new("brokercfg-doc");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    create(&mut c, "doc", &[]);
    for v in 3..=4 {
        for include in [false, true] {
            let req = DescribeConfigsRequest::default()
                .with_resources(vec![
                    dcq::DescribeConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(s("doc"))
                        .with_configuration_keys(None),
                    dcq::DescribeConfigsResource::default()
                        .with_resource_type(4)
                        .with_resource_name(s("1"))
                        .with_configuration_keys(None),
                ])
                .with_include_documentation(include);
            let r = c.kp_call(v, &req);
            for res in &r.results {
                assert!(res.configs.len() > 20, "v{v}");
                for cfg in &res.configs {
                    let doc = cfg.documentation.as_deref().unwrap_or("");
                    assert_eq!(cfg.documentation.is_some(), include, "v{v} {}", cfg.name.as_str());
                    assert!(!include || doc.len() > 20, "v{v} {}: {doc:?}", cfg.name.as_str());
                }
            }
        }
    }
}
