//! The page cache's append rate: this process appending record batches with `write_all` to a
//! fresh file, with no broker and no network. The broker's produce path ends in the same kind
//! of copy into newly allocated page-cache pages, which on a VM that hands freed memory back
//! to its host can cost more than everything else the broker does.
//!
//! And the disk's own sync rate, the floor of durable mode: the same appends each followed by
//! `fdatasync`, one at a time, and the cache flushes the block device completed meanwhile.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::broker::TempDir;
use crate::drive::{self, Plan, Run};

/// One file appended to across every call of [`Append::run`], as a broker's segment grows
/// across the slices of an interleaved comparison.
pub struct Append {
    file: File,
    path: PathBuf,
    // Declared after `file` so that the file is closed before its directory is removed.
    dir: TempDir,
}

impl Append {
    /// A new file in a new directory under the system temp dir: where the broker's log
    /// directories are, so on the same filesystem.
    pub fn create(tag: &str) -> Result<Append, String> {
        let dir = TempDir::new(tag)?;
        let path = dir.path().join("append.log");
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("create {}: {e}", path.display()))?;
        Ok(Append { file, path, dir })
    }

    /// Appends `batch` over and over: a warm-up, then a window bounded in time and in count.
    /// Latency is one `write_all` call.
    pub fn run(&mut self, batch: &[u8], plan: Plan) -> Result<Run, String> {
        drive::timed(plan, || {
            let t = Instant::now();
            self.file
                .write_all(batch)
                .map_err(|e| format!("write {}: {e}", self.path.display()))?;
            Ok(t.elapsed())
        })
    }

    /// [`run`](Self::run) with an `fdatasync` after each write, as the broker syncs a
    /// partition in durable mode. Latency is one write and its sync.
    pub fn run_synced(&mut self, batch: &[u8], plan: Plan) -> Result<Run, String> {
        drive::timed(plan, || {
            let t = Instant::now();
            self.file
                .write_all(batch)
                .map_err(|e| format!("write {}: {e}", self.path.display()))?;
            self.file.sync_data().map_err(|e| format!("fdatasync {}: {e}", self.path.display()))?;
            Ok(t.elapsed())
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The block device a path lives on, as `/proc/diskstats` names it (major, minor).
#[derive(Debug, Clone, Copy)]
pub struct Device(u32, u32);

impl Device {
    /// None where the filesystem has no block device of its own in `/proc/diskstats`
    /// (tmpfs, overlayfs) or the kernel predates flush statistics (5.5).
    pub fn of(path: &Path) -> Option<Device> {
        let dev = std::fs::metadata(path).ok()?.dev();
        // glibc's major()/minor() encoding of dev_t.
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        let d = Device(major as u32, minor as u32);
        d.flushes().map(|_| d)
    }

    /// Cache flushes the device completed since boot, every process's: what an `fdatasync`
    /// costs a disk with a volatile write cache, so fewer of them than syncs asked for is
    /// group commit (the filesystem's journal or the broker's) at work.
    pub fn flushes(&self) -> Option<u64> {
        let stats = std::fs::read_to_string("/proc/diskstats").ok()?;
        stats.lines().find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (major, minor) = (f.first()?.parse::<u32>().ok()?, f.get(1)?.parse::<u32>().ok()?);
            // Field 16 after the name: flush requests completed.
            ((major, minor) == (self.0, self.1)).then(|| f.get(2 + 16)?.parse().ok())?
        })
    }
}
