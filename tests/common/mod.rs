//! Shared harness for the integration tests: runs the real `minikafka` binary on an ephemeral
//! port with a temporary log directory, and talks to it over TCP with a small hand-written Kafka
//! client (frames, request builders, response decoders). `kafka-protocol` serves as an
//! independent codec oracle where a test wants a second opinion.
#![allow(dead_code)]

pub mod clients;
pub mod kafka;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use minikafka::records::{BatchBuilder, Header};

pub const PRODUCE: i16 = 0;
pub const FETCH: i16 = 1;
pub const API_VERSIONS: i16 = 18;
pub const DESCRIBE_TOPIC_PARTITIONS: i16 = 75;

pub const NONE: i16 = 0;
pub const OFFSET_OUT_OF_RANGE: i16 = 1;
pub const CORRUPT_MESSAGE: i16 = 2;
pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
pub const MESSAGE_TOO_LARGE: i16 = 10;
pub const UNSUPPORTED_VERSION: i16 = 35;
pub const INVALID_REQUEST: i16 = 42;
pub const UNKNOWN_TOPIC_ID: i16 = 100;

/// What ApiVersions must advertise, in this order: (key, min, max).
pub const ADVERTISED: [(i16, i16, i16); 44] = [
    (PRODUCE, 3, 12),
    (FETCH, 4, 17),
    (2, 1, 10), // ListOffsets
    (3, 0, 12), // Metadata
    (8, 2, 9),  // OffsetCommit
    (9, 1, 9),  // OffsetFetch
    (10, 0, 6), // FindCoordinator
    (11, 0, 9), // JoinGroup
    (12, 0, 4), // Heartbeat
    (13, 0, 5), // LeaveGroup
    (14, 0, 5), // SyncGroup
    (15, 0, 6), // DescribeGroups
    (16, 0, 5), // ListGroups
    (17, 0, 1), // SaslHandshake
    (API_VERSIONS, 0, 4),
    (19, 2, 7), // CreateTopics
    (20, 1, 6), // DeleteTopics
    (21, 0, 2), // DeleteRecords
    (22, 0, 5), // InitProducerId
    (23, 2, 4), // OffsetForLeaderEpoch
    (24, 0, 5), // AddPartitionsToTxn
    (25, 0, 4), // AddOffsetsToTxn
    (26, 0, 5), // EndTxn
    (28, 0, 5), // TxnOffsetCommit
    (29, 1, 3), // DescribeAcls
    (30, 1, 3), // CreateAcls
    (31, 1, 3), // DeleteAcls
    (32, 1, 4), // DescribeConfigs
    (33, 0, 2), // AlterConfigs
    (35, 1, 4), // DescribeLogDirs
    (36, 0, 2), // SaslAuthenticate
    (37, 0, 3), // CreatePartitions
    (42, 0, 2), // DeleteGroups
    (44, 0, 1), // IncrementalAlterConfigs
    (47, 0, 0), // OffsetDelete
    (50, 0, 0), // DescribeUserScramCredentials
    (51, 0, 0), // AlterUserScramCredentials
    (60, 0, 2), // DescribeCluster
    (61, 0, 0), // DescribeProducers
    (65, 0, 0), // DescribeTransactions
    (66, 0, 2), // ListTransactions
    (68, 0, 1), // ConsumerGroupHeartbeat
    (69, 0, 1), // ConsumerGroupDescribe
    (DESCRIBE_TOPIC_PARTITIONS, 0, 0),
];

/// Kafka's `topic_authorized_operations` for a topic when no authorizer is configured:
/// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
pub const ALL_TOPIC_OPERATIONS: i32 = 0x0df8;

/// How long the broker may take to print its ready line (the machine is shared with builds).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a test waits for any single response.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

pub const FIXTURE_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/kraft-combined-logs");
/// The id of topic `foo` in the fixture (`foo-0/partition.metadata`).
pub const FIXTURE_FOO_ID: &str = "v9meXjI1RVKB-NSvF0GXDA";

// ---------------------------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------------------------

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique directory under the system temp dir, removed (with its contents) on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "minikafka-it-{tag}-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside this directory (not created).
    pub fn join(&self, p: &str) -> PathBuf {
        self.path.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Copies a directory tree, making every copied file writable (the fixtures are read-only).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            let mut perms = fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            fs::set_permissions(&target, perms).unwrap();
        }
    }
}

/// A temp dir holding a writable copy of the shared fixture log directory.
pub fn fixture_copy() -> TempDir {
    let t = TempDir::new("fixture");
    copy_dir(Path::new(FIXTURE_DIR), t.path());
    t
}

pub fn fixture_foo_id() -> [u8; 16] {
    minikafka::uuid::from_base64(FIXTURE_FOO_ID).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Log directories
// ---------------------------------------------------------------------------------------------

/// Formats `dir` (node id 1) and creates the given topics; returns their ids in order.
pub fn make_log_dir(dir: &Path, topics: &[(&str, i32)]) -> Vec<[u8; 16]> {
    minikafka::metadata::format_log_dir(dir, 1).unwrap();
    topics.iter().map(|(name, n)| minikafka::metadata::add_topic(dir, name, *n).unwrap()).collect()
}

pub fn log_file(dir: &Path, topic: &str, partition: i32) -> PathBuf {
    dir.join(format!("{topic}-{partition}")).join("00000000000000000000.log")
}

/// The bytes of a partition's first segment, empty if the file does not exist.
pub fn read_log(dir: &Path, topic: &str, partition: i32) -> Vec<u8> {
    match fs::read(log_file(dir, topic, partition)) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("reading log of {topic}-{partition}: {e}"),
    }
}

/// Appends raw batch bytes to a partition's first segment (before the broker starts).
pub fn append_log(dir: &Path, topic: &str, partition: i32, bytes: &[u8]) {
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(dir, topic, partition))
        .unwrap();
    f.write_all(bytes).unwrap();
}

/// A fixed timestamp so that batches are reproducible.
pub const TS: i64 = 1_726_045_973_899;

/// A v2 batch at `base_offset` holding the given values (keys "k0", "k1", ...), with partition
/// leader epoch 0 as the course's tester sends it (and as the broker stamps it for a partition
/// at epoch 0).
pub fn batch(base_offset: i64, values: &[&[u8]]) -> Vec<u8> {
    let mut b = BatchBuilder::new(base_offset, TS).leader_epoch(0);
    for (i, v) in values.iter().enumerate() {
        let key = format!("k{i}");
        b.push(Some(key.as_bytes()), Some(v), &[]);
    }
    b.finish()
}

/// `n` batches of `per_batch` records each, with consecutive base offsets from 0; the values
/// carry `tag` so that different partitions hold different bytes.
pub fn batches(tag: &str, n: usize, per_batch: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut offset = 0i64;
    for i in 0..n {
        let values: Vec<Vec<u8>> =
            (0..per_batch).map(|r| format!("{tag} batch {i} record {r}").into_bytes()).collect();
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        out.push(batch(offset, &refs));
        offset += per_batch as i64;
    }
    out
}

/// A batch with its base offset overwritten (what the broker stores for an assigned offset).
pub fn with_base_offset(batch: &[u8], base_offset: i64) -> Vec<u8> {
    let mut b = batch.to_vec();
    b[..8].copy_from_slice(&base_offset.to_be_bytes());
    b
}

/// A produced batch as the broker stores it: its base offset assigned and the partition's
/// leader epoch stamped in, both outside the CRC, as a Kafka leader does.
pub fn as_stored(batch: &[u8], base_offset: i64, leader_epoch: i32) -> Vec<u8> {
    let mut b = with_base_offset(batch, base_offset);
    b[12..16].copy_from_slice(&leader_epoch.to_be_bytes());
    b
}

/// Splits concatenated batches on their length fields (no CRC check).
pub fn split_batches(mut b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !b.is_empty() {
        assert!(b.len() >= 12, "trailing {} bytes are not a batch", b.len());
        let len = i32::from_be_bytes(b[8..12].try_into().unwrap());
        assert!(len > 0, "batch length {len}");
        let total = len as usize + 12;
        assert!(total <= b.len(), "batch of {total} bytes runs past {} bytes", b.len());
        out.push(&b[..total]);
        b = &b[total..];
    }
    out
}

pub fn base_offset_of(batch: &[u8]) -> i64 {
    i64::from_be_bytes(batch[..8].try_into().unwrap())
}

// ---------------------------------------------------------------------------------------------
// The broker process
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct LogState {
    lines: Vec<String>,
    closed: bool,
}

/// The broker's stderr, collected by a thread for the process's whole life.
#[derive(Clone, Default)]
pub struct Logs(Arc<(Mutex<LogState>, Condvar)>);

impl Logs {
    pub fn lines(&self) -> Vec<String> {
        self.0 .0.lock().unwrap().lines.clone()
    }

    /// Waits until a line satisfies `pred` (looking at all lines so far, then at new ones);
    /// returns it, or `None` if the deadline passes or stderr closes first.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        self.wait_for_from(0, timeout, pred)
    }

    /// As [`Logs::wait_for`], looking only at lines from index `from` on.
    pub fn wait_for_from(
        &self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.0;
        let mut st = lock.lock().unwrap();
        let mut seen = from.min(st.lines.len());
        loop {
            if let Some(l) = st.lines[seen..].iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            seen = st.lines.len();
            if st.closed {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Lines logged from index `from` on.
    pub fn since(&self, from: usize) -> Vec<String> {
        let st = self.0 .0.lock().unwrap();
        st.lines.get(from..).map(<[String]>::to_vec).unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.0 .0.lock().unwrap().lines.len()
    }

    fn spawn_reader(&self, stderr: impl Read + Send + 'static) {
        let logs = self.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = r.read_until(b'\n', &mut line).unwrap_or(0);
                let (lock, cv) = &*logs.0;
                let mut st = lock.lock().unwrap();
                if n == 0 {
                    st.closed = true;
                    cv.notify_all();
                    return;
                }
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                if std::env::var_os("MINIKAFKA_IT_ECHO").is_some() {
                    eprintln!("[broker] {text}");
                }
                st.lines.push(text);
                cv.notify_all();
            }
        });
    }
}

/// The arguments of a broker on an ephemeral loopback port over `log_dir`, plus `overrides`.
fn override_args(log_dir: &Path, overrides: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--override".into(),
        "listeners=PLAINTEXT://127.0.0.1:0".into(),
        "--override".into(),
        format!("log.dirs={}", log_dir.display()).into(),
    ];
    for o in overrides {
        args.push("--override".into());
        args.push(o.into());
    }
    args
}

/// Creates a one-partition topic with these configs by CreateTopics v7, asserting success;
/// returns its topic id.
pub fn create_topic_with(c: &mut Client, name: &str, configs: &[(&str, &str)]) -> [u8; 16] {
    use kafka_protocol::messages::create_topics_request as ctq;
    use kafka_protocol::protocol::StrBytes;
    let s = |v: &str| StrBytes::from_string(v.to_string());
    let configs = configs
        .iter()
        .map(|(k, v)| ctq::CreatableTopicConfig::default().with_name(s(k)).with_value(Some(s(v))))
        .collect();
    let req = kafka_protocol::messages::CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![ctq::CreatableTopic::default()
            .with_name(kafka_protocol::messages::TopicName(s(name)))
            .with_num_partitions(1)
            .with_replication_factor(1)
            .with_configs(configs)]);
    let resp = c.kp_call(7, &req);
    assert_eq!(resp.topics[0].error_code, NONE, "create {name}: {resp:?}");
    *resp.topics[0].topic_id.as_bytes()
}

/// IncrementalAlterConfigs of one resource at `version`; returns its error code and message.
pub fn incremental_alter_configs(
    c: &mut Client,
    version: i16,
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> (i16, Option<String>) {
    use kafka_protocol::messages::incremental_alter_configs_request as iacq;
    use kafka_protocol::protocol::StrBytes;
    let s = |v: &str| StrBytes::from_string(v.to_string());
    let configs = ops
        .iter()
        .map(|(k, op, v)| {
            iacq::AlterableConfig::default()
                .with_name(s(k))
                .with_config_operation(*op)
                .with_value(v.map(s))
        })
        .collect();
    let req = kafka_protocol::messages::IncrementalAlterConfigsRequest::default()
        .with_resources(vec![iacq::AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configs(configs)])
        .with_validate_only(validate_only);
    let r = c.kp_call(version, &req);
    assert_eq!(r.responses.len(), 1);
    assert_eq!(
        (r.responses[0].resource_type, r.responses[0].resource_name.as_str()),
        (resource_type, name)
    );
    (r.responses[0].error_code, r.responses[0].error_message.as_ref().map(|m| m.to_string()))
}

/// A running broker; killed (and reaped) on drop.
pub struct Broker {
    child: Child,
    pub addr: SocketAddr,
    pub logs: Logs,
}

impl Broker {
    /// Starts the broker on 127.0.0.1:0 with `log_dir`, configured by `--override`s only.
    pub fn start(log_dir: &Path) -> Broker {
        Broker::start_with(log_dir, &[])
    }

    /// As [`Broker::start`], with extra `key=value` overrides.
    pub fn start_with(log_dir: &Path, overrides: &[&str]) -> Broker {
        Broker::start_args(override_args(log_dir, overrides))
    }

    /// As [`Broker::start_with`], finalizing features (`name=level`) as `--feature` does.
    pub fn start_with_features(log_dir: &Path, overrides: &[&str], features: &[&str]) -> Broker {
        let mut args = override_args(log_dir, overrides);
        for f in features {
            args.push("--feature".into());
            args.push(f.into());
        }
        Broker::start_args(args)
    }

    /// Starts the broker with exactly these arguments and waits for its ready line.
    pub fn start_args(args: Vec<OsString>) -> Broker {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_minikafka"));
        cmd.args(&args);
        Broker::start_command(cmd, &args)
    }

    /// As [`Broker::start_with`], logging by `rust_log` (an env_logger filter such as
    /// `info,minikafka::storage=debug`) to see what the broker does but does not answer.
    pub fn start_logging(log_dir: &Path, overrides: &[&str], rust_log: &str) -> Broker {
        let args = override_args(log_dir, overrides);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_minikafka"));
        cmd.args(&args).env("RUST_LOG", rust_log);
        Broker::start_command(cmd, &args)
    }

    /// Starts the broker with files limited to `kib` KiB (`ulimit -f`, SIGXFSZ ignored), so
    /// that writes past it fail the way a full disk fails them.
    pub fn start_with_file_limit(log_dir: &Path, kib: u64) -> Broker {
        let args: Vec<OsString> = [
            "--override".into(),
            "listeners=PLAINTEXT://127.0.0.1:0".into(),
            "--override".into(),
            OsString::from(format!("log.dirs={}", log_dir.display())),
        ]
        .to_vec();
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(r#"trap '' XFSZ; ulimit -f "$1"; shift; exec "$@""#)
            .arg("bash")
            .arg(kib.to_string())
            .arg(env!("CARGO_BIN_EXE_minikafka"))
            .args(&args);
        Broker::start_command(cmd, &args)
    }

    /// As [`Broker::start_with`], run by `prefix`: a program and its arguments that ends by
    /// exec'ing the rest of its command line (the broker and its arguments).
    pub fn start_prefixed(prefix: &[&str], log_dir: &Path, overrides: &[&str]) -> Broker {
        let args = override_args(log_dir, overrides);
        let mut cmd = Command::new(prefix[0]);
        cmd.args(&prefix[1..]).arg(env!("CARGO_BIN_EXE_minikafka")).args(&args);
        Broker::start_command(cmd, &args)
    }

    /// Starts the broker with its descriptor limit raised to the hard limit (`ulimit -n`), for
    /// tests that hold thousands of connections.
    pub fn start_with_max_files(log_dir: &Path, overrides: &[&str]) -> Broker {
        let raise = r#"ulimit -n "$(ulimit -Hn)"; exec "$@""#;
        Broker::start_prefixed(&["bash", "-c", raise, "bash"], log_dir, overrides)
    }

    /// The broker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts the broker with `log_dir` on a tmpfs of `kib` KiB, mounted in a user and mount
    /// namespace of its own (so that it works unprivileged too), where writes fail with
    /// ENOSPC once it is full. The files are visible to the broker only.
    pub fn start_on_tmpfs(log_dir: &Path, kib: u64, overrides: &[&str]) -> Broker {
        let args = override_args(log_dir, overrides);
        let mut cmd = Command::new("unshare");
        cmd.args(["--user", "--map-root-user", "--mount", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o size="$1"k tmpfs "$2" && shift 2 && exec "$@""#)
            .arg("sh")
            .arg(kib.to_string())
            .arg(log_dir)
            .arg(env!("CARGO_BIN_EXE_minikafka"))
            .args(&args);
        Broker::start_command(cmd, &args)
    }

    fn start_command(mut cmd: Command, args: &[OsString]) -> Broker {
        if !cmd.get_envs().any(|(k, _)| k == "RUST_LOG") {
            cmd.env("RUST_LOG", "info");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn minikafka");
        let logs = Logs::default();
        logs.spawn_reader(child.stderr.take().unwrap());
        let ready = logs.wait_for(STARTUP_TIMEOUT, |l| l.contains("listening on "));
        let Some(line) = ready else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "broker did not log 'listening on' within {STARTUP_TIMEOUT:?} (args {args:?}, \
                 exit {status:?}); stderr:\n{}",
                logs.lines().join("\n")
            );
        };
        let addr = parse_listening(&line)
            .unwrap_or_else(|| panic!("cannot parse the address in ready line {line:?}"));
        Broker { child, addr, logs }
    }

    /// The address of listener `name` (one besides the first), as the broker logs it before
    /// its ready line: `listener NAME on ADDR (...)`.
    pub fn listener_addr(&self, name: &str) -> SocketAddr {
        let what = format!("listener {name} on ");
        let line = self
            .logs
            .lines()
            .into_iter()
            .find(|l| l.contains(&what))
            .unwrap_or_else(|| panic!("no '{what}' line before the ready line"));
        let at = &line[line.find(&what).unwrap() + what.len()..];
        at.split_whitespace().next().and_then(|a| a.parse().ok()).expect("an address")
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// The broker's resident memory in KiB (VmRSS from /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// `true` if the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Panics with the broker's log if it has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("broker exited ({status}); stderr:\n{}", self.logs.lines().join("\n"));
        }
    }

    /// Asks the broker to stop (SIGTERM, a clean shutdown) and waits for it to exit.
    pub fn stop(mut self) -> ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("broker did not stop within {STARTUP_TIMEOUT:?} of SIGTERM");
    }

    /// Kills the process and waits for it.
    pub fn kill(mut self) -> ExitStatus {
        let _ = self.child.kill();
        self.child.wait().unwrap()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses `... listening on 127.0.0.1:PORT ...`.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    let token = rest.split_whitespace().next()?;
    let token = token.trim_end_matches(|c: char| !c.is_ascii_digit());
    let token = token.trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '['));
    token.parse().ok()
}

/// A `server.properties` shaped like the course tester's, pointing at `log_dir`, with an
/// ephemeral listener.
pub fn write_server_properties(at: &Path, log_dir: &Path, listeners: &str) {
    let text = format!(
        "# written by the minikafka integration tests, after the course's server.properties\n\
         process.roles=broker,controller\n\
         node.id=1\n\
         controller.quorum.voters=1@localhost:9093\n\
         listeners={listeners}\n\
         inter.broker.listener.name=PLAINTEXT\n\
         controller.listener.names=CONTROLLER\n\
         listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
         num.network.threads=3\n\
         num.io.threads=8\n\
         socket.send.buffer.bytes=102400\n\
         socket.receive.buffer.bytes=102400\n\
         socket.request.max.bytes=104857600\n\
         log.dirs={}\n\
         num.partitions=1\n\
         offsets.topic.replication.factor=1\n\
         transaction.state.log.replication.factor=1\n\
         log.retention.hours=168\n\
         log.segment.bytes=1073741824\n",
        log_dir.display()
    );
    fs::write(at, text).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// A big-endian Kafka encoder.
#[derive(Default, Debug, Clone)]
pub struct W(pub Vec<u8>);

impl W {
    pub fn new() -> W {
        W(Vec::new())
    }
    pub fn i8(&mut self, v: i8) -> &mut Self {
        self.0.push(v as u8);
        self
    }
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.0.push(v as u8);
        self
    }
    pub fn uuid(&mut self, v: &[u8; 16]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn uvarint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
        self
    }
    /// int16-length string.
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.i16(s.len() as i16).raw(s.as_bytes())
    }
    pub fn nullable_string(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.string(s),
            None => self.i16(-1),
        }
    }
    pub fn compact_string(&mut self, s: &str) -> &mut Self {
        self.uvarint(s.len() as u64 + 1).raw(s.as_bytes())
    }
    pub fn compact_nullable_string(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.compact_string(s),
            None => self.uvarint(0),
        }
    }
    pub fn compact_bytes(&mut self, b: Option<&[u8]>) -> &mut Self {
        match b {
            Some(b) => self.uvarint(b.len() as u64 + 1).raw(b),
            None => self.uvarint(0),
        }
    }
    pub fn compact_len(&mut self, n: usize) -> &mut Self {
        self.uvarint(n as u64 + 1)
    }
    /// An empty tagged-field section.
    pub fn tags(&mut self) -> &mut Self {
        self.uvarint(0)
    }
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Whether `api_key` at `version` uses the flexible encoding (request header v2).
pub fn is_flexible(api_key: i16, version: i16) -> bool {
    // The first flexible version of each API, from Kafka's message schemas.
    let first = match api_key {
        PRODUCE => 9,
        FETCH => 12,
        2 => 6,  // ListOffsets
        3 => 9,  // Metadata
        8 => 8,  // OffsetCommit
        9 => 6,  // OffsetFetch
        10 => 3, // FindCoordinator
        11 => 6, // JoinGroup
        12 => 4, // Heartbeat
        13 => 4, // LeaveGroup
        14 => 4, // SyncGroup
        15 => 5, // DescribeGroups
        16 => 3, // ListGroups
        API_VERSIONS => 3,
        19 => 5,           // CreateTopics
        20 => 4,           // DeleteTopics
        21 => 2,           // DeleteRecords
        22 => 2,           // InitProducerId
        23 => 4,           // OffsetForLeaderEpoch
        24..=26 | 28 => 3, // AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit
        29..=31 => 2,      // DescribeAcls, CreateAcls, DeleteAcls
        32 => 4,           // DescribeConfigs
        37 => 2,           // CreatePartitions
        42 => 2,           // DeleteGroups
        33 => 2,           // AlterConfigs
        44 => 1,           // IncrementalAlterConfigs
        35 => 2,           // DescribeLogDirs
        36 => 2,           // SaslAuthenticate
        50 | 51 => 0,      // DescribeUserScramCredentials, AlterUserScramCredentials
        // DescribeCluster, DescribeProducers, DescribeTransactions, ListTransactions
        60 | 61 | 65 | 66 | DESCRIBE_TOPIC_PARTITIONS => 0,
        68 | 69 => 0, // ConsumerGroupHeartbeat, ConsumerGroupDescribe
        _ => i16::MAX,
    };
    version >= first
}

/// Response header v1 (with a tagged-field byte) for flexible versions, except ApiVersions.
pub fn response_header_has_tags(api_key: i16, version: i16) -> bool {
    api_key != API_VERSIONS && is_flexible(api_key, version)
}

pub const CLIENT_ID: &str = "minikafka-it";

/// A whole request frame (size prefix included) with request header v1 or v2.
pub fn frame(api_key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    frame_with_client(api_key, version, correlation_id, Some(CLIENT_ID), body)
}

pub fn frame_with_client(
    api_key: i16,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut w = W::new();
    w.i32(0).i16(api_key).i16(version).i32(correlation_id).nullable_string(client_id);
    if is_flexible(api_key, version) {
        w.tags();
    }
    w.raw(body);
    let mut b = w.take();
    let size = (b.len() - 4) as i32;
    b[..4].copy_from_slice(&size.to_be_bytes());
    b
}

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

pub fn api_versions_body(version: i16) -> Vec<u8> {
    let mut w = W::new();
    if version >= 3 {
        w.compact_string("minikafka-it").compact_string("0.1.0").tags();
    }
    w.take()
}

pub fn dtp_body(topics: &[&str], limit: i32, cursor: Option<(&str, i32)>) -> Vec<u8> {
    let mut w = W::new();
    w.compact_len(topics.len());
    for t in topics {
        w.compact_string(t).tags();
    }
    w.i32(limit);
    match cursor {
        None => w.i8(-1),
        Some((name, p)) => w.i8(1).compact_string(name).i32(p).tags(),
    };
    w.tags();
    w.take()
}

#[derive(Debug, Clone)]
pub struct FetchPartitionReq {
    pub partition: i32,
    pub fetch_offset: i64,
    pub partition_max_bytes: i32,
}

pub fn fp(partition: i32, fetch_offset: i64) -> FetchPartitionReq {
    FetchPartitionReq { partition, fetch_offset, partition_max_bytes: 1 << 20 }
}

#[derive(Debug, Clone)]
pub struct FetchReq {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub isolation_level: i8,
    pub session_id: i32,
    pub session_epoch: i32,
    pub topics: Vec<([u8; 16], Vec<FetchPartitionReq>)>,
}

impl Default for FetchReq {
    fn default() -> Self {
        FetchReq {
            max_wait_ms: 500,
            min_bytes: 1,
            max_bytes: 52_428_800,
            isolation_level: 0,
            session_id: 0,
            session_epoch: -1,
            topics: Vec::new(),
        }
    }
}

impl FetchReq {
    pub fn topic(mut self, id: [u8; 16], partitions: Vec<FetchPartitionReq>) -> Self {
        self.topics.push((id, partitions));
        self
    }

    /// The v16 body.
    pub fn v16(&self) -> Vec<u8> {
        let mut w = W::new();
        w.i32(self.max_wait_ms)
            .i32(self.min_bytes)
            .i32(self.max_bytes)
            .i8(self.isolation_level)
            .i32(self.session_id)
            .i32(self.session_epoch);
        w.compact_len(self.topics.len());
        for (id, parts) in &self.topics {
            w.uuid(id).compact_len(parts.len());
            for p in parts {
                w.i32(p.partition)
                    .i32(-1) // current_leader_epoch
                    .i64(p.fetch_offset)
                    .i32(-1) // last_fetched_epoch
                    .i64(-1) // log_start_offset
                    .i32(p.partition_max_bytes)
                    .tags();
            }
            w.tags();
        }
        w.compact_len(0); // forgotten_topics_data
        w.compact_string(""); // rack_id
        w.tags();
        w.take()
    }
}

/// (partition index, records) for a Produce request.
pub type ProducePart = (i32, Option<Vec<u8>>);

pub fn produce_v11_body(acks: i16, topics: &[(&str, Vec<ProducePart>)]) -> Vec<u8> {
    let mut w = W::new();
    w.compact_nullable_string(None).i16(acks).i32(5000);
    w.compact_len(topics.len());
    for (name, parts) in topics {
        w.compact_string(name).compact_len(parts.len());
        for (index, records) in parts {
            w.i32(*index).compact_bytes(records.as_deref()).tags();
        }
        w.tags();
    }
    w.tags();
    w.take()
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A big-endian Kafka decoder that panics, with its position, on short input.
pub struct R<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> R<'a> {
    pub fn new(b: &'a [u8]) -> R<'a> {
        R { b, pos: 0 }
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(
            self.remaining() >= n,
            "response too short: need {n} bytes at offset {}, have {} (body {:02x?})",
            self.pos,
            self.remaining(),
            self.b
        );
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        s
    }
    pub fn i8(&mut self) -> i8 {
        self.take(1)[0] as i8
    }
    pub fn i16(&mut self) -> i16 {
        i16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    pub fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    pub fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    pub fn bool(&mut self) -> bool {
        let b = self.i8();
        assert!(b == 0 || b == 1, "boolean byte {b} at offset {}", self.pos - 1);
        b == 1
    }
    pub fn uuid(&mut self) -> [u8; 16] {
        self.take(16).try_into().unwrap()
    }
    pub fn uvarint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return v;
            }
        }
        panic!("varint too long at offset {}", self.pos);
    }
    pub fn string(&mut self) -> String {
        let n = self.i16();
        assert!(n >= 0, "null string where a string is required");
        String::from_utf8(self.take(n as usize).to_vec()).unwrap()
    }
    pub fn compact_nullable_string(&mut self) -> Option<String> {
        match self.uvarint() {
            0 => None,
            n => Some(String::from_utf8(self.take(n as usize - 1).to_vec()).unwrap()),
        }
    }
    pub fn compact_string(&mut self) -> String {
        self.compact_nullable_string().expect("null compact string where one is required")
    }
    pub fn compact_nullable_bytes(&mut self) -> Option<Vec<u8>> {
        match self.uvarint() {
            0 => None,
            n => Some(self.take(n as usize - 1).to_vec()),
        }
    }
    /// Compact array length; `None` for null.
    pub fn compact_len(&mut self) -> Option<usize> {
        match self.uvarint() {
            0 => None,
            n => Some(n as usize - 1),
        }
    }
    pub fn compact_i32s(&mut self) -> Option<Vec<i32>> {
        let n = self.compact_len()?;
        Some((0..n).map(|_| self.i32()).collect())
    }
    /// Reads a tagged-field section, returning the fields by tag.
    pub fn tags(&mut self) -> BTreeMap<u64, Vec<u8>> {
        let n = self.uvarint();
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let tag = self.uvarint();
            let len = self.uvarint() as usize;
            out.insert(tag, self.take(len).to_vec());
        }
        out
    }
    /// Reads a tagged-field section that must be empty.
    pub fn no_tags(&mut self) {
        let at = self.pos;
        let t = self.tags();
        assert!(t.is_empty(), "unexpected tagged fields {t:?} at offset {at}");
    }
    /// Asserts that every byte was consumed.
    pub fn done(&self) {
        assert_eq!(
            self.remaining(),
            0,
            "{} trailing bytes after the last field (body {:02x?})",
            self.remaining(),
            self.b
        );
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiVersionsResp {
    pub error_code: i16,
    pub api_keys: Vec<(i16, i16, i16)>,
    pub throttle_time_ms: Option<i32>,
}

/// Decodes an ApiVersions response body of `version` (v0 for the UNSUPPORTED_VERSION answer).
pub fn decode_api_versions(body: &[u8], version: i16) -> ApiVersionsResp {
    let mut r = R::new(body);
    let error_code = r.i16();
    let mut api_keys = Vec::new();
    if version >= 3 {
        let n = r.compact_len().expect("api_keys is not nullable");
        for _ in 0..n {
            api_keys.push((r.i16(), r.i16(), r.i16()));
            r.no_tags();
        }
    } else {
        let n = r.i32();
        assert!(n >= 0, "api_keys count {n}");
        for _ in 0..n {
            api_keys.push((r.i16(), r.i16(), r.i16()));
        }
    }
    let throttle_time_ms = (version >= 1).then(|| r.i32());
    if version >= 3 {
        r.no_tags();
    }
    r.done();
    ApiVersionsResp { error_code, api_keys, throttle_time_ms }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DtpPartition {
    pub error_code: i16,
    pub partition_index: i32,
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub replica_nodes: Vec<i32>,
    pub isr_nodes: Vec<i32>,
    pub eligible_leader_replicas: Option<Vec<i32>>,
    pub last_known_elr: Option<Vec<i32>>,
    pub offline_replicas: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DtpTopic {
    pub error_code: i16,
    pub name: Option<String>,
    pub topic_id: [u8; 16],
    pub is_internal: bool,
    pub partitions: Vec<DtpPartition>,
    pub topic_authorized_operations: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DtpResp {
    pub throttle_time_ms: i32,
    pub topics: Vec<DtpTopic>,
    pub next_cursor: Option<(String, i32)>,
}

pub fn decode_dtp(body: &[u8]) -> DtpResp {
    let mut r = R::new(body);
    let throttle_time_ms = r.i32();
    let n = r.compact_len().expect("topics is not nullable");
    let mut topics = Vec::new();
    for _ in 0..n {
        let error_code = r.i16();
        let name = r.compact_nullable_string();
        let topic_id = r.uuid();
        let is_internal = r.bool();
        let np = r.compact_len().expect("partitions is not nullable");
        let mut partitions = Vec::new();
        for _ in 0..np {
            let p = DtpPartition {
                error_code: r.i16(),
                partition_index: r.i32(),
                leader_id: r.i32(),
                leader_epoch: r.i32(),
                replica_nodes: r.compact_i32s().expect("replica_nodes is not nullable"),
                isr_nodes: r.compact_i32s().expect("isr_nodes is not nullable"),
                eligible_leader_replicas: r.compact_i32s(),
                last_known_elr: r.compact_i32s(),
                offline_replicas: r.compact_i32s().expect("offline_replicas is not nullable"),
            };
            r.no_tags();
            partitions.push(p);
        }
        let topic_authorized_operations = r.i32();
        r.no_tags();
        topics.push(DtpTopic {
            error_code,
            name,
            topic_id,
            is_internal,
            partitions,
            topic_authorized_operations,
        });
    }
    let next_cursor = match r.i8() {
        -1 => None,
        1 => {
            let name = r.compact_string();
            let p = r.i32();
            r.no_tags();
            Some((name, p))
        }
        b => panic!("nullable struct marker {b}"),
    };
    r.no_tags();
    r.done();
    DtpResp { throttle_time_ms, topics, next_cursor }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FetchPartitionResp {
    pub partition_index: i32,
    pub error_code: i16,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    pub aborted_transactions: Option<Vec<(i64, i64)>>,
    pub preferred_read_replica: i32,
    pub records: Option<Vec<u8>>,
    pub tags: BTreeMap<u64, Vec<u8>>,
}

impl FetchPartitionResp {
    /// The records field's bytes; null and empty both read as "no records".
    pub fn records(&self) -> &[u8] {
        self.records.as_deref().unwrap_or(&[])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FetchTopicResp {
    pub topic_id: [u8; 16],
    pub partitions: Vec<FetchPartitionResp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FetchResp {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub session_id: i32,
    pub responses: Vec<FetchTopicResp>,
}

impl FetchResp {
    pub fn partition(&self, topic_id: &[u8; 16], index: i32) -> &FetchPartitionResp {
        let t = self.responses.iter().find(|t| &t.topic_id == topic_id).expect("topic in response");
        t.partitions.iter().find(|p| p.partition_index == index).expect("partition in response")
    }
}

pub fn decode_fetch_v16(body: &[u8]) -> FetchResp {
    let mut r = R::new(body);
    let throttle_time_ms = r.i32();
    let error_code = r.i16();
    let session_id = r.i32();
    let n = r.compact_len().expect("responses is not nullable");
    let mut responses = Vec::new();
    for _ in 0..n {
        let topic_id = r.uuid();
        let np = r.compact_len().expect("partitions is not nullable");
        let mut partitions = Vec::new();
        for _ in 0..np {
            let partition_index = r.i32();
            let error_code = r.i16();
            let high_watermark = r.i64();
            let last_stable_offset = r.i64();
            let log_start_offset = r.i64();
            let aborted_transactions = r.compact_len().map(|n| {
                (0..n)
                    .map(|_| {
                        let v = (r.i64(), r.i64());
                        r.no_tags();
                        v
                    })
                    .collect()
            });
            let preferred_read_replica = r.i32();
            let records = r.compact_nullable_bytes();
            let tags = r.tags();
            partitions.push(FetchPartitionResp {
                partition_index,
                error_code,
                high_watermark,
                last_stable_offset,
                log_start_offset,
                aborted_transactions,
                preferred_read_replica,
                records,
                tags,
            });
        }
        r.no_tags();
        responses.push(FetchTopicResp { topic_id, partitions });
    }
    r.tags(); // node_endpoints may ride here (tag 0)
    r.done();
    FetchResp { throttle_time_ms, error_code, session_id, responses }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProducePartitionResp {
    pub index: i32,
    pub error_code: i16,
    pub base_offset: i64,
    pub log_append_time_ms: i64,
    pub log_start_offset: i64,
    pub record_errors: Vec<(i32, Option<String>)>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProduceTopicResp {
    pub name: String,
    pub partitions: Vec<ProducePartitionResp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProduceResp {
    pub responses: Vec<ProduceTopicResp>,
    pub throttle_time_ms: i32,
}

impl ProduceResp {
    pub fn partition(&self, topic: &str, index: i32) -> &ProducePartitionResp {
        let t = self
            .responses
            .iter()
            .find(|t| t.name == topic)
            .unwrap_or_else(|| panic!("topic {topic} not in {self:?}"));
        t.partitions
            .iter()
            .find(|p| p.index == index)
            .unwrap_or_else(|| panic!("partition {index} of {topic} not in {self:?}"))
    }
}

pub fn decode_produce_v11(body: &[u8]) -> ProduceResp {
    let mut r = R::new(body);
    let n = r.compact_len().expect("responses is not nullable");
    let mut responses = Vec::new();
    for _ in 0..n {
        let name = r.compact_string();
        let np = r.compact_len().expect("partition_responses is not nullable");
        let mut partitions = Vec::new();
        for _ in 0..np {
            let index = r.i32();
            let error_code = r.i16();
            let base_offset = r.i64();
            let log_append_time_ms = r.i64();
            let log_start_offset = r.i64();
            let ne = r.compact_len().expect("record_errors is not nullable");
            let record_errors = (0..ne)
                .map(|_| {
                    let v = (r.i32(), r.compact_nullable_string());
                    r.no_tags();
                    v
                })
                .collect();
            let error_message = r.compact_nullable_string();
            r.tags(); // current_leader (tag 0) is allowed
            partitions.push(ProducePartitionResp {
                index,
                error_code,
                base_offset,
                log_append_time_ms,
                log_start_offset,
                record_errors,
                error_message,
            });
        }
        r.no_tags();
        responses.push(ProduceTopicResp { name, partitions });
    }
    let throttle_time_ms = r.i32();
    r.tags(); // node_endpoints (tag 0) is allowed
    r.done();
    ProduceResp { responses, throttle_time_ms }
}

/// Decodes `body` with kafka-protocol at `version`, requiring every byte to be consumed.
pub fn oracle<T: kafka_protocol::protocol::Decodable>(body: &[u8], version: i16) -> T {
    let mut buf: &[u8] = body;
    let v = T::decode(&mut buf, version)
        .unwrap_or_else(|e| panic!("kafka-protocol cannot decode v{version}: {e} ({body:02x?})"));
    assert!(buf.is_empty(), "kafka-protocol left {} trailing bytes (v{version})", buf.len());
    v
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/// One TCP connection speaking Kafka frames.
pub struct Client {
    pub stream: TcpStream,
    next_correlation_id: i32,
}

/// A response with its header taken apart.
#[derive(Debug, Clone)]
pub struct Response {
    pub correlation_id: i32,
    pub body: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    // The broker announced it listens: only transient errors land here.
                    let _ = e;
                    std::thread::yield_now();
                }
                Err(e) => panic!("connect to {addr}: {e}"),
            }
        };
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client { stream, next_correlation_id: 1000 }
    }

    pub fn next_id(&mut self) -> i32 {
        self.next_correlation_id += 1;
        self.next_correlation_id
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to broker");
    }

    pub fn try_send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one request; returns its correlation id.
    pub fn send(&mut self, api_key: i16, version: i16, body: &[u8]) -> i32 {
        let id = self.next_id();
        self.send_raw(&frame(api_key, version, id, body));
        id
    }

    /// Reads one frame's payload (after the 4-byte size).
    pub fn try_recv_frame(&mut self) -> io::Result<Vec<u8>> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size)?;
        let size = i32::from_be_bytes(size);
        assert!(size >= 4, "response message_size {size}");
        assert!(size < 200 << 20, "response message_size {size}");
        let mut payload = vec![0u8; size as usize];
        self.stream.read_exact(&mut payload)?;
        Ok(payload)
    }

    /// Reads exactly `n` bytes, whatever they are (a bare SASL token's frame, say).
    pub fn recv_exact(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.stream.read_exact(&mut b).unwrap_or_else(|e| panic!("reading {n} bytes: {e}"));
        b
    }

    pub fn recv_frame(&mut self) -> Vec<u8> {
        self.try_recv_frame().unwrap_or_else(|e| panic!("reading a response frame: {e}"))
    }

    /// Reads one response to `api_key`/`version` and splits its header off.
    pub fn recv(&mut self, api_key: i16, version: i16) -> Response {
        let payload = self.recv_frame();
        split_response(&payload, api_key, version)
    }

    /// Sends a request and reads its response, checking the correlation id.
    pub fn call(&mut self, api_key: i16, version: i16, body: &[u8]) -> Vec<u8> {
        let id = self.send(api_key, version, body);
        let resp = self.recv(api_key, version);
        assert_eq!(resp.correlation_id, id, "correlation id echoed");
        resp.body
    }

    pub fn api_versions(&mut self, version: i16) -> ApiVersionsResp {
        let body = self.call(API_VERSIONS, version, &api_versions_body(version));
        decode_api_versions(&body, version)
    }

    pub fn dtp(&mut self, topics: &[&str], limit: i32, cursor: Option<(&str, i32)>) -> DtpResp {
        decode_dtp(&self.call(DESCRIBE_TOPIC_PARTITIONS, 0, &dtp_body(topics, limit, cursor)))
    }

    pub fn fetch(&mut self, req: &FetchReq) -> FetchResp {
        decode_fetch_v16(&self.call(FETCH, 16, &req.v16()))
    }

    pub fn produce(&mut self, topics: &[(&str, Vec<ProducePart>)]) -> ProduceResp {
        decode_produce_v11(&self.call(PRODUCE, 11, &produce_v11_body(1, topics)))
    }

    /// Fetches one partition from `offset` with generous limits.
    pub fn fetch_one(
        &mut self,
        topic_id: [u8; 16],
        partition: i32,
        offset: i64,
    ) -> FetchPartitionResp {
        let resp = self.fetch(&FetchReq::default().topic(topic_id, vec![fp(partition, offset)]));
        assert_eq!(resp.error_code, NONE);
        assert_eq!(resp.responses.len(), 1);
        assert_eq!(resp.responses[0].partitions.len(), 1);
        resp.responses[0].partitions[0].clone()
    }

    /// Sends any kafka-protocol request at `version` and decodes its response with
    /// kafka-protocol, requiring all bytes to be consumed.
    pub fn kp_call<Q: kafka_protocol::protocol::Request>(
        &mut self,
        version: i16,
        req: &Q,
    ) -> Q::Response {
        use kafka_protocol::protocol::HeaderVersion;
        let mut body = Vec::new();
        req.encode(&mut body, version).unwrap();
        // Our header choice must agree with kafka-protocol's.
        let expected_header = if is_flexible(Q::KEY, version) { 2 } else { 1 };
        assert_eq!(
            Q::header_version(version),
            expected_header,
            "request header of {} v{version}",
            Q::KEY
        );
        let id = self.send(Q::KEY, version, &body);
        let resp = self.recv(Q::KEY, version);
        let resp_header = if response_header_has_tags(Q::KEY, version) { 1 } else { 0 };
        assert_eq!(<Q::Response as HeaderVersion>::header_version(version), resp_header);
        assert_eq!(resp.correlation_id, id);
        oracle::<Q::Response>(&resp.body, version)
    }

    /// Asserts that the broker closes this connection (EOF or reset) without sending a frame.
    pub fn expect_closed(&mut self) {
        let mut buf = [0u8; 64];
        match self.stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("expected the connection to close, got {n} bytes: {:02x?}", &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => panic!("expected the connection to close, got {e} ({:?})", e.kind()),
        }
    }

    /// Reads either one whole frame or the connection's end.
    pub fn recv_frame_or_close(&mut self) -> Option<Vec<u8>> {
        let mut size = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.stream.read(&mut size[got..]) {
                Ok(0) if got == 0 => return None,
                Ok(0) => panic!("connection closed inside a frame's size"),
                Ok(n) => got += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return None
                }
                Err(e) => panic!("neither a response nor a close: {e}"),
            }
        }
        let size = i32::from_be_bytes(size);
        assert!((4..200 << 20).contains(&size), "response message_size {size}");
        let mut payload = vec![0u8; size as usize];
        self.stream.read_exact(&mut payload).expect("frame body");
        Some(payload)
    }

    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Splits a response payload (after the size) into correlation id and body.
pub fn split_response(payload: &[u8], api_key: i16, version: i16) -> Response {
    let mut r = R::new(payload);
    let correlation_id = r.i32();
    if response_header_has_tags(api_key, version) {
        r.no_tags();
    }
    Response { correlation_id, body: payload[r.pos()..].to_vec() }
}

/// The exact ApiVersions v3/v4 body this broker must send.
pub fn expected_api_versions_v4_body() -> Vec<u8> {
    let mut w = W::new();
    w.i16(0).compact_len(ADVERTISED.len());
    for (k, min, max) in ADVERTISED {
        w.i16(k).i16(min).i16(max).tags();
    }
    w.i32(0).tags();
    w.take()
}

/// A small deterministic PRNG (xorshift64*) for fuzz-like tests: a seed replays a run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-made log directories, written the way the course's tester writes them (independently of
// the library's own metadata writer)
// ---------------------------------------------------------------------------------------------

/// A zigzag varint (records use these).
pub fn put_varint(w: &mut W, v: i64) {
    w.uvarint(((v << 1) ^ (v >> 63)) as u64);
}

/// A v2 batch of `values` (null keys) whose records all carry offset delta 0, as the course's
/// tester writes its metadata batches.
pub fn zero_delta_batch(base_offset: i64, leader_epoch: i32, values: &[Vec<u8>]) -> Vec<u8> {
    let mut recs = W::new();
    for v in values {
        let mut r = W::new();
        r.i8(0);
        put_varint(&mut r, 0); // timestamp delta
        put_varint(&mut r, 0); // offset delta
        put_varint(&mut r, -1); // null key
        put_varint(&mut r, v.len() as i64);
        r.raw(v);
        put_varint(&mut r, 0); // no headers
        put_varint(&mut recs, r.0.len() as i64);
        recs.raw(&r.0);
    }
    let mut tail = W::new();
    tail.i16(0) // attributes
        .i32(values.len() as i32 - 1)
        .i64(TS)
        .i64(TS)
        .i64(-1)
        .i16(-1)
        .i32(-1)
        .i32(values.len() as i32)
        .raw(&recs.0);
    let crc = minikafka::records::crc32c::crc32c(&tail.0);
    let mut b = W::new();
    b.i64(base_offset).i32((4 + 1 + 4 + tail.0.len()) as i32).i32(leader_epoch).i8(2);
    b.raw(&crc.to_be_bytes()).raw(&tail.0);
    b.take()
}

pub fn feature_level_record(name: &str, level: i16) -> Vec<u8> {
    let mut w = W::new();
    w.uvarint(1).uvarint(12).uvarint(0).compact_string(name).i16(level).tags();
    w.take()
}

pub fn topic_record(name: &str, id: &[u8; 16]) -> Vec<u8> {
    let mut w = W::new();
    w.uvarint(1).uvarint(2).uvarint(0).compact_string(name).uuid(id).tags();
    w.take()
}

/// A PartitionRecord of `version` 0 or 1 (v1 adds the replicas' directories).
pub fn partition_record(version: u64, partition: i32, id: &[u8; 16], leader_epoch: i32) -> Vec<u8> {
    let mut w = W::new();
    w.uvarint(1).uvarint(3).uvarint(version);
    w.i32(partition).uuid(id);
    w.compact_len(1).i32(1); // replicas
    w.compact_len(1).i32(1); // isr
    w.compact_len(0); // removing
    w.compact_len(0); // adding
    w.i32(1).i32(leader_epoch).i32(0); // leader, leader epoch, partition epoch
    if version >= 1 {
        w.compact_len(1).uuid(&[0x11; 16]); // directories
    }
    w.tags();
    w.take()
}

/// Writes a complete log dir by hand: meta.properties, a metadata log with a feature-level
/// batch then one zero-delta batch per topic, and the partition directories.
pub fn write_tester_style_log_dir(dir: &Path, topics: &[(&str, [u8; 16], i32, i32)]) {
    fs::create_dir_all(dir.join("__cluster_metadata-0")).unwrap();
    fs::write(
        dir.join("meta.properties"),
        "#\n#Mon Sep 02 15:43:32 IST 2024\ncluster.id=rwd2jqiwRaCycLq7mKVHXA\n\
         directory.id=AiSXPLrdRM-HREWplhnaNA\nnode.id=1\nversion=1\n",
    )
    .unwrap();
    fs::write(
        dir.join("__cluster_metadata-0/partition.metadata"),
        "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n",
    )
    .unwrap();
    let mut log = zero_delta_batch(0, 1, &[feature_level_record("metadata.version", 20)]);
    let mut next = 1i64;
    for (i, (name, id, partitions, leader_epoch)) in topics.iter().enumerate() {
        let mut values = vec![topic_record(name, id)];
        for p in 0..*partitions {
            values.push(partition_record((i % 2) as u64, p, id, *leader_epoch));
        }
        let n = values.len() as i64;
        log.extend(zero_delta_batch(next, 1, &values));
        next += n;
        for p in 0..*partitions {
            let pdir = dir.join(format!("{name}-{p}"));
            fs::create_dir_all(&pdir).unwrap();
            fs::write(
                pdir.join("partition.metadata"),
                format!("version: 0\ntopic_id: {}\n", minikafka::uuid::to_base64(id)),
            )
            .unwrap();
            fs::write(pdir.join("00000000000000000000.log"), b"").unwrap();
        }
    }
    fs::write(dir.join("__cluster_metadata-0/00000000000000000000.log"), log).unwrap();
}

/// The first of a client session's output lines that starts with `prefix`.
pub fn line<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in {lines:#?}"))
}

/// Polls `cond` every few milliseconds until it holds or `timeout` passes; returns whether it
/// held. For state the broker reaches on its own (files, timers), never as a fixed sleep.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs a future to completion on this thread (librdkafka's admin client resolves its futures
/// from its own polling thread), panicking after `timeout`.
pub fn block_on<F: std::future::Future>(f: F, timeout: Duration) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    let deadline = Instant::now() + timeout;
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        let now = Instant::now();
        assert!(now < deadline, "operation did not complete within {timeout:?}");
        std::thread::park_timeout((deadline - now).min(Duration::from_millis(100)));
    }
}

/// librdkafka's settings for a test client of the broker at `addr`: IPv4 loopback, quick
/// reconnects and retries, a bounded socket timeout.
pub fn rdkafka_config(addr: SocketAddr) -> rdkafka::ClientConfig {
    let mut c = rdkafka::ClientConfig::new();
    c.set("bootstrap.servers", addr.to_string())
        .set("broker.address.family", "v4")
        .set("socket.timeout.ms", "10000")
        .set("reconnect.backoff.ms", "20")
        .set("reconnect.backoff.max.ms", "200")
        .set("retry.backoff.ms", "20");
    c
}
