//! Reads whole stored batches from the batch holding `fetch_offset` on, as they are on disk.
//! Each partition takes at most `partition_max_bytes` and the response at most `max_bytes`,
//! except that the first batch found is always returned whole so a consumer can progress.
//! A fetch that finds fewer than `min_bytes` waits up to `max_wait_ms` for more (see
//! `waiting`). The records are found from the index and batch headers and not decoded: large
//! stretches go from the segment file to the socket (see `protocol::output`), small ones are
//! read into the response.

use std::os::unix::fs::FileExt;

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::fetch::*;
use crate::protocol::nested::Step;
use crate::protocol::output::Output;
use crate::security::acl;
use crate::storage::{LogId, PartitionLog};

pub fn handle(b: &mut Broker, r: &mut Reader<'_>, version: i16, out: &mut Output) -> HandlerResult {
    let req = FetchRequest::decode(r, version)?;
    // Reused from request to request: answering a fetch allocates nothing.
    let mut scratch = std::mem::take(&mut b.fetch_scratch);
    let reply = respond(b, &req, version, &mut scratch, out);
    scratch.partitions.clear(); // let go of the files
    scratch.logs.clear();
    scratch.read.clear();
    b.fetch_scratch = scratch;
    reply
}

/// Stretches of records up to this size are read into the response rather than sent from
/// the file: one read instead of a send and a TCP segment of their own (a consumer at the
/// tail of a log fetches a few small batches at a time).
const READ_BELOW: usize = 16 << 10;

/// What a fetch collects before it answers, kept in the broker for its capacity.
#[derive(Default)]
pub struct Scratch {
    partitions: Vec<PartitionData>,
    /// The logs read, which a parked fetch waits on.
    logs: Vec<LogId>,
    /// Small stretches of records, read.
    read: Vec<u8>,
}

fn respond(
    b: &mut Broker,
    req: &FetchRequest<'_>,
    version: i16,
    scratch: &mut Scratch,
    out: &mut Output,
) -> HandlerResult {
    let cap = b.config.fetch_max_bytes;
    let mut budget = if req.max_bytes <= 0 { cap } else { (req.max_bytes as usize).min(cap) };
    let (partitions, watch, read) = (&mut scratch.partitions, &mut scratch.logs, &mut scratch.read);
    let mut any_error = false;
    let mut found = 0;
    let unknown =
        if version >= 13 { error::UNKNOWN_TOPIC_ID } else { error::UNKNOWN_TOPIC_OR_PARTITION };
    let mut topic = None;
    let mut readable = true;
    for step in req.topics() {
        let p = match step? {
            Step::Outer(t, _) => {
                topic = if version >= 13 {
                    b.meta.topic_by_id(&t.topic_id)
                } else {
                    b.meta.topic(t.topic)
                };
                // An unknown id names nothing to authorize; a name is checked whether or not
                // the topic exists, as Kafka does.
                let name = topic.map_or(t.topic, |t| t.name.as_str());
                readable = (version >= 13 && topic.is_none())
                    || b.authorized(acl::op::READ, acl::resource::TOPIC, name);
                continue;
            }
            Step::Inner(p) => p,
        };
        if !readable {
            any_error = true;
            partitions.push(PartitionData {
                aborted_transactions: Some(Vec::new()),
                ..empty(p.partition, error::TOPIC_AUTHORIZATION_FAILED, -1, -1)
            });
            continue;
        }
        // An unknown topic (id) and a missing partition of a known topic differ.
        // Kafka answers these with an empty aborted-transactions list, not a null one.
        let Some(topic) = topic else {
            any_error = true;
            partitions.push(PartitionData {
                aborted_transactions: Some(Vec::new()),
                ..empty(p.partition, unknown, -1, -1)
            });
            continue;
        };
        let Some(log) = b.logs.find(&topic.name, p.partition) else {
            any_error = true;
            partitions.push(PartitionData {
                aborted_transactions: Some(Vec::new()),
                ..empty(p.partition, error::UNKNOWN_TOPIC_OR_PARTITION, -1, -1)
            });
            continue;
        };
        watch.push(log);
        let log = b.logs.get_mut(log);
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        if p.fetch_offset < start || p.fetch_offset > end {
            any_error = true;
            // Kafka leaves the offsets unknown (-1); the client asks ListOffsets for them.
            partitions.push(empty(p.partition, error::OFFSET_OUT_OF_RANGE, -1, -1));
            continue;
        }
        let limit = budget.min(p.partition_max_bytes.max(0) as usize);
        let mut records = None;
        let committed = req.isolation_level == READ_COMMITTED;
        // read_committed readers get nothing past the last stable offset.
        let below = if committed { log.last_stable_offset() } else { i64::MAX };
        let mut aborted = None;
        if committed {
            let list: Vec<(i64, i64)> =
                log.aborted_from(p.fetch_offset).map(|t| (t.producer_id, t.first_offset)).collect();
            aborted = Some(list);
        }
        let lso = log.last_stable_offset();
        if p.fetch_offset < end && (limit > 0 || found == 0) {
            match read_records(log, p.fetch_offset, limit, below, read) {
                Ok(r) => records = r,
                Err(e) => {
                    log::error!("{}: read failed: {e}", log.dir().display());
                    any_error = true;
                    partitions.push(empty(p.partition, error::KAFKA_STORAGE_ERROR, end, start));
                    continue;
                }
            }
        }
        let len = match &records {
            None => 0,
            Some(Records::File(f)) => f.len,
            Some(Records::Read(r)) => r.len(),
        };
        budget = budget.saturating_sub(len);
        found += len;
        partitions.push(PartitionData {
            records,
            last_stable_offset: lso,
            aborted_transactions: aborted,
            ..empty(p.partition, error::NONE, end, start)
        });
    }
    // Kafka answers at once when there is nothing to wait for, an error to report, or enough.
    if !watch.is_empty() && !any_error && found < req.min_bytes.max(0) as usize {
        if let Some(deadline) = b.wait_deadline(req.max_wait_ms) {
            return Ok(Reply::Park { deadline, watch: watch.clone() });
        }
    }
    if req.isolation_level == READ_COMMITTED {
        // Partitions answered with an error have no aborted transactions to tell: an empty
        // list, where a read_uncommitted fetch gets null, as Kafka answers.
        for p in partitions.iter_mut() {
            p.aborted_transactions.get_or_insert_with(Vec::new);
        }
    }
    FetchResponse {
        throttle_time_ms: 0,
        error_code: error::NONE,
        session_id: 0,
        request: Some(req),
        partitions,
        read,
    }
    .encode(version, out)?;
    Ok(Reply::Sent)
}

/// The records a fetch from `offset` returns: small stretches read into `read`, others left
/// in the file to be sent from it.
fn read_records(
    log: &mut PartitionLog,
    offset: i64,
    limit: usize,
    below: i64,
    read: &mut Vec<u8>,
) -> std::io::Result<Option<Records>> {
    let Some(s) = log.slice_below(offset, limit, below)? else { return Ok(None) };
    if s.len > READ_BELOW {
        return Ok(Some(Records::File(s)));
    }
    let at = read.len();
    read.resize(at + s.len, 0);
    if let Err(e) = s.file.read_exact_at(&mut read[at..], s.position) {
        read.truncate(at);
        return Err(e);
    }
    Ok(Some(Records::Read(at..read.len())))
}

const READ_COMMITTED: i8 = 1;

/// A partition answer without records. With one replica the high watermark and the last
/// stable offset (no open transactions yet) are both the log end offset.
fn empty(partition_index: i32, error_code: i16, end: i64, start: i64) -> PartitionData {
    PartitionData {
        partition_index,
        error_code,
        high_watermark: end,
        last_stable_offset: end,
        log_start_offset: start,
        aborted_transactions: None,
        preferred_read_replica: -1,
        records: None,
    }
}
