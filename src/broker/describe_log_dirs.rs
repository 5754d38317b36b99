//! DescribeLogDirs: the one log directory, with the size of every partition asked for (all
//! of them when `topics` is null), as Kafka's `ReplicaManager.describeLogDirs`. On one node
//! the log end offset is the high watermark: offset_lag is 0.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::describe_log_dirs::*;
use crate::protocol::error;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DescribeLogDirsRequest::decode(r, version)?;
    // Kafka: DESCRIBE on the cluster, else no results and CLUSTER_AUTHORIZATION_FAILED.
    if !b.cluster_authorized(crate::security::acl::op::DESCRIBE) {
        DescribeLogDirsResponse {
            throttle_time_ms: 0,
            error_code: error::CLUSTER_AUTHORIZATION_FAILED,
            results: vec![],
        }
        .encode(version, out);
        return Ok(Reply::Sent);
    }
    let mut topics: Vec<DescribeLogDirsTopic> = Vec::new();
    for (topic, partition, log) in b.logs.all() {
        let wanted = req.topics.as_ref().is_none_or(|ts| {
            ts.iter().any(|t| t.topic == topic && t.partitions.contains(&partition))
        });
        if !wanted {
            continue;
        }
        let entry = DescribeLogDirsPartition {
            partition_index: partition,
            partition_size: log.size() as i64,
            offset_lag: 0,
            is_future_key: false,
        };
        match topics.iter_mut().find(|t| t.name == topic) {
            Some(t) => t.partitions.push(entry),
            None => topics.push(DescribeLogDirsTopic { name: topic, partitions: vec![entry] }),
        }
    }
    for t in &mut topics {
        t.partitions.sort_by_key(|p| p.partition_index);
    }
    let dir = std::path::absolute(b.logs.log_dir()).unwrap_or_else(|_| b.logs.log_dir().into());
    let (total_bytes, usable_bytes) = volume_bytes(&dir).unwrap_or((-1, -1));
    let log_dir = dir.to_string_lossy();
    DescribeLogDirsResponse {
        throttle_time_ms: 0,
        error_code: error::NONE,
        results: vec![DescribeLogDirsResult {
            error_code: error::NONE,
            log_dir: &log_dir,
            topics,
            total_bytes,
            usable_bytes,
        }],
    }
    .encode(version, out);
    Ok(Reply::Sent)
}

/// glibc's `struct statvfs` on 64-bit Linux: eleven unsigned longs, then six ints of padding.
#[repr(C)]
#[derive(Default)]
struct StatVfs {
    f_bsize: u64,
    f_frsize: u64,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_favail: u64,
    f_fsid: u64,
    f_flag: u64,
    f_namemax: u64,
    spare: [i32; 6],
}

extern "C" {
    fn statvfs(path: *const std::ffi::c_char, buf: *mut StatVfs) -> i32;
}

/// The size of the volume holding `dir` and the bytes an unprivileged writer may still use,
/// as Java's `FileStore.getTotalSpace` / `getUsableSpace` (which Kafka reports) compute them.
fn volume_bytes(dir: &Path) -> Option<(i64, i64)> {
    if !cfg!(all(target_os = "linux", target_pointer_width = "64")) {
        return None;
    }
    let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = StatVfs::default();
    // SAFETY: a NUL-terminated path and a buffer laid out as the C struct, both live for
    // the call.
    if unsafe { statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Some((clamp(st.f_blocks * st.f_frsize), clamp(st.f_bavail * st.f_frsize)))
}
