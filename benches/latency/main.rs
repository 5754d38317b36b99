//! minikafka's latency and throughput benchmark (`cargo bench`).
//!
//! Starts the release binary on an ephemeral port over a temporary log directory prepared with
//! the library (formatted, topics added, segments pre-filled), and drives raw Kafka protocol from
//! its own threads over blocking loopback sockets. Each broker scenario runs against a fresh
//! broker, prints one table row and one `BENCH {...}` JSON line; a failing scenario prints an
//! error row and the others still run. Targets are reported as met / not met, never asserted.
//!
//! Baseline rows measure the machine alone, with no broker:
//! - `loopback_rtt`: the `produce_1` request, one in flight, to an in-process echo that answers
//!   with a body of the produce response's size (`echo.rs`, a blocking thread per connection);
//! - `loopback_pipe16k`: the `produce_16k_pipe8` requests, 8 in flight, to that echo;
//! - `disk_append16k`: this process appending the same 16 KiB batches with `write_all` to a
//!   fresh file in the temp dir, beside the broker's log directories (`disk.rs`): the page
//!   cache's append rate. Latency and req/s are per write call;
//! - `disk_fdatasync16k`: the same appends, each followed by `fdatasync` (`File::sync_data`),
//!   one at a time: the disk's own sync rate, durable mode's floor. Latency is per write and
//!   its sync, req/s are syncs/s; the JSON line adds the block device's cache flushes per
//!   sync (`/proc/diskstats`, every process's);
//! - `loopback_64conn`: the `produce_64conn` load to an echo on one mio event loop
//!   (`echo_loop.rs`): the ceiling of a one-thread server at 64 connections on this machine.
//!
//! Latencies are in microseconds (request written to response read), throughput in requests/s,
//! records/s and MB/s (10^6 bytes of record batches per second). `x_p50` / `x_p99` are ratios to
//! the bare loopback round trip (`loopback_rtt`) of the same run, except in `produce_1`, whose
//! target compares latency with loopback: there they are to an echo of the same sizes measured
//! in slices interleaved with the broker's. `disk_append16k` has none (a write is no round trip).
//! `produce_16k_pipe8` measures in interleaved slices both the echo and the page-cache append
//! of its batches (`disk_append16k`'s load), and gives its MB/s as shares of theirs:
//! `ratio_mb_s` of the echo's `echo_mb_s`, `ratio_disk` of the append's `disk_mb_s`.
//! `produce_64conn` likewise interleaves the one-thread echo (`loopback_64conn`'s load) and
//! gives its requests/s as `ratio_req_s` of the echo's `echo_req_s`.
//! `cpu%` is the broker's own CPU while it was driven (its threads' time on a CPU, from
//! `/proc/<pid>/task/*/schedstat`, over the broker's slices, warm-ups included), in percent of one
//! core, with the kernel's share of it and the CPU time per request in the JSON line
//! (`broker_cpu`, `sys_share`, `cpu_us_per_req`): near 100% the broker is what limits a
//! scenario, well below it the client or the machine is.
//! Each row also says how much CPU other processes took meanwhile (`other_cpu`, in cores);
//! above 0.25 cores the row is flagged BUSY.
//!
//! Durable mode (`durable.rs`): `produce_1_durable`, `produce_16k_pipe8_durable` and
//! `produce_64conn_durable` are those loads on a broker started with
//! `--override log.flush.interval.messages=1` (every partition a turn appended to is
//! `fdatasync`ed before the turn's answers), and `produce_64conn_1p_durable` the 64 connections
//! to one partition. Each measures `disk_fdatasync16k`'s load with its own record batch (170 B
//! or 16 KiB) in slices interleaved with it (for half the run's measuring time a side); its
//! `x_p50` / `x_p99` are ratios to that write+sync's latency, and `ratio_fsync` (JSON) is its
//! requests/s over the baseline's syncs/s: above 1, several requests shared one sync (group
//! commit, within one partition and one turn). The JSON line adds the device's cache flushes
//! per second during the broker's slices and requests per flush (`req_per_flush`).
//!
//! `produce_1_acls` (`acl.rs`) is `produce_1` with the authorizer on: a SASL PLAIN login,
//! then produce under a few hundred ACLs.
//!
//! `produce_1_flooded` (`flood.rs`) is `produce_1` on a broker under the floods of
//! `tests/floods.rs`: 200 consumers that pipelined 8 Fetches each of a 32 MiB partition and
//! never read, and a producer writing 64 KiB batches as fast as it is answered (8 in flight) to
//! a topic whose retention keeps 16 MiB. It is measured in slices interleaved with the same load
//! on an unflooded twin broker (the stuck consumers stay; the producer floods only during the
//! flooded broker's slices); its `x_p50` / `x_p99` are ratios to the twin's. The JSON line gives
//! the flooded broker's RSS idle, its peak sampled during the row (`rss_peak_kib`) and VmHWM.
//! `MINIKAFKA_BENCH_FLOOD_SEGMENT_BYTES` sets the flood topic's segment.bytes (default 8 MiB;
//! retention keeps two segments).
//!
//! Housekeeping under load (`churn.rs`): `produce_1_churn` and `fetch_1_churn` are `produce_1`
//! and `fetch_1` measured in one-second slices with and without a background client feeding a
//! compacted topic and a delete-policy topic at about 2.5 MB/s, interleaved on one broker whose
//! cleaner and retention check as often as they may; their `x_p50` / `x_p99` are ratios to the
//! slices without, and the row says what the cleaner and retention did meanwhile (from the
//! broker's log lines, `housekeeping.rs`). `cleaner_throughput` fills a topic with overwritten
//! keys (32 MB in quick mode, 128 MB in full), makes it compacted, and reports the one cleaning
//! round's MB/s read (the table's MB/s), of log cleaned and written, with `produce_1`'s latency
//! during the round and ratios to it just before.
//!
//! Apache Kafka beside it (`apache.rs`): the broker scenarios also run against one real Kafka
//! (4.4.0, from `tests/common/kafka.rs`: jars fetched by Maven into a cache outside the repo)
//! started once per run with `kafka-server-start.sh`'s JVM settings and warmed up, as rows
//! named `kafka:<scenario>` right after minikafka's, each with its own interleaved baselines;
//! `kafka:startup` times its start-up (beside `startup_empty`, minikafka's on an empty log
//! directory) and `kafka:memory` its resident memory. A summary table after the results
//! gives minikafka, Kafka and the machine's limit side by side. Kafka's `cpu%` is all its
//! threads', so it can exceed 100.
//!
//! Usage: `cargo bench --bench latency [-- [--quick] [--no-kafka] [SCENARIO_SUBSTRING...]]`.
//! Quick mode (`--quick`, `MINIKAFKA_BENCH_QUICK=1`, or a run without cargo's `--bench` flag,
//! as under `cargo test --benches`) runs every scenario briefly. `--no-kafka` leaves Kafka out;
//! a run without `--bench` leaves it out unless given `--kafka`.
//! `MINIKAFKA_BENCH_CLIENT_THREADS` sets the client threads of `produce_64conn` (default 2).
//!
//! Transactions (`txn.rs`): librdkafka as a transactional producer, one unit (begin, send,
//! commit_transaction) after another, with 1 record (`txn_commit_1`: the commit's latency) and
//! 100 records (`txn_100`) per transaction, beside the same client as a plain idempotent
//! producer sending as many records and waiting for their delivery (`idempotent_1`,
//! `idempotent_100`); each with its `kafka:` row.
//!
//! Rebalances (`rebalance.rs`): librdkafka consumers, two in a group on a 6-partition topic,
//! then a third: `rebalance_consumer` times from the third's subscribe until the three own two
//! partitions each on the consumer protocol (KIP-848), `rebalance_classic` the same on the
//! classic protocol with `cooperative-sticky`; each with its `kafka:` row. Latencies are per
//! rebalance, over a few (brokers and clients at their defaults, so mostly heartbeat intervals).
//!
//! The `rdkafka_*` scenarios drive a real client instead: librdkafka (`client.rs`) producing
//! small records with its own batching, each timed from `send` to its delivery report, beside
//! an interleaved acks=0 run of the same load (the client's and the machine's share of the
//! latency; `x_p50` / `x_p99` are ratios to it). Each row also says how long the broker and
//! the client waited for a CPU while producing: on a shared machine that, not the broker, is
//! what makes their tails (`chrt -f 5 cargo bench ...` runs the bench and its broker ahead of
//! other processes). `MINIKAFKA_BENCH_RDKAFKA_RATE` sets the records offered per second
//! (default 600000; 0 for as fast as librdkafka takes them, whose latency is then its queue's).

mod acl;
mod apache;
mod broker;
mod churn;
mod client;
mod compare;
mod cpu;
mod disk;
mod drive;
mod durable;
mod echo;
mod echo_loop;
mod flood;
mod housekeeping;
#[path = "../../tests/common/kafka.rs"]
mod kafka;
mod rebalance;
mod report;
mod server;
mod setup;
mod txn;
mod wire;

use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use apache::Apache;
use broker::{memory_kib, Broker, CpuUse, RssPeak};
use client::Consume;
use drive::{Plan, Run};
use echo::Echo;
use echo_loop::EchoLoop;
use report::{Lat, Row, Target, MB};
use server::{On, Server};
use txn::Mode::{Idempotent, Transactional};
use wire::Conn;

const VALUE_LEN: usize = 100;
const BATCH_BYTES: usize = 16 * 1024;
pub(crate) const PIPELINE_DEPTH: usize = 8;
const CONNECTIONS: usize = 64;
pub(crate) const FETCH_MAX_BYTES: i32 = 1 << 20;
const STARTUP_PARTITIONS: i32 = 1000;
const MEMORY_CONNECTIONS: usize = 1000;
/// Slices of the broker and of each baseline, in turn, in the scenarios that compare them.
const INTERLEAVE_SLICES: u32 = 10;
const START_DEADLINE: Duration = Duration::from_secs(60);

const TOPIC_ONE: &str = "bench-one";
const TOPIC_BATCH: &str = "bench-batch";
const TOPIC_MANY: &str = "bench-many";
const TOPIC_FETCH: &str = "bench-fetch";
const TOPIC_FETCH_ONE: &str = "bench-fetch-one";
/// One-record batches pre-filled for `fetch_1`.
const FETCH_ONE_BATCHES: usize = 10_000;
const TOPIC_STARTUP: &str = "bench-startup";
const TOPIC_MEMORY: &str = "bench-memory";
/// librdkafka's load (see `client.rs`): records per run, and partitions of its topics.
const RDKAFKA_RECORDS: usize = 200_000;
const RDKAFKA_PARTITIONS: i32 = 3;
/// Records offered per second: a steady client a little above the 500k/s target, rather than
/// one that fills librdkafka's queue, whose latency would then be the queue's length.
const RDKAFKA_RATE: f64 = 600_000.0;

struct Ctx {
    quick: bool,
    plan: Plan,
    client_threads: usize,
    /// The bare loopback round trip, the denominator of every latency ratio.
    base_rtt: Option<Lat>,
    kafka: KafkaState,
}

enum KafkaState {
    Off,
    NotStarted,
    Running(Box<Apache>),
    Failed(String),
}

impl Ctx {
    /// The run's Kafka, started and warmed up on first use.
    fn kafka(&mut self) -> Result<&mut Apache, String> {
        if let KafkaState::NotStarted = self.kafka {
            let warm = if self.quick { Duration::from_secs(6) } else { Duration::from_secs(30) };
            self.kafka = match Apache::start(warm) {
                Ok(a) => KafkaState::Running(Box::new(a)),
                Err(e) => KafkaState::Failed(e),
            };
        }
        match &mut self.kafka {
            KafkaState::Running(a) => Ok(a),
            KafkaState::Failed(e) => Err(format!("Kafka did not start: {e}")),
            _ => Err("Kafka is off (--no-kafka)".into()),
        }
    }

    fn kafka_pid(&self) -> Option<u32> {
        match &self.kafka {
            KafkaState::Running(a) => Some(a.pid()),
            _ => None,
        }
    }
}

type Scenario = fn(&mut Ctx) -> Result<Row, String>;

/// Each `kafka:` scenario runs right after minikafka's, so that the two see the same machine.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("loopback_rtt", loopback_rtt),
    ("loopback_pipe16k", loopback_pipe16k),
    ("disk_append16k", disk_append16k),
    ("disk_fdatasync16k", disk_fdatasync16k),
    ("loopback_64conn", loopback_64conn),
    ("startup_empty", |c| startup(c, 0)),
    ("kafka:startup", kafka_startup),
    ("api_versions", |c| api_versions(c, On::Mini)),
    ("kafka:api_versions", |c| api_versions(c, On::Kafka)),
    ("produce_1", |c| produce_1(c, On::Mini)),
    ("kafka:produce_1", |c| produce_1(c, On::Kafka)),
    ("produce_1_durable", durable::produce_1_durable),
    ("produce_1_acls", acl::produce_1_acls),
    ("produce_1_flooded", flood::produce_1_flooded),
    ("produce_16k_pipe8", |c| produce_16k_pipe8(c, On::Mini)),
    ("kafka:produce_16k_pipe8", |c| produce_16k_pipe8(c, On::Kafka)),
    ("produce_16k_pipe8_durable", durable::produce_16k_pipe8_durable),
    ("produce_64conn", |c| produce_64conn(c, On::Mini)),
    ("kafka:produce_64conn", |c| produce_64conn(c, On::Kafka)),
    ("produce_64conn_durable", |c| {
        durable::produce_64conn_durable(c, "produce_64conn_durable", CONNECTIONS as i32)
    }),
    ("produce_64conn_1p_durable", |c| {
        durable::produce_64conn_durable(c, "produce_64conn_1p_durable", 1)
    }),
    ("fetch_1mib", |c| fetch_1mib(c, On::Mini)),
    ("kafka:fetch_1mib", |c| fetch_1mib(c, On::Kafka)),
    ("fetch_1", |c| fetch_1(c, On::Mini)),
    ("kafka:fetch_1", |c| fetch_1(c, On::Kafka)),
    ("produce_1_churn", churn::produce_1_churn),
    ("fetch_1_churn", churn::fetch_1_churn),
    ("cleaner_throughput", churn::cleaner_throughput),
    ("rdkafka_acks1", rdkafka_acks1),
    ("rdkafka_acksall", rdkafka_acksall),
    ("rdkafka_acks1_consume", rdkafka_acks1_consume),
    ("idempotent_1", |c| txn::producer(c, On::Mini, "idempotent_1", Idempotent, 1)),
    ("kafka:idempotent_1", |c| txn::producer(c, On::Kafka, "kafka:idempotent_1", Idempotent, 1)),
    ("txn_commit_1", |c| txn::producer(c, On::Mini, "txn_commit_1", Transactional, 1)),
    ("kafka:txn_commit_1", |c| txn::producer(c, On::Kafka, "kafka:txn_commit_1", Transactional, 1)),
    ("idempotent_100", |c| txn::producer(c, On::Mini, "idempotent_100", Idempotent, 100)),
    ("kafka:idempotent_100", |c| {
        txn::producer(c, On::Kafka, "kafka:idempotent_100", Idempotent, 100)
    }),
    ("txn_100", |c| txn::producer(c, On::Mini, "txn_100", Transactional, 100)),
    ("kafka:txn_100", |c| txn::producer(c, On::Kafka, "kafka:txn_100", Transactional, 100)),
    ("rebalance_consumer", |c| {
        rebalance::join_third(c, On::Mini, "rebalance_consumer", rebalance::Protocol::Consumer)
    }),
    ("kafka:rebalance_consumer", |c| {
        rebalance::join_third(
            c,
            On::Kafka,
            "kafka:rebalance_consumer",
            rebalance::Protocol::Consumer,
        )
    }),
    ("rebalance_classic", |c| {
        rebalance::join_third(c, On::Mini, "rebalance_classic", rebalance::Protocol::Classic)
    }),
    ("kafka:rebalance_classic", |c| {
        rebalance::join_third(c, On::Kafka, "kafka:rebalance_classic", rebalance::Protocol::Classic)
    }),
    ("startup_1000p", |c| startup(c, STARTUP_PARTITIONS)),
    ("startup_big_segment", startup_big_segment),
    ("memory", |c| memory(c, On::Mini)),
    ("kafka:memory", |c| memory(c, On::Kafka)),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env_quick = std::env::var("MINIKAFKA_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let flag = |f: &str| args.iter().any(|a| a == f);
    let quick = env_quick || flag("--quick") || !flag("--bench");
    let with_kafka = !flag("--no-kafka") && (flag("--bench") || flag("--kafka"));
    let filters: Vec<&str> =
        args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let client_threads = std::env::var("MINIKAFKA_BENCH_CLIENT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let plan = if quick {
        Plan {
            warmup: Duration::from_millis(50),
            measure: Duration::from_millis(250),
            max_requests: 200_000,
        }
    } else {
        Plan {
            warmup: Duration::from_millis(500),
            measure: Duration::from_secs(3),
            max_requests: 2_000_000,
        }
    };
    let kafka = if with_kafka { KafkaState::NotStarted } else { KafkaState::Off };
    let mut ctx = Ctx { quick, plan, client_threads, base_rtt: None, kafka };

    println!(
        "minikafka bench: {} mode, {} core(s), 1-min load average {}, {} scheduling, broker {}, {}",
        if quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu::load_average().map_or("?".into(), |l| format!("{l:.2}")),
        cpu::scheduling_policy(),
        env!("CARGO_BIN_EXE_minikafka"),
        if with_kafka {
            format!("beside Apache Kafka {} ({})", kafka::KAFKA_VERSION, apache::JVM.join(" "))
        } else {
            "without Kafka".to_string()
        }
    );
    if cfg!(debug_assertions) {
        println!(
            "note: debug build (cargo test?): figures are not representative; use cargo bench"
        );
    }
    if let Err(e) = wire::self_check().and_then(|()| housekeeping::self_check()) {
        println!("wire self-check failed: {e}");
        std::process::exit(1);
    }
    println!("{}", report::header());

    let started = Instant::now();
    let mut rows = Vec::new();
    for &(name, f) in SCENARIOS {
        if !filters.is_empty() && !filters.iter().any(|p| name.contains(p)) {
            continue;
        }
        let on_kafka = name.starts_with("kafka:");
        if on_kafka && matches!(ctx.kafka, KafkaState::Off) {
            continue;
        }
        let t = Instant::now();
        let cpu = cpu::Snapshot::take();
        // Kafka is no child of this process: its CPU in its own rows is the server's, not
        // another process's. (A Kafka started within the row spent all its time in it.)
        let kafka_ticks0 = ctx.kafka_pid().and_then(|p| Some((p, cpu::process_ticks(p)?)));
        let mut row = match panic::catch_unwind(AssertUnwindSafe(|| f(&mut ctx))) {
            Ok(Ok(row)) => row,
            Ok(Err(e)) => Row::failed(name, e),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Row::failed(name, format!("panicked: {msg}"))
            }
        };
        row.scenario = name;
        row.elapsed = t.elapsed();
        let server_ticks = match ctx.kafka_pid().filter(|_| on_kafka) {
            Some(p) => cpu::process_ticks(p).map_or(0, |now| {
                let before = kafka_ticks0.filter(|k| k.0 == p).map_or(0, |k| k.1);
                now.saturating_sub(before)
            }),
            None => 0,
        };
        row.other_cpu = cpu.and_then(|c| c.others_since(server_ticks));
        if on_kafka {
            // The targets are minikafka's.
            row.target = Target::None;
        }
        println!("{}", report::table_row(&row));
        println!("{}", report::json_line(&row));
        let _ = std::io::stdout().flush();
        rows.push(row);
    }

    // Stops Kafka (a clean shutdown) before the summary, so that it takes no more time.
    ctx.kafka = KafkaState::Off;

    println!();
    println!(
        "results ({:.1} s, 1-min load average now {}):",
        started.elapsed().as_secs_f64(),
        cpu::load_average().map_or("?".into(), |l| format!("{l:.2}"))
    );
    println!("{}", report::header());
    for r in &rows {
        println!("{}", report::table_row(r));
    }
    println!();
    println!("targets:");
    let (mut met, mut total) = (0, 0);
    for r in &rows {
        let line = match (&r.error, &r.target) {
            (Some(e), _) => format!("ERROR    {} ({e})", r.scenario),
            (None, Target::Met(d)) => format!("met      {} ({d})", r.scenario),
            (None, Target::NotMet(d)) => format!("not met  {} ({d})", r.scenario),
            (None, Target::None) => continue,
        };
        total += 1;
        met += usize::from(matches!(r.target, Target::Met(_)) && r.error.is_none());
        println!("  {line}");
    }
    println!("{met} of {total} targets met");
    if with_kafka {
        println!();
        compare::print(&rows);
    }
    let busy: Vec<&str> = rows
        .iter()
        .filter(|r| r.other_cpu.is_some_and(|c| c > report::BUSY_CORES))
        .map(|r| r.scenario)
        .collect();
    if !busy.is_empty() {
        println!(
            "warning: other processes used over {} cores during {}: those figures may be disturbed",
            report::BUSY_CORES,
            busy.join(", ")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn check_echo(body: &[u8], correlation_id: i32) -> Result<(), String> {
    match body.get(..4) {
        Some(c) if c == correlation_id.to_be_bytes() => Ok(()),
        _ => Err(format!("echo answered a different correlation id than {correlation_id}")),
    }
}

fn check_api_versions(body: &[u8], correlation_id: i32) -> Result<(), String> {
    wire::check_api_versions(body, correlation_id)
}

fn check_produce(body: &[u8], correlation_id: i32) -> Result<(), String> {
    wire::check_produce_v7(body, correlation_id).map(|_| ())
}

/// Checks through a Fetch that the partition holds at least `min_records` records, so that
/// a produce scenario cannot look fast by dropping data; returns the high watermark.
fn verify_stored(
    conn: &mut Conn,
    topic: &str,
    partition: i32,
    min_records: usize,
) -> Result<i64, String> {
    let mut frame = wire::fetch_v11(topic, partition, 0, 1024);
    wire::set_correlation_id(&mut frame, i32::MAX);
    let body = conn.round_trip(&frame).map_err(|e| format!("verifying fetch: {e}"))?;
    let p = wire::parse_fetch_v11(body, i32::MAX)?;
    if p.high_watermark < min_records as i64 || p.records.is_empty() {
        return Err(format!(
            "{topic}-{partition} holds {} records ({} B fetched) after {min_records} acknowledged",
            p.high_watermark,
            p.records.len()
        ));
    }
    Ok(p.high_watermark)
}

/// The broker's CPU use over `run` (share of a core, kernel's share), from a reading before it.
fn cpu_over(server: &Server, before: Option<CpuUse>, run: &Run) -> Option<(f64, f64)> {
    server.cpu()?.since(&before?, run.spent)
}

fn connect(broker: &mut Broker) -> Result<Conn, String> {
    Conn::connect(broker.port).map_err(|e| broker.explain(format!("connect: {e}")))
}

/// Partition 0 of a topic filled with copies of a batch up to about a number of bytes.
type Fill<'a> = (&'a str, &'a [u8], usize);

/// The broker a scenario drives, holding `topics` and, if asked, a partition pre-filled
/// (returning its end offset and bytes): minikafka started afresh over a log directory
/// prepared offline, or the run's Kafka with the topics created over the wire and filled by
/// Produce, once per run.
fn open(
    ctx: &mut Ctx,
    on: On,
    tag: &str,
    topics: &[(&str, i32)],
    fill: Option<Fill<'_>>,
) -> Result<(Server, (i64, usize)), String> {
    match on {
        On::Mini => {
            let dir = setup::log_dir(tag, topics)?;
            let mut filled = (0, 0);
            if let Some((topic, template, bytes)) = fill {
                let (_, end, written) = setup::prefill(dir.path(), topic, 0, template, bytes)?;
                filled = (end, written);
            }
            let broker = Broker::start(dir.path(), START_DEADLINE)?;
            Ok((Server::Mini { broker, _dir: dir }, filled))
        }
        On::Kafka => {
            let kafka = ctx.kafka()?;
            kafka.create_topics(topics).map_err(|e| kafka.explain(e))?;
            let mut filled = (0, 0);
            if let Some((topic, template, bytes)) = fill {
                filled = kafka.fill(topic, template, bytes).map_err(|e| kafka.explain(e))?;
            }
            let server =
                Server::Kafka { port: kafka.port(), pid: kafka.pid(), output: kafka.output() };
            Ok((server, filled))
        }
    }
}

/// Latency, throughput and loopback ratios of a measured run.
fn row_of(
    ctx: &Ctx,
    name: &'static str,
    mut run: Run,
    records_per_req: usize,
    bytes_per_req: usize,
) -> Result<Row, String> {
    if run.requests() == 0 || run.window.is_zero() {
        return Err("no request completed in the measured window".into());
    }
    let mut row = Row::new(name);
    let req_s = run.per_sec();
    row.lat = Lat::from_ns(&mut run.lat_ns);
    row.req_s = Some(req_s);
    if records_per_req > 0 {
        row.rec_s = Some(req_s * records_per_req as f64);
    }
    if bytes_per_req > 0 {
        row.mb_s = Some(req_s * bytes_per_req as f64 / MB);
    }
    row.ratios_to(ctx.base_rtt);
    row.extra.push(("requests", run.requests() as f64));
    row.extra.push(("window_s", run.window.as_secs_f64()));
    Ok(row)
}

fn one_record() -> Vec<u8> {
    setup::batch(1, VALUE_LEN)
}

fn batch_16k() -> (Vec<u8>, usize) {
    let n = setup::records_for(BATCH_BYTES, VALUE_LEN);
    (setup::batch(n, VALUE_LEN), n)
}

/// The produce_64conn requests: one record to partition i of TOPIC_MANY from connection i.
fn frames_64conn(records: &[u8]) -> Vec<Vec<u8>> {
    (0..CONNECTIONS).map(|i| wire::produce_v7(TOPIC_MANY, i as i32, 1, records)).collect()
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// Baseline: the produce_1 request against an in-process echo that answers with a body of the
/// produce response's size, one connection, one request in flight.
fn loopback_rtt(ctx: &mut Ctx) -> Result<Row, String> {
    let echo =
        Echo::start(wire::produce_v7_response_len(TOPIC_ONE)).map_err(|e| format!("echo: {e}"))?;
    let records = one_record();
    let mut frame = wire::produce_v7(TOPIC_ONE, 0, 1, &records);
    let mut conn = Conn::connect(echo.port).map_err(|e| format!("connect: {e}"))?;
    let run = drive::closed_loop(&mut conn, &mut frame, ctx.plan, check_echo)?;
    let mut row = row_of(ctx, "loopback_rtt", run, 1, records.len())?;
    ctx.base_rtt = row.lat;
    row.ratios_to(ctx.base_rtt);
    row.note = format!(
        "echo, {} B request, {} B response",
        frame.len(),
        4 + wire::produce_v7_response_len(TOPIC_ONE)
    );
    Ok(row)
}

/// Baseline: 16 KiB produce requests, 8 in flight, against the in-process echo.
fn loopback_pipe16k(ctx: &mut Ctx) -> Result<Row, String> {
    let echo = Echo::start(wire::produce_v7_response_len(TOPIC_BATCH))
        .map_err(|e| format!("echo: {e}"))?;
    let (records, n) = batch_16k();
    let mut frame = wire::produce_v7(TOPIC_BATCH, 0, 1, &records);
    let mut conn = Conn::connect(echo.port).map_err(|e| format!("connect: {e}"))?;
    let run = drive::pipelined(&mut conn, &mut frame, PIPELINE_DEPTH, ctx.plan, check_echo)?;
    let mut row = row_of(ctx, "loopback_pipe16k", run, n, records.len())?;
    row.note = format!("echo, {} B requests, {PIPELINE_DEPTH} in flight", frame.len());
    Ok(row)
}

/// Baseline: this process appending the 16 KiB batch with `write_all` to a fresh file in the
/// temp dir, where the broker's log directories are: the page cache's append rate.
fn disk_append16k(ctx: &mut Ctx) -> Result<Row, String> {
    let mut disk = disk::Append::create("append16k")?;
    let (records, n) = batch_16k();
    let run = disk.run(&records, ctx.plan)?;
    let mut row = row_of(ctx, "disk_append16k", run, n, records.len())?;
    // A write call is no round trip: a ratio to loopback's would mean nothing.
    (row.ratio_p50, row.ratio_p99) = (None, None);
    row.note = format!(
        "page-cache append: {} B write_all calls to a fresh file; latency and req/s per call",
        records.len()
    );
    Ok(row)
}

/// Baseline: the disk_append16k load with an `fdatasync` after each write, one at a time: the
/// disk's own sync rate, what a durable broker's acknowledgements wait for.
fn disk_fdatasync16k(ctx: &mut Ctx) -> Result<Row, String> {
    let mut disk = disk::Append::create("fdatasync16k")?;
    let device = disk::Device::of(disk.dir());
    let (records, n) = batch_16k();
    let before = device.and_then(|d| d.flushes());
    let run = disk.run_synced(&records, ctx.plan)?;
    let flushes = before.zip(device.and_then(|d| d.flushes())).map(|(b, a)| a.saturating_sub(b));
    let spent = run.spent;
    let mut row = row_of(ctx, "disk_fdatasync16k", run, n, records.len())?;
    // A sync is no round trip: a ratio to loopback's would mean nothing.
    (row.ratio_p50, row.ratio_p99) = (None, None);
    row.note = format!(
        "{} B write_all + fdatasync to a fresh file, one at a time; latency per pair, req/s = \
         syncs/s",
        records.len()
    );
    if let (Some(f), Some(syncs_s)) = (flushes, row.req_s) {
        // Warm-up included on both sides of the division.
        let per_sync = f as f64 / spent.as_secs_f64() / syncs_s;
        row.extra.push(("dev_flushes_per_sync", per_sync));
        row.note += &format!("; {per_sync:.2} device cache flushes per sync");
    }
    Ok(row)
}

/// Baseline: the produce_64conn load against an echo on one mio event loop: what loopback TCP
/// leaves to a one-thread server at 64 connections.
fn loopback_64conn(ctx: &mut Ctx) -> Result<Row, String> {
    let echo = EchoLoop::start(wire::produce_v7_response_len(TOPIC_MANY))
        .map_err(|e| format!("echo loop: {e}"))?;
    let records = one_record();
    let frames = frames_64conn(&records);
    let run = drive::many_connections(echo.port, frames, ctx.client_threads, ctx.plan, check_echo)?;
    let mut row = row_of(ctx, "loopback_64conn", run, 1, records.len())?;
    row.note = format!(
        "one-thread mio echo, {CONNECTIONS} connections over {} client threads",
        ctx.client_threads.clamp(1, CONNECTIONS)
    );
    Ok(row)
}

/// ApiVersions v3 round trips on one connection: the event loop and codec alone.
fn api_versions(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let (mut broker, _) = open(ctx, on, "apiversions", &[], None)?;
    let mut conn = broker.connect()?;
    let mut frame = wire::api_versions_v3();
    let cpu0 = broker.cpu();
    let run = drive::closed_loop(&mut conn, &mut frame, ctx.plan, check_api_versions)
        .map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run);
    let mut row = row_of(ctx, "api_versions", run, 0, 0)?;
    row.set_cpu(cpu);
    Ok(row)
}

/// One side of an interleaved comparison: measures one slice of the given plan.
type Side<'a> = &'a mut dyn FnMut(Plan) -> Result<Run, String>;

/// Runs `sides` (the broker first, then its baselines) in turn, slice by slice, so that all
/// see the same machine (a VM's loopback round trip and page cache drift by tens of percent
/// within seconds); returns each side's slices joined into one run. Each slice starts with
/// the next side in turn, so that none always inherits the state the one before left (warm
/// page-cache pages freed by the previous scenario, say).
fn interleaved<const N: usize>(ctx: &Ctx, sides: [Side<'_>; N]) -> Result<[Run; N], String> {
    interleaved_plan(ctx, ctx.plan, sides)
}

/// [`interleaved`] over `plan` rather than the run's.
fn interleaved_plan<const N: usize>(
    ctx: &Ctx,
    plan: Plan,
    sides: [Side<'_>; N],
) -> Result<[Run; N], String> {
    let slices = if ctx.quick { 2 } else { INTERLEAVE_SLICES };
    let slice = Plan {
        warmup: (plan.warmup / slices).max(Duration::from_millis(20)),
        measure: plan.measure / slices,
        max_requests: plan.max_requests / slices as usize,
    };
    let mut runs: [Run; N] = std::array::from_fn(|_| Run {
        lat_ns: Vec::new(),
        window: Duration::ZERO,
        spent: Duration::ZERO,
    });
    for k in 0..slices as usize {
        for i in (0..N).map(|j| (j + k) % N) {
            let run = sides[i](slice)?;
            runs[i].lat_ns.extend_from_slice(&run.lat_ns);
            runs[i].window += run.window;
            runs[i].spent += run.spent;
        }
    }
    Ok(runs)
}

/// Produce of one 100-byte record per request, acks=1, one connection, one in flight; its
/// target ratios are to an echo of the same sizes measured in slices interleaved with it.
fn produce_1(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let (mut broker, _) = open(ctx, on, "produce1", &[(TOPIC_ONE, 1)], None)?;
    let mut conn = broker.connect()?;
    let echo =
        Echo::start(wire::produce_v7_response_len(TOPIC_ONE)).map_err(|e| format!("echo: {e}"))?;
    let mut echo_conn = Conn::connect(echo.port).map_err(|e| format!("connect to echo: {e}"))?;
    let records = one_record();
    let mut frame = wire::produce_v7(TOPIC_ONE, 0, 1, &records);
    let mut echo_frame = frame.clone();
    let mut on_broker = |plan| drive::closed_loop(&mut conn, &mut frame, plan, check_produce);
    let mut on_echo = |plan| drive::closed_loop(&mut echo_conn, &mut echo_frame, plan, check_echo);
    let cpu0 = broker.cpu();
    let [run, mut echo_run] =
        interleaved(ctx, [&mut on_broker, &mut on_echo]).map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run);
    let acked = run.requests();
    let hw = verify_stored(&mut conn, TOPIC_ONE, 0, acked).map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, "produce_1", run, 1, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark", hw as f64));
    let echo_lat = Lat::from_ns(&mut echo_run.lat_ns);
    row.ratios_to(echo_lat);
    if let Some(e) = echo_lat {
        row.extra.push(("echo_p50_us", e.p50));
        row.extra.push(("echo_p99_us", e.p99));
        row.note =
            format!("x_ ratios to the interleaved echo: p50 {:.1} us, p99 {:.1} us", e.p50, e.p99);
    }
    row.target = match (row.ratio_p50, row.ratio_p99) {
        (Some(r50), Some(r99)) => Target::check(
            r50 <= 1.3 && r99 <= 1.5,
            format!("p50 {r50:.2}x <= 1.3x and p99 {r99:.2}x <= 1.5x of loopback"),
        ),
        _ => Target::NotMet("no loopback measurement".into()),
    };
    Ok(row)
}

/// Produce of ~16 KiB batches, one connection, 8 requests in flight; compared with a pipelined
/// echo of the same sizes and with the page cache's append of the same batches (what the
/// broker's writes cost the kernel alone), both measured in slices interleaved with it.
fn produce_16k_pipe8(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let (mut broker, _) = open(ctx, on, "produce16k", &[(TOPIC_BATCH, 1)], None)?;
    let mut conn = broker.connect()?;
    let echo = Echo::start(wire::produce_v7_response_len(TOPIC_BATCH))
        .map_err(|e| format!("echo: {e}"))?;
    let mut echo_conn = Conn::connect(echo.port).map_err(|e| format!("connect to echo: {e}"))?;
    let mut disk = disk::Append::create("produce16k-append")?;
    let (records, n) = batch_16k();
    let mut frame = wire::produce_v7(TOPIC_BATCH, 0, 1, &records);
    let mut echo_frame = frame.clone();
    let mut on_broker =
        |plan| drive::pipelined(&mut conn, &mut frame, PIPELINE_DEPTH, plan, check_produce);
    let mut on_echo =
        |plan| drive::pipelined(&mut echo_conn, &mut echo_frame, PIPELINE_DEPTH, plan, check_echo);
    let mut on_disk = |plan| disk.run(&records, plan);
    let cpu0 = broker.cpu();
    let [run, echo_run, disk_run] = interleaved(ctx, [&mut on_broker, &mut on_echo, &mut on_disk])
        .map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run);
    let acked = run.requests() * n;
    let hw = verify_stored(&mut conn, TOPIC_BATCH, 0, acked).map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, "produce_16k_pipe8", run, n, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark", hw as f64));
    let mb_s = row.mb_s.unwrap_or(0.0);
    let base = echo_run.per_sec() * records.len() as f64 / MB;
    let share = mb_s / base;
    let disk_mb_s = disk_run.per_sec() * records.len() as f64 / MB;
    let disk_share = mb_s / disk_mb_s;
    row.extra.push(("echo_mb_s", base));
    row.extra.push(("ratio_mb_s", share));
    row.extra.push(("disk_mb_s", disk_mb_s));
    row.extra.push(("ratio_disk", disk_share));
    row.note = format!(
        "{} B batches of {n} records; interleaved echo {base:.0} MB/s, page-cache append \
         {disk_mb_s:.0} MB/s",
        records.len()
    );
    row.target = Target::check(
        mb_s >= 1000.0 && share >= 0.65,
        format!(
            "{mb_s:.0} MB/s >= 1000 and {:.0}% >= 65% of loopback's {base:.0} MB/s; page-cache \
             append alone {disk_mb_s:.0} MB/s, broker at {:.0}% of it",
            share * 100.0,
            disk_share * 100.0
        ),
    );
    Ok(row)
}

/// Produce from 64 connections, one 100-byte record per request, each with one in flight;
/// compared with the one-thread mio echo under the same load, measured in slices interleaved
/// with it.
fn produce_64conn(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let (mut broker, _) = open(ctx, on, "produce64", &[(TOPIC_MANY, CONNECTIONS as i32)], None)?;
    let rss_idle = memory_kib(broker.pid())?.0;
    let echo = EchoLoop::start(wire::produce_v7_response_len(TOPIC_MANY))
        .map_err(|e| format!("echo loop: {e}"))?;
    let records = one_record();
    let frames = frames_64conn(&records);
    let (port, threads) = (broker.port(), ctx.client_threads);
    // Each slice connects afresh; connecting is outside the measured window.
    let mut on_broker =
        |plan| drive::many_connections(port, frames.clone(), threads, plan, check_produce);
    let mut on_echo =
        |plan| drive::many_connections(echo.port, frames.clone(), threads, plan, check_echo);
    let cpu0 = broker.cpu();
    let rss = RssPeak::start(broker.pid());
    let runs = interleaved(ctx, [&mut on_broker, &mut on_echo]);
    let rss_load = rss.finish();
    let [run, mut echo_run] = runs.map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run);
    broker.check_alive()?;
    // Every connection got at least its measured share of acknowledgements on its partition.
    let mut conn = broker.connect()?;
    let hw = verify_stored(&mut conn, TOPIC_MANY, 0, 1).map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, "produce_64conn", run, 1, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark_p0", hw as f64));
    row.extra.push(("rss_idle_kib", rss_idle as f64));
    row.extra.push(("rss_load_kib", rss_load as f64));
    let echo_req_s = echo_run.per_sec();
    let echo_p99 = Lat::from_ns(&mut echo_run.lat_ns).map_or(f64::NAN, |l| l.p99);
    let (req_s, p99) = (row.req_s.unwrap_or(0.0), row.lat.map_or(f64::INFINITY, |l| l.p99));
    let share = req_s / echo_req_s;
    row.extra.push(("echo_req_s", echo_req_s));
    row.extra.push(("ratio_req_s", share));
    row.note = format!(
        "{CONNECTIONS} connections to {CONNECTIONS} partitions over {} client threads; \
         interleaved one-thread echo {echo_req_s:.0} req/s, p99 {echo_p99:.0} us; RSS {:.1} MiB \
         before, peak {:.1} MiB under load",
        threads.clamp(1, CONNECTIONS),
        rss_idle as f64 / 1024.0,
        rss_load as f64 / 1024.0
    );
    row.target = Target::check(
        req_s >= 150_000.0 && p99 < 1000.0,
        format!(
            "{req_s:.0} req/s >= 150000 and p99 {p99:.0} us < 1000 us; one-thread echo \
             {echo_req_s:.0} req/s, broker at {:.0}% of it",
            share * 100.0
        ),
    );
    Ok(row)
}

/// Fetch of a pre-filled partition from start to end, 1 MiB per request, repeated passes.
fn fetch_1mib(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let (template, _) = batch_16k();
    let fill = if ctx.quick { 16 << 20 } else { 128 << 20 };
    let (mut broker, (end_offset, filled)) =
        open(ctx, on, "fetch", &[(TOPIC_FETCH, 1)], Some((TOPIC_FETCH, &template, fill)))?;
    let listen_ms = broker.listen_ms();
    let mut conn = broker.connect()?;
    let cpu0 = broker.cpu();
    let run = fetch_passes(&mut conn, ctx.plan, end_offset).map_err(|e| broker.explain(e))?;
    let (run, bytes, records, passes) = run;
    let cpu = cpu_over(&broker, cpu0, &run);
    let secs = run.window.as_secs_f64();
    let mut row = row_of(ctx, "fetch_1mib", run, 0, 0)?;
    row.set_cpu(cpu);
    row.rec_s = Some(records as f64 / secs);
    let mb_s = bytes as f64 / secs / MB;
    row.mb_s = Some(mb_s);
    row.extra.push(("passes", passes as f64));
    row.extra.push(("prefill_mb", filled as f64 / MB));
    if let Some(ms) = listen_ms {
        row.extra.push(("listen_ms", ms));
    }
    row.note = format!(
        "{passes} passes over {:.0} MB in {} B batches",
        filled as f64 / MB,
        template.len()
    );
    row.target = Target::check(mb_s >= 1500.0, format!("{mb_s:.0} MB/s >= 1500"));
    Ok(row)
}

/// A consumer's round trip for one small batch: Fetch of one 100-byte record per request
/// (`partition_max_bytes` 1 takes exactly the first batch), one connection, one in flight,
/// walking a pre-filled partition. The loop, the codec and the storage lookup of a fetch.
fn fetch_1(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let one = one_record();
    let fill = (TOPIC_FETCH_ONE, &one[..], FETCH_ONE_BATCHES * one.len());
    let (mut broker, (end_offset, _)) =
        open(ctx, on, "fetch1", &[(TOPIC_FETCH_ONE, 1)], Some(fill))?;
    let mut conn = broker.connect()?;
    let mut frame = wire::fetch_v11(TOPIC_FETCH_ONE, 0, 0, 1);
    let offset_at = wire::fetch_v11_offset_at(TOPIC_FETCH_ONE);
    let (mut offset, mut corr) = (0i64, 0i32);
    let cpu0 = broker.cpu();
    let run = drive::timed(ctx.plan, || {
        corr = corr.wrapping_add(1);
        let (took, p) = fetch_at(&mut conn, &mut frame, offset_at, corr, offset)?;
        match wire::complete_batches(p.records) {
            Some((len, next)) if len == one.len() && next == offset + 1 => {}
            _ => return Err(format!("fetch at {offset}: not exactly its one-record batch")),
        }
        offset = (offset + 1) % end_offset;
        Ok(took)
    })
    .map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run);
    let mut row = row_of(ctx, "fetch_1", run, 1, one.len())?;
    row.set_cpu(cpu);
    row.note = format!("one {} B batch per fetch, x_ ratios to loopback_rtt", one.len());
    Ok(row)
}

/// One round trip of a [`wire::fetch_v11`] frame from `offset`: its time and its partition.
fn fetch_at<'c>(
    conn: &'c mut Conn,
    frame: &mut [u8],
    offset_at: usize,
    corr: i32,
    offset: i64,
) -> Result<(Duration, wire::FetchPartition<'c>), String> {
    wire::set_correlation_id(frame, corr);
    frame[offset_at..offset_at + 8].copy_from_slice(&offset.to_be_bytes());
    let t = Instant::now();
    conn.send(frame).map_err(|e| format!("send: {e}"))?;
    let body = conn.recv().map_err(|e| format!("receive: {e}"))?;
    let took = t.elapsed();
    Ok((took, wire::parse_fetch_v11(body, corr)?))
}

/// Fetches `[0, end_offset)` over and over; the measured window starts a pass at offset 0 and
/// lasts until its time is up and at least one whole pass is done. Returns the run, the bytes
/// and records of complete batches received in the window, and the passes completed.
fn fetch_passes(
    conn: &mut Conn,
    plan: Plan,
    end_offset: i64,
) -> Result<(Run, u64, u64, u64), String> {
    let mut frame = wire::fetch_v11(TOPIC_FETCH, 0, 0, FETCH_MAX_BYTES);
    let offset_at = wire::fetch_v11_offset_at(TOPIC_FETCH);
    let start = Instant::now();
    let (warm_end, end) = (start + plan.warmup, start + plan.warmup + plan.measure);
    let hard_end = end + Duration::from_secs(30);
    let mut lat_ns = Vec::with_capacity(plan.max_requests.min(1 << 20));
    let (mut bytes, mut records, mut passes) = (0u64, 0u64, 0u64);
    let mut measured_from: Option<Instant> = None;
    let mut offset = 0i64;
    let mut corr = 0i32;
    loop {
        let now = Instant::now();
        if measured_from.is_none() && now >= warm_end && offset == 0 {
            measured_from = Some(now);
        }
        if measured_from.is_some()
            && ((now >= end && passes > 0) || lat_ns.len() >= plan.max_requests)
        {
            break;
        }
        if now >= hard_end {
            return Err(format!("no complete pass within {:?}", hard_end - start));
        }
        corr = corr.wrapping_add(1);
        let (dt, p) = fetch_at(conn, &mut frame, offset_at, corr, offset)?;
        if p.high_watermark != end_offset {
            return Err(format!(
                "high watermark {} but {end_offset} records were pre-filled",
                p.high_watermark
            ));
        }
        let Some((got, next)) = wire::complete_batches(p.records) else {
            return Err(format!(
                "fetch at offset {offset} returned no complete batch ({} B)",
                p.records.len()
            ));
        };
        if next <= offset {
            return Err(format!("fetch at offset {offset} went back to {next}"));
        }
        if measured_from.is_some() {
            lat_ns.push(drive::ns(dt));
            bytes += got as u64;
            records += (next - offset) as u64;
        }
        offset = next;
        if offset >= end_offset {
            offset = 0;
            passes += u64::from(measured_from.is_some());
        }
    }
    let window = measured_from.map_or(Duration::ZERO, |t| t.elapsed());
    Ok((Run { lat_ns, window, spent: start.elapsed() }, bytes, records, passes))
}

fn rdkafka_acks1(ctx: &mut Ctx) -> Result<Row, String> {
    rdkafka_load(ctx, "rdkafka_acks1", "1", Consume::After)
}

fn rdkafka_acksall(ctx: &mut Ctx) -> Result<Row, String> {
    rdkafka_load(ctx, "rdkafka_acksall", "all", Consume::After)
}

fn rdkafka_acks1_consume(ctx: &mut Ctx) -> Result<Row, String> {
    rdkafka_load(ctx, "rdkafka_acks1_consume", "1", Consume::Meanwhile)
}

/// What the runs of one side of an rdkafka scenario add up to.
#[derive(Default)]
struct Runs {
    lat_ns: Vec<u64>,
    produce: Duration,
    consume: Duration,
    records: usize,
    broker_wait: Duration,
    client_wait: Duration,
    /// One line per run.
    notes: Vec<String>,
}

impl Runs {
    fn add(&mut self, mut out: client::Outcome, records: usize) -> Result<(), String> {
        let l = Lat::from_ns(&mut out.lat_ns).ok_or("no delivery")?;
        let st = out.stages;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        self.notes.push(format!(
            "{:.0}k/s p50 {:.1} p99 {:.1} max {:.1} (librdkafka max: rtt {:.1}, queue {:.1}, \
             outbuf {:.1}; waiting for a CPU: broker {:.0}, client {:.0})",
            records as f64 / out.produce_window.as_secs_f64() / 1e3,
            l.p50 / 1e3,
            l.p99 / 1e3,
            l.max / 1e3,
            st.rtt_max_us as f64 / 1e3,
            st.int_latency_max_us as f64 / 1e3,
            st.outbuf_max_us as f64 / 1e3,
            ms(out.broker_wait),
            ms(out.client_wait),
        ));
        self.lat_ns.extend_from_slice(&out.lat_ns);
        self.produce += out.produce_window;
        self.consume += out.consume_window;
        self.records += records;
        self.broker_wait += out.broker_wait;
        self.client_wait += out.client_wait;
        Ok(())
    }

    fn rec_s(&self) -> f64 {
        self.records as f64 / self.produce.as_secs_f64()
    }
}

/// librdkafka producing 100-byte records to a 3-partition topic with `linger.ms=5` and
/// `batch.num.messages=10000` at a steady rate, each record timed from `send` to its
/// delivery report; then the records consumed (or consumed while they are produced).
/// Several runs, each to a fresh topic of the same broker, interleaved with as many runs of
/// the same load at acks=0, the baseline: librdkafka reports those records delivered once
/// their request is written, so they carry all of the client's and the machine's latency
/// (linger, queues, threads waiting for a CPU) and none of the broker's round trip.
/// `x_p50` / `x_p99` are ratios to that baseline.
fn rdkafka_load(
    ctx: &mut Ctx,
    name: &'static str,
    acks: &str,
    consume: Consume,
) -> Result<Row, String> {
    let (runs, records) = if ctx.quick { (1, RDKAFKA_RECORDS / 4) } else { (4, RDKAFKA_RECORDS) };
    let rate = std::env::var("MINIKAFKA_BENCH_RDKAFKA_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RDKAFKA_RATE);
    let topics: Vec<String> = (0..2 * runs).map(|i| format!("bench-rdkafka-{i}")).collect();
    let specs: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), RDKAFKA_PARTITIONS)).collect();
    let dir = setup::log_dir("rdkafka", &specs)?;
    let broker = Broker::start(dir.path(), START_DEADLINE)?;
    let mut server = Server::Mini { broker, _dir: dir };
    let bootstrap = format!("127.0.0.1:{}", server.port());
    let cpu0 = server.cpu();
    let started = Instant::now();
    let (mut measured, mut baseline) = (Runs::default(), Runs::default());
    for (i, topic) in topics.iter().enumerate() {
        // Alternate which side goes first, so neither always follows the other.
        let is_baseline = (i + i / 2) % 2 == 1;
        let load = client::Load {
            bootstrap: &bootstrap,
            topic,
            partitions: RDKAFKA_PARTITIONS,
            records,
            value_len: VALUE_LEN,
            acks: if is_baseline { "0" } else { acks },
            consume: if is_baseline && consume == Consume::After { Consume::No } else { consume },
            rate,
        };
        let out = client::run(&load, server.pid()).map_err(|e| server.explain(e))?;
        if is_baseline { &mut baseline } else { &mut measured }.add(out, records)?;
    }
    let spent = started.elapsed();
    let lat_ns = std::mem::take(&mut measured.lat_ns);
    let run = Run { lat_ns, window: measured.produce, spent };
    let cpu = cpu_over(&server, cpu0, &run);
    server.check_alive()?;
    let mut row = row_of(ctx, name, run, 1, VALUE_LEN)?;
    // One delivery report per record: req/s would only repeat rec/s.
    row.req_s = None;
    row.set_cpu(cpu);
    let rec_s = measured.rec_s();
    row.rec_s = Some(rec_s);
    row.mb_s = Some(rec_s * VALUE_LEN as f64 / MB);
    let base = Lat::from_ns(&mut baseline.lat_ns);
    row.ratios_to(base);
    let consume_s = measured.records as f64 / measured.consume.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    row.extra.push(("runs", runs as f64));
    row.extra.push(("rate", rate));
    row.extra.push(("consume_rec_s", consume_s));
    row.extra.push(("broker_cpu_wait_ms", ms(measured.broker_wait)));
    row.extra.push(("client_cpu_wait_ms", ms(measured.client_wait)));
    row.extra.push(("produce_window_ms", ms(measured.produce)));
    if let Some(b) = base {
        row.extra.push(("baseline_p50_us", b.p50));
        row.extra.push(("baseline_p99_us", b.p99));
        row.extra.push(("baseline_max_us", b.max));
        row.extra.push(("baseline_rec_s", baseline.rec_s()));
    }
    let (p50, p99) = row.lat.map_or((f64::INFINITY, f64::INFINITY), |l| (l.p50, l.p99));
    row.note = format!(
        "{runs} run(s) of {records} records of {VALUE_LEN} B offered at {:.0}k/s, acks={acks}, \
         send to delivery report, MB/s of values; consumed {} at {:.0}k rec/s; waiting for a \
         CPU over {:.0} ms of producing: broker {:.0} ms, client {:.0} ms; acks=0 baseline \
         p50 {:.1} ms p99 {:.1} ms max {:.1} ms; runs (ms): {} | baseline runs: {}",
        rate / 1e3,
        if consume == Consume::Meanwhile { "meanwhile" } else { "after" },
        consume_s / 1e3,
        ms(measured.produce),
        ms(measured.broker_wait),
        ms(measured.client_wait),
        base.map_or(f64::NAN, |b| b.p50 / 1e3),
        base.map_or(f64::NAN, |b| b.p99 / 1e3),
        base.map_or(f64::NAN, |b| b.max / 1e3),
        measured.notes.join(", "),
        baseline.notes.join(", "),
    );
    row.target = Target::check(
        p99 <= 2.0 * p50 && p99 <= 8000.0 && rec_s >= 500_000.0,
        format!(
            "p99 {:.1} ms <= 2x p50 {:.1} ms and <= 8 ms, {:.0}k rec/s >= 500k",
            p99 / 1e3,
            p50 / 1e3,
            rec_s / 1e3
        ),
    );
    Ok(row)
}

/// Start-up to the first answered request with `partitions` partitions on disk (one batch
/// each); with none, an empty log directory as Kafka's in `kafka:startup`.
fn startup(ctx: &mut Ctx, partitions: i32) -> Result<Row, String> {
    let topics: &[(&str, i32)] = if partitions > 0 { &[(TOPIC_STARTUP, partitions)] } else { &[] };
    let dir = setup::log_dir("startup", topics)?;
    let one = one_record();
    for p in 0..partitions {
        setup::prefill(dir.path(), TOPIC_STARTUP, p, &one, 1)?;
    }
    let runs = if ctx.quick { 2 } else { 7 };
    let (mut first_ns, mut listen_ns) = (Vec::new(), Vec::new());
    let mut frame = wire::api_versions_v3();
    wire::set_correlation_id(&mut frame, 1);
    for _ in 0..runs {
        let mut broker = Broker::start(dir.path(), START_DEADLINE)?;
        let mut conn = connect(&mut broker)?;
        let body =
            conn.round_trip(&frame).map_err(|e| broker.explain(format!("ApiVersions: {e}")))?;
        wire::check_api_versions(body, 1)?;
        first_ns.push(drive::ns(broker.spawned.elapsed()));
        listen_ns.push(drive::ns(broker.listening - broker.spawned));
        drop(conn);
        drop(broker);
    }
    let first_run_ms = first_ns[0] as f64 / 1e6;
    let mut row = Row::new("startup");
    row.lat = Lat::from_ns(&mut first_ns);
    let listen = Lat::from_ns(&mut listen_ns);
    let p50_ms = row.lat.map_or(f64::INFINITY, |l| l.p50 / 1e3);
    row.extra.push(("runs", runs as f64));
    row.extra.push(("first_run_ms", first_run_ms));
    row.extra.push(("listen_p50_ms", listen.map_or(f64::NAN, |l| l.p50 / 1e3)));
    row.note = format!(
        "spawn to first ApiVersions answer over {runs} starts; to \"listening\" p50 {:.1} ms",
        listen.map_or(f64::NAN, |l| l.p50 / 1e3)
    );
    if partitions > 0 {
        row.target = Target::check(p50_ms < 50.0, format!("p50 {p50_ms:.1} ms < 50 ms"));
    }
    Ok(row)
}

/// Start-up over one partition whose active segment holds 512 MiB (64 in quick mode): after a
/// crash (killed: the segment is scanned for its end and producer state) and after a clean
/// shutdown (SIGTERM: the end comes from the offset index, producers from the snapshot, and the
/// segment is not read). Both on a warm page cache; a cold disk would widen the gap.
fn startup_big_segment(ctx: &mut Ctx) -> Result<Row, String> {
    let mib = if ctx.quick { 64 } else { 512 };
    let dir = setup::log_dir("startup-big", &[(TOPIC_STARTUP, 1)])?;
    let template = setup::batch(setup::records_for(16 << 10, 100), 100);
    setup::prefill(dir.path(), TOPIC_STARTUP, 0, &template, mib << 20)?;
    let runs = if ctx.quick { 2 } else { 5 };
    let (mut crashed, mut clean) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        // Killed on drop: the next start finds no .kafka_cleanshutdown.
        let broker = Broker::start(dir.path(), START_DEADLINE)?;
        crashed.push(drive::ns(broker.listening - broker.spawned));
        drop(broker);
    }
    Broker::start(dir.path(), START_DEADLINE)?.stop()?;
    for _ in 0..runs {
        let broker = Broker::start(dir.path(), START_DEADLINE)?;
        clean.push(drive::ns(broker.listening - broker.spawned));
        broker.stop()?;
    }
    let crash = Lat::from_ns(&mut crashed).map_or(f64::NAN, |l| l.p50 / 1e3);
    let mut row = Row::new("startup_big_segment");
    row.lat = Lat::from_ns(&mut clean);
    let clean_ms = row.lat.map_or(f64::NAN, |l| l.p50 / 1e3);
    row.extra.push(("segment_mib", mib as f64));
    row.extra.push(("after_crash_p50_ms", crash));
    row.extra.push(("runs", runs as f64));
    row.note = format!(
        "spawn to \"listening\" over one {mib} MiB active segment: after a clean shutdown p50 \
         {clean_ms:.1} ms (the latency columns), after a crash p50 {crash:.1} ms (scanned)"
    );
    Ok(row)
}

/// Apache Kafka's start-up (the run's one start) and warm-up: see [`Apache::startup_row`].
fn kafka_startup(ctx: &mut Ctx) -> Result<Row, String> {
    Ok(ctx.kafka()?.startup_row())
}

/// VmRSS / VmHWM idle, then with 1,000 open connections (each answered one ApiVersions).
/// Kafka's idle is after its warm-up and the scenarios before this one.
fn memory(ctx: &mut Ctx, on: On) -> Result<Row, String> {
    let (mut broker, _) = open(ctx, on, "memory", &[(TOPIC_MEMORY, 1)], None)?;
    let mut frame = wire::api_versions_v3();
    wire::set_correlation_id(&mut frame, 1);
    {
        let mut conn = broker.connect()?;
        let body =
            conn.round_trip(&frame).map_err(|e| broker.explain(format!("ApiVersions: {e}")))?;
        wire::check_api_versions(body, 1)?;
    }
    let (rss_idle, hwm_idle) = memory_kib(broker.pid())?;
    let mut conns = Vec::with_capacity(MEMORY_CONNECTIONS);
    let mut lat_ns = Vec::with_capacity(MEMORY_CONNECTIONS);
    for i in 0..MEMORY_CONNECTIONS {
        let t = Instant::now();
        let mut conn = broker.connect().map_err(|e| format!("connection {i}: {e}"))?;
        let body =
            conn.round_trip(&frame).map_err(|e| broker.explain(format!("connection {i}: {e}")))?;
        wire::check_api_versions(body, 1)?;
        lat_ns.push(drive::ns(t.elapsed()));
        conns.push(conn);
    }
    let (rss_conns, hwm_conns) = memory_kib(broker.pid())?;
    broker.check_alive()?;
    drop(conns);
    let mut row = Row::new("memory");
    row.lat = Lat::from_ns(&mut lat_ns);
    row.extra.push(("rss_idle_kib", rss_idle as f64));
    row.extra.push(("hwm_idle_kib", hwm_idle as f64));
    row.extra.push(("rss_1000conn_kib", rss_conns as f64));
    row.extra.push(("hwm_1000conn_kib", hwm_conns as f64));
    let mib = |k: u64| k as f64 / 1024.0;
    row.note = format!(
        "latency = connect + first ApiVersions; RSS idle {:.2} MiB (HWM {:.2}), with {MEMORY_CONNECTIONS} connections {:.2} MiB (HWM {:.2})",
        mib(rss_idle),
        mib(hwm_idle),
        mib(rss_conns),
        mib(hwm_conns)
    );
    row.target = Target::check(
        rss_idle < 4096 && rss_conns < 64 * 1024,
        format!(
            "RSS idle {:.2} MiB < 4 MiB and {:.2} MiB < 64 MiB with {MEMORY_CONNECTIONS} connections",
            mib(rss_idle),
            mib(rss_conns)
        ),
    );
    Ok(row)
}
