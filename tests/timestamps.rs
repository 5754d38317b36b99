//! message.timestamp.type and message.timestamp.before/after.max.ms against the real binary:
//! LogAppendTime topics (by CreateTopics config and by the broker's
//! log.message.timestamp.type) get their batches stamped with the broker's clock (type bit,
//! max timestamp, a valid CRC), the Produce response carries that time, ListOffsets finds
//! it; CreateTime topics refuse records too far in the past or future with INVALID_TIMESTAMP
//! and Kafka's record errors. Every Produce version, kafka-protocol as the codec.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use kafka_protocol::messages::{
    list_offsets_request as loq, produce_request as pq, BrokerId, ListOffsetsRequest,
    ProduceRequest, ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use minikafka::records::{self, BatchHeader};

const INVALID_TIMESTAMP: i16 = 32;
const LOG_APPEND_TIME_BIT: i16 = 0x08;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn tn(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

fn create(c: &mut Client, name: &str, configs: &[(&str, &str)]) -> [u8; 16] {
    create_topic_with(c, name, configs)
}

/// `n` records, all at timestamp `ts`.
fn at(ts: i64, n: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts);
    for i in 0..n {
        b.push(None, Some(format!("value {i}").as_bytes()), &[]);
    }
    b.finish()
}

fn produce(c: &mut Client, version: i16, topic: &str, batch: Vec<u8>) -> ProduceResponse {
    let part = pq::PartitionProduceData::default().with_index(0).with_records(Some(batch.into()));
    let req = ProduceRequest::default().with_acks(-1).with_timeout_ms(5000).with_topic_data(vec![
        pq::TopicProduceData::default().with_name(tn(topic)).with_partition_data(vec![part]),
    ]);
    c.kp_call(version, &req)
}

fn list_offset(c: &mut Client, topic: &str, timestamp: i64) -> (i64, i64) {
    let req = ListOffsetsRequest::default().with_replica_id(BrokerId(-1)).with_topics(vec![
        loq::ListOffsetsTopic::default().with_name(tn(topic)).with_partitions(vec![
            loq::ListOffsetsPartition::default().with_partition_index(0).with_timestamp(timestamp),
        ]),
    ]);
    let resp = c.kp_call(8, &req);
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, NONE, "{p:?}");
    (p.offset, p.timestamp)
}

/// Every stored batch, each checked (CRC included) by the crate's own reader. A fetch reads
/// one segment, and a batch stamped years after the one before it rolls a new one (segment.ms
/// measures by timestamps): so fetch on from each answer's end.
fn stored(c: &mut Client, id: [u8; 16]) -> Vec<BatchHeader> {
    let mut out: Vec<BatchHeader> = Vec::new();
    loop {
        let from = out.last().map_or(0, |h| h.last_offset() + 1);
        let f = c.fetch_one(id, 0, from);
        assert_eq!(f.error_code, NONE);
        let before = out.len();
        out.extend(records::batches(f.records()).map(|b| b.expect("a valid batch").0));
        if out.len() == before {
            return out;
        }
    }
}

/// Produces with every version to a LogAppendTime topic: each batch is stamped with the time
/// the response reports, inside the produce's window; record timestamps stay.
fn assert_stamps_every_version(c: &mut Client, topic: &str, id: [u8; 16]) {
    let mut times = Vec::new();
    for version in 3..=12 {
        let before = now_ms();
        let resp = produce(c, version, topic, at(1_000, 2));
        let after = now_ms();
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(p.error_code, NONE, "v{version}: {p:?}");
        assert!(
            (before..=after).contains(&p.log_append_time_ms),
            "v{version}: {} not in [{before}, {after}]",
            p.log_append_time_ms
        );
        times.push(p.log_append_time_ms);
    }
    let batches = stored(c, id);
    assert_eq!(batches.len(), times.len());
    for (h, t) in batches.iter().zip(&times) {
        assert_ne!(h.attributes & LOG_APPEND_TIME_BIT, 0, "{h:?}");
        assert_eq!(h.max_timestamp, *t);
        assert_eq!(h.base_timestamp, 1_000, "record timestamps are not rewritten");
    }
    // The largest timestamp is the last append's (the first of equals); by timestamp, the
    // first batch appended at or after the time asked.
    let last = *times.last().unwrap();
    let first_at_last = times.iter().position(|t| *t == last).unwrap() as i64 * 2;
    assert_eq!(list_offset(c, topic, -3), (first_at_last, last));
    assert_eq!(list_offset(c, topic, times[0]), (0, times[0]));
    assert_eq!(list_offset(c, topic, 1_000).0, 0);
}

#[test]
fn log_append_time_topic_config_stamps_batches() {
    let tmp = TempDir::new("ts-lat");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let id = create(&mut c, "lat", &[("message.timestamp.type", "LogAppendTime")]);
    assert_stamps_every_version(&mut c, "lat", id);
    // The log on disk holds the stamped batches, and so does it after a restart.
    drop(c);
    broker.stop();
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert!(stored(&mut c, id).iter().all(|h| h.attributes & LOG_APPEND_TIME_BIT != 0));
}

#[test]
fn log_append_time_broker_default_and_topic_override() {
    let tmp = TempDir::new("ts-broker");
    let broker = Broker::start_with(tmp.path(), &["log.message.timestamp.type=LogAppendTime"]);
    let mut c = broker.connect();
    let id = create(&mut c, "by-broker", &[]);
    assert_stamps_every_version(&mut c, "by-broker", id);
    // A topic's own CreateTime wins over the broker's default.
    let id = create(&mut c, "own", &[("message.timestamp.type", "CreateTime")]);
    let resp = produce(&mut c, 12, "own", at(1_000, 1));
    assert_eq!(resp.responses[0].partition_responses[0].log_append_time_ms, -1);
    let h = stored(&mut c, id);
    assert_eq!((h[0].attributes & LOG_APPEND_TIME_BIT, h[0].max_timestamp), (0, 1_000));
}

#[test]
fn compressed_batches_are_stamped_by_their_header() {
    let tmp = TempDir::new("ts-gzip");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let id = create(&mut c, "z", &[("message.timestamp.type", "LogAppendTime")]);
    // Stamping touches the header only: the compressed payload is stored as it came.
    let plain = at(1_000, 3);
    let ph = records::check_batch(&plain).unwrap();
    let section = records::records_section(&plain, &ph, usize::MAX).unwrap();
    let b = records::build_batch(&ph, &section, records::compression::GZIP, None);
    let resp = produce(&mut c, 12, "z", b.clone());
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, NONE);
    let h = stored(&mut c, id);
    assert_eq!(h[0].attributes, 1 | LOG_APPEND_TIME_BIT);
    assert_eq!(h[0].max_timestamp, p.log_append_time_ms);
    let fetched = c.fetch_one(id, 0, 0);
    assert_eq!(fetched.records()[records::HEADER_LEN..], b[records::HEADER_LEN..]);
}

/// A compressed batch is opened: each record's timestamp is checked, as Kafka does.
#[test]
fn compressed_batches_have_every_record_checked() {
    let tmp = TempDir::new("ts-gzip-range");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    create(&mut c, "zr", &[("message.timestamp.after.max.ms", "60000")]);
    let now = now_ms();
    let far = now + 3_600_000;
    let mut b = BatchBuilder::new(0, now);
    for ts in [now, far, now, far, now] {
        b.push_at(ts, None, Some(b"v"), &[]);
    }
    let plain = b.finish();
    let ph = records::check_batch(&plain).unwrap();
    let section = records::records_section(&plain, &ph, usize::MAX).unwrap();
    let b = records::build_batch(&ph, &section, records::compression::LZ4, None);
    let resp = produce(&mut c, 12, "zr", b);
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, INVALID_TIMESTAMP);
    let named: Vec<i32> = p.record_errors.iter().map(|e| e.batch_index).collect();
    assert_eq!(named, [1, 3], "each record out of range is named");
}

#[test]
fn create_time_out_of_range_is_invalid_timestamp() {
    let tmp = TempDir::new("ts-range");
    let broker = Broker::start_with(tmp.path(), &["log.message.timestamp.before.max.ms=3600000"]);
    let mut c = broker.connect();
    let id = create(&mut c, "ct", &[("message.timestamp.after.max.ms", "60000")]);
    let hour = 3_600_000;
    for version in 3..=12 {
        for (ts, what) in [(now_ms() - 2 * hour, "past"), (now_ms() + hour, "future")] {
            let before = now_ms();
            let resp = produce(&mut c, version, "ct", at(ts, 2));
            let after = now_ms();
            let p = &resp.responses[0].partition_responses[0];
            assert_eq!(p.error_code, INVALID_TIMESTAMP, "v{version} {what}");
            assert_eq!((p.base_offset, p.log_append_time_ms), (-1, -1));
            if version < 8 {
                assert!(p.record_errors.is_empty() && p.error_message.is_none());
                continue;
            }
            assert_eq!(
                p.error_message.as_ref().map(|m| m.as_str()),
                Some("One or more records have been rejected due to invalid timestamp")
            );
            assert_eq!(p.record_errors.len(), 2, "every record is named");
            for (i, e) in p.record_errors.iter().enumerate() {
                assert_eq!(e.batch_index, i as i32);
                let msg = e.batch_index_error_message.as_ref().unwrap().as_str();
                let prefix = format!("Timestamp {ts} of message with offset {i} is out of range. The timestamp should be within [");
                assert!(msg.starts_with(&prefix), "{msg}");
                let range = msg[prefix.len()..msg.len() - 1].split(", ").collect::<Vec<_>>();
                let low: i64 = range[0].parse().unwrap();
                let high: i64 = range[1].parse().unwrap();
                assert!((before - hour..=after - hour).contains(&low), "{msg}");
                assert_eq!(high - low, hour + 60_000, "{msg}");
            }
        }
    }
    // Nothing was appended; a timestamp in range is.
    assert!(stored(&mut c, id).is_empty());
    let resp = produce(&mut c, 12, "ct", at(now_ms() - 1000, 1));
    assert_eq!(resp.responses[0].partition_responses[0].error_code, NONE);
    // A producer may not claim LogAppendTime for itself on a LogAppendTime topic.
    create(&mut c, "lat", &[("message.timestamp.type", "LogAppendTime")]);
    let mut b = at(now_ms(), 1);
    records::stamp_log_append_time(&mut b, now_ms());
    let resp = produce(&mut c, 12, "lat", b);
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, INVALID_TIMESTAMP);
    let msg = p.record_errors[0].batch_index_error_message.as_ref().unwrap().as_str();
    assert!(msg.ends_with("Producer should not set timestamp type to LogAppendTime."), "{msg}");
}

/// IncrementalAlterConfigs switches a topic to LogAppendTime (and back) for the next
/// produce; the switch survives a restart.
#[test]
fn altering_the_timestamp_type_applies_to_the_next_produce() {
    use kafka_protocol::messages::incremental_alter_configs_request as iac;
    use kafka_protocol::messages::IncrementalAlterConfigsRequest;

    let alter = |c: &mut Client, value: &'static str| {
        let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
            iac::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("sw"))
                .with_configs(vec![iac::AlterableConfig::default()
                    .with_name(StrBytes::from_static_str("message.timestamp.type"))
                    .with_config_operation(0)
                    .with_value(Some(StrBytes::from_static_str(value)))]),
        ]);
        let resp = c.kp_call(1, &req);
        assert_eq!(resp.responses[0].error_code, NONE, "{resp:?}");
    };
    let append_time = |c: &mut Client| {
        let resp = produce(c, 12, "sw", at(1_000, 1));
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(p.error_code, NONE);
        p.log_append_time_ms
    };
    let tmp = TempDir::new("ts-alter");
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    let id = create(&mut c, "sw", &[]);
    assert_eq!(append_time(&mut c), -1);
    alter(&mut c, "LogAppendTime");
    assert!(append_time(&mut c) > 1_000);
    drop(c);
    broker.stop();
    let broker = Broker::start(tmp.path());
    let mut c = broker.connect();
    assert!(append_time(&mut c) > 1_000, "still LogAppendTime after a restart");
    alter(&mut c, "CreateTime");
    assert_eq!(append_time(&mut c), -1);
    let types: Vec<bool> =
        stored(&mut c, id).iter().map(|h| h.attributes & LOG_APPEND_TIME_BIT != 0).collect();
    assert_eq!(types, [false, true, true, false]);
}
