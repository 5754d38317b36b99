//! DescribeTransactions (key 65), version 0 only; flexible from the start (KIP-664).
//!
//! - v0: per transactional id asked for, its error, state name, timeout, start time,
//!   producer id and epoch, and the partitions of its transaction by topic.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeTransactionsRequest<'a> {
    pub transactional_ids: Vec<&'a str>,
}

impl<'a> DescribeTransactionsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let transactional_ids = r.array(true, |r| r.string(true))?;
        r.skip_tagged_fields()?;
        Ok(DescribeTransactionsRequest { transactional_ids })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicData<'a> {
    pub topic: &'a str,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionState<'a> {
    pub error_code: i16,
    pub transactional_id: &'a str,
    pub transaction_state: &'a str,
    pub transaction_timeout_ms: i32,
    pub transaction_start_time_ms: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub topics: Vec<TopicData<'a>>,
}

impl<'a> TransactionState<'a> {
    /// An entry carrying only an error, with the defaults Kafka leaves in the other fields.
    pub fn error(transactional_id: &'a str, error_code: i16) -> Self {
        TransactionState {
            error_code,
            transactional_id,
            transaction_state: "",
            transaction_timeout_ms: 0,
            transaction_start_time_ms: 0,
            producer_id: 0,
            producer_epoch: 0,
            topics: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeTransactionsResponse<'a> {
    pub transaction_states: Vec<TransactionState<'a>>,
}

impl DescribeTransactionsResponse<'_> {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(0); // throttle_time_ms
        out.put_array_len(Some(self.transaction_states.len()), true);
        for s in &self.transaction_states {
            out.put_i16(s.error_code);
            out.put_string(s.transactional_id, true);
            out.put_string(s.transaction_state, true);
            out.put_i32(s.transaction_timeout_ms);
            out.put_i64(s.transaction_start_time_ms);
            out.put_i64(s.producer_id);
            out.put_i16(s.producer_epoch);
            out.put_array_len(Some(s.topics.len()), true);
            for t in &s.topics {
                out.put_string(t.topic, true);
                out.put_i32_array(&t.partitions, true);
                out.put_empty_tags(true);
            }
            out.put_empty_tags(true);
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::*;
    use kafka_protocol::messages::{
        DescribeTransactionsRequest as KpReq, DescribeTransactionsResponse as KpResp,
        TransactionalId,
    };

    #[test]
    fn request_and_response_against_kafka_protocol() {
        let req = KpReq::default()
            .with_transactional_ids(vec![TransactionalId(sb("a")), TransactionalId(sb("b"))]);
        let bytes = kp_encode(&req, 0);
        let mut r = Reader::new(&bytes);
        let ours = DescribeTransactionsRequest::decode(&mut r, 0).unwrap();
        assert_eq!((ours.transactional_ids, r.remaining()), (vec!["a", "b"], 0));

        let resp = DescribeTransactionsResponse {
            transaction_states: vec![
                TransactionState {
                    error_code: 0,
                    transactional_id: "a",
                    transaction_state: "Ongoing",
                    transaction_timeout_ms: 60_000,
                    transaction_start_time_ms: 1_700_000_000_000,
                    producer_id: 5,
                    producer_epoch: 1,
                    topics: vec![TopicData { topic: "t", partitions: vec![0, 2] }],
                },
                TransactionState::error("b", 105),
            ],
        };
        let mut out = Vec::new();
        resp.encode(0, &mut out);
        let kp: KpResp = kp_decode(&out, 0);
        let a = &kp.transaction_states[0];
        assert_eq!((a.transaction_state.as_str(), a.transaction_timeout_ms), ("Ongoing", 60_000));
        assert_eq!(
            (a.transaction_start_time_ms, a.producer_id.0, a.producer_epoch),
            (1_700_000_000_000, 5, 1)
        );
        assert_eq!((a.topics[0].topic.0.as_str(), &a.topics[0].partitions[..]), ("t", &[0, 2][..]));
        let b = &kp.transaction_states[1];
        assert_eq!(
            (b.error_code, b.transactional_id.0.as_str(), b.transaction_state.as_str()),
            (105, "b", "")
        );
    }
}
