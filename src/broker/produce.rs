//! Validates every batch of a partition's records before appending any, then appends them
//! with the partition's next offsets. Errors are per partition, as Kafka answers them.

use super::{txn_verify, Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::nested::Step;
use crate::protocol::produce::*;
use crate::records::{self, BatchHeader};
use crate::security::acl;
use crate::storage::{self, Appended, LogConfig, LogId};

pub fn handle(
    b: &mut Broker,
    conn: usize,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ProduceRequest::decode(r, version)?;
    let acks_ok = matches!(req.acks, -1..=1);
    // Reused from request to request: answering a produce allocates nothing.
    let mut responses = std::mem::take(&mut b.produce_responses);
    responses.clear();
    let request_error = txn_verify::request_error(b, &req);
    // The log each partition appended to, for withdrawing its answer if the write fails.
    let mut appended = std::mem::take(&mut b.produce_appended);
    appended.clear();
    let mut topic = "";
    let mut writable = true;
    for item in req.topic_data() {
        let p = match item? {
            Step::Outer(name, _) => {
                topic = name;
                writable = b.authorized(acl::op::WRITE, acl::resource::TOPIC, name);
                continue;
            }
            Step::Inner(p) => p,
        };
        if let Some(code) = request_error {
            appended.push(None);
            responses.push(PartitionProduceResponse::error(p.index, code, None));
            continue;
        }
        // The log manager holds a log for exactly the partitions the metadata names.
        let resp = match b.logs.find(topic, p.index) {
            _ if !acks_ok => {
                PartitionProduceResponse::error(p.index, error::INVALID_REQUIRED_ACKS, None)
            }
            // Kafka checks WRITE before it looks for the topic.
            _ if !writable => {
                PartitionProduceResponse::error(p.index, error::TOPIC_AUTHORIZATION_FAILED, None)
            }
            None => {
                PartitionProduceResponse::error(p.index, error::UNKNOWN_TOPIC_OR_PARTITION, None)
            }
            Some(log) => {
                let producer = txn_verify::transactional_producer(p.records);
                let refused = match (req.transactional_id, producer) {
                    (Some(tid), Some(producer)) => {
                        txn_verify::verify(b, tid, version, topic, p.index, producer)
                    }
                    _ => None,
                };
                let resp = refused.unwrap_or_else(|| append(b, log, p.index, p.records));
                appended.push((resp.error_code == error::NONE).then_some(log));
                responses.push(resp);
                continue;
            }
        };
        appended.push(None);
        responses.push(resp);
    }
    // acks=0 has no response to carry an error: Kafka closes the connection instead, so the
    // producer notices (it reconnects and refreshes its metadata).
    if req.acks == 0 && responses.iter().any(|r| r.error_code != error::NONE) {
        let code = responses.iter().find(|r| r.error_code != error::NONE).unwrap().error_code;
        log::info!("closing connection {conn}: produce with acks=0 failed with error {code}");
        b.produce_responses = responses;
        b.produce_appended = appended;
        return Ok(Reply::Close);
    }
    let mut positions = std::mem::take(&mut b.produce_positions);
    positions.clear();
    let encoded = if req.acks == 0 {
        // No answer to withdraw: a failed write closes the connection, as an error would.
        for &log in appended.iter().flatten() {
            b.turn_acks.push((conn, log));
        }
        Ok(())
    } else {
        ProduceResponse { request: &req, partition_responses: &responses, throttle_time_ms: 0 }
            .encode(version, out, Some(&mut positions))
    };
    if encoded.is_ok() && req.acks != 0 {
        for (log, &at) in appended.iter().zip(&positions) {
            if let Some(log) = *log {
                b.produce_acks.push((conn, log, at));
            }
        }
    }
    b.produce_responses = responses;
    b.produce_appended = appended;
    b.produce_positions = positions;
    encoded?;
    Ok(if req.acks == 0 { Reply::Silent } else { Reply::Sent })
}

fn append(
    b: &mut Broker,
    log: LogId,
    index: i32,
    records: Option<&[u8]>,
) -> PartitionProduceResponse {
    // Kafka names the reason only for INVALID_RECORD; the others it leaves to the code.
    let fail = |code, msg: &'static str| {
        log::debug!("produce refused ({code}): {msg}");
        let msg = (code == error::INVALID_RECORD).then_some(msg);
        PartitionProduceResponse::error(index, code, msg)
    };
    let Some(records) = records.filter(|r| !r.is_empty()) else {
        return fail(error::INVALID_RECORD, "produce request without records");
    };
    // The topic's max.message.bytes (else the broker's message.max.bytes), per batch as
    // Kafka's log checks it.
    let config = *b.logs.get(log).config();
    let max_message_bytes = config.max_message_bytes;
    let now = storage::now_ms();
    // Batches re-encoded to the topic's compression.type, by their place in the request.
    let mut converted: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, batch) in records::batches(records).enumerate() {
        match batch {
            Err(e) => {
                log::warn!("produce to {}: {}", b.logs.get(log).dir().display(), e.reason);
                return fail(e.code, e.reason);
            }
            Ok((_, batch)) if batch.len() > max_message_bytes => {
                return fail(error::MESSAGE_TOO_LARGE, "batch larger than max.message.bytes");
            }
            Ok((h, _)) if h.compression() > 4 => {
                return fail(error::UNSUPPORTED_COMPRESSION_TYPE, "unknown compression codec");
            }
            Ok((h, _)) if h.is_control() => {
                return fail(error::INVALID_RECORD, "clients may not write control batches");
            }
            Ok((h, batch)) => {
                // Kafka's LogValidator reads every record of a compressed batch, so one
                // that does not decompress is refused; its KafkaException ("Failed to
                // decompress record stream") reaches the client as UNKNOWN_SERVER_ERROR.
                let section = match records::records_section(batch, &h, records::DECOMPRESSED_LIMIT)
                {
                    Ok(s) => s,
                    Err(e) => {
                        log::warn!("produce to {}: {e}", b.logs.get(log).dir().display());
                        let mut resp =
                            fail(error::UNKNOWN_SERVER_ERROR, "records do not decompress");
                        // Kafka's log refused it, and names its start offset.
                        resp.log_start_offset = b.logs.get(log).log_start_offset();
                        return resp;
                    }
                };
                if h.compression() != records::compression::NONE
                    && !records::Records::section_is_whole(&section, h.records_count)
                {
                    log::warn!(
                        "produce to {}: compressed records do not match their count",
                        b.logs.get(log).dir().display()
                    );
                    // Kafka's InvalidRecordException ("Incorrect declared batch size"), with
                    // no message in the answer.
                    let mut resp =
                        PartitionProduceResponse::error(index, error::INVALID_RECORD, None);
                    resp.log_start_offset = b.logs.get(log).log_start_offset();
                    return resp;
                }
                let record_errors = check_timestamps(&config, &h, &section, now);
                if !record_errors.is_empty() {
                    let mut resp = PartitionProduceResponse::error(
                        index,
                        error::INVALID_TIMESTAMP,
                        Some("One or more records have been rejected due to invalid timestamp"),
                    );
                    resp.record_errors = record_errors;
                    // Kafka names the log start offset with a refused record.
                    resp.log_start_offset = b.logs.get(log).log_start_offset();
                    return resp;
                }
                if config.compact {
                    let keyless = keyless_records(&h, &section);
                    if !keyless.is_empty() {
                        // Kafka names the partition as `topic-partition`: the log's directory.
                        let dir = b.logs.get(log).dir();
                        let tp = dir.file_name().unwrap_or_default().to_string_lossy();
                        let errors: Vec<(i32, String)> = keyless
                            .iter()
                            .map(|&i| {
                                let m = "Compacted topic cannot accept message without key in \
                                         topic partition";
                                (i, format!("{m} {tp}"))
                            })
                            .collect();
                        let shown: Vec<String> = errors
                            .iter()
                            .take(3)
                            .map(|(i, m)| format!("RecordError(batchIndex={i}, message='{m}')"))
                            .collect();
                        let msg = format!(
                            "One or more records have been rejected due to {} record errors in \
                             total, and only showing the first three errors at most: [{}]",
                            errors.len(),
                            shown.join(", ")
                        );
                        let mut resp =
                            PartitionProduceResponse::error(index, error::INVALID_RECORD, None);
                        resp.error_message = Some(msg.into());
                        resp.record_errors = errors;
                        resp.log_start_offset = b.logs.get(log).log_start_offset();
                        return resp;
                    }
                }
                if let Some(codec) = config.compression.filter(|&c| c != h.compression()) {
                    let rebuilt =
                        records::build_batch(&h, &section, codec, config.compression_level);
                    // Kafka checks the batch it will append, so a batch that grows past the
                    // limit by its new codec is refused too.
                    if rebuilt.len() > max_message_bytes {
                        return fail(
                            error::MESSAGE_TOO_LARGE,
                            "batch larger than max.message.bytes",
                        );
                    }
                    converted.push((i, rebuilt));
                }
            }
        }
    }
    let mut base_offset = None;
    let mut log_append_time_ms = if config.log_append_time { now } else { -1 };
    let mut scratch = std::mem::take(&mut b.produce_scratch);
    let mut converted = converted.iter().peekable();
    for (i, batch) in records::checked_batches(records).enumerate() {
        let batch = match converted.next_if(|(at, _)| *at == i) {
            Some((_, rebuilt)) => &rebuilt[..],
            None => batch,
        };
        let batch = if config.log_append_time {
            scratch.clear();
            scratch.extend_from_slice(batch);
            records::stamp_log_append_time(&mut scratch, now);
            &scratch[..]
        } else {
            batch
        };
        let appended = b.logs.append(log, batch);
        match appended {
            Ok(Appended::At(o)) => {
                base_offset.get_or_insert(o);
            }
            Ok(Appended::Duplicate(o, max_timestamp)) => {
                base_offset.get_or_insert(o);
                // Kafka answers a retried batch with the timestamp it kept for it.
                log_append_time_ms = max_timestamp;
            }
            Ok(Appended::Rejected(code, why)) => {
                b.produce_scratch = scratch;
                log::debug!("produce to {}: {why}", b.logs.get(log).dir().display());
                // A producer-state refusal comes from the log itself, which Kafka then names
                // by its start offset.
                let mut resp = fail(code, why);
                resp.log_start_offset = b.logs.get(log).log_start_offset();
                return resp;
            }
            Err(e) => {
                b.produce_scratch = scratch;
                log::error!("produce to {}: {e}", b.logs.get(log).dir().display());
                return fail(error::KAFKA_STORAGE_ERROR, "the log could not be written");
            }
        }
    }
    b.produce_scratch = scratch;
    PartitionProduceResponse {
        index,
        error_code: error::NONE,
        base_offset: base_offset.unwrap_or(-1),
        log_append_time_ms,
        log_start_offset: b.logs.get(log).log_start_offset(),
        error_message: None,
        record_errors: Vec::new(),
    }
}

/// Kafka's `LogValidator.validateKey`: a compacted topic refuses records without a key (the
/// cleaner could not keep them). Returns the indexes of such records in the batch.
fn keyless_records(h: &BatchHeader, section: &[u8]) -> Vec<i32> {
    let recs = records::Records::of_section(section, h.records_count);
    recs.enumerate()
        .filter(|(_, r)| r.as_ref().is_ok_and(|r| r.key.is_none()))
        .map(|(i, _)| i as i32)
        .collect()
}

/// Kafka's `LogValidator.validateTimestamp` over one batch: with CreateTime, every record's
/// timestamp must lie within message.timestamp.before.max.ms behind and .after.max.ms ahead of
/// the broker's clock; a producer may not claim LogAppendTime itself. Returns Kafka's record
/// errors, empty when the batch passes.
///
/// `section` is the batch's records section, decompressed.
fn check_timestamps(
    config: &LogConfig,
    h: &BatchHeader,
    section: &[u8],
    now: i64,
) -> Vec<(i32, String)> {
    if timestamps_decided_by_header(config, h, now) {
        return Vec::new();
    }
    let claims_append_time = h.attributes & records::ATTR_TIMESTAMP_LOG_APPEND != 0;
    let (before, after) = (config.timestamp_before_max_ms, config.timestamp_after_max_ms);
    let out_of_range = |ts: i64| out_of_range(config, now, ts);
    // What a record's timestamp is to Kafka: in a batch marked LogAppendTime, the batch's max.
    let record_ts = |delta: i64| {
        if claims_append_time {
            h.max_timestamp
        } else {
            h.base_timestamp.wrapping_add(delta)
        }
    };
    let check = |index: i32, offset: i64, ts: i64, key: usize, value: usize| {
        if !config.log_append_time && ts != -1 {
            out_of_range(ts).then(|| {
                (
                    index,
                    format!(
                        "Timestamp {ts} of message with offset {offset} is out of range. The \
                         timestamp should be within [{}, {}]",
                        now.wrapping_sub(before),
                        now.wrapping_add(after)
                    ),
                )
            })
        } else if claims_append_time {
            Some((
                index,
                format!(
                    "Invalid timestamp type in message DefaultRecord(offset={offset}, \
                     timestamp={ts}, key={key} bytes, value={value} bytes). Producer should not \
                     set timestamp type to LogAppendTime."
                ),
            ))
        } else {
            None
        }
    };
    let mut errors = Vec::new();
    for (index, rec) in records::Records::of_section(section, h.records_count).enumerate() {
        let Ok(rec) = rec else { break };
        let offset = h.base_offset + i64::from(rec.offset_delta);
        let (key, value) = (rec.key.map_or(0, <[u8]>::len), rec.value.map_or(0, <[u8]>::len));
        errors.extend(check(index as i32, offset, record_ts(rec.timestamp_delta), key, value));
    }
    errors
}

/// Java's long arithmetic, which wraps.
fn out_of_range(config: &LogConfig, now: i64, ts: i64) -> bool {
    let diff = now.wrapping_sub(ts);
    diff > config.timestamp_before_max_ms || diff.wrapping_neg() > config.timestamp_after_max_ms
}

/// The common cases decided from the header alone, so a produce allocates (and decompresses)
/// nothing: the broker's own clock, or no lower bound and the largest timestamp not too far
/// ahead.
fn timestamps_decided_by_header(config: &LogConfig, h: &BatchHeader, now: i64) -> bool {
    let claims_append_time = h.attributes & records::ATTR_TIMESTAMP_LOG_APPEND != 0;
    !claims_append_time
        && (config.log_append_time
            || config.timestamp_before_max_ms == i64::MAX
                && !out_of_range(config, now, h.max_timestamp))
}
