//! The page cache's append rate: this process appending record batches with `write_all` to a
//! fresh file, with no broker and no network. The broker's produce path ends in the same kind
//! of copy into newly allocated page-cache pages, which on a VM that hands freed memory back
//! to its host can cost more than everything else the broker does.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::broker::TempDir;
use crate::drive::{self, Plan, Run};

/// One file appended to across every call of [`Append::run`], as a broker's segment grows
/// across the slices of an interleaved comparison.
pub struct Append {
    file: File,
    path: PathBuf,
    // Declared after `file` so that the file is closed before its directory is removed.
    _dir: TempDir,
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
        Ok(Append { file, path, _dir: dir })
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
}
