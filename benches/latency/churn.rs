//! Housekeeping under load: `produce_1_churn` and `fetch_1_churn` measure what `produce_1` and
//! `fetch_1` measure, in slices with and without a background client that keeps the broker's
//! log cleaner and retention busy, on the same broker; `cleaner_throughput` times one round of
//! the cleaner over a topic filled with overwritten keys.
//!
//! The background client (one thread, one connection) produces every `PERIOD` one batch of
//! keyed overwrites to a compacted topic (1 MiB segments, min.cleanable.dirty.ratio 0.01:
//! a round whenever a segment rolls) and one 16 KiB batch to a delete-policy topic keeping
//! 1 MiB in 1 MiB segments (a segment deleted whenever one rolls), about 2.5 MB/s in all: a
//! steady, modest load, so that what the rows show is housekeeping, not a saturated CPU. The
//! broker checks for both as often as it allows (`OVERRIDES`). What housekeeping did in each
//! side's slices comes from the broker's log lines (`housekeeping.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::broker::{Broker, CpuUse, TempDir};
use crate::drive::{self, Plan, Run};
use crate::housekeeping::Tally;
use crate::report::{Lat, Row, MB};
use crate::wire::{self, Conn};
use crate::{setup, Ctx};

const COMPACTED: &str = "churn-compacted";
const RETAINED: &str = "churn-retained";
const CLEANED: &str = "bench-cleaned";

/// Housekeeping checks as often as the broker allows, from the start.
const OVERRIDES: &[&str] = &[
    "log.cleaner.backoff.ms=100",
    "log.retention.check.interval.ms=250",
    "log.initial.task.delay.ms=0",
];
const COMPACTED_CONFIGS: &[(&str, &str)] = &[
    ("cleanup.policy", "compact"),
    ("segment.bytes", "1048576"),
    ("min.cleanable.dirty.ratio", "0.01"),
];
/// Retention keeps about one segment: each one rolled goes at the next check.
const RETAINED_CONFIGS: &[(&str, &str)] =
    &[("segment.bytes", "1048576"), ("retention.bytes", "1048576")];

/// The compacted topic's keys, overwritten in turn, `KEYS_PER_BATCH` a batch.
const CHURN_KEYS: usize = 10_000;
const KEYS_PER_BATCH: usize = 100;
/// One batch to each topic per period: at most 1.4 + 1.6 MB/s (2.4-2.8 MB/s measured).
const PERIOD: Duration = Duration::from_millis(10);
/// How long housekeeping must have logged nothing before a slice without churn starts.
const SETTLE: Duration = Duration::from_millis(300);
const SETTLE_DEADLINE: Duration = Duration::from_secs(20);

/// The broker of a churn scenario, with the background client's topics created.
fn start(dir: &TempDir) -> Result<Broker, String> {
    let mut broker = Broker::start_with(dir.path(), crate::START_DEADLINE, OVERRIDES)?;
    let mut conn = crate::connect(&mut broker)?;
    create_topic(&mut conn, COMPACTED, COMPACTED_CONFIGS).map_err(|e| broker.explain(e))?;
    create_topic(&mut conn, RETAINED, RETAINED_CONFIGS).map_err(|e| broker.explain(e))?;
    Ok(broker)
}

pub(crate) fn create_topic(
    conn: &mut Conn,
    name: &str,
    configs: &[(&str, &str)],
) -> Result<(), String> {
    let mut frame = wire::create_topics_v4(&[(name, 1)], configs);
    wire::set_correlation_id(&mut frame, 1);
    let body = conn.round_trip(&frame).map_err(|e| format!("CreateTopics {name}: {e}"))?;
    wire::check_create_topics_v4(body, 1)
}

/// The background client: produces while switched on, idles otherwise.
struct Churn {
    on: Arc<AtomicBool>,
    /// Set by the thread when it has seen `on` false and has nothing in flight.
    idle: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
    error: Arc<Mutex<Option<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Churn {
    fn start(port: u16) -> Result<Churn, String> {
        let mut conn = Conn::connect(port).map_err(|e| format!("connect churn client: {e}"))?;
        let mut compacted: Vec<Vec<u8>> = (0..CHURN_KEYS / KEYS_PER_BATCH)
            .map(|i| {
                let keys = i * KEYS_PER_BATCH..(i + 1) * KEYS_PER_BATCH;
                wire::produce_v7(COMPACTED, 0, 1, &setup::keyed_batch(keys, crate::VALUE_LEN))
            })
            .collect();
        let (records, _) = crate::batch_16k();
        let mut retained = wire::produce_v7(RETAINED, 0, 1, &records);
        let on = Arc::new(AtomicBool::new(false));
        let idle = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let bytes = Arc::new(AtomicU64::new(0));
        let error = Arc::new(Mutex::new(None));
        let (on2, idle2, stop2, bytes2, error2) =
            (on.clone(), idle.clone(), stop.clone(), bytes.clone(), error.clone());
        let thread = thread::Builder::new()
            .name("churn".into())
            .spawn(move || {
                let (mut corr, mut i) = (0i32, 0usize);
                let mut next = Instant::now();
                while !stop2.load(SeqCst) {
                    // Cleared before `on` is read, so that whoever switched it off and then
                    // sees `idle` knows no request of this thread is in flight.
                    idle2.store(false, SeqCst);
                    if !on2.load(SeqCst) {
                        idle2.store(true, SeqCst);
                        thread::sleep(Duration::from_millis(1));
                        next = Instant::now();
                        continue;
                    }
                    // Paced, not as fast as possible: after a stall it resumes its rate
                    // rather than catching up in a burst.
                    let now = Instant::now();
                    if next > now {
                        thread::sleep(next - now);
                    }
                    next = next.max(now) + PERIOD;
                    let n = compacted.len();
                    for frame in [&mut compacted[i % n], &mut retained] {
                        corr = corr.wrapping_add(1);
                        wire::set_correlation_id(frame, corr);
                        let sent = conn
                            .round_trip(frame)
                            .map_err(|e| format!("churn produce: {e}"))
                            .and_then(|body| wire::check_produce_v7(body, corr));
                        if let Err(e) = sent {
                            *error2.lock().unwrap() = Some(e);
                            idle2.store(true, SeqCst);
                            return;
                        }
                        bytes2.fetch_add(frame.len() as u64, SeqCst);
                    }
                    i += 1;
                }
                idle2.store(true, SeqCst);
            })
            .map_err(|e| format!("spawn churn thread: {e}"))?;
        Ok(Churn { on, idle, stop, bytes, error, thread: Some(thread) })
    }

    fn switch(&self, on: bool) {
        self.on.store(on, SeqCst);
    }

    fn failed(&self) -> Result<(), String> {
        match self.error.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Switches off and waits until nothing of the background client is in flight and the
    /// broker's housekeeping has been quiet for `SETTLE`.
    fn quiesce(&self, broker: &mut Broker) -> Result<(), String> {
        self.switch(false);
        let deadline = Instant::now() + SETTLE_DEADLINE;
        while !self.idle.load(SeqCst) {
            self.failed()?;
            if Instant::now() > deadline {
                return Err("the churn client did not stop".into());
            }
            thread::sleep(Duration::from_millis(1));
        }
        self.failed()?;
        let (mut last, mut since) = (broker.housekeeping(), Instant::now());
        loop {
            let now = broker.housekeeping();
            let moved = now.rounds_begun != last.rounds_begun
                || now.rounds_done != last.rounds_done
                || now.segments_deleted != last.segments_deleted;
            if moved || now.cleaning() {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() >= SETTLE {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(broker.explain(format!(
                    "housekeeping still busy {SETTLE_DEADLINE:?} after the churn stopped"
                )));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One side of the comparison, its slices joined.
struct Side {
    run: Run,
    housekeeping: Tally,
    broker_cpu: Option<CpuUse>,
    churn_bytes: u64,
}

impl Side {
    fn new() -> Side {
        Side {
            run: Run { lat_ns: Vec::new(), window: Duration::ZERO, spent: Duration::ZERO },
            housekeeping: Tally::default(),
            broker_cpu: None,
            churn_bytes: 0,
        }
    }

    /// The broker's share of a core over this side's slices, and the kernel's part of it.
    fn cpu(&self) -> Option<(f64, f64)> {
        let zero = CpuUse { on_cpu_ns: 0, user_ticks: 0, sys_ticks: 0 };
        self.broker_cpu?.since(&zero, self.run.spent)
    }
}

/// Longer than the other scenarios' plans: a slice of each side lasts a second, long enough
/// for a few rounds of housekeeping (one a second or so at the churn's rate).
fn plan(ctx: &Ctx) -> (Plan, u32) {
    let slices = if ctx.quick { 2 } else { crate::INTERLEAVE_SLICES };
    let slice = Plan {
        warmup: if ctx.quick { Duration::from_millis(50) } else { Duration::from_millis(200) },
        measure: Duration::from_secs(1),
        max_requests: ctx.plan.max_requests / slices as usize,
    };
    (slice, slices)
}

/// Runs `measure` in slices without and with the churn, each slice starting with the other
/// side in turn; returns (without, with).
fn with_and_without(
    ctx: &Ctx,
    broker: &mut Broker,
    measure: &mut dyn FnMut(Plan) -> Result<Run, String>,
) -> Result<(Side, Side), String> {
    let churn = Churn::start(broker.port)?;
    // Until both kinds of housekeeping have run once: measured slices see a steady state.
    churn.switch(true);
    let (hk0, deadline) = (broker.housekeeping(), Instant::now() + SETTLE_DEADLINE);
    loop {
        churn.failed()?;
        let hk = broker.housekeeping().since(&hk0);
        if hk.rounds_done > 0 && hk.segments_deleted > 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(broker.explain(format!(
                "housekeeping did not start within {SETTLE_DEADLINE:?}: {}",
                hk.describe()
            )));
        }
        thread::sleep(Duration::from_millis(10));
    }
    let (slice, slices) = plan(ctx);
    let (mut quiet, mut busy) = (Side::new(), Side::new());
    for k in 0..slices {
        for churning in [k % 2 == 1, k % 2 == 0] {
            if churning {
                churn.switch(true);
            } else {
                churn.quiesce(broker)?;
            }
            let (hk0, cpu0, bytes0) =
                (broker.housekeeping(), CpuUse::of(broker.pid()), churn.bytes.load(SeqCst));
            let run = measure(slice).map_err(|e| broker.explain(e))?;
            let side = if churning { &mut busy } else { &mut quiet };
            side.housekeeping.add(&broker.housekeeping().since(&hk0));
            if let (Some(a), Some(b)) = (cpu0, CpuUse::of(broker.pid())) {
                let sum = side.broker_cpu.get_or_insert(CpuUse {
                    on_cpu_ns: 0,
                    user_ticks: 0,
                    sys_ticks: 0,
                });
                sum.on_cpu_ns += b.on_cpu_ns.saturating_sub(a.on_cpu_ns);
                sum.user_ticks += b.user_ticks.saturating_sub(a.user_ticks);
                sum.sys_ticks += b.sys_ticks.saturating_sub(a.sys_ticks);
            }
            side.churn_bytes += churn.bytes.load(SeqCst) - bytes0;
            side.run.lat_ns.extend_from_slice(&run.lat_ns);
            side.run.window += run.window;
            side.run.spent += run.spent;
            churn.failed()?;
        }
    }
    churn.switch(false);
    broker.check_alive()?;
    Ok((quiet, busy))
}

/// The row of a comparison: the busy side's latency, its ratios to the quiet side's, and
/// what housekeeping did meanwhile.
fn churn_row(
    ctx: &Ctx,
    name: &'static str,
    (mut quiet, busy): (Side, Side),
    bytes_per_req: usize,
) -> Result<Row, String> {
    let (busy_cpu, quiet_cpu) = (busy.cpu(), quiet.cpu());
    let busy_secs = busy.run.spent.as_secs_f64();
    let (hk, churn_bytes, quiet_hk) = (busy.housekeeping, busy.churn_bytes, quiet.housekeeping);
    let mut row = crate::row_of(ctx, name, busy.run, 1, bytes_per_req)?;
    row.set_cpu(busy_cpu);
    let q = Lat::from_ns(&mut quiet.run.lat_ns).ok_or("no request completed without churn")?;
    row.ratios_to(Some(q));
    // A stall of a few ms on the loop (an fsync, say) shows in p99.9 before p99.
    let ratio_p999 = row.lat.map_or(f64::NAN, |l| l.p999 / q.p999);
    let churn_mb_s = churn_bytes as f64 / MB / busy_secs;
    row.extra.extend([
        ("quiet_p50_us", q.p50),
        ("quiet_p99_us", q.p99),
        ("quiet_p999_us", q.p999),
        ("ratio_p999", ratio_p999),
        ("quiet_req_s", quiet.run.per_sec()),
        ("quiet_broker_cpu", quiet_cpu.map_or(f64::NAN, |c| c.0)),
        ("churn_mb_s", churn_mb_s),
        ("cleaner_rounds", hk.rounds_done as f64),
        ("cleaner_read_mb", hk.read_mb),
        ("cleaner_written_mb", hk.written_mb),
        ("cleaner_busy_s", hk.clean_secs),
        ("segments_deleted", hk.segments_deleted as f64),
        ("deleted_mb", hk.deleted_bytes as f64 / MB),
        ("quiet_cleaner_rounds", quiet_hk.rounds_done as f64),
        ("quiet_segments_deleted", quiet_hk.segments_deleted as f64),
    ]);
    row.note = format!(
        "x_ ratios to slices without churn (p50 {:.1} us, p99 {:.1} us, broker {:.0}% of a core) \
         interleaved on the same broker; with churn of {churn_mb_s:.1} MB/s meanwhile: {}; \
         during the slices without: {} cleaner round(s), {} segment(s) deleted",
        q.p50,
        q.p99,
        quiet_cpu.map_or(f64::NAN, |c| c.0 * 100.0),
        hk.describe(),
        quiet_hk.rounds_done,
        quiet_hk.segments_deleted,
    );
    if hk.rounds_done == 0 || hk.segments_deleted == 0 {
        return Err(format!("housekeeping did not run during the churn: {}", hk.describe()));
    }
    Ok(row)
}

/// `produce_1` with and without the churn.
pub fn produce_1_churn(ctx: &mut Ctx) -> Result<Row, String> {
    let dir = setup::log_dir("produce1churn", &[(crate::TOPIC_ONE, 1)])?;
    let mut broker = start(&dir)?;
    let mut conn = crate::connect(&mut broker)?;
    let records = crate::one_record();
    let mut frame = wire::produce_v7(crate::TOPIC_ONE, 0, 1, &records);
    let mut measure = |plan| drive::closed_loop(&mut conn, &mut frame, plan, crate::check_produce);
    let (quiet, busy) = with_and_without(ctx, &mut broker, &mut measure)?;
    let acked = quiet.run.requests() + busy.run.requests();
    let hw = crate::verify_stored(&mut conn, crate::TOPIC_ONE, 0, acked)
        .map_err(|e| broker.explain(e))?;
    let mut row = churn_row(ctx, "produce_1_churn", (quiet, busy), records.len())?;
    row.extra.push(("high_watermark", hw as f64));
    Ok(row)
}

/// `fetch_1` with and without the churn.
pub fn fetch_1_churn(ctx: &mut Ctx) -> Result<Row, String> {
    let one = crate::one_record();
    let topic = crate::TOPIC_FETCH_ONE;
    let dir = setup::log_dir("fetch1churn", &[(topic, 1)])?;
    let (_, end_offset, _) =
        setup::prefill(dir.path(), topic, 0, &one, crate::FETCH_ONE_BATCHES * one.len())?;
    let mut broker = start(&dir)?;
    let mut conn = crate::connect(&mut broker)?;
    let mut frame = wire::fetch_v11(topic, 0, 0, 1);
    let offset_at = wire::fetch_v11_offset_at(topic);
    let (mut offset, mut corr) = (0i64, 0i32);
    let mut measure = |plan| {
        drive::timed(plan, || {
            corr = corr.wrapping_add(1);
            let (took, p) = crate::fetch_at(&mut conn, &mut frame, offset_at, corr, offset)?;
            match wire::complete_batches(p.records) {
                Some((len, next)) if len == one.len() && next == offset + 1 => {}
                _ => return Err(format!("fetch at {offset}: not exactly its one-record batch")),
            }
            offset = (offset + 1) % end_offset;
            Ok(took)
        })
    };
    let sides = with_and_without(ctx, &mut broker, &mut measure)?;
    churn_row(ctx, "fetch_1_churn", sides, one.len())
}

/// Fills a delete-policy topic (8 MiB segments) with batches of keyed records, each key
/// overwritten about `OVERWRITES` times, then makes it compacted: the cleaner's first round
/// cleans all but the active segment at once. Its MB/s are read from its log line: `mb_s` is
/// what it read (the dirty part once to map its keys, then every segment again to rewrite
/// it), `log_mb_s` the part of the log it cleaned, `written_mb_s` what it wrote. Meanwhile
/// `produce_1` runs on another topic, its latency (the row's) compared with a run just before
/// the round (`x_` ratios).
pub fn cleaner_throughput(ctx: &mut Ctx) -> Result<Row, String> {
    const OVERWRITES: usize = 8;
    let fill: usize = if ctx.quick { 32 << 20 } else { 128 << 20 };
    let dir = setup::log_dir("cleaner", &[(crate::TOPIC_ONE, 1)])?;
    let mut broker = Broker::start_with(dir.path(), crate::START_DEADLINE, OVERRIDES)?;
    let mut conn = crate::connect(&mut broker)?;
    create_topic(&mut conn, CLEANED, &[("segment.bytes", "8388608")])
        .map_err(|e| broker.explain(e))?;

    let per_batch = setup::keyed_batch(0..KEYS_PER_BATCH, crate::VALUE_LEN).len();
    let batches = fill.div_ceil(per_batch);
    let distinct = (batches / OVERWRITES).max(1);
    let keys = distinct * KEYS_PER_BATCH;
    let frames: Vec<Vec<u8>> = (0..distinct)
        .map(|i| {
            let batch =
                setup::keyed_batch(i * KEYS_PER_BATCH..(i + 1) * KEYS_PER_BATCH, crate::VALUE_LEN);
            wire::produce_v7(CLEANED, 0, 1, &batch)
        })
        .collect();
    let t = Instant::now();
    produce_pipelined(&mut conn, (0..batches).map(|i| &frames[i % distinct]))
        .map_err(|e| broker.explain(e))?;
    let fill_s = t.elapsed().as_secs_f64();
    drop(frames);

    // produce_1 on its own topic, just before the round and during it.
    let records = crate::one_record();
    let mut frame = wire::produce_v7(crate::TOPIC_ONE, 0, 1, &records);
    let before_plan = Plan {
        warmup: Duration::from_millis(100),
        measure: if ctx.quick { Duration::from_millis(300) } else { Duration::from_secs(1) },
        max_requests: ctx.plan.max_requests,
    };
    let mut before = drive::closed_loop(&mut conn, &mut frame, before_plan, crate::check_produce)
        .map_err(|e| broker.explain(e))?;
    let hk0 = broker.housekeeping();
    let cpu0 = CpuUse::of(broker.pid());
    let mut alter = wire::incremental_alter_configs_v0(CLEANED, &[("cleanup.policy", "compact")]);
    wire::set_correlation_id(&mut alter, 1);
    let body = conn.round_trip(&alter).map_err(|e| broker.explain(format!("alter: {e}")))?;
    wire::check_incremental_alter_configs_v0(body, 1)?;
    let altered = Instant::now();
    let deadline = altered + Duration::from_secs(600);
    let mut during = Vec::new();
    let mut corr = 1i32;
    let done = loop {
        let hk = broker.housekeeping().since(&hk0);
        if hk.rounds_done + hk.rounds_abandoned > 0 {
            break hk;
        }
        if Instant::now() > deadline {
            return Err(broker.explain("no cleaning round within 600 s of the alter"));
        }
        corr = corr.wrapping_add(1);
        wire::set_correlation_id(&mut frame, corr);
        let t = Instant::now();
        let body = conn.round_trip(&frame).map_err(|e| broker.explain(format!("produce: {e}")))?;
        let took = t.elapsed();
        crate::check_produce(body, corr)?;
        if broker.housekeeping().cleaning() {
            during.push(drive::ns(took));
        }
    };
    let elapsed = altered.elapsed();
    let cpu = match (cpu0, CpuUse::of(broker.pid())) {
        (Some(a), Some(b)) => b.since(&a, elapsed),
        _ => None,
    };
    if done.rounds_abandoned > 0 || done.rounds_done != 1 {
        return Err(broker.explain(format!("the round did not complete: {}", done.describe())));
    }
    let (read_mb, written_mb, secs) = done.last_round.ok_or("no figures in the cleaned line")?;
    let log_mb = done.dirty_bytes as f64 / MB;
    let left_mb = dir_bytes(&dir.path().join(format!("{CLEANED}-0"))) as f64 / MB;

    let mut row = Row::new("cleaner_throughput");
    row.lat = Lat::from_ns(&mut during);
    row.ratios_to(Lat::from_ns(&mut before.lat_ns));
    row.mb_s = Some(read_mb / secs);
    row.cpu = cpu;
    row.extra.extend([
        ("fill_mb", (batches * per_batch) as f64 / MB),
        ("fill_s", fill_s),
        ("keys", keys as f64),
        ("records", (batches * KEYS_PER_BATCH) as f64),
        ("cleaned_log_mb", log_mb),
        ("read_mb", read_mb),
        ("written_mb", written_mb),
        ("round_s", secs),
        ("log_mb_s", log_mb / secs),
        ("written_mb_s", written_mb / secs),
        ("partition_mb_after", left_mb),
        ("produce_during_round", during.len() as f64),
    ]);
    if let Some(b) = Lat::from_ns(&mut before.lat_ns) {
        row.extra.push(("before_p50_us", b.p50));
        row.extra.push(("before_p99_us", b.p99));
    }
    row.note = format!(
        "one round over {log_mb:.0} MB of {} records of {keys} keys: read {read_mb:.0} MB, \
         wrote {written_mb:.0} MB in {secs:.2} s ({:.0} MB/s of log, {:.0} MB/s written); \
         partition {left_mb:.0} MB after; latency = produce_1 during the round ({} requests), \
         x_ ratios to produce_1 just before it",
        batches * KEYS_PER_BATCH,
        log_mb / secs,
        written_mb / secs,
        during.len()
    );
    Ok(row)
}

/// Sends `frames` with `crate::PIPELINE_DEPTH` in flight, checking every response.
fn produce_pipelined<'f>(
    conn: &mut Conn,
    frames: impl Iterator<Item = &'f Vec<u8>>,
) -> Result<(), String> {
    let mut frames = frames.peekable();
    let (mut sent, mut received) = (0i32, 0i32);
    let mut buf = Vec::new();
    while frames.peek().is_some() || received < sent {
        while sent - received < crate::PIPELINE_DEPTH as i32 {
            let Some(f) = frames.next() else { break };
            buf.clear();
            buf.extend_from_slice(f);
            sent += 1;
            wire::set_correlation_id(&mut buf, sent);
            conn.send(&buf).map_err(|e| format!("fill: send: {e}"))?;
        }
        let body = conn.recv().map_err(|e| format!("fill: receive: {e}"))?;
        received += 1;
        wire::check_produce_v7(body, received).map_err(|e| format!("fill: {e}"))?;
    }
    Ok(())
}

pub(crate) fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}
