//! Tests of one partition log: appends, reads, recovery, rolling, retention, timestamps.

use super::partition::*;
use super::snapshot;
use super::*;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;

use crate::records::{self, BatchBuilder};

fn temp_dir(name: &str) -> crate::testutil::TempDir {
    crate::testutil::TempDir::new(&format!("part-{name}"))
}

fn batch(n: usize, payload: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, 1);
    let v = vec![b'x'; payload];
    for _ in 0..n {
        b.push(None, Some(&v), &[]);
    }
    b.finish()
}

const CFG: LogConfig = LogConfig::DEFAULT;

#[test]
fn append_flush_read_and_reopen() {
    let d = temp_dir("basic");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    assert_eq!(log.append(&batch(3, 10)).unwrap(), Appended::At(0));
    assert_eq!(log.append(&batch(1, 10)).unwrap(), Appended::At(3));
    log.flush().unwrap();
    let mut out = Vec::new();
    log.read(3, 1 << 20, &mut out).unwrap();
    let hs: Vec<_> = records::batches(&out).map(|b| b.unwrap().0.base_offset).collect();
    assert_eq!(hs, [3]);
    out.clear();
    log.read(1, 1 << 20, &mut out).unwrap();
    assert_eq!(records::batches(&out).count(), 2);
    drop(log);
    let log = PartitionLog::open(&d, CFG).unwrap();
    assert_eq!(log.log_end_offset(), 4);
}

#[test]
fn reads_are_bounded_but_return_one_whole_batch() {
    let d = temp_dir("bounded");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    for _ in 0..100 {
        log.append(&batch(1, 1000)).unwrap();
    }
    let mut out = Vec::new();
    log.read(50, 5000, &mut out).unwrap();
    let offs: Vec<_> = records::batches(&out).map(|b| b.unwrap().0.base_offset).collect();
    assert_eq!(offs, [50, 51, 52, 53]);
    out.clear();
    log.read(99, 10, &mut out).unwrap();
    assert_eq!(records::batches(&out).map(|b| b.unwrap().0.base_offset).collect::<Vec<_>>(), [99]);
}

#[test]
fn slices_end_at_the_last_whole_batch_within_the_limit() {
    let d = temp_dir("slices");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    // Batches of varied sizes, so that index entries (every 4 KiB) fall between them.
    // ends[i] is where batch i starts (and batch i - 1 ends).
    let (mut ends, mut offsets) = (vec![0u64], Vec::new());
    for i in 0..60 {
        let b = batch(1 + i % 3, 50 + 97 * (i % 7));
        ends.push(ends.last().unwrap() + b.len() as u64);
        let Appended::At(o) = log.append(&b).unwrap() else { panic!("appended") };
        offsets.push(o);
    }
    for first in [0, 17, 59] {
        // Any offset inside the batch finds it.
        let offset = offsets[first] + (first % 3) as i64;
        for max in [0, 1, 100, 4095, 4096, 5000, 9000, 20_000, 1 << 20] {
            let s = log.slice(offset, max).unwrap().unwrap();
            assert_eq!(s.position, ends[first]);
            let end = s.position + s.len as u64;
            let last = ends.iter().position(|&e| e == end).expect("ends on a batch boundary");
            assert!(last > first, "at least one batch");
            assert!(s.len <= max || last == first + 1, "{} bytes for max {max}", s.len);
            let next = ends.get(last + 1);
            assert!(next.is_none_or(|n| n - s.position > max as u64), "the next batch fits");
        }
    }
}

#[test]
fn timestamps_find_offsets() {
    let d = temp_dir("times");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    for t in [100, 300, 200] {
        let mut b = BatchBuilder::new(0, t);
        b.push(None, Some(b"a"), &[]);
        b.push(None, Some(b"b"), &[]);
        log.append(&b.finish()).unwrap();
    }
    assert_eq!(log.offset_for_timestamp(150).unwrap(), Some((2, 300)));
    assert_eq!(log.offset_for_timestamp(100).unwrap(), Some((0, 100)));
    assert_eq!(log.offset_for_timestamp(301).unwrap(), None);
    assert_eq!(log.max_timestamp().unwrap(), Some((2, 300)));
}

#[test]
fn appends_carry_the_leader_epoch() {
    let d = temp_dir("epoch");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    log.append(&batch(1, 10)).unwrap();
    log.set_leader_epoch(3);
    log.append(&batch(1, 10)).unwrap();
    log.flush().unwrap();
    let mut out = Vec::new();
    log.read(0, 1 << 20, &mut out).unwrap();
    let epochs: Vec<_> =
        records::batches(&out).map(|b| b.unwrap().0.partition_leader_epoch).collect();
    assert_eq!(epochs, [0, 3], "producers send -1; the leader's epoch is stored");
}

#[test]
fn compressed_batches_are_opened() {
    let d = temp_dir("times-compressed");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    log.append(&batch(2, 1)).unwrap(); // timestamps 1
    let mut b = BatchBuilder::new(0, 100);
    for ts in [100, 300, 200] {
        b.push_at(ts, None, Some(b"z"), &[]);
    }
    let plain = b.finish();
    let h = records::check_batch(&plain).unwrap();
    let section = records::records_section(&plain, &h, usize::MAX).unwrap();
    let gzip = records::build_batch(&h, &section, records::compression::GZIP, None);
    log.append(&gzip).unwrap();
    assert_eq!(log.offset_for_timestamp(50).unwrap(), Some((2, 100)));
    assert_eq!(log.offset_for_timestamp(100).unwrap(), Some((2, 100)));
    // Inside the batch: the record itself, as Kafka answers.
    assert_eq!(log.offset_for_timestamp(101).unwrap(), Some((3, 300)));
    assert_eq!(log.offset_for_timestamp(300).unwrap(), Some((3, 300)));
    assert_eq!(log.offset_for_timestamp(301).unwrap(), None);
    assert_eq!(log.max_timestamp().unwrap(), Some((3, 300)));
}

#[test]
fn torn_tail_is_truncated_on_open() {
    let d = temp_dir("torn");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    log.append(&batch(2, 10)).unwrap();
    log.flush().unwrap();
    drop(log);
    let path = d.join(segment::file_name(0));
    let good = std::fs::metadata(&path).unwrap().len();
    let b = batch(1, 50);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut f, &b[..b.len() / 2]).unwrap();
    let log = PartitionLog::open(&d, CFG).unwrap();
    assert_eq!(log.log_end_offset(), 2);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
}

#[test]
fn segments_roll_and_reads_span_them() {
    let d = temp_dir("roll");
    let cfg = LogConfig { segment_bytes: 4000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for _ in 0..10 {
        log.append(&batch(1, 1000)).unwrap();
    }
    log.flush().unwrap();
    assert!(segment::list(&d).unwrap().len() >= 3);
    for off in 0..10 {
        let mut out = Vec::new();
        log.read(off, 1, &mut out).unwrap();
        assert_eq!(records::batches(&out).next().unwrap().unwrap().0.base_offset, off);
    }
    drop(log);
    let log = PartitionLog::open(&d, cfg).unwrap();
    assert_eq!(log.log_end_offset(), 10);
}

fn stamped(ts: i64, payload: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, ts);
    b.push(None, Some(&vec![b'x'; payload]), &[]);
    b.finish()
}

#[test]
fn retention_ms_deletes_old_segments_and_rolls_when_all_go() {
    let d = temp_dir("ret-ms");
    let cfg = LogConfig { segment_bytes: 2500, retention_ms: 10_000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    let now = now_ms();
    // Two old segments, then a young one.
    for ts in [now - 60_000, now - 60_000, now - 50_000, now - 50_000, now, now] {
        log.append(&stamped(ts, 1000)).unwrap();
    }
    log.flush().unwrap();
    assert_eq!(segment::list(&d).unwrap().len(), 3);
    assert_eq!(log.delete_old_segments(now).unwrap(), 2);
    assert_eq!(log.log_start_offset(), 4);
    assert_eq!(segment::list(&d).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [4]);
    assert!(!d.join(index::time_index_name(0)).exists());
    // Later, the young one is old too: a new empty segment takes over, as in Kafka.
    assert_eq!(log.delete_old_segments(now + 20_000).unwrap(), 1);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (6, 6));
    assert_eq!(segment::list(&d).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [6]);
    assert!(log.slice(5, 100).unwrap().is_none());
    log.append(&stamped(now, 10)).unwrap();
    assert!(log.slice(6, 100).unwrap().is_some());
    // Reopened, closed segments know their largest timestamp from their time index.
    drop(log);
    let log = PartitionLog::open(&d, cfg).unwrap();
    assert_eq!(log.log_end_offset(), 7);
}

#[test]
fn closed_segments_reopen_with_their_largest_timestamp() {
    let d = temp_dir("ret-reopen");
    let cfg = LogConfig { segment_bytes: 2500, retention_ms: 10_000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    let now = now_ms();
    for ts in [now - 60_000, now - 60_000, now, now] {
        log.append(&stamped(ts, 1000)).unwrap();
    }
    log.close().unwrap();
    drop(log);
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    assert_eq!(log.delete_old_segments(now).unwrap(), 1);
    assert_eq!(log.log_start_offset(), 2);
}

#[test]
fn retention_bytes_keeps_the_newest_segments_within_the_limit() {
    let d = temp_dir("ret-bytes");
    let cfg = LogConfig { segment_bytes: 2500, retention_bytes: 3000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for _ in 0..8 {
        log.append(&stamped(now_ms(), 1000)).unwrap();
    }
    log.flush().unwrap();
    let seg = log.segments[0].size;
    assert_eq!(log.size(), 4 * seg);
    // 4 segments of two batches: deleting the first two leaves 2 * seg <= 3000 + seg.
    assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 2);
    assert_eq!(log.log_start_offset(), 4);
    assert_eq!(log.size(), 2 * seg);
}

#[test]
fn delete_records_moves_the_start_and_its_segments_go_at_the_next_check() {
    let d = temp_dir("ret-delete-records");
    let cfg = LogConfig { segment_bytes: 2500, retention_ms: -1, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for _ in 0..3 {
        log.append(&stamped(1, 1000)).unwrap();
    }
    log.set_leader_epoch(2);
    for _ in 0..3 {
        log.append(&stamped(1, 1000)).unwrap();
    }
    assert_eq!(log.delete_records(7), Err(crate::protocol::error::OFFSET_OUT_OF_RANGE));
    assert_eq!(log.delete_records(3), Ok(3));
    assert_eq!(log.delete_records(1), Ok(3), "never backwards");
    assert_eq!(log.epochs, [(2, 3)]);
    assert_eq!(log.end_offset_for_epoch(0), (0, 3), "older than any known: the next start");
    assert_eq!(log.end_offset_for_epoch(2), (2, 6));
    assert_eq!(log.end_offset_for_epoch(3), (-1, -1));
    assert!(log.slice(2, 100).unwrap().is_none());
    assert_eq!(log.offset_for_timestamp(0).unwrap(), Some((3, 1)));
    // Segments [0, 2) and [2, 4): only the first is wholly below 3.
    assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 1);
    assert_eq!(segment::list(&d).unwrap()[0].0, 2);
    assert_eq!(log.log_start_offset(), 3);
    assert_eq!(log.delete_records(-1), Ok(6));
}

#[test]
fn epochs_answer_as_kafkas_leader_epoch_cache() {
    let d = temp_dir("epochs");
    let mut log = PartitionLog::open(&d, CFG).unwrap();
    // Nothing written yet: the current epoch starts at the end.
    assert_eq!(log.end_offset_for_epoch(0), (0, 0));
    log.append(&batch(2, 1)).unwrap();
    log.set_leader_epoch(3);
    log.append(&batch(1, 1)).unwrap();
    log.set_leader_epoch(5);
    assert_eq!(log.end_offset_for_epoch(0), (0, 2));
    assert_eq!(log.end_offset_for_epoch(1), (0, 2), "the epoch below it, to the next start");
    assert_eq!(log.end_offset_for_epoch(3), (3, 3));
    assert_eq!(log.end_offset_for_epoch(4), (3, 3));
    assert_eq!(log.end_offset_for_epoch(5), (5, 3));
    assert_eq!(log.end_offset_for_epoch(6), (-1, -1));
    assert_eq!(log.end_offset_for_epoch(-1), (-1, -1));
}

#[test]
fn segment_ms_rolls_by_the_first_batch_timestamp() {
    let d = temp_dir("roll-ms");
    let cfg = LogConfig { segment_ms: 1000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for ts in [10_000, 10_500, 11_000, 11_001, 11_500] {
        log.append(&stamped(ts, 10)).unwrap();
    }
    log.flush().unwrap();
    let bases: Vec<i64> = segment::list(&d).unwrap().iter().map(|s| s.0).collect();
    assert_eq!(bases, [0, 3], "11_001 is more than 1000 past 10_000");
}

#[test]
fn a_slice_being_sent_outlives_its_deleted_segment() {
    let d = temp_dir("ret-sendfile");
    let cfg = LogConfig { segment_bytes: 2500, retention_ms: 1000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for _ in 0..4 {
        log.append(&stamped(1, 1000)).unwrap();
    }
    let s = log.slice(0, 1 << 20).unwrap().unwrap();
    let mut before = vec![0; s.len];
    s.file.read_exact_at(&mut before, s.position).unwrap();
    assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 2);
    assert!(!d.join(segment::file_name(0)).exists());
    // The response holds the file open: what sendfile reads is still there.
    let mut after = vec![0; s.len];
    s.file.read_exact_at(&mut after, s.position).unwrap();
    assert_eq!(before, after);
}

/// The first record at or after `ts` by reading every batch: what the indexed lookup must find.
fn brute_offset_for(log: &mut PartitionLog, ts: i64) -> Option<(i64, i64)> {
    let mut offset = 0;
    while offset < log.log_end_offset() {
        let mut out = Vec::new();
        log.read(offset, 1 << 20, &mut out).unwrap();
        for b in records::batches(&out) {
            let (h, batch) = b.unwrap();
            for r in records::Records::new(batch).unwrap() {
                let r = r.unwrap();
                let t = h.base_timestamp + r.timestamp_delta;
                if t >= ts {
                    return Some((h.base_offset + i64::from(r.offset_delta), t));
                }
            }
            offset = h.last_offset() + 1;
        }
    }
    None
}

#[test]
fn timestamp_lookups_go_through_the_indexes_and_agree_with_a_full_read() {
    let d = temp_dir("times-indexed");
    let cfg = LogConfig { segment_bytes: 20_000, ..CFG };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    // Timestamps mostly rising, with some going back: 600 batches of 300 bytes, many segments
    // and index entries.
    for i in 0..600i64 {
        let ts = 10_000 + i * 10 - if i % 7 == 3 { 45 } else { 0 };
        log.append(&stamped(ts, 300)).unwrap();
    }
    log.flush().unwrap();
    for ts in (9_900..16_100).step_by(37) {
        assert_eq!(log.offset_for_timestamp(ts).unwrap(), brute_offset_for(&mut log, ts), "{ts}");
    }
    assert_eq!(log.max_timestamp().unwrap(), Some((599, 15_990)));
    drop(log);
    // A closed segment's index files lost (or cut short) are made again at open, as before.
    let bases: Vec<i64> = segment::list(&d).unwrap().into_iter().map(|(b, _)| b).collect();
    assert!(bases.len() > 5);
    let index = |b: i64| {
        (
            std::fs::read(d.join(index::offset_index_name(b))).unwrap(),
            std::fs::read(d.join(index::time_index_name(b))).unwrap(),
        )
    };
    let before = index(bases[1]);
    assert!(!before.0.is_empty());
    std::fs::remove_file(d.join(index::offset_index_name(bases[1]))).unwrap();
    let t = d.join(index::time_index_name(bases[2]));
    let cut = std::fs::read(&t).unwrap();
    std::fs::write(&t, &cut[..cut.len() - 5]).unwrap();
    let before2 = (std::fs::read(d.join(index::offset_index_name(bases[2]))).unwrap(), cut);
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    assert_eq!(index(bases[1]), before);
    assert_eq!(index(bases[2]), before2);
    assert_eq!(log.offset_for_timestamp(12_345).unwrap(), brute_offset_for(&mut log, 12_345));
}

#[test]
fn index_interval_and_size_are_the_topics() {
    let d = temp_dir("index-cfg");
    // An entry after every 100 bytes; room for 10 offset entries (and 6 time entries).
    let cfg = LogConfig { index_interval_bytes: 100, segment_index_bytes: 80, ..CFG };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for i in 0..200 {
        log.append(&stamped(1000 + i, 60)).unwrap();
    }
    log.close().unwrap();
    let bases: Vec<i64> = segment::list(&d).unwrap().into_iter().map(|(b, _)| b).collect();
    assert!(bases.len() > 5, "full indexes rolled the segments: {bases:?}");
    for b in &bases[..bases.len() - 1] {
        let offsets = std::fs::read(d.join(index::offset_index_name(*b))).unwrap();
        let times = std::fs::read(d.join(index::time_index_name(*b))).unwrap();
        assert!(offsets.len() <= 80 && times.len() <= 72, "{b}: {} {}", offsets.len(), times.len());
        assert!(offsets.len() >= 48, "an entry every ~100 bytes: {}", offsets.len());
    }
}

#[test]
fn deleted_segments_are_renamed_and_their_leftovers_removed_on_open() {
    let d = temp_dir("ret-deleted");
    let cfg = LogConfig { segment_bytes: 2500, retention_ms: 1000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for _ in 0..4 {
        log.append(&stamped(1, 1000)).unwrap();
    }
    log.append(&stamped(now_ms(), 10)).unwrap();
    assert_eq!(log.delete_old_segments(now_ms()).unwrap(), 2);
    let mut files: Vec<String> = log
        .take_deleted_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    files.sort();
    let expected: Vec<String> = [0, 2]
        .iter()
        .flat_map(|&b| {
            [segment::file_name(b), index::offset_index_name(b), index::time_index_name(b)]
                .map(|n| format!("{n}.deleted"))
        })
        .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(files, expected, "the log and both indexes of each, renamed as Kafka does");
    assert!(files.iter().all(|f| d.join(f).exists()));
    assert!(!d.join(segment::file_name(0)).exists());
    assert!(log.take_deleted_files().is_empty());
    // A restart before their removal: leftovers go, as do a cleaning's unfinished files.
    fs::write(d.join(format!("{}.cleaned", segment::file_name(4))), b"x").unwrap();
    drop(log);
    let log = PartitionLog::open(&d, cfg).unwrap();
    assert_eq!(log.log_end_offset(), 5);
    let left: Vec<_> = fs::read_dir(&*d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".deleted") || n.ends_with(".cleaned"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_manager_removes_deleted_files_after_file_delete_delay_ms() {
    let d = temp_dir("ret-delay");
    let cfg = LogConfig {
        segment_bytes: 2500,
        retention_ms: 1000,
        file_delete_delay_ms: 60_000,
        ..LogConfig::DEFAULT
    };
    let zero = Duration::ZERO;
    let schedule = RetentionSchedule {
        initial_delay: zero,
        interval: Duration::from_secs(3600),
        flush_check_interval: Duration::from_secs(3600),
        recovery_checkpoint_interval: Duration::from_secs(3600),
    };
    let mut m = LogManager::new(&d, cfg, schedule, cleaner::CleanerConfig::DEFAULT);
    let id = m.open("t", &crate::uuid::random(), 0, 0).unwrap();
    for _ in 0..4 {
        m.append(id, &stamped(1, 1000)).unwrap();
    }
    m.flush(&mut Vec::new(), &mut Vec::new());
    let now = Instant::now();
    m.retention_tick(now);
    let deleted = d.join("t-0").join(format!("{}.deleted", segment::file_name(0)));
    assert!(deleted.exists());
    m.housekeeping_tick(now);
    assert!(deleted.exists(), "kept file.delete.delay.ms");
    let due = m.next_housekeeping().unwrap();
    assert!(due >= now + Duration::from_secs(59), "woken for the removal");
    m.housekeeping_tick(now + Duration::from_secs(61));
    // Removed by the background thread.
    m.bio.drain();
    assert!(!deleted.exists());
    assert!(m.next_housekeeping().unwrap() > now + Duration::from_secs(3000), "the flusher's");
}

fn manager_with(d: &std::path::Path, cfg: LogConfig, flush_check: Duration) -> (LogManager, LogId) {
    let schedule = RetentionSchedule {
        initial_delay: Duration::ZERO,
        interval: Duration::from_secs(3600),
        flush_check_interval: flush_check,
        recovery_checkpoint_interval: Duration::from_millis(i64::MAX as u64),
    };
    let mut m = LogManager::new(d, cfg, schedule, cleaner::CleanerConfig::DEFAULT);
    let id = m.open("t", &crate::uuid::random(), 0, 0).unwrap();
    (m, id)
}

#[test]
fn flush_messages_syncs_before_the_turn_ends_once_enough_are_unsynced() {
    let d = temp_dir("flush-messages");
    let cfg = LogConfig { flush_messages: 5, ..LogConfig::DEFAULT };
    let (mut m, id) = manager_with(&d, cfg, Duration::from_secs(3600));
    m.append(id, &batch(3, 10)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    assert_eq!((m.get(id).unflushed_messages(), m.get(id).recovery_point), (3, 0));
    // Messages, not batches: 3 + 2 reaches 5 (Kafka's `unflushedMessages >= flushInterval`).
    m.append(id, &batch(2, 10)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    assert_eq!((m.get(id).unflushed_messages(), m.get(id).recovery_point), (0, 5));
    // flush.messages=1: every write is synced.
    m.set_config(id, LogConfig { flush_messages: 1, ..cfg });
    m.append(id, &batch(1, 10)).unwrap();
    let mut written = Vec::new();
    m.flush(&mut written, &mut Vec::new());
    assert_eq!((written, m.get(id).recovery_point), (vec![id], 6));
    // The default never syncs but on roll and close.
    m.set_config(id, LogConfig::DEFAULT);
    for _ in 0..100 {
        m.append(id, &batch(1, 10)).unwrap();
        m.flush(&mut Vec::new(), &mut Vec::new());
    }
    assert_eq!(m.get(id).recovery_point, 6);
    m.close_all().unwrap();
    assert_eq!(m.get(id).recovery_point, 106);
}

#[test]
fn flush_ms_is_measured_from_the_last_sync() {
    let d = temp_dir("flush-ms");
    let cfg = LogConfig { flush_ms: 1000, ..LogConfig::DEFAULT };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    let opened = log.last_flush_ms;
    assert!(!log.flush_ms_due(opened + 999));
    assert!(log.flush_ms_due(opened + 1000));
    log.append(&batch(2, 10)).unwrap();
    log.flush().unwrap();
    assert!(log.sync(opened + 1500).unwrap());
    assert_eq!((log.recovery_point, log.last_flush_ms), (2, opened + 1500));
    assert!(!log.flush_ms_due(opened + 2000));
    assert!(!log.sync(opened + 3000).unwrap(), "nothing new to sync");
    assert_eq!(log.last_flush_ms, opened + 1500);
    // The default is never.
    log.set_config(LogConfig::DEFAULT);
    assert!(!log.flush_ms_due(i64::MAX));
    // A roll syncs the segment it closes.
    log.append(&batch(1, 10)).unwrap();
    log.roll().unwrap();
    assert_eq!(log.recovery_point, 3);
}

#[test]
fn the_log_flusher_syncs_logs_past_flush_ms_when_it_runs() {
    let d = temp_dir("flusher");
    let cfg = LogConfig { flush_ms: 0, ..LogConfig::DEFAULT };
    let (mut m, id) = manager_with(&d, cfg, Duration::from_millis(10));
    m.append(id, &batch(2, 10)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    assert_eq!(m.get(id).recovery_point, 0, "only the flusher syncs by time");
    let now = Instant::now();
    assert!(m.next_housekeeping().unwrap() <= now);
    m.housekeeping_tick(now);
    assert_eq!(m.get(id).recovery_point, 2);
    // Next at log.flush.scheduler.interval.ms.
    m.append(id, &batch(1, 10)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    m.housekeeping_tick(now + Duration::from_millis(5));
    assert_eq!(m.get(id).recovery_point, 2);
    m.housekeeping_tick(now + Duration::from_millis(10));
    assert_eq!(m.get(id).recovery_point, 3);
    // Kafka's default interval (Long.MAX): the flusher runs once, after the initial delay.
    let d = temp_dir("flusher-default");
    let (mut m, _) = manager_with(&d, cfg, Duration::from_millis(i64::MAX as u64));
    let now = Instant::now();
    m.housekeeping_tick(now);
    assert!(m.next_housekeeping().is_none_or(|t| t > now + Duration::from_secs(1 << 40)));
}

#[test]
fn segment_jitter_ms_brings_the_roll_forward() {
    let cfg = LogConfig { segment_ms: 1000, segment_jitter_ms: 400, ..LogConfig::DEFAULT };
    let draws: Vec<i64> = (0..200).map(|b| random_segment_jitter(&cfg, b)).collect();
    assert!(draws.iter().all(|j| (0..400).contains(j)), "{draws:?}");
    assert!(draws.iter().any(|&j| j != draws[0]), "not all the same");
    assert_eq!(random_segment_jitter(&LogConfig { segment_jitter_ms: 0, ..cfg }, 1), 0);
    // Never more than segment.ms.
    let big = LogConfig { segment_ms: 10, segment_jitter_ms: 1_000_000, ..cfg };
    assert!((0..100).all(|b| random_segment_jitter(&big, b) < 10));

    let d = temp_dir("roll-jitter");
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    log.segments[0].roll_jitter_ms = 300;
    // 1000 - 300: the segment rolls once a batch is more than 700 past its first.
    for ts in [10_000, 10_700, 10_701] {
        log.append(&stamped(ts, 10)).unwrap();
    }
    log.flush().unwrap();
    let bases: Vec<i64> = segment::list(&d).unwrap().iter().map(|s| s.0).collect();
    assert_eq!(bases, [0, 2]);
    assert!((0..400).contains(&log.segments[1].roll_jitter_ms));
}

fn idempotent(seq: i32, n: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(0, 5000 + i64::from(seq)).producer(77, 2, seq);
    for i in 0..n {
        b.push(Some(b"k"), Some(format!("{seq}-{i}").as_bytes()), &[]);
    }
    b.finish()
}

#[test]
fn a_clean_reopen_takes_the_end_and_producers_from_what_close_left() {
    let d = temp_dir("clean-reopen");
    let cfg = LogConfig { segment_bytes: 30_000, ..CFG };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for seq in (0..400).step_by(4) {
        log.append(&idempotent(seq, 4)).unwrap();
    }
    let end = log.log_end_offset();
    log.close().unwrap();
    drop(log);
    assert!(d.join(snapshot::file_name(end)).exists(), "a snapshot at the log end");
    let active = segment::list(&d).unwrap().last().unwrap().clone();
    // Spoil a batch header early in the active segment (before its last index entry): a scan
    // would stop there and cut the log; a clean reopen never reads it.
    let f = OpenOptions::new().write(true).open(&active.1).unwrap();
    f.write_all_at(&[0xff; 4], 8).unwrap();
    let mut log = PartitionLog::open_after(&d, cfg, true, None).unwrap();
    assert_eq!(log.log_end_offset(), end);
    // The producer is known: its last batch is a duplicate, a gap is refused, the next is taken.
    assert_eq!(log.append(&idempotent(396, 4)).unwrap(), Appended::Duplicate(396, 5396));
    assert!(matches!(log.append(&idempotent(410, 1)).unwrap(), Appended::Rejected(..)));
    assert_eq!(log.append(&idempotent(400, 4)).unwrap(), Appended::At(400));
    let mut out = Vec::new();
    log.read(end - 30, 1 << 20, &mut out).unwrap();
    let (h, _) = records::batches(&out).next().unwrap().unwrap();
    assert_eq!(h.base_offset, end - 32);
    log.close().unwrap();
    drop(log);
    // Without a snapshot at the end (or after a crash), the segment is read through.
    std::fs::remove_file(d.join(snapshot::file_name(end + 4))).unwrap();
    f.write_all_at(&[0, 0], 8).unwrap();
    let log = PartitionLog::open_after(&d, cfg, true, None).unwrap();
    assert!(log.log_end_offset() < end, "the spoilt header was found and the log cut there");
}

#[test]
fn a_closed_segment_is_entered_through_its_offset_index_not_scanned() {
    let d = temp_dir("index-file-reads");
    let cfg = LogConfig { segment_bytes: 40_000, ..CFG };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    for i in 0..100 {
        log.append(&stamped(1000 + i, 900)).unwrap();
    }
    log.close().unwrap();
    let end = log.log_end_offset();
    drop(log);
    let first = segment::list(&d).unwrap()[0].1.clone();
    let entries = index::offset_entries(&d, 0).unwrap();
    assert!(entries.len() >= 3, "{entries:?}");
    // Spoil the length of the batch at offset 1, before the file's second entry: a scan of the
    // segment would stop there; entering through the index file goes past it.
    let f = OpenOptions::new().write(true).open(&first).unwrap();
    let second_batch = stamped(0, 900).len() as u64;
    f.write_all_at(&[0xff; 4], second_batch + 8).unwrap();
    // After a crash with everything below the recovery point: closed segments are not read.
    let mut log = PartitionLog::open_after(&d, cfg, false, Some(end)).unwrap();
    let target = entries[1].0 + 1;
    let mut out = Vec::new();
    log.read(target, 1, &mut out).unwrap();
    let (h, _) = records::batches(&out).next().unwrap().unwrap();
    assert_eq!(h.base_offset, target);
}

#[test]
fn a_roll_moves_the_recovery_point_once_its_background_sync_is_done() {
    let d = temp_dir("roll-bio");
    let cfg = LogConfig { segment_bytes: 200, ..LogConfig::DEFAULT };
    let (mut m, id) = manager_with(&d, cfg, Duration::from_secs(3600));
    m.append(id, &batch(1, 150)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    m.append(id, &batch(1, 150)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    assert_eq!(m.get(id).segments.len(), 2, "rolled");
    assert_eq!(m.get(id).recovery_point, 0, "the closed segment's sync is only queued");
    m.bio.drain();
    m.flush(&mut Vec::new(), &mut Vec::new());
    assert_eq!(m.get(id).recovery_point, 1, "reported synced");
    assert!(d.join("t-0").join(super::snapshot::file_name(1)).exists(), "snapshot in place");
    // flush.messages=1 (durable): the closed segment is synced before the turn ends, with
    // the active one, not left to the thread.
    m.set_config(id, LogConfig { flush_messages: 1, ..cfg });
    m.append(id, &batch(1, 150)).unwrap();
    m.flush(&mut Vec::new(), &mut Vec::new());
    assert_eq!(m.get(id).segments.len(), 3, "rolled");
    assert_eq!(m.get(id).recovery_point, 3);
}

#[test]
fn without_a_snapshot_at_the_active_segment_producers_are_replayed_from_an_older_one() {
    let d = temp_dir("replay-producers");
    let cfg = LogConfig { segment_bytes: 300, ..CFG };
    let idem = |pid: i64, seq: i32| {
        let mut b = BatchBuilder::new(0, 1).producer(pid, 0, seq);
        b.push(None, Some(&[b'v'; 200][..]), &[]);
        b.finish()
    };
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    // One batch a segment: producer 7's two batches end up in closed segments, producer 8's
    // in the active one.
    for (pid, seq) in [(7, 0), (7, 1), (8, 0)] {
        log.append(&idem(pid, seq)).unwrap();
        log.flush().unwrap();
    }
    assert_eq!(log.segments.len(), 3);
    drop(log);
    // The snapshot the last roll took (at 2) is lost, as a crash before its rename leaves it;
    // only an older one is left (the one at 1, written again here as the roll to 1 took it).
    let left: Vec<_> = snapshot::list(&d).into_iter().map(|(o, _)| o).collect();
    assert_eq!(left, [2]);
    std::fs::remove_file(d.join(snapshot::file_name(2))).unwrap();
    let entry = snapshot::ProducerEntry {
        producer_id: 7,
        epoch: 0,
        last_sequence: 0,
        last_offset: 0,
        offset_delta: 0,
        timestamp: 1,
        coordinator_epoch: -1,
        current_txn_first_offset: -1,
    };
    snapshot::write(&d, 1, &[entry]).unwrap();
    let mut log = PartitionLog::open(&d, cfg).unwrap();
    assert_eq!(log.log_end_offset(), 3);
    // Producer 7's batch at 1 was replayed over the snapshot at 1: its retry is a duplicate,
    // and its next sequence follows it.
    assert!(matches!(log.append(&idem(7, 1)).unwrap(), Appended::Duplicate(1, _)));
    assert!(matches!(log.append(&idem(8, 0)).unwrap(), Appended::Duplicate(2, _)));
    assert_eq!(log.append(&idem(7, 2)).unwrap(), Appended::At(3));
}

#[test]
fn a_turn_syncs_every_durable_log_it_wrote_at_once() {
    let d = temp_dir("sync-all");
    let cfg = LogConfig { flush_messages: 1, segment_bytes: 2500, ..LogConfig::DEFAULT };
    let (mut m, first) = manager_with(&d, cfg, Duration::from_secs(3600));
    let topic_id = crate::uuid::random();
    let mut ids = vec![first];
    for p in 0..3 {
        ids.push(m.open("u", &topic_id, p, 0).unwrap());
    }
    for &id in &ids {
        m.set_config(id, cfg);
    }
    // The first log rolls within the turn: its closed segment is synced with the rest.
    for _ in 0..4 {
        m.append(first, &batch(1, 1000)).unwrap();
    }
    for &id in &ids[1..] {
        m.append(id, &batch(2, 10)).unwrap();
    }
    let (mut written, mut failed) = (Vec::new(), Vec::new());
    m.flush(&mut written, &mut failed);
    written.sort();
    assert_eq!((written, failed), (ids.clone(), vec![]));
    assert!(m.get(first).segments.len() > 1, "rolled");
    for &id in &ids {
        assert_eq!(m.get(id).unflushed_messages(), 0);
        assert_eq!(m.get(id).recovery_point, m.get(id).log_end_offset);
    }
}
