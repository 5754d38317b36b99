//! Go clients, each running a whole session: sarama, and franz-go (kgo and kadm) against the
//! binary and, as a check on the session itself, against Apache Kafka. The sessions are one Go
//! module, `tests/clients/go` (go.mod and go.sum pin sarama and franz-go); its dependencies
//! come from the Go module proxy into Go's usual module cache, and both programs are built
//! once per run into cargo's test tmp dir. A failed download (after three tries) or build
//! fails the tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::kafka::{Kafka, KafkaOptions};
use common::{line, Broker, TempDir};

fn module_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/go")
}

/// `go` from the PATH, else where the official tarball puts it.
fn go() -> Command {
    let on_path = Command::new("go").arg("version").output().is_ok_and(|o| o.status.success());
    let mut cmd = Command::new(if on_path { "go" } else { "/usr/local/go/bin/go" });
    cmd.current_dir(module_dir())
        // go.sum must already cover everything; no toolchain download, no VCS stamping (the
        // worktree's .git may be a file the go command cannot follow).
        .env("GOFLAGS", "-mod=readonly -buildvcs=false")
        .env("GOTOOLCHAIN", "local");
    cmd
}

fn output(cmd: &mut Command, what: &str) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run go for {what} (is Go installed?): {e}"))
}

/// The directory holding the `franz` and `sarama` binaries, built on first use in this run.
fn binaries() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-clients");
        // The module proxy can fail once; three tries, then the failure is the test's.
        let mut last = String::new();
        let fetched = (1..=3).any(|attempt| {
            let out = output(go().args(["mod", "download"]), "go mod download");
            last = format!(
                "attempt {attempt}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            out.status.success()
        });
        assert!(fetched, "downloading the Go modules failed:\n{last}");
        std::fs::create_dir_all(&dir).unwrap();
        // A trailing slash tells go build that -o is a directory for several programs.
        let out = output(
            go().args(["build", "-o"])
                .arg(format!("{}/", dir.display()))
                .args(["./franz", "./sarama"]),
            "go build",
        );
        assert!(
            out.status.success(),
            "building the Go sessions failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// Runs a session against `addr`; returns its stdout lines. `context` explains a failure.
fn run(program: &str, addr: std::net::SocketAddr, context: impl Fn() -> String) -> Vec<String> {
    let out = Command::new(binaries().join(program))
        .arg(addr.to_string())
        .output()
        .expect("the Go session runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{program} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        context()
    );
    stdout.lines().map(str::to_string).collect()
}

fn lines_with<'a>(lines: &'a [String], prefix: &str) -> Vec<&'a str> {
    lines.iter().filter(|l| l.starts_with(prefix)).map(String::as_str).collect()
}

fn broker_for(tmp: &TempDir) -> Broker {
    Broker::start_with(tmp.path(), &["group.initial.rebalance.delay.ms=0"])
}

#[test]
fn sarama_session() {
    let tmp = TempDir::new("sarama");
    let broker = broker_for(&tmp);
    let lines = run("sarama", broker.addr, || broker.logs.lines().join("\n"));
    assert_eq!(line(&lines, "topics "), "topics go-topic:2");
    assert_eq!(line(&lines, "produced "), "produced (0,0),(1,0),(0,1),(1,1),(0,2),(1,2)");
    assert_eq!(
        line(&lines, "consumed "),
        "consumed (0,0,k0,v0,x0),(0,1,k2,v2,x2),(0,2,k4,v4,x4),\
         (1,0,k1,v1,x1),(1,1,k3,v3,x3),(1,2,k5,v5,x5)"
    );
    assert_eq!(line(&lines, "committed "), "committed 0:3,1:3");
    // ClusterAdmin lists internal topics too; the group's commits created this one.
    assert_eq!(line(&lines, "after-delete "), "after-delete __consumer_offsets:50");
}

const ACKS: [&str; 3] = ["all", "leader", "none"];
const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];
const PARTITIONS: usize = 3;
const PER_STREAM: usize = 6;
const BASE_TIME: u64 = 1_700_000_000_000;

/// What the franz session must print for every record it reads back, partition by partition
/// in offset order: one producer stream per (acks, codec), each record `i` of a stream in
/// partition `i % 3`, the fifth without a key, the sixth with an empty value.
fn expected_records() -> Vec<String> {
    let mut out = Vec::new();
    for p in 0..PARTITIONS {
        let mut offset = 0;
        for (a, acks) in ACKS.iter().enumerate() {
            for (c, codec) in CODECS.iter().enumerate() {
                let stream = a * CODECS.len() + c;
                for i in (p..PER_STREAM).step_by(PARTITIONS) {
                    let key =
                        if i == 4 { "<null>".into() } else { format!("k-{acks}-{codec}-{i}") };
                    let value = if i == 5 {
                        String::new()
                    } else {
                        format!("v-{acks}-{codec}-{i}-{}", "x".repeat(40))
                    };
                    let ts = BASE_TIME + (stream * 10 + i) as u64;
                    let producer = if *acks == "all" { "idempotent" } else { "plain" };
                    out.push(format!(
                        "rec {p} {offset} {key} {value:?} acks={acks},codec={codec},i={i} {ts} \
                         {codec} {producer}"
                    ));
                    offset += 1;
                }
            }
        }
    }
    out
}

/// The records produced after the rebalance: four per partition, after the first thirty.
fn expected_late() -> Vec<String> {
    let mut out = Vec::new();
    for p in 0..PARTITIONS {
        for (n, i) in (p..4 * PARTITIONS).step_by(PARTITIONS).enumerate() {
            let ts = BASE_TIME + 1000 + i as u64;
            out.push(format!(
                "late {p} {} late-{i} \"after-rebalance-{i}\"  {ts} lz4 idempotent",
                30 + n
            ));
        }
    }
    out
}

/// Everything the franz session prints, checked line by line: the same for minikafka and for
/// Apache Kafka (node 1 in both) but for what the broker's highest DescribeGroups decides.
fn check_franz(lines: &[String]) {
    eprintln!("{}", lines.join("\n"));
    let parts =
        |n: usize| (0..n).map(|p| format!("{p}:L1:R[1]:I[1]")).collect::<Vec<_>>().join(" ");
    assert_eq!(
        lines_with(lines, "created "),
        [
            "created fz-topic partitions=3 rf=1 id=true err=NONE",
            "created fz-doomed partitions=1 rf=1 id=true err=NONE"
        ]
    );
    // CreateTopics v5+ describes the created topic's configs, as DescribeConfigs would.
    let created =
        "cleanup.policy=delete(DEFAULT_CONFIG) max.message.bytes=1048588(DEFAULT_CONFIG) \
                   message.timestamp.type=CreateTime(DEFAULT_CONFIG) \
                   segment.bytes=1073741824(DEFAULT_CONFIG)";
    assert_eq!(
        lines_with(lines, "created-configs "),
        [
            format!("created-configs fz-topic {created}"),
            format!("created-configs fz-doomed {created}")
        ]
    );
    assert_eq!(line(lines, "create-again "), "create-again fz-topic err=TOPIC_ALREADY_EXISTS");
    assert_eq!(line(lines, "metadata "), "metadata brokers=1 seed-listed=true controller=1");
    assert_eq!(
        line(lines, "describe-cluster "),
        "describe-cluster brokers=1 controller=1 same-cluster=true"
    );
    assert_eq!(
        line(lines, "topics "),
        format!("topics fz-doomed[id=true {}],fz-topic[id=true {}]", parts(1), parts(3))
    );
    assert_eq!(
        line(lines, "topic-configs "),
        "topic-configs cleanup.policy=delete(DEFAULT_CONFIG) \
         compression.type=producer(DEFAULT_CONFIG) max.message.bytes=1048588(DEFAULT_CONFIG) \
         message.timestamp.type=CreateTime(DEFAULT_CONFIG) segment.bytes=1073741824(DEFAULT_CONFIG)"
    );
    assert_eq!(
        line(lines, "broker-configs "),
        "broker-configs log.segment.bytes=1073741824(DEFAULT_CONFIG) \
         message.max.bytes=1048588(DEFAULT_CONFIG) num.partitions=1(DEFAULT_CONFIG)"
    );
    assert_eq!(line(lines, "deleted "), "deleted fz-doomed err=NONE");

    let mut produced = Vec::new();
    for (a, acks) in ACKS.iter().enumerate() {
        for (c, codec) in CODECS.iter().enumerate() {
            let s = a * CODECS.len() + c;
            produced.push(if *acks == "none" {
                format!("produced {acks}/{codec} unacknowledged, in the log")
            } else {
                let offsets: Vec<String> = (0..PARTITIONS)
                    .flat_map(|p| [format!("{p}:{}", 2 * s), format!("{p}:{}", 2 * s + 1)])
                    .collect();
                format!("produced {acks}/{codec} {}", offsets.join(","))
            });
        }
    }
    assert_eq!(lines_with(lines, "produced "), produced);
    assert_eq!(lines_with(lines, "rec "), expected_records());

    assert_eq!(line(lines, "owned-alone "), "owned-alone a [0 1 2]");
    assert_eq!(line(lines, "owned-shared "), "owned-shared a=2 b=1");
    assert_eq!(
        line(lines, "described "),
        "described fz-group state=Stable type=consumer protocol=cooperative-sticky \
         members=[franz-a franz-b] assigned=0,1,2"
    );
    assert_eq!(
        lines_with(lines, "late-read "),
        [
            "late-read a records=8 partitions=2 foreign=0",
            "late-read b records=4 partitions=1 foreign=0"
        ]
    );
    assert_eq!(lines_with(lines, "late "), expected_late());
    assert_eq!(
        line(lines, "described-after-close "),
        "described-after-close fz-group state=Empty type=consumer protocol= members=[] assigned="
    );
    assert_eq!(
        lines_with(lines, "group "),
        ["group fz-group state=Empty type=consumer group-type=classic"]
    );
    assert_eq!(line(lines, "groups-by-state "), "groups-by-state stable=[] empty=[fz-group]");
    // An unknown group is Dead, and from DescribeGroups v6 GROUP_ID_NOT_FOUND.
    assert_eq!(
        line(lines, "described-unknown "),
        "described-unknown state=Dead members=0 err=GROUP_ID_NOT_FOUND"
    );
    assert_eq!(line(lines, "lag "), "lag fz-group state=Empty total=0 err=NONE");
    assert_eq!(line(lines, "committed "), "committed 0:34/NONE,1:34/NONE,2:34/NONE");
    assert_eq!(line(lines, "start "), "start 0:0/NONE,1:0/NONE,2:0/NONE");
    assert_eq!(line(lines, "end "), "end 0:34/NONE,1:34/NONE,2:34/NONE");
    assert_eq!(
        line(lines, "after-delete "),
        format!("after-delete fz-topic[id=true {}]", parts(3))
    );
}

#[test]
fn franz_go_session() {
    let tmp = TempDir::new("franz");
    let broker = broker_for(&tmp);
    let lines = run("franz", broker.addr, || broker.logs.lines().join("\n"));
    check_franz(&lines);
}

/// The same session against Apache Kafka, so that what `check_franz` expects is Kafka's answer.
#[test]
fn franz_go_session_against_kafka() {
    let tmp = TempDir::new("franz-kafka");
    let opts = KafkaOptions::default().set("group.initial.rebalance.delay.ms", "0");
    let kafka = Kafka::start_fresh(tmp.path(), &opts);
    let lines = run("franz", kafka.addr, || kafka.output_tail());
    check_franz(&lines);
    kafka.stop();
}
