//! How much CPU other processes took while a scenario ran: busy time of the whole machine
//! (/proc/stat, steal included) less this process's and its reaped children's (the broker is
//! reaped before a scenario ends). A noisy neighbour shows up here rather than as a mystery.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    at: Instant,
    /// Clock ticks the machine spent busy, all CPUs together.
    machine_busy: u64,
    /// Clock ticks of this process and its waited-for children.
    own: u64,
}

fn machine_busy() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = cpu.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let busy = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| v.get(i)).sum();
    Some(busy)
}

fn own() -> Option<u64> {
    ticks("self", 14..=17)
}

/// Clock ticks a process has spent, all its threads (utime and stime).
pub fn process_ticks(pid: u32) -> Option<u64> {
    ticks(&pid.to_string(), 14..=15)
}

/// The sum of fields `fields` (numbered as in proc(5): utime is 14, cstime 17) of
/// `/proc/<pid>/stat`.
fn ticks(pid: &str, fields: std::ops::RangeInclusive<usize>) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name start at field 3 (state).
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    fields.map(|i| f.get(i - 3)?.parse::<u64>().ok()).sum()
}

impl Snapshot {
    pub fn take() -> Option<Snapshot> {
        Some(Snapshot { at: Instant::now(), machine_busy: machine_busy()?, own: own()? })
    }

    /// CPUs' worth of time (1.0 = one core) used by other processes since `self`, less
    /// `server_ticks`: what a broker that is not this process's child (Kafka's JVM runs
    /// under a shell) spent meanwhile.
    pub fn others_since(&self, server_ticks: u64) -> Option<f64> {
        let now = Snapshot::take()?;
        let secs = now.at.duration_since(self.at).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        let ours = now.own - self.own + server_ticks;
        let others = (now.machine_busy - self.machine_busy).saturating_sub(ours);
        // USER_HZ is 100 on every Linux configuration that std runs on.
        Some(others as f64 / 100.0 / secs)
    }
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// This process's scheduling policy (inherited by the broker it starts): under `chrt -f` the
/// bench and the broker are not delayed by other processes, which a shared machine's
/// latency tails otherwise mostly are (see the rdkafka scenarios).
pub fn scheduling_policy() -> &'static str {
    let sched = std::fs::read_to_string("/proc/self/sched").unwrap_or_default();
    let policy = sched
        .lines()
        .find_map(|l| l.strip_prefix("policy"))
        .and_then(|v| v.trim_start_matches([' ', ':']).trim().parse::<u32>().ok());
    match policy {
        Some(0) => "normal",
        Some(1) => "SCHED_FIFO",
        Some(2) => "SCHED_RR",
        Some(3) => "SCHED_BATCH",
        Some(5) => "SCHED_IDLE",
        _ => "unknown",
    }
}
