//! OffsetDelete (key 47), version 0 (not flexible).

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetDeleteTopic<'a> {
    pub name: &'a str,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetDeleteRequest<'a> {
    pub group_id: &'a str,
    pub topics: Vec<OffsetDeleteTopic<'a>>,
}

impl<'a> OffsetDeleteRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let group_id = r.string(false)?;
        let topics = r.array(false, |r| {
            let name = r.string(false)?;
            let partitions = r.i32_array(false)?;
            Ok(OffsetDeleteTopic { name, partitions })
        })?;
        Ok(OffsetDeleteRequest { group_id, topics })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetDeleteResponse<'a> {
    pub error_code: i16,
    pub throttle_time_ms: i32,
    /// (topic, [(partition, error code)])
    pub topics: Vec<(&'a str, Vec<(i32, i16)>)>,
}

impl OffsetDeleteResponse<'_> {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i16(self.error_code);
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.topics.len()), false);
        for (name, partitions) in &self.topics {
            out.put_string(name, false);
            out.put_array_len(Some(partitions.len()), false);
            for (p, code) in partitions {
                out.put_i32(*p);
                out.put_i16(*code);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::{self as kp, GroupId, TopicName};

    #[test]
    fn request_decodes_and_response_encodes() {
        let mut m = kp::OffsetDeleteRequest::default();
        m.group_id = GroupId(sb("g"));
        let mut t = kp::offset_delete_request::OffsetDeleteRequestTopic::default();
        t.name = TopicName(sb("t"));
        for i in [0, 2] {
            let mut p = kp::offset_delete_request::OffsetDeleteRequestPartition::default();
            p.partition_index = i;
            t.partitions.push(p);
        }
        m.topics = vec![t];
        let bytes = kp_encode(&m, 0);
        let mut r = Reader::new(&bytes);
        let req = OffsetDeleteRequest::decode(&mut r, 0).unwrap();
        assert_eq!(r.remaining(), 0);
        assert_eq!(
            req,
            OffsetDeleteRequest {
                group_id: "g",
                topics: vec![OffsetDeleteTopic { name: "t", partitions: vec![0, 2] }]
            }
        );
        for cut in 0..bytes.len() {
            assert!(OffsetDeleteRequest::decode(&mut Reader::new(&bytes[..cut]), 0).is_err());
        }
        let mut out = Vec::new();
        OffsetDeleteResponse {
            error_code: 0,
            throttle_time_ms: 1,
            topics: vec![("t", vec![(0, 0), (2, 86)])],
        }
        .encode(0, &mut out);
        let kpr: kp::OffsetDeleteResponse = kp_decode(&out, 0);
        assert_eq!(kpr.throttle_time_ms, 1);
        assert_eq!(kpr.topics.len(), 1);
        assert_eq!(kpr.topics[0].partitions[1].partition_index, 2);
        assert_eq!(kpr.topics[0].partitions[1].error_code, 86);
    }
}
