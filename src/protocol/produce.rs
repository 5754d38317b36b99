//! Produce (key 0), versions 3-12.
//!
//! - v3 adds `transactional_id` and requires record batch v2 (magic 2).
//! - v4-v7 change error semantics only (v5 adds `log_start_offset` to the response).
//! - v8 adds `record_errors` and `error_message` to partition responses.
//! - v9 is the first flexible version.
//! - v10 adds `current_leader` (tag 0) to partitions and `node_endpoints` (tag 0) to the
//!   response, sent only with NOT_LEADER_OR_FOLLOWER; v11 may answer TRANSACTION_ABORTABLE
//!   (KIP-890) where earlier versions get INVALID_TXN_STATE.
//! - v12 is the same as v11 (KIP-890: a transactional producer need not add partitions first).
//!
//! acks=0 requests get no response at all.

use super::codec::{Put, Reader, Result};
use super::nested::Nested;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceData<'a> {
    pub index: i32,
    pub records: Option<&'a [u8]>,
}

/// A Produce request. `decode` checks the whole of `topic_data`; the handler then walks it in
/// place with [`topic_data`](Self::topic_data), so a request is handled without allocating.
#[derive(Debug, Clone)]
pub struct ProduceRequest<'a> {
    pub transactional_id: Option<&'a str>,
    pub acks: i16,
    pub timeout_ms: i32,
    pub topic_count: usize,
    /// At the first topic.
    topics: Reader<'a>,
    flexible: bool,
}

impl<'a> ProduceRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 9;
        let transactional_id = r.nullable_string(flexible)?;
        let acks = r.i16()?;
        let timeout_ms = r.i32()?;
        let topic_count = r.array_len(flexible)?.unwrap_or(0);
        let req = ProduceRequest {
            transactional_id,
            acks,
            timeout_ms,
            topic_count,
            topics: r.clone(),
            flexible,
        };
        let mut walk = req.topic_data();
        walk.check()?;
        *r = walk.reader().clone();
        r.end_struct(flexible)?;
        Ok(req)
    }

    /// The topics and partitions in request order.
    pub fn topic_data(
        &self,
    ) -> Nested<
        'a,
        impl FnMut(&mut Reader<'a>) -> Result<&'a str>,
        impl FnMut(&mut Reader<'a>) -> Result<PartitionProduceData<'a>>,
    > {
        let flexible = self.flexible;
        Nested::new(
            self.topics.clone(),
            flexible,
            self.topic_count,
            move |r| r.string(flexible),
            move |r| {
                let index = r.i32()?;
                let records = r.nullable_bytes(flexible)?;
                r.end_struct(flexible)?;
                Ok(PartitionProduceData { index, records })
            },
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    pub index: i32,
    pub error_code: i16,
    pub base_offset: i64,
    pub log_append_time_ms: i64,
    pub log_start_offset: i64,
    pub error_message: Option<std::borrow::Cow<'static, str>>,
    /// v8+: (batch_index, message) of each record refused, as Kafka's `RecordError`s.
    pub record_errors: Vec<(i32, String)>,
}

impl PartitionProduceResponse {
    /// A partition that took nothing: every offset field -1, as Kafka answers errors.
    pub fn error(index: i32, error_code: i16, error_message: Option<&'static str>) -> Self {
        PartitionProduceResponse {
            index,
            error_code,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            error_message: error_message.map(std::borrow::Cow::Borrowed),
            record_errors: Vec::new(),
        }
    }
}

/// The response to a request: one partition response per request partition, in request
/// order; the topic names and counts come from the request.
#[derive(Debug, Clone)]
pub struct ProduceResponse<'r, 'a> {
    pub request: &'r ProduceRequest<'a>,
    pub partition_responses: &'r [PartitionProduceResponse],
    pub throttle_time_ms: i32,
}

impl ProduceResponse<'_, '_> {
    /// Encodes the response; with `positions`, notes where in `out` each partition's
    /// error code is written, so that an answer can be withdrawn (made an error) before it is
    /// sent when its append could not be written.
    pub fn encode(
        &self,
        version: i16,
        out: &mut Vec<u8>,
        mut positions: Option<&mut Vec<usize>>,
    ) -> Result<()> {
        let flexible = version >= 9;
        let mut responses = self.partition_responses.iter();
        self.request.topic_data().mirror(
            out,
            |name, out| out.put_string(name, flexible),
            |out| {
                let p = responses.next().expect("a response for every request partition");
                if let Some(at) = positions.as_deref_mut() {
                    at.push(out.len() + 4);
                }
                p.encode(version, out);
            },
        )?;
        out.put_i32(self.throttle_time_ms);
        out.put_empty_tags(flexible);
        Ok(())
    }
}

impl PartitionProduceResponse {
    fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 9;
        out.put_i32(self.index);
        out.put_i16(self.error_code);
        out.put_i64(self.base_offset);
        out.put_i64(self.log_append_time_ms);
        if version >= 5 {
            out.put_i64(self.log_start_offset);
        }
        if version >= 8 {
            out.put_array_len(Some(self.record_errors.len()), flexible);
            for (batch_index, message) in &self.record_errors {
                out.put_i32(*batch_index);
                out.put_nullable_string(Some(message), flexible);
                out.put_empty_tags(flexible);
            }
            out.put_nullable_string(self.error_message.as_deref(), flexible);
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::nested::Step;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::produce_request::{
        PartitionProduceData as KpPart, TopicProduceData as KpTopic,
    };
    use kafka_protocol::messages::{
        ProduceRequest as KpRequest, ProduceResponse as KpResponse, TopicName,
    };

    fn kp_request() -> KpRequest {
        let part = |index, records: Option<&'static [u8]>| {
            KpPart::default().with_index(index).with_records(records.map(Into::into))
        };
        KpRequest::default().with_acks(-1).with_timeout_ms(1500).with_topic_data(vec![
            KpTopic::default()
                .with_name(TopicName(sb("a")))
                .with_partition_data(vec![part(0, Some(b"xyz")), part(3, None)]),
            KpTopic::default().with_name(TopicName(sb("empty"))),
            KpTopic::default()
                .with_name(TopicName(sb("b")))
                .with_partition_data(vec![part(1, Some(b""))]),
        ])
    }

    #[test]
    fn requests_decode_in_every_version_and_walk_in_order() {
        for version in 3..=12 {
            let b = kp_encode(&kp_request(), version);
            let mut r = Reader::new(&b);
            let req = ProduceRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            assert_eq!((req.acks, req.timeout_ms, req.topic_count), (-1, 1500, 3));
            let walk: Vec<_> = req.topic_data().map(|i| i.unwrap()).collect();
            let part = |index, records| Step::Inner(PartitionProduceData { index, records });
            assert_eq!(
                walk,
                [
                    Step::Outer("a", 2),
                    part(0, Some(&b"xyz"[..])),
                    part(3, None),
                    Step::Outer("empty", 0),
                    Step::Outer("b", 1),
                    part(1, Some(&b""[..])),
                ],
                "v{version}"
            );
        }
    }

    #[test]
    fn a_request_cut_anywhere_is_refused_whole() {
        let b = kp_encode(&kp_request(), 11);
        for cut in 0..b.len() {
            assert!(
                ProduceRequest::decode(&mut Reader::new(&b[..cut]), 11).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn responses_mirror_the_request_in_every_version() {
        for version in 3..=12 {
            let b = kp_encode(&kp_request(), version);
            let req = ProduceRequest::decode(&mut Reader::new(&b), version).unwrap();
            let ok = PartitionProduceResponse {
                index: 0,
                error_code: 0,
                base_offset: 42,
                log_append_time_ms: -1,
                log_start_offset: 7,
                error_message: None,
                record_errors: Vec::new(),
            };
            let mut refused = PartitionProduceResponse::error(3, 2, Some("corrupt"));
            refused.record_errors = vec![(0, "early".into()), (2, "late".into())];
            let responses = [ok.clone(), refused, PartitionProduceResponse { index: 1, ..ok }];
            let resp = ProduceResponse {
                request: &req,
                partition_responses: &responses,
                throttle_time_ms: 9,
            };
            let mut out = Vec::new();
            resp.encode(version, &mut out, None).unwrap();
            let m: KpResponse = kp_decode(&out, version);
            assert_eq!(m.throttle_time_ms, 9);
            let topics: Vec<_> = m.responses.iter().map(|t| t.name.as_str()).collect();
            assert_eq!(topics, ["a", "empty", "b"], "v{version}");
            let a = &m.responses[0].partition_responses;
            assert_eq!((a[0].index, a[0].error_code, a[0].base_offset), (0, 0, 42));
            assert_eq!(a[0].log_start_offset, if version >= 5 { 7 } else { -1 });
            assert_eq!((a[1].index, a[1].error_code, a[1].base_offset), (3, 2, -1));
            let message = a[1].error_message.as_ref().map(|m| m.as_str());
            assert_eq!(message, if version >= 8 { Some("corrupt") } else { None });
            let errors: Vec<_> = a[1]
                .record_errors
                .iter()
                .map(|e| (e.batch_index, e.batch_index_error_message.as_ref().unwrap().as_str()))
                .collect();
            let want: &[(i32, &str)] =
                if version >= 8 { &[(0, "early"), (2, "late")] } else { &[] };
            assert_eq!(errors, want, "v{version}");
            assert!(m.responses[1].partition_responses.is_empty());
            assert_eq!(m.responses[2].partition_responses[0].index, 1);
        }
    }
}
