//! `produce_1_flooded`: `produce_1`'s load on a broker under the floods of `tests/floods.rs`,
//! beside the same load on a twin broker without them, their slices interleaved in time.
//!
//! The flooded broker holds 200 stuck consumers, each having pipelined 8 Fetches of a 32 MiB
//! partition (1 MiB batches) and never reading a byte, and a producer writing 64 KiB batches
//! as fast as the broker takes them (8 in flight, then their 8 answers, as in the test) to a
//! topic whose retention keeps two 8 MiB segments, checked every 100 ms and deleted at once,
//! so that the flood leaves tens of MB on disk, not gigabytes. Each segment the flood fills is
//! rolled, which syncs it (as Kafka's roll does, on the broker's background I/O thread), and
//! retention then deletes it (renamed on the loop, unlinked on that thread): the flood's cost
//! to the well-behaved client depends on the segment size, which
//! `MINIKAFKA_BENCH_FLOOD_SEGMENT_BYTES` sets (1073741824, Kafka's default, rolls no segment
//! within the row, and the flood then leaves a GB or two on disk until it ends).
//! `MINIKAFKA_BENCH_FLOOD_MB_S` caps the flood's rate (MB/s; unset: as fast as it is
//! answered), so that brokers which take the flood at different rates can be compared under
//! the same one.
//!
//! The stuck consumers stay for the whole row: reconnecting them for each slice would have the
//! broker splice megabytes into each new socket again. So the unflooded side is a twin broker
//! of the same topics and settings that never sees them, measured in slices interleaved with
//! the flooded one's. The producer floods only during the flooded broker's slices and is
//! drained before each of the twin's, so that the twin sees a machine as quiet as plain
//! `produce_1` does; on 2 cores, part of what the flood costs is its own CPU and the broker's.
//!
//! The row's latency is the flooded broker's, its `x_` ratios to the twin's, and its JSON line
//! gives the flooded broker's resident memory: before the flood, its peak sampled every 5 ms
//! while the stuck consumers connected and the slices ran, and VmHWM at the end.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::broker::{memory_kib, Broker, CpuUse, RssPeak, TempDir};
use crate::churn::{create_topic, dir_bytes};
use crate::drive::{self, Plan, Run};
use crate::report::{Lat, Row, MB};
use crate::wire::{self, Conn};
use crate::{setup, Ctx};

const STUCK_CONSUMERS: usize = 200;
/// Fetches each stuck consumer pipelines: the first answer alone passes the broker's
/// high-water mark, after which it stops reading the connection.
const FETCHES_EACH: usize = 8;
const BIG: &str = "flood-big";
const BIG_BYTES: usize = 32 << 20;
const FETCH_BYTES: i32 = 64 << 20;
const FLOODED: &str = "flood-target";
const FLOOD_VALUE: usize = 64 << 10;
const FLOOD_DEPTH: usize = 8;
/// Retention checked from the start and often, so that the flood's disk use stays bounded.
const OVERRIDES: &[&str] = &["log.retention.check.interval.ms=100", "log.initial.task.delay.ms=0"];
/// The flood topic's `segment.bytes` unless `MINIKAFKA_BENCH_FLOOD_SEGMENT_BYTES` says
/// otherwise; its `retention.bytes` is twice that, and deleted segments go at once.
const FLOOD_SEGMENT_BYTES: u64 = 8 << 20;
/// The producer stops (and the row fails) past this many bytes: retention not keeping up
/// would otherwise fill the disk.
const FLOOD_CAP: u64 = 16 << 30;
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);

/// A broker of the scenario's topics and settings: the large partition pre-filled, the flood's
/// topic created with its retention.
fn start(dir: &TempDir, segment_bytes: u64) -> Result<Broker, String> {
    let mut broker = Broker::start_with(dir.path(), crate::START_DEADLINE, OVERRIDES)?;
    let mut conn = crate::connect(&mut broker)?;
    let (segment, retention) = (segment_bytes.to_string(), (2 * segment_bytes).to_string());
    let configs = [
        ("segment.bytes", segment.as_str()),
        ("retention.bytes", retention.as_str()),
        ("file.delete.delay.ms", "0"),
    ];
    create_topic(&mut conn, FLOODED, &configs).map_err(|e| broker.explain(e))?;
    Ok(broker)
}

fn log_dir(tag: &str) -> Result<TempDir, String> {
    let dir = setup::log_dir(tag, &[(BIG, 1), (crate::TOPIC_ONE, 1)])?;
    let template = setup::batch(1, 1 << 20);
    setup::prefill(dir.path(), BIG, 0, &template, BIG_BYTES)?;
    Ok(dir)
}

/// Connections that pipeline Fetches of the whole large partition and never read.
fn stuck_consumers(port: u16) -> Result<Vec<Conn>, String> {
    let mut frame = wire::fetch_v11(BIG, 0, 0, FETCH_BYTES);
    let mut conns = Vec::with_capacity(STUCK_CONSUMERS);
    for i in 0..STUCK_CONSUMERS {
        let mut c = Conn::connect(port).map_err(|e| format!("stuck consumer {i}: {e}"))?;
        for k in 0..FETCHES_EACH {
            wire::set_correlation_id(&mut frame, k as i32 + 1);
            c.send(&frame).map_err(|e| format!("stuck consumer {i}: send: {e}"))?;
        }
        conns.push(c);
    }
    Ok(conns)
}

/// Waits until the broker has spent under 5% of a core over 100 ms: it has written into the
/// stuck consumers' sockets all they take and sits waiting for them.
fn settle(broker: &mut Broker) -> Result<Duration, String> {
    let t = Instant::now();
    let mut before = CpuUse::of(broker.pid()).ok_or("broker CPU unreadable")?;
    loop {
        thread::sleep(Duration::from_millis(100));
        let now = CpuUse::of(broker.pid()).ok_or_else(|| broker.explain("broker gone"))?;
        if now.on_cpu_ns.saturating_sub(before.on_cpu_ns) < 5_000_000 {
            return Ok(t.elapsed());
        }
        if t.elapsed() > SETTLE_DEADLINE {
            return Err(broker.explain("still busy with the stuck consumers after 30 s"));
        }
        before = now;
    }
}

/// The flooding producer: floods while switched on, idles otherwise.
struct Flood {
    on: Arc<AtomicBool>,
    /// Set by the thread when it has seen `on` false and has nothing in flight.
    idle: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
    error: Arc<Mutex<Option<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Flood {
    fn start(port: u16) -> Result<Flood, String> {
        let mut conn = Conn::connect(port).map_err(|e| format!("connect flood producer: {e}"))?;
        let mut frame = wire::produce_v7(FLOODED, 0, 1, &setup::batch(1, FLOOD_VALUE));
        let on = Arc::new(AtomicBool::new(false));
        let idle = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let bytes = Arc::new(AtomicU64::new(0));
        let error = Arc::new(Mutex::new(None));
        let (on2, idle2, stop2, bytes2, error2) =
            (on.clone(), idle.clone(), stop.clone(), bytes.clone(), error.clone());
        let thread = thread::Builder::new()
            .name("flood".into())
            .spawn(move || {
                let mut corr = 0i32;
                let cap_mb_s = std::env::var("MINIKAFKA_BENCH_FLOOD_MB_S")
                    .ok()
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|r| *r > 0.0);
                let mut burst = || -> Result<(), String> {
                    let started = Instant::now();
                    let first = corr.wrapping_add(1);
                    for _ in 0..FLOOD_DEPTH {
                        corr = corr.wrapping_add(1);
                        wire::set_correlation_id(&mut frame, corr);
                        conn.send(&frame).map_err(|e| format!("flood: send: {e}"))?;
                    }
                    for k in 0..FLOOD_DEPTH as i32 {
                        let body = conn.recv().map_err(|e| format!("flood: receive: {e}"))?;
                        wire::check_produce_v7(body, first.wrapping_add(k))
                            .map_err(|e| format!("flood: {e}"))?;
                    }
                    let total = bytes2.fetch_add((FLOOD_DEPTH * frame.len()) as u64, SeqCst);
                    if total > FLOOD_CAP {
                        return Err(format!("flood: {FLOOD_CAP} bytes written, stopped"));
                    }
                    if let Some(rate) = cap_mb_s {
                        let due = (FLOOD_DEPTH * frame.len()) as f64 / (rate * 1e6);
                        let left = Duration::from_secs_f64(due).saturating_sub(started.elapsed());
                        thread::sleep(left);
                    }
                    Ok(())
                };
                while !stop2.load(SeqCst) {
                    // Cleared before `on` is read, so that whoever switched it off and then
                    // sees `idle` knows no request of this thread is in flight.
                    idle2.store(false, SeqCst);
                    if !on2.load(SeqCst) {
                        idle2.store(true, SeqCst);
                        thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    if let Err(e) = burst() {
                        *error2.lock().unwrap() = Some(e);
                        break;
                    }
                }
                idle2.store(true, SeqCst);
            })
            .map_err(|e| format!("spawn flood thread: {e}"))?;
        Ok(Flood { on, idle, stop, bytes, error, thread: Some(thread) })
    }

    fn failed(&self) -> Result<(), String> {
        match self.error.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn switch_on(&self) -> Result<(), String> {
        self.failed()?;
        self.on.store(true, SeqCst);
        Ok(())
    }

    /// Switches off and waits until none of its requests is in flight.
    fn drain(&self) -> Result<(), String> {
        self.on.store(false, SeqCst);
        let deadline = Instant::now() + SETTLE_DEADLINE;
        while !self.idle.load(SeqCst) {
            if Instant::now() > deadline {
                return Err("the flooding producer did not stop".into());
            }
            thread::sleep(Duration::from_millis(1));
        }
        self.failed()
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the flooded broker's slices add up to, besides their latencies.
#[derive(Default)]
struct FloodedSide {
    cpu_ns: u64,
    user_ticks: u64,
    sys_ticks: u64,
    flood_bytes: u64,
    segments_deleted: u64,
    /// The flood partition's directory at its largest, at the end of a slice.
    log_max: u64,
}

/// The two sides' slices joined, and what went on meanwhile.
struct Measured {
    run: Run,
    twin_run: Run,
    side: FloodedSide,
    settled: Duration,
    conn: Conn,
    twin_conn: Conn,
}

/// Floods `flooded` (the stuck consumers for good, the producer during its slices) and runs
/// `produce_1`'s load on it and on `twin` in interleaved slices.
fn flood_and_measure(
    ctx: &Ctx,
    flooded: &mut Broker,
    twin: &mut Broker,
    flood_log: &std::path::Path,
) -> Result<Measured, String> {
    let stuck = stuck_consumers(flooded.port).map_err(|e| flooded.explain(e))?;
    let settled = settle(flooded)?;
    let flood = Flood::start(flooded.port)?;
    let records = crate::one_record();
    let mut frame = wire::produce_v7(crate::TOPIC_ONE, 0, 1, &records);
    let mut twin_frame = frame.clone();
    let mut conn = crate::connect(flooded)?;
    let mut twin_conn = crate::connect(twin)?;
    let pid = flooded.pid();
    let mut side = FloodedSide::default();
    let runs = {
        let housekeeping = || flooded.housekeeping();
        let mut on_flooded = |p: Plan| -> Result<Run, String> {
            let (cpu0, bytes0, hk0) = (CpuUse::of(pid), flood.bytes.load(SeqCst), housekeeping());
            flood.switch_on()?;
            let run = drive::closed_loop(&mut conn, &mut frame, p, crate::check_produce)?;
            if let (Some(a), Some(b)) = (cpu0, CpuUse::of(pid)) {
                side.cpu_ns += b.on_cpu_ns.saturating_sub(a.on_cpu_ns);
                side.user_ticks += b.user_ticks.saturating_sub(a.user_ticks);
                side.sys_ticks += b.sys_ticks.saturating_sub(a.sys_ticks);
            }
            side.flood_bytes += flood.bytes.load(SeqCst) - bytes0;
            side.segments_deleted += housekeeping().since(&hk0).segments_deleted;
            side.log_max = side.log_max.max(dir_bytes(flood_log));
            Ok(run)
        };
        let mut on_twin = |p: Plan| -> Result<Run, String> {
            flood.drain()?;
            drive::closed_loop(&mut twin_conn, &mut twin_frame, p, crate::check_produce)
        };
        // Half the run's measuring time a side, as in durable.rs: the row stays a few seconds.
        let plan = Plan { measure: ctx.plan.measure / 2, ..ctx.plan };
        crate::interleaved_plan(ctx, plan, [&mut on_flooded, &mut on_twin])
    };
    let drained = flood.drain();
    let [run, twin_run] = runs.map_err(|e| flooded.explain(e))?;
    drained.map_err(|e| flooded.explain(e))?;
    drop(flood);
    drop(stuck);
    Ok(Measured { run, twin_run, side, settled, conn, twin_conn })
}

/// `produce_1` on a broker under the floods, and on its unflooded twin in interleaved slices.
pub fn produce_1_flooded(ctx: &mut Ctx) -> Result<Row, String> {
    let flooded_dir = log_dir("produce1flooded")?;
    let twin_dir = log_dir("produce1twin")?;
    let segment_bytes = std::env::var("MINIKAFKA_BENCH_FLOOD_SEGMENT_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FLOOD_SEGMENT_BYTES);
    let mut flooded = start(&flooded_dir, segment_bytes)?;
    let mut twin = start(&twin_dir, segment_bytes)?;
    let flood_log = flooded_dir.path().join(format!("{FLOODED}-0"));
    let (rss_idle, _) = memory_kib(flooded.pid())?;
    let (hk0, twin_cpu0) = (flooded.housekeeping(), CpuUse::of(twin.pid()));
    let rss = RssPeak::start(flooded.pid());
    let measured = flood_and_measure(ctx, &mut flooded, &mut twin, &flood_log);
    let rss_peak = rss.finish();
    let Measured { run, mut twin_run, side, settled, mut conn, mut twin_conn } = measured?;
    let deleted_total = flooded.housekeeping().since(&hk0).segments_deleted;
    flooded.check_alive()?;
    twin.check_alive()?;
    let (_, hwm) = memory_kib(flooded.pid())?;
    let (_, twin_hwm) = memory_kib(twin.pid())?;
    let twin_cpu = match (twin_cpu0, CpuUse::of(twin.pid())) {
        (Some(a), Some(b)) => b.since(&a, twin_run.spent),
        _ => None,
    };
    let hw = crate::verify_stored(&mut conn, crate::TOPIC_ONE, 0, run.requests())
        .map_err(|e| flooded.explain(e))?;
    let twin_hw = crate::verify_stored(&mut twin_conn, crate::TOPIC_ONE, 0, twin_run.requests())
        .map_err(|e| twin.explain(e))?;

    let records_len = crate::one_record().len();
    let flooded_secs = run.spent.as_secs_f64();
    let zero = CpuUse { on_cpu_ns: 0, user_ticks: 0, sys_ticks: 0 };
    let used =
        CpuUse { on_cpu_ns: side.cpu_ns, user_ticks: side.user_ticks, sys_ticks: side.sys_ticks };
    let cpu = used.since(&zero, run.spent);
    let twin_req_s = twin_run.per_sec();
    let mut row = crate::row_of(ctx, "produce_1_flooded", run, 1, records_len)?;
    row.set_cpu(cpu);
    let t = Lat::from_ns(&mut twin_run.lat_ns).ok_or("no request completed on the twin")?;
    row.ratios_to(Some(t));
    let ratio_p999 = row.lat.map_or(f64::NAN, |l| l.p999 / t.p999);
    let flood_mb_s = side.flood_bytes as f64 / MB / flooded_secs;
    let mib = |k: u64| k as f64 / 1024.0;
    row.extra.extend([
        ("high_watermark", hw as f64),
        ("twin_high_watermark", twin_hw as f64),
        ("twin_p50_us", t.p50),
        ("twin_p99_us", t.p99),
        ("twin_p999_us", t.p999),
        ("ratio_p999", ratio_p999),
        ("twin_req_s", twin_req_s),
        ("twin_broker_cpu", twin_cpu.map_or(f64::NAN, |c| c.0)),
        ("stuck_consumers", STUCK_CONSUMERS as f64),
        ("stuck_fetches", (STUCK_CONSUMERS * FETCHES_EACH) as f64),
        ("settle_s", settled.as_secs_f64()),
        ("flood_mb_s", flood_mb_s),
        ("flood_mb", side.flood_bytes as f64 / MB),
        ("flood_segment_bytes", segment_bytes as f64),
        ("flood_segments_deleted", deleted_total as f64),
        ("flood_log_mb_max", side.log_max as f64 / MB),
        ("rss_idle_kib", rss_idle as f64),
        ("rss_peak_kib", rss_peak as f64),
        ("hwm_kib", hwm as f64),
        ("twin_hwm_kib", twin_hwm as f64),
    ]);
    row.note = format!(
        "x_ ratios to the unflooded twin broker's interleaved slices (p50 {:.1} us, p99 {:.1} \
         us, {twin_req_s:.0} req/s); flood: {STUCK_CONSUMERS} stuck consumers x \
         {FETCHES_EACH} Fetches of {} MiB, a producer of {} KiB batches at {flood_mb_s:.0} \
         MB/s during the flooded slices to {:.0} MB segments ({} deleted meanwhile, flood log \
         at most {:.0} MB); broker RSS {:.1} MiB idle, peak {:.1} MiB (VmHWM {:.1} MiB; twin's {:.1} \
         MiB)",
        t.p50,
        t.p99,
        BIG_BYTES >> 20,
        FLOOD_VALUE >> 10,
        segment_bytes as f64 / MB,
        side.segments_deleted,
        side.log_max as f64 / MB,
        mib(rss_idle),
        mib(rss_peak),
        mib(hwm),
        mib(twin_hwm),
    );
    Ok(row)
}
