//! ListTransactions (key 66), versions 0-2; flexible from the start (KIP-664).
//!
//! - v0: filters by state names and producer ids; the answer lists the state filters the
//!   coordinator does not know.
//! - v1 adds `duration_filter` (KIP-994): only transactions running longer than it, when
//!   it is not negative.
//! - v2 adds `transactional_id_pattern` (KIP-1152): only ids the regular expression matches
//!   whole, when it is neither null nor empty.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTransactionsRequest<'a> {
    pub state_filters: Vec<&'a str>,
    pub producer_id_filters: Vec<i64>,
    pub duration_filter: i64,
    pub transactional_id_pattern: Option<&'a str>,
}

impl<'a> ListTransactionsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let state_filters = r.array(true, |r| r.string(true))?;
        let producer_id_filters = r.array(true, |r| r.i64())?;
        let duration_filter = if version >= 1 { r.i64()? } else { -1 };
        let transactional_id_pattern = if version >= 2 { r.nullable_string(true)? } else { None };
        r.skip_tagged_fields()?;
        Ok(ListTransactionsRequest {
            state_filters,
            producer_id_filters,
            duration_filter,
            transactional_id_pattern,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTransaction<'a> {
    pub transactional_id: &'a str,
    pub producer_id: i64,
    pub transaction_state: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTransactionsResponse<'a> {
    pub error_code: i16,
    pub unknown_state_filters: Vec<&'a str>,
    pub transaction_states: Vec<ListedTransaction<'a>>,
}

impl ListTransactionsResponse<'_> {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(0); // throttle_time_ms
        out.put_i16(self.error_code);
        out.put_array_len(Some(self.unknown_state_filters.len()), true);
        for s in &self.unknown_state_filters {
            out.put_string(s, true);
        }
        out.put_array_len(Some(self.transaction_states.len()), true);
        for t in &self.transaction_states {
            out.put_string(t.transactional_id, true);
            out.put_i64(t.producer_id);
            out.put_string(t.transaction_state, true);
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
        ListTransactionsRequest as KpReq, ListTransactionsResponse as KpResp, ProducerId,
    };

    #[test]
    fn every_version_against_kafka_protocol() {
        for v in 0..=2 {
            let mut req = KpReq::default()
                .with_state_filters(vec![sb("Ongoing"), sb("Nope")])
                .with_producer_id_filters(vec![ProducerId(3)]);
            if v >= 1 {
                req = req.with_duration_filter(5000);
            }
            if v >= 2 {
                req = req.with_transactional_id_pattern(Some(sb("tx-.*")));
            }
            let bytes = kp_encode(&req, v);
            let mut r = Reader::new(&bytes);
            let ours = ListTransactionsRequest::decode(&mut r, v).unwrap();
            assert_eq!(r.remaining(), 0);
            assert_eq!(ours.state_filters, ["Ongoing", "Nope"]);
            assert_eq!(ours.producer_id_filters, [3]);
            assert_eq!(ours.duration_filter, if v >= 1 { 5000 } else { -1 });
            assert_eq!(ours.transactional_id_pattern, (v >= 2).then_some("tx-.*"));

            let resp = ListTransactionsResponse {
                error_code: 0,
                unknown_state_filters: vec!["Nope"],
                transaction_states: vec![ListedTransaction {
                    transactional_id: "tx-1",
                    producer_id: 3,
                    transaction_state: "Ongoing",
                }],
            };
            let mut out = Vec::new();
            resp.encode(v, &mut out);
            let kp: KpResp = kp_decode(&out, v);
            assert_eq!(kp.unknown_state_filters, [sb("Nope")]);
            let t = &kp.transaction_states[0];
            assert_eq!((t.transactional_id.0.as_str(), t.producer_id.0), ("tx-1", 3));
            assert_eq!(t.transaction_state.as_str(), "Ongoing");
        }
    }
}
