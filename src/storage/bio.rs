//! The log's slow file work, off the event loop: one thread taking jobs from a queue, as
//! Redis's `bio.c` does for its fsyncs and unlinks, and as Kafka's roll hands the flush of
//! the segment it closed to its scheduler (`UnifiedLog.roll`, "flush-log"). On the loop, a
//! segment roll, a retention pass and a checkpoint cost a write and a rename; the syncs and
//! the unlinks that took milliseconds each happen here meanwhile.
//!
//! A job that makes data durable reports back ([`Done`]): a partition's recovery point moves
//! only when the sync of everything below it is done, so the recovery point checkpoint (also
//! written here) never names an offset that a power loss could take away. The loop polls the
//! reports each turn; nothing waits for them but a clean shutdown ([`Bio::drain`]).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use super::{index, LogId};

pub enum Job {
    /// Syncs closed segments (their data, then their index files, found by name in `dir`:
    /// a segment deleted meanwhile is skipped), then reports the log synced below `offset`.
    SyncSegments { log: LogId, dir: PathBuf, segments: Vec<(i64, File)>, offset: i64 },
    /// A producer state snapshot written to `tmp`: synced, renamed to `path`, and the older
    /// snapshots of its directory removed, as `snapshot::write` does in one go.
    Snapshot { file: File, tmp: PathBuf, path: PathBuf, offset: i64 },
    /// A checkpoint file's new text: written to a `.tmp`, synced and renamed over `path`.
    Checkpoint { path: PathBuf, text: String },
    /// Files renamed `.deleted` whose file.delete.delay.ms is up.
    Delete(Vec<PathBuf>),
    /// Answers once every job queued before it is done.
    Barrier(Sender<()>),
}

/// A sync the loop was waiting for: log `log` is on disk below `offset`, or the sync failed.
pub struct Done {
    pub log: LogId,
    pub offset: i64,
    pub result: io::Result<()>,
}

pub struct Bio {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
    /// Reports of jobs that ran on the loop for want of the thread.
    pending_inline: Vec<Done>,
}

impl Bio {
    pub fn start() -> Bio {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (report, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("bio".into())
            .spawn(move || {
                for job in queue {
                    run(job, &report);
                }
            })
            .map_err(|e| log::error!("cannot start the background I/O thread: {e}"))
            .ok();
        Bio { jobs: thread.as_ref().map(|_| jobs), done, thread, pending_inline: Vec::new() }
    }

    /// Queues `job`. Without a thread (it could not be started, or it died) the job runs
    /// here, on the loop: slower, never skipped.
    pub fn submit(&mut self, job: Job) {
        let job = match &self.jobs {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::SendError(job)) => {
                    log::error!("the background I/O thread is gone: its work runs on the loop");
                    self.jobs = None;
                    job
                }
            },
            None => job,
        };
        self.pending_inline.extend(run_here(job));
    }

    /// The syncs finished since the last call.
    pub fn completed(&mut self) -> impl Iterator<Item = Done> + '_ {
        self.pending_inline.drain(..).chain(self.done.try_iter())
    }

    /// Waits until every job queued so far is done (a clean shutdown).
    pub fn drain(&mut self) {
        let (tx, rx) = mpsc::channel();
        self.submit(Job::Barrier(tx));
        let _ = rx.recv();
    }
}

impl Drop for Bio {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has done what was queued.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs `job` on the caller's thread (a log not run by a manager: tests, tools); returns its
/// report if it makes one.
pub fn run_here(job: Job) -> Option<Done> {
    let (report, done) = mpsc::channel();
    run(job, &report);
    drop(report);
    done.try_recv().ok()
}

fn run(job: Job, report: &Sender<Done>) {
    match job {
        Job::SyncSegments { log, dir, segments, offset } => {
            let result =
                segments.iter().try_for_each(|(base, file)| sync_segment(&dir, *base, file));
            if let Err(e) = &result {
                log::error!("{}: sync below offset {offset} failed: {e}", dir.display());
            }
            let _ = report.send(Done { log, offset, result });
        }
        Job::Snapshot { file, tmp, path, offset } => {
            match finish_snapshot(&file, &tmp, &path, offset) {
                Ok(()) => {}
                // Its topic was deleted meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    log::error!("{}: {e}", path.display());
                    let _ = fs::remove_file(&tmp);
                }
            }
        }
        Job::Checkpoint { path, text } => {
            if let Err(e) = write_synced(&path, &text) {
                log::error!("{}: {e}", path.display());
            }
        }
        Job::Delete(paths) => {
            for path in paths {
                match fs::remove_file(&path) {
                    Ok(()) => log::debug!("deleted {}", path.display()),
                    // Its topic was deleted meanwhile, directory and all.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => log::warn!("{}: {e}", path.display()),
                }
            }
        }
        Job::Barrier(tx) => {
            let _ = tx.send(());
        }
    }
}

/// Syncs a segment's data and its index files (which Kafka forces with the segment).
pub(super) fn sync_segment(dir: &Path, base: i64, file: &File) -> io::Result<()> {
    file.sync_data()?;
    for name in [index::offset_index_name(base), index::time_index_name(base)] {
        match File::open(dir.join(name)) {
            Ok(f) => f.sync_data()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn finish_snapshot(file: &File, tmp: &Path, path: &Path, offset: i64) -> io::Result<()> {
    file.sync_all()?;
    fs::rename(tmp, path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    super::snapshot::remove_others(dir, offset);
    Ok(())
}

/// Kafka's checkpoint write: a `.tmp` file, synced, renamed over the old one.
pub(super) fn write_synced(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}
