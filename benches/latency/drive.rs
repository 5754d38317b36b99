//! Load generators over blocking sockets: closed loop on one connection, a pipeline of N
//! requests in flight on one connection, and many connections each with one request in flight.
//!
//! Each runs a warm-up, then a measured window bounded in time and in count; latency is the
//! time from a request's write to the end of its response's read.

use std::collections::VecDeque;
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::wire::{set_correlation_id, Conn};

/// Checks a response body (correlation id first) against the correlation id sent.
pub type Check = fn(&[u8], i32) -> Result<(), String>;

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub warmup: Duration,
    pub measure: Duration,
    /// Upper bound on measured requests (all connections together).
    pub max_requests: usize,
}

/// What a measured window saw.
pub struct Run {
    /// Latency of every request completed in the window, in nanoseconds.
    pub lat_ns: Vec<u64>,
    pub window: Duration,
    /// The whole run, warm-up included: the time the server was kept busy, for its CPU use.
    pub spent: Duration,
}

impl Run {
    pub fn requests(&self) -> usize {
        self.lat_ns.len()
    }

    pub fn per_sec(&self) -> f64 {
        self.lat_ns.len() as f64 / self.window.as_secs_f64()
    }
}

pub fn ns(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

fn io(what: &str, e: std::io::Error) -> String {
    format!("{what}: {e}")
}

/// Calls `once` over and over: a warm-up, then a window bounded in time and in count. Each
/// call does one operation and returns how long it took; the window ends with the last
/// measured call.
pub fn timed(
    plan: Plan,
    mut once: impl FnMut() -> Result<Duration, String>,
) -> Result<Run, String> {
    let start = Instant::now();
    let warm_end = start + plan.warmup;
    let end = warm_end + plan.measure;
    let mut lat_ns = Vec::with_capacity(plan.max_requests.min(1 << 20));
    let mut measured_from = None;
    let mut last = start;
    loop {
        let now = Instant::now();
        if measured_from.is_none() && now >= warm_end {
            measured_from = Some(now);
        }
        if measured_from.is_some() && (now >= end || lat_ns.len() >= plan.max_requests) {
            break;
        }
        let took = once()?;
        last = Instant::now();
        if measured_from.is_some() {
            lat_ns.push(ns(took));
        }
    }
    let window = measured_from.map_or(Duration::ZERO, |t| last.saturating_duration_since(t));
    Ok(Run { lat_ns, window, spent: start.elapsed() })
}

/// One request in flight on one connection.
pub fn closed_loop(
    conn: &mut Conn,
    frame: &mut [u8],
    plan: Plan,
    check: Check,
) -> Result<Run, String> {
    let mut corr = 0i32;
    timed(plan, || {
        corr = corr.wrapping_add(1);
        set_correlation_id(frame, corr);
        let t = Instant::now();
        conn.send(frame).map_err(|e| io("send", e))?;
        let body = conn.recv().map_err(|e| io("receive", e))?;
        let took = t.elapsed();
        check(body, corr)?;
        Ok(took)
    })
}

/// `depth` requests in flight on one connection: a new one is written as each response is read.
pub fn pipelined(
    conn: &mut Conn,
    frame: &mut [u8],
    depth: usize,
    plan: Plan,
    check: Check,
) -> Result<Run, String> {
    let start = Instant::now();
    let warm_end = start + plan.warmup;
    let end = warm_end + plan.measure;
    let mut lat_ns = Vec::with_capacity(plan.max_requests.min(1 << 20));
    let mut inflight: VecDeque<(i32, Instant)> = VecDeque::with_capacity(depth);
    let mut corr = 0i32;
    let mut measured_from: Option<Instant> = None;
    let mut last = start;
    let mut stopping = false;
    let mut send = |conn: &mut Conn, inflight: &mut VecDeque<(i32, Instant)>| {
        corr = corr.wrapping_add(1);
        set_correlation_id(frame, corr);
        inflight.push_back((corr, Instant::now()));
        conn.send(frame).map_err(|e| io("send", e))
    };
    for _ in 0..depth {
        send(conn, &mut inflight)?;
    }
    while let Some((c, t)) = inflight.pop_front() {
        let body = conn.recv().map_err(|e| io("receive", e))?;
        let now = Instant::now();
        check(body, c)?;
        if !stopping {
            if now >= warm_end {
                if measured_from.is_none() {
                    measured_from = Some(now);
                } else {
                    lat_ns.push(ns(now - t));
                    last = now;
                }
            }
            stopping = now >= end || lat_ns.len() >= plan.max_requests;
            if !stopping {
                send(conn, &mut inflight)?;
            }
        }
    }
    let window = measured_from.map_or(Duration::ZERO, |t| last.saturating_duration_since(t));
    Ok(Run { lat_ns, window, spent: start.elapsed() })
}

/// One connection per frame in `frames`, spread over `threads` client threads, each connection
/// with one request in flight (closed loop). A thread serves its connections round-robin: read
/// a response, write that connection's next request, go on to the next connection.
pub fn many_connections(
    port: u16,
    frames: Vec<Vec<u8>>,
    threads: usize,
    plan: Plan,
    check: Check,
) -> Result<Run, String> {
    let called = Instant::now();
    let conns = frames.len();
    let threads = threads.clamp(1, conns.max(1));
    let barrier = Arc::new(Barrier::new(threads));
    let start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let per_thread_cap = plan.max_requests / threads + 1;
    let mut handles = Vec::with_capacity(threads);
    let mut frames = frames.into_iter();
    for t in 0..threads {
        let n = conns / threads + usize::from(t < conns % threads);
        let mut frames: Vec<Vec<u8>> = frames.by_ref().take(n).collect();
        let (barrier, start) = (Arc::clone(&barrier), Arc::clone(&start));
        let h = thread::Builder::new()
            .name(format!("client-{t}"))
            .spawn(move || -> Result<(Vec<u64>, Option<Instant>), String> {
                let connected: Result<Vec<Conn>, String> =
                    (0..n).map(|_| Conn::connect(port).map_err(|e| io("connect", e))).collect();
                barrier.wait();
                let mut cs = connected?;
                let start = *start.get_or_init(Instant::now);
                let warm_end = start + plan.warmup;
                let end = warm_end + plan.measure;
                let mut sent: Vec<Option<(i32, Instant)>> = vec![None; n];
                let mut lat_ns = Vec::with_capacity(per_thread_cap.min(1 << 20));
                let mut last = None;
                for i in 0..n {
                    set_correlation_id(&mut frames[i], 1);
                    sent[i] = Some((1, Instant::now()));
                    cs[i].send(&frames[i]).map_err(|e| io("send", e))?;
                }
                let mut open = n;
                let mut stopping = false;
                while open > 0 {
                    for i in 0..n {
                        let Some((c, t)) = sent[i].take() else { continue };
                        let body = cs[i].recv().map_err(|e| io("receive", e))?;
                        let now = Instant::now();
                        check(body, c)?;
                        if now >= warm_end && now < end && !stopping {
                            lat_ns.push(ns(now - t));
                            last = Some(now);
                        }
                        stopping |= now >= end || lat_ns.len() >= per_thread_cap;
                        if stopping {
                            open -= 1;
                            continue;
                        }
                        let c = c.wrapping_add(1);
                        set_correlation_id(&mut frames[i], c);
                        sent[i] = Some((c, Instant::now()));
                        cs[i].send(&frames[i]).map_err(|e| io("send", e))?;
                    }
                }
                Ok((lat_ns, last))
            })
            .map_err(|e| io("spawn client thread", e))?;
        handles.push(h);
    }
    let mut lat_ns = Vec::new();
    let mut last: Option<Instant> = None;
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok((mut v, l))) => {
                lat_ns.append(&mut v);
                last = last.max(l);
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert_with(|| "client thread panicked".to_string());
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    // The window runs from the end of the shared warm-up to the last measured completion.
    let window = match (start.get(), last) {
        (Some(&s), Some(l)) => l.saturating_duration_since(s + plan.warmup),
        _ => Duration::ZERO,
    };
    Ok(Run { lat_ns, window, spent: called.elapsed() })
}
