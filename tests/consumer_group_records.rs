//! Consumer groups on the consumer protocol (KIP-848) against Apache Kafka itself, the judge:
//! Kafka's Java client and librdkafka each run a group whose members join and leave
//! (common/consumer_protocol.rs), every record is read exactly once and committed, and the
//! rebalance times are reported. Then Kafka is stopped and every consumer group record it
//! wrote to `__consumer_offsets` must decode with `minikafka::groups::consumer_records` and
//! encode again to the very same bytes.

mod common;
#[path = "common/consumer_protocol.rs"]
mod consumer_protocol;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use common::kafka::{Kafka, KafkaOptions};
use common::TempDir;
use minikafka::groups::consumer_records::{self as cr, ConsumerGroupRecord, Decoded};
use minikafka::records::{batches as log_batches, Records};

/// Records produced before each step of a session.
const PER_PHASE: usize = 300;

/// Kafka's default heartbeat interval (5 s) would make every step take seconds: members only
/// learn of a new target assignment on their next heartbeat (measured with the defaults: a
/// third member's join took 5.1 s, a leave 4.7 to 4.9 s, for both clients). 500 ms keeps the
/// session short and the measured times about the group rather than the interval.
fn kafka_options() -> KafkaOptions {
    KafkaOptions::default()
        .set("group.consumer.min.heartbeat.interval.ms", "100")
        .set("group.consumer.heartbeat.interval.ms", "500")
}

/// Every record of every `__consumer_offsets` segment under `log_dir`, as (key, value).
fn offsets_records(log_dir: &std::path::Path) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = fs::read_dir(log_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("__consumer_offsets-"))
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "Kafka created __consumer_offsets");
    for d in dirs {
        let mut segments: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        segments.sort();
        for seg in segments {
            let bytes = fs::read(&seg).unwrap();
            for b in log_batches(&bytes) {
                let (h, batch) = b.unwrap();
                if h.is_control() {
                    continue;
                }
                assert_eq!(h.compression(), 0, "offsets.topic.compression.codec is none");
                for rec in Records::new(batch).unwrap() {
                    let rec = rec.unwrap();
                    out.push((rec.key.unwrap().to_vec(), rec.value.map(<[u8]>::to_vec)));
                }
            }
        }
    }
    out
}

#[test]
fn kafka_consumer_protocol_groups_read_exactly_once_and_their_records_decode() {
    let tmp = TempDir::new("cg-records-kafka");
    let kafka = Kafka::start_fresh(tmp.path(), &kafka_options());
    let tail = || kafka.output_tail();

    let java = consumer_protocol::java_session(kafka.addr, "cp-java", PER_PHASE, tail);
    eprintln!("{}", java.summary());
    java.assert_exactly_once();
    let rd = consumer_protocol::rdkafka_session(kafka.addr, "cp-rdkafka", PER_PHASE);
    eprintln!("{}", rd.summary());
    rd.assert_exactly_once();
    for s in [&java, &rd] {
        eprintln!(
            "rebalance times on Kafka, {}: two members start {:?}, a third joins {:?}, \
             the second leaves {:?}",
            s.client,
            s.rebalance("start-two"),
            s.rebalance("join-third"),
            s.rebalance("leave-second")
        );
    }
    // The sessions' topics as Kafka's metadata has them, for the groups' metadata hashes.
    let topics: BTreeMap<String, ([u8; 16], i32)> = {
        use kafka_protocol::messages::MetadataRequest;
        let mut c = common::Client::connect(kafka.addr);
        let m = c.kp_call(12, &MetadataRequest::default().with_topics(None));
        m.topics
            .iter()
            .map(|t| {
                let name = t.name.as_ref().unwrap().to_string();
                (name, (*t.topic_id.as_bytes(), t.partitions.len() as i32))
            })
            .collect()
    };
    kafka.stop();

    let records = offsets_records(&tmp.path().join("kafka-logs"));
    let mut by_type: BTreeMap<i16, usize> = BTreeMap::new();
    let mut tombstones: BTreeMap<i16, usize> = BTreeMap::new();
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut left: BTreeMap<String, usize> = BTreeMap::new();
    let mut hashes = 0;
    let mut decoded = 0;
    for (key, value) in &records {
        let d = cr::decode(key, value.as_deref())
            .unwrap_or_else(|e| panic!("{e}: key {key:?} value {value:?}"));
        let rec = match d {
            Decoded::ConsumerGroup(rec) => rec,
            Decoded::Other { record_type } => {
                // Classic offset commits of these groups (type 1): nothing else is expected.
                assert_eq!(record_type, 1, "key {key:?}");
                continue;
            }
        };
        decoded += 1;
        assert_eq!(rec.encode(), (key.clone(), value.clone()), "{rec:?} encodes to Kafka's bytes");
        *by_type.entry(rec.record_type()).or_default() += 1;
        if rec.is_tombstone() {
            *tombstones.entry(rec.record_type()).or_default() += 1;
        }
        match &rec {
            ConsumerGroupRecord::MemberMetadata { group_id, value: Some(v), .. } => {
                assert_eq!(v.classic_member_metadata, None, "a consumer protocol member");
                assert_eq!(v.subscribed_topic_names, [group_id.trim_end_matches("-group")]);
                members.entry(group_id.clone()).or_default().insert(v.client_id.clone());
            }
            ConsumerGroupRecord::MemberMetadata { group_id, value: None, .. } => {
                *left.entry(group_id.clone()).or_default() += 1;
            }
            ConsumerGroupRecord::GroupMetadata { group_id, value: Some(v) }
                if v.metadata_hash != 0 =>
            {
                // Ours, from the one topic the group subscribes to, is the hash Kafka wrote.
                let topic = group_id.trim_end_matches("-group");
                let subscribed = [(topic.to_string(), topics[topic])].into();
                assert_eq!(
                    minikafka::groups::metadata_hash::of_subscription(&subscribed),
                    v.metadata_hash,
                    "{group_id}"
                );
                hashes += 1;
            }
            _ => {}
        }
    }
    eprintln!(
        "__consumer_offsets: {} records, {decoded} of consumer groups, by type {by_type:?}, \
         tombstones {tombstones:?}",
        records.len()
    );
    let three: BTreeSet<String> = ["member-a", "member-b", "member-c"].map(String::from).into();
    for g in ["cp-java-group", "cp-rdkafka-group"] {
        assert_eq!(members.get(g), Some(&three), "{g}'s members");
        // Each session closes every member in the end: each left with a tombstone.
        assert_eq!(left.get(g), Some(&3), "{g}'s members left");
    }
    for t in [
        cr::CONSUMER_GROUP_METADATA,
        cr::CONSUMER_GROUP_MEMBER_METADATA,
        cr::CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
        cr::CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER,
        cr::CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
    ] {
        assert!(by_type.get(&t).is_some_and(|n| *n > 0), "Kafka wrote record type {t}");
    }
    assert!(hashes > 0, "Kafka 4.x keeps the subscribed topics' metadata hash in the group record");

    for (group, session) in [("cp-java-group", &java), ("cp-rdkafka-group", &rd)] {
        let (lines, targets) = transcript(&records, group);
        eprintln!("{group} as Kafka wrote it:\n  {}", lines.join("\n  "));
        // The last target assignment of the two members still there after the leave is what
        // they owned last.
        for m in ["member-a", "member-c"] {
            let last = session.owned.iter().rev().find(|(_, n, _)| n == m).unwrap();
            assert_eq!(targets.get(m), Some(&last.2), "{group}: {m}'s last target assignment");
        }
    }
}

/// `group`'s records in the order Kafka wrote them, members named by client id, one line
/// each; and the last target assignment each member had before it left.
fn transcript(
    records: &[(Vec<u8>, Option<Vec<u8>>)],
    group: &str,
) -> (Vec<String>, BTreeMap<String, Vec<i32>>) {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut targets: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let mut lines = Vec::new();
    let parts = |tps: &[cr::AssignedPartitions]| -> Vec<Vec<i32>> {
        tps.iter().map(|t| t.partitions.clone()).collect()
    };
    for (key, value) in records {
        let Ok(Decoded::ConsumerGroup(rec)) = cr::decode(key, value.as_deref()) else { continue };
        if rec.group_id() != group {
            continue;
        }
        let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
        lines.push(match &rec {
            ConsumerGroupRecord::GroupMetadata { value: Some(v), .. } => {
                format!("group epoch {} metadata hash {:#x}", v.epoch, v.metadata_hash)
            }
            ConsumerGroupRecord::MemberMetadata { member_id, value: Some(v), .. } => {
                names.insert(member_id.clone(), v.client_id.clone());
                format!(
                    "member {} subscribes {:?} rebalance timeout {} assignor {:?}",
                    v.client_id,
                    v.subscribed_topic_names,
                    v.rebalance_timeout_ms,
                    v.server_assignor
                )
            }
            ConsumerGroupRecord::TargetAssignmentMetadata { value: Some(v), .. } => {
                format!("target assignment epoch {}", v.assignment_epoch)
            }
            ConsumerGroupRecord::TargetAssignmentMember { member_id, value: Some(v), .. } => {
                let mut ps: Vec<i32> =
                    v.topic_partitions.iter().flat_map(|t| t.partitions.clone()).collect();
                ps.sort();
                targets.insert(name(member_id), ps.clone());
                format!("target of {}: {ps:?}", name(member_id))
            }
            ConsumerGroupRecord::CurrentMemberAssignment { member_id, value: Some(v), .. } => {
                format!(
                    "current of {}: epoch {} (previous {}) state {} assigned {:?} revoking {:?} \
                     epochs {:?}",
                    name(member_id),
                    v.member_epoch,
                    v.previous_member_epoch,
                    v.state,
                    parts(&v.assigned_partitions),
                    parts(&v.partitions_pending_revocation),
                    v.assigned_partitions
                        .iter()
                        .map(|t| t.assignment_epochs.clone())
                        .collect::<Vec<_>>()
                )
            }
            ConsumerGroupRecord::TargetAssignmentMember { member_id, value: None, .. }
            | ConsumerGroupRecord::MemberMetadata { member_id, value: None, .. }
            | ConsumerGroupRecord::CurrentMemberAssignment { member_id, value: None, .. } => {
                format!("tombstone type {} of {}", rec.record_type(), name(member_id))
            }
            other => format!("{other:?}"),
        });
    }
    (lines, targets)
}

/// Compiles and runs `tests/clients/java/<class>.java` on Kafka's own jars; its output.
fn run_on_kafka_jars(class: &str) -> String {
    use std::process::Command;
    let cp = common::kafka::class_path();
    let classes = common::clients::clients_dir().join(format!("java-{class}/classes"));
    let _ = fs::remove_dir_all(&classes);
    fs::create_dir_all(&classes).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/clients/java/{class}.java"));
    let javac = Command::new(common::clients::javac())
        .args(["-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(&classes)
        .args(["-cp", &cp])
        .arg(source)
        .output()
        .expect("run javac");
    assert!(javac.status.success(), "{}", String::from_utf8_lossy(&javac.stderr));
    let run_cp = format!("{}:{cp}", classes.display());
    let out = Command::new(common::kafka::java())
        .args(["-Xmx128m", "-XX:TieredStopAtLevel=1", "-Dfile.encoding=UTF-8"])
        .args(["-Dstdout.encoding=UTF-8", "-cp", &run_cp, class])
        .output()
        .expect("run java");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The bytes Kafka's generated classes write (`ConsumerGroupRecordBytes.java`), by case name.
fn kafka_generated_bytes() -> BTreeMap<String, (Vec<u8>, Option<Vec<u8>>)> {
    let unhex = |h: &str| -> Vec<u8> {
        (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
    };
    run_on_kafka_jars("ConsumerGroupRecordBytes")
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            let value = (w[2] != "null").then(|| unhex(w[2]));
            (w[0].to_string(), (unhex(w[1]), value))
        })
        .collect()
}

/// The group metadata hash (KIP-1101) is Kafka's bit for bit: XXH3-64 at every size class
/// against hash4j, and topic and group hashes against Kafka's `Utils` over a metadata image
/// of the same topics (`MetadataHashes.java`).
#[test]
fn metadata_hashes_equal_kafkas() {
    use minikafka::groups::metadata_hash::{group_hash, topic_hash, xxh3_64};
    let kafka: BTreeMap<String, i64> = run_on_kafka_jars("MetadataHashes")
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut checked = 0;
    for (label, want) in &kafka {
        if let Some(len) = label.strip_prefix("xxh3-") {
            let len: usize = len.parse().unwrap();
            assert_eq!(xxh3_64(&data[..len]) as i64, *want, "XXH3 of {len} bytes");
            checked += 1;
        }
    }
    assert!(checked > 30, "{kafka:?}");
    let uuid = |hi: u64, lo: u64| {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&hi.to_be_bytes());
        id[8..].copy_from_slice(&lo.to_be_bytes());
        id
    };
    let topics = [
        ("kip848", uuid(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210), 6),
        ("a", uuid(0x0101_0101_0101_0101, 0x0101_0101_0101_0101), 1),
        ("many-partitions.topic_name", uuid(-2i64 as u64, 7), 100),
        ("ünïcødé", uuid(0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000), 3),
    ];
    let mut all = BTreeMap::new();
    for (name, id, partitions) in topics {
        let h = topic_hash(name, &id, partitions);
        assert_eq!(h, kafka[&format!("topic-{name}")], "topic {name}");
        all.insert(name.to_string(), h);
    }
    assert_eq!(group_hash(&all), kafka["group-all"]);
    let one = [("kip848".to_string(), all["kip848"])].into();
    assert_eq!(group_hash(&one), kafka["group-one"]);
    assert_eq!(group_hash(&BTreeMap::new()), kafka["group-none"]);
}

/// The same records as `ConsumerGroupRecordBytes.java` builds, by case name.
fn our_records() -> Vec<(&'static str, ConsumerGroupRecord)> {
    use cr::*;
    use ConsumerGroupRecord as R;
    let (t1, t2) = ([1u8; 16], [2u8; 16]);
    let s = |v: &str| v.to_string();
    let member = |value| R::MemberMetadata { group_id: s("g"), member_id: s("m"), value };
    vec![
        (
            "group-metadata",
            R::GroupMetadata {
                group_id: s("g1"),
                value: Some(GroupMetadataValue { epoch: 5, metadata_hash: 0 }),
            },
        ),
        (
            "group-metadata-hash",
            R::GroupMetadata {
                group_id: s("g1"),
                value: Some(GroupMetadataValue { epoch: 5, metadata_hash: -2 }),
            },
        ),
        ("group-metadata-tombstone", R::GroupMetadata { group_id: s("g1"), value: None }),
        (
            "member-consumer",
            member(Some(MemberMetadataValue {
                instance_id: None,
                rack_id: Some(s("r")),
                client_id: s("c"),
                client_host: s("/h"),
                subscribed_topic_names: vec![s("t"), s("u")],
                subscribed_topic_regex: None,
                rebalance_timeout_ms: 300_000,
                server_assignor: Some(s("uniform")),
                classic_member_metadata: None,
            })),
        ),
        (
            "member-classic",
            member(Some(MemberMetadataValue {
                instance_id: Some(s("i")),
                rack_id: None,
                client_id: s("c"),
                client_host: s("h"),
                subscribed_topic_names: vec![],
                subscribed_topic_regex: Some(s("t.*")),
                rebalance_timeout_ms: -1,
                server_assignor: None,
                classic_member_metadata: Some(ClassicMemberMetadata {
                    session_timeout_ms: 45_000,
                    supported_protocols: vec![ClassicProtocol {
                        name: s("range"),
                        metadata: vec![9, 8],
                    }],
                }),
            })),
        ),
        (
            // Java's defaults: empty strings where the schema allows null, no tag.
            "member-default",
            member(Some(MemberMetadataValue {
                instance_id: Some(s("")),
                rack_id: Some(s("")),
                client_id: s("c"),
                client_host: s("h"),
                subscribed_topic_names: vec![],
                subscribed_topic_regex: Some(s("")),
                rebalance_timeout_ms: -1,
                server_assignor: Some(s("")),
                classic_member_metadata: Some(ClassicMemberMetadata::default()),
            })),
        ),
        (
            "target-metadata",
            R::TargetAssignmentMetadata {
                group_id: s("g"),
                value: Some(TargetAssignmentMetadataValue {
                    assignment_epoch: 7,
                    assignment_timestamp: 0x0102,
                }),
            },
        ),
        (
            "target-member",
            R::TargetAssignmentMember {
                group_id: s("g"),
                member_id: s("m"),
                value: Some(TargetAssignmentMemberValue {
                    topic_partitions: vec![
                        TopicPartitions { topic_id: t1, partitions: vec![0, 4] },
                        TopicPartitions { topic_id: t2, partitions: vec![] },
                    ],
                }),
            },
        ),
        (
            "current-assignment",
            R::CurrentMemberAssignment {
                group_id: s("g"),
                member_id: s("m"),
                value: Some(CurrentMemberAssignmentValue {
                    member_epoch: 9,
                    previous_member_epoch: 8,
                    state: MEMBER_STATE_UNREVOKED_PARTITIONS,
                    assigned_partitions: vec![
                        AssignedPartitions {
                            topic_id: t1,
                            partitions: vec![1],
                            assignment_epochs: Some(vec![9]),
                        },
                        AssignedPartitions {
                            topic_id: t2,
                            partitions: vec![2],
                            assignment_epochs: None,
                        },
                    ],
                    partitions_pending_revocation: vec![AssignedPartitions {
                        topic_id: t1,
                        partitions: vec![3],
                        assignment_epochs: Some(vec![]),
                    }],
                }),
            },
        ),
        (
            "current-assignment-tombstone",
            R::CurrentMemberAssignment { group_id: s("g"), member_id: s("m"), value: None },
        ),
        (
            "partition-metadata",
            R::PartitionMetadata {
                group_id: s("g"),
                value: Some(PartitionMetadataValue {
                    topics: vec![TopicMetadata {
                        topic_id: t1,
                        topic_name: s("t"),
                        num_partitions: 6,
                        partition_metadata: vec![PartitionRacks {
                            partition: 5,
                            racks: vec![s("r1")],
                        }],
                    }],
                }),
            },
        ),
        (
            "regular-expression",
            R::RegularExpression {
                group_id: s("g"),
                regular_expression: s("a.*"),
                value: Some(RegularExpressionValue {
                    topics: vec![s("a")],
                    version: 3,
                    timestamp: 4,
                }),
            },
        ),
    ]
}

/// Forms a live group does not write (classic members, assignment epochs, the partition
/// metadata of older logs, regular expressions): our bytes equal those of Kafka's generated
/// classes, and Kafka's decode to our records.
#[test]
fn records_equal_the_bytes_of_kafkas_generated_classes() {
    let kafka = kafka_generated_bytes();
    let ours = our_records();
    assert_eq!(
        kafka.keys().collect::<BTreeSet<_>>(),
        ours.iter().map(|(n, _)| n.to_string()).collect::<BTreeSet<_>>().iter().collect()
    );
    for (name, rec) in ours {
        let (key, value) = &kafka[name];
        assert_eq!(rec.encode(), (key.clone(), value.clone()), "{name}");
        assert_eq!(
            cr::decode(key, value.as_deref()).unwrap(),
            Decoded::ConsumerGroup(rec),
            "{name}"
        );
    }
}
