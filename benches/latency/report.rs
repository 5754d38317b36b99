//! Percentiles, the table, and the machine-readable `BENCH {...}` lines (hand-written JSON).

use std::fmt::Write as _;
use std::time::Duration;

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Lat {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Lat {
    /// Exact nearest-rank percentiles of samples in nanoseconds (sorts them in place).
    pub fn from_ns(samples: &mut [u64]) -> Option<Lat> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let n = samples.len();
        let at = |q: f64| {
            let rank = (q * n as f64).ceil() as usize;
            samples[rank.clamp(1, n) - 1] as f64 / 1e3
        };
        Some(Lat { p50: at(0.50), p90: at(0.90), p99: at(0.99), p999: at(0.999), max: at(1.0) })
    }
}

#[derive(Debug, Clone)]
pub enum Target {
    /// The scenario has no target.
    None,
    Met(String),
    NotMet(String),
}

impl Target {
    pub fn check(ok: bool, detail: String) -> Target {
        if ok {
            Target::Met(detail)
        } else {
            Target::NotMet(detail)
        }
    }

    fn word(&self) -> &'static str {
        match self {
            Target::None => "-",
            Target::Met(_) => "met",
            Target::NotMet(_) => "not met",
        }
    }

    fn detail(&self) -> Option<&str> {
        match self {
            Target::None => None,
            Target::Met(d) | Target::NotMet(d) => Some(d),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: &'static str,
    pub lat: Option<Lat>,
    pub req_s: Option<f64>,
    pub rec_s: Option<f64>,
    pub mb_s: Option<f64>,
    pub ratio_p50: Option<f64>,
    pub ratio_p99: Option<f64>,
    /// The broker's CPU while it was driven: share of one core, and the kernel's part of it.
    pub cpu: Option<(f64, f64)>,
    pub target: Target,
    /// Free-form context printed after the row.
    pub note: String,
    /// Further numeric fields for the JSON line only.
    pub extra: Vec<(&'static str, f64)>,
    pub error: Option<String>,
    pub elapsed: Duration,
    /// CPUs' worth of time other processes took during the scenario (see `cpu.rs`).
    pub other_cpu: Option<f64>,
}

/// Above this much foreign CPU use (in cores) a row is flagged as possibly disturbed.
pub const BUSY_CORES: f64 = 0.25;

impl Row {
    pub fn new(scenario: &'static str) -> Row {
        Row {
            scenario,
            lat: None,
            req_s: None,
            rec_s: None,
            mb_s: None,
            ratio_p50: None,
            ratio_p99: None,
            cpu: None,
            target: Target::None,
            note: String::new(),
            extra: Vec::new(),
            error: None,
            elapsed: Duration::ZERO,
            other_cpu: None,
        }
    }

    pub fn failed(scenario: &'static str, error: String) -> Row {
        Row { error: Some(error), ..Row::new(scenario) }
    }

    /// Records the broker's CPU use, and from it the CPU time per request.
    pub fn set_cpu(&mut self, cpu: Option<(f64, f64)>) {
        self.cpu = cpu;
        if let (Some((busy, sys)), Some(req_s)) = (cpu, self.req_s) {
            self.extra.push(("cpu_us_per_req", busy / req_s * 1e6));
            self.extra.push(("sys_share", sys));
        }
    }

    /// Sets the ratios of p50 and p99 to the bare loopback round trip's.
    pub fn ratios_to(&mut self, base: Option<Lat>) {
        if let (Some(l), Some(b)) = (self.lat, base) {
            self.ratio_p50 = Some(l.p50 / b.p50);
            self.ratio_p99 = Some(l.p99 / b.p99);
        }
    }
}

pub const MB: f64 = 1e6;

pub fn header() -> String {
    format!(
        "{:<18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>11} {:>9} {:>6} {:>6} {:>5}  {}",
        "scenario",
        "p50_us",
        "p90_us",
        "p99_us",
        "p99.9_us",
        "max_us",
        "req/s",
        "rec/s",
        "MB/s",
        "x_p50",
        "x_p99",
        "cpu%",
        "target"
    )
}

fn cell(v: Option<f64>, width: usize, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:>width$.decimals$}"),
        _ => format!("{:>width$}", "-"),
    }
}

pub fn table_row(r: &Row) -> String {
    if let Some(e) = &r.error {
        return format!("{:<18} ERROR: {e}", r.scenario);
    }
    let l = r.lat;
    let mut s = format!(
        "{:<18} {} {} {} {} {} {} {} {} {} {} {}  {}",
        r.scenario,
        cell(l.map(|l| l.p50), 9, 1),
        cell(l.map(|l| l.p90), 9, 1),
        cell(l.map(|l| l.p99), 9, 1),
        cell(l.map(|l| l.p999), 9, 1),
        cell(l.map(|l| l.max), 9, 1),
        cell(r.req_s, 10, 0),
        cell(r.rec_s, 11, 0),
        cell(r.mb_s, 9, 1),
        cell(r.ratio_p50, 6, 2),
        cell(r.ratio_p99, 6, 2),
        cell(r.cpu.map(|c| c.0 * 100.0), 5, 0),
        r.target.word(),
    );
    if let Some(d) = r.target.detail() {
        let _ = write!(s, " ({d})");
    }
    if !r.note.is_empty() {
        let _ = write!(s, " [{}]", r.note);
    }
    if let Some((busy, sys)) = r.cpu {
        let _ = write!(
            s,
            " [broker: {:.0}% of a core, {:.0}% of it in the kernel]",
            busy * 100.0,
            sys * 100.0
        );
    }
    if let Some(c) = r.other_cpu.filter(|&c| c > BUSY_CORES) {
        let _ = write!(s, " [BUSY: other processes used {c:.2} cores]");
    }
    s
}

fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "null".to_string(),
    }
}

pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn json_line(r: &Row) -> String {
    let mut s = format!("BENCH {{\"scenario\":{}", json_string(r.scenario));
    if let Some(e) = &r.error {
        let _ = write!(s, ",\"error\":{}}}", json_string(e));
        return s;
    }
    let l = r.lat;
    let fields: [(&str, Option<f64>, usize); 11] = [
        ("p50_us", l.map(|l| l.p50), 1),
        ("p90_us", l.map(|l| l.p90), 1),
        ("p99_us", l.map(|l| l.p99), 1),
        ("p999_us", l.map(|l| l.p999), 1),
        ("max_us", l.map(|l| l.max), 1),
        ("req_s", r.req_s, 0),
        ("rec_s", r.rec_s, 0),
        ("mb_s", r.mb_s, 1),
        ("ratio_p50", r.ratio_p50, 3),
        ("ratio_p99", r.ratio_p99, 3),
        ("broker_cpu", r.cpu.map(|c| c.0), 3),
    ];
    for (k, v, d) in fields {
        let _ = write!(s, ",\"{k}\":{}", num(v, d));
    }
    for (k, v) in &r.extra {
        let _ = write!(s, ",\"{k}\":{}", num(Some(*v), 3));
    }
    let target = match r.target {
        Target::None => "null".to_string(),
        _ => json_string(r.target.word()),
    };
    let _ = write!(s, ",\"target\":{target}");
    if let Some(d) = r.target.detail() {
        let _ = write!(s, ",\"target_detail\":{}", json_string(d));
    }
    let _ = write!(s, ",\"other_cpu\":{}", num(r.other_cpu, 2));
    let _ = write!(s, ",\"elapsed_s\":{:.2}}}", r.elapsed.as_secs_f64());
    s
}
