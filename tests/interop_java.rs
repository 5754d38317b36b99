//! Apache Kafka's own Java client (kafka-clients 4.4.0, from the jars `common::kafka` fetches
//! with Maven) running a whole session against the binary: admin calls, producers with every
//! codec and acks setting, a classic-protocol consumer group that reads everything back,
//! offset look-ups, and rebalances (eager and cooperative) as a second member joins; then the
//! admin's topic configs (create with configs, incremental alter, describe with synonyms),
//! createPartitions, deleteConsumerGroups, deleteConsumerGroupOffsets, deleteRecords and
//! describeLogDirs, a transactional producer with a read_committed consumer, and the admin's
//! describeTransactions, listTransactions and describeProducers (tests/clients/java). The
//! same session runs against a real one-node Kafka too, so the session itself is known right,
//! and the two transcripts are compared line by line.

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use common::kafka::{Kafka, KafkaOptions};
use common::{clients, line, Broker, TempDir};

/// Small, so that the first join of each group is quick, and the same on both brokers (the
/// session prints it back from DescribeConfigs).
const REBALANCE_DELAY: (&str, &str) = ("group.initial.rebalance.delay.ms", "100");
/// The session's records carry 2023 timestamps: retention's first check is put off past the
/// session on both brokers, so that neither deletes them halfway.
const NO_RETENTION_CHECK: (&str, &str) = ("log.initial.task.delay.ms", "3600000");
/// The session waits at most a minute for any one thing; this bounds the whole JVM.
const SESSION_TIMEOUT: Duration = Duration::from_secs(300);
/// Runs the session against `addr`; returns its stdout lines, or panics with its output and
/// `context()` (the broker's log) when it fails or overruns.
fn run_session(addr: SocketAddr, context: impl Fn() -> String) -> Vec<String> {
    static CP: OnceLock<String> = OnceLock::new();
    let cp = CP.get_or_init(|| clients::compile_java("JavaSession.java", "java", "warn"));
    let mut cmd = clients::java_command(cp, "JavaSession");
    clients::run_bounded(cmd.arg(addr.to_string()), SESSION_TIMEOUT, context)
}

/// What the session must have read back from any broker that gets Kafka right.
fn assert_session(lines: &[String]) {
    let expect = |prefix: &str, whole: &str| assert_eq!(line(lines, prefix), whole);
    expect("create-again ", "create-again TopicExistsException");
    expect("topics ", "topics [java-other, java-rebal, java-topic]");
    expect(
        "authorized ",
        "authorized [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]",
    );
    expect("describe java-topic 2 ", "describe java-topic 2 leader=1 replicas=[1] isr=[1]");
    expect("describe java-rebal 3 ", "describe java-rebal 3 leader=1 replicas=[1] isr=[1]");
    expect("describe-missing ", "describe-missing UnknownTopicOrPartitionException");
    expect("cluster ", "cluster nodes=[1] controller=1 host=127.0.0.1");
    expect("config topic cleanup.policy", "config topic cleanup.policy=delete DEFAULT_CONFIG");
    expect("config topic retention.ms", "config topic retention.ms=604800000 DEFAULT_CONFIG");
    expect(
        "config broker group.initial",
        "config broker group.initial.rebalance.delay.ms=100 STATIC_BROKER_CONFIG",
    );
    expect(
        "config broker message.max.bytes",
        "config broker message.max.bytes=1048588 DEFAULT_CONFIG",
    );
    // 15 producers: acks=0 learns no offsets, the others learn where their records went.
    let produced: Vec<&String> = lines.iter().filter(|l| l.starts_with("produced ")).collect();
    assert_eq!(produced.len(), 15, "{produced:#?}");
    expect(
        "produced none acks=0 ",
        "produced none acks=0 idempotent=false at 0@-1 1@-1 2@-1 0@-1 1@-1 2@-1",
    );
    expect(
        "produced zstd acks=all ",
        "produced zstd acks=all idempotent=true at 0@28 1@28 2@28 0@29 1@29 2@29",
    );
    expect("end-offsets [", "end-offsets [30, 30, 30]");
    // Every record, in order, with its key; the session checked values, headers, timestamps.
    for p in 0..3 {
        let want: Vec<String> = (0..30).map(|o| format!("{p}@{o}=k{}", p + 3 * o)).collect();
        expect(&format!("consumed {p} "), &format!("consumed {p} {}", want.join(" ")));
    }
    expect("assignment ", "assignment [java-topic-0, java-topic-1, java-topic-2]");
    expect(
        "committed ",
        "committed {java-topic-0=30/epoch:0, java-topic-1=30/epoch:0, java-topic-2=30/epoch:0}",
    );
    expect("committed-with-metadata ", "committed-with-metadata 29 Optional.empty java-meta");
    expect("committed-again ", "committed-again 30 Optional.empty ''");
    expect("partitions-for ", "partitions-for 3");
    expect(
        "consumer-topics ",
        "consumer-topics [__consumer_offsets:50, java-other:1, java-rebal:4, java-topic:3]",
    );
    expect("position after seek ", "position after seek 4");
    expect("seek 1@4 ", "seek 1@4 -> 1@4=k13");
    expect("position after seek-to-beginning ", "position after seek-to-beginning 0");
    expect("seek-to-beginning ", "seek-to-beginning 0 -> 0@0=k0");
    expect("offsets-for-times 5000 ", "offsets-for-times 5000 -> 1 ts=5000");
    expect("offsets-for-times 4500 ", "offsets-for-times 4500 -> 1 ts=5000");
    expect("offsets-for-times 38000 ", "offsets-for-times 38000 -> 12 ts=38000");
    expect("offsets-for-times 37500 ", "offsets-for-times 37500 -> 12 ts=38000");
    expect("offsets-for-times 95000 ", "offsets-for-times 95000 -> null");
    expect(
        "beginning-offsets ",
        "beginning-offsets {java-topic-0=0, java-topic-1=0, java-topic-2=0}",
    );
    expect("end-offsets {", "end-offsets {java-topic-0=30, java-topic-1=30, java-topic-2=30}");
    expect(
        "group java-group state=Stable",
        "group java-group state=Stable type=Classic assignor=range simple=false \
         members=[java-consumer:[java-topic-0, java-topic-1, java-topic-2]]",
    );
    expect("groups ", "groups [java-group:Stable:Classic:consumer]");
    expect(
        "group java-group state=Empty",
        "group java-group state=Empty type=Classic assignor= simple=false members=[]",
    );
    expect(
        "group-offsets ",
        "group-offsets {java-topic-0=30/epoch:none, java-topic-1=30/epoch:0, java-topic-2=30/epoch:0}",
    );
    expect("group-offsets-altered ", "group-offsets-altered 10 moved");
    // DeleteGroups and OffsetDelete: refused while the group has a member subscribed, then
    // done once it is empty.
    expect(
        "delete-active-group ",
        "delete-active-group GroupNotEmptyException: The group is not empty.",
    );
    expect(
        "delete-subscribed-offsets ",
        "delete-subscribed-offsets GroupSubscribedToTopicException: Deleting offsets of a topic \
         is forbidden while the consumer group is actively subscribed to it.",
    );
    expect(
        "offsets-deleted ",
        "offsets-deleted {java-topic-0=30/epoch:none, java-topic-2=30/epoch:0}",
    );
    expect("group-deleted ", "group-deleted offsets={}");
    expect(
        "delete-group-again ",
        "delete-group-again GroupIdNotFoundException: The group id does not exist.",
    );
    expect(
        "admin-list-offsets ",
        "admin-list-offsets [java-topic-0=0@-1/Optional[0], java-topic-1=30@-1/Optional[0], \
         java-topic-2=1@1700000005000/Optional[0]]",
    );
    expect("delete-records ", "delete-records low-watermark=2 earliest=2");
    // Transactions: commit, abort, commit, each with the group's offsets (3 records and a
    // marker each, so the log ends at 12).
    expect(
        "txn-read-committed ",
        "txn-read-committed [end=12, commit-0, commit-1, commit-2, commit2-0, commit2-1, commit2-2]",
    );
    expect(
        "txn-read-uncommitted ",
        "txn-read-uncommitted [end=12, commit-0, commit-1, commit-2, abort-0, abort-1, abort-2, \
         commit2-0, commit2-1, commit2-2]",
    );
    expect("txn-group-offsets ", "txn-group-offsets {java-txn-0=7/epoch:none}");
    expect(
        "log-dirs ",
        "log-dirs 1 error=null java-topic [0:true/lag=0/future=false, 1:true/lag=0/future=false, \
         2:true/lag=0/future=false] volume=true/true",
    );
    // Topic configs: given to CreateTopics (and answered by it), then SET, DELETE and APPEND by
    // IncrementalAlterConfigs, read back with their sources and synonyms.
    for key in ["cleanup.policy=compact", "retention.ms=86400000", "segment.bytes=1048576"] {
        expect(
            &format!("created-config {key}"),
            &format!("created-config {key} DYNAMIC_TOPIC_CONFIG"),
        );
    }
    expect(
        "altered-config cleanup.policy",
        "altered-config cleanup.policy=compact,delete DYNAMIC_TOPIC_CONFIG \
         synonyms=[cleanup.policy=compact,delete:DYNAMIC_TOPIC_CONFIG, \
         log.cleanup.policy=delete:DEFAULT_CONFIG]",
    );
    expect(
        "altered-config retention.ms",
        "altered-config retention.ms=3600000 DYNAMIC_TOPIC_CONFIG \
         synonyms=[retention.ms=3600000:DYNAMIC_TOPIC_CONFIG]",
    );
    expect(
        "altered-config segment.bytes",
        "altered-config segment.bytes=1073741824 DEFAULT_CONFIG \
         synonyms=[log.segment.bytes=1073741824:DEFAULT_CONFIG]",
    );
    expect(
        "invalid-config ",
        "invalid-config InvalidConfigurationException: Invalid value soon for configuration \
         retention.ms: Not a number of type LONG",
    );
    // CreatePartitions: grown, not shrunk, and the new partition takes records.
    expect("grown java-grow ", "grown java-grow to 3");
    expect(
        "shrink ",
        "shrink InvalidPartitionsException: The topic java-grow currently has 3 partition(s); \
         2 would not be an increase.",
    );
    expect("grown produced ", "grown produced 2@0 consumed 2@0=g:new partition");
    // A compacted topic: a keyless record refused (the client shows Kafka's record error); overwrites read
    // back as each key's latest value, the tombstone as null.
    expect(
        "compacted-keyless ",
        "compacted-keyless InvalidRecordException: Compacted topic cannot accept message \
         without key in topic partition java-compacted-0",
    );
    expect(
        "compacted-latest ",
        "compacted-latest end=21 {ck0=v3-0, ck1=v3-1, ck2=v3-2, ck3=v3-3, ck4=null}",
    );
    // The rebalance: range over two members sorted by member id (client id first).
    expect("rebalance before ", "rebalance before a=[0, 1, 2, 3]");
    expect("rebalance after ", "rebalance after a=[0, 1] b=[2, 3]");
    expect(
        "group java-rebal-group ",
        "group java-rebal-group state=Stable type=Classic assignor=range simple=false \
         members=[member-a:[java-rebal-0, java-rebal-1], member-b:[java-rebal-2, java-rebal-3]]",
    );
    expect(
        "rebalance a-events ",
        "rebalance a-events [assigned [java-rebal-0, java-rebal-1, java-rebal-2, java-rebal-3], \
         revoked [java-rebal-0, java-rebal-1, java-rebal-2, java-rebal-3], \
         assigned [java-rebal-0, java-rebal-1]]",
    );
    expect("rebalance b-events ", "rebalance b-events [assigned [java-rebal-2, java-rebal-3]]");
    // member-b starts where member-a committed on revocation: nothing lost, nothing twice.
    expect(
        "rebalance consumed ",
        "rebalance consumed a=30 b=10 b-first=[2@5, 2@6, 2@7, 2@8, 2@9, 3@5, 3@6, 3@7, 3@8, 3@9]",
    );
    // Cooperative: coop-1 keeps consuming 0 and 1 throughout and gives up only 2 and 3, which
    // coop-2 takes from where coop-1 committed them.
    expect("cooperative after ", "cooperative after 1=[0, 1] 2=[2, 3]");
    expect(
        "group java-coop-group ",
        "group java-coop-group state=Stable type=Classic assignor=cooperative-sticky \
         simple=false members=[coop-1:[java-rebal-0, java-rebal-1], \
         coop-2:[java-rebal-2, java-rebal-3]]",
    );
    expect(
        "cooperative 1-events ",
        "cooperative 1-events [assigned [java-rebal-0, java-rebal-1, java-rebal-2, \
         java-rebal-3], revoked [java-rebal-2, java-rebal-3]]",
    );
    expect("cooperative 2-events ", "cooperative 2-events [assigned [java-rebal-2, java-rebal-3]]");
    expect(
        "cooperative consumed ",
        "cooperative consumed 1=50 2=[2@10, 2@11, 2@12, 2@13, 2@14, 3@10, 3@11, 3@12, 3@13, 3@14]",
    );
    expect("after-delete ", "after-delete [java-rebal, java-topic]");
    // The operator's view of a transaction: open (one partition written, from offset 0),
    // then committed (the marker names coordinator epoch 0 and closes it there).
    expect(
        "ops-ongoing ",
        "ops-ongoing state=Ongoing timeout=45000 coordinator=1 partitions=[java-ops-0] \
         started-now=true",
    );
    expect("ops-list-ongoing ", "ops-list-ongoing [java-ops-id:Ongoing]");
    expect("ops-list-pid ", "ops-list-pid [java-ops-id:Ongoing]");
    expect("ops-list-empty ", "ops-list-empty []");
    expect("ops-list-older ", "ops-list-older []");
    expect(
        "ops-list-pattern ",
        "ops-list-pattern [java-ops-id:Ongoing, java-txn-id:CompleteCommit]",
    );
    expect(
        "ops-producers-ongoing ",
        "ops-producers-ongoing [java-ops-0:same-id=true same-epoch=true seq=2 ts=T0+2 \
         coordinator-epoch=OptionalInt.empty txn-start=OptionalLong[0]]",
    );
    expect("ops-committed ", "ops-committed state=CompleteCommit partitions=[] same-start=true");
    expect(
        "ops-producers-committed ",
        "ops-producers-committed coordinator-epoch=OptionalInt[0] txn-start=OptionalLong.empty \
         marker-time-now=true",
    );
    expect(
        "ops-unknown-id ",
        "ops-unknown-id TransactionalIdNotFoundException: DescribeTransactions request for \
         transactionalId `java-ops-nobody` failed because the ID could not be found",
    );
    assert_eq!(lines.last().map(String::as_str), Some("done"));
}

/// The session's transcript against minikafka, run once for both tests.
fn minikafka_transcript() -> &'static [String] {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        let tmp = TempDir::new("java");
        let delay = format!("{}={}", REBALANCE_DELAY.0, REBALANCE_DELAY.1);
        let check = format!("{}={}", NO_RETENTION_CHECK.0, NO_RETENTION_CHECK.1);
        // Kafka 4.4 formats a cluster with transactions v2 finalized: so is this one, so the
        // client takes the same paths on both (EndTxn v5, partitions added by Produce).
        let mut args: Vec<std::ffi::OsString> =
            vec!["--feature".into(), "transaction.version=2".into()];
        for o in [
            "listeners=PLAINTEXT://127.0.0.1:0",
            &format!("log.dirs={}", tmp.path().display()),
            &delay,
            &check,
        ] {
            args.push("--override".into());
            args.push(o.into());
        }
        let broker = Broker::start_args(args);
        let lines = run_session(broker.addr, || broker.logs.lines().join("\n"));
        // Transactions v2 bumps the epoch at each end: three ends after InitProducerId.
        let described = broker.connect().kp_call(
            0,
            &kafka_protocol::messages::DescribeTransactionsRequest::default()
                .with_transactional_ids(vec![kafka_protocol::messages::TransactionalId(
                    kafka_protocol::protocol::StrBytes::from_static_str("java-txn-id"),
                )]),
        );
        let state = &described.transaction_states[0];
        assert!(state.producer_epoch >= 3, "transactions v2 not used: {state:?}");
        lines
    })
}

#[test]
fn java_client_session() {
    assert_session(minikafka_transcript());
}

/// Lines where the transcripts may differ, as (Kafka's, minikafka's). One, where both are right:
/// Kafka 4.1+ formats new clusters with eligible leader replicas on, and with that its
/// controller records `min.insync.replicas` as a cluster-wide dynamic default; minikafka
/// formats its directory with `metadata.version` alone, as a cluster without that feature is,
/// where the same value is the plain default.
const KNOWN_DIFFERENCES: [(&str, &str); 1] = [(
    "config topic min.insync.replicas=1 DYNAMIC_DEFAULT_BROKER_CONFIG",
    "config topic min.insync.replicas=1 DEFAULT_CONFIG",
)];

fn line_at(lines: &[String], i: usize) -> &str {
    lines.get(i).map_or("", String::as_str)
}

/// The same session against Apache Kafka: it passes the same assertions, and prints exactly
/// what it printed against minikafka.
#[test]
fn java_client_session_against_kafka() {
    let tmp = TempDir::new("java-kafka");
    let opts = KafkaOptions::default()
        .set(REBALANCE_DELAY.0, REBALANCE_DELAY.1)
        .set(NO_RETENTION_CHECK.0, NO_RETENTION_CHECK.1);
    let kafka = Kafka::start_fresh(tmp.path(), &opts);
    let lines = run_session(kafka.addr, || kafka.output_tail());
    kafka.stop();
    assert_session(&lines);
    let ours = minikafka_transcript();
    let differing: Vec<String> = (0..lines.len().max(ours.len()))
        .filter(|&i| lines.get(i) != ours.get(i))
        .filter(|&i| !KNOWN_DIFFERENCES.contains(&(line_at(&lines, i), line_at(ours, i))))
        .map(|i| format!("kafka:     {:?}\nminikafka: {:?}", lines.get(i), ours.get(i)))
        .collect();
    assert!(differing.is_empty(), "the transcripts differ:\n{}", differing.join("\n"));
}

/// Runs tests/clients/java/Kip848Session.java against `addr`: Kafka's Java consumer with
/// `group.protocol=consumer` (KIP-848).
fn run_kip848_session(addr: SocketAddr, context: impl Fn() -> String) -> Vec<String> {
    static CP: OnceLock<String> = OnceLock::new();
    let cp = CP.get_or_init(|| clients::compile_java("Kip848Session.java", "java-kip848", "warn"));
    let mut cmd = clients::java_command(cp, "Kip848Session");
    clients::run_bounded(cmd.arg(addr.to_string()), SESSION_TIMEOUT, context)
}

/// What that session must print on a broker that gets KIP-848 right: members join and leave
/// a six-partition topic, each record is read once, commits land at member epochs, and the
/// admin describes the group through ConsumerGroupDescribe.
fn assert_kip848_session(lines: &[String]) {
    let expect = |prefix: &str, whole: &str| assert_eq!(line(lines, prefix), whole);
    expect("two ", "two [3, 3]");
    expect("three ", "three [2, 2, 2]");
    expect("after-leave ", "after-leave [3, 3]");
    expect("records ", "records 180 distinct 180");
    expect("committed ", "committed [30]");
    expect("describe ", "describe Consumer Stable members 2 assignor uniform");
    assert_eq!(lines.last().map(String::as_str), Some("done"));
}

#[test]
fn java_consumer_protocol_group() {
    let tmp = TempDir::new("java-kip848");
    let broker = Broker::start_with(tmp.path(), &["group.consumer.heartbeat.interval.ms=200"]);
    let lines = run_kip848_session(broker.addr, || broker.logs.lines().join("\n"));
    assert_kip848_session(&lines);
}

/// The same session against a real one-node Kafka, so that its expectations are known right.
#[test]
fn java_consumer_protocol_group_against_kafka() {
    let tmp = TempDir::new("java-kip848-kafka");
    let opts = KafkaOptions::default()
        .set("group.consumer.min.heartbeat.interval.ms", "200")
        .set("group.consumer.heartbeat.interval.ms", "200");
    let kafka = Kafka::start_fresh(tmp.path(), &opts);
    let lines = run_kip848_session(kafka.addr, || kafka.output_tail());
    kafka.stop();
    assert_kip848_session(&lines);
}

#[path = "common/consumer_protocol.rs"]
mod consumer_protocol;

/// The heartbeat interval of the leave test below.
const LEAVE_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(1000);
/// What the client takes to act on its heartbeat's answer (its poll loop runs the callback).
const CLIENT_SLACK: Duration = Duration::from_millis(500);

/// Kafka's Java client on the consumer protocol (`ConsumerProtocolSession.java`): two
/// members, a third joins, the second leaves; every record read once and committed, and the
/// leaving member's partitions owned by the others within one heartbeat interval of its
/// leave (which comes more than `group.consumer.assignment.interval.ms` after the previous
/// rebalance, so the new target is computed at the leave).
#[test]
fn java_consumer_protocol_partitions_of_a_leaving_member_move_within_a_heartbeat_interval() {
    let tmp = TempDir::new("java-kip848-leave");
    let hb =
        format!("group.consumer.heartbeat.interval.ms={}", LEAVE_HEARTBEAT_INTERVAL.as_millis());
    let broker = Broker::start_with(tmp.path(), &[&hb]);
    let s = consumer_protocol::java_session(broker.addr, "leave", 30, || {
        broker.logs.lines().join("\n")
    });
    eprintln!("{}", s.summary());
    s.assert_exactly_once();
    let moved = s.moved_after_leave.expect("measured");
    assert!(moved <= LEAVE_HEARTBEAT_INTERVAL + CLIENT_SLACK, "{}", s.summary());
}
