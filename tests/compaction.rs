//! The log cleaner against the real binary: a compacted topic whose one key is overwritten a
//! million times stays within a few segments of disk, and librdkafka reading it from zero sees
//! the latest value of every key, tombstones gone after delete.retention.ms; a broker killed
//! while it cleans comes back with every acknowledged key; `__consumer_offsets` is compacted
//! and the last commit of every group survives; transaction markers are cleaned away as
//! Kafka cleans them (KIP-534).

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use kafka_protocol::messages::{
    incremental_alter_configs_request as iacq, offset_commit_request as ocq,
    offset_fetch_request as ofq, GroupId, IncrementalAlterConfigsRequest, OffsetCommitRequest,
    OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

const WAIT: Duration = Duration::from_secs(60);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn create(c: &mut Client, name: &str, configs: &[(&str, &str)]) {
    create_topic_with(c, name, configs);
}

/// Compacted, rolling at Kafka's smallest segment, cleaned as soon as anything is dirty, the
/// replaced segments' files removed at once (not file.delete.delay.ms later).
const COMPACTED: &[(&str, &str)] = &[
    ("cleanup.policy", "compact"),
    ("file.delete.delay.ms", "0"),
    ("segment.bytes", "1048576"),
    ("min.cleanable.dirty.ratio", "0.01"),
    ("delete.retention.ms", "0"),
];

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

fn produce(c: &mut Client, topic: &str, records: &[(&str, Option<String>)]) {
    let mut b = BatchBuilder::new(0, 1_700_000_000_000);
    for (k, v) in records {
        b.push(Some(k.as_bytes()), v.as_deref().map(str::as_bytes), &[]);
    }
    let resp = c.produce(&[(topic, vec![(0, Some(b.finish()))])]);
    assert_eq!(resp.partition(topic, 0).error_code, NONE);
}

/// Reads the partition from offset 0 to its end with librdkafka: the last value of every key
/// (None for a tombstone) and how many records came.
fn latest_values(
    addr: std::net::SocketAddr,
    topic: &str,
) -> (HashMap<String, Option<String>>, usize) {
    let mut cfg = rdkafka_config(addr);
    cfg.set("group.id", "reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("fetch.wait.max.ms", "100");
    let consumer: BaseConsumer = cfg.create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning).unwrap();
    consumer.assign(&tpl).unwrap();
    let deadline = Instant::now() + WAIT;
    let (mut latest, mut n, mut last_offset) = (HashMap::new(), 0, -1);
    loop {
        assert!(Instant::now() < deadline, "no end of partition within {WAIT:?}");
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                assert!(m.offset() > last_offset, "offsets ascend");
                last_offset = m.offset();
                let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
                let value = m.payload().map(|v| String::from_utf8(v.to_vec()).unwrap());
                latest.insert(key, value);
                n += 1;
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => return (latest, n),
            Some(Err(e)) => panic!("{e}"),
            None => {}
        }
    }
}

#[test]
fn one_key_overwritten_a_million_times_keeps_its_disk_bounded() {
    let dir = TempDir::new("compact-million");
    let b = Broker::start_with(dir.path(), &["log.cleaner.backoff.ms=20"]);
    let mut c = b.connect();
    create(&mut c, "hot", COMPACTED);
    let part = dir.join("hot-0");
    // 1,000 batches of 1,000 records: the one key "hot" a million times with 40-byte values,
    // ten keys more once a batch, and a key deleted halfway. The cleaner shares the loop with
    // the writer, taking a share of each turn in proportion to what the turn appended, so it
    // keeps up with writers at the speed of a release build; this test's debug build is
    // several times slower, so the writer paces itself: whenever the partition is over 3 MiB
    // it waits (with a deadline) until the cleaner has brought it back under.
    let mut peak = 0;
    let mut waits = 0;
    for batch in 0..1000 {
        let mut recs: Vec<(&str, Option<String>)> = Vec::with_capacity(1000);
        let cold = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];
        for k in cold {
            recs.push((k, Some(format!("{k}@{batch}"))));
        }
        if batch == 10 {
            recs.push(("doomed", Some("alive".into())));
        }
        if batch == 500 {
            recs.push(("doomed", None));
        }
        while recs.len() < 1000 {
            let i = batch * 1000 + recs.len();
            recs.push(("hot", Some(format!("{i:040}"))));
        }
        produce(&mut c, "hot", &recs);
        peak = peak.max(dir_bytes(&part));
        if dir_bytes(&part) > 3 << 20 {
            waits += 1;
            assert!(
                eventually(WAIT, || dir_bytes(&part) <= 3 << 20),
                "the cleaner never caught up"
            );
        }
    }
    // About 60 MB were written; what is on disk never came near it.
    assert!(peak < 4 << 20, "peak disk use {peak} bytes");
    eprintln!("the writer waited {waits} times for the cleaner");
    // Everything below the active segment gets cleaned: wait for the checkpoint to pass the
    // last rolled segment, and for the tombstone to go (its second cleaning).
    let deadline = Instant::now() + WAIT;
    let (latest, n) = loop {
        let (latest, n) = latest_values(b.addr, "hot");
        if !latest.contains_key("doomed") || Instant::now() > deadline {
            break (latest, n);
        }
        // More dirt, so the cleaner runs again past the tombstone's horizon.
        produce(&mut c, "hot", &[("hot", Some(format!("{:040}", 999_999)))]);
    };
    let want_hot = format!("{:040}", 999_999);
    assert_eq!(latest.get("hot"), Some(&Some(want_hot)));
    for k in 0..10 {
        assert_eq!(latest[&format!("c{k}")], Some(format!("c{k}@999")));
    }
    assert!(!latest.contains_key("doomed"), "the tombstone went after delete.retention.ms");
    assert!(n < 60_000, "{n} records read: the log was compacted");
    eprintln!("peak disk use {peak} bytes; {n} records left to read");
    let checkpoint = fs::read_to_string(dir.join("cleaner-offset-checkpoint")).unwrap();
    assert!(checkpoint.lines().any(|l| l.starts_with("hot 0 ")), "{checkpoint}");
    assert!(b.logs.lines().iter().any(|l| l.contains("hot-0: cleaned up to offset")));
}

#[test]
fn a_broker_killed_while_cleaning_keeps_every_key() {
    let dir = TempDir::new("compact-kill");
    let b = Broker::start_with(dir.path(), &["log.cleaner.backoff.ms=10"]);
    let mut c = b.connect();
    create(&mut c, "k", COMPACTED);
    let mut want: HashMap<String, Option<String>> = HashMap::new();
    for batch in 0..120 {
        let recs: Vec<(String, Option<String>)> = (0..500)
            .map(|i| (format!("key{}", (batch * 7 + i) % 1500), Some(format!("{batch}:{i:060}"))))
            .collect();
        for (k, v) in &recs {
            want.insert(k.clone(), v.clone());
        }
        let refs: Vec<(&str, Option<String>)> =
            recs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        produce(&mut c, "k", &refs);
    }
    // Killed as soon as a cleaning is under way: whatever file state that leaves must open.
    b.logs.wait_for(WAIT, |l| l.contains("k-0: cleaning offsets")).expect("a cleaning starts");
    b.kill();
    let b = Broker::start(dir.path());
    let (latest, _) = latest_values(b.addr, "k");
    assert_eq!(latest, want);
    let names: Vec<String> = fs::read_dir(dir.join("k-0"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".cleaned") || n.ends_with(".swap")), "{names:?}");
}

fn commit(c: &mut Client, group: &str, topic: &str, offsets: &[(i32, i64)]) {
    let parts = offsets
        .iter()
        .map(|&(p, o)| {
            ocq::OffsetCommitRequestPartition::default()
                .with_partition_index(p)
                .with_committed_offset(o)
        })
        .collect();
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(s(""))
        .with_topics(vec![ocq::OffsetCommitRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(parts)]);
    let r = c.kp_call(8, &req);
    assert!(r.topics.iter().flat_map(|t| &t.partitions).all(|p| p.error_code == NONE), "{r:?}");
}

fn committed(c: &mut Client, group: &str, topic: &str, partitions: &[i32]) -> Vec<i64> {
    let req =
        OffsetFetchRequest::default().with_groups(vec![ofq::OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s(group)))
            .with_topics(Some(vec![ofq::OffsetFetchRequestTopics::default()
                .with_name(TopicName(s(topic)))
                .with_partition_indexes(partitions.to_vec())]))]);
    let r = c.kp_call(9, &req);
    r.groups[0].topics[0].partitions.iter().map(|p| p.committed_offset).collect()
}

#[test]
fn consumer_offsets_are_compacted_and_the_last_commits_survive() {
    let dir = TempDir::new("compact-offsets");
    let b = Broker::start_with(
        dir.path(),
        &["log.cleaner.backoff.ms=20", "offsets.topic.num.partitions=1"],
    );
    let mut c = b.connect();
    create(&mut c, "t", &[]);
    commit(&mut c, "g0", "t", &[(0, 0)]);
    // Kafka lets an operator tune the offsets topic like any other; small segments here.
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        iacq::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s("__consumer_offsets"))
            .with_configs(
                [
                    ("segment.bytes", "1048576"),
                    ("min.cleanable.dirty.ratio", "0.01"),
                    ("file.delete.delay.ms", "0"),
                ]
                .iter()
                .map(|(k, v)| {
                    iacq::AlterableConfig::default()
                        .with_name(s(k))
                        .with_config_operation(0)
                        .with_value(Some(s(v)))
                })
                .collect(),
            ),
    ]);
    assert_eq!(c.kp_call(1, &req).responses[0].error_code, NONE);
    // About 3 MB of commits: three groups, each committing its partition over and over.
    for i in 0..24_000i64 {
        commit(&mut c, &format!("g{}", i % 3), "t", &[(0, i)]);
    }
    let part = dir.join("__consumer_offsets-0");
    b.logs
        .wait_for(WAIT, |l| l.contains("__consumer_offsets-0: cleaned up to offset"))
        .expect("the offsets topic is cleaned");
    let left = dir_bytes(&part);
    eprintln!("offsets partition: {left} bytes after cleaning");
    assert!(left < 2 << 20, "{left} bytes");
    drop(c);
    b.stop();
    // The coordinator loads what compaction left: each group's last commit.
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    assert_eq!(committed(&mut c, "g0", "t", &[0]), [23_997]);
    assert_eq!(committed(&mut c, "g1", "t", &[0]), [23_998]);
    assert_eq!(committed(&mut c, "g2", "t", &[0]), [23_999]);
}

/// (base offset, COMMIT/ABORT marker?) of every batch in the partition's segment files, or
/// None while a file is being swapped.
fn batches_on_disk(dir: &Path) -> Option<Vec<(i64, bool)>> {
    let mut logs: Vec<_> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    let mut out = Vec::new();
    for p in logs {
        let bytes = fs::read(p).ok()?;
        let mut rest = &bytes[..];
        while rest.len() >= 61 {
            let total = i32::from_be_bytes(rest[8..12].try_into().unwrap()) as usize + 12;
            let base = i64::from_be_bytes(rest[..8].try_into().unwrap());
            out.push((base, i16::from_be_bytes([rest[21], rest[22]]) & 0x20 != 0));
            rest = &rest[total.min(rest.len())..];
        }
    }
    Some(out)
}

/// Transaction markers go as Kafka's cleaner removes them: librdkafka commits one
/// transaction, aborts one, commits a last one; after enough cleanings (each let in by a
/// segment's worth of other keys) only the last transaction's marker is left (its record is
/// the producer's last, so it stays), and read_committed readers, before and after a restart,
/// see every committed key's latest value and nothing of the aborted transaction.
#[test]
fn transaction_markers_are_cleaned_away() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let dir = TempDir::new("compact-txn");
    let b = Broker::start_with(dir.path(), &["log.cleaner.backoff.ms=10"]);
    let mut c = b.connect();
    create(&mut c, "tx", COMPACTED);
    let mut cfg = rdkafka_config(b.addr);
    cfg.set("transactional.id", "compact-txn").set("linger.ms", "0");
    let p: BaseProducer = cfg.create().unwrap();
    p.init_transactions(WAIT).unwrap();
    for (key, commit) in [("committed", true), ("aborted", false), ("last", true)] {
        p.begin_transaction().unwrap();
        p.send(BaseRecord::to("tx").partition(0).key(key).payload("txn")).unwrap();
        if commit {
            p.commit_transaction(WAIT).unwrap();
        } else {
            p.flush(WAIT).unwrap();
            p.abort_transaction(WAIT).unwrap();
        }
    }
    produce(&mut c, "tx", &[("committed", Some("plain".into()))]);
    let part = dir.join("tx-0");
    let markers = |kinds: &[(i64, bool)]| kinds.iter().filter(|k| k.1).count();
    assert_eq!(batches_on_disk(&part).map(|k| markers(&k)), Some(3));
    // A round needs a closed dirty segment: 1 MiB of filler keys each time.
    let mut round = 0;
    while batches_on_disk(&part).is_none_or(|k| markers(&k) > 1) {
        round += 1;
        assert!(round <= 8, "markers left after {round} rounds: {:?}", batches_on_disk(&part));
        let from = b.logs.count();
        for batch in 0..30 {
            let recs: Vec<(String, Option<String>)> = (0..500)
                .map(|i| (format!("f{}", i % 100), Some(format!("{batch}:{i:060}"))))
                .collect();
            let refs: Vec<(&str, Option<String>)> =
                recs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            produce(&mut c, "tx", &refs);
        }
        b.logs
            .wait_for_from(from, WAIT, |l| l.contains("tx-0: cleaned up to offset"))
            .unwrap_or_else(|| panic!("round {round}: no cleaning"));
    }
    // One cleaning drops the records, the next finds the markers alone and gives them their
    // horizon, a third removes them.
    let cleanings = b.logs.lines().iter().filter(|l| l.contains("tx-0: cleaned up to")).count();
    assert!(cleanings >= 3, "{cleanings} cleanings");
    let kinds = batches_on_disk(&part).unwrap();
    assert_eq!(markers(&kinds), 1, "{kinds:?}");
    let check = |addr| {
        let (latest, _) = latest_values(addr, "tx");
        assert_eq!(latest.get("committed"), Some(&Some("plain".to_string())));
        assert_eq!(latest.get("last"), Some(&Some("txn".to_string())));
        assert!(!latest.contains_key("aborted"));
    };
    check(b.addr);
    drop(p);
    b.kill();
    let b = Broker::start(dir.path());
    check(b.addr);
}
