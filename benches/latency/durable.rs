//! Durable mode: the produce scenarios on a broker started with
//! `log.flush.interval.messages=1`, which `fdatasync`s every partition a turn of its event
//! loop appended to before that turn's answers are sent. Each is measured in slices
//! interleaved with the disk's own sync rate for the row's request (`disk_fdatasync16k`'s
//! load with the row's record batch: appends to a fresh file, each followed by `fdatasync`),
//! since a VM's disk drifts as much as its loopback.
//!
//! `ratio_fsync` is the broker's requests/s over the syncs/s of that baseline: about 1 or less
//! when every request waits for a sync of its own; above 1 when several requests shared one,
//! which only a turn that answers several requests to one partition can do (group commit: 8 in
//! flight on one connection, or many connections to one partition). Requests to different
//! partitions in one turn each get their partition's sync, one after another.
//! Where the temp dir's filesystem sits on a block device listed in `/proc/diskstats`, the row
//! also gives the cache flushes that device completed during the broker's slices and during
//! the baseline's (every process's flushes; other work on the machine adds to them): with a
//! volatile write cache each sync costs one, so requests per flush counts the syncs shared
//! directly.

use std::cell::Cell;

use crate::disk::{self, Device};
use crate::drive::{self, Plan, Run};
use crate::report::{Lat, Row, MB};
use crate::server::Server;
use crate::wire::{self, Conn};
use crate::{
    batch_16k, check_produce, cpu_over, frames_64conn, one_record, row_of, verify_stored, Ctx,
    Side, CONNECTIONS, PIPELINE_DEPTH, START_DEADLINE, TOPIC_BATCH, TOPIC_MANY, TOPIC_ONE,
};

const OVERRIDE: &str = "log.flush.interval.messages=1";

/// A side's slices joined, and the device's flushes per second over them, warm-ups included
/// as they are in the count (None if they cannot be read).
struct Counted {
    run: Run,
    flushes_s: Option<f64>,
}

/// A fresh minikafka in durable mode over a log directory holding `topics`, and the device
/// its log directory is on.
fn start(tag: &str, topics: &[(&str, i32)]) -> Result<(Server, Option<Device>), String> {
    let dir = crate::setup::log_dir(tag, topics)?;
    let device = Device::of(dir.path());
    let broker = crate::broker::Broker::start_with(dir.path(), START_DEADLINE, &[OVERRIDE])?;
    Ok((Server::Mini { broker, _dir: dir }, device))
}

/// Half the run's measuring time a side: a synced request takes hundreds of microseconds, so
/// that still gives thousands of samples, and the row stays a few seconds long.
fn plan(ctx: &Ctx) -> Plan {
    Plan { measure: ctx.plan.measure / 2, ..ctx.plan }
}

/// The broker's side and the fdatasync baseline, interleaved slice by slice, each counting the
/// device's flushes over its own slices.
fn measure(
    ctx: &Ctx,
    device: Option<Device>,
    on_broker: Side<'_>,
    batch: &[u8],
) -> Result<[Counted; 2], String> {
    let mut disk = disk::Append::create("durable-fdatasync")?;
    let flushes = [Cell::new(Some(0u64)), Cell::new(Some(0u64))];
    let counting = |i: usize, side: &mut dyn FnMut(Plan) -> Result<Run, String>, p: Plan| {
        let before = device.and_then(|d| d.flushes());
        let run = side(p)?;
        let after = device.and_then(|d| d.flushes());
        flushes[i].set(match (flushes[i].get(), before, after) {
            (Some(sum), Some(b), Some(a)) => Some(sum + a.saturating_sub(b)),
            _ => None,
        });
        Ok(run)
    };
    let mut broker = |p| counting(0, on_broker, p);
    let mut sync = |p| counting(1, &mut |p| disk.run_synced(batch, p), p);
    let runs = crate::interleaved_plan(ctx, plan(ctx), [&mut broker, &mut sync])?;
    let mut i = 0;
    Ok(runs.map(|run| {
        let flushes_s = flushes[i].get().map(|f| f as f64 / run.spent.as_secs_f64());
        i += 1;
        Counted { run, flushes_s }
    }))
}

/// The row's figures beside the interleaved fdatasync baseline: its latency as the x_ ratios'
/// denominator, its syncs/s as `ratio_fsync`'s, and the device's flushes on each side.
fn beside_fsync(row: &mut Row, broker_flushes_s: Option<f64>, mut sync: Counted, batch_len: usize) {
    let syncs_s = sync.run.per_sec();
    let sync_lat = Lat::from_ns(&mut sync.run.lat_ns);
    row.ratios_to(sync_lat);
    let req_s = row.req_s.unwrap_or(0.0);
    let ratio = req_s / syncs_s;
    row.extra.push(("fsync_s", syncs_s));
    row.extra.push(("fsync_mb_s", syncs_s * batch_len as f64 / MB));
    if let Some(l) = sync_lat {
        row.extra.push(("fsync_p50_us", l.p50));
        row.extra.push(("fsync_p99_us", l.p99));
    }
    row.extra.push(("ratio_fsync", ratio));
    let mut flushes = String::new();
    if let (Some(b), Some(s)) = (broker_flushes_s, sync.flushes_s) {
        row.extra.push(("dev_flushes_s", b));
        row.extra.push(("req_per_flush", req_s / b));
        row.extra.push(("fsync_flushes_per_sync", s / syncs_s));
        flushes = format!(
            "; device flushes {b:.0}/s, {:.2} requests per flush (baseline: {:.2} per sync)",
            req_s / b,
            s / syncs_s
        );
    }
    row.note = format!(
        "{OVERRIDE}; x_ ratios to the interleaved {batch_len} B write+fdatasync: p50 {:.0} us, \
         p99 {:.0} us, {syncs_s:.0} syncs/s; {ratio:.2} requests per baseline sync{flushes}",
        sync_lat.map_or(f64::NAN, |l| l.p50),
        sync_lat.map_or(f64::NAN, |l| l.p99),
    );
}

/// `produce_1`'s load in durable mode: one 100-byte record per request, one in flight, so
/// every request waits for one sync of its own.
pub fn produce_1_durable(ctx: &mut Ctx) -> Result<Row, String> {
    let (mut broker, device) = start("produce1durable", &[(TOPIC_ONE, 1)])?;
    let mut conn = broker.connect()?;
    let records = one_record();
    let mut frame = wire::produce_v7(TOPIC_ONE, 0, 1, &records);
    let mut on_broker = |p| drive::closed_loop(&mut conn, &mut frame, p, check_produce);
    let cpu0 = broker.cpu();
    let [run, sync] =
        measure(ctx, device, &mut on_broker, &records).map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run.run);
    let hw = verify_stored(&mut conn, TOPIC_ONE, 0, run.run.requests())
        .map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, "produce_1_durable", run.run, 1, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark", hw as f64));
    beside_fsync(&mut row, run.flushes_s, sync, records.len());
    Ok(row)
}

/// `produce_16k_pipe8`'s load in durable mode: 16 KiB batches, 8 in flight on one connection
/// to one partition; the requests one turn reads share that turn's sync.
pub fn produce_16k_pipe8_durable(ctx: &mut Ctx) -> Result<Row, String> {
    let (mut broker, device) = start("produce16kdurable", &[(TOPIC_BATCH, 1)])?;
    let mut conn = broker.connect()?;
    let (records, n) = batch_16k();
    let mut frame = wire::produce_v7(TOPIC_BATCH, 0, 1, &records);
    let mut on_broker =
        |p| drive::pipelined(&mut conn, &mut frame, PIPELINE_DEPTH, p, check_produce);
    let cpu0 = broker.cpu();
    let [run, sync] =
        measure(ctx, device, &mut on_broker, &records).map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run.run);
    let hw = verify_stored(&mut conn, TOPIC_BATCH, 0, run.run.requests() * n)
        .map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, "produce_16k_pipe8_durable", run.run, n, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark", hw as f64));
    beside_fsync(&mut row, run.flushes_s, sync, records.len());
    Ok(row)
}

/// `produce_64conn`'s request (one 100-byte record, one in flight per connection) from 64
/// connections in durable mode, to `partitions` partitions (connection i to partition
/// i % partitions): with 64, as `produce_64conn`, a turn syncs each partition it appended to;
/// with 1, the requests a turn reads share one sync.
pub fn produce_64conn_durable(
    ctx: &mut Ctx,
    name: &'static str,
    partitions: i32,
) -> Result<Row, String> {
    let (mut broker, device) = start("produce64durable", &[(TOPIC_MANY, partitions)])?;
    let records = one_record();
    let frames: Vec<Vec<u8>> = if partitions == CONNECTIONS as i32 {
        frames_64conn(&records)
    } else {
        (0..CONNECTIONS)
            .map(|i| wire::produce_v7(TOPIC_MANY, i as i32 % partitions, 1, &records))
            .collect()
    };
    let (port, threads) = (broker.port(), ctx.client_threads);
    // Each slice connects afresh; connecting is outside the measured window.
    let mut on_broker =
        |p| drive::many_connections(port, frames.clone(), threads, p, check_produce);
    let cpu0 = broker.cpu();
    let [run, sync] =
        measure(ctx, device, &mut on_broker, &records).map_err(|e| broker.explain(e))?;
    let cpu = cpu_over(&broker, cpu0, &run.run);
    broker.check_alive()?;
    let mut conn: Conn = broker.connect()?;
    let min = if partitions == 1 { run.run.requests() } else { 1 };
    let hw = verify_stored(&mut conn, TOPIC_MANY, 0, min).map_err(|e| broker.explain(e))?;
    let mut row = row_of(ctx, name, run.run, 1, records.len())?;
    row.set_cpu(cpu);
    row.extra.push(("high_watermark_p0", hw as f64));
    row.extra.push(("partitions", partitions as f64));
    beside_fsync(&mut row, run.flushes_s, sync, records.len());
    row.note = format!(
        "{CONNECTIONS} connections to {partitions} partition(s) over {} client threads; {}",
        threads.clamp(1, CONNECTIONS),
        row.note
    );
    Ok(row)
}
