//! Topic configs: given to CreateTopics, changed by IncrementalAlterConfigs (set, delete,
//! append, subtract) and AlterConfigs (the whole set), read back by DescribeConfigs with
//! synonyms; bad keys and values, unknown topics, validate_only, other resource types.

use kafka_protocol::messages::alter_configs_request::{
    AlterConfigsResource, AlterableConfig as LegacyConfig,
};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource as IncResource, AlterableConfig,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use crate::harness::Scenario;
use crate::scenarios::versions;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

pub const SET: i8 = 0;
pub const DELETE: i8 = 1;
pub const APPEND: i8 = 2;
pub const SUBTRACT: i8 = 3;

/// (key, operation, value) of IncrementalAlterConfigs.
type Op = (&'static str, i8, Option<&'static str>);
/// (key, value) of AlterConfigs.
type Set = (&'static str, Option<&'static str>);

/// The keys the scenarios change, described after each change.
const KEYS: [&str; 5] =
    ["cleanup.policy", "segment.bytes", "max.message.bytes", "message.timestamp.type", "flush.ms"];

pub fn create_with(
    name: &str,
    configs: &[(&str, Option<&str>)],
    validate_only: bool,
) -> RequestKind {
    CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(s(name)))
            .with_num_partitions(1)
            .with_replication_factor(1)
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        CreatableTopicConfig::default().with_name(s(k)).with_value(v.map(s))
                    })
                    .collect(),
            )])
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only)
        .into()
}

pub fn describe(name: &str, keys: Option<&[&str]>, synonyms: bool) -> RequestKind {
    describe_resource(2, name, keys, synonyms)
}

/// DescribeConfigs of `name` (type `resource_type`) with every key's documentation.
pub fn describe_documented(resource_type: i8, name: &str, keys: Option<&[&str]>) -> RequestKind {
    let RequestKind::DescribeConfigs(r) = describe_resource(resource_type, name, keys, false)
    else {
        unreachable!()
    };
    r.with_include_documentation(true).into()
}

pub fn describe_resource(
    resource_type: i8,
    name: &str,
    keys: Option<&[&str]>,
    synonyms: bool,
) -> RequestKind {
    DescribeConfigsRequest::default()
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configuration_keys(keys.map(|ks| ks.iter().map(|k| s(k)).collect()))])
        .with_include_synonyms(synonyms)
        .into()
}

pub fn incremental(
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> RequestKind {
    IncrementalAlterConfigsRequest::default()
        .with_resources(vec![IncResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configs(
                ops.iter()
                    .map(|(k, op, v)| {
                        AlterableConfig::default()
                            .with_name(s(k))
                            .with_config_operation(*op)
                            .with_value(v.map(s))
                    })
                    .collect(),
            )])
        .with_validate_only(validate_only)
        .into()
}

pub fn alter(
    resource_type: i8,
    name: &str,
    configs: &[(&str, Option<&str>)],
    validate_only: bool,
) -> RequestKind {
    AlterConfigsRequest::default()
        .with_resources(vec![AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| LegacyConfig::default().with_name(s(k)).with_value(v.map(s)))
                    .collect(),
            )])
        .with_validate_only(validate_only)
        .into()
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let dc_max = *versions(ApiKey::DescribeConfigs).end();
    for v in versions(ApiKey::CreateTopics) {
        let (a, b, c) = (
            format!("cfg-create-{v}"),
            format!("cfg-create-bad-{v}"),
            format!("cfg-create-vo-{v}"),
        );
        let (a1, b1, b2, b3, c1, c2) =
            (a.clone(), b.clone(), b.clone(), b.clone(), c.clone(), c.clone());
        out.push(
            Scenario::new(format!("configs: CreateTopics v{v} with configs, bad keys and values"))
                .step(ApiKey::CreateTopics, v, move |_, _| {
                    create_with(
                        &a,
                        &[
                            ("cleanup.policy", Some("compact,delete")),
                            ("segment.bytes", Some("2097152")),
                            ("max.message.bytes", Some("20000")),
                            ("message.timestamp.type", Some("CreateTime")),
                        ],
                        false,
                    )
                })
                .step(ApiKey::DescribeConfigs, dc_max, move |_, _| describe(&a1, Some(&KEYS), true))
                .step(ApiKey::CreateTopics, v, move |_, _| {
                    create_with(&b1, &[("no.such.config", Some("1"))], false)
                })
                .step(ApiKey::CreateTopics, v, move |_, _| {
                    create_with(&b2, &[("segment.bytes", Some("1000"))], false)
                })
                .step(ApiKey::CreateTopics, v, move |_, _| {
                    create_with(&b3, &[("cleanup.policy", Some("compact,shred"))], false)
                })
                .step(ApiKey::CreateTopics, v, move |_, _| {
                    create_with(&c1, &[("retention.bytes", Some("12345"))], true)
                })
                .step(ApiKey::DescribeConfigs, dc_max, move |_, _| describe(&c2, None, false)),
        );
    }
    for v in versions(ApiKey::IncrementalAlterConfigs) {
        let t = format!("cfg-inc-{v}");
        let mut sc = Scenario::new(format!("configs: IncrementalAlterConfigs v{v}")).topic(&t, 1);
        let steps: Vec<(Vec<Op>, bool)> = vec![
            (
                vec![
                    ("segment.bytes", SET, Some("2097152")),
                    ("cleanup.policy", SET, Some("compact")),
                ],
                false,
            ),
            (vec![("cleanup.policy", APPEND, Some("delete"))], false),
            (vec![("cleanup.policy", SUBTRACT, Some("compact"))], false),
            (vec![("segment.bytes", DELETE, None), ("flush.ms", SET, Some("1000"))], false),
            (vec![("max.message.bytes", SET, Some("5000"))], true),
        ];
        for (ops, validate_only) in steps {
            let (t1, t2) = (t.clone(), t.clone());
            sc = sc
                .step(ApiKey::IncrementalAlterConfigs, v, move |_, _| {
                    incremental(2, &t1, &ops, validate_only)
                })
                .step(ApiKey::DescribeConfigs, dc_max, move |_, _| {
                    describe(&t2, Some(&KEYS), true)
                });
        }
        let bad: Vec<(i8, String, Vec<Op>)> = vec![
            (2, t.clone(), vec![("no.such.config", SET, Some("1"))]),
            (2, t.clone(), vec![("segment.bytes", SET, Some("abc"))]),
            (2, t.clone(), vec![("retention.ms", SET, Some("-5"))]),
            (2, t.clone(), vec![("message.timestamp.type", SET, Some("Now"))]),
            (2, t.clone(), vec![("segment.bytes", APPEND, Some("1"))]),
            (2, "cfg-no-such-topic".into(), vec![("segment.bytes", SET, Some("2097152"))]),
            (4, "1".into(), vec![("log.dirs", SET, Some("/tmp/x"))]),
            (99, t.clone(), vec![("segment.bytes", SET, Some("2097152"))]),
        ];
        for (rt, name, ops) in bad {
            sc = sc.step(ApiKey::IncrementalAlterConfigs, v, move |_, _| {
                incremental(rt, &name, &ops, false)
            });
        }
        let t3 = t.clone();
        sc =
            sc.step(ApiKey::DescribeConfigs, dc_max, move |_, _| describe(&t3, Some(&KEYS), false));
        out.push(sc);
    }
    for v in versions(ApiKey::AlterConfigs) {
        let t = format!("cfg-alter-{v}");
        let mut sc = Scenario::new(format!("configs: AlterConfigs v{v}")).topic(&t, 1);
        let steps: Vec<(Vec<Set>, bool)> = vec![
            (
                vec![
                    ("segment.bytes", Some("3145728")),
                    ("message.timestamp.type", Some("LogAppendTime")),
                ],
                false,
            ),
            (vec![("cleanup.policy", Some("compact"))], false),
            (vec![("flush.ms", Some("7"))], true),
            (vec![("flush.ms", Some("-7"))], false),
            (vec![("unknown.key", Some("7"))], false),
        ];
        for (configs, validate_only) in steps {
            let (t1, t2) = (t.clone(), t.clone());
            sc = sc
                .step(ApiKey::AlterConfigs, v, move |_, _| alter(2, &t1, &configs, validate_only))
                .step(ApiKey::DescribeConfigs, dc_max, move |_, _| {
                    describe(&t2, Some(&KEYS), true)
                });
        }
        sc = sc
            .step(ApiKey::AlterConfigs, v, |_, _| {
                alter(2, "cfg-no-such-topic", &[("flush.ms", Some("7"))], false)
            })
            .step(ApiKey::AlterConfigs, v, |_, _| {
                alter(4, "1", &[("log.dirs", Some("/tmp/x"))], false)
            });
        out.push(sc);
    }
    // Documentation of every topic key and of broker keys, at each version that has it.
    for v in versions(ApiKey::DescribeConfigs).filter(|v| *v >= 3) {
        let t = format!("cfg-doc-{v}");
        let t1 = t.clone();
        out.push(
            Scenario::new(format!("configs: DescribeConfigs v{v} with documentation"))
                .topic(&t, 1)
                .step(ApiKey::DescribeConfigs, v, move |_, _| describe_documented(2, &t1, None))
                .step(ApiKey::DescribeConfigs, v, |_, _| {
                    let keys = [
                        "log.segment.bytes",
                        "message.max.bytes",
                        "log.retention.check.interval.ms",
                        "num.partitions",
                    ];
                    describe_documented(4, "1", Some(&keys))
                }),
        );
    }
    // Every DescribeConfigs version reads a topic's own value and its synonyms.
    for v in versions(ApiKey::DescribeConfigs) {
        let t = format!("cfg-describe-{v}");
        let (t1, t2) = (t.clone(), t.clone());
        out.push(
            Scenario::new(format!("configs: DescribeConfigs v{v} of an override, with synonyms"))
                .topic(&t, 1)
                .setup(ApiKey::IncrementalAlterConfigs, 1, move |_, _| {
                    incremental(2, &t1, &[("segment.bytes", SET, Some("4194304"))], false)
                })
                .step(ApiKey::DescribeConfigs, v, move |_, _| {
                    let keys = [
                        "segment.bytes",
                        "cleanup.policy",
                        "segment.ms",
                        "segment.jitter.ms",
                        "retention.ms",
                        "flush.ms",
                    ];
                    describe(&t2, Some(&keys), true)
                }),
        );
    }
    out
}
