//! Requests that wait for something before they can be answered.
//!
//! A Fetch that finds fewer than `min_bytes` parks until an append to a partition it reads, or
//! until `max_wait_ms` is up. Its connection is muted meanwhile (Kafka answers a connection's
//! requests in order), and the request is handled again from its frame when woken: the second
//! run sees the new data and answers, or parks again until the same deadline.

use std::time::{Duration, Instant};

use crate::storage::LogId;

pub struct Parked {
    pub conn: usize,
    pub peer: std::net::SocketAddr,
    pub deadline: Instant,
    /// Logs whose appends may satisfy the request.
    pub watch: Vec<LogId>,
    pub frame: Vec<u8>,
}

#[derive(Default)]
pub struct Waiting {
    parked: Vec<Parked>,
}

impl Waiting {
    pub fn park(&mut self, p: Parked) {
        self.parked.push(p);
    }

    /// Takes out the requests due now: past their deadline, or watching a log in `appended`.
    pub fn due(&mut self, now: Instant, appended: &[LogId]) -> Vec<Parked> {
        if self.parked.is_empty() {
            return Vec::new();
        }
        let (due, keep) = std::mem::take(&mut self.parked)
            .into_iter()
            .partition(|p| now >= p.deadline || p.watch.iter().any(|l| appended.contains(l)));
        self.parked = keep;
        due
    }

    pub fn forget(&mut self, conn: usize) {
        self.parked.retain(|p| p.conn != conn);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.parked.iter().map(|p| p.deadline).min()
    }

    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }
}

/// How long the loop may sleep before `deadline`, rounded up so it does not wake early.
pub fn until(deadline: Instant, now: Instant) -> Duration {
    deadline.saturating_duration_since(now) + Duration::from_micros(500)
}
