//! Validates every batch of a partition's records before appending any, then appends them
//! with the partition's next offsets. Errors are per partition, as Kafka answers them.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::error;
use crate::protocol::nested::Step;
use crate::protocol::produce::*;
use crate::records;
use crate::storage::{Appended, LogId};

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
    let mut topic = "";
    for item in req.topic_data() {
        let p = match item? {
            Step::Outer(name, _) => {
                topic = name;
                continue;
            }
            Step::Inner(p) => p,
        };
        // The log manager holds a log for exactly the partitions the metadata names.
        let resp = match b.logs.find(topic, p.index) {
            _ if !acks_ok => {
                PartitionProduceResponse::error(p.index, error::INVALID_REQUIRED_ACKS, None)
            }
            None => {
                PartitionProduceResponse::error(p.index, error::UNKNOWN_TOPIC_OR_PARTITION, None)
            }
            Some(log) => append(b, conn, log, p.index, p.records),
        };
        responses.push(resp);
    }
    // acks=0 has no response to carry an error: Kafka closes the connection instead, so the
    // producer notices (it reconnects and refreshes its metadata).
    if req.acks == 0 && responses.iter().any(|r| r.error_code != error::NONE) {
        let code = responses.iter().find(|r| r.error_code != error::NONE).unwrap().error_code;
        log::info!("closing connection {conn}: produce with acks=0 failed with error {code}");
        b.produce_responses = responses;
        return Ok(Reply::Close);
    }
    let encoded = if req.acks == 0 {
        Ok(())
    } else {
        ProduceResponse { request: &req, partition_responses: &responses, throttle_time_ms: 0 }
            .encode(version, out)
    };
    b.produce_responses = responses;
    encoded?;
    Ok(if req.acks == 0 { Reply::Silent } else { Reply::Sent })
}

fn append(
    b: &mut Broker,
    conn: usize,
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
    let max_message_bytes = b.logs.get(log).config().max_message_bytes;
    for batch in records::batches(records) {
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
            Ok(_) => {}
        }
    }
    let mut base_offset = None;
    let mut log_append_time_ms = -1;
    for batch in records::checked_batches(records) {
        match b.logs.append(log, batch) {
            Ok(Appended::At(o)) => {
                base_offset.get_or_insert(o);
            }
            Ok(Appended::Duplicate(o, max_timestamp)) => {
                base_offset.get_or_insert(o);
                // Kafka answers a retried batch with the timestamp it kept for it.
                log_append_time_ms = max_timestamp;
            }
            Ok(Appended::Rejected(code, why)) => {
                log::debug!("produce to {}: {why}", b.logs.get(log).dir().display());
                // A producer-state refusal comes from the log itself, which Kafka then names
                // by its start offset.
                let mut resp = fail(code, why);
                resp.log_start_offset = b.logs.get(log).log_start_offset();
                return resp;
            }
            Err(e) => {
                log::error!("produce to {}: {e}", b.logs.get(log).dir().display());
                return fail(error::KAFKA_STORAGE_ERROR, "the log could not be written");
            }
        }
    }
    b.turn_acks.push((conn, log));
    PartitionProduceResponse {
        index,
        error_code: error::NONE,
        base_offset: base_offset.unwrap_or(-1),
        log_append_time_ms,
        log_start_offset: b.logs.get(log).log_start_offset(),
        error_message: None,
    }
}
