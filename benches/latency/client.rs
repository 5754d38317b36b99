//! A real client's load: librdkafka (the `rdkafka` crate) producing small records to a
//! multi-partition topic with its own batching (`linger.ms`, `batch.num.messages`) and many
//! produce requests in flight, timing each record from `send` to its delivery report, then
//! (or meanwhile) consuming them all.
//!
//! This is the load a user's producer puts on the broker, which the raw-protocol scenarios
//! do not: batches of a few hundred records per partition, several partitions' requests
//! pipelined on one connection, and a consumer long-polling beside it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::statistics::{Statistics, Window};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// How long any one phase (all deliveries, all records consumed) may take.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy)]
pub struct Load<'a> {
    pub bootstrap: &'a str,
    pub topic: &'a str,
    pub partitions: i32,
    pub records: usize,
    pub value_len: usize,
    /// `acks`: "0", "1" or "all". With acks=0 librdkafka reports a record delivered once its
    /// request is written: the client's own latency, without the broker's round trip.
    pub acks: &'a str,
    pub consume: Consume,
    /// Records handed to `send` per second, or 0 for as fast as librdkafka takes them.
    pub rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consume {
    No,
    /// After every record is delivered.
    After,
    /// While the records are produced.
    Meanwhile,
}

pub struct Outcome {
    /// Every record's time from `send` to its delivery report, in nanoseconds.
    pub lat_ns: Vec<u64>,
    /// First `send` to last delivery report.
    pub produce_window: Duration,
    /// First record consumed to last (the consumer's connection and assignment excluded).
    pub consume_window: Duration,
    pub stages: Stages,
    /// Time the broker and this process's threads spent runnable but waiting for a CPU
    /// while the records were produced: what other processes took from this run.
    pub broker_wait: Duration,
    pub client_wait: Duration,
}

/// Records sent back to back between two checks of the pace.
const PACE_STEP: usize = 100;

/// Collects delivery reports; librdkafka calls it on the producer's polling thread.
struct Deliveries {
    t0: Instant,
    lat_ns: Mutex<Vec<u64>>,
    last: Mutex<Option<Instant>>,
    failed: AtomicUsize,
    /// The largest of librdkafka's own latency windows seen, per stage.
    stages: Mutex<Stages>,
}

/// librdkafka's view of where a record's time went (its statistics, in microseconds): the
/// worst of each window over the run. A stall on the broker's side shows in `rtt`, one in the
/// client before the request is built in `int_latency`, one before it is written in `outbuf`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stages {
    /// Produce request written to its response read.
    pub rtt_max_us: i64,
    pub rtt_p99_us: i64,
    /// Record queued to its request built.
    pub int_latency_max_us: i64,
    /// Request built to written to the socket.
    pub outbuf_max_us: i64,
}

impl ClientContext for Deliveries {
    fn stats(&self, statistics: Statistics) {
        let mut st = self.stages.lock().unwrap();
        for b in statistics.brokers.values().filter(|b| b.nodeid >= 0) {
            let max = |w: &Option<Window>| w.as_ref().map_or(0, |w| w.max);
            st.rtt_max_us = st.rtt_max_us.max(max(&b.rtt));
            st.rtt_p99_us = st.rtt_p99_us.max(b.rtt.as_ref().map_or(0, |w| w.p99));
            st.int_latency_max_us = st.int_latency_max_us.max(max(&b.int_latency));
            st.outbuf_max_us = st.outbuf_max_us.max(max(&b.outbuf_latency));
        }
    }
}

impl ProducerContext for Deliveries {
    /// When the record was handed to `send`, in nanoseconds since `t0`.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_ns: usize) {
        let now = Instant::now();
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let at = (now - self.t0).as_nanos() as u64;
        self.lat_ns.lock().unwrap().push(at.saturating_sub(sent_ns as u64));
        *self.last.lock().unwrap() = Some(now);
    }
}

fn producer_config(load: &Load<'_>) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", load.bootstrap)
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("acks", load.acks)
        .set("message.timeout.ms", "60000")
        .set("statistics.interval.ms", "100");
    c
}

fn consumer(load: &Load<'_>) -> Result<BaseConsumer, String> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", load.bootstrap)
        .set("group.id", "minikafka-bench")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(|e| format!("consumer: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..load.partitions {
        tpl.add_partition_offset(load.topic, p, Offset::Beginning)
            .map_err(|e| format!("assign: {e}"))?;
    }
    c.assign(&tpl).map_err(|e| format!("assign: {e}"))?;
    Ok(c)
}

/// Polls until `count` records have arrived; returns the time from the first to the last.
fn consume(c: &BaseConsumer, count: usize) -> Result<Duration, String> {
    let deadline = Instant::now() + PHASE_LIMIT;
    let (mut got, mut first) = (0usize, None);
    while got < count {
        if Instant::now() > deadline {
            return Err(format!("consumed {got} of {count} records within {PHASE_LIMIT:?}"));
        }
        match c.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(_)) => {
                first.get_or_insert_with(Instant::now);
                got += 1;
            }
            Some(Err(e)) => return Err(format!("consume: {e}")),
        }
    }
    Ok(first.map_or(Duration::ZERO, |f| f.elapsed()))
}

/// Produces `load.records` records as fast as librdkafka takes them (retrying on a full
/// queue, as a client does), waits for every delivery report, and consumes them all.
pub fn run(load: &Load<'_>, broker_pid: u32) -> Result<Outcome, String> {
    let value: Vec<u8> = (0..load.value_len).map(|i| b'a' + (i % 26) as u8).collect();
    let ctx = Deliveries {
        t0: Instant::now(),
        lat_ns: Mutex::new(Vec::with_capacity(load.records)),
        last: Mutex::new(None),
        failed: AtomicUsize::new(0),
        stages: Mutex::default(),
    };
    let t0 = ctx.t0;
    let producer: ThreadedProducer<Deliveries> =
        producer_config(load).create_with_context(ctx).map_err(|e| format!("producer: {e}"))?;
    // Metadata first, so the first records do not wait for the connection.
    producer
        .client()
        .fetch_metadata(Some(load.topic), Duration::from_secs(10))
        .map_err(|e| format!("producer metadata: {e}"))?;

    thread::scope(|s| {
        let reader = (load.consume == Consume::Meanwhile).then(|| {
            s.spawn(|| -> Result<Duration, String> {
                let c = consumer(load)?;
                consume(&c, load.records)
            })
        });
        let (broker_wait0, client_wait0) = (run_delay(broker_pid), own_run_delays());
        let first_send = Instant::now();
        for i in 0..load.records {
            if load.rate > 0.0 && i % PACE_STEP == 0 {
                // A steady client: record i goes at i / rate, never earlier.
                let due = first_send + Duration::from_secs_f64(i as f64 / load.rate);
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
            }
            loop {
                let sent_ns = (Instant::now() - t0).as_nanos() as usize;
                let record: BaseRecord<'_, (), [u8], usize> =
                    BaseRecord::with_opaque_to(load.topic, sent_ns).payload(&value[..]);
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // The client's queue is full: wait for deliveries, as a client must.
                        thread::sleep(Duration::from_micros(200));
                    }
                    Err((e, _)) => return Err(format!("send: {e}")),
                }
            }
        }
        producer.flush(PHASE_LIMIT).map_err(|e| format!("flush: {e}"))?;
        let broker_wait = run_delay(broker_pid).saturating_sub(broker_wait0);
        let client_wait = waited_since(&client_wait0);
        let ctx = producer.context();
        let failed = ctx.failed.load(Ordering::Relaxed);
        let lat_ns = std::mem::take(&mut *ctx.lat_ns.lock().unwrap());
        if failed > 0 || lat_ns.len() != load.records {
            return Err(format!(
                "{} of {} records delivered, {failed} failed",
                lat_ns.len(),
                load.records
            ));
        }
        let last = ctx.last.lock().unwrap().unwrap_or(first_send);
        let produce_window = last.saturating_duration_since(first_send);
        let consume_window = match (reader, load.consume) {
            (Some(h), _) => h.join().map_err(|_| "consumer thread panicked".to_string())??,
            (None, Consume::After) => consume(&consumer(load)?, load.records)?,
            (None, _) => Duration::ZERO,
        };
        let stages = *producer.context().stages.lock().unwrap();
        Ok(Outcome { lat_ns, produce_window, consume_window, stages, broker_wait, client_wait })
    })
}

/// How long a task has waited on a run queue so far (`/proc/.../schedstat`, second field).
fn run_delay_of(path: &str) -> Option<Duration> {
    let s = std::fs::read_to_string(path).ok()?;
    Some(Duration::from_nanos(s.split_whitespace().nth(1)?.parse().ok()?))
}

fn run_delay(pid: u32) -> Duration {
    run_delay_of(&format!("/proc/{pid}/schedstat")).unwrap_or_default()
}

/// The run-queue wait of each of this process's threads, by thread id.
fn own_run_delays() -> Vec<(String, Duration)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    dir.filter_map(|e| {
        let tid = e.ok()?.file_name().into_string().ok()?;
        let d = run_delay_of(&format!("/proc/self/task/{tid}/schedstat"))?;
        Some((tid, d))
    })
    .collect()
}

/// This process's threads' run-queue wait since `before` (threads started since count whole).
fn waited_since(before: &[(String, Duration)]) -> Duration {
    own_run_delays()
        .into_iter()
        .map(|(tid, d)| {
            let d0 = before.iter().find(|(t, _)| *t == tid).map_or(Duration::ZERO, |b| b.1);
            d.saturating_sub(d0)
        })
        .sum()
}
