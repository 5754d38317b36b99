//! Real, unchanged Kafka clients authenticating against the binary's SASL_PLAINTEXT listener,
//! and refused with wrong passwords: librdkafka (rdkafka crate; built without ssl, so PLAIN
//! only; SCRAM through confluent-kafka's librdkafka), Kafka's own Java client (SCRAM-SHA-512 and -256, PLAIN, and the SCRAM admin calls),
//! kafka-python and kafkajs (SCRAM-SHA-512 and PLAIN); and, with short sessions
//! (`connections.max.reauth.ms`, KIP-368), the Java client, librdkafka and kafkajs renewing
//! them on their open connections. The broker knows alice (SCRAM-SHA-512,
//! from `--add-scram`) and carol (PLAIN, from the listener's JAAS config). The raw-protocol side
//! of SASL is in `security.rs`; how the clients are installed is as in `interop_clients.rs`
//! and `interop_java.rs`.

mod common;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::clients::{self, script};
use common::{block_on, line, rdkafka_config, Broker, TempDir};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::DeliveryResult;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

/// How long a test waits for any one thing a client does.
const WAIT: Duration = Duration::from_secs(30);
/// Bounds a whole client process.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(240);

const JAAS: &str = "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.\
                    security.plain.PlainLoginModule required username=\"admin\" \
                    password=\"admin-secret\" user_admin=\"admin-secret\" user_carol=\"c-pw\";";

/// The broker with a PLAINTEXT and a SASL_PLAINTEXT listener, alice and carol; and the SASL
/// listener's address.
fn start(dir: &Path) -> (Broker, SocketAddr) {
    start_with(dir, &[])
}

/// As [`start`], with extra `key=value` overrides.
fn start_with(dir: &Path, extra: &[&str]) -> (Broker, SocketAddr) {
    let mut args: Vec<OsString> = Vec::new();
    let log_dirs = format!("log.dirs={}", dir.display());
    let base = [
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
        &log_dirs,
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "group.initial.rebalance.delay.ms=0",
        JAAS,
    ];
    for kv in base.iter().chain(extra) {
        args.push("--override".into());
        args.push(kv.into());
    }
    args.push("--add-scram".into());
    args.push("SCRAM-SHA-512=[name=alice,password=alice-secret]".into());
    let broker = Broker::start_args(args);
    let sasl = broker.listener_addr("SASL_PLAINTEXT");
    (broker, sasl)
}

/// The broker's log lines saying it refused `user` with `mechanism`.
fn refusals(broker: &Broker, mechanism: &str, user: &str) -> usize {
    let what = format!("failed authentication with {mechanism} from ");
    let who = format!("(user \"{user}\")");
    broker.logs.lines().iter().filter(|l| l.contains(&what) && l.contains(&who)).count()
}

// ---------------------------------------------------------------------------------------------
// librdkafka
// ---------------------------------------------------------------------------------------------

fn rdkafka_sasl(addr: SocketAddr, user: &str, password: &str) -> rdkafka::ClientConfig {
    let mut c = rdkafka_config(addr);
    c.set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", user)
        .set("sasl.password", password);
    c
}

/// Keeps the errors librdkafka reports for the whole client (not for one request), the
/// producer's delivery reports, and per broker node its latest (node, connects,
/// SaslAuthenticate requests sent) from the statistics.
#[derive(Default)]
struct Seen {
    errors: Mutex<Vec<(KafkaError, String)>>,
    delivered: Mutex<Vec<Result<(i32, i64), String>>>,
    auths: Mutex<Vec<(i32, i64, i64)>>,
}

impl ClientContext for Seen {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors.lock().unwrap().push((error, reason.to_string()));
    }

    fn stats(&self, stats: rdkafka::Statistics) {
        let mut auths: Vec<(i32, i64, i64)> = stats
            .brokers
            .values()
            .filter(|b| b.nodeid >= 0)
            .map(|b| {
                let sent = b.req.get("SaslAuthenticate").copied().unwrap_or(0);
                (b.nodeid, b.connects.unwrap_or(0), sent)
            })
            .collect();
        auths.sort();
        *self.auths.lock().unwrap() = auths;
    }
}

impl ProducerContext for Seen {
    type DeliveryOpaque = ();

    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        let report = match r {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        self.delivered.lock().unwrap().push(report);
    }
}

#[test]
fn rdkafka_plain_produces_and_consumes() {
    let tmp = TempDir::new("sasl-rdk");
    let (broker, sasl) = start(tmp.path());
    let config = rdkafka_sasl(sasl, "carol", "c-pw");

    let admin: AdminClient<DefaultClientContext> = config.create().expect("admin client");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let topic = NewTopic::new("rdk-sasl", 1, TopicReplication::Fixed(1));
    let created = block_on(admin.create_topics(&[topic], &opts), WAIT).expect("CreateTopics");
    assert_eq!(created, vec![Ok("rdk-sasl".to_string())]);

    let producer: BaseProducer<Seen> =
        config.create_with_context(Seen::default()).expect("producer");
    for i in 0..3 {
        let value = format!("plain-{i}");
        let record = BaseRecord::to("rdk-sasl").key("carol").payload(&value);
        producer.send(record).map_err(|(e, _)| e).expect("queued");
    }
    producer.flush(WAIT).expect("flush");
    let delivered = producer.context().delivered.lock().unwrap().clone();
    assert_eq!(delivered, [Ok((0, 0)), Ok((0, 1)), Ok((0, 2))]);

    let consumer: BaseConsumer = config.clone().set("group.id", "rdk-sasl").create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("rdk-sasl", 0, Offset::Beginning).unwrap();
    consumer.assign(&tpl).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + WAIT;
    while got.len() < 3 && Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.expect("consume");
            got.push(format!("{}={}", m.offset(), String::from_utf8_lossy(m.payload().unwrap())));
        }
    }
    assert_eq!(got, ["0=plain-0", "1=plain-1", "2=plain-2"]);
    assert_eq!(refusals(&broker, "PLAIN", "carol"), 0);
}

#[test]
fn rdkafka_wrong_password_is_an_authentication_error() {
    let tmp = TempDir::new("sasl-rdk-wrong");
    let (broker, sasl) = start(tmp.path());
    let producer: BaseProducer<Seen> =
        rdkafka_sasl(sasl, "carol", "nope").create_with_context(Seen::default()).expect("producer");
    let deadline = Instant::now() + WAIT;
    let refusal = loop {
        producer.poll(Duration::from_millis(100));
        let errors = producer.context().errors.lock().unwrap();
        let found = errors
            .iter()
            .find(|(e, _)| matches!(e, KafkaError::Global(RDKafkaErrorCode::Authentication)));
        if let Some((_, reason)) = found {
            break reason.clone();
        }
        assert!(Instant::now() < deadline, "no authentication error; saw {:?}", *errors);
    };
    let said = "SASL authentication error: Authentication failed: Invalid username or password";
    assert!(refusal.contains(said), "{refusal}");
    assert!(refusals(&broker, "PLAIN", "carol") >= 1);
}

/// KIP-368: sessions of 1.5 s, and a producer sending across several of them re-authenticates
/// on its open connection; the broker never has to close it for an ended session.
#[test]
fn rdkafka_reauthenticates_before_its_session_ends() {
    let tmp = TempDir::new("sasl-rdk-reauth");
    let (broker, sasl) = start_with(tmp.path(), &["connections.max.reauth.ms=1500"]);
    let config = rdkafka_sasl(sasl, "carol", "c-pw");
    let admin: AdminClient<DefaultClientContext> = config.create().expect("admin client");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let topic = NewTopic::new("rdk-reauth", 1, TopicReplication::Fixed(1));
    let created = block_on(admin.create_topics(&[topic], &opts), WAIT).expect("CreateTopics");
    assert_eq!(created, vec![Ok("rdk-reauth".to_string())]);
    // Its statistics count its connections and the SaslAuthenticate requests it sent.
    let producer: BaseProducer<Seen> = config
        .clone()
        .set("statistics.interval.ms", "100")
        .create_with_context(Seen::default())
        .expect("producer");
    // The scenario itself: records 2.5 s apart, past the 1.5 s sessions, serving the producer
    // meanwhile.
    let serve = |for_ms: u64| {
        let until = Instant::now() + Duration::from_millis(for_ms);
        while Instant::now() < until {
            producer.poll(Duration::from_millis(50));
        }
    };
    for i in 0..3 {
        if i > 0 {
            serve(2500);
        }
        let value = format!("reauth-{i}");
        let record = BaseRecord::to("rdk-reauth").key("carol").payload(&value);
        producer.send(record).map_err(|(e, _)| e).expect("queued");
        producer.flush(WAIT).expect("flush");
    }
    let delivered = producer.context().delivered.lock().unwrap().clone();
    assert_eq!(delivered, [Ok((0, 0)), Ok((0, 1)), Ok((0, 2))]);
    // Statistics come every 100 ms: one after the last send is what is asserted.
    serve(300);
    let auths = producer.context().auths.lock().unwrap().clone();
    // Node 1: connected once, authenticated at least three times over 5 s of 1.5 s sessions.
    assert!(
        matches!(auths.as_slice(), [(1, 1, n)] if *n >= 3),
        "(node, connects, SaslAuthenticate sent): {auths:?}"
    );
    let ended: Vec<String> =
        broker.logs.lines().into_iter().filter(|l| l.contains("session's lifetime")).collect();
    assert!(ended.is_empty(), "{ended:#?}");
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/// Runs `cmd` to completion within `PROCESS_TIMEOUT`; its stdout lines, or a panic with its
/// output and the broker's log.
fn run(broker: &Broker, cmd: &mut Command) -> Vec<String> {
    clients::run_bounded(cmd, PROCESS_TIMEOUT, || broker.logs.lines().join("\n"))
}

/// Runs SaslSession against `sasl` with `extra` arguments.
fn java_session(broker: &Broker, sasl: SocketAddr, extra: &[&str]) -> Vec<String> {
    static CP: OnceLock<String> = OnceLock::new();
    let cp = CP.get_or_init(|| clients::compile_java("SaslSession.java", "java-sasl", "off"));
    run(broker, clients::java_command(cp, "SaslSession").arg(sasl.to_string()).args(extra))
}

#[test]
fn java_client_scram_admin_and_plain() {
    let tmp = TempDir::new("sasl-java");
    let (broker, sasl) = start(tmp.path());
    let lines = java_session(&broker, sasl, &[]);
    let expect = |prefix: &str, whole: &str| assert_eq!(line(&lines, prefix), whole);
    expect("scram-users ", "scram-users alice:SCRAM-SHA-512/4096");
    expect(
        "scram-users-altered ",
        "scram-users-altered alice:SCRAM-SHA-512/4096 bob:SCRAM-SHA-256/8192",
    );
    expect("delete-missing ", "delete-missing ResourceNotFoundException");
    expect("produced alice ", "produced alice [0, 1, 2]");
    expect("consumed alice ", "consumed alice [0=alice-0, 1=alice-1, 2=alice-2] committed=3");
    expect("produced bob ", "produced bob [3, 4, 5]");
    expect(
        "consumed bob ",
        "consumed bob [0=alice-0, 1=alice-1, 2=alice-2, 3=bob-0, 4=bob-1, 5=bob-2] committed=6",
    );
    expect("produced carol ", "produced carol [6, 7, 8]");
    expect(
        "consumed carol ",
        "consumed carol [0=alice-0, 1=alice-1, 2=alice-2, 3=bob-0, 4=bob-1, 5=bob-2, \
         6=carol-0, 7=carol-1, 8=carol-2] committed=9",
    );
    let scram = |m: &str| {
        format!(
            "SaslAuthenticationException: Authentication failed during authentication due to \
             invalid credentials with SASL mechanism {m}"
        )
    };
    expect(
        "wrong SCRAM-SHA-512 alice ",
        &format!("wrong SCRAM-SHA-512 alice {}", scram("SCRAM-SHA-512")),
    );
    expect(
        "wrong SCRAM-SHA-256 bob ",
        &format!("wrong SCRAM-SHA-256 bob {}", scram("SCRAM-SHA-256")),
    );
    // alice has no SCRAM-SHA-256 credential: refused the same way as a wrong password.
    expect(
        "wrong SCRAM-SHA-256 alice ",
        &format!("wrong SCRAM-SHA-256 alice {}", scram("SCRAM-SHA-256")),
    );
    expect(
        "wrong PLAIN carol ",
        "wrong PLAIN carol SaslAuthenticationException: Authentication failed: Invalid username \
         or password",
    );
    assert_eq!(lines.last().map(String::as_str), Some("done"));
}

/// KIP-368 with the client that implements it: sessions of 1.5 s, a producer sending across
/// several of them re-authenticates on its open connection, and the broker never has to close
/// it for an ended session.
#[test]
fn java_client_reauthenticates_before_its_session_ends() {
    let tmp = TempDir::new("sasl-java-reauth");
    let (broker, sasl) = start_with(tmp.path(), &["connections.max.reauth.ms=1500"]);
    let lines = java_session(&broker, sasl, &["reauth"]);
    assert_eq!(
        line(&lines, "reauth produced "),
        "reauth produced [0, 1, 2] reauthenticated=true failed=0"
    );
    let ended: Vec<String> =
        broker.logs.lines().into_iter().filter(|l| l.contains("session's lifetime")).collect();
    assert!(ended.is_empty(), "{ended:#?}");
}

// ---------------------------------------------------------------------------------------------
// kafka-python and kafkajs
// ---------------------------------------------------------------------------------------------

/// What each script is asked: two good logins, then the same users with wrong passwords.
const LOGINS: [&str; 4] = [
    "SCRAM-SHA-512:alice:alice-secret",
    "PLAIN:carol:c-pw",
    "wrong=SCRAM-SHA-512:alice:not-alice-secret",
    "wrong=PLAIN:carol:not-c-pw",
];

/// The Java admin (carol, a super user) adds bob's SCRAM credential and creates an ACL that lets
/// alice write and nothing else; bob logs in and is refused.
#[test]
fn java_admin_acls_allow_one_user_and_deny_another() {
    let tmp = TempDir::new("sasl-java-acls");
    let (broker, sasl) = start_with(
        tmp.path(),
        &[
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users=User:carol",
        ],
    );
    // The PLAINTEXT listener's User:ANONYMOUS may not add credentials: no ALTER on the cluster.
    let mut admin = broker.connect();
    let m = minikafka::security::scram::Mechanism::ScramSha512;
    let salted = m.salted_password(b"bob-secret", b"bob-salt", 4096);
    let req = kafka_protocol::messages::AlterUserScramCredentialsRequest::default().with_upsertions(
        vec![kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialUpsertion::default()
            .with_name(kafka_protocol::protocol::StrBytes::from_static_str("bob"))
            .with_mechanism(2)
            .with_iterations(4096)
            .with_salt(b"bob-salt".to_vec().into())
            .with_salted_password(salted.into())],
    );
    assert_eq!(admin.kp_call(0, &req).results[0].error_code, 31);
    drop(admin);
    let lines = java_session(&broker, sasl, &["acls"]);
    assert_eq!(
        line(&lines, "acls "),
        "acls (pattern=ResourcePattern(resourceType=TOPIC, name=java-acl, patternType=LITERAL), \
         entry=(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW))"
    );
    assert_eq!(line(&lines, "alice write "), "alice write offset 0");
    assert_eq!(line(&lines, "alice read "), "alice read TopicAuthorizationException");
    assert_eq!(line(&lines, "bob write "), "bob write TopicAuthorizationException");
}

/// librdkafka with SCRAM: the rdkafka crate here is built without OpenSSL, so SCRAM goes
/// through confluent-kafka, whose wheel carries a librdkafka built with it.
#[test]
fn librdkafka_scram_through_confluent_kafka() {
    let dir = clients::confluent_kafka_dir();
    let tmp = TempDir::new("sasl-ck");
    let (broker, sasl) = start(tmp.path());
    let lines = run(
        &broker,
        Command::new("python3")
            .env("PYTHONPATH", &dir)
            .arg(script("confluent_kafka_sasl.py"))
            .arg(sasl.to_string())
            .args([
                "SCRAM-SHA-512:alice:alice-secret",
                "PLAIN:carol:c-pw",
                "wrong=SCRAM-SHA-512:alice:not-alice-secret",
                "wrong=PLAIN:carol:not-c-pw",
            ]),
    );
    assert_eq!(
        line(&lines, "consumed SCRAM-SHA-512 "),
        "consumed SCRAM-SHA-512 alice 0=SCRAM-SHA-512-0 1=SCRAM-SHA-512-1 2=SCRAM-SHA-512-2"
    );
    assert_eq!(
        line(&lines, "consumed PLAIN "),
        "consumed PLAIN carol 0=PLAIN-0 1=PLAIN-1 2=PLAIN-2"
    );
    let scram = line(&lines, "wrong SCRAM-SHA-512 ");
    assert!(
        scram.contains("Authentication failed during authentication due to invalid credentials"),
        "{scram}"
    );
    let plain = line(&lines, "wrong PLAIN ");
    assert!(plain.contains("Invalid username or password"), "{plain}");
    assert_eq!(lines.last().map(String::as_str), Some("done"));
}

#[test]
fn kafka_python_scram_and_plain() {
    let dir = clients::kafka_python_dir();
    let tmp = TempDir::new("sasl-py");
    let (broker, sasl) = start(tmp.path());
    let lines = run(
        &broker,
        Command::new("python3")
            .env("PYTHONPATH", &dir)
            .arg(script("kafka_python_sasl.py"))
            .arg(sasl.to_string())
            .args(LOGINS),
    );
    assert_eq!(
        line(&lines, "consumed SCRAM-SHA-512 "),
        "consumed SCRAM-SHA-512 alice 0=SCRAM-SHA-512-0 1=SCRAM-SHA-512-1 2=SCRAM-SHA-512-2"
    );
    assert_eq!(
        line(&lines, "consumed PLAIN "),
        "consumed PLAIN carol 0=PLAIN-0 1=PLAIN-1 2=PLAIN-2"
    );
    // kafka-python gives up on a refused bootstrap with a timeout (and may miss the refusal
    // itself, see the script): that it was refused, and why, is in the broker's log.
    for m in ["SCRAM-SHA-512", "PLAIN"] {
        let l = line(&lines, &format!("wrong {m} "));
        assert!(
            l.ends_with(" KafkaTimeoutError") || l.ends_with(" SaslAuthenticationFailedError"),
            "{l}"
        );
    }
    assert!(refusals(&broker, "SCRAM-SHA-512", "alice") >= 1);
    assert!(refusals(&broker, "PLAIN", "carol") >= 1);
    assert_eq!(lines.last().map(String::as_str), Some("done"));
}

/// Runs kafkajs_sasl.js against `sasl` with `args`, kafkajs installed first.
fn kafkajs(broker: &Broker, sasl: SocketAddr, args: &[&str]) -> Vec<String> {
    let dir = clients::kafkajs_dir();
    run(
        broker,
        Command::new("node")
            .env("NODE_PATH", dir.join("node_modules"))
            .arg(script("kafkajs_sasl.js"))
            .arg(sasl.to_string())
            .args(args),
    )
}

#[test]
fn kafkajs_scram_and_plain() {
    let tmp = TempDir::new("sasl-js");
    let (broker, sasl) = start(tmp.path());
    let lines = kafkajs(&broker, sasl, &LOGINS);
    assert_eq!(
        line(&lines, "{\"consumed\":\"SCRAM-SHA-512\""),
        r#"{"consumed":"SCRAM-SHA-512","user":"alice","records":["0=SCRAM-SHA-512-0","1=SCRAM-SHA-512-1","2=SCRAM-SHA-512-2"]}"#
    );
    assert_eq!(
        line(&lines, "{\"consumed\":\"PLAIN\""),
        r#"{"consumed":"PLAIN","user":"carol","records":["0=PLAIN-0","1=PLAIN-1","2=PLAIN-2"]}"#
    );
    assert_eq!(
        line(&lines, "{\"wrong\":\"SCRAM-SHA-512\""),
        r#"{"wrong":"SCRAM-SHA-512","error":"KafkaJSSASLAuthenticationError","message":"SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"}"#
    );
    assert_eq!(
        line(&lines, "{\"wrong\":\"PLAIN\""),
        r#"{"wrong":"PLAIN","error":"KafkaJSSASLAuthenticationError","message":"SASL PLAIN authentication failed: Authentication failed: Invalid username or password"}"#
    );
    assert_eq!(lines.last().map(String::as_str), Some(r#"{"done":true}"#));
}

/// KIP-368 with kafkajs: sessions of 1.5 s, and a producer sending across several of them
/// authenticates again on its connection, which the broker never has to close.
#[test]
fn kafkajs_reauthenticates_before_its_session_ends() {
    let tmp = TempDir::new("sasl-js-reauth");
    let (broker, sasl) = start_with(tmp.path(), &["connections.max.reauth.ms=1500"]);
    let args = ["reauth=SCRAM-SHA-512:alice:alice-secret", "reauth=PLAIN:carol:c-pw"];
    let lines = kafkajs(&broker, sasl, &args);
    assert_eq!(
        line(&lines, "{\"reauth\":\"SCRAM-SHA-512\""),
        r#"{"reauth":"SCRAM-SHA-512","offsets":["0","1","2"],"renewed":true}"#
    );
    assert_eq!(
        line(&lines, "{\"reauth\":\"PLAIN\""),
        r#"{"reauth":"PLAIN","offsets":["3","4","5"],"renewed":true}"#
    );
    let ended: Vec<String> =
        broker.logs.lines().into_iter().filter(|l| l.contains("session's lifetime")).collect();
    assert!(ended.is_empty(), "{ended:#?}");
}
