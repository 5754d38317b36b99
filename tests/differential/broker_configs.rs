//! Dynamic broker configs: set, described (broker resources and a topic that falls back to
//! them) and deleted, for this node ("1") and the cluster (""), by IncrementalAlterConfigs
//! and AlterConfigs; refusals of keys that are not dynamic, bad values and other node ids.
//!
//! One Kafka serves every scenario, so each scenario leaves the broker resources as it found
//! them, and only keys that change nothing the other scenarios observe are set: the
//! compaction tombstone retention and the delay before deleted segment files go. The
//! cluster resource is described by key: Kafka's controller records a cluster-wide
//! `min.insync.replicas` at format time, which this broker does not.

use kafka_protocol::messages::*;

use crate::configs::{alter, describe, describe_resource, incremental, DELETE, SET};
use crate::harness::Scenario;
use crate::scenarios::versions;

const TOMBSTONES: &str = "log.cleaner.delete.retention.ms";
const FILE_DELAY: &str = "log.segment.delete.delay.ms";
const BROKER_KEYS: [&str; 3] = [TOMBSTONES, FILE_DELAY, "log.segment.bytes"];
const TOPIC_KEYS: [&str; 3] = ["delete.retention.ms", "file.delete.delay.ms", "segment.bytes"];

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let dc_max = *versions(ApiKey::DescribeConfigs).end();
    let describe_all = |sc: Scenario, topic: &str| {
        let t = topic.to_string();
        sc.step(ApiKey::DescribeConfigs, dc_max, move |_, _| describe(&t, Some(&TOPIC_KEYS), true))
            .step(ApiKey::DescribeConfigs, dc_max, |_, _| {
                describe_resource(4, "1", Some(&BROKER_KEYS), true)
            })
            .step(ApiKey::DescribeConfigs, dc_max, |_, _| {
                describe_resource(4, "", Some(&BROKER_KEYS), true)
            })
    };
    for v in versions(ApiKey::IncrementalAlterConfigs) {
        let t = format!("brokercfg-inc-{v}");
        let mut sc =
            Scenario::new(format!("broker configs: IncrementalAlterConfigs v{v}")).topic(&t, 1);
        type Op = (&'static str, i8, Option<&'static str>);
        let steps: Vec<(&str, Vec<Op>, bool)> = vec![
            ("", vec![(TOMBSTONES, SET, Some("5000"))], false),
            ("1", vec![(TOMBSTONES, SET, Some("7000")), (FILE_DELAY, SET, Some("1000"))], false),
            ("1", vec![(FILE_DELAY, SET, Some("5"))], true),
            ("1", vec![(TOMBSTONES, DELETE, None)], false),
        ];
        for (name, ops, validate_only) in steps {
            sc = sc.step(ApiKey::IncrementalAlterConfigs, v, move |_, _| {
                incremental(4, name, &ops, validate_only)
            });
            sc = describe_all(sc, &t);
        }
        let bad: Vec<(&str, Vec<Op>)> = vec![
            ("1", vec![("log.segment.bytes", SET, Some("abc"))]),
            ("", vec![("log.segment.bytes", SET, Some("1000"))]),
            ("", vec![("log.cleanup.policy", SET, Some("compact,shred"))]),
            ("1", vec![("log.retention.hours", SET, Some("1"))]),
            ("1", vec![(FILE_DELAY, SET, Some("1")), ("log.dirs", SET, Some("/tmp/x"))]),
            ("2", vec![(FILE_DELAY, SET, Some("1"))]),
            ("one", vec![(FILE_DELAY, SET, Some("1"))]),
            ("1", vec![(FILE_DELAY, SET, None)]),
            ("1", vec![(FILE_DELAY, SET, Some("1")), (FILE_DELAY, SET, Some("2"))]),
        ];
        for (name, ops) in bad {
            sc = sc.step(ApiKey::IncrementalAlterConfigs, v, move |_, _| {
                incremental(4, name, &ops, false)
            });
        }
        sc = sc
            .step(ApiKey::DescribeConfigs, dc_max, |_, _| {
                describe_resource(4, "2", Some(&BROKER_KEYS), true)
            })
            .step(ApiKey::DescribeConfigs, dc_max, |_, _| {
                describe_resource(4, "one", Some(&BROKER_KEYS), true)
            });
        // Back to where it started: nothing dynamic but Kafka's own format-time record.
        sc = sc
            .step(ApiKey::IncrementalAlterConfigs, v, |_, _| {
                incremental(4, "1", &[(FILE_DELAY, DELETE, None)], false)
            })
            .step(ApiKey::IncrementalAlterConfigs, v, |_, _| {
                incremental(4, "", &[(TOMBSTONES, DELETE, None)], false)
            });
        out.push(describe_all(sc, &t));
    }
    // Static units (the differential's brokers get log.retention.minutes), then a dynamic
    // finer unit displacing them.
    let units = ["log.retention.ms", "log.retention.minutes", "log.retention.hours"];
    let unit_steps = |sc: Scenario| {
        sc.step(ApiKey::DescribeConfigs, dc_max, |_, _| {
            describe("brokercfg-units", Some(&["retention.ms", "segment.ms"]), true)
        })
        .step(ApiKey::DescribeConfigs, dc_max, move |_, _| {
            describe_resource(4, "1", Some(&units), true)
        })
    };
    let sc = Scenario::new("broker configs: units of retention").topic("brokercfg-units", 1);
    let sc = unit_steps(sc).step(ApiKey::IncrementalAlterConfigs, 1, |_, _| {
        incremental(4, "", &[("log.retention.ms", SET, Some("86400000"))], false)
    });
    let sc = unit_steps(sc).step(ApiKey::IncrementalAlterConfigs, 1, |_, _| {
        incremental(4, "", &[("log.retention.ms", DELETE, None)], false)
    });
    out.push(unit_steps(sc));
    for v in versions(ApiKey::AlterConfigs) {
        let t = format!("brokercfg-alter-{v}");
        let sc = Scenario::new(format!("broker configs: AlterConfigs v{v}")).topic(&t, 1);
        let sc = sc.step(ApiKey::AlterConfigs, v, |_, _| {
            alter(4, "1", &[(TOMBSTONES, Some("4000")), (FILE_DELAY, Some("3000"))], false)
        });
        let sc = describe_all(sc, &t);
        // The whole set is replaced: the key left out goes.
        let sc = sc.step(ApiKey::AlterConfigs, v, |_, _| {
            alter(4, "1", &[(FILE_DELAY, Some("2000"))], false)
        });
        let sc = describe_all(sc, &t);
        let sc = sc
            .step(ApiKey::AlterConfigs, v, |_, _| alter(4, "1", &[(FILE_DELAY, Some("-1"))], false))
            .step(ApiKey::AlterConfigs, v, |_, _| alter(4, "1", &[(FILE_DELAY, Some("9"))], true))
            .step(ApiKey::AlterConfigs, v, |_, _| {
                alter(4, "1", &[("log.dirs", Some("/tmp/x"))], false)
            })
            .step(ApiKey::IncrementalAlterConfigs, 1, |_, _| {
                incremental(4, "1", &[(FILE_DELAY, DELETE, None)], false)
            });
        out.push(describe_all(sc, &t));
    }
    out
}
