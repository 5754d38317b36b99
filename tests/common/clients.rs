//! Other Kafka clients for the interop tests: kafka-python, confluent-kafka and kafkajs,
//! installed on first use into cargo's test tmp dir (one install serves every test binary), and
//! Kafka's Java client, whose sessions are compiled against the jars `kafka` fetched. Client
//! processes run with a bound on their time, their output kept for the failure message.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::kafka;

pub const KAFKA_PYTHON: &str = "kafka-python==3.0.12";
pub const KAFKAJS: &str = "kafkajs@2.2.4";
pub const CONFLUENT_KAFKA: &str = "confluent-kafka==2.12.1";

pub fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("clients")
}

/// A client script of `tests/clients`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Runs `cmd` to install into `dir` unless a marker for `what` is there already.
pub fn install(dir: &Path, what: &str, cmd: &mut Command) {
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

/// A pip package installed into its own directory, for PYTHONPATH.
pub fn pip_dir(name: &str, package: &str) -> PathBuf {
    let dir = clients_dir().join(name);
    install(
        &dir,
        package,
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
            .arg(&dir)
            .arg(package),
    );
    dir
}

pub fn kafka_python_dir() -> PathBuf {
    pip_dir("py", KAFKA_PYTHON)
}

/// confluent-kafka's wheel carries librdkafka.
pub fn confluent_kafka_dir() -> PathBuf {
    pip_dir("confluent", CONFLUENT_KAFKA)
}

/// Where kafkajs is installed; node finds it with NODE_PATH=<dir>/node_modules.
pub fn kafkajs_dir() -> PathBuf {
    let dir = clients_dir().join("js");
    install(
        &dir,
        KAFKAJS,
        Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&dir)
            .arg(KAFKAJS),
    );
    dir
}

/// Runs `cmd` to completion within `timeout`; its stdout lines, or a panic with its output
/// and `context()` (the broker's log, say).
pub fn run_bounded(
    cmd: &mut Command,
    timeout: Duration,
    context: impl Fn() -> String,
) -> Vec<String> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the client");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        status.is_some_and(|s| s.success()),
        "client failed ({status:?} after {:?}):\nstdout:\n{stdout}\nstderr:\n{stderr}\n\
         broker:\n{}",
        started.elapsed(),
        context()
    );
    eprintln!("client took {:?}:\n{stderr}", started.elapsed());
    stdout.lines().map(str::to_string).collect()
}

/// kafka-clients and what it needs at run time: the codecs and logging.
const JARS: [&str; 8] = [
    "kafka-clients-",
    "zstd-jni-",
    "lz4-java-",
    "snappy-java-",
    "slf4j-api-",
    "log4j-slf4j-impl-",
    "log4j-api-",
    "log4j-core-",
];

pub fn javac() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(h) if Path::new(&h).join("bin/javac").exists() => Path::new(&h).join("bin/javac"),
        _ => PathBuf::from("javac"),
    }
}

/// Compiles `tests/clients/java/<source>` into `<clients dir>/<out>/classes` with the client
/// jars, logging at `log_level`; returns the class path to run it with.
pub fn compile_java(source: &str, out: &str, log_level: &str) -> String {
    let libs = kafka::kafka_libs();
    let names: Vec<String> = std::fs::read_dir(&libs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let jars: Vec<PathBuf> = JARS
        .iter()
        .map(|prefix| {
            let name = names
                .iter()
                .find(|n| n.starts_with(prefix) && n.ends_with(".jar"))
                .unwrap_or_else(|| panic!("no {prefix}*.jar in {}", libs.display()));
            libs.join(name)
        })
        .collect();
    let classes = clients_dir().join(out).join("classes");
    let _ = std::fs::remove_dir_all(&classes);
    std::fs::create_dir_all(&classes).unwrap();
    let jar_path = std::env::join_paths(&jars).unwrap();
    let result = Command::new(javac())
        .args(["-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(&classes)
        .arg("-cp")
        .arg(&jar_path)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/java").join(source))
        .output()
        .expect("run javac (a JDK must be installed)");
    assert!(
        result.status.success(),
        "compiling {source} failed:\n{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    std::fs::write(classes.join("log4j2.properties"), kafka::log4j_properties(log_level)).unwrap();
    let mut all = vec![classes];
    all.extend(jars);
    std::env::join_paths(all).unwrap().into_string().unwrap()
}

/// The JVM options the client sessions run with on this small machine.
pub fn java_command(class_path: &str, class: &str) -> Command {
    let mut cmd = Command::new(kafka::java());
    cmd.args(["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", class_path])
        .arg("-Dlog4j2.configurationFile=classpath:log4j2.properties")
        .arg(class);
    cmd
}
