//! Compacted topics, judged against Kafka: records without a key refused with Kafka's record
//! errors, and a log after its cleaner has run (each broker's own cleaner, on its own
//! schedule): the same batches at the same offsets, rewritten alike (base timestamp, max
//! timestamp and CRC included), a fetch from an offset compacted away answered from the next
//! batch, and the same log start and end offsets.

use kafka_protocol::messages::*;

use crate::configs::create_with;
use crate::harness::{Ctx, Scenario};
use crate::scenarios::{fetch, list_offsets, produce, FetchAt, TS};
use minikafka::records::BatchBuilder;

fn batch(ts: i64, recs: &[(Option<&str>, Option<&str>)]) -> bytes::Bytes {
    let mut b = BatchBuilder::new(0, ts);
    for (k, v) in recs {
        b.push(k.map(str::as_bytes), v.map(str::as_bytes), &[]);
    }
    bytes::Bytes::from(b.finish())
}

fn fetch_from(c: &Ctx, name: &str, offset: i64) -> RequestKind {
    fetch(c, 12, name, &[FetchAt { partition: 0, offset, max_bytes: 1 << 20 }], 0)
}

/// Records of each batch in a fetch answer, from the batch headers.
fn records_in(r: &ResponseKind) -> Vec<i32> {
    let ResponseKind::Fetch(f) = r else { return Vec::new() };
    let Some(bytes) =
        f.responses.first().and_then(|t| t.partitions.first()).and_then(|p| p.records.as_ref())
    else {
        return Vec::new();
    };
    minikafka::records::batches(bytes).map(|b| b.map_or(-1, |(h, _)| h.records_count)).collect()
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let compact = [("cleanup.policy", Some("compact"))];
    let mut s = Scenario::new("compacted topic: records without a key refused").step(
        ApiKey::CreateTopics,
        7,
        move |_, _| create_with("cmp-keys", &compact, false),
    );
    for v in [3, 7, 8, 12] {
        s = s.step(ApiKey::Produce, v, |c, _| {
            produce(
                c,
                "cmp-keys",
                0,
                -1,
                batch(TS, &[(Some("k"), Some("v")), (None, Some("x")), (None, None)]),
            )
        });
    }
    out.push(
        s.step(ApiKey::Produce, 12, |c, _| {
            produce(c, "cmp-keys", 0, -1, batch(TS, &[(Some("k"), None)]))
        })
        .step(ApiKey::Fetch, 12, |c, _| fetch_from(c, "cmp-keys", 0)),
    );
    // Each batch's timestamp is past segment.ms after the one before, so each starts a
    // segment; the last makes the third one cleanable.
    let cleaned = [
        ("cleanup.policy", Some("compact")),
        ("segment.ms", Some("100")),
        ("min.cleanable.dirty.ratio", Some("0.01")),
    ];
    out.push(
        Scenario::new("compacted topic: the cleaner keeps the last record of each key")
            .step(ApiKey::CreateTopics, 7, move |_, _| create_with("cmp-clean", &cleaned, false))
            .step(ApiKey::Produce, 12, |c, _| {
                let recs =
                    [(Some("a"), Some("a1")), (Some("b"), Some("b1")), (Some("c"), Some("c1"))];
                produce(c, "cmp-clean", 0, -1, batch(TS, &recs))
            })
            .step(ApiKey::Produce, 12, |c, _| {
                produce(
                    c,
                    "cmp-clean",
                    0,
                    -1,
                    batch(TS + 1000, &[(Some("a"), Some("a2")), (Some("b"), Some("b2"))]),
                )
            })
            .step(ApiKey::Produce, 12, |c, _| {
                produce(c, "cmp-clean", 0, -1, batch(TS + 2000, &[(Some("a"), Some("a3"))]))
            })
            .step(ApiKey::Produce, 12, |c, _| {
                produce(c, "cmp-clean", 0, -1, batch(TS + 3000, &[(Some("d"), Some("d1"))]))
            })
            // A fetch reads one segment: cleaned, the first three are one, holding c1, b2, a3.
            .until(
                ApiKey::Fetch,
                12,
                |c, _| fetch_from(c, "cmp-clean", 0),
                |r| records_in(r) == [1, 1, 1],
            )
            .step(ApiKey::Fetch, 12, |c, _| fetch_from(c, "cmp-clean", 0))
            // Offset 1 (b1) and 3 (a2) are gone: reads start at the batch holding the next.
            .step(ApiKey::Fetch, 12, |c, _| fetch_from(c, "cmp-clean", 1))
            .step(ApiKey::Fetch, 12, |c, _| fetch_from(c, "cmp-clean", 3))
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("cmp-clean", 0, -2))
            .step(ApiKey::ListOffsets, 8, |_, _| list_offsets("cmp-clean", 0, -1)),
    );
    out
}
