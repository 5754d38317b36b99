//! A consumer group's rebalance from a real client: librdkafka (the `rdkafka` crate) members,
//! on the consumer protocol (KIP-848, `group.protocol=consumer`: the coordinator assigns, with
//! its `uniform` assignor) or on the classic one (`cooperative-sticky`, the client's
//! incremental protocol, JoinGroup/SyncGroup).
//!
//! Each unit forms a new group of two members on a topic of 6 partitions and waits until they
//! own every partition, then a third member subscribes: the unit's latency is from that
//! subscribe until the three own two partitions each (every partition owned once, as each
//! client's `assignment()` reports it after its rebalance callback). Brokers and clients keep
//! their defaults, so the figures are mostly heartbeat intervals: on the consumer protocol
//! members learn of a new target at their next heartbeat (`group.consumer.heartbeat.interval.ms`,
//! 5 s on both brokers) and targets come at most once per `group.consumer.assignment.interval.ms`
//! (1 s); on the classic one the members learn of the rebalance at their next heartbeat
//! (librdkafka's `heartbeat.interval.ms`, 3 s), then rejoin and sync, twice (cooperative).
//! The first unit warms up and is not counted; latencies are per unit (p50 / p99 of a few).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::drive::Run;
use crate::report::{Row, Target};
use crate::server::On;
use crate::{cpu_over, open, row_of, Ctx};

const PARTITIONS: i32 = 6;
/// How long a group may take to settle before the unit fails.
const SETTLE_LIMIT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Consumer,
    Classic,
}

/// A scenario: the time for two members to settle after a third joins, on `protocol`.
pub fn join_third(
    ctx: &mut Ctx,
    on: On,
    name: &'static str,
    protocol: Protocol,
) -> Result<Row, String> {
    let topic = format!("bench-{}", name.trim_start_matches("kafka:"));
    let (mut server, _) = open(ctx, on, &topic, &[(&topic, PARTITIONS)], None)?;
    let bootstrap = format!("127.0.0.1:{}", server.port());
    let units = if ctx.quick { 2 } else { 4 };
    let cpu0 = server.cpu();
    let started = Instant::now();
    let mut lat_ns = Vec::new();
    let mut measured_from = None;
    for unit in 0..units {
        if unit == 1 {
            measured_from = Some(Instant::now());
        }
        let group = format!("{topic}-{}-{unit}", std::process::id());
        let member = || consumer(&bootstrap, &group, &topic, protocol);
        let a = member().map_err(|e| server.explain(e))?;
        let b = member().map_err(|e| server.explain(e))?;
        settle(&[&a, &b]).map_err(|e| server.explain(format!("two members: {e}")))?;
        let t = Instant::now();
        let c = member().map_err(|e| server.explain(e))?;
        settle(&[&a, &b, &c]).map_err(|e| server.explain(format!("three members: {e}")))?;
        if unit > 0 {
            lat_ns.push(t.elapsed().as_nanos() as u64);
        }
    }
    let window = measured_from.map_or(Duration::ZERO, |t| t.elapsed());
    let run = Run { lat_ns, window, spent: started.elapsed() };
    let cpu = cpu_over(&server, cpu0, &run);
    server.check_alive()?;
    let mut row = row_of(ctx, name, run, 0, 0)?;
    row.set_cpu(cpu);
    row.note = format!(
        "librdkafka, 2 members then a 3rd on {PARTITIONS} partitions: subscribe to all owned, {}, defaults",
        match protocol {
            Protocol::Consumer => "group.protocol=consumer",
            Protocol::Classic => "classic, cooperative-sticky",
        }
    );
    row.target = Target::None;
    Ok(row)
}

fn consumer(
    bootstrap: &str,
    group: &str,
    topic: &str,
    protocol: Protocol,
) -> Result<BaseConsumer, String> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("log_level", "3");
    match protocol {
        Protocol::Consumer => config.set("group.protocol", "consumer"),
        Protocol::Classic => config
            .set("group.protocol", "classic")
            .set("partition.assignment.strategy", "cooperative-sticky"),
    };
    let c: BaseConsumer = config.create().map_err(|e| format!("consumer: {e}"))?;
    c.subscribe(&[topic]).map_err(|e| format!("subscribe: {e}"))?;
    Ok(c)
}

/// Polls every member until they own every partition once, as evenly as can be.
fn settle(members: &[&BaseConsumer]) -> Result<(), String> {
    let deadline = Instant::now() + SETTLE_LIMIT;
    let even = PARTITIONS as usize / members.len();
    loop {
        let mut owned = Vec::new();
        for m in members {
            // Serves the rebalance callbacks; the topic holds no records.
            if let Some(Err(e)) = m.poll(Duration::ZERO) {
                return Err(format!("poll: {e}"));
            }
            let tpl = m.assignment().map_err(|e| format!("assignment: {e}"))?;
            owned.push(tpl.elements().iter().map(|e| e.partition()).collect::<BTreeSet<_>>());
        }
        let all: BTreeSet<i32> = owned.iter().flatten().copied().collect();
        let total: usize = owned.iter().map(BTreeSet::len).sum();
        if total == PARTITIONS as usize
            && all.len() == total
            && owned.iter().all(|o| o.len() == even)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("not settled in {SETTLE_LIMIT:?}: {owned:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
