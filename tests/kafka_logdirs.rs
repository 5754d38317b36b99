//! Log directories move both ways between minikafka and Apache Kafka 4.4.0: a directory
//! minikafka wrote opens in Kafka (records, committed offsets, deleted topics, and segments and
//! indexes that Kafka's DumpLogSegments accepts), and one Kafka wrote opens in minikafka
//! (including transactional and compacted partitions). Clients are librdkafka's, through the
//! `rdkafka` crate, against whichever broker holds the directory.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use common::kafka::{run_class, Kafka, KafkaOptions};
use common::{block_on, rdkafka_config, Broker, TempDir};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, Timestamp, TopicPartitionList};

/// How long any one client operation may take.
const WAIT: Duration = Duration::from_secs(30);
/// Base of the CreateTime timestamps the tests set.
const TS0: i64 = 1_700_000_000_000;

/// One JVM at a time: the two tests each run Kafka, and start-up times are compared.
static JVM: Mutex<()> = Mutex::new(());

fn jvm_lock() -> std::sync::MutexGuard<'static, ()> {
    JVM.lock().unwrap_or_else(|e| e.into_inner())
}

// ----- records --------------------------------------------------------------------------------

/// A record as produced and as consumed.
#[derive(Clone, Debug, PartialEq)]
struct Rec {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    ts: i64,
}

/// `n` records of `tag`: keys (some null), values large enough that segments roll and indexes
/// get entries, headers (some null, some repeated), distinct timestamps.
fn recs(tag: &str, n: usize) -> Vec<Rec> {
    (0..n)
        .map(|i| {
            let mut headers = vec![("i".to_string(), Some(i.to_string().into_bytes()))];
            if i % 3 == 0 {
                headers.push(("null".to_string(), None));
            }
            if i % 4 == 1 {
                headers.push(("dup".to_string(), Some(b"a".to_vec())));
                headers.push(("dup".to_string(), Some(vec![0, 255])));
            }
            // Varied, partly compressible values: some batches shrink a lot, some little.
            let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let noise: String = (0..40 + i % 90)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (b'a' + (x % 26) as u8) as char
                })
                .collect();
            Rec {
                key: (i % 5 != 2).then(|| format!("{tag}-k{}", i % 11).into_bytes()),
                value: Some(format!("{tag}#{i}:{noise}{}", "x".repeat(i % 200)).into_bytes()),
                headers,
                ts: TS0 + i as i64 * 10,
            }
        })
        .collect()
}

fn producer(addr: SocketAddr, settings: &[(&str, &str)]) -> BaseProducer {
    let mut c = rdkafka_config(addr);
    // Idempotent: a batch retried under load (or while a new topic's leader gets ready) is
    // neither written twice nor put behind the next one, so the logs hold exactly what was sent.
    c.set("linger.ms", "5")
        .set("message.timeout.ms", "20000")
        .set("batch.num.messages", "7")
        .set("enable.idempotence", "true");
    for (k, v) in settings {
        c.set(*k, *v);
    }
    c.create().expect("create producer")
}

/// Sends `recs` to `topic`/`partition` and waits until every one is delivered.
fn send_all(p: &BaseProducer, topic: &str, partition: i32, recs: &[Rec]) {
    for r in recs {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &r.headers {
            headers = headers.insert(Header { key: k, value: v.as_deref() });
        }
        let mut record: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(topic).partition(partition).timestamp(r.ts).headers(headers);
        if let Some(k) = &r.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            record = record.payload(v.as_slice());
        }
        let mut record = record;
        loop {
            match p.send(record) {
                Ok(()) => break,
                Err((e, back)) => {
                    assert!(
                        format!("{e}").contains("Queue full"),
                        "enqueue to {topic}-{partition}: {e}"
                    );
                    p.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
        p.poll(Duration::ZERO);
    }
    p.flush(WAIT).unwrap_or_else(|e| panic!("flush to {topic}-{partition}: {e}"));
}

fn admin(addr: SocketAddr) -> AdminClient<DefaultClientContext> {
    rdkafka_config(addr).create().expect("create admin client")
}

fn admin_opts() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(20)))
        .operation_timeout(Some(Duration::from_secs(20)))
}

/// A topic to create: name, partitions, configs.
type TopicSpec<'a> = (&'a str, i32, &'a [(&'a str, &'a str)]);

fn create_topics(addr: SocketAddr, topics: &[TopicSpec<'_>]) {
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, n, configs)| {
            let mut t = NewTopic::new(name, *n, TopicReplication::Fixed(1));
            for (k, v) in *configs {
                t = t.set(k, v);
            }
            t
        })
        .collect();
    for r in block_on(admin(addr).create_topics(&new, &admin_opts()), WAIT).expect("CreateTopics") {
        r.unwrap_or_else(|(t, e)| panic!("create {t}: {e}"));
    }
}

fn delete_topic(addr: SocketAddr, topic: &str) {
    for r in
        block_on(admin(addr).delete_topics(&[topic], &admin_opts()), WAIT).expect("DeleteTopics")
    {
        r.unwrap_or_else(|(t, e)| panic!("delete {t}: {e}"));
    }
}

/// Topic names the broker lists in its metadata.
fn topic_names(addr: SocketAddr) -> Vec<String> {
    let c: BaseConsumer = rdkafka_config(addr).create().unwrap();
    let md = c.fetch_metadata(None, WAIT).expect("metadata");
    let mut v: Vec<String> = md.topics().iter().map(|t| t.name().to_string()).collect();
    v.sort();
    v
}

/// A consumed record with its offset.
type Got = (i64, Rec);

/// Reads `topic`/`partition` from the beginning until `n` records came, in `isolation`.
fn consume(addr: SocketAddr, topic: &str, partition: i32, n: usize, isolation: &str) -> Vec<Got> {
    let c: BaseConsumer = rdkafka_config(addr)
        .set("group.id", "reader")
        .set("enable.auto.commit", "false")
        .set("isolation.level", isolation)
        .set("fetch.wait.max.ms", "100")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning).unwrap();
    c.assign(&tpl).unwrap();
    let deadline = Instant::now() + WAIT;
    let (mut got, mut errors) = (Vec::new(), Vec::new());
    while got.len() < n {
        assert!(
            Instant::now() < deadline,
            "{topic}-{partition}: consumed {} of {n} records; errors {errors:?}",
            got.len()
        );
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter().map(|x| (x.key.to_string(), x.value.map(<[u8]>::to_vec))).collect()
                    })
                    .unwrap_or_default();
                let Timestamp::CreateTime(ts) = m.timestamp() else {
                    panic!("{topic}-{partition}@{}: timestamp {:?}", m.offset(), m.timestamp())
                };
                got.push((
                    m.offset(),
                    Rec {
                        key: m.key().map(<[u8]>::to_vec),
                        value: m.payload().map(<[u8]>::to_vec),
                        headers,
                        ts,
                    },
                ));
            }
            Some(Err(e)) => errors.push(e.to_string()),
            None => {}
        }
    }
    got
}

/// Asserts that `topic`/`partition` holds exactly `want` at offsets 0, 1, 2, ...
fn assert_reads(addr: SocketAddr, topic: &str, partition: i32, want: &[Rec]) {
    let got = consume(addr, topic, partition, want.len(), "read_uncommitted");
    for (i, ((offset, g), w)) in got.iter().zip(want).enumerate() {
        assert_eq!(*offset, i as i64, "{topic}-{partition}: offsets run 0, 1, 2, ...");
        assert_eq!(g, w, "{topic}-{partition} offset {i}");
    }
}

/// Commits `offsets` for `group` from a consumer without members (a standalone commit).
fn commit(addr: SocketAddr, group: &str, offsets: &[(&str, i32, i64)]) {
    let c: BaseConsumer = rdkafka_config(addr).set("group.id", group).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o)).unwrap();
    }
    // A new offsets topic has its coordinator loading for a moment: retried, as clients do.
    let deadline = Instant::now() + WAIT;
    while let Err(e) = c.commit(&tpl, CommitMode::Sync) {
        assert!(Instant::now() < deadline, "commit {group}: {e}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// The committed offsets of `group` for `partitions`, through OffsetFetch.
fn committed(addr: SocketAddr, group: &str, partitions: &[(&str, i32)]) -> Vec<Offset> {
    let c: BaseConsumer = rdkafka_config(addr).set("group.id", group).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    for (t, p) in partitions {
        tpl.add_partition(t, *p);
    }
    let got = c.committed_offsets(tpl, WAIT).unwrap_or_else(|e| panic!("OffsetFetch: {e}"));
    partitions.iter().map(|(t, p)| got.find_partition(t, *p).unwrap().offset()).collect()
}

// ----- files ---------------------------------------------------------------------------------

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The files with `ext` in a partition directory, sorted.
fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Runs Kafka's DumpLogSegments on `files` with `flags`; returns stdout, failing on any error.
fn dump_log_segments(files: &[PathBuf], flags: &[&str]) -> String {
    let list = files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
    let mut args = vec!["--files", list.as_str()];
    args.extend_from_slice(flags);
    let out = run_class("org.apache.kafka.tools.DumpLogSegments", &args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "DumpLogSegments {flags:?} failed:\n{stdout}\n{stderr}");
    assert!(
        stderr.trim().is_empty(),
        "DumpLogSegments {flags:?} reported:\n{stderr}\n(stdout:\n{stdout})"
    );
    stdout
}

// ----- minikafka writes, Kafka reads -----------------------------------------------------------

const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

#[test]
fn a_directory_minikafka_wrote_opens_in_kafka() {
    let tmp = TempDir::new("to-kafka");
    let dir = tmp.join("logs");
    // Retention checks often, by the log start offset alone: the records carry 2023
    // timestamps, which time retention would delete.
    let broker = Broker::start_with(
        &dir,
        &[
            "log.segment.bytes=12000",
            "log.retention.ms=-1",
            "log.initial.task.delay.ms=0",
            "log.retention.check.interval.ms=100",
            "log.cleaner.backoff.ms=50",
        ],
    );
    let addr = broker.addr;
    let compact = [("cleanup.policy", "compact"), ("min.cleanable.dirty.ratio", "0.01")];
    create_topics(
        addr,
        &[
            ("codecs", 5, &[]),
            ("idem", 2, &[]),
            ("gone", 1, &[]),
            ("trimmed", 1, &[]),
            ("compacted", 1, &compact),
            ("txn", 1, &[]),
        ],
    );
    let mut want: BTreeMap<(String, i32), Vec<Rec>> = BTreeMap::new();
    // One partition per codec, so each partition's batches all carry that codec.
    for (p, codec) in CODECS.iter().enumerate() {
        let prod = producer(addr, &[("compression.codec", codec)]);
        let r = recs(codec, 300);
        send_all(&prod, "codecs", p as i32, &r);
        want.insert(("codecs".into(), p as i32), r);
    }
    let idem = producer(addr, &[("enable.idempotence", "true"), ("compression.codec", "lz4")]);
    for p in 0..2 {
        let r = recs(&format!("idem{p}"), 200);
        send_all(&idem, "idem", p, &r);
        want.insert(("idem".into(), p), r);
    }
    drop(idem);
    send_all(&producer(addr, &[]), "gone", 0, &recs("gone", 20));
    // DeleteRecords moves the start; the next check deletes the segments wholly below it.
    let trimmed = recs("trimmed", 300);
    send_all(&producer(addr, &[]), "trimmed", 0, &trimmed);
    let mut below = TopicPartitionList::new();
    below.add_partition_offset("trimmed", 0, Offset::Offset(150)).unwrap();
    block_on(admin(addr).delete_records(&below, &admin_opts()), WAIT).expect("DeleteRecords");
    let first_segment = || with_ext(&dir.join("trimmed-0"), "log")[0].clone();
    assert!(
        common::eventually(WAIT, || first_segment()
            != dir.join("trimmed-0").join("00000000000000000000.log")),
        "segments below the start deleted"
    );
    // A compacted topic the cleaner has rewritten: cleaned segments swapped in, with the
    // index files and cleaner checkpoint Kafka keeps.
    let keyed: Vec<Rec> = recs("cmp", 400).into_iter().filter(|r| r.key.is_some()).collect();
    send_all(&producer(addr, &[]), "compacted", 0, &keyed);
    broker
        .logs
        .wait_for(WAIT, |l| l.contains("compacted-0: cleaned up to offset"))
        .expect("the compacted topic is cleaned");
    let compacted = consume_to_end(addr, "compacted", 0);
    assert!(
        compacted.len() < keyed.len() / 2,
        "{} of {} records left",
        compacted.len(),
        keyed.len()
    );
    // Transactions through minikafka's coordinator: committed, aborted, committed.
    let txp = producer(addr, &[("transactional.id", "to-kafka")]);
    txp.init_transactions(WAIT).expect("init transactions");
    // Timestamps of now: markers carry the coordinator's clock, and 2023 records would roll
    // the segment at each (segment.ms); one segment lets DumpLogSegments check offsets run on.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let mut all_txn = headerless(recs("txn", 30));
    for (i, r) in all_txn.iter_mut().enumerate() {
        r.ts = now.as_millis() as i64 + i as i64;
    }
    transaction(&txp, "txn", &all_txn[..10], true);
    transaction(&txp, "txn", &all_txn[10..20], false);
    transaction(&txp, "txn", &all_txn[20..], true);
    drop(txp);
    commit(addr, "g1", &[("codecs", 0, 100), ("codecs", 4, 299), ("idem", 1, 7)]);
    commit(addr, "g2", &[("idem", 0, 200)]);
    delete_topic(addr, "gone");
    assert!(common::eventually(WAIT, || !dir.join("gone-0").exists()), "gone-0 removed");
    let status = broker.stop();
    assert!(status.success(), "minikafka exits 0 on SIGTERM: {status}");

    // What a clean shutdown leaves, as Kafka leaves it.
    for f in [
        ".kafka_cleanshutdown",
        "recovery-point-offset-checkpoint",
        "log-start-offset-checkpoint",
        "replication-offset-checkpoint",
    ] {
        assert!(dir.join(f).exists(), "{f} written on shutdown");
    }
    let recovery = fs::read_to_string(dir.join("recovery-point-offset-checkpoint")).unwrap();
    assert!(recovery.starts_with("0\n"), "{recovery}");
    assert!(recovery.lines().any(|l| l == "codecs 0 300"), "{recovery}");
    let cleaner = fs::read_to_string(dir.join("cleaner-offset-checkpoint")).unwrap();
    assert!(cleaner.lines().any(|l| l.starts_with("compacted 0 ")), "{cleaner}");
    let mut segment_files = Vec::new();
    let compacted_key = ("compacted".to_string(), 0);
    for (topic, p) in want.keys().chain([&compacted_key]) {
        let pdir = dir.join(format!("{topic}-{p}"));
        let logs = with_ext(&pdir, "log");
        assert!(logs.len() >= 2, "{topic}-{p} rolled: {logs:?}");
        for log in &logs {
            for ext in ["index", "timeindex"] {
                let f = log.with_extension(ext);
                assert!(f.exists(), "{} beside {}", f.display(), log.display());
                segment_files.push(f);
            }
            segment_files.push(log.clone());
        }
        assert_eq!(
            fs::read_to_string(pdir.join("leader-epoch-checkpoint")).unwrap(),
            "0\n1\n0 0\n",
            "{topic}-{p}: epoch 0 from offset 0"
        );
    }
    eprintln!("minikafka wrote in codecs-0: {:?}", files_under(&dir.join("codecs-0")));

    // Kafka's own tool finds the indexes sane and every entry pointing at its batch.
    dump_log_segments(&segment_files, &["--index-sanity-check"]);
    dump_log_segments(&segment_files, &["--verify-index-only"]);
    let idx: Vec<PathBuf> = segment_files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "index"))
        .cloned()
        .collect();
    let dumped = dump_log_segments(&idx, &[]);
    assert!(dumped.contains("offset: "), "some index entries:\n{dumped}");
    // The idempotent producer's state, in Kafka's snapshot format at the log end.
    let snapshots = with_ext(&dir.join("idem-0"), "snapshot");
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let dumped = dump_log_segments(&snapshots, &[]);
    assert!(dumped.contains("producerId: "), "the snapshot as Kafka reads it:\n{dumped}");
    // The markers and the aborted transaction's `.txnindex` entry, as Kafka reads them.
    let txn_logs = with_ext(&dir.join("txn-0"), "log");
    assert_eq!(txn_logs.len(), 1, "{txn_logs:?}");
    let dumped = dump_log_segments(&txn_logs, &["--deep-iteration"]);
    assert_eq!(dumped.matches("endTxnMarker: COMMIT coordinatorEpoch: 0").count(), 2, "{dumped}");
    assert_eq!(dumped.matches("endTxnMarker: ABORT coordinatorEpoch: 0").count(), 1, "{dumped}");
    let txn_index = with_ext(&dir.join("txn-0"), "txnindex");
    let dumped = dump_log_segments(&txn_index, &[]);
    assert!(dumped.contains("firstOffset: 11 lastOffset: 21"), "{dumped}");

    let _jvm = jvm_lock();
    let conf = tmp.join("conf");
    let started = Instant::now();
    let kafka = Kafka::start(&dir, &conf, &info_logging(&conf));
    let took = started.elapsed();
    eprintln!("TIMING Kafka start on minikafka's directory: {took:?}");
    let kaddr = kafka.addr;
    let names = topic_names(kaddr);
    assert!(!names.contains(&"gone".to_string()), "the deleted topic is gone: {names:?}");
    for ((topic, p), r) in &want {
        assert_reads(kaddr, topic, *p, r);
    }
    assert_eq!(
        committed(kaddr, "g1", &[("codecs", 0), ("codecs", 4), ("idem", 1), ("idem", 0)]),
        [Offset::Offset(100), Offset::Offset(299), Offset::Offset(7), Offset::Invalid]
    );
    assert_eq!(committed(kaddr, "g2", &[("idem", 0)]), [Offset::Offset(200)]);
    // Kafka serves the cleaned log as minikafka did, gaps in the offsets and all.
    assert_eq!(consume_to_end(kaddr, "compacted", 0), compacted);
    // Kafka takes the log start offset minikafka checkpointed, inside its first segment.
    let c: BaseConsumer = rdkafka_config(kaddr).create().unwrap();
    assert_eq!(c.fetch_watermarks("trimmed", 0, WAIT).unwrap(), (150, 300));
    let got = consume(kaddr, "trimmed", 0, 1, "read_uncommitted");
    assert_eq!(got[0].0, 150, "reads start at the log start offset");
    assert_eq!(got[0].1, trimmed[150]);
    // Kafka leaves out the transaction minikafka's coordinator aborted.
    let got = consume(kaddr, "txn", 0, 20, "read_committed");
    let committed_txn: Vec<Rec> = all_txn[..10].iter().chain(&all_txn[20..]).cloned().collect();
    assert_eq!(got.iter().map(|g| g.1.clone()).collect::<Vec<_>>(), committed_txn);
    kafka.stop();
    let complaints = complaints(&conf, FIRST_START_ON_MINIKAFKA);
    assert!(
        complaints.is_empty(),
        "Kafka complained about the directory:\n{}",
        complaints.join("\n")
    );
}

/// What Kafka logs when it recovers a segment or rebuilds an index instead of trusting it.
const RECOVERY_LINES: [&str; 5] = [
    "Recovering unflushed segment",
    "rebuilding index files",
    "Corruption found in segment",
    "Deleting all segments",
    "Found invalid offset during recovery",
];

/// Lines of Kafka's log in `conf` that are errors, warnings, or recovery of a partition log
/// (the metadata log's own recovery, which Kafka does on every start, aside), less `expected`.
fn complaints(conf: &Path, expected: &[&str]) -> Vec<String> {
    let log = fs::read_to_string(conf.join("kafka.out")).unwrap();
    log.lines()
        .filter(|l| {
            let recovery = RECOVERY_LINES.iter().any(|m| l.contains(m))
                && !l.contains("partition=__cluster_metadata-0");
            (l.contains(" ERROR ") || l.contains(" WARN ") || recovery)
                && !expected.iter().any(|m| l.contains(m))
                && !EVERY_START.iter().any(|m| l.contains(m))
        })
        .map(|l| l.chars().take(400).collect())
        .collect()
}

/// Lines Kafka logs on starting and stopping whatever the directory, its own included.
const EVERY_START: &[&str] = &[
    "Performing controller activation",
    // Leadership moves at registration: coordinator loads on the first image are cancelled.
    "because the partition is not online or is no longer the leader",
    "Attempting to close NetworkClient that has already been closed",
    // The broker's controller registration can race the controller's activation; retried.
    "apiKey=CONTROLLER_REGISTRATION",
];

/// What Kafka logs the first time it starts on a directory minikafka formatted:
/// - no quorum-state file yet, while the metadata log's batches carry epoch 1;
/// - the broker was never registered, so the controller fences it on registration and moves
///   every partition's leadership away and back;
/// - partitions not yet assigned to a directory (PartitionRecord v0) are assigned by the
///   broker, and its first attempt, before it knows its broker epoch, is refused and retried.
const FIRST_START_ON_MINIKAFKA: &[&str] =
    &["Epoch from quorum store file", "STALE_BROKER_EPOCH", "apiKey=ASSIGN_REPLICAS_TO_DIRS"];

/// Kafka's options with its log at INFO, so that log loading can be read from `kafka.out`.
fn info_logging(conf: &Path) -> KafkaOptions {
    fs::create_dir_all(conf).unwrap();
    let path = conf.join("log4j2-info.properties");
    fs::write(&path, common::kafka::log4j_properties("info")).unwrap();
    let mut opts = KafkaOptions::default();
    opts.jvm.push(format!("-Dlog4j2.configurationFile={}", path.display()));
    opts
}

// ----- Kafka writes, minikafka reads -----------------------------------------------------------

/// Sends `recs` in one transaction of `p`, committed or aborted.
fn transaction(p: &BaseProducer, topic: &str, recs: &[Rec], commit: bool) {
    p.begin_transaction().expect("begin transaction");
    for r in recs {
        let mut rec: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(topic).partition(0).timestamp(r.ts);
        if let Some(k) = &r.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            rec = rec.payload(v.as_slice());
        }
        p.send(rec).map_err(|(e, _)| e).expect("enqueue transactional record");
    }
    p.flush(WAIT).expect("flush transaction");
    if commit {
        p.commit_transaction(WAIT).expect("commit transaction");
    } else {
        p.abort_transaction(WAIT).expect("abort transaction");
    }
}

fn headerless(mut r: Vec<Rec>) -> Vec<Rec> {
    for x in &mut r {
        x.headers.clear();
    }
    r
}

#[test]
fn a_directory_kafka_wrote_opens_in_minikafka() {
    let tmp = TempDir::new("from-kafka");
    let dir = tmp.join("logs");
    let conf = tmp.join("conf");
    let _jvm = jvm_lock();
    let opts = info_logging(&conf)
        .set("log.cleaner.backoff.ms", "100")
        // Snapshots of the metadata log soon, so that minikafka replays one.
        .set("metadata.log.max.snapshot.interval.ms", "500");
    let kafka = Kafka::start(&dir, &conf, &opts);
    let addr = kafka.addr;
    create_topics(
        addr,
        &[
            ("codecs", 5, &[]),
            ("idem", 1, &[]),
            ("txn", 1, &[]),
            ("gone", 1, &[]),
            (
                "compacted",
                1,
                &[
                    ("cleanup.policy", "compact"),
                    ("segment.ms", "100"),
                    ("min.cleanable.dirty.ratio", "0.01"),
                    ("delete.retention.ms", "0"),
                ],
            ),
        ],
    );
    let mut want: BTreeMap<(String, i32), Vec<Rec>> = BTreeMap::new();
    for (p, codec) in CODECS.iter().enumerate() {
        let r = recs(codec, 120);
        send_all(&producer(addr, &[("compression.codec", codec)]), "codecs", p as i32, &r);
        want.insert(("codecs".into(), p as i32), r);
    }
    let r = recs("idem", 100);
    send_all(
        &producer(addr, &[("enable.idempotence", "true"), ("compression.codec", "zstd")]),
        "idem",
        0,
        &r,
    );
    want.insert(("idem".into(), 0), r);
    send_all(&producer(addr, &[]), "gone", 0, &recs("gone", 5));

    // Transactions: committed, aborted, committed.
    let txp = producer(addr, &[("transactional.id", "tx-1"), ("compression.codec", "gzip")]);
    txp.init_transactions(WAIT).expect("init transactions");
    let all_txn = headerless(recs("txn", 30));
    transaction(&txp, "txn", &all_txn[..10], true);
    transaction(&txp, "txn", &all_txn[10..20], false);
    transaction(&txp, "txn", &all_txn[20..], true);
    drop(txp);

    // Compaction: rounds of the same keys until the cleaner has cleaned some segments.
    let cp = producer(addr, &[]);
    let mut latest: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let cleaned = || {
        fs::read_to_string(dir.join("cleaner-offset-checkpoint"))
            .is_ok_and(|t| t.lines().any(|l| l.starts_with("compacted 0 ") && !l.ends_with(" 0")))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut round = 0;
    while !cleaned() {
        assert!(Instant::now() < deadline, "Kafka's cleaner did not run on compacted-0");
        let batch: Vec<Rec> = (0..8)
            .map(|k| Rec {
                key: Some(format!("key{k}").into_bytes()),
                value: Some(format!("round{round}-{k}").into_bytes()),
                headers: Vec::new(),
                ts: TS0 + round * 100 + k,
            })
            .collect();
        send_all(&cp, "compacted", 0, &batch);
        for r in batch {
            latest.insert(r.key.unwrap(), r.value.unwrap());
        }
        round += 1;
    }
    eprintln!("compaction ran after {round} rounds");

    commit(addr, "g1", &[("codecs", 0, 100), ("codecs", 4, 119), ("idem", 0, 7)]);
    delete_topic(addr, "gone");
    let snapshot_taken = || {
        fs::read_dir(dir.join("__cluster_metadata-0")).unwrap().any(|e| {
            let n = e.unwrap().file_name().to_string_lossy().to_string();
            n.ends_with(".checkpoint") && !n.starts_with("00000000000000000000-")
        })
    };
    assert!(common::eventually(WAIT, snapshot_taken), "Kafka took a metadata snapshot");
    kafka.stop();
    eprintln!(
        "Kafka wrote in the metadata log dir: {:?}",
        files_under(&dir.join("__cluster_metadata-0"))
    );
    eprintln!("Kafka wrote in txn-0: {:?}", files_under(&dir.join("txn-0")));
    eprintln!("Kafka wrote in compacted-0: {:?}", files_under(&dir.join("compacted-0")));

    // Kafka's own restart on its directory, to set beside its start on minikafka's.
    let started = Instant::now();
    let kafka = Kafka::start(&dir, &conf, &opts);
    eprintln!("TIMING Kafka restart on its own directory: {:?}", started.elapsed());
    kafka.stop();
    // Stopped at once, Kafka may still be loading its group coordinator's partitions, whose
    // pending events it then logs as failed: its shutdown race, not a word on the directory.
    let complaints = complaints(&conf, &["EventProcessor is closed"]);
    assert!(
        complaints.is_empty(),
        "Kafka complained about its own directory:\n{}",
        complaints.join("\n")
    );
    drop(_jvm);

    assert!(dir.join(".kafka_cleanshutdown").exists(), "Kafka stopped cleanly");
    let broker = Broker::start_with(&dir, &["node.id=1"]);
    let baddr = broker.addr;
    assert!(
        !dir.join(".kafka_cleanshutdown").exists(),
        "a running minikafka takes the marker away, so that a crash does not pass for clean"
    );
    assert!(!topic_names(baddr).contains(&"gone".to_string()), "the deleted topic is gone");
    for ((topic, p), r) in &want {
        assert_reads(baddr, topic, *p, r);
    }
    // read_uncommitted: every transactional record, the markers skipped.
    let got = consume(baddr, "txn", 0, 30, "read_uncommitted");
    assert_eq!(got.iter().map(|g| g.1.clone()).collect::<Vec<_>>(), all_txn);
    let offsets: Vec<i64> = got.iter().map(|g| g.0).collect();
    assert_eq!(offsets[10], 11, "a commit marker sits at offset 10: {offsets:?}");
    // read_committed: the aborted transaction left out.
    let got = consume(baddr, "txn", 0, 20, "read_committed");
    let committed_recs: Vec<Rec> = all_txn[..10].iter().chain(&all_txn[20..]).cloned().collect();
    assert_eq!(got.iter().map(|g| g.1.clone()).collect::<Vec<_>>(), committed_recs);
    // The compacted topic: the latest value of every key, and fewer records than were sent.
    let mut survivors: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let all = consume_to_end(baddr, "compacted", 0);
    assert!(all.len() < (round as usize) * 8, "the cleaner removed records: {} left", all.len());
    for (_, r) in &all {
        survivors.insert(r.key.clone().unwrap(), r.value.clone().unwrap());
    }
    assert_eq!(survivors, latest, "the latest value of every key survives");
    assert_eq!(
        committed(baddr, "g1", &[("codecs", 0), ("codecs", 4), ("idem", 0)]),
        [Offset::Offset(100), Offset::Offset(119), Offset::Offset(7)]
    );
    // Kafka's `__transaction_state` loaded: the transactional id keeps the producer id
    // Kafka gave it (the one its batches carry), with a later epoch than they carry.
    let txn_log = fs::read(dir.join("txn-0/00000000000000000000.log")).unwrap();
    let kafka_pid = i64::from_be_bytes(txn_log[43..51].try_into().unwrap());
    let kafka_epoch = i16::from_be_bytes(txn_log[51..53].try_into().unwrap());
    let req = kafka_protocol::messages::InitProducerIdRequest::default()
        .with_transactional_id(Some(kafka_protocol::messages::TransactionalId(
            kafka_protocol::protocol::StrBytes::from_static_str("tx-1"),
        )))
        .with_transaction_timeout_ms(60_000);
    let r = common::Client::connect(baddr).kp_call(4, &req);
    assert_eq!((r.error_code, r.producer_id.0), (0, kafka_pid), "{r:?}");
    assert!(r.producer_epoch > kafka_epoch, "{r:?} after epoch {kafka_epoch}");
    let status = broker.stop();
    assert!(status.success());
    assert!(dir.join(".kafka_cleanshutdown").exists(), "minikafka stopped cleanly");
}

/// Every record of `topic`/`partition` up to its high watermark.
fn consume_to_end(addr: SocketAddr, topic: &str, partition: i32) -> Vec<Got> {
    let c: BaseConsumer = rdkafka_config(addr).set("group.id", "reader").create().unwrap();
    let (_, high) = c.fetch_watermarks(topic, partition, WAIT).expect("watermarks");
    let mut got = Vec::new();
    let c: BaseConsumer = rdkafka_config(addr)
        .set("group.id", "reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "100")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning).unwrap();
    c.assign(&tpl).unwrap();
    let deadline = Instant::now() + WAIT;
    while got.last().is_none_or(|(o, _): &Got| *o + 1 < high) {
        assert!(Instant::now() < deadline, "{topic}-{partition}: not read to {high}");
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            got.push((
                m.offset(),
                Rec {
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                    headers: Vec::new(),
                    ts: 0,
                },
            ));
        }
    }
    got
}
