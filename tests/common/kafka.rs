//! Apache Kafka itself, as the judge: fetched as jars from Maven Central into a cache outside
//! the repository (once, then reused), formatted and started as one combined broker+controller
//! on ephemeral loopback ports with a small heap, and polled for readiness with a deadline.
//!
//! Self-contained (std only) so that the bench can include it with `#[path]` too.
#![allow(dead_code)]

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The Apache Kafka release the tests compare with: the newest 4.x that Maven Central serves
/// here with all its dependencies, so the judge is what a new user downloads today.
pub const KAFKA_VERSION: &str = "4.4.0";

/// A fixed cluster id for the directories the tests format (Kafka wants 16 bytes in base64).
pub const CLUSTER_ID: &str = "MkU3OEVBNTcwNTJENDM2Qg";

/// Kafka's start-up on this 2-core machine takes a few seconds; a build beside it can triple it.
pub const KAFKA_STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Where fetched tools are kept across runs: `$MINIKAFKA_CACHE`, else
/// `$XDG_CACHE_HOME/minikafka`, else `~/.cache/minikafka`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MINIKAFKA_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("minikafka");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/minikafka")
}

/// The directory holding Kafka's jars with their runtime dependencies, fetched by Maven on
/// first use (`tests/kafka/pom.xml`). Safe to call from parallel tests and processes: the jars
/// are copied into a private directory that is renamed into place whole.
pub fn kafka_libs() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let home = cache_dir().join(format!("kafka-{KAFKA_VERSION}"));
    let libs = home.join("libs");
    if libs.join(".complete").exists() {
        return libs;
    }
    fs::create_dir_all(&home).expect("create the Kafka cache dir");
    let staging = home.join(format!("libs.tmp-{}", std::process::id()));
    let pom = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kafka/pom.xml");
    let mut last = String::new();
    for attempt in 1..=3 {
        let _ = fs::remove_dir_all(&staging);
        let out = Command::new("mvn")
            .args(["-q", "-B", "-f"])
            .arg(&pom)
            .arg(format!("-Dkafka.version={KAFKA_VERSION}"))
            .arg("dependency:copy-dependencies")
            .arg(format!("-DoutputDirectory={}", staging.display()))
            .arg("-DincludeScope=runtime")
            .output()
            .expect("run mvn (Maven must be installed)");
        if out.status.success() && staging.join(format!("kafka_2.13-{KAFKA_VERSION}.jar")).exists()
        {
            fs::write(staging.join(".complete"), KAFKA_VERSION).unwrap();
            match fs::rename(&staging, &libs) {
                Ok(()) => return libs,
                // Another process won the race: use its copy.
                Err(_) if libs.join(".complete").exists() => {
                    let _ = fs::remove_dir_all(&staging);
                    return libs;
                }
                Err(_) => {
                    let _ = fs::remove_dir_all(&libs);
                    fs::rename(&staging, &libs).expect("move the jars into the cache");
                    return libs;
                }
            }
        }
        last = format!(
            "attempt {attempt}: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    panic!("fetching Apache Kafka {KAFKA_VERSION} with Maven failed:\n{last}");
}

/// The `java` to run Kafka with: `$JAVA_HOME/bin/java`, else the one on the PATH.
pub fn java() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(h) if Path::new(&h).join("bin/java").exists() => Path::new(&h).join("bin/java"),
        _ => PathBuf::from("java"),
    }
}

/// The class path of every jar in [`kafka_libs`].
pub fn class_path() -> String {
    format!("{}/*", kafka_libs().display())
}

/// Runs a class from Kafka's jars (a tool's `main`) to completion.
pub fn run_class(class: &str, args: &[&str]) -> Output {
    Command::new(java())
        .args(["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp"])
        .arg(class_path())
        .arg(format!("-Dlog4j2.configurationFile={}", log4j_config().display()))
        .arg(class)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {class}: {e}"))
}

/// A log4j2 configuration that logs at `level` (and above) to stderr.
pub fn log4j_properties(level: &str) -> String {
    format!(
        "status = error\n\
         appender.err.type = Console\n\
         appender.err.name = err\n\
         appender.err.target = SYSTEM_ERR\n\
         appender.err.layout.type = PatternLayout\n\
         appender.err.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = {level}\n\
         rootLogger.appenderRef.err.ref = err\n"
    )
}

/// A log4j2 configuration file that sends warnings and errors to stderr.
fn log4j_config() -> PathBuf {
    let path = cache_dir().join("log4j2-warn.properties");
    if !path.exists() {
        let _ = fs::create_dir_all(cache_dir());
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        fs::write(&tmp, log4j_properties("warn")).unwrap();
        fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// A loopback port nobody listens on right now (bound, then released for Kafka to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How to start Kafka.
#[derive(Clone)]
pub struct KafkaOptions {
    /// `key=value` settings beside the ones the launcher sets (listeners, ids, log dir).
    pub overrides: Vec<(String, String)>,
    /// Extra JVM options (heap, GC, JIT).
    pub jvm: Vec<String>,
}

impl Default for KafkaOptions {
    fn default() -> KafkaOptions {
        KafkaOptions {
            overrides: Vec::new(),
            // A small heap, one GC thread, and the quick JIT: the tests start Kafka on 2 cores.
            jvm: ["-Xms128m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl KafkaOptions {
    pub fn set(mut self, key: &str, value: &str) -> KafkaOptions {
        self.overrides.retain(|(k, _)| k != key);
        self.overrides.push((key.to_string(), value.to_string()));
        self
    }
}

/// A running Apache Kafka. Dropping it stops Kafka (SIGTERM, a clean shutdown) and waits; if
/// the test process dies first, Kafka is stopped all the same (see [`Kafka::start`]).
pub struct Kafka {
    /// The `sh` watchdog whose child Kafka is.
    child: Child,
    watchdog: Option<ChildStdin>,
    pub pid: u32,
    pub addr: SocketAddr,
    pub log_dir: PathBuf,
    /// server.properties and Kafka's own output, beside (not inside) the log dir.
    pub conf_dir: PathBuf,
}

impl Kafka {
    /// Formats `log_dir` as `kafka-storage.sh format` does, for node 1 of a static quorum.
    pub fn format(log_dir: &Path, conf_dir: &Path) {
        Kafka::format_with(log_dir, conf_dir, &[]);
    }

    /// [`Kafka::format`] with `--feature name=level` for each of `features`.
    pub fn format_with(log_dir: &Path, conf_dir: &Path, features: &[&str]) {
        fs::create_dir_all(log_dir).unwrap();
        fs::create_dir_all(conf_dir).unwrap();
        let props = write_properties(log_dir, conf_dir, free_port(), free_port(), &[]);
        let mut args =
            vec!["format", "-t", CLUSTER_ID, "-c", props.to_str().unwrap(), "--ignore-formatted"];
        for f in features {
            args.extend(["--feature", f]);
        }
        let out = run_class("kafka.tools.StorageTool", &args);
        assert!(
            out.status.success(),
            "kafka-storage format failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts Kafka on `log_dir`, formatting it first if it holds no `meta.properties`, and
    /// waits until it answers ApiVersions and Metadata lists itself. Kafka runs under a `sh`
    /// that holds a pipe from this process: when the pipe closes (drop, or this process dying
    /// any way it can) the shell stops Kafka, so no JVM outlives the tests.
    pub fn start(log_dir: &Path, conf_dir: &Path, opts: &KafkaOptions) -> Kafka {
        fs::create_dir_all(log_dir).unwrap();
        fs::create_dir_all(conf_dir).unwrap();
        if !log_dir.join("meta.properties").exists() {
            Kafka::format(log_dir, conf_dir);
        }
        let (port, controller_port) = (free_port(), free_port());
        let overrides: Vec<(&str, &str)> =
            opts.overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let props = write_properties(log_dir, conf_dir, port, controller_port, &overrides);
        let out_path = conf_dir.join("kafka.out");
        let out = fs::File::create(&out_path).unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$@" </dev/null & p=$!; echo "$p"; cat >/dev/null; kill "$p" 2>/dev/null; wait "$p""#)
            .arg("sh")
            .arg(java())
            .args(&opts.jvm)
            .args(
                // A log4j configuration among the options replaces the warnings-only one.
                (!opts.jvm.iter().any(|o| o.starts_with("-Dlog4j2.configurationFile=")))
                    .then(|| format!("-Dlog4j2.configurationFile={}", log4j_config().display())),
            )
            .arg("-cp")
            .arg(class_path())
            .arg("kafka.Kafka")
            .arg(&props)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(out.try_clone().unwrap())
            .spawn()
            .expect("spawn Kafka");
        let mut pid_line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut pid_line).unwrap();
        let pid = pid_line.trim().parse().expect("the watchdog prints Kafka's pid");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut kafka = Kafka {
            watchdog: child.stdin.take(),
            child,
            pid,
            addr,
            log_dir: log_dir.to_path_buf(),
            conf_dir: conf_dir.to_path_buf(),
        };
        let deadline = Instant::now() + KAFKA_STARTUP_TIMEOUT;
        loop {
            if ready(addr) {
                return kafka;
            }
            if let Ok(Some(status)) = kafka.child.try_wait() {
                panic!("Kafka exited during start-up ({status}):\n{}", kafka.output_tail());
            }
            if Instant::now() > deadline {
                let tail = kafka.output_tail();
                kafka.kill();
                panic!("Kafka did not become ready within {KAFKA_STARTUP_TIMEOUT:?}:\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Formats a fresh directory under `root` and starts Kafka on it with `opts`.
    pub fn start_fresh(root: &Path, opts: &KafkaOptions) -> Kafka {
        Kafka::start(&root.join("kafka-logs"), &root.join("kafka-conf"), opts)
    }

    /// The last lines Kafka wrote (warnings and errors), for failure messages.
    pub fn output_tail(&self) -> String {
        let text = fs::read_to_string(self.conf_dir.join("kafka.out")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Resident memory of the JVM in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Stops Kafka cleanly (SIGTERM: it flushes, checkpoints and closes its logs) and waits.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Kills Kafka at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = Command::new("kill").args(["-9", &self.pid.to_string()]).status();
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.watchdog.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-9", &self.pid.to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Writes the server.properties of a one-node combined broker+controller.
fn write_properties(
    log_dir: &Path,
    conf_dir: &Path,
    port: u16,
    controller_port: u16,
    overrides: &[(&str, &str)],
) -> PathBuf {
    let mut settings: Vec<(String, String)> = [
        ("process.roles", "broker,controller".to_string()),
        ("node.id", "1".to_string()),
        ("controller.quorum.voters", format!("1@127.0.0.1:{controller_port}")),
        (
            "listeners",
            format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"),
        ),
        ("advertised.listeners", format!("PLAINTEXT://127.0.0.1:{port}")),
        ("controller.listener.names", "CONTROLLER".to_string()),
        ("inter.broker.listener.name", "PLAINTEXT".to_string()),
        ("log.dirs", log_dir.display().to_string()),
        ("offsets.topic.replication.factor", "1".to_string()),
        ("transaction.state.log.replication.factor", "1".to_string()),
        ("transaction.state.log.min.isr", "1".to_string()),
        ("share.coordinator.state.topic.replication.factor", "1".to_string()),
        ("share.coordinator.state.topic.min.isr", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in overrides {
        settings.retain(|(key, _)| key != k);
        settings.push((k.to_string(), v.to_string()));
    }
    let text: String = settings.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let path = conf_dir.join("server.properties");
    fs::write(&path, text).unwrap();
    path
}

/// One request/response exchange of raw bytes (request header v1, response header v0).
fn exchange(
    stream: &mut TcpStream,
    api_key: i16,
    version: i16,
    body: &[u8],
) -> io::Result<Vec<u8>> {
    let mut frame = Vec::with_capacity(body.len() + 16);
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&api_key.to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&7i32.to_be_bytes());
    frame.extend_from_slice(&(-1i16).to_be_bytes()); // null client id
    frame.extend_from_slice(body);
    let len = (frame.len() - 4) as i32;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    stream.write_all(&frame)?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let mut resp = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
    stream.read_exact(&mut resp)?;
    Ok(resp)
}

/// Ready means: ApiVersions v0 answers without error, and Metadata v1 lists one broker (the
/// broker has registered with its controller and been unfenced).
fn ready(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(v) = exchange(&mut s, 18, 0, &[]) else { return false };
    if v.len() < 6 || v[4..6] != [0, 0] {
        return false;
    }
    // Metadata v1 with a null topic array: every topic; brokers come first in the response.
    let Ok(m) = exchange(&mut s, 3, 1, &(-1i32).to_be_bytes()) else { return false };
    m.len() >= 8 && i32::from_be_bytes(m[4..8].try_into().unwrap()) >= 1
}
