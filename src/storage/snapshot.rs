//! Kafka's producer state snapshots (`<offset>.snapshot` in a partition's directory, written by
//! `ProducerStateManager.writeSnapshot`; schema `storage/src/main/resources/message/
//! ProducerSnapshot.json`): version (int16, 1), CRC-32C (uint32) of everything after it, and
//! an array (int32 count) of 46-byte entries: producer id, epoch, last sequence, last offset,
//! offset delta (last minus first sequence of the last batch), its max timestamp, coordinator
//! epoch, and the first offset of an open transaction (-1: none). The file's name is the
//! offset up to which the state was computed: the log end offset when written at shutdown.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::records::crc32c::crc32c;

const VERSION: i16 = 1;
const ENTRY_LEN: usize = 46;
const ENTRIES_AT: usize = 6;

/// One producer's state as a snapshot keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerEntry {
    pub producer_id: i64,
    pub epoch: i16,
    pub last_sequence: i32,
    pub last_offset: i64,
    pub offset_delta: i32,
    pub timestamp: i64,
    pub coordinator_epoch: i32,
    pub current_txn_first_offset: i64,
}

pub fn file_name(offset: i64) -> String {
    format!("{offset:020}.snapshot")
}

/// The snapshot files in `dir`, by offset.
pub fn list(dir: &Path) -> Vec<(i64, PathBuf)> {
    let mut out: Vec<(i64, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let stem = path.file_name()?.to_str()?.strip_suffix(".snapshot")?;
            let offset = stem.parse().ok().filter(|_| stem.len() == 20)?;
            Some((offset, path))
        })
        .collect();
    out.sort();
    out
}

pub fn encode(entries: &[ProducerEntry]) -> Vec<u8> {
    let mut b = Vec::with_capacity(ENTRIES_AT + 4 + entries.len() * ENTRY_LEN);
    b.extend_from_slice(&VERSION.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&(entries.len() as i32).to_be_bytes());
    for e in entries {
        b.extend_from_slice(&e.producer_id.to_be_bytes());
        b.extend_from_slice(&e.epoch.to_be_bytes());
        b.extend_from_slice(&e.last_sequence.to_be_bytes());
        b.extend_from_slice(&e.last_offset.to_be_bytes());
        b.extend_from_slice(&e.offset_delta.to_be_bytes());
        b.extend_from_slice(&e.timestamp.to_be_bytes());
        b.extend_from_slice(&e.coordinator_epoch.to_be_bytes());
        b.extend_from_slice(&e.current_txn_first_offset.to_be_bytes());
    }
    let crc = crc32c(&b[ENTRIES_AT..]);
    b[2..6].copy_from_slice(&crc.to_be_bytes());
    b
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("producer snapshot: {why}"))
}

pub fn decode(b: &[u8]) -> io::Result<Vec<ProducerEntry>> {
    if b.len() < ENTRIES_AT + 4 {
        return Err(invalid("too short"));
    }
    if i16::from_be_bytes([b[0], b[1]]) != VERSION {
        return Err(invalid("unknown version"));
    }
    if u32::from_be_bytes(b[2..6].try_into().expect("4")) != crc32c(&b[ENTRIES_AT..]) {
        return Err(invalid("CRC mismatch"));
    }
    let n = i32::from_be_bytes(b[6..10].try_into().expect("4"));
    let body = &b[10..];
    if n < 0 || body.len() != n as usize * ENTRY_LEN {
        return Err(invalid("entry count does not match the length"));
    }
    Ok(body
        .chunks_exact(ENTRY_LEN)
        .map(|e| {
            let i64_at = |at: usize| i64::from_be_bytes(e[at..at + 8].try_into().expect("8"));
            let i32_at = |at: usize| i32::from_be_bytes(e[at..at + 4].try_into().expect("4"));
            ProducerEntry {
                producer_id: i64_at(0),
                epoch: i16::from_be_bytes([e[8], e[9]]),
                last_sequence: i32_at(10),
                last_offset: i64_at(14),
                offset_delta: i32_at(22),
                timestamp: i64_at(26),
                coordinator_epoch: i32_at(34),
                current_txn_first_offset: i64_at(38),
            }
        })
        .collect())
}

/// Writes the snapshot at `offset` (to a temporary file, synced, then renamed into place) and
/// removes the older ones, which it supersedes.
pub fn write(dir: &Path, offset: i64, entries: &[ProducerEntry]) -> io::Result<()> {
    let (file, tmp, path) = write_unsynced(dir, offset, entries)?;
    let synced = file.sync_all().and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = synced {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    remove_others(dir, offset);
    Ok(())
}

/// The first half of [`write`]: the snapshot written to its temporary file, not synced and
/// not yet in place. Returns the open file, its name and the name it is to be renamed to.
pub fn write_unsynced(
    dir: &Path,
    offset: i64,
    entries: &[ProducerEntry],
) -> io::Result<(fs::File, PathBuf, PathBuf)> {
    let path = dir.join(file_name(offset));
    let tmp = path.with_extension("snapshot.tmp");
    let written = (|| {
        use std::io::Write;
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&encode(entries))?;
        Ok(f)
    })();
    match written {
        Ok(f) => Ok((f, tmp, path)),
        Err(e) => {
            // A full disk: what was written of it would only take room.
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Removes every snapshot of `dir` but the one at `offset`, which supersedes them.
pub fn remove_others(dir: &Path, offset: i64) {
    for (o, p) in list(dir) {
        if o != offset {
            let _ = fs::remove_file(p);
        }
    }
}

/// Removes the snapshots past `end`: a log cut back at recovery no longer holds what they
/// describe, and a log that grows past them again would be given the wrong producers.
pub fn remove_past(dir: &Path, end: i64) {
    for (o, p) in list(dir) {
        if o > end {
            log::info!("{}: removing producer snapshot past the log end {end}", p.display());
            let _ = fs::remove_file(p);
        }
    }
}

/// The newest snapshot at or below `at_most`, read: (its offset, entries). A snapshot that
/// does not read is skipped with a log line (the log is scanned instead).
pub fn latest(dir: &Path, at_most: i64) -> Option<(i64, Vec<ProducerEntry>)> {
    for (offset, path) in list(dir).into_iter().rev().filter(|(o, _)| *o <= at_most) {
        match fs::read(&path).and_then(|b| decode(&b)) {
            Ok(entries) => return Some((offset, entries)),
            Err(e) => log::warn!("{}: {e}", path.display()),
        }
    }
    None
}

/// The newest snapshot at or above `at_least` that reads: (its offset, entries).
pub fn latest_from(dir: &Path, at_least: i64) -> Option<(i64, Vec<ProducerEntry>)> {
    for (offset, path) in list(dir).into_iter().rev().filter(|(o, _)| *o >= at_least) {
        match fs::read(&path).and_then(|b| decode(&b)) {
            Ok(entries) => return Some((offset, entries)),
            Err(e) => log::warn!("{}: {e}", path.display()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip_and_damage_is_caught() {
        let e = ProducerEntry {
            producer_id: 1000,
            epoch: 3,
            last_sequence: 41,
            last_offset: 700,
            offset_delta: 9,
            timestamp: 1_700_000_000_000,
            coordinator_epoch: -1,
            current_txn_first_offset: -1,
        };
        let b = encode(&[e, ProducerEntry { producer_id: 7, ..e }]);
        assert_eq!(b.len(), 10 + 2 * ENTRY_LEN);
        assert_eq!(decode(&b).unwrap(), [e, ProducerEntry { producer_id: 7, ..e }]);
        let mut bad = b.clone();
        bad[20] ^= 1;
        assert!(decode(&bad).is_err());
        assert!(decode(&b[..b.len() - 1]).is_err());
        let d = crate::testutil::TempDir::new("snapshot");
        write(&d, 50, &[e]).unwrap();
        write(&d, 120, &[e, ProducerEntry { producer_id: 7, ..e }]).unwrap();
        assert_eq!(list(&d).len(), 1, "older snapshots removed");
        assert_eq!(latest(&d, 119), None);
        assert_eq!(latest(&d, 120).unwrap().1.len(), 2);
    }
}
