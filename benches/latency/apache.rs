//! Apache Kafka beside minikafka: one Kafka per run (`tests/common/kafka.rs`), started as
//! `kafka-server-start.sh` starts it (its default heap and GC settings, full JIT), timed from
//! spawn to its first accepted connection and first answered ApiVersions, warmed up, and then
//! driven by the same scenarios over the same wire. Its topics are created with CreateTopics
//! and its fetch partitions filled with Produce, once per run: Kafka's metadata log cannot be
//! written beforehand as minikafka's is.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::broker::{memory_kib, CpuUse, TempDir};
use crate::drive::{self, Plan};
use crate::kafka::{Kafka, KafkaOptions, KAFKA_STARTUP_TIMEOUT};
use crate::report::{Lat, Row};
use crate::wire::{self, Conn};

/// `kafka-server-start.sh`'s defaults (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS): a 1 GiB
/// heap, G1 with a 20 ms pause goal, and the JVM's full tiered JIT.
pub const JVM: &[&str] = &[
    "-Xms1g",
    "-Xmx1g",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
];

/// Broker settings beside the launcher's. The bench's batches carry a fixed 2023 timestamp,
/// which Kafka's default 7-day retention would delete 30 s after start-up (its first check).
const OVERRIDES: &[(&str, &str)] = &[("log.retention.ms", "-1")];

const WARM_TOPIC: &str = "bench-warm";
const WARM_TOPIC_MANY: &str = "bench-warm-many";
const WARM_CONNECTIONS: usize = 64;
const FILL_DEPTH: usize = 8;
const SETTLE_SPAN: Duration = Duration::from_millis(500);
const SETTLED: f64 = 0.05;

pub struct Startup {
    /// `kafka-storage format`, a JVM of its own, before the broker's start.
    pub format: Duration,
    /// Spawn to the first TCP connection the kernel completed on Kafka's port.
    pub connect: Option<Duration>,
    /// Spawn to the first ApiVersions answer.
    pub api_versions: Option<Duration>,
    /// Spawn to the launcher's readiness (Metadata lists the broker), polled every 100 ms.
    pub ready: Duration,
}

pub struct Apache {
    // Declared before `_root` so that Kafka stops before its directories are removed.
    kafka: Kafka,
    _root: TempDir,
    pub startup: Startup,
    pub rss_started_kib: u64,
    pub rss_warm_kib: u64,
    pub warm_up: Duration,
    /// Kafka's CPU while idle after the warm-up (and settling), in cores: its draw beside
    /// minikafka's rows.
    pub idle_cpu: Option<f64>,
    topics: HashSet<String>,
    /// Partitions filled so far: (end offset, bytes).
    filled: HashMap<String, (i64, usize)>,
}

impl Apache {
    /// Formats a fresh directory, starts Kafka on it, and warms it up for `warm`.
    pub fn start(warm: Duration) -> Result<Apache, String> {
        let root = TempDir::new("kafka")?;
        let (log_dir, conf_dir) = (root.path().join("kafka-logs"), root.path().join("kafka-conf"));
        let mut opts = KafkaOptions {
            overrides: Vec::new(),
            jvm: JVM.iter().map(|s| s.to_string()).collect(),
        };
        for (k, v) in OVERRIDES {
            opts = opts.set(k, v);
        }
        let (kafka, startup) = catch(|| {
            fs::create_dir_all(&log_dir).unwrap();
            fs::create_dir_all(&conf_dir).unwrap();
            let t = Instant::now();
            Kafka::format(&log_dir, &conf_dir);
            let format = t.elapsed();
            // The probe learns Kafka's port from the properties file the launcher writes.
            let props = conf_dir.join("server.properties");
            let _ = fs::remove_file(&props);
            let spawned = Instant::now();
            let probe = thread::spawn(move || probe(&props, spawned));
            let kafka = Kafka::start(&log_dir, &conf_dir, &opts);
            let ready = spawned.elapsed();
            let (connect, api_versions) = probe.join().unwrap_or((None, None));
            (kafka, Startup { format, connect, api_versions, ready })
        })?;
        let rss_started_kib = memory_kib(kafka.pid).map_or(0, |m| m.0);
        let mut apache = Apache {
            kafka,
            _root: root,
            startup,
            rss_started_kib,
            rss_warm_kib: 0,
            warm_up: Duration::ZERO,
            idle_cpu: None,
            topics: HashSet::new(),
            filled: HashMap::new(),
        };
        let t = Instant::now();
        apache.warm(warm).map_err(|e| apache.explain(format!("warm-up: {e}")))?;
        apache.settle(warm);
        apache.warm_up = t.elapsed();
        apache.rss_warm_kib = memory_kib(apache.pid()).map_or(0, |m| m.0);
        Ok(apache)
    }

    pub fn port(&self) -> u16 {
        self.kafka.addr.port()
    }

    pub fn pid(&self) -> u32 {
        self.kafka.pid
    }

    pub fn output(&self) -> PathBuf {
        self.kafka.conf_dir.join("kafka.out")
    }

    pub fn explain(&self, e: impl std::fmt::Display) -> String {
        format!("{e}{}", output_tail(&self.output(), self.pid()))
    }

    /// Creates those of `topics` this run has not created yet, and waits until every one of
    /// their partitions has a leader.
    pub fn create_topics(&mut self, topics: &[(&str, i32)]) -> Result<(), String> {
        let new: Vec<(&str, i32)> =
            topics.iter().copied().filter(|(t, _)| !self.topics.contains(*t)).collect();
        if new.is_empty() {
            return Ok(());
        }
        let mut conn = Conn::connect(self.port()).map_err(|e| format!("connect: {e}"))?;
        let mut frame = wire::create_topics_v4(&new, &[]);
        wire::set_correlation_id(&mut frame, 1);
        let body = conn.round_trip(&frame).map_err(|e| format!("CreateTopics: {e}"))?;
        wire::check_create_topics_v4(body, 1)?;
        let names: Vec<&str> = new.iter().map(|t| t.0).collect();
        let mut frame = wire::metadata_v1(&names);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            wire::set_correlation_id(&mut frame, 2);
            let body = conn.round_trip(&frame).map_err(|e| format!("Metadata: {e}"))?;
            let led = wire::metadata_v1_led(body, 2)?;
            let all = new.iter().all(|(t, n)| led.iter().any(|(name, l)| name == t && l == n));
            if all {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("topics {names:?} without leaders after 60 s: {led:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
        // Metadata names a leader before the partition itself leads (a Produce meanwhile gets
        // NOT_LEADER_OR_FOLLOWER): wait until each one answers a Fetch.
        for &(topic, partitions) in &new {
            for p in 0..partitions {
                let mut frame = wire::fetch_v11_waiting(topic, p, 0, 1, 0);
                loop {
                    wire::set_correlation_id(&mut frame, 3);
                    let body = conn.round_trip(&frame).map_err(|e| format!("Fetch: {e}"))?;
                    match wire::parse_fetch_v11(body, 3) {
                        Ok(_) => break,
                        Err(e) if Instant::now() > deadline => {
                            return Err(format!("{topic}-{p} not led after 60 s: {e}"));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            }
        }
        self.topics.extend(names.iter().map(|t| t.to_string()));
        Ok(())
    }

    /// Fills partition 0 of `topic` (once per run) with copies of `template` up to about
    /// `bytes`, by Produce with a few requests in flight; returns (end offset, bytes).
    pub fn fill(
        &mut self,
        topic: &str,
        template: &[u8],
        bytes: usize,
    ) -> Result<(i64, usize), String> {
        if let Some(&f) = self.filled.get(topic) {
            return Ok(f);
        }
        let n = bytes.div_ceil(template.len());
        let per_batch = i64::from(i32::from_be_bytes(template[23..27].try_into().unwrap())) + 1;
        produce_n(self.port(), topic, template, n)?;
        let f = (n as i64 * per_batch, n * template.len());
        self.filled.insert(topic.to_string(), f);
        Ok(f)
    }

    /// Every kind of request the scenarios send, for `warm` in all, on topics of its own: the
    /// JIT compiles the paths the measurements then take.
    fn warm(&mut self, warm: Duration) -> Result<(), String> {
        self.create_topics(&[(WARM_TOPIC, 1), (WARM_TOPIC_MANY, WARM_CONNECTIONS as i32)])?;
        let part = Plan { warmup: Duration::ZERO, measure: warm / 6, max_requests: 10_000_000 };
        let port = self.port();
        let one = crate::one_record();
        let (batch, _) = crate::batch_16k();
        let mut conn = Conn::connect(port).map_err(|e| format!("connect: {e}"))?;
        let check_fetch: drive::Check = |b, c| wire::parse_fetch_v11(b, c).map(|_| ());
        let mut frame = wire::api_versions_v3();
        drive::closed_loop(&mut conn, &mut frame, part, wire::check_api_versions)?;
        let mut frame = wire::produce_v7(WARM_TOPIC, 0, 1, &one);
        drive::closed_loop(&mut conn, &mut frame, part, crate::check_produce)?;
        let mut frame = wire::produce_v7(WARM_TOPIC, 0, 1, &batch);
        drive::pipelined(&mut conn, &mut frame, crate::PIPELINE_DEPTH, part, crate::check_produce)?;
        let frames = (0..WARM_CONNECTIONS)
            .map(|i| wire::produce_v7(WARM_TOPIC_MANY, i as i32, 1, &one))
            .collect();
        drive::many_connections(port, frames, 2, part, crate::check_produce)?;
        let mut frame = wire::fetch_v11(WARM_TOPIC, 0, 0, crate::FETCH_MAX_BYTES);
        drive::closed_loop(&mut conn, &mut frame, part, check_fetch)?;
        let mut frame = wire::fetch_v11(WARM_TOPIC, 0, 0, 1);
        drive::closed_loop(&mut conn, &mut frame, part, check_fetch)?;
        Ok(())
    }

    /// Apache Kafka's start-up on an empty, formatted log directory (the run's one start): spawn
    /// to the first connection the kernel completed, to the first ApiVersions answered, and to
    /// Metadata listing the broker; then its warm-up.
    pub fn startup_row(&self) -> Row {
        let k = self;
        let s = &k.startup;
        let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
        let api_ms = ms(s.api_versions);
        let mut row = Row::new("kafka:startup");
        if let Some(d) = s.api_versions {
            let us = d.as_secs_f64() * 1e6;
            row.lat = Some(Lat { p50: us, p90: us, p99: us, p999: us, max: us });
        }
        row.extra.push(("runs", 1.0));
        row.extra.push(("format_ms", ms(Some(s.format))));
        row.extra.push(("connect_ms", ms(s.connect)));
        row.extra.push(("first_api_versions_ms", api_ms));
        row.extra.push(("ready_ms", ms(Some(s.ready))));
        row.extra.push(("rss_started_kib", k.rss_started_kib as f64));
        row.extra.push(("rss_warm_kib", k.rss_warm_kib as f64));
        row.extra.push(("warm_up_s", k.warm_up.as_secs_f64()));
        if let Some(c) = k.idle_cpu {
            row.extra.push(("idle_cpu", c));
        }
        row.note = format!(
            "spawn to first ApiVersions answer, one start; first connection {:.0} ms, Metadata \
             lists the broker {:.0} ms (polled every 100 ms), format before it {:.0} ms; RSS \
             {:.0} MiB started, {:.0} MiB after a {:.0} s warm-up; idle it takes {:.1}% of a core",
            ms(s.connect),
            ms(Some(s.ready)),
            ms(Some(s.format)),
            k.rss_started_kib as f64 / 1024.0,
            k.rss_warm_kib as f64 / 1024.0,
            k.warm_up.as_secs_f64(),
            k.idle_cpu.unwrap_or(f64::NAN) * 100.0
        );
        row
    }

    /// Waits (up to `limit`) until Kafka, sent nothing, has finished what the warm-up left
    /// it (the JIT's compiles, the collector's work): under `SETTLED` of a core over a
    /// `SETTLE_SPAN`. Its last reading is its idle draw.
    fn settle(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let Some(before) = CpuUse::of(self.pid()) else { return };
            let t = Instant::now();
            thread::sleep(SETTLE_SPAN);
            let Some(now) = CpuUse::of(self.pid()) else { return };
            self.idle_cpu = now.since(&before, t.elapsed()).map(|c| c.0);
            if self.idle_cpu.is_none_or(|c| c < SETTLED) || Instant::now() > deadline {
                return;
            }
        }
    }
}

/// Runs `f`, turning a panic of the launcher (it asserts) into an error.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "Kafka's launcher panicked".into())
    })
}

/// The last lines of Kafka's output, and whether it still runs, for error messages.
pub fn output_tail(out: &Path, pid: u32) -> String {
    let text = fs::read_to_string(out).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(6)..].join(" | ");
    let state = if Path::new(&format!("/proc/{pid}")).exists() { "running" } else { "exited" };
    format!("; Kafka {state}, output tail: {tail}")
}

/// Waits for the launcher's properties file, then connects to Kafka's port until the kernel
/// completes a connection and sends ApiVersions until one is answered. Returns both times
/// since `spawned`.
fn probe(props: &Path, spawned: Instant) -> (Option<Duration>, Option<Duration>) {
    let deadline = spawned + KAFKA_STARTUP_TIMEOUT;
    let port = loop {
        // The file is written whole before Kafka is spawned; a partial read has no ',' yet.
        if let Some(p) = fs::read_to_string(props).ok().and_then(|t| plaintext_port(&t)) {
            break p;
        }
        if Instant::now() > deadline {
            return (None, None);
        }
        thread::sleep(Duration::from_millis(1));
    };
    let mut connect = None;
    let mut frame = wire::api_versions_v3();
    wire::set_correlation_id(&mut frame, 1);
    while Instant::now() < deadline {
        let Ok(mut conn) = Conn::connect(port) else {
            thread::sleep(Duration::from_millis(2));
            continue;
        };
        connect.get_or_insert_with(|| spawned.elapsed());
        // A connection accepted before Kafka processes requests just waits for the answer.
        if let Ok(body) = conn.round_trip(&frame) {
            if wire::check_api_versions(body, 1).is_ok() {
                return (connect, Some(spawned.elapsed()));
            }
        }
        thread::sleep(Duration::from_millis(2));
    }
    (connect, None)
}

fn plaintext_port(props: &str) -> Option<u16> {
    let line = props.lines().find(|l| l.starts_with("listeners="))?;
    let at = line.find("PLAINTEXT://")?;
    let listener = &line[at..];
    let listener = &listener[..listener.find(',')?];
    listener[listener.rfind(':')? + 1..].parse().ok()
}

/// Produces `n` copies of `template` to partition 0 of `topic`, `FILL_DEPTH` in flight.
fn produce_n(port: u16, topic: &str, template: &[u8], n: usize) -> Result<(), String> {
    let mut conn = Conn::connect(port).map_err(|e| format!("connect: {e}"))?;
    let mut frame = wire::produce_v7(topic, 0, 1, template);
    let (mut sent, mut got) = (0usize, 0usize);
    while got < n {
        while sent < n && sent - got < FILL_DEPTH {
            sent += 1;
            wire::set_correlation_id(&mut frame, sent as i32);
            conn.send(&frame).map_err(|e| format!("fill {topic}: send: {e}"))?;
        }
        let body = conn.recv().map_err(|e| format!("fill {topic}: receive: {e}"))?;
        got += 1;
        wire::check_produce_v7(body, got as i32).map_err(|e| format!("fill {topic}: {e}"))?;
    }
    Ok(())
}
