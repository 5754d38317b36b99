//! Real clients besides librdkafka, each running a whole session against the binary: admin,
//! produce, a consumer group that commits, offsets: kafka-python (pure Python, its own codec;
//! also its KafkaAdminClient config, partition and DeleteRecords calls)
//! and kafkajs (Node), pinned versions installed from PyPI and npm on first use into cargo's
//! test tmp dir. So `cargo test` needs no other setup; an install failure fails. The Go
//! clients (sarama, franz-go) are in `interop_go.rs`.
//!
//! Transactions from two more clients: kafkajs's own implementation and confluent-kafka
//! (Python on librdkafka) commit, abort, send a group's offsets and get fenced by a second
//! instance; read_committed and read_uncommitted readers follow. Both sessions run against a
//! real Kafka too, and their transcripts must match minikafka's line for line.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::OnceLock;

use common::clients::{confluent_kafka_dir, kafka_python_dir, kafkajs_dir, script};
use common::kafka::{Kafka, KafkaOptions};
use common::{line, Broker, TempDir};

/// Runs a client script against `broker`; returns its stdout lines.
fn run(broker: &Broker, cmd: &mut Command) -> Vec<String> {
    run_at(broker.addr, cmd, || broker.logs.lines().join("\n"))
}

/// Runs a client script against the broker at `addr`; `logs` tells the broker's side when the
/// script fails.
fn run_at(addr: SocketAddr, cmd: &mut Command, logs: impl Fn() -> String) -> Vec<String> {
    let out = cmd.arg(addr.to_string()).output().expect("client script runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "client failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\nbroker:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        logs()
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn kafka_python_session() {
    let dir = kafka_python_dir();
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
    let dir = kafkajs_dir();
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

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/// The transactional sessions, each a command that takes the broker's address last.
#[derive(Clone, Copy, Debug)]
enum TxnSession {
    Kafkajs,
    ConfluentKafka,
}

impl TxnSession {
    fn command(self) -> Command {
        match self {
            TxnSession::Kafkajs => {
                let mut cmd = Command::new("node");
                cmd.env("NODE_PATH", kafkajs_dir().join("node_modules"))
                    .arg(script("kafkajs_txn_session.js"));
                cmd
            }
            TxnSession::ConfluentKafka => {
                let mut cmd = Command::new("python3");
                cmd.env("PYTHONPATH", confluent_kafka_dir())
                    .arg(script("confluent_kafka_txn_session.py"));
                cmd
            }
        }
    }

    /// What the session prints, on either broker. Offsets in one partition: a0 a1 (0, 1) and
    /// their COMMIT (2); b0 b1 (3, 4) and their ABORT (5); c0 c1 (6, 7) and COMMIT (8); the
    /// zombie's d0 (9) and the ABORT the coordinator writes when the second instance starts
    /// (10); e0 (11) and COMMIT (12). So read_committed never sees b0, b1 or d0,
    /// read_uncommitted sees them, and neither sees a marker.
    fn expected(self) -> &'static [&'static str] {
        match self {
            TxnSession::Kafkajs => &[
                r#"{"txn":["a0","a1"],"outcome":"commit"}"#,
                r#"{"txn":["b0","b1"],"outcome":"abort"}"#,
                r#"{"txn":["c0","c1"],"outcome":"commit"}"#,
                // kafkajs sends EndTxn v0, where Kafka answers a fenced epoch so.
                r#"{"zombie":"INVALID_PRODUCER_EPOCH"}"#,
                r#"{"txn":["e0"],"outcome":"commit"}"#,
                r#"{"read_committed":[[0,"a0"],[1,"a1"],[6,"c0"],[7,"c1"],[11,"e0"]]}"#,
                r#"{"read_uncommitted":[[0,"a0"],[1,"a1"],[3,"b0"],[4,"b1"],[6,"c0"],[7,"c1"],[9,"d0"],[11,"e0"]]}"#,
                r#"{"group_offsets":[[0,"2"]]}"#,
                r#"{"watermarks":[[0,"0","13"]]}"#,
            ],
            TxnSession::ConfluentKafka => &[
                "txn ['a0', 'a1'] commit",
                "txn ['b0', 'b1'] abort",
                "txn ['c0', 'c1'] commit",
                "zombie _FENCED fatal",
                "txn ['e0'] commit",
                "read_committed [(0, 'a0'), (1, 'a1'), (6, 'c0'), (7, 'c1'), (11, 'e0')]",
                "read_uncommitted [(0, 'a0'), (1, 'a1'), (3, 'b0'), (4, 'b1'), (6, 'c0'), \
                 (7, 'c1'), (9, 'd0'), (11, 'e0')]",
                "group_offsets [(0, 2)]",
                "watermarks 0 13",
            ],
        }
    }

    /// The session's transcript against minikafka, run once for both tests that read it.
    fn minikafka_transcript(self) -> &'static [String] {
        static JS: OnceLock<Vec<String>> = OnceLock::new();
        static CK: OnceLock<Vec<String>> = OnceLock::new();
        let cell = match self {
            TxnSession::Kafkajs => &JS,
            TxnSession::ConfluentKafka => &CK,
        };
        cell.get_or_init(|| {
            let tmp = TempDir::new("txn-session");
            let broker = Broker::start_with(tmp.path(), &["group.initial.rebalance.delay.ms=0"]);
            run(&broker, &mut self.command())
        })
    }
}

fn assert_txn_session(session: TxnSession, lines: &[String]) {
    assert_eq!(lines, session.expected(), "{session:?}'s transcript");
}

#[test]
fn kafkajs_txn_session() {
    assert_txn_session(TxnSession::Kafkajs, TxnSession::Kafkajs.minikafka_transcript());
}

#[test]
fn confluent_kafka_txn_session() {
    let session = TxnSession::ConfluentKafka;
    assert_txn_session(session, session.minikafka_transcript());
}

/// Both transactional sessions against Apache Kafka (one broker for the two): the same
/// transcript, so the expectations above are Kafka's own behaviour.
#[test]
fn txn_sessions_against_kafka() {
    let tmp = TempDir::new("txn-kafka");
    let opts = KafkaOptions::default().set("group.initial.rebalance.delay.ms", "0");
    let kafka = Kafka::start_fresh(tmp.path(), &opts);
    for session in [TxnSession::Kafkajs, TxnSession::ConfluentKafka] {
        let lines = run_at(kafka.addr, &mut session.command(), || kafka.output_tail());
        assert_eq!(lines, session.minikafka_transcript(), "{session:?}: Kafka's transcript");
    }
    kafka.stop();
}
