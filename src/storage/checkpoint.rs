//! Kafka's checkpoint files (`storage/internals/checkpoint/CheckpointFile.java`): a version
//! line (0), a count line, then one entry per line. The log directory holds
//! `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` and
//! `replication-offset-checkpoint` (entries `topic partition offset`); a partition directory
//! holds `leader-epoch-checkpoint` (entries `epoch start_offset`). Written as Kafka writes
//! them: to a `.tmp` file, synced, then renamed over the old one.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

pub const RECOVERY_POINT: &str = "recovery-point-offset-checkpoint";
pub const LOG_START_OFFSET: &str = "log-start-offset-checkpoint";
pub const HIGH_WATERMARK: &str = "replication-offset-checkpoint";
pub const LEADER_EPOCH: &str = "leader-epoch-checkpoint";
/// The marker Kafka writes last on a clean shutdown and deletes when it starts
/// (`CleanShutdownFileHandler`): with it, Kafka trusts the logs and their indexes as they are.
pub const CLEAN_SHUTDOWN: &str = ".kafka_cleanshutdown";

fn text_of(entries: &[String]) -> String {
    let mut text = format!("0\n{}\n", entries.len());
    for e in entries {
        text.push_str(e);
        text.push('\n');
    }
    text
}

fn write_lines(path: &Path, entries: &[String]) -> io::Result<()> {
    let text = text_of(entries);
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// The entry lines of a checkpoint file; `None` if it is missing, malformed, or not version 0.
fn read_lines(path: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()?.trim() != "0" {
        return None;
    }
    let n: usize = lines.next()?.trim().parse().ok()?;
    let entries: Vec<String> = lines.take(n).map(str::to_string).collect();
    (entries.len() == n).then_some(entries)
}

pub fn write_offsets(path: &Path, entries: &[(&str, i32, i64)]) -> io::Result<()> {
    write_lines(path, &offset_lines(entries))
}

/// What [`write_offsets`] writes, for a writer of its own (the background thread).
pub fn offsets_text(entries: &[(&str, i32, i64)]) -> String {
    text_of(&offset_lines(entries))
}

fn offset_lines(entries: &[(&str, i32, i64)]) -> Vec<String> {
    entries.iter().map(|(t, p, o)| format!("{t} {p} {o}")).collect()
}

/// `(topic, partition) -> offset`; empty if the file is missing or unreadable.
pub fn read_offsets(path: &Path) -> HashMap<(String, i32), i64> {
    let mut out = HashMap::new();
    for line in read_lines(path).unwrap_or_default() {
        let mut f = line.split_whitespace();
        if let (Some(t), Some(Ok(p)), Some(Ok(o))) =
            (f.next(), f.next().map(str::parse), f.next().map(str::parse))
        {
            out.insert((t.to_string(), p), o);
        }
    }
    out
}

pub fn write_leader_epochs(path: &Path, entries: &[(i32, i64)]) -> io::Result<()> {
    let lines: Vec<String> = entries.iter().map(|(e, o)| format!("{e} {o}")).collect();
    write_lines(path, &lines)
}

/// `(epoch, start offset)` in file order; empty if the file is missing or unreadable.
pub fn read_leader_epochs(path: &Path) -> Vec<(i32, i64)> {
    let mut out = Vec::new();
    for line in read_lines(path).unwrap_or_default() {
        let mut f = line.split_whitespace();
        if let (Some(Ok(e)), Some(Ok(o))) = (f.next().map(str::parse), f.next().map(str::parse)) {
            out.push((e, o));
        }
    }
    out
}

/// Writes the clean shutdown marker. The broker epoch is the offset of the broker's
/// registration in the metadata log, which this broker does not write: -1, unknown.
pub fn write_clean_shutdown(log_dir: &Path) -> io::Result<()> {
    let mut f = fs::File::create(log_dir.join(CLEAN_SHUTDOWN))?;
    f.write_all(br#"{"version":0,"brokerEpoch":-1}"#)?;
    f.sync_all()
}

/// Removes the marker: from now on the directory changes, and a crash must not look clean.
pub fn clear_clean_shutdown(log_dir: &Path) -> io::Result<()> {
    match fs::remove_file(log_dir.join(CLEAN_SHUTDOWN)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_epochs_round_trip_in_kafkas_layout() {
        let d = crate::testutil::TempDir::new("ckpt");
        let p = d.join(RECOVERY_POINT);
        write_offsets(&p, &[("a", 0, 5), ("b-c", 3, 0)]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "0\n2\na 0 5\nb-c 3 0\n");
        let got = read_offsets(&p);
        assert_eq!(got.get(&("a".to_string(), 0)), Some(&5));
        assert_eq!(got.len(), 2);
        let e = d.join(LEADER_EPOCH);
        write_leader_epochs(&e, &[(0, 0), (2, 17)]).unwrap();
        assert_eq!(fs::read_to_string(&e).unwrap(), "0\n2\n0 0\n2 17\n");
        assert_eq!(read_leader_epochs(&e), [(0, 0), (2, 17)]);
        fs::write(&e, "1\n1\n0 0\n").unwrap();
        assert!(read_leader_epochs(&e).is_empty(), "unknown version");
    }
}
