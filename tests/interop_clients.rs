//! Real clients besides librdkafka, each running a whole session against the binary: admin,
//! produce, a consumer group that commits, offsets: kafka-python (pure Python, its own codec;
//! also its KafkaAdminClient config, partition and DeleteRecords calls)
//! and kafkajs (Node), pinned versions installed from PyPI and npm on first use into cargo's
//! test tmp dir. So `cargo test` needs no other setup; an install failure fails. The Go
//! clients (sarama, franz-go) are in `interop_go.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::{line, Broker, TempDir};

const KAFKA_PYTHON: &str = "kafka-python==3.0.12";
const KAFKAJS: &str = "kafkajs@2.2.4";

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("clients")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Runs `cmd` to install into `dir` unless a marker for `what` is there already.
fn install(dir: &Path, what: &str, cmd: &mut Command) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let marker = dir.join(format!(".installed-{}", what.replace(['/', '@', '='], "_")));
    if marker.exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    // A registry can fail once; three tries, then the failure is the test's.
    let mut last = String::new();
    for attempt in 1..=3 {
        let out =
            cmd.output().unwrap_or_else(|e| panic!("cannot run the installer for {what}: {e}"));
        if out.status.success() {
            std::fs::write(marker, b"").unwrap();
            return;
        }
        last = format!(
            "attempt {attempt}: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    panic!("installing {what} failed:\n{last}");
}

/// Runs a client script against `broker`; returns its stdout lines.
fn run(broker: &Broker, cmd: &mut Command) -> Vec<String> {
    let out = cmd.arg(broker.addr.to_string()).output().expect("client script runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "client failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\nbroker:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        broker.logs.lines().join("\n")
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn kafka_python_session() {
    let dir = clients_dir().join("py");
    install(
        &dir,
        KAFKA_PYTHON,
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
            .arg(&dir)
            .arg(KAFKA_PYTHON),
    );
    let tmp = TempDir::new("kafka-python");
    let broker = Broker::start_with(tmp.path(), &["group.initial.rebalance.delay.ms=0"]);
    let lines = run(
        &broker,
        Command::new("python3").env("PYTHONPATH", &dir).arg(script("kafka_python_session.py")),
    );
    assert!(line(&lines, "topics ")
        .split(',')
        .any(|t| t.trim_start_matches("topics ") == "py-topic"));
    assert_eq!(
        line(&lines, "consumed "),
        "consumed [(0, 0, 'k0', 'v0'), (0, 1, 'k2', 'v2'), (0, 2, 'k4', 'v4'), \
         (1, 0, 'k1', 'v1'), (1, 1, 'k3', 'v3'), (1, 2, 'k5', 'v5')]"
    );
    assert_eq!(line(&lines, "committed "), "committed [3, 3]");
    assert!(!line(&lines, "after-delete").contains("py-topic"));

    // KafkaAdminClient on a compacted topic: configs given at creation are reported as the
    // topic's own, altered (incrementally, kafka-python's default here), the topic grown, and
    // DeleteRecords moves the low watermark a consumer sees.
    let own = "DYNAMIC_TOPIC_CONFIG";
    assert_eq!(
        line(&lines, "described "),
        format!(
            "described [('cleanup.policy', 'compact', '{own}'), ('min.compaction.lag.ms', \
             '1000', '{own}'), ('segment.bytes', '1048576', '{own}')]"
        )
    );
    assert_eq!(line(&lines, "altered "), "altered {'topic': {'py-compacted': 'OK'}}");
    assert_eq!(
        line(&lines, "described-again "),
        format!(
            "described-again [('cleanup.policy', 'compact,delete', '{own}'), \
             ('min.compaction.lag.ms', '1000', '{own}'), ('retention.ms', '3600000', '{own}'), \
             ('segment.bytes', '1048576', '{own}')]"
        )
    );
    assert_eq!(line(&lines, "partitions "), "partitions [0, 1, 2]");
    assert_eq!(line(&lines, "delete-records "), "delete-records 3");
    assert_eq!(line(&lines, "beginning "), "beginning 3 end 5");
    // A dynamic broker config, and the topic that does not set the key following it.
    assert_eq!(line(&lines, "broker-altered "), "broker-altered {'broker': {'1': 'OK'}}");
    assert_eq!(
        line(&lines, "broker-described "),
        "broker-described [('log.cleaner.delete.retention.ms', '5000', 'DYNAMIC_BROKER_CONFIG')]"
    );
    assert_eq!(
        line(&lines, "topic-follows "),
        "topic-follows [('delete.retention.ms', '5000', 'DYNAMIC_BROKER_CONFIG')]"
    );
    assert!(!line(&lines, "after-admin-delete").contains("py-compacted"));
}

#[test]
fn kafkajs_session() {
    let dir = clients_dir().join("js");
    install(
        &dir,
        KAFKAJS,
        Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&dir)
            .arg(KAFKAJS),
    );
    let tmp = TempDir::new("kafkajs");
    let broker = Broker::start_with(tmp.path(), &["group.initial.rebalance.delay.ms=0"]);
    let lines = run(
        &broker,
        Command::new("node")
            .env("NODE_PATH", dir.join("node_modules"))
            .arg(script("kafkajs_session.js")),
    );
    assert!(line(&lines, "{\"topics\"").contains("\"js-topic\""));
    assert_eq!(
        line(&lines, "{\"consumed\""),
        r#"{"consumed":[[0,0,"v0","x0"],[0,1,"v2","x2"],[1,0,"v1","x1"],[1,1,"v3","x3"]]}"#
    );
    assert_eq!(line(&lines, "{\"committed\""), r#"{"committed":[[0,"2"],[1,"2"]]}"#);
    assert_eq!(line(&lines, "{\"group\""), r#"{"group":["Empty","consumer"]}"#);
    assert_eq!(line(&lines, "{\"watermarks\""), r#"{"watermarks":[[0,"0","2"],[1,"0","2"]]}"#);
}
