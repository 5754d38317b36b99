//! Compressed batches against Kafka: Kafka must read what our encoders write (each codec, as
//! produced batches it validates and keeps), ListOffsets finds the record inside a compressed
//! batch, the timestamp range is checked on every record of one, compression.type re-encodes
//! produced batches (the fetched payloads are compared decompressed: two encoders need not
//! write the same bytes), a payload that does not decompress or holds other than its records
//! is refused alike, and the cleaner rewrites compressed batches as Kafka's does.

use kafka_protocol::messages::*;

use crate::configs::create_with;
use crate::harness::Scenario;
use crate::scenarios::{fetch, list_offsets, produce, FetchAt, TS};
use minikafka::records::{self, compression, BatchBuilder, Header};

/// A timestamp far in the future (2096), outside any after.max.ms on either clock.
const FUTURE: i64 = 4_000_000_000_000;

/// Records at `timestamps`, with keys, values and a header, compressed with `codec`.
fn batch(codec: i16, timestamps: &[i64], tag: &str) -> bytes::Bytes {
    let mut b = BatchBuilder::new(0, timestamps[0]);
    for (i, &ts) in timestamps.iter().enumerate() {
        let v = format!("{tag} value {i} ").repeat(4);
        b.push_at(
            ts,
            Some(format!("k{i}").as_bytes()),
            Some(v.as_bytes()),
            &[Header { key: "h", value: Some(b"v") }],
        );
    }
    let plain = b.finish();
    let h = records::check_batch(&plain).unwrap();
    let section = records::records_section(&plain, &h, usize::MAX).unwrap();
    bytes::Bytes::from(records::build_batch(&h, &section, codec, None))
}

fn fetch_all(c: &crate::harness::Ctx, name: &str) -> RequestKind {
    fetch(c, 12, name, &[FetchAt { partition: 0, offset: 0, max_bytes: 1 << 20 }], 0)
}

const CODECS: [(i16, &str); 4] = [
    (compression::GZIP, "gzip"),
    (compression::SNAPPY, "snappy"),
    (compression::LZ4, "lz4"),
    (compression::ZSTD, "zstd"),
];

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for (codec, name) in CODECS {
        let topic: &'static str = Box::leak(format!("cz-{name}").into_boxed_str());
        out.push(
            Scenario::new(format!(
                "compressed {name} batch: stored, fetched, ListOffsets inside it"
            ))
            .topic(topic, 1)
            .step(ApiKey::Produce, 12, move |c, _| {
                produce(c, topic, 0, -1, batch(codec, &[TS, TS + 20, TS + 10], name))
            })
            .step(ApiKey::Produce, 12, move |c, _| {
                produce(c, topic, 0, -1, batch(codec, &[TS + 30, TS + 40], name))
            })
            .step(ApiKey::Fetch, 12, move |c, _| fetch_all(c, topic))
            .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(topic, 0, TS + 5))
            .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(topic, 0, TS + 15))
            .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(topic, 0, TS + 35))
            .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(topic, 0, -3)),
        );
    }
    // Kafka checks each record of a compressed batch, naming every one out of range.
    let range = [("message.timestamp.after.max.ms", Some("60000"))];
    out.push(
        Scenario::new("compressed batch: every record's timestamp checked")
            .step(ApiKey::CreateTopics, 7, move |_, _| create_with("cz-range", &range, false))
            .step(ApiKey::Produce, 12, |c, _| {
                let b = batch(compression::LZ4, &[TS, FUTURE, TS + 1, FUTURE, TS + 2], "r");
                produce(c, "cz-range", 0, -1, b)
            })
            .step(ApiKey::Produce, 12, |c, _| {
                produce(c, "cz-range", 0, -1, batch(compression::GZIP, &[TS, TS + 1], "ok"))
            })
            .step(ApiKey::Fetch, 12, |c, _| fetch_all(c, "cz-range")),
    );
    // compression.type: batches re-encoded to the topic's codec, or opened to none.
    for (target, produced) in [
        ("gzip", compression::LZ4),
        ("uncompressed", compression::GZIP),
        ("lz4", compression::NONE),
    ] {
        let topic: &'static str = Box::leak(format!("cz-to-{target}").into_boxed_str());
        let cfg = [("compression.type", Some(target))];
        out.push(
            Scenario::new(format!("compression.type {target}: produced batches re-encoded"))
                .step(ApiKey::CreateTopics, 7, move |_, _| create_with(topic, &cfg, false))
                .step(ApiKey::Produce, 12, move |c, _| {
                    produce(c, topic, 0, -1, batch(produced, &[TS, TS + 5, TS + 2], "a"))
                })
                .step(ApiKey::Produce, 12, move |c, _| {
                    produce(c, topic, 0, -1, batch(produced, &[TS + 9], "b"))
                })
                .step(ApiKey::Fetch, 12, move |c, _| fetch_all(c, topic))
                .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(topic, 0, TS + 3)),
        );
    }
    // A compacted topic reads the keys inside a compressed batch.
    let compact = [("cleanup.policy", Some("compact"))];
    out.push(
        Scenario::new("compressed batch to a compacted topic: records without a key refused")
            .step(ApiKey::CreateTopics, 7, move |_, _| create_with("cz-compact", &compact, false))
            .step(ApiKey::Produce, 12, |c, _| {
                let mut b = BatchBuilder::new(0, TS);
                b.push(Some(b"k"), Some(b"v"), &[]);
                b.push(None, Some(b"x"), &[]);
                b.push(None, None, &[]);
                let plain = b.finish();
                let h = records::check_batch(&plain).unwrap();
                let section = records::records_section(&plain, &h, usize::MAX).unwrap();
                let b = records::build_batch(&h, &section, compression::SNAPPY, None);
                produce(c, "cz-compact", 0, -1, b.into())
            })
            .step(ApiKey::Produce, 12, |c, _| {
                produce(c, "cz-compact", 0, -1, batch(compression::ZSTD, &[TS], "keyed"))
            })
            .step(ApiKey::Fetch, 12, |c, _| fetch_all(c, "cz-compact")),
    );
    // The cleaner opens compressed batches, and writes what it keeps in their codec.
    let cleaned = [
        ("cleanup.policy", Some("compact")),
        ("segment.ms", Some("100")),
        ("min.cleanable.dirty.ratio", Some("0.01")),
    ];
    let keyed = |codec: i16, ts: i64, recs: &[(&str, Option<&str>)]| {
        let mut b = BatchBuilder::new(0, ts);
        for (k, v) in recs {
            b.push(Some(k.as_bytes()), v.map(str::as_bytes), &[]);
        }
        let plain = b.finish();
        let h = records::check_batch(&plain).unwrap();
        let section = records::records_section(&plain, &h, usize::MAX).unwrap();
        bytes::Bytes::from(records::build_batch(&h, &section, codec, None))
    };
    let records_in = |r: &ResponseKind| -> Vec<i32> {
        let ResponseKind::Fetch(f) = r else { return Vec::new() };
        let Some(b) = f.responses.first().and_then(|t| t.partitions.first()) else {
            return Vec::new();
        };
        let b = b.records.as_deref().unwrap_or_default();
        records::batches(b).map(|b| b.map_or(-1, |(h, _)| h.records_count)).collect()
    };
    out.push(
        Scenario::new("compressed batches in a compacted topic: the cleaner keeps each key's last")
            .step(ApiKey::CreateTopics, 7, move |_, _| create_with("cz-clean", &cleaned, false))
            .step(ApiKey::Produce, 12, move |c, _| {
                let recs = [("a", Some("a1")), ("b", Some("b1")), ("c", Some("c1"))];
                produce(c, "cz-clean", 0, -1, keyed(compression::GZIP, TS, &recs))
            })
            .step(ApiKey::Produce, 12, move |c, _| {
                // No tombstone: its delete horizon would come from each broker's own clock.
                let recs = [("a", Some("a2")), ("b", Some("b2")), ("e", Some("e1"))];
                produce(c, "cz-clean", 0, -1, keyed(compression::LZ4, TS + 1000, &recs))
            })
            .step(ApiKey::Produce, 12, move |c, _| {
                let recs = [("a", Some("a3"))];
                produce(c, "cz-clean", 0, -1, keyed(compression::ZSTD, TS + 2000, &recs))
            })
            .step(ApiKey::Produce, 12, move |c, _| {
                let recs = [("d", Some("d1"))];
                produce(c, "cz-clean", 0, -1, keyed(compression::SNAPPY, TS + 3000, &recs))
            })
            .until(
                ApiKey::Fetch,
                12,
                |c, _| fetch_all(c, "cz-clean"),
                move |r| records_in(r) == [1, 2, 1],
            )
            .step(ApiKey::Fetch, 12, |c, _| fetch_all(c, "cz-clean"))
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("cz-clean", 0, TS + 500))
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("cz-clean", 0, -2)),
    );
    // A payload that is not what its codec says, under a valid CRC-32C.
    out.push(
        Scenario::new("compressed batch that does not decompress")
            .topic("cz-corrupt", 1)
            .step(ApiKey::Produce, 12, |c, _| {
                let mut b = batch(compression::GZIP, &[TS, TS + 1], "bad").to_vec();
                let n = b.len();
                b[n - 12] ^= 0x55; // inside the deflate data or its CRC-32 trailer
                let crc = records::crc32c::crc32c(&b[21..]);
                b[17..21].copy_from_slice(&crc.to_be_bytes());
                produce(c, "cz-corrupt", 0, -1, b.into())
            })
            .step(ApiKey::Produce, 12, |c, _| {
                // Cut short: the gzip trailer and the end of the deflate data missing.
                let b = batch(compression::GZIP, &[TS, TS + 1], "cut");
                let h = records::check_batch(&b).unwrap();
                let payload = &b[records::HEADER_LEN..b.len() - 10];
                let mut b = records::build_batch(&h, payload, compression::NONE, None);
                b[22] = compression::GZIP as u8;
                let crc = records::crc32c::crc32c(&b[21..]);
                b[17..21].copy_from_slice(&crc.to_be_bytes());
                produce(c, "cz-corrupt", 0, -1, b.into())
            })
            .step(ApiKey::Produce, 12, |c, _| {
                // Decompresses, but to no records: garbage where they should be.
                let b = batch(compression::GZIP, &[TS, TS + 1], "junk");
                let h = records::check_batch(&b).unwrap();
                let junk = [0x55u8; 40];
                produce(
                    c,
                    "cz-corrupt",
                    0,
                    -1,
                    records::build_batch(&h, &junk, compression::GZIP, None).into(),
                )
            })
            .step(ApiKey::Produce, 12, |c, _| {
                // Decompresses to one record fewer than the header counts.
                let b = batch(compression::GZIP, &[TS, TS + 1], "short");
                let mut h = records::check_batch(&b).unwrap();
                let section = records::records_section(&b, &h, usize::MAX).unwrap().to_vec();
                h.records_count = 3;
                h.last_offset_delta = 2;
                produce(
                    c,
                    "cz-corrupt",
                    0,
                    -1,
                    records::build_batch(&h, &section, compression::GZIP, None).into(),
                )
            })
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("cz-corrupt", 0, -1)),
    );
    out
}
