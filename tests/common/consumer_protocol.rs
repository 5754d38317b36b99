//! One consumer group session on the consumer protocol (KIP-848, `group.protocol=consumer`),
//! by Kafka's Java client and by librdkafka, against any broker address: records produced to
//! a topic of 6 partitions, two members form the group, a third joins, the second leaves, and
//! every record must be read exactly once with its offset committed. Each step reports how
//! long the group took until every partition was owned again, by one member each.
//!
//! Included with `#[path]` by the tests that use it (it needs rdkafka and the JVM).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::common::{clients, Client, NONE};

pub const PARTITIONS: i32 = 6;
/// Any one wait of a session (a rebalance, records to arrive).
const STEP_DEADLINE: Duration = Duration::from_secs(90);
/// The whole Java session, JVM start included.
const JAVA_TIMEOUT: Duration = Duration::from_secs(400);
/// Kafka's default `group.consumer.assignment.interval.ms`: the leave comes at least this long
/// after the previous rebalance, so that the coordinator's target for it is not held back.
pub const ASSIGNMENT_INTERVAL: Duration = Duration::from_millis(1000);

/// What a session saw.
#[derive(Debug, Default)]
pub struct Session {
    pub client: &'static str,
    /// (ms since the start, member, partitions it owned from then on)
    pub owned: Vec<(u64, String, Vec<i32>)>,
    /// (step, time until every partition was owned again): `start-two`, `join-third`,
    /// `leave-second`.
    pub rebalances: Vec<(String, Duration)>,
    /// From the end of the leaving member's close (its leave answered) until the others own
    /// its partitions (their assignment as the client reports it, after its callback).
    pub moved_after_leave: Option<Duration>,
    /// Records each member read.
    pub read: BTreeMap<String, usize>,
    pub produced: usize,
    /// Records read, counting each read of the same record.
    pub read_total: usize,
    pub duplicates: usize,
    pub missing: usize,
    /// Per partition: (committed offset or -1, log end offset).
    pub committed: Vec<(i64, i64)>,
    /// Errors a client reported without failing (librdkafka's poll and commit).
    pub errors: Vec<String>,
}

impl Session {
    /// Every record read exactly once, by members that all took part, and committed.
    pub fn assert_exactly_once(&self) {
        let s = self.summary();
        assert!(self.produced > 0, "{s}");
        assert_eq!(self.read_total, self.produced, "{s}");
        assert_eq!((self.duplicates, self.missing), (0, 0), "{s}");
        assert_eq!(self.committed.len(), PARTITIONS as usize, "{s}");
        for (p, (committed, end)) in self.committed.iter().enumerate() {
            assert!(*end > 0, "partition {p} holds records: {s}");
            assert_eq!(committed, end, "partition {p} committed up to its end: {s}");
        }
        let steps: Vec<&str> = self.rebalances.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(steps, ["start-two", "join-third", "leave-second"], "{s}");
        for m in ["member-a", "member-b", "member-c"] {
            assert!(self.read.get(m).is_some_and(|n| *n > 0), "{m} read records: {s}");
        }
    }

    pub fn rebalance(&self, step: &str) -> Duration {
        self.rebalances.iter().find(|(n, _)| n == step).map(|(_, d)| *d).unwrap()
    }

    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: read {} of {} (duplicates {}, missing {}), per member {:?}, rebalances {:?}, \
             moved after the leave {:?}, committed/end {:?}\n",
            self.client,
            self.read_total,
            self.produced,
            self.duplicates,
            self.missing,
            self.read,
            self.rebalances,
            self.moved_after_leave,
            self.committed
        );
        for (ms, m, ps) in &self.owned {
            s += &format!("  {ms:>6} ms {m} owns {ps:?}\n");
        }
        if !self.errors.is_empty() {
            s += &format!("  errors: {:?}\n", self.errors);
        }
        s
    }
}

/// `tests/clients/java/ConsumerProtocolSession.java` against `addr`, with `per_phase`
/// records before each step; `context()` is shown if it fails (the broker's log).
pub fn java_session(
    addr: SocketAddr,
    topic: &str,
    per_phase: usize,
    context: impl Fn() -> String,
) -> Session {
    static CP: OnceLock<String> = OnceLock::new();
    let cp = CP.get_or_init(|| {
        clients::compile_java("ConsumerProtocolSession.java", "java-consumer-protocol", "warn")
    });
    let mut cmd = clients::java_command(cp, "ConsumerProtocolSession");
    cmd.arg(addr.to_string()).arg(topic).arg(per_phase.to_string());
    let lines = clients::run_bounded(&mut cmd, JAVA_TIMEOUT, context);
    parse_java(&lines)
}

fn parse_java(lines: &[String]) -> Session {
    let mut s = Session { client: "java", ..Session::default() };
    let list = |t: &str| -> Vec<i32> {
        t.trim_matches(|c| c == '[' || c == ']')
            .split(", ")
            .filter(|x| !x.is_empty())
            .map(|x| x.parse().unwrap())
            .collect()
    };
    for l in lines {
        let w: Vec<&str> = l.splitn(4, ' ').collect();
        match w[0] {
            "owned" => s.owned.push((w[1].parse().unwrap(), w[2].to_string(), list(w[3]))),
            "rebalance" => {
                s.rebalances.push((w[1].to_string(), Duration::from_millis(w[2].parse().unwrap())))
            }
            "read" => {
                s.read.insert(w[1].to_string(), w[2].parse().unwrap());
            }
            "moved" => s.moved_after_leave = Some(Duration::from_millis(w[1].parse().unwrap())),
            "records" => {
                // records <read> of <produced> duplicates=<n> missing=<n>
                let w: Vec<&str> = l.split(' ').collect();
                s.read_total = w[1].parse().unwrap();
                s.produced = w[3].parse().unwrap();
                s.duplicates = w[4].trim_start_matches("duplicates=").parse().unwrap();
                s.missing = w[5].trim_start_matches("missing=").parse().unwrap();
            }
            "committed" => {
                // committed <p> <offset> end <offset>
                let w: Vec<&str> = l.split(' ').collect();
                s.committed.push((w[2].parse().unwrap(), w[4].parse().unwrap()));
            }
            _ => panic!("unexpected line from the Java session: {l}"),
        }
    }
    s
}

/// Creates `name` with [`PARTITIONS`] partitions by CreateTopics v7.
pub fn create_topic(addr: SocketAddr, name: &str) {
    use kafka_protocol::messages::create_topics_request as ctq;
    use kafka_protocol::protocol::StrBytes;
    let req = kafka_protocol::messages::CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![ctq::CreatableTopic::default()
            .with_name(kafka_protocol::messages::TopicName(StrBytes::from_string(name.to_string())))
            .with_num_partitions(PARTITIONS)
            .with_replication_factor(1)]);
    let resp = Client::connect(addr).kp_call(7, &req);
    assert_eq!(resp.topics[0].error_code, NONE, "create {name}: {resp:?}");
}

/// What the members of one session share.
#[derive(Default)]
struct Shared {
    /// (partition, offset) -> members that read it
    reads: HashMap<(i32, i64), Vec<String>>,
    owned: BTreeMap<String, BTreeSet<i32>>,
    events: Vec<(u64, String, Vec<i32>)>,
    read_count: BTreeMap<String, usize>,
    errors: Vec<String>,
    failed: Option<String>,
}

struct Member {
    name: String,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

fn rd_config(addr: SocketAddr) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", addr.to_string()).set("broker.address.family", "v4");
    c
}

fn start_member(
    addr: SocketAddr,
    topic: &str,
    group: &str,
    name: &str,
    started: Instant,
    shared: &Arc<Mutex<Shared>>,
) -> Member {
    let consumer: BaseConsumer = rd_config(addr)
        .set("group.id", group)
        .set("group.protocol", "consumer")
        .set("client.id", name)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        .create()
        .expect("create an rdkafka consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let stop = Arc::new(AtomicBool::new(false));
    let (st, sh, nm) = (stop.clone(), shared.clone(), name.to_string());
    let thread = std::thread::spawn(move || {
        let mut last: Option<BTreeSet<i32>> = None;
        while !st.load(Ordering::SeqCst) {
            let mut dirty = false;
            let mut wait = Duration::from_millis(20);
            while let Some(r) = consumer.poll(wait) {
                let mut s = sh.lock().unwrap();
                match r {
                    Ok(m) => {
                        s.reads.entry((m.partition(), m.offset())).or_default().push(nm.clone());
                        *s.read_count.entry(nm.clone()).or_default() += 1;
                        dirty = true;
                    }
                    Err(e) => s.errors.push(format!("{nm} poll: {e}")),
                }
                wait = Duration::ZERO;
            }
            if dirty {
                if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
                    sh.lock().unwrap().errors.push(format!("{nm} commit: {e}"));
                }
            }
            let now: BTreeSet<i32> = match consumer.assignment() {
                Ok(tpl) => tpl.elements().iter().map(|e| e.partition()).collect(),
                Err(e) => {
                    sh.lock().unwrap().failed = Some(format!("{nm} assignment: {e}"));
                    return;
                }
            };
            if last.as_ref() != Some(&now) {
                let mut s = sh.lock().unwrap();
                s.owned.insert(nm.clone(), now.clone());
                let ms = started.elapsed().as_millis() as u64;
                s.events.push((ms, nm.clone(), now.iter().copied().collect()));
                last = Some(now);
            }
        }
        // Dropping the consumer closes it: it leaves the group (member epoch -1).
        drop(consumer);
        sh.lock().unwrap().owned.remove(&nm);
    });
    Member { name: name.to_string(), stop, thread }
}

/// Every partition owned by exactly one of `members`, each owning at least one, and no one
/// else owning any.
fn settled(s: &Shared, members: &[&str]) -> bool {
    s.owned.keys().all(|k| members.contains(&k.as_str()))
        && members.iter().all(|m| s.owned.get(*m).is_some_and(|o| !o.is_empty()))
        && s.owned.values().map(BTreeSet::len).sum::<usize>() == PARTITIONS as usize
        && s.owned.values().flatten().collect::<BTreeSet<_>>().len() == PARTITIONS as usize
}

fn wait_for(shared: &Arc<Mutex<Shared>>, what: &str, pred: impl Fn(&Shared) -> bool) {
    let deadline = Instant::now() + STEP_DEADLINE;
    loop {
        {
            let s = shared.lock().unwrap();
            if let Some(f) = &s.failed {
                panic!("a member failed while waiting for {what}: {f}");
            }
            if pred(&s) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; owned {:?}, read {}, errors {:?}",
                s.owned,
                s.reads.len(),
                s.errors
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The same session as [`java_session`], by librdkafka (the rdkafka crate) members.
pub fn rdkafka_session(addr: SocketAddr, topic: &str, per_phase: usize) -> Session {
    create_topic(addr, topic);
    let group = format!("{topic}-group");
    let started = Instant::now();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let producer: BaseProducer = rd_config(addr).create().expect("create a producer");
    let mut produced = 0usize;
    let mut produce = |n: usize| {
        for i in produced..produced + n {
            let (k, v) = (format!("k{i}"), format!("v{i}"));
            let rec = BaseRecord::to(topic).partition(i as i32 % PARTITIONS).key(&k).payload(&v);
            producer.send(rec).map_err(|(e, _)| e).expect("enqueue a record");
        }
        producer.flush(STEP_DEADLINE).expect("flush the producer");
        produced += n;
        produced
    };
    let mut rebalances = Vec::new();
    let all_read = |want: usize| move |s: &Shared| s.reads.len() == want;

    let want = produce(per_phase);
    let t0 = Instant::now();
    let a = start_member(addr, topic, &group, "member-a", started, &shared);
    let b = start_member(addr, topic, &group, "member-b", started, &shared);
    wait_for(&shared, "two members to own every partition", |s| {
        settled(s, &["member-a", "member-b"])
    });
    rebalances.push(("start-two".to_string(), t0.elapsed()));
    wait_for(&shared, "the first records", all_read(want));

    let t0 = Instant::now();
    let c = start_member(addr, topic, &group, "member-c", started, &shared);
    wait_for(&shared, "three members to own every partition", |s| {
        settled(s, &["member-a", "member-b", "member-c"])
    });
    let third_settled = Instant::now();
    rebalances.push(("join-third".to_string(), t0.elapsed()));
    let want = produce(per_phase);
    wait_for(&shared, "the second records", all_read(want));
    // Not a synchronisation: the leave is to come after the interval, whatever the timing.
    std::thread::sleep(ASSIGNMENT_INTERVAL.saturating_sub(third_settled.elapsed()));

    let t0 = Instant::now();
    b.stop.store(true, Ordering::SeqCst);
    b.thread.join().unwrap();
    let closed = Instant::now();
    wait_for(&shared, "two members to own every partition again", |s| {
        settled(s, &["member-a", "member-c"])
    });
    rebalances.push(("leave-second".to_string(), t0.elapsed()));
    let moved_after_leave = Some(closed.elapsed());
    let want = produce(per_phase);
    wait_for(&shared, "the third records", all_read(want));
    for m in [a, c] {
        m.stop.store(true, Ordering::SeqCst);
        m.thread.join().unwrap();
    }

    let s = shared.lock().unwrap();
    let read_total = s.reads.values().map(Vec::len).sum();
    let duplicates = s.reads.values().map(|w| w.len() - 1).sum();
    let committed = committed_and_end(addr, topic, &group);
    Session {
        client: "rdkafka",
        owned: s.events.clone(),
        rebalances,
        moved_after_leave,
        read: s.read_count.clone(),
        produced: want,
        read_total,
        duplicates,
        missing: want - s.reads.len(),
        committed,
        errors: s.errors.clone(),
    }
}

/// Per partition of `topic`: the offset `group` committed (-1 if none) and the log end.
pub fn committed_and_end(addr: SocketAddr, topic: &str, group: &str) -> Vec<(i64, i64)> {
    // Only asks (OffsetFetch, ListOffsets): it never joins, so its protocol does not matter.
    let c: BaseConsumer = rd_config(addr).set("group.id", group).create().expect("create");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(topic, p);
    }
    let got = c.committed_offsets(tpl, Duration::from_secs(30)).expect("OffsetFetch");
    (0..PARTITIONS)
        .map(|p| {
            let committed = match got.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => -1,
            };
            let (_, end) =
                c.fetch_watermarks(topic, p, Duration::from_secs(30)).expect("ListOffsets");
            (committed, end)
        })
        .collect()
}
