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
use super::nested::Nested;
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

/// A topic of the request: by name before v13, by id from v13 (the other is empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchTopic<'a> {
    pub topic: &'a str,
    pub topic_id: Uuid,
}

/// A Fetch request. `decode` checks the whole of `topics`; the handler walks it in place with
/// [`topics`](Self::topics), so a fetch is answered without allocating.
#[derive(Debug, Clone)]
pub struct FetchRequest<'a> {
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub isolation_level: i8,
    pub session_id: i32,
    pub session_epoch: i32,
    pub topic_count: usize,
    /// At the first topic.
    topics_at: Reader<'a>,
    version: i16,
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
        let topic_count = r.array_len(flexible)?.unwrap_or(0);
        let req = FetchRequest {
            max_wait_ms,
            min_bytes,
            max_bytes,
            isolation_level,
            session_id,
            session_epoch,
            topic_count,
            topics_at: r.clone(),
            version,
        };
        let mut topics = req.topics();
        topics.check()?;
        *r = topics.reader().clone();
        if version >= 7 {
            // forgotten_topics_data: only meaningful with fetch sessions, which we do not keep.
            let n = r.array_len(flexible)?.unwrap_or(0);
            let mut forgotten = Nested::new(r.clone(), flexible, n, topic(version), |r| r.i32());
            forgotten.check()?;
            *r = forgotten.reader().clone();
        }
        if version >= 11 {
            r.string(flexible)?; // rack_id
        }
        r.end_struct(flexible)?;
        Ok(req)
    }

    /// The topics and their partitions in request order.
    pub fn topics(
        &self,
    ) -> Nested<
        'a,
        impl FnMut(&mut Reader<'a>) -> Result<FetchTopic<'a>>,
        impl FnMut(&mut Reader<'a>) -> Result<FetchPartition>,
    > {
        let version = self.version;
        let flexible = version >= 12;
        Nested::new(self.topics_at.clone(), flexible, self.topic_count, topic(version), move |r| {
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
        })
    }
}

/// Decodes a topic reference: a name before v13, an id from v13.
fn topic<'a>(version: i16) -> impl FnMut(&mut Reader<'a>) -> Result<FetchTopic<'a>> {
    move |r| {
        Ok(if version >= 13 {
            FetchTopic { topic: "", topic_id: r.uuid()? }
        } else {
            FetchTopic { topic: r.string(version >= 12)?, topic_id: [0; 16] }
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
    /// Whole batches as stored; `None` encodes an empty record set (never null, as Kafka
    /// answers).
    pub records: Option<Records>,
}

/// Where a partition's records come from.
#[derive(Debug, Clone)]
pub enum Records {
    /// A stretch of a segment, sent from the file.
    File(FileSlice),
    /// Bytes already read, a range of [`FetchResponse::read`]: for small stretches, whose
    /// read costs less than a send and a TCP segment of their own.
    Read(std::ops::Range<usize>),
}

/// The response to a request: one partition entry per request partition, in request order;
/// the topics come from the request. Without a request (a top-level error) it has no topics.
#[derive(Debug, Clone)]
pub struct FetchResponse<'r, 'a> {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub session_id: i32,
    pub request: Option<&'r FetchRequest<'a>>,
    pub partitions: &'r [PartitionData],
    /// The bytes that [`Records::Read`] ranges point into.
    pub read: &'r [u8],
}

impl FetchResponse<'_, '_> {
    pub fn encode(&self, version: i16, out: &mut Output) -> Result<()> {
        let flexible = version >= 12;
        out.put_i32(self.throttle_time_ms);
        if version >= 7 {
            out.put_i16(self.error_code);
            out.put_i32(self.session_id);
        }
        let Some(req) = self.request else {
            out.put_array_len(Some(0), flexible);
            out.put_empty_tags(flexible);
            return Ok(());
        };
        let mut partitions = self.partitions.iter();
        req.topics().mirror(
            out,
            |t, out| {
                if version >= 13 {
                    out.put_uuid(&t.topic_id);
                } else {
                    out.put_string(t.topic, flexible);
                }
            },
            |out| {
                let p = partitions.next().expect("an answer for every request partition");
                p.encode(version, self.read, out);
            },
        )?;
        out.put_empty_tags(flexible);
        Ok(())
    }
}

impl PartitionData {
    fn encode(&self, version: i16, read: &[u8], out: &mut Output) {
        let flexible = version >= 12;
        out.put_i32(self.partition_index);
        out.put_i16(self.error_code);
        out.put_i64(self.high_watermark);
        out.put_i64(self.last_stable_offset);
        if version >= 5 {
            out.put_i64(self.log_start_offset);
        }
        out.put_array_len(self.aborted_transactions.as_ref().map(Vec::len), flexible);
        for (producer_id, first_offset) in self.aborted_transactions.iter().flatten() {
            out.put_i64(*producer_id);
            out.put_i64(*first_offset);
            out.put_empty_tags(flexible);
        }
        if version >= 11 {
            out.put_i32(self.preferred_read_replica);
        }
        // The length as for bytes; the bytes themselves may go from the file.
        match &self.records {
            None => out.put_array_len(Some(0), flexible),
            Some(Records::File(f)) => {
                out.put_array_len(Some(f.len), flexible);
                out.splice(f.clone());
            }
            Some(Records::Read(r)) => out.put_nullable_bytes(Some(&read[r.clone()]), flexible),
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::nested::Step;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::fetch_request::{
        FetchPartition as KpPart, FetchTopic as KpTopic, ForgottenTopic,
    };
    use kafka_protocol::messages::{
        FetchRequest as KpRequest, FetchResponse as KpResponse, TopicName,
    };
    use std::rc::Rc;

    fn kp_request(version: i16) -> KpRequest {
        let part = |partition, fetch_offset| {
            KpPart::default()
                .with_partition(partition)
                .with_fetch_offset(fetch_offset)
                .with_current_leader_epoch(if version >= 9 { 4 } else { -1 })
                .with_partition_max_bytes(1000 + partition)
        };
        let topic = |name: &'static str, id: u8, parts| {
            let t = KpTopic::default().with_partitions(parts);
            if version >= 13 {
                t.with_topic_id(uuid::Uuid::from_bytes([id; 16]))
            } else {
                t.with_topic(TopicName(sb(name)))
            }
        };
        let mut req = KpRequest::default()
            .with_replica_id(kafka_protocol::messages::BrokerId(-1))
            .with_max_wait_ms(500)
            .with_min_bytes(1)
            .with_max_bytes(1 << 20)
            .with_isolation_level(1)
            .with_topics(vec![
                topic("a", 1, vec![part(0, 5), part(2, 9)]),
                topic("none", 2, vec![]),
                topic("b", 3, vec![part(1, 0)]),
            ]);
        if version >= 7 {
            req = req.with_session_id(0).with_session_epoch(-1);
            let forgotten = ForgottenTopic::default().with_partitions(vec![1, 2, 3]);
            let forgotten = if version >= 13 {
                forgotten.with_topic_id(uuid::Uuid::from_bytes([7; 16]))
            } else {
                forgotten.with_topic(TopicName(sb("gone")))
            };
            req = req.with_forgotten_topics_data(vec![forgotten]);
        }
        if version >= 11 {
            req = req.with_rack_id(sb("rack"));
        }
        req
    }

    #[test]
    fn requests_decode_in_every_version_and_walk_in_order() {
        for version in 4..=17 {
            let b = kp_encode(&kp_request(version), version);
            let mut r = Reader::new(&b);
            let req = FetchRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            assert_eq!((req.max_wait_ms, req.min_bytes, req.max_bytes), (500, 1, 1 << 20));
            assert_eq!((req.isolation_level, req.topic_count), (1, 3));
            let steps: Vec<_> = req.topics().map(|s| s.unwrap()).collect();
            let names: Vec<_> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Outer(t, n) if version >= 13 => Some((t.topic_id[0].to_string(), *n)),
                    Step::Outer(t, n) => Some((t.topic.to_string(), *n)),
                    Step::Inner(_) => None,
                })
                .collect();
            let want: [(&str, usize); 3] = if version >= 13 {
                [("1", 2), ("2", 0), ("3", 1)]
            } else {
                [("a", 2), ("none", 0), ("b", 1)]
            };
            assert_eq!(names, want.map(|(n, c)| (n.to_string(), c)), "v{version}");
            let parts: Vec<_> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Inner(p) => Some((p.partition, p.fetch_offset, p.partition_max_bytes)),
                    Step::Outer(..) => None,
                })
                .collect();
            assert_eq!(parts, [(0, 5, 1000), (2, 9, 1002), (1, 0, 1001)], "v{version}");
        }
    }

    #[test]
    fn a_request_cut_anywhere_is_refused_whole() {
        let b = kp_encode(&kp_request(16), 16);
        for cut in 0..b.len() {
            assert!(FetchRequest::decode(&mut Reader::new(&b[..cut]), 16).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn responses_mirror_the_request_and_splice_records_in_every_version() {
        let d = crate::testutil::TempDir::new("fetch-encode");
        std::fs::write(d.join("seg"), b"__RECORDS__").unwrap();
        let file = Rc::new(std::fs::File::open(d.join("seg")).unwrap());
        for version in 4..=17 {
            let b = kp_encode(&kp_request(version), version);
            let req = FetchRequest::decode(&mut Reader::new(&b), version).unwrap();
            let part = |partition_index, records| PartitionData {
                partition_index,
                error_code: 0,
                high_watermark: 10,
                last_stable_offset: 10,
                log_start_offset: 0,
                aborted_transactions: Some(Vec::new()),
                preferred_read_replica: -1,
                records,
            };
            let slice = FileSlice { file: Rc::clone(&file), position: 2, len: 7 };
            let partitions = [
                part(0, Some(Records::File(slice))),
                PartitionData { error_code: 3, ..part(2, None) },
                part(1, Some(Records::Read(1..3))),
            ];
            let resp = FetchResponse {
                throttle_time_ms: 0,
                error_code: 0,
                session_id: 0,
                request: Some(&req),
                partitions: &partitions,
                read: b"xyz",
            };
            let mut out = Output::new();
            resp.encode(version, &mut out).unwrap();
            assert_eq!(out.len_since(0), out.len() + 7);
            let m: KpResponse = kp_decode(&out.to_vec(), version);
            assert_eq!(m.responses.len(), 3, "v{version}");
            let r0 = &m.responses[0].partitions;
            assert_eq!(r0.len(), 2);
            assert_eq!(r0[0].records.as_deref(), Some(&b"RECORDS"[..]), "v{version}");
            assert_eq!((r0[1].partition_index, r0[1].error_code), (2, 3));
            assert_eq!(r0[1].records.as_deref(), Some(&b""[..]));
            assert!(m.responses[1].partitions.is_empty());
            assert_eq!(m.responses[2].partitions[0].partition_index, 1);
            assert_eq!(m.responses[2].partitions[0].records.as_deref(), Some(&b"yz"[..]));
            if version >= 13 {
                assert_eq!(m.responses[2].topic_id.as_bytes(), &[3; 16]);
            } else {
                assert_eq!(m.responses[2].topic.as_str(), "b");
            }
        }
    }
}
