//! A KIP-848 consumer group of librdkafka members (`group.protocol=consumer`) across broker
//! restarts, a clean one and a kill -9, on the same port: the members go on with the
//! partitions they had (the group's state is in `__consumer_offsets`), their commits stay,
//! and every record is read exactly once. The same session by librdkafka (the rdkafka crate)
//! and by Kafka's Java client.

mod common;
#[path = "common/consumer_protocol.rs"]
mod consumer_protocol;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{Broker, TempDir};
use consumer_protocol::{committed_and_end, create_topic, PARTITIONS};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::Message;

const TOPIC: &str = "restart";
const GROUP: &str = "restart-group";
const PER_PHASE: usize = 60;

fn config(port: u16) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", format!("127.0.0.1:{port}"))
        .set("broker.address.family", "v4")
        .set("reconnect.backoff.max.ms", "200");
    c
}

fn produce(port: u16, from: usize) {
    let p: BaseProducer = config(port).create().expect("a producer");
    for i in from..from + PER_PHASE {
        let (k, v) = (format!("k{i}"), format!("v{i}"));
        let rec = BaseRecord::to(TOPIC).partition(i as i32 % PARTITIONS).key(&k).payload(&v);
        p.send(rec).map_err(|(e, _)| e).expect("enqueue");
    }
    p.flush(Duration::from_secs(30)).expect("flush");
}

fn member(port: u16, name: &str) -> BaseConsumer {
    let c: BaseConsumer = config(port)
        .set("group.id", GROUP)
        .set("group.protocol", "consumer")
        .set("client.id", name)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        .create()
        .expect("a consumer");
    c.subscribe(&[TOPIC]).expect("subscribe");
    c
}

fn owned(c: &BaseConsumer) -> BTreeSet<i32> {
    c.assignment().map(|t| t.elements().iter().map(|e| e.partition()).collect()).unwrap_or_default()
}

/// Polls both members, committing each record read, until `want` distinct records are read
/// and the two own three partitions each. Returns what each owns.
fn consume(
    members: &[(&str, &BaseConsumer)],
    reads: &mut BTreeMap<(i32, i64), Vec<String>>,
    want: usize,
) -> Vec<BTreeSet<i32>> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        for (name, c) in members {
            while let Some(r) = c.poll(Duration::from_millis(10)) {
                // Transport errors while the broker is away are retried by librdkafka.
                let Ok(m) = r else { continue };
                reads.entry((m.partition(), m.offset())).or_default().push(name.to_string());
                c.commit_message(&m, CommitMode::Sync).expect("commit");
            }
        }
        let now: Vec<BTreeSet<i32>> = members.iter().map(|(_, c)| owned(c)).collect();
        if reads.len() >= want && now.iter().all(|o| o.len() == 3) {
            return now;
        }
        assert!(Instant::now() < deadline, "read {} of {want}, owning {now:?}", reads.len());
    }
}

/// Two members of a group, however a client runs them: `until(n)` reads until `n` records
/// are read in all and each member owns three partitions, and answers what each owns.
trait Members {
    fn until(&mut self, want: usize) -> Vec<BTreeSet<i32>>;
    /// Closes the members; how many records were read more than once.
    fn close(self: Box<Self>) -> usize;
}

struct Rdkafka {
    a: BaseConsumer,
    b: BaseConsumer,
    reads: BTreeMap<(i32, i64), Vec<String>>,
}

impl Members for Rdkafka {
    fn until(&mut self, want: usize) -> Vec<BTreeSet<i32>> {
        consume(&[("member-a", &self.a), ("member-b", &self.b)], &mut self.reads, want)
    }
    fn close(self: Box<Self>) -> usize {
        self.reads.values().filter(|who| who.len() > 1).count()
    }
}

/// `tests/clients/java/ConsumerRestartSession.java`, driven over its stdin.
struct Java {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Java {
    fn start(port: u16) -> Java {
        use std::io::BufRead;
        use std::process::Stdio;
        let cp = common::clients::compile_java(
            "ConsumerRestartSession.java",
            "java-consumer-restart",
            "warn",
        );
        let mut child = common::clients::java_command(&cp, "ConsumerRestartSession")
            .args([format!("127.0.0.1:{port}"), TOPIC.to_string(), GROUP.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Java session");
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Java { child, stdin, lines }
    }

    fn ask(&mut self, command: &str, answer_prefix: &str) -> Vec<String> {
        use std::io::Write;
        writeln!(self.stdin, "{command}").expect("write to the Java session");
        let mut got = Vec::new();
        loop {
            let l = self.lines.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| {
                let _ = self.child.kill();
                panic!("the Java session did not answer {command:?} (it said {got:?})")
            });
            let last = l.starts_with(answer_prefix);
            got.push(l);
            if last {
                return got;
            }
        }
    }
}

impl Members for Java {
    fn until(&mut self, want: usize) -> Vec<BTreeSet<i32>> {
        let lines = self.ask(&format!("until {want}"), "done ");
        let owned = lines.iter().find_map(|l| l.strip_prefix("owned ")).expect("owned line");
        owned
            .split(' ')
            .map(|ps| ps.split(',').filter(|p| !p.is_empty()).map(|p| p.parse().unwrap()).collect())
            .collect()
    }
    fn close(mut self: Box<Self>) -> usize {
        let lines = self.ask("close", "duplicates ");
        assert!(self.child.wait().expect("the Java session exits").success());
        lines.last().unwrap()["duplicates ".len()..].parse().unwrap()
    }
}

/// Reads with both members, restarts the broker cleanly, reads more, kills it (kill -9),
/// restarts it, reads more: the members keep their partitions and read every record once,
/// and their commits reach the end of every partition.
fn across_restarts(name: &str, members: impl FnOnce(u16) -> Box<dyn Members>) {
    let dir = TempDir::new(name);
    let settings = ["group.consumer.heartbeat.interval.ms=200"];
    let mut broker = Broker::start_with(dir.path(), &settings);
    let port = broker.addr.port();
    create_topic(broker.addr, TOPIC);
    produce(port, 0);
    let mut m = members(port);
    let mut produced = PER_PHASE;
    let before = m.until(produced);

    let listener = format!("listeners=PLAINTEXT://127.0.0.1:{port}");
    for kill in [false, true] {
        if kill {
            broker.kill();
        } else {
            assert!(broker.stop().success());
        }
        broker = Broker::start_with(dir.path(), &[settings[0], &listener]);
        produce(port, produced);
        produced += PER_PHASE;
        let after = m.until(produced);
        assert_eq!(after, before, "kill={kill}: each member keeps its partitions");
    }
    assert_eq!(m.close(), 0, "records read twice");
    for (p, (committed, end)) in committed_and_end(broker.addr, TOPIC, GROUP).iter().enumerate() {
        assert_eq!(*end, (produced / PARTITIONS as usize) as i64, "partition {p}");
        assert_eq!(committed, end, "partition {p}");
    }
}

#[test]
fn rdkafka_members_go_on_across_broker_restarts() {
    across_restarts("cg-restart-rdkafka", |port| {
        Box::new(Rdkafka {
            a: member(port, "member-a"),
            b: member(port, "member-b"),
            reads: BTreeMap::new(),
        })
    });
}

#[test]
fn java_members_go_on_across_broker_restarts() {
    across_restarts("cg-restart-java", |port| Box::new(Java::start(port)));
}
