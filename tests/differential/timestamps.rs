//! message.timestamp.type and message.timestamp.before/after.max.ms on Produce, judged
//! against Kafka: a LogAppendTime topic's batches stamped by the broker (the append time
//! itself differs by clock and is masked, the type bit and everything else compared), and
//! INVALID_TIMESTAMP with Kafka's error message and record errors for CreateTime records out
//! of range (the range's ends come from each broker's clock: masked, their width compared).

use kafka_protocol::messages::*;

use crate::configs::create_with;
use crate::harness::Scenario;
use crate::scenarios::{fetch, list_offsets, produce, records, FetchAt, TS};
use minikafka::records::{stamp_log_append_time, BatchBuilder};

/// A timestamp far in the future (2096), outside any after.max.ms on either clock.
const FUTURE: i64 = 4_000_000_000_000;

fn at(ts: i64, n: usize) -> bytes::Bytes {
    let mut b = BatchBuilder::new(0, ts);
    for i in 0..n {
        b.push(Some(format!("k{i}").as_bytes()), Some(b"v"), &[]);
    }
    bytes::Bytes::from(b.finish())
}

fn fetch_all(c: &crate::harness::Ctx, name: &str) -> RequestKind {
    fetch(c, 12, name, &[FetchAt { partition: 0, offset: 0, max_bytes: 1 << 20 }], 0)
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let lat = [("message.timestamp.type", Some("LogAppendTime"))];
    out.push(
        Scenario::new("LogAppendTime topic: produce, fetch, list offsets")
            .step(ApiKey::CreateTopics, 7, move |_, _| create_with("ts-lat", &lat, false))
            .step(ApiKey::Produce, 3, |c, _| produce(c, "ts-lat", 0, 1, records(2, "a")))
            .step(ApiKey::Produce, 8, |c, _| produce(c, "ts-lat", 0, -1, records(1, "b")))
            .step(ApiKey::Produce, 12, |c, _| produce(c, "ts-lat", 0, -1, records(3, "c")))
            .step(ApiKey::Fetch, 12, |c, _| fetch_all(c, "ts-lat"))
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("ts-lat", 0, TS))
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("ts-lat", 0, -1))
            // A producer may not claim LogAppendTime itself.
            .step(ApiKey::Produce, 12, |c, _| {
                let mut b = records(2, "claims").to_vec();
                stamp_log_append_time(&mut b, TS);
                produce(c, "ts-lat", 0, -1, b.into())
            }),
    );
    let range = [
        ("message.timestamp.before.max.ms", Some("3600000")),
        ("message.timestamp.after.max.ms", Some("60000")),
    ];
    let mut s = Scenario::new("CreateTime out of range: INVALID_TIMESTAMP").step(
        ApiKey::CreateTopics,
        7,
        move |_, _| create_with("ts-range", &range, false),
    );
    for v in [3, 7, 8, 9, 12] {
        s = s.step(ApiKey::Produce, v, |c, _| produce(c, "ts-range", 0, -1, at(TS, 3))).step(
            ApiKey::Produce,
            v,
            |c, _| produce(c, "ts-range", 0, -1, at(FUTURE, 2)),
        );
    }
    // Nothing was appended.
    out.push(s.step(ApiKey::ListOffsets, 8, |_, _| list_offsets("ts-range", 0, -1)));
    // Kafka's defaults: no lower bound, an hour ahead.
    out.push(
        Scenario::new("CreateTime defaults: old accepted, far future refused")
            .topic("ts-default", 1)
            .step(ApiKey::Produce, 12, |c, _| produce(c, "ts-default", 0, -1, at(1, 1)))
            .step(ApiKey::Produce, 12, |c, _| produce(c, "ts-default", 0, -1, at(FUTURE, 1)))
            // The LogAppendTime bit on a CreateTime topic: Kafka reads every record's
            // timestamp as the batch's max, and checks that.
            .step(ApiKey::Produce, 12, |c, _| {
                let mut b = at(1, 1).to_vec();
                stamp_log_append_time(&mut b, FUTURE);
                produce(c, "ts-default", 0, -1, b.into())
            })
            .step(ApiKey::Fetch, 12, |c, _| fetch_all(c, "ts-default")),
    );
    out
}
