//! Retention and the log-level admin APIs against the real binary: segments deleted by
//! retention.ms and retention.bytes at the check interval, the log start offset they move
//! (ListOffsets earliest, Fetch's `log_start_offset` and OFFSET_OUT_OF_RANGE below it, its
//! checkpoint across a crash), librdkafka's `auto.offset.reset` from there, and DeleteRecords
//! v0-2, OffsetForLeaderEpoch v2-4 and DescribeLogDirs v1-4 with kafka-protocol as the codec,
//! and librdkafka's `delete_records`; the `.deleted` files of deleted segments, removed
//! file.delete.delay.ms later or at the next start; flush.messages syncs before the answer;
//! segment.jitter.ms rolling sooner;
//! idempotent producers' state kept when the log start moves past their batches.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use kafka_protocol::messages::{
    delete_records_request as drq, describe_log_dirs_request as dlq,
    incremental_alter_configs_request as iacq, list_offsets_request as loq,
    offset_for_leader_epoch_request as oeq, BrokerId, DeleteRecordsRequest, DescribeLogDirsRequest,
    IncrementalAlterConfigsRequest, InitProducerIdRequest, ListOffsetsRequest,
    OffsetForLeaderEpochRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

const OFFSET_OUT_OF_RANGE: i16 = 1;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const POLICY_VIOLATION: i16 = 44;
const FENCED_LEADER_EPOCH: i16 = 74;
const UNKNOWN_LEADER_EPOCH: i16 = 75;

/// Long enough for a check to run on a machine shared with builds.
const WAIT: Duration = Duration::from_secs(30);

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn tn(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

/// One batch of `n` records of `size` bytes each, all at timestamp `ts`.
fn stamped(ts: i64, n: usize, size: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts);
    let v = vec![b'r'; size];
    for _ in 0..n {
        b.push(None, Some(&v), &[]);
    }
    b.finish()
}

fn produce(c: &mut Client, topic: &str, partition: i32, batch: Vec<u8>) -> i64 {
    let resp = c.produce(&[(topic, vec![(partition, Some(batch))])]);
    let p = resp.partition(topic, partition);
    assert_eq!(p.error_code, NONE, "{p:?}");
    p.base_offset
}

fn earliest(c: &mut Client, topic: &str, partition: i32) -> i64 {
    let req = ListOffsetsRequest::default().with_replica_id(BrokerId(-1)).with_topics(vec![
        loq::ListOffsetsTopic::default().with_name(tn(topic)).with_partitions(vec![
            loq::ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_current_leader_epoch(-1)
                .with_timestamp(-2),
        ]),
    ]);
    let resp = c.kp_call(9, &req);
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, NONE);
    p.offset
}

fn segments(dir: &Path, topic: &str, partition: i32) -> Vec<i64> {
    let mut v: Vec<i64> = fs::read_dir(dir.join(format!("{topic}-{partition}")))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".log").and_then(|s| s.parse().ok())
        })
        .collect();
    v.sort();
    v
}

/// The overrides of a broker that checks retention every 100 ms from the start.
fn quick(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["log.initial.task.delay.ms=0", "log.retention.check.interval.ms=100"];
    v.extend_from_slice(extra);
    v
}

#[test]
fn retention_ms_deletes_old_segments_moves_the_start_and_keeps_it_across_a_crash() {
    let tmp = TempDir::new("ret-ms");
    let ids = make_log_dir(tmp.path(), &[("aged", 1)]);
    let overrides = quick(&["log.retention.hours=1", "log.segment.bytes=3000"]);
    let broker = Broker::start_with(tmp.path(), &overrides);
    let mut c = broker.connect();
    // Two days old, then fresh: two batches fill a segment, so the old ones fill two of their
    // own and the fresh one starts the third.
    let old = now_ms() - 2 * 24 * 3600 * 1000;
    for _ in 0..4 {
        produce(&mut c, "aged", 0, stamped(old, 2, 600));
    }
    let fresh = produce(&mut c, "aged", 0, stamped(now_ms(), 2, 600));
    assert_eq!(fresh, 8);
    assert!(
        eventually(WAIT, || segments(tmp.path(), "aged", 0) == [8]),
        "old segments deleted: {:?}",
        segments(tmp.path(), "aged", 0)
    );
    assert_eq!(earliest(&mut c, "aged", 0), 8);
    let below = c.fetch_one(ids[0], 0, 2);
    assert_eq!(below.error_code, OFFSET_OUT_OF_RANGE);
    let at = c.fetch_one(ids[0], 0, 8);
    assert_eq!((at.error_code, at.log_start_offset, at.high_watermark), (NONE, 8, 10));
    assert_eq!(base_offset_of(at.records()), 8);
    // The checkpoint is written as the start moves, not only at a clean shutdown.
    let ckpt = || fs::read_to_string(tmp.join("log-start-offset-checkpoint")).unwrap_or_default();
    assert!(eventually(WAIT, || ckpt().contains("aged 0 8")), "{}", ckpt());
    drop(c);
    drop(broker); // killed: no clean shutdown
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(earliest(&mut c, "aged", 0), 8, "the start survives a crash");
    assert_eq!(c.fetch_one(ids[0], 0, 0).error_code, OFFSET_OUT_OF_RANGE);
}

fn create_topic(c: &mut Client, name: &str, configs: &[(&str, &str)]) -> [u8; 16] {
    create_topic_with(c, name, configs)
}

/// The files of `topic`-`partition` ending in `.deleted`, sorted.
fn deleted_files(dir: &Path, topic: &str, partition: i32) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir.join(format!("{topic}-{partition}")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".deleted"))
        .collect();
    v.sort();
    v
}

#[test]
fn deleted_segments_linger_as_deleted_files_for_file_delete_delay_ms() {
    let tmp = TempDir::new("ret-deleted");
    let overrides = quick(&["log.retention.hours=1", "log.segment.bytes=3000"]);
    let broker = Broker::start_with(tmp.path(), &overrides);
    let mut c = broker.connect();
    // `slow` keeps the broker's log.segment.delete.delay.ms (Kafka's minute); `fast` has its
    // own file.delete.delay.ms.
    create_topic(&mut c, "slow", &[]);
    create_topic(&mut c, "fast", &[("file.delete.delay.ms", "200")]);
    let old = now_ms() - 2 * 24 * 3600 * 1000;
    for t in ["slow", "fast"] {
        for _ in 0..2 {
            produce(&mut c, t, 0, stamped(old, 2, 600));
        }
        produce(&mut c, t, 0, stamped(now_ms(), 2, 600));
        assert!(eventually(WAIT, || segments(tmp.path(), t, 0) == [4]), "{t}");
    }
    let expected: Vec<String> = ["index", "log", "timeindex"]
        .iter()
        .map(|ext| format!("00000000000000000000.{ext}.deleted"))
        .collect();
    assert_eq!(deleted_files(tmp.path(), "slow", 0), expected, "renamed, as Kafka does");
    assert!(
        eventually(WAIT, || deleted_files(tmp.path(), "fast", 0).is_empty()),
        "fast's removed after 200 ms: {:?}",
        deleted_files(tmp.path(), "fast", 0)
    );
    assert_eq!(deleted_files(tmp.path(), "slow", 0), expected, "slow's still waiting");
    assert_eq!(earliest(&mut c, "slow", 0), 4);
    drop(c);
    drop(broker); // killed before the minute is up
    let broker = Broker::start(tmp.path());
    assert!(deleted_files(tmp.path(), "slow", 0).is_empty(), "leftovers removed at start-up");
    let mut c = broker.connect();
    assert_eq!(earliest(&mut c, "slow", 0), 4);
    assert_eq!(produce(&mut c, "slow", 0, stamped(now_ms(), 1, 10)), 6);
}

#[test]
fn a_topic_with_flush_messages_1_syncs_every_produce_before_answering() {
    let tmp = TempDir::new("flush-messages");
    let filter = "info,minikafka::storage::partition=debug";
    let broker = Broker::start_logging(tmp.path(), &[], filter);
    let mut c = broker.connect();
    let id = create_topic(&mut c, "synced", &[("flush.messages", "1")]);
    create_topic(&mut c, "lazy", &[]);
    for i in 0..3 {
        assert_eq!(produce(&mut c, "synced", 0, stamped(now_ms(), 2, 10)), 2 * i);
        assert_eq!(produce(&mut c, "lazy", 0, stamped(now_ms(), 2, 10)), 2 * i);
    }
    let flushed = |topic: &str| {
        let dir = format!("{topic}-0: flushing log up to offset");
        broker.logs.lines().iter().filter(|l| l.contains(&dir)).count()
    };
    // The line is logged before the sync and the sync comes before the answer: all three are
    // there by now, give or take the reader thread.
    let line = broker.logs.wait_for(WAIT, |l| l.contains("synced-0: flushing log up to offset 6"));
    assert!(line.is_some(), "{}", broker.logs.lines().join("\n"));
    assert_eq!(flushed("synced"), 3);
    assert_eq!(flushed("lazy"), 0, "Kafka's default leaves syncing to the OS");
    // Changed while the topic is in use: from the next produce on.
    let set = iacq::AlterableConfig::default()
        .with_name(StrBytes::from_static_str("flush.messages"))
        .with_config_operation(0)
        .with_value(Some(StrBytes::from_static_str("4")));
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        iacq::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str("lazy"))
            .with_configs(vec![set]),
    ]);
    assert_eq!(c.kp_call(1, &req).responses[0].error_code, NONE);
    // Everything past the recovery point counts, not only what came after the change.
    produce(&mut c, "lazy", 0, stamped(now_ms(), 1, 10));
    let line = broker.logs.wait_for(WAIT, |l| l.contains("lazy-0: flushing log up to offset 7"));
    assert!(line.is_some(), "{}", broker.logs.lines().join("\n"));
    assert_eq!(flushed("lazy"), 1);
    let got = c.fetch_one(id, 0, 0);
    assert_eq!((got.error_code, got.high_watermark), (NONE, 6));
}

/// Batches 900 ms apart by timestamp with segment.ms=1000: two to a segment, unless the
/// segment's jitter (uniform below segment.jitter.ms=1000) exceeds 100 ms, which nine
/// segments in ten draw: then one. Forty batches make twenty segments without jitter, and
/// about thirty-six with it (twenty or fewer: a chance of about 1e-12).
#[test]
fn segment_jitter_ms_rolls_segments_sooner() {
    let tmp = TempDir::new("roll-jitter");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    create_topic(&mut c, "steady", &[("segment.ms", "1000")]);
    create_topic(&mut c, "jittery", &[("segment.ms", "1000"), ("segment.jitter.ms", "1000")]);
    let start = now_ms() - 3600 * 1000;
    for i in 0..40 {
        for t in ["steady", "jittery"] {
            produce(&mut c, t, 0, stamped(start + i * 900, 1, 10));
        }
    }
    assert_eq!(segments(tmp.path(), "steady", 0).len(), 20);
    let jittery = segments(tmp.path(), "jittery", 0).len();
    assert!(jittery > 20, "{jittery} segments");
}

#[test]
fn retention_ms_takes_the_active_segment_too_by_rolling_first() {
    let tmp = TempDir::new("ret-all");
    make_log_dir(tmp.path(), &[("gone", 1)]);
    let broker = Broker::start_with(tmp.path(), &quick(&["log.retention.ms=60000"]));
    let mut c = broker.connect();
    // The fixed timestamp of the tests is long past a minute.
    produce(&mut c, "gone", 0, batch(0, &[b"a", b"b", b"c"]));
    assert!(eventually(WAIT, || segments(tmp.path(), "gone", 0) == [3]));
    assert_eq!(earliest(&mut c, "gone", 0), 3);
    assert_eq!(produce(&mut c, "gone", 0, stamped(now_ms(), 1, 10)), 3);
}

#[test]
fn retention_bytes_keeps_a_partition_within_its_limit() {
    let tmp = TempDir::new("ret-bytes");
    make_log_dir(tmp.path(), &[("sized", 1)]);
    let broker = Broker::start_with(
        tmp.path(),
        &quick(&["log.retention.bytes=4000", "log.segment.bytes=2000"]),
    );
    let mut c = broker.connect();
    for _ in 0..20 {
        produce(&mut c, "sized", 0, stamped(now_ms(), 1, 400));
    }
    let size = |d: &Path| -> u64 {
        fs::read_dir(d.join("sized-0"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
            // A segment renamed to .deleted between the listing and the stat no longer counts.
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
    // Kafka's rule: whole segments go while what is left stays at or above the limit.
    assert!(eventually(WAIT, || size(tmp.path()) <= 4000 + 2000), "{}", size(tmp.path()));
    let segs = segments(tmp.path(), "sized", 0);
    assert!(segs[0] > 0, "{segs:?}");
    assert_eq!(earliest(&mut c, "sized", 0), segs[0]);
    // Without a check, nothing more goes: size stays above the limit minus a segment.
    assert!(size(tmp.path()) > 4000 - 2000);
}

#[test]
fn unlimited_retention_deletes_nothing() {
    let tmp = TempDir::new("ret-none");
    make_log_dir(tmp.path(), &[("kept", 2)]);
    let broker =
        Broker::start_with(tmp.path(), &quick(&["log.retention.ms=-1", "log.segment.bytes=1000"]));
    let mut c = broker.connect();
    for p in 0..2 {
        for i in 0..6 {
            produce(&mut c, "kept", p, batch(i, &[&[b'x'; 500]]));
        }
    }
    // Partition 1's start moved: once a check has deleted its first segments, partition 0
    // has been checked too (every partition, every pass), and kept all its old records.
    assert_eq!(delete_records(&mut c, 0, &[("kept", 1, 2)])[0].2, 2);
    assert!(eventually(WAIT, || segments(tmp.path(), "kept", 1)[0] == 2));
    assert_eq!(earliest(&mut c, "kept", 0), 0);
    assert_eq!(segments(tmp.path(), "kept", 0), [0, 1, 2, 3, 4, 5]);
}

// ----- DeleteRecords ---------------------------------------------------------------------------

fn delete_records(
    c: &mut Client,
    version: i16,
    parts: &[(&str, i32, i64)],
) -> Vec<(String, i32, i64, i16)> {
    let mut topics: Vec<drq::DeleteRecordsTopic> = Vec::new();
    for (t, p, o) in parts {
        let part = drq::DeleteRecordsPartition::default().with_partition_index(*p).with_offset(*o);
        match topics.iter_mut().find(|x| x.name.0.as_str() == *t) {
            Some(x) => x.partitions.push(part),
            None => topics.push(
                drq::DeleteRecordsTopic::default().with_name(tn(t)).with_partitions(vec![part]),
            ),
        }
    }
    let req = DeleteRecordsRequest::default().with_topics(topics).with_timeout_ms(30_000);
    let resp = c.kp_call(version, &req);
    assert_eq!(resp.throttle_time_ms, 0);
    resp.topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(move |p| {
                (t.name.0.to_string(), p.partition_index, p.low_watermark, p.error_code)
            })
        })
        .collect()
}

#[test]
fn delete_records_every_version() {
    let tmp = TempDir::new("dr-all");
    let ids = make_log_dir(tmp.path(), &[("dr", 3)]);
    let broker = Broker::start_with(tmp.path(), &["log.segment.bytes=1000"]);
    let mut c = broker.connect();
    for p in 0..3 {
        for i in 0..10 {
            produce(&mut c, "dr", p, batch(i, &[&[b'd'; 300]]));
        }
    }
    for v in 0..=2i16 {
        let p = v as i32;
        let got = delete_records(&mut c, v, &[("dr", p, 4), ("dr", 9, 1), ("nope", 0, 1)]);
        assert_eq!(
            got,
            [
                ("dr".to_string(), p, 4, NONE),
                ("dr".to_string(), 9, -1, UNKNOWN_TOPIC_OR_PARTITION),
                ("nope".to_string(), 0, -1, UNKNOWN_TOPIC_OR_PARTITION),
            ],
            "v{v}"
        );
        // Never backwards; past the high watermark is out of range; -1 is the high watermark.
        assert_eq!(delete_records(&mut c, v, &[("dr", p, 2)])[0].2, 4, "v{v}");
        assert_eq!(delete_records(&mut c, v, &[("dr", p, 11)])[0].3, OFFSET_OUT_OF_RANGE);
        assert_eq!(earliest(&mut c, "dr", p), 4);
        let f = c.fetch_one(ids[0], p, 3);
        assert_eq!(f.error_code, OFFSET_OUT_OF_RANGE, "v{v}");
        let f = c.fetch_one(ids[0], p, 4);
        assert_eq!((f.error_code, f.log_start_offset), (NONE, 4), "v{v}");
        assert_eq!(delete_records(&mut c, v, &[("dr", p, -1)])[0], ("dr".into(), p, 10, NONE));
        assert_eq!(earliest(&mut c, "dr", p), 10);
    }
    // The segments below the start stay until retention's next check (300 s here), as in
    // Kafka; the checkpoint has the start at once.
    assert_eq!(segments(tmp.path(), "dr", 0)[0], 0);
    let ckpt = fs::read_to_string(tmp.join("log-start-offset-checkpoint")).unwrap();
    assert!(ckpt.contains("dr 0 10") && ckpt.contains("dr 2 10"), "{ckpt}");
}

#[test]
fn delete_records_segments_go_at_the_next_check_and_the_start_survives_restarts() {
    let tmp = TempDir::new("dr-check");
    let ids = make_log_dir(tmp.path(), &[("drc", 1)]);
    let broker =
        Broker::start_with(tmp.path(), &quick(&["log.segment.bytes=1000", "log.retention.ms=-1"]));
    let mut c = broker.connect();
    for i in 0..6 {
        produce(&mut c, "drc", 0, batch(i, &[&[b'd'; 500]]));
    }
    assert_eq!(delete_records(&mut c, 1, &[("drc", 0, 3)])[0].2, 3);
    assert!(eventually(WAIT, || segments(tmp.path(), "drc", 0) == [3, 4, 5]));
    drop(c);
    drop(broker);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert_eq!(earliest(&mut c, "drc", 0), 3);
    assert_eq!(c.fetch_one(ids[0], 0, 2).error_code, OFFSET_OUT_OF_RANGE);
    assert_eq!(base_offset_of(c.fetch_one(ids[0], 0, 3).records()), 3);
}

/// An idempotent batch of `n` records of 1000 bytes at sequence `seq`.
fn idempotent(pid: i64, seq: i32, n: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, now_ms()).producer(pid, 0, seq);
    for _ in 0..n {
        b.push(None, Some(&[b'p'; 1000]), &[]);
    }
    b.finish()
}

fn produce_result(c: &mut Client, topic: &str, batch: Vec<u8>) -> (i16, i64) {
    let resp = c.produce(&[(topic, vec![(0, Some(batch))])]);
    let p = resp.partition(topic, 0);
    (p.error_code, p.base_offset)
}

/// As Kafka (`ProducerStateManager.onLogStartOffsetIncremented` trims transactions, not
/// producers): a producer whose batches all lie below the new log start offset, their
/// segment deleted, is still known. A gap is out of order, a retry a duplicate answered with
/// its offset, and the next sequence is taken. The differential scenario "delete_records: an
/// idempotent producer's state outlives its records" checks the same against Kafka.
#[test]
fn delete_records_keeps_the_state_of_producers_below_the_new_start() {
    const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
    let tmp = TempDir::new("dr-producer");
    make_log_dir(tmp.path(), &[("pstate", 1)]);
    let broker = Broker::start_with(tmp.path(), &quick(&["log.segment.bytes=3000"]));
    let mut c = broker.connect();
    let init = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000);
    let r = c.kp_call(4, &init);
    assert_eq!(r.error_code, NONE, "{r:?}");
    let pid = r.producer_id.0;
    assert_eq!(produce_result(&mut c, "pstate", idempotent(pid, 0, 2)), (NONE, 0));
    assert_eq!(produce_result(&mut c, "pstate", idempotent(pid, 2, 2)), (NONE, 2));
    assert_eq!(segments(tmp.path(), "pstate", 0), [0, 2]);
    assert_eq!(delete_records(&mut c, 2, &[("pstate", 0, -1)])[0].2, 4);
    assert!(eventually(WAIT, || segments(tmp.path(), "pstate", 0) == [2]));
    let gap = produce_result(&mut c, "pstate", idempotent(pid, 9, 1));
    assert_eq!(gap.0, OUT_OF_ORDER_SEQUENCE_NUMBER, "still expecting sequence 4");
    assert_eq!(produce_result(&mut c, "pstate", idempotent(pid, 2, 2)), (NONE, 2), "a retry");
    assert_eq!(produce_result(&mut c, "pstate", idempotent(pid, 4, 1)), (NONE, 4));
    assert_eq!(earliest(&mut c, "pstate", 0), 4);
}

#[test]
fn delete_records_refuses_a_compacted_topic() {
    let tmp = TempDir::new("dr-compact");
    make_log_dir(tmp.path(), &[("__consumer_offsets", 1)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let got = delete_records(&mut c, 2, &[("__consumer_offsets", 0, 0)]);
    assert_eq!(got[0].3, POLICY_VIOLATION);
}

// ----- OffsetForLeaderEpoch --------------------------------------------------------------------

fn epoch_end(
    c: &mut Client,
    version: i16,
    topic: &str,
    partition: i32,
    current: i32,
    epoch: i32,
) -> (i16, i32, i64) {
    let req =
        OffsetForLeaderEpochRequest::default().with_replica_id(BrokerId(-1)).with_topics(vec![
            oeq::OffsetForLeaderTopic::default().with_topic(tn(topic)).with_partitions(vec![
                oeq::OffsetForLeaderPartition::default()
                    .with_partition(partition)
                    .with_current_leader_epoch(current)
                    .with_leader_epoch(epoch),
            ]),
        ]);
    let resp = c.kp_call(version, &req);
    assert_eq!(resp.throttle_time_ms, 0);
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.partition, partition);
    (p.error_code, p.leader_epoch, p.end_offset)
}

#[test]
fn offset_for_leader_epoch_every_version() {
    let tmp = TempDir::new("oe-all");
    make_log_dir(tmp.path(), &[("ep", 2)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for i in 0..3 {
        produce(&mut c, "ep", 0, batch(i, &[b"x", b"y"]));
    }
    for v in 2..=4 {
        assert_eq!(epoch_end(&mut c, v, "ep", 0, -1, 0), (NONE, 0, 6), "v{v}");
        assert_eq!(epoch_end(&mut c, v, "ep", 0, 0, 0), (NONE, 0, 6), "v{v}");
        // Nothing written yet: the current epoch still ends at the log end.
        assert_eq!(epoch_end(&mut c, v, "ep", 1, 0, 0), (NONE, 0, 0), "v{v}");
        assert_eq!(epoch_end(&mut c, v, "ep", 0, -1, 1), (NONE, -1, -1), "v{v}");
        assert_eq!(epoch_end(&mut c, v, "ep", 0, -1, -1), (NONE, -1, -1), "v{v}");
        assert_eq!(epoch_end(&mut c, v, "ep", 0, 1, 0), (UNKNOWN_LEADER_EPOCH, -1, -1), "v{v}");
        assert_eq!(
            epoch_end(&mut c, v, "ep", 2, -1, 0),
            (UNKNOWN_TOPIC_OR_PARTITION, -1, -1),
            "v{v}"
        );
        assert_eq!(
            epoch_end(&mut c, v, "nope", 0, -1, 0),
            (UNKNOWN_TOPIC_OR_PARTITION, -1, -1),
            "v{v}"
        );
    }
}

/// Creates a one-partition topic whose partition record says leader epoch `epoch`.
fn led_in_epoch(dir: &Path, name: &str, epoch: i32) {
    use minikafka::metadata::{self, MetadataRecord};
    let mut cache = metadata::Cache::default();
    let mut log =
        metadata::log::MetadataLog::load(&dir.join(metadata::METADATA_DIR), &mut cache).unwrap();
    let id = minikafka::uuid::random();
    let mut recs = metadata::topic_records(name, id, 1, 1);
    for r in &mut recs {
        if let MetadataRecord::Partition(p) = r {
            p.leader_epoch = epoch;
        }
    }
    log.append(&recs).unwrap();
    minikafka::storage::create_partition_dir(&dir.join(format!("{name}-0")), &id).unwrap();
}

#[test]
fn offset_for_leader_epoch_fences_an_older_epoch() {
    // A partition led in epoch 2, as a partition whose leader changed twice in Kafka is.
    let tmp = TempDir::new("oe-fenced");
    make_log_dir(tmp.path(), &[]);
    led_in_epoch(tmp.path(), "moved", 2);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    produce(&mut c, "moved", 0, batch(0, &[b"x"]));
    assert_eq!(epoch_end(&mut c, 4, "moved", 0, 1, 0), (FENCED_LEADER_EPOCH, -1, -1));
    assert_eq!(epoch_end(&mut c, 4, "moved", 0, 2, 2), (NONE, 2, 1));
    // Older than any epoch in the cache: that epoch, ending where the first known begins.
    assert_eq!(epoch_end(&mut c, 4, "moved", 0, 2, 0), (NONE, 0, 0));
}

// ----- DescribeLogDirs -------------------------------------------------------------------------

#[test]
fn describe_log_dirs_every_version() {
    let tmp = TempDir::new("dld-all");
    make_log_dir(tmp.path(), &[("sizes", 2), ("other", 1)]);
    let broker = Broker::start_with(tmp.path(), &["log.segment.bytes=1000"]);
    let mut c = broker.connect();
    let mut written = 0;
    for i in 0..4 {
        let b = batch(i, &[&[b's'; 400]]);
        written += b.len() as i64;
        produce(&mut c, "sizes", 1, b);
    }
    let abs = fs::canonicalize(tmp.path()).unwrap();
    for v in 1..=4 {
        // Everything (null topics).
        let resp = c.kp_call(v, &DescribeLogDirsRequest::default().with_topics(None));
        assert_eq!((resp.throttle_time_ms, resp.error_code), (0, NONE), "v{v}");
        assert_eq!(resp.results.len(), 1);
        let d = &resp.results[0];
        assert_eq!(d.error_code, NONE);
        assert_eq!(Path::new(d.log_dir.as_str()), abs, "v{v}");
        let mut seen: Vec<(String, i32, i64, i64, bool)> = d
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(move |p| {
                    (
                        t.name.0.to_string(),
                        p.partition_index,
                        p.partition_size,
                        p.offset_lag,
                        p.is_future_key,
                    )
                })
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                ("other".to_string(), 0, 0, 0, false),
                ("sizes".to_string(), 0, 0, 0, false),
                ("sizes".to_string(), 1, written, 0, false),
            ],
            "v{v}"
        );
        if v >= 4 {
            assert!(d.total_bytes > 0 && d.usable_bytes > 0 && d.usable_bytes <= d.total_bytes);
        } else {
            assert_eq!((d.total_bytes, d.usable_bytes), (-1, -1), "absent before v4");
        }
        // Only what is asked for; unknown partitions and topics are left out.
        let req = DescribeLogDirsRequest::default().with_topics(Some(vec![
            dlq::DescribableLogDirTopic::default()
                .with_topic(tn("sizes"))
                .with_partitions(vec![1, 7]),
            dlq::DescribableLogDirTopic::default().with_topic(tn("nope")).with_partitions(vec![0]),
        ]));
        let resp = c.kp_call(v, &req);
        let d = &resp.results[0];
        assert_eq!(d.topics.len(), 1, "v{v}");
        assert_eq!(d.topics[0].name.0.as_str(), "sizes");
        let parts: Vec<(i32, i64)> =
            d.topics[0].partitions.iter().map(|p| (p.partition_index, p.partition_size)).collect();
        assert_eq!(parts, [(1, written)], "v{v}");
    }
}

// ----- librdkafka ------------------------------------------------------------------------------

mod rd {
    use std::net::SocketAddr;
    use std::time::Duration;

    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::BaseConsumer;

    pub fn config(addr: SocketAddr) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", addr.to_string())
            .set("broker.address.family", "v4")
            .set("reconnect.backoff.ms", "20")
            .set("retry.backoff.ms", "20");
        c
    }

    pub fn admin(addr: SocketAddr) -> AdminClient<DefaultClientContext> {
        config(addr).create().expect("admin client")
    }

    pub fn opts() -> AdminOptions {
        AdminOptions::new()
            .request_timeout(Some(Duration::from_secs(10)))
            .operation_timeout(Some(Duration::from_secs(10)))
    }

    pub fn consumer(addr: SocketAddr, reset: &str) -> BaseConsumer {
        config(addr)
            .set("group.id", "retention-reader")
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", reset)
            .set("fetch.wait.max.ms", "100")
            .set("fetch.error.backoff.ms", "50")
            .create()
            .expect("consumer")
    }
}

/// librdkafka asked to read from an offset that retention has deleted: the broker's
/// OFFSET_OUT_OF_RANGE sends it to `auto.offset.reset`, which finds the new start.
#[test]
fn librdkafka_resets_to_the_start_retention_moved() {
    use rdkafka::consumer::Consumer;
    use rdkafka::message::Message;
    use rdkafka::{Offset, TopicPartitionList};

    let tmp = TempDir::new("ret-rdkafka");
    make_log_dir(tmp.path(), &[("reset", 1)]);
    let broker = Broker::start_with(
        tmp.path(),
        &quick(&["log.retention.hours=1", "log.segment.bytes=3000"]),
    );
    let mut c = broker.connect();
    let old = now_ms() - 2 * 24 * 3600 * 1000;
    for _ in 0..4 {
        produce(&mut c, "reset", 0, stamped(old, 2, 600));
    }
    produce(&mut c, "reset", 0, stamped(now_ms(), 2, 600));
    assert!(eventually(WAIT, || earliest(&mut c, "reset", 0) == 8));

    let consumer = rd::consumer(broker.addr, "earliest");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("reset", 0, Offset::Offset(2)).unwrap();
    consumer.assign(&tpl).unwrap();
    let mut offsets = Vec::new();
    let mut errors = Vec::new();
    assert!(
        eventually(WAIT, || {
            match consumer.poll(Duration::from_millis(50)) {
                Some(Ok(m)) => offsets.push(m.offset()),
                Some(Err(e)) => errors.push(e.to_string()),
                None => {}
            }
            offsets.len() >= 2
        }),
        "consumed {offsets:?}, errors {errors:?}"
    );
    assert_eq!(offsets, [8, 9]);
}

#[test]
fn librdkafka_delete_records() {
    use rdkafka::{Offset, TopicPartitionList};

    let tmp = TempDir::new("dr-rdkafka");
    make_log_dir(tmp.path(), &[("rd-del", 2)]);
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    for p in 0..2 {
        for i in 0..3 {
            produce(&mut c, "rd-del", p, batch(i, &[b"a", b"b"]));
        }
    }
    let admin = rd::admin(broker.addr);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("rd-del", 0, Offset::Offset(4)).unwrap();
    tpl.add_partition_offset("rd-del", 1, Offset::End).unwrap();
    let got = block_on(admin.delete_records(&tpl, &rd::opts()), WAIT).expect("delete_records");
    let mut lows: Vec<(i32, Offset, bool)> =
        got.elements().iter().map(|e| (e.partition(), e.offset(), e.error().is_ok())).collect();
    lows.sort_by_key(|l| l.0);
    assert_eq!(lows, [(0, Offset::Offset(4), true), (1, Offset::Offset(6), true)]);
    assert_eq!(earliest(&mut c, "rd-del", 0), 4);
    assert_eq!(earliest(&mut c, "rd-del", 1), 6);
    // Past the high watermark: the partition's own error.
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("rd-del", 0, Offset::Offset(100)).unwrap();
    let got = block_on(admin.delete_records(&tpl, &rd::opts()), WAIT);
    let failed = match got {
        Ok(list) => list.elements().iter().any(|e| e.error().is_err()),
        Err(_) => true,
    };
    assert!(failed, "an offset past the high watermark is refused");
    assert_eq!(earliest(&mut c, "rd-del", 0), 4);
}

/// (name, value, source, synonyms as (name, value)).
type ConfigRow = (String, Option<String>, i8, Vec<(String, Option<String>)>);

/// The topic's retention.ms and segment.ms follow the broker's keys in whichever unit given.
/// As Kafka's DescribeConfigs (checked by the differential), a coarser unit set on its own is
/// no synonym of the finer key: the source is Kafka's default, the value the one in force.
#[test]
fn describe_configs_reports_the_retention_in_force() {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use kafka_protocol::messages::DescribeConfigsRequest;

    let tmp = TempDir::new("ret-configs");
    make_log_dir(tmp.path(), &[("cfg", 1)]);
    let broker = Broker::start_with(tmp.path(), &["log.retention.minutes=90", "log.roll.hours=2"]);
    let mut c = broker.connect();
    let keys = ["retention.ms", "segment.ms", "retention.bytes"];
    let req = DescribeConfigsRequest::default().with_include_synonyms(true).with_resources(vec![
        DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str("cfg"))
            .with_configuration_keys(Some(
                keys.iter().map(|k| StrBytes::from_static_str(k)).collect(),
            )),
        DescribeConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(StrBytes::from_static_str("1"))
            .with_configuration_keys(Some(vec![
                StrBytes::from_static_str("log.retention.ms"),
                StrBytes::from_static_str("log.retention.minutes"),
            ])),
    ]);
    let resp = c.kp_call(4, &req);
    let topic: Vec<ConfigRow> = resp.results[0]
        .configs
        .iter()
        .map(|e| {
            let syn = e
                .synonyms
                .iter()
                .map(|s| (s.name.to_string(), s.value.as_ref().map(|v| v.to_string())))
                .collect();
            (e.name.to_string(), e.value.as_ref().map(|v| v.to_string()), e.config_source, syn)
        })
        .collect();
    let some = |s: &str| Some(s.to_string());
    const DEFAULT_CONFIG: i8 = 5;
    let retention = topic.iter().find(|t| t.0 == "retention.ms").unwrap();
    assert_eq!((&retention.1, retention.2), (&some("5400000"), DEFAULT_CONFIG));
    assert!(retention.3.is_empty(), "{:?}", retention.3);
    let segment = topic.iter().find(|t| t.0 == "segment.ms").unwrap();
    assert_eq!((&segment.1, segment.2), (&some("7200000"), DEFAULT_CONFIG));
    assert!(topic.iter().any(|t| t.0 == "retention.bytes" && t.1 == some("-1") && t.2 == 5));
    let broker_cfg: Vec<(String, Option<String>)> = resp.results[1]
        .configs
        .iter()
        .map(|e| (e.name.to_string(), e.value.as_ref().map(|v| v.to_string())))
        .collect();
    assert!(broker_cfg.contains(&("log.retention.ms".into(), None)), "{broker_cfg:?}");
    assert!(broker_cfg.contains(&("log.retention.minutes".into(), some("90"))));
}

/// A topic's own retention.ms (set with IncrementalAlterConfigs, a ConfigRecord) is what its
/// logs are kept by, over the broker's default; a topic without one keeps the default. And the
/// override survives a restart.
#[test]
fn a_topics_own_retention_ms_wins_over_the_brokers() {
    use kafka_protocol::messages::incremental_alter_configs_request as iac;
    use kafka_protocol::messages::IncrementalAlterConfigsRequest;

    let tmp = TempDir::new("ret-topic");
    make_log_dir(tmp.path(), &[("short", 1), ("long", 1), ("later", 1)]);
    let overrides = quick(&["log.retention.hours=168", "log.segment.bytes=3000"]);
    let broker = Broker::start_with(tmp.path(), &overrides);
    let mut c = broker.connect();
    let one_hour = |topic: &'static str| {
        iac::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str(topic))
            .with_configs(vec![iac::AlterableConfig::default()
                .with_name(StrBytes::from_static_str("retention.ms"))
                .with_config_operation(0)
                .with_value(Some(StrBytes::from_static_str("3600000")))])
    };
    let req = IncrementalAlterConfigsRequest::default()
        .with_resources(vec![one_hour("short"), one_hour("later")]);
    let resp = c.kp_call(1, &req);
    assert!(resp.responses.iter().all(|r| r.error_code == NONE), "{resp:?}");
    // Two hours old: past the topic's hour, within the broker's week.
    // All in one request, so no retention pass comes between the batches (one could delete
    // the old active segment before the new batch lands, and roll the log at another offset).
    let old = now_ms() - 2 * 3600 * 1000;
    for topic in ["short", "long"] {
        let mut records = Vec::new();
        for _ in 0..4 {
            records.extend(stamped(old, 2, 600));
        }
        records.extend(stamped(now_ms(), 2, 600));
        produce(&mut c, topic, 0, records);
    }
    assert!(
        eventually(WAIT, || segments(tmp.path(), "short", 0) == [8]),
        "short's old segments deleted: {:?}",
        segments(tmp.path(), "short", 0)
    );
    assert_eq!(earliest(&mut c, "short", 0), 8);
    assert_eq!(segments(tmp.path(), "long", 0).len(), 3, "long keeps its segments");
    assert_eq!(earliest(&mut c, "long", 0), 0);
    drop(c);
    drop(broker);
    // After a restart the override is replayed from the metadata log and still applies.
    let broker = Broker::start_with(tmp.path(), &overrides);
    let mut c = broker.connect();
    for _ in 0..4 {
        produce(&mut c, "later", 0, stamped(old, 2, 600));
    }
    produce(&mut c, "later", 0, stamped(now_ms(), 2, 600));
    assert!(
        eventually(WAIT, || segments(tmp.path(), "later", 0) == [8]),
        "old segments written after the restart deleted: {:?}",
        segments(tmp.path(), "later", 0)
    );
    assert_eq!(earliest(&mut c, "long", 0), 0);
}
