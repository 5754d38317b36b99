use std::collections::HashMap;
use std::os::unix::fs::FileExt;

use super::*;
use crate::records::{self, BatchBuilder, Records};
use crate::storage::{segment, Appended, LogConfig};
use crate::testutil::TempDir;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 2048,
        compact: true,
        delete: false,
        min_cleanable_ratio: 0.01,
        ..LogConfig::DEFAULT
    }
}

fn keyed(key: &str, value: Option<&str>, ts: i64) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts);
    b.push(Some(key.as_bytes()), value.map(str::as_bytes), &[]);
    b.finish()
}

/// Every record in the log: (offset, key, value).
type Rec = (i64, String, Option<String>);

fn read_all(log: &mut PartitionLog) -> Vec<Rec> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let mut bytes = Vec::new();
        log.read(offset, 1 << 20, &mut bytes).unwrap();
        assert!(!bytes.is_empty(), "a read at {offset} inside the log finds batches");
        for b in records::batches(&bytes) {
            let (h, batch) = b.unwrap();
            for r in Records::new(batch).unwrap() {
                let r = r.unwrap();
                let s = |b: Option<&[u8]>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
                out.push((
                    h.base_offset + i64::from(r.offset_delta),
                    s(r.key).unwrap(),
                    s(r.value),
                ));
            }
            offset = h.last_offset() + 1;
        }
    }
    out
}

/// Runs the cleaner until it has finished `rounds` rounds (or nothing is left to do).
fn clean(dir: &Path, log: &mut Option<PartitionLog>, cleaner: &mut Cleaner, rounds: u64) {
    let by_topic: HashMap<String, Vec<LogId>> = [("t".to_string(), vec![0])].into();
    let logs = std::slice::from_mut(log);
    for _ in 0..100_000 {
        if cleaner.stats.rounds >= rounds {
            break;
        }
        cleaner.tick(
            Logs { logs, by_topic: &by_topic },
            Instant::now() + Duration::from_secs(3600),
            0,
        );
        if cleaner.job.is_none() && cleaner.next_check > Instant::now() + Duration::from_secs(3600)
        {
            break;
        }
    }
    assert!(dir.join(CLEANER_CHECKPOINT).exists());
}

fn cleaner(dir: &Path) -> Cleaner {
    Cleaner::new(
        dir,
        CleanerConfig { backoff: Duration::from_secs(7200), ..CleanerConfig::DEFAULT },
    )
}

fn append(log: &mut Option<PartitionLog>, batch: &[u8]) -> i64 {
    let log = log.as_mut().unwrap();
    let Appended::At(at) = log.append(batch).unwrap() else { panic!("appended") };
    log.flush().unwrap();
    at
}

#[test]
fn the_last_record_of_each_key_stays_at_its_offset() {
    let d = TempDir::new("clean-last");
    let mut log = Some(PartitionLog::open(&d, config()).unwrap());
    let mut last: HashMap<String, (i64, String)> = HashMap::new();
    for i in 0..300 {
        let (k, v) = (format!("k{}", i % 7), format!("v{i}"));
        let at = append(&mut log, &keyed(&k, Some(&v), 1000 + i));
        last.insert(k, (at, v));
    }
    let before = log.as_ref().unwrap().size();
    let active = log.as_ref().unwrap().segments.last().unwrap().base_offset;
    let mut c = cleaner(&d);
    clean(&d, &mut log, &mut c, 1);
    assert_eq!(c.stats.rounds, 1);
    let l = log.as_mut().unwrap();
    assert!(l.size() < before / 3, "{} bytes left of {before}", l.size());
    let recs = read_all(l);
    let cleaned: Vec<&Rec> = recs.iter().filter(|r| r.0 < active).collect();
    for (off, k, v) in &cleaned {
        // Below the active segment only each key's last record is left, unless the key was
        // written again in the active segment (then its last record there is the latest).
        let (last_at, last_v) = &last[k];
        assert!(off == last_at || *last_at >= active, "{off} {k} {v:?}");
        if off == last_at {
            assert_eq!(v.as_deref(), Some(last_v.as_str()));
        }
    }
    assert!(recs.windows(2).all(|w| w[0].0 < w[1].0), "offsets ascend");
    assert_eq!(recs.iter().filter(|r| r.0 >= active).count() as i64, 300 - active);
    let checkpoint = checkpoint::read_offsets(&d.join(CLEANER_CHECKPOINT));
    assert_eq!(checkpoint[&("t".to_string(), 0)], active);
    // Every key still reads as its latest value.
    let mut latest: HashMap<&str, &str> = HashMap::new();
    for (_, k, v) in &recs {
        latest.insert(k, v.as_deref().unwrap());
    }
    for (k, (_, v)) in &last {
        assert_eq!(latest[k.as_str()], v);
    }
    // And it reopens as the same log.
    drop(log);
    let mut l = PartitionLog::open(&d, config()).unwrap();
    assert_eq!(read_all(&mut l), recs);
}

#[test]
fn tombstones_stay_for_delete_retention_ms_then_go() {
    let d = TempDir::new("clean-tomb");
    let cfg = LogConfig { delete_retention_ms: 0, ..config() };
    let mut log = Some(PartitionLog::open(&d, cfg).unwrap());
    let fill = |log: &mut Option<PartitionLog>, n: i64| {
        for i in 0..n {
            append(log, &keyed(&format!("f{}", i % 3), Some("x"), 1000));
        }
    };
    append(&mut log, &keyed("gone", Some("1"), 1000));
    append(&mut log, &keyed("gone", None, 1000));
    fill(&mut log, 60);
    let mut c = cleaner(&d);
    clean(&d, &mut log, &mut c, 1);
    let recs = read_all(log.as_mut().unwrap());
    assert!(recs.iter().any(|r| r.1 == "gone" && r.2.is_none()), "the tombstone is kept once");
    assert!(!recs.iter().any(|r| r.1 == "gone" && r.2.is_some()));
    fill(&mut log, 60);
    clean(&d, &mut log, &mut c, 2);
    assert_eq!(c.stats.rounds, 2);
    let recs = read_all(log.as_mut().unwrap());
    assert!(!recs.iter().any(|r| r.1 == "gone"), "past its horizon the tombstone goes");
}

#[test]
fn an_idempotent_producers_last_batch_stays_as_a_header() {
    let d = TempDir::new("clean-pid");
    let mut log = Some(PartitionLog::open(&d, config()).unwrap());
    let mut b = BatchBuilder::new(0, 1000).producer(42, 0, 0);
    b.push(Some(b"p"), Some(b"old"), &[]);
    let at = append(&mut log, &b.finish());
    for i in 0..60 {
        append(&mut log, &keyed(if i == 0 { "p" } else { "q" }, Some("new"), 1000));
    }
    let mut c = cleaner(&d);
    clean(&d, &mut log, &mut c, 1);
    let l = log.as_mut().unwrap();
    let mut bytes = Vec::new();
    l.read(at, 1 << 20, &mut bytes).unwrap();
    let (h, _) = records::batches(&bytes).next().unwrap().unwrap();
    assert_eq!((h.base_offset, h.producer_id, h.records_count), (at, 42, 0));
    assert!(!read_all(l).iter().any(|r| r.2.as_deref() == Some("old")));
}

#[test]
fn an_interrupted_swap_is_finished_and_a_half_cleaned_segment_dropped() {
    let d = TempDir::new("clean-swap");
    let mut log = Some(PartitionLog::open(&d, config()).unwrap());
    for i in 0..100 {
        append(&mut log, &keyed(&format!("k{}", i % 4), Some("v"), 1000 + i));
    }
    let bases: Vec<i64> = log.as_ref().unwrap().segments.iter().map(|s| s.base_offset).collect();
    assert!(bases.len() > 3);
    let recs = read_all(log.as_mut().unwrap());
    drop(log);
    // A swap file standing for the first two segments, as a crash after its rename leaves it.
    let mut joined = std::fs::read(d.join(segment::file_name(bases[0]))).unwrap();
    joined.extend(std::fs::read(d.join(segment::file_name(bases[1]))).unwrap());
    std::fs::write(d.join(format!("{}.swap", segment::file_name(bases[0]))), &joined).unwrap();
    std::fs::write(d.join(format!("{}.cleaned", segment::file_name(bases[2]))), b"junk").unwrap();
    let mut l = PartitionLog::open(&d, config()).unwrap();
    let names: Vec<String> = std::fs::read_dir(&*d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".swap") || n.ends_with(".cleaned")), "{names:?}");
    assert!(!names.contains(&segment::file_name(bases[1])));
    assert_eq!(read_all(&mut l), recs);
}

/// Compressed batches are opened: their records are mapped and filtered, and what a batch
/// keeps is written back in its own codec.
#[test]
fn compressed_batches_are_cleaned_in_their_codec() {
    let d = TempDir::new("clean-compressed");
    let mut log = Some(PartitionLog::open(&d, config()).unwrap());
    let codecs = [records::compression::GZIP, records::compression::LZ4];
    for i in 0..60i64 {
        let mut b = BatchBuilder::new(0, 1000 + i);
        for j in 0..5 {
            let (k, v) = (format!("k{}", (i * 5 + j) % 11), format!("v{i}-{j}"));
            b.push(Some(k.as_bytes()), Some(v.as_bytes()), &[]);
        }
        let plain = b.finish();
        let h = records::check_batch(&plain).unwrap();
        let section = records::records_section(&plain, &h, usize::MAX).unwrap();
        append(&mut log, &records::build_batch(&h, &section, codecs[i as usize % 2], None));
    }
    let active = log.as_ref().unwrap().segments.last().unwrap().base_offset;
    let mut c = cleaner(&d);
    clean(&d, &mut log, &mut c, 1);
    let l = log.as_mut().unwrap();
    let mut bytes = Vec::new();
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut offset = 0;
    let mut cleaned_records = 0;
    while offset < active {
        bytes.clear();
        l.read(offset, 1 << 20, &mut bytes).unwrap();
        for b in records::batches(&bytes) {
            let (h, batch) = b.unwrap();
            assert!(codecs.contains(&h.compression()), "rewritten in its codec: {h:?}");
            let section = records::records_section(batch, &h, usize::MAX).unwrap();
            for r in Records::of_section(&section, h.records_count) {
                let r = r.unwrap();
                let key = String::from_utf8(r.key.unwrap().to_vec()).unwrap();
                let at = h.base_offset + i64::from(r.offset_delta);
                if at < active {
                    assert!(seen.insert(key, at).is_none(), "one record per key below {active}");
                    cleaned_records += 1;
                }
            }
            offset = h.last_offset() + 1;
        }
    }
    assert!(cleaned_records <= 11 && cleaned_records > 0, "{cleaned_records}");
}

#[test]
fn a_damaged_batch_is_kept_as_it_is_not_given_a_valid_crc() {
    let d = TempDir::new("clean-damaged");
    let mut log = Some(PartitionLog::open(&d, config()).unwrap());
    let at = append(&mut log, &keyed("x", Some("old"), 1000));
    for i in 0..60 {
        append(&mut log, &keyed(if i == 0 { "x" } else { "y" }, Some("new"), 1000));
    }
    // Flip a bit of the first record's value on disk.
    let first = log.as_ref().unwrap().segments[0].file.clone();
    let mut b = [0u8; 1];
    let pos = crate::records::HEADER_LEN as u64 + 8;
    first.read_exact_at(&mut b, pos).unwrap();
    first.write_all_at(&[b[0] ^ 1], pos).unwrap();
    let mut c = cleaner(&d);
    clean(&d, &mut log, &mut c, 1);
    let mut bytes = Vec::new();
    log.as_mut().unwrap().read(at, 1 << 20, &mut bytes).unwrap();
    let h = crate::records::BatchHeader::parse(&bytes).unwrap();
    assert_eq!((h.base_offset, h.records_count), (at, 1), "kept whole");
    assert!(crate::records::check_batch(&bytes).is_err(), "and still seen as damaged");
}

/// Batches of the log as (base offset, control, records, delete horizon set).
fn batch_shapes(log: &mut PartitionLog) -> Vec<(i64, bool, i32, bool)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let mut bytes = Vec::new();
        log.read(offset, 1 << 20, &mut bytes).unwrap();
        for b in records::batches(&bytes) {
            let (h, _) = b.unwrap();
            let horizon = crate::records::rewrite::delete_horizon(&h).is_some();
            out.push((h.base_offset, h.is_control(), h.records_count, horizon));
            offset = h.last_offset() + 1;
        }
    }
    out
}

/// One transaction of producer 7: a record of `key`, then its marker. Returns the marker's
/// offset.
fn txn(log: &mut Option<PartitionLog>, seq: i32, key: &str, commit: bool) -> i64 {
    let l = log.as_mut().unwrap();
    let mut b = BatchBuilder::new(0, 1000).producer(7, 0, seq).transactional();
    b.push(Some(key.as_bytes()), Some(b"t"), &[]);
    assert!(matches!(l.append_for_producer(&b.finish()).unwrap(), Appended::At(_)));
    let at = l.write_marker(7, 0, commit, 0).unwrap().unwrap();
    l.flush().unwrap();
    at
}

/// Kafka's cleaner (KIP-534): a marker stays while any data of its transaction is in the log;
/// the first round that finds none sets its delete horizon, a round past it removes it. An
/// aborted transaction's data goes in the first round, and its transaction index entry when
/// its marker is found alone.
#[test]
fn transaction_markers_go_once_their_data_has_and_their_horizon_is_past() {
    let d = TempDir::new("clean-markers");
    let cfg = LogConfig { delete_retention_ms: 0, ..config() };
    let mut log = Some(PartitionLog::open(&d, cfg).unwrap());
    let fill = |log: &mut Option<PartitionLog>| {
        for i in 0..60 {
            append(log, &keyed(&format!("f{}", i % 3), Some("x"), 1000));
        }
    };
    let commit_a = txn(&mut log, 0, "a", true);
    let abort_b = txn(&mut log, 1, "b", false);
    // The producer's last batch stays (as a header at least): so does its marker.
    let commit_c = txn(&mut log, 2, "c", true);
    append(&mut log, &keyed("a", Some("plain"), 1000));
    fill(&mut log);
    let l = log.as_mut().unwrap();
    assert_eq!(l.aborted_txns().len(), 1);
    let marker = |shapes: &[(i64, bool, i32, bool)], at: i64| {
        shapes.iter().find(|s| s.0 == at).map(|s| (s.2, s.3))
    };

    let mut c = cleaner(&d);
    clean(&d, &mut log, &mut c, 1);
    let l = log.as_mut().unwrap();
    let shapes = batch_shapes(l);
    // a's record was replaced and b's aborted: both batches went, their markers stay whole.
    assert!(!shapes.iter().any(|s| s.0 == commit_a - 1 || s.0 == abort_b - 1), "{shapes:?}");
    assert_eq!(marker(&shapes, commit_a), Some((1, false)));
    assert_eq!(marker(&shapes, abort_b), Some((1, false)));
    assert_eq!(marker(&shapes, commit_c), Some((1, false)));
    assert_eq!(l.aborted_txns().len(), 1, "b's marker is kept: so is its index entry");

    fill(&mut log);
    clean(&d, &mut log, &mut c, 2);
    let l = log.as_mut().unwrap();
    let shapes = batch_shapes(l);
    assert_eq!(marker(&shapes, commit_a), Some((1, true)), "{shapes:?}");
    assert_eq!(marker(&shapes, abort_b), Some((1, true)));
    assert_eq!(marker(&shapes, commit_c), Some((1, false)), "c's data is still there");
    assert!(l.aborted_txns().is_empty());
    assert!(crate::storage::index::read_aborted(&d).unwrap().is_empty());

    fill(&mut log);
    clean(&d, &mut log, &mut c, 3);
    let l = log.as_mut().unwrap();
    let shapes = batch_shapes(l);
    assert_eq!(marker(&shapes, commit_a), None, "{shapes:?}");
    assert_eq!(marker(&shapes, abort_b), None);
    assert_eq!(marker(&shapes, commit_c), Some((1, false)));
    assert!(read_all(l).iter().any(|r| r.1 == "c"));
    drop(log);
    let mut l = PartitionLog::open(&d, config()).unwrap();
    assert_eq!(batch_shapes(&mut l), shapes);
}

/// A producer whose last entry is a marker of a newer epoch (the coordinator bumped it) keeps
/// that marker, as Kafka keeps it for the epoch it carries: past its horizon only its records
/// go, its header stays.
#[test]
fn a_producers_last_marker_of_a_new_epoch_stays_as_a_header() {
    let d = TempDir::new("clean-epoch-marker");
    let cfg = LogConfig { delete_retention_ms: 0, ..config() };
    let mut log = Some(PartitionLog::open(&d, cfg).unwrap());
    let l = log.as_mut().unwrap();
    let mut b = BatchBuilder::new(0, 1000).producer(8, 0, 0).transactional();
    b.push(Some(b"m"), Some(b"t"), &[]);
    assert!(matches!(l.append_for_producer(&b.finish()).unwrap(), Appended::At(0)));
    let marker = l.write_marker(8, 1, true, 0).unwrap().unwrap();
    l.flush().unwrap();
    append(&mut log, &keyed("m", Some("plain"), 1000));
    let mut c = cleaner(&d);
    let fill = |log: &mut Option<PartitionLog>| {
        for i in 0..60 {
            append(log, &keyed(&format!("f{}", i % 3), Some("x"), 1000));
        }
    };
    let mut shapes = Vec::new();
    for round in 1..=4 {
        fill(&mut log);
        clean(&d, &mut log, &mut c, round);
        shapes.push(batch_shapes(log.as_mut().unwrap()).into_iter().find(|s| s.0 == marker));
    }
    assert_eq!(
        shapes,
        [
            Some((marker, true, 1, false)),
            Some((marker, true, 1, true)),
            Some((marker, true, 0, false)),
            Some((marker, true, 0, false)),
        ]
    );
}
