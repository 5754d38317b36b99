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
/// learn of a new target assignment on their next heartbeat. 500 ms keeps the session short
/// and the measured times about the group rather than the interval.
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
            ConsumerGroupRecord::GroupMetadata { value: Some(v), .. } => {
                hashes += usize::from(v.metadata_hash != 0);
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
}
