//! Transactions from a real client: librdkafka (the `rdkafka` crate) as a transactional
//! producer, beside the same client as a plain idempotent producer.
//!
//! Each unit is timed whole, one after another on one producer: `txn_commit_1` is
//! begin_transaction, one record, commit_transaction (AddPartitionsToTxn, Produce, EndTxn and
//! the markers' write); `txn_100` the same with 100 records; `idempotent_1` and `idempotent_100`
//! produce as many records with `enable.idempotence` and wait for their delivery (flush), the
//! cost without a transaction. Latencies are per unit (p50 / p99), req/s is units per second
//! and rec/s records per second.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::drive::Run;
use crate::report::{Row, Target};
use crate::server::On;
use crate::{cpu_over, open, row_of, Ctx, VALUE_LEN};

/// How long librdkafka may take for any one call (init, commit, flush).
const CALL_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Idempotent,
    Transactional,
}

/// A scenario: `records` per unit in `mode`, against `on`.
pub fn producer(
    ctx: &mut Ctx,
    on: On,
    name: &'static str,
    mode: Mode,
    records: usize,
) -> Result<Row, String> {
    // Named by scenario: the run's Kafka keeps every topic and transactional id it has seen.
    let topic = format!("bench-{}", name.trim_start_matches("kafka:"));
    let (mut server, _) = open(ctx, on, &topic, &[(&topic, 1)], None)?;
    let bootstrap = format!("127.0.0.1:{}", server.port());
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "0")
        .set("log_level", "3");
    if mode == Mode::Transactional {
        let id = format!("{topic}-{}-{on:?}", std::process::id());
        config.set("transactional.id", id);
    }
    let producer: BaseProducer =
        config.create().map_err(|e| server.explain(format!("producer: {e}")))?;
    if mode == Mode::Transactional {
        producer.init_transactions(CALL_LIMIT).map_err(|e| server.explain(format!("init: {e}")))?;
    }
    let value = vec![b'v'; VALUE_LEN];
    let unit = |producer: &BaseProducer| -> Result<(), String> {
        if mode == Mode::Transactional {
            producer.begin_transaction().map_err(|e| format!("begin: {e}"))?;
        }
        for _ in 0..records {
            producer
                .send(BaseRecord::<(), [u8]>::to(&topic).partition(0).payload(&value))
                .map_err(|(e, _)| format!("send: {e}"))?;
        }
        // The crate's flush (which commit_transaction calls first) serves delivery reports in
        // polls of 100 ms that last their whole time: they are served here instead, so that a
        // unit is timed to its last delivery report, not to the next 100 ms.
        let deadline = Instant::now() + CALL_LIMIT;
        while producer.in_flight_count() > 0 {
            if Instant::now() > deadline {
                return Err("records not delivered in time".into());
            }
            producer.poll(Duration::ZERO);
            std::thread::yield_now();
        }
        match mode {
            Mode::Transactional => {
                producer.commit_transaction(CALL_LIMIT).map_err(|e| format!("commit: {e}"))
            }
            Mode::Idempotent => producer.flush(CALL_LIMIT).map_err(|e| format!("flush: {e}")),
        }
    };
    let cpu0 = server.cpu();
    let started = Instant::now();
    let mut lat_ns = Vec::new();
    let mut measured_from = None;
    loop {
        let now = Instant::now();
        if measured_from.is_none() && now - started >= ctx.plan.warmup {
            measured_from = Some(now);
        }
        if measured_from
            .is_some_and(|t| now - t >= ctx.plan.measure || lat_ns.len() >= ctx.plan.max_requests)
        {
            break;
        }
        unit(&producer).map_err(|e| server.explain(e))?;
        if measured_from.is_some() {
            lat_ns.push(now.elapsed().as_nanos() as u64);
        }
    }
    let window = measured_from.map_or(Duration::ZERO, |t| t.elapsed());
    let run = Run { lat_ns, window, spent: started.elapsed() };
    let cpu = cpu_over(&server, cpu0, &run);
    server.check_alive()?;
    drop(producer);
    let mut row = row_of(ctx, name, run, records, records * VALUE_LEN)?;
    row.set_cpu(cpu);
    row.extra.push(("records_per_unit", records as f64));
    row.note = format!(
        "librdkafka, one producer, linger.ms=0, {records} record(s) of {VALUE_LEN} B per unit, {}",
        match mode {
            Mode::Transactional => "begin, send, delivery reports, commit_transaction",
            Mode::Idempotent => "enable.idempotence, send, delivery reports",
        }
    );
    row.target = Target::None;
    Ok(row)
}
