//! Fetch (key 1), versions 4-17.
//!
//! - v4 adds `isolation_level` and aborted transactions in the response.
//! - v5 adds `log_start_offset` to partitions (request and response).
//! - v6-v8 change error semantics only; v7 adds fetch sessions (`session_id`, `session_epoch`,
//!   `forgotten_topics_data`) and a top-level response `error_code`.
//! - v9 adds `current_leader_epoch`; v10 allows zstd; v11 adds `rack_id` and
//!   `preferred_read_replica`.
//! - v12 is the first flexible version; adds `last_fetched_epoch` and tagged fields
//!   (`cluster_id` tag 0 in the request; diverging epoch, current leader and snapshot id tags in
//!   partition responses).
//! - v13 names topics by `topic_id` instead of `topic`.
//! - v14 is the same as v13; v15 drops `replica_id` from the body (tagged `replica_state`).
//! - v16 adds `node_endpoints` (tag 0) to the response, sent only with leader changes.
//! - v17 adds `replica_directory_id` (tag 0) to request partitions, for followers (KIP-853).

use super::codec::{Put, Reader, Result, Uuid};
use super::output::Output;
use crate::storage::FileSlice;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPartition {
    pub partition: i32,
    pub current_leader_epoch: i32,
    pub fetch_offset: i64,
    pub log_start_offset: i64,
    pub partition_max_bytes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchTopic<'a> {
    /// Set before v13.
    pub topic: &'a str,
    /// Set from v13.
    pub topic_id: Uuid,
    pub partitions: Vec<FetchPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest<'a> {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub isolation_level: i8,
    pub session_id: i32,
    pub session_epoch: i32,
    pub topics: Vec<FetchTopic<'a>>,
}

impl<'a> FetchRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 12;
        if version < 15 {
            r.i32()?; // replica_id: consumers send -1
        }
        let max_wait_ms = r.i32()?;
        let min_bytes = r.i32()?;
        let max_bytes = r.i32()?;
        let isolation_level = r.i8()?;
        let (session_id, session_epoch) = if version >= 7 { (r.i32()?, r.i32()?) } else { (0, -1) };
        let topics = r.array(flexible, |r| {
            let (topic, topic_id) =
                if version >= 13 { ("", r.uuid()?) } else { (r.string(flexible)?, [0; 16]) };
            let partitions = r.array(flexible, |r| {
                let partition = r.i32()?;
                let current_leader_epoch = if version >= 9 { r.i32()? } else { -1 };
                let fetch_offset = r.i64()?;
                if version >= 12 {
                    r.i32()?; // last_fetched_epoch: only followers use it
                }
                let log_start_offset = if version >= 5 { r.i64()? } else { -1 };
                let partition_max_bytes = r.i32()?;
                r.end_struct(flexible)?;
                Ok(FetchPartition {
                    partition,
                    current_leader_epoch,
                    fetch_offset,
                    log_start_offset,
                    partition_max_bytes,
                })
            })?;
            r.end_struct(flexible)?;
            Ok(FetchTopic { topic, topic_id, partitions })
        })?;
        if version >= 7 {
            // forgotten_topics_data: only meaningful with fetch sessions, which we do not keep.
            r.array(flexible, |r| {
                if version >= 13 {
                    r.uuid()?;
                } else {
                    r.string(flexible)?;
                }
                r.i32_array(flexible)?;
                r.end_struct(flexible)
            })?;
        }
        if version >= 11 {
            r.string(flexible)?; // rack_id
        }
        r.end_struct(flexible)?;
        Ok(FetchRequest {
            max_wait_ms,
            min_bytes,
            max_bytes,
            isolation_level,
            session_id,
            session_epoch,
            topics,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PartitionData {
    pub partition_index: i32,
    pub error_code: i16,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    /// `None` encodes null (read_uncommitted); read_committed gets an empty list.
    pub aborted_transactions: Option<Vec<(i64, i64)>>,
    pub preferred_read_replica: i32,
    /// Whole batches as stored, sent from their file; `None` encodes an empty record set
    /// (never null, as Kafka answers).
    pub records: Option<FileSlice>,
}

#[derive(Debug, Clone)]
pub struct FetchableTopicResponse<'a> {
    pub topic: &'a str,
    pub topic_id: Uuid,
    pub partitions: Vec<PartitionData>,
}

#[derive(Debug, Clone)]
pub struct FetchResponse<'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub session_id: i32,
    pub responses: Vec<FetchableTopicResponse<'a>>,
}

impl FetchResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Output) {
        let flexible = version >= 12;
        out.put_i32(self.throttle_time_ms);
        if version >= 7 {
            out.put_i16(self.error_code);
            out.put_i32(self.session_id);
        }
        out.put_array_len(Some(self.responses.len()), flexible);
        for t in &self.responses {
            if version >= 13 {
                out.put_uuid(&t.topic_id);
            } else {
                out.put_string(t.topic, flexible);
            }
            out.put_array_len(Some(t.partitions.len()), flexible);
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                out.put_i16(p.error_code);
                out.put_i64(p.high_watermark);
                out.put_i64(p.last_stable_offset);
                if version >= 5 {
                    out.put_i64(p.log_start_offset);
                }
                out.put_array_len(p.aborted_transactions.as_ref().map(Vec::len), flexible);
                for (producer_id, first_offset) in p.aborted_transactions.iter().flatten() {
                    out.put_i64(*producer_id);
                    out.put_i64(*first_offset);
                    out.put_empty_tags(flexible);
                }
                if version >= 11 {
                    out.put_i32(p.preferred_read_replica);
                }
                // The length as for bytes; the bytes themselves go from the file.
                out.put_array_len(Some(p.records.as_ref().map_or(0, |r| r.len)), flexible);
                if let Some(r) = &p.records {
                    out.splice(r.clone());
                }
                out.put_empty_tags(flexible);
            }
            out.put_empty_tags(flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v16_request_decodes() {
        let mut b = Vec::new();
        b.put_i32(500); // max_wait_ms
        b.put_i32(1);
        b.put_i32(1 << 20);
        b.put_i8(0);
        b.put_i32(0);
        b.put_i32(-1);
        b.put_array_len(Some(1), true);
        b.put_uuid(&[9; 16]);
        b.put_array_len(Some(1), true);
        b.put_i32(0);
        b.put_i32(-1);
        b.put_i64(42);
        b.put_i32(-1);
        b.put_i64(-1);
        b.put_i32(65536);
        b.put_empty_tags(true);
        b.put_empty_tags(true);
        b.put_array_len(Some(0), true);
        b.put_string("", true);
        b.put_empty_tags(true);
        let mut r = Reader::new(&b);
        let req = FetchRequest::decode(&mut r, 16).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(req.topics[0].topic_id, [9; 16]);
        assert_eq!(req.topics[0].partitions[0].fetch_offset, 42);
        assert_eq!(req.topics[0].partitions[0].partition_max_bytes, 65536);
    }
}
