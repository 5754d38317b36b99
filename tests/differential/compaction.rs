//! Compacted topics, judged against Kafka: records without a key refused with Kafka's record
//! errors, and a log after its cleaner has run (each broker's own cleaner, on its own
//! schedule): the same batches at the same offsets, rewritten alike (base timestamp, max
//! timestamp and CRC included), a fetch from an offset compacted away answered from the next
//! batch, and the same log start and end offsets. With transactions: an aborted
//! transaction's records dropped, and COMMIT and ABORT markers given a delete horizon by the
//! first cleaning that finds no record of their transaction, then removed by a later one.

use kafka_protocol::messages::*;

use crate::configs::create_with;
use crate::harness::{Ctx, Scenario};
use crate::scenarios::{fetch, list_offsets, produce, FetchAt, TS};
use crate::transactions::{
    add_partitions, added, end, find_txn_coordinator, found, init, initialised, latest, s,
    stable_at,
};
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

/// Whether each batch in a fetch answer has a delete horizon (attributes bit 6).
fn horizons_in(r: &ResponseKind) -> Vec<bool> {
    let ResponseKind::Fetch(f) = r else { return Vec::new() };
    let Some(bytes) =
        f.responses.first().and_then(|t| t.partitions.first()).and_then(|p| p.records.as_ref())
    else {
        return Vec::new();
    };
    minikafka::records::batches(bytes)
        .map(|b| b.is_ok_and(|(h, _)| minikafka::records::rewrite::delete_horizon(&h).is_some()))
        .collect()
}

/// A transactional batch of one record of `key` at `ts`, in a Produce naming the id.
fn txn_keyed(ctx: &Ctx, tid: &str, name: &str, key: &str, sequence: i32, ts: i64) -> RequestKind {
    let mut b = BatchBuilder::new(0, ts)
        .producer(ctx.producer_id, ctx.producer_epoch, sequence)
        .transactional();
    b.push(Some(key.as_bytes()), Some(b"t"), &[]);
    let RequestKind::Produce(req) = produce(ctx, name, 0, -1, b.finish().into()) else {
        unreachable!()
    };
    req.with_transactional_id(Some(TransactionalId(s(tid)))).into()
}

/// Transactions in a compacted topic, cleaned three times. Kafka's markers carry its clock,
/// so the data batches do too (a fixed time ahead of the run, the same bytes to both
/// brokers): the transactions and a's second record share one segment, and each z after
/// them starts one (segment.ms), so that each cleaning comes after the step that allows it
/// on both brokers.
fn cleaned_transactions() -> Scenario {
    let (tid, name) = ("cmp-txn-1", "cmp-txn");
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock past 1970")
        .as_millis() as i64
        + 40 * 60 * 1000;
    let configs = [
        ("cleanup.policy", Some("compact")),
        ("segment.ms", Some("100")),
        ("min.cleanable.dirty.ratio", Some("0.01")),
        ("delete.retention.ms", Some("0")),
    ];
    let plain = move |c: &Ctx, key: &str, i: i64| {
        produce(c, name, 0, -1, batch(t0 + i * 1000, &[(Some(key), Some("p"))]))
    };
    let mut sc =
        Scenario::new("compacted topic: transaction markers go as Kafka's cleaner drops them")
            .step(ApiKey::CreateTopics, 7, move |_, _| create_with(name, &configs, false))
            .until(ApiKey::FindCoordinator, 4, move |_, _| find_txn_coordinator(tid), found)
            .until(ApiKey::InitProducerId, 4, move |_, _| init(tid, 60_000), initialised);
    // a committed (0, marker 1), b aborted (2, marker 3), c committed (4, marker 5).
    for (i, (key, commit)) in [("a", true), ("b", false), ("c", true)].into_iter().enumerate() {
        let i = i as i32;
        sc = sc
            .until(
                ApiKey::AddPartitionsToTxn,
                3,
                move |c, _| add_partitions(c, tid, 0, &[(name, 0)]),
                added,
            )
            .step(ApiKey::Produce, 9, move |c, _| txn_keyed(c, tid, name, key, i, t0))
            .step(ApiKey::EndTxn, 3, move |c, _| end(c, tid, 0, commit))
            .until(
                ApiKey::ListOffsets,
                7,
                move |_, _| latest(name, true),
                stable_at(2 * i64::from(i) + 2),
            );
    }
    // a again (6), then z (7) in a segment of its own: the first cleaning drops a's and b's
    // records; their markers stay, as their records were still there.
    sc.step(ApiKey::Produce, 12, move |c, _| plain(c, "a", 0))
        .step(ApiKey::Produce, 12, move |c, _| plain(c, "z", 1))
        .until(ApiKey::Fetch, 12, move |c, _| fetch_from(c, name, 0), |r| records_in(r) == [1; 5])
        .step(ApiKey::Fetch, 12, move |c, _| fetch_from(c, name, 0))
        // The second finds the two markers alone: it gives them their delete horizon.
        .step(ApiKey::Produce, 12, move |c, _| plain(c, "z", 2))
        .until(
            ApiKey::Fetch,
            12,
            move |c, _| fetch_from(c, name, 0),
            |r| horizons_in(r) == [true, true, false, false, false, false],
        )
        .step(ApiKey::Fetch, 12, move |c, _| fetch_from(c, name, 0))
        // The third is past it (delete.retention.ms=0): they go.
        .step(ApiKey::Produce, 12, move |c, _| plain(c, "z", 3))
        .until(ApiKey::Fetch, 12, move |c, _| fetch_from(c, name, 0), |r| records_in(r) == [1; 4])
        .step(ApiKey::Fetch, 12, move |c, _| fetch_from(c, name, 0))
        .step(ApiKey::Fetch, 12, move |c, _| fetch_from(c, name, 1))
        .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(name, 0, -2))
        .step(ApiKey::ListOffsets, 8, move |_, _| list_offsets(name, 0, -1))
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
    out.push(cleaned_transactions());
    out
}
