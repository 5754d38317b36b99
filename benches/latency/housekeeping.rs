//! What the broker's housekeeping did, read from its log lines as they come: log cleaner
//! rounds (begun, done, abandoned; megabytes read and written, seconds) and segments deleted
//! by retention. The bench has no other window on it: minikafka reports neither over the wire.

/// Running totals since the broker started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub rounds_begun: u64,
    pub rounds_done: u64,
    pub rounds_abandoned: u64,
    /// Of the rounds done, from their "cleaned up to offset" lines.
    pub read_mb: f64,
    pub written_mb: f64,
    pub clean_secs: f64,
    /// Dirty bytes of the rounds begun, from their "cleaning offsets" lines.
    pub dirty_bytes: u64,
    pub segments_deleted: u64,
    pub deleted_bytes: u64,
    /// The last round done: (read MB, written MB, seconds).
    pub last_round: Option<(f64, f64, f64)>,
}

impl Tally {
    /// Counts `line` if it is one of the housekeeping lines (see `src/storage/cleaner` and
    /// `src/storage/retention.rs` for their wording).
    pub fn note(&mut self, line: &str) {
        if let Some(rest) = after(line, ": cleaning offsets ") {
            self.rounds_begun += 1;
            // "A..B (D dirty bytes of T)"
            if let Some(d) = after(rest, "(").and_then(|r| number(r.split(' ').next()?)) {
                self.dirty_bytes += d as u64;
            }
        } else if let Some(rest) = after(line, ": cleaned up to offset ") {
            // "N: read X MB, wrote Y MB in Z s"
            let read = after(rest, "read ").and_then(|r| number(r.split(' ').next()?));
            let wrote = after(rest, "wrote ").and_then(|r| number(r.split(' ').next()?));
            let secs = after(rest, " in ").and_then(|r| number(r.split(' ').next()?));
            self.rounds_done += 1;
            if let (Some(r), Some(w), Some(s)) = (read, wrote, secs) {
                self.read_mb += r;
                self.written_mb += w;
                self.clean_secs += s;
                self.last_round = Some((r, w, s));
            }
        } else if line.contains(": cleaning abandoned: ") {
            self.rounds_abandoned += 1;
        } else if let Some(rest) = after(line, ": deleting segment ") {
            // "B (S bytes, largest timestamp T): Why breached"
            self.segments_deleted += 1;
            if let Some(s) = after(rest, "(").and_then(|r| number(r.split(' ').next()?)) {
                self.deleted_bytes += s as u64;
            }
        }
    }

    /// Whether a cleaning round is under way.
    pub fn cleaning(&self) -> bool {
        self.rounds_begun > self.rounds_done + self.rounds_abandoned
    }

    /// What happened between `before` and `self` (`last_round` is `self`'s).
    pub fn since(&self, before: &Tally) -> Tally {
        Tally {
            rounds_begun: self.rounds_begun - before.rounds_begun,
            rounds_done: self.rounds_done - before.rounds_done,
            rounds_abandoned: self.rounds_abandoned - before.rounds_abandoned,
            read_mb: self.read_mb - before.read_mb,
            written_mb: self.written_mb - before.written_mb,
            clean_secs: self.clean_secs - before.clean_secs,
            dirty_bytes: self.dirty_bytes - before.dirty_bytes,
            segments_deleted: self.segments_deleted - before.segments_deleted,
            deleted_bytes: self.deleted_bytes - before.deleted_bytes,
            last_round: self.last_round,
        }
    }

    /// Adds `other`'s counts to `self`'s.
    pub fn add(&mut self, other: &Tally) {
        self.rounds_begun += other.rounds_begun;
        self.rounds_done += other.rounds_done;
        self.rounds_abandoned += other.rounds_abandoned;
        self.read_mb += other.read_mb;
        self.written_mb += other.written_mb;
        self.clean_secs += other.clean_secs;
        self.dirty_bytes += other.dirty_bytes;
        self.segments_deleted += other.segments_deleted;
        self.deleted_bytes += other.deleted_bytes;
        self.last_round = other.last_round.or(self.last_round);
    }

    /// One line for a row's note.
    pub fn describe(&self) -> String {
        format!(
            "{} cleaner round(s) ({} begun, {} abandoned) read {:.1} MB, wrote {:.1} MB in \
             {:.2} s; {} segment(s) of {:.1} MB deleted",
            self.rounds_done,
            self.rounds_begun,
            self.rounds_abandoned,
            self.read_mb,
            self.written_mb,
            self.clean_secs,
            self.segments_deleted,
            self.deleted_bytes as f64 / 1e6
        )
    }
}

fn after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    s.find(marker).map(|at| &s[at + marker.len()..])
}

fn number(s: &str) -> Option<f64> {
    s.trim_end_matches([',', ':']).parse().ok()
}

/// Checks the parser against the broker's wording (run at start-up, as `wire::self_check`).
pub fn self_check() -> Result<(), String> {
    let mut t = Tally::default();
    t.note("[x INFO minikafka::storage::cleaner] t-0: cleaning offsets 0..120 (5000 dirty bytes of 9000)");
    t.note("[x INFO minikafka::storage::cleaner] t-0: cleaned up to offset 120: read 1.5 MB, wrote 0.5 MB in 0.250 s");
    t.note("[x INFO minikafka::storage::retention] /tmp/d/r-0: deleting segment 42 (1048000 bytes, largest timestamp 17): RetentionBytes breached");
    let ok = t.rounds_begun == 1
        && t.rounds_done == 1
        && t.dirty_bytes == 5000
        && t.last_round == Some((1.5, 0.5, 0.25))
        && t.segments_deleted == 1
        && t.deleted_bytes == 1_048_000
        && !t.cleaning();
    if ok {
        Ok(())
    } else {
        Err(format!("housekeeping line parser: {t:?}"))
    }
}
