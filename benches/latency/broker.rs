//! The broker under test as a child process, its temporary log directory, and /proc readings.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::housekeeping::Tally;

const LISTENING: &str = "listening on 127.0.0.1:";
/// Lines of the broker's stderr kept for error messages.
const TAIL_LINES: usize = 8;

/// A unique directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<TempDir, String> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "minikafka-bench-{}-{}-{}-{nanos:08x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            tag
        );
        let p = std::env::temp_dir().join(name);
        std::fs::create_dir(&p).map_err(|e| format!("create {}: {e}", p.display()))?;
        Ok(TempDir(p))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Broker {
    child: Child,
    pub port: u16,
    /// When the child was spawned, and when its "listening" line was read.
    pub spawned: Instant,
    pub listening: Instant,
    tail: Arc<Mutex<VecDeque<String>>>,
    /// What its log cleaner and retention did so far, from its log lines.
    housekeeping: Arc<Mutex<Tally>>,
    drain: Option<JoinHandle<()>>,
}

impl Broker {
    /// Starts the release binary on an ephemeral port over `log_dir` and waits (up to
    /// `deadline`) for its "listening on" line.
    pub fn start(log_dir: &Path, deadline: Duration) -> Result<Broker, String> {
        Broker::start_with(log_dir, deadline, &[])
    }

    /// [`start`](Self::start) with further `key=value` overrides of the broker's config.
    pub fn start_with(
        log_dir: &Path,
        deadline: Duration,
        overrides: &[&str],
    ) -> Result<Broker, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_minikafka"));
        cmd.arg("--override")
            .arg("listeners=PLAINTEXT://127.0.0.1:0")
            .arg("--override")
            .arg(format!("log.dirs={}", log_dir.display()))
            // As for Kafka (apache.rs): the bench's batches carry a fixed 2023 timestamp.
            .arg("--override")
            .arg("log.retention.ms=-1")
            .args(overrides.iter().flat_map(|o| ["--override", o]))
            .env("RUST_LOG", "info")
            .env("RUST_LOG_STYLE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let spawned = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("spawn minikafka: {e}"))?;
        let stderr = child.stderr.take().expect("piped stderr");

        // One thread reads stderr for the child's whole life (so that it never blocks on a
        // full pipe), hands lines over until the port is known, and keeps a short tail.
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let housekeeping = Arc::new(Mutex::new(Tally::default()));
        let (tx, rx) = mpsc::channel::<String>();
        let drain = {
            let tail = Arc::clone(&tail);
            let housekeeping = Arc::clone(&housekeeping);
            thread::Builder::new()
                .name("broker-stderr".into())
                .spawn(move || {
                    let mut tx = Some(tx);
                    for line in BufReader::new(stderr).lines() {
                        let Ok(line) = line else { break };
                        if let Some(t) = &tx {
                            if t.send(line.clone()).is_err() {
                                tx = None;
                            }
                        }
                        housekeeping.lock().unwrap().note(&line);
                        let mut tail = tail.lock().unwrap();
                        if tail.len() == TAIL_LINES {
                            tail.pop_front();
                        }
                        tail.push_back(line);
                    }
                })
                .map_err(|e| format!("spawn stderr thread: {e}"))?
        };

        let mut broker = Broker {
            child,
            port: 0,
            spawned,
            listening: spawned,
            tail,
            housekeeping,
            drain: Some(drain),
        };
        let until = spawned + deadline;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(port) = parse_port(&line) {
                        broker.listening = Instant::now();
                        broker.port = port;
                        return Ok(broker);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "no \"{LISTENING}<port>\" line within {deadline:?}{}",
                        broker.tail_text()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = broker.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!(
                        "broker exited ({status}) before listening{}",
                        broker.tail_text()
                    ));
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the broker as an operator does (SIGTERM: a clean shutdown, Kafka's checkpoints
    /// and snapshots written) and waits for it to exit.
    pub fn stop(mut self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        if !sent.is_ok_and(|s| s.success()) {
            return Err("kill -TERM failed".into());
        }
        let status = self.child.wait().map_err(|e| format!("wait: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("broker exited with {status} on SIGTERM{}", self.tail_text()))
        }
    }

    /// What its housekeeping did so far, by the lines it has logged.
    pub fn housekeeping(&self) -> Tally {
        *self.housekeeping.lock().unwrap()
    }

    /// Fails if the broker has exited, with its last stderr lines.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("broker exited ({status}){}", self.tail_text())),
            Err(e) => Err(format!("broker state: {e}")),
        }
    }

    /// The last lines of the broker's stderr, for error messages.
    pub fn tail_text(&self) -> String {
        let tail = self.tail.lock().unwrap();
        if tail.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
        format!("; broker stderr tail: {}", lines.join(" | "))
    }

    /// Adds the broker's state to a client-side error.
    pub fn explain(&mut self, e: impl std::fmt::Display) -> String {
        match self.check_alive() {
            Ok(()) => format!("{e}{}", self.tail_text()),
            Err(dead) => format!("{e}; {dead}"),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = self.drain.take() {
            let _ = h.join();
        }
    }
}

fn parse_port(line: &str) -> Option<u16> {
    let at = line.find(LISTENING)? + LISTENING.len();
    let digits: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|&p| p != 0)
}

/// The CPU a process has used so far.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// Time on a CPU of all its threads, from the scheduler (`/proc/<pid>/task/*/schedstat`),
    /// in nanoseconds: minikafka's one thread, or every thread of Kafka's JVM (one that ended
    /// meanwhile is missed, but a broker under load keeps its threads).
    pub on_cpu_ns: u64,
    /// User and system time in clock ticks (`/proc/<pid>/stat`), for the kernel's share.
    pub user_ticks: u64,
    pub sys_ticks: u64,
}

impl CpuUse {
    pub fn of(pid: u32) -> Option<CpuUse> {
        let mut on_cpu_ns = 0u64;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let sched = std::fs::read_to_string(task.ok()?.path().join("schedstat"));
            // A thread that ended since the listing has no time left to count.
            let ns = sched.ok().and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
            on_cpu_ns += ns.unwrap_or(0);
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // utime and stime are fields 14 and 15, counted after the parenthesised name.
        let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
        Some(CpuUse {
            on_cpu_ns,
            user_ticks: f.get(11)?.parse().ok()?,
            sys_ticks: f.get(12)?.parse().ok()?,
        })
    }

    /// The share of one core used between `before` and `self` over `spent`, and the kernel's
    /// share of that use.
    pub fn since(&self, before: &CpuUse, spent: Duration) -> Option<(f64, f64)> {
        let ns = self.on_cpu_ns.checked_sub(before.on_cpu_ns)?;
        let busy = ns as f64 / spent.as_nanos().max(1) as f64;
        let (u, s) = (self.user_ticks - before.user_ticks, self.sys_ticks - before.sys_ticks);
        Some((busy, if u + s == 0 { f64::NAN } else { s as f64 / (u + s) as f64 }))
    }
}

/// VmRSS and VmHWM of a process, in KiB.
pub fn memory_kib(pid: u32) -> Result<(u64, u64), String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no {name} in {path}"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// The peak VmRSS of a process while a load runs, sampled every few milliseconds from another
/// thread (VmHWM cannot say: it also holds whatever came before the load).
pub struct RssPeak {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl RssPeak {
    pub fn start(pid: u32) -> RssPeak {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut peak = 0;
            loop {
                peak = peak.max(memory_kib(pid).map_or(0, |m| m.0));
                if flag.load(Ordering::Acquire) {
                    return peak;
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        RssPeak { stop, thread }
    }

    /// The peak in KiB (0 if the process could not be read).
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap_or(0)
    }
}
