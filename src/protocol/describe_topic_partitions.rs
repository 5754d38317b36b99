//! DescribeTopicPartitions (key 75), version 0: flexible from the start.
//!
//! Added by KIP-966 so admin clients can page through topics with many partitions:
//! `response_partition_limit` caps the partitions in one response and `cursor` /
//! `next_cursor` name the topic and partition to continue from.

use super::codec::{Put, Reader, Result, Uuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<'a> {
    pub topic_name: &'a str,
    pub partition_index: i32,
}

impl<'a> Cursor<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Option<Self>> {
        // A nullable struct is preceded by -1 (null) or 1 (present).
        if r.i8()? < 0 {
            return Ok(None);
        }
        let c = Cursor { topic_name: r.string(true)?, partition_index: r.i32()? };
        r.skip_tagged_fields()?;
        Ok(Some(c))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeTopicPartitionsRequest<'a> {
    pub topics: Vec<&'a str>,
    pub response_partition_limit: i32,
    pub cursor: Option<Cursor<'a>>,
}

impl<'a> DescribeTopicPartitionsRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, _version: i16) -> Result<Self> {
        let topics = r.array(true, |r| {
            let name = r.string(true)?;
            r.skip_tagged_fields()?;
            Ok(name)
        })?;
        let response_partition_limit = r.i32()?;
        let cursor = Cursor::decode(r)?;
        r.skip_tagged_fields()?;
        Ok(DescribeTopicPartitionsRequest { topics, response_partition_limit, cursor })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponsePartition {
    pub error_code: i16,
    pub partition_index: i32,
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub replica_nodes: Vec<i32>,
    pub isr_nodes: Vec<i32>,
    pub offline_replicas: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseTopic<'a> {
    pub error_code: i16,
    pub name: &'a str,
    pub topic_id: Uuid,
    pub is_internal: bool,
    pub partitions: Vec<ResponsePartition>,
    pub topic_authorized_operations: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeTopicPartitionsResponse<'a> {
    pub throttle_time_ms: i32,
    pub topics: Vec<ResponseTopic<'a>>,
    pub next_cursor: Option<(&'a str, i32)>,
}

impl DescribeTopicPartitionsResponse<'_> {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.throttle_time_ms);
        out.put_array_len(Some(self.topics.len()), true);
        for t in &self.topics {
            out.put_i16(t.error_code);
            out.put_nullable_string(Some(t.name), true);
            out.put_uuid(&t.topic_id);
            out.put_bool(t.is_internal);
            out.put_array_len(Some(t.partitions.len()), true);
            for p in &t.partitions {
                out.put_i16(p.error_code);
                out.put_i32(p.partition_index);
                out.put_i32(p.leader_id);
                out.put_i32(p.leader_epoch);
                out.put_i32_array(&p.replica_nodes, true);
                out.put_i32_array(&p.isr_nodes, true);
                // No eligible leader replicas on one node: empty, as Kafka sends them.
                out.put_array_len(Some(0), true); // eligible_leader_replicas
                out.put_array_len(Some(0), true); // last_known_elr
                out.put_i32_array(&p.offline_replicas, true);
                out.put_empty_tags(true);
            }
            out.put_i32(t.topic_authorized_operations);
            out.put_empty_tags(true);
        }
        match self.next_cursor {
            None => out.put_i8(-1),
            Some((name, partition)) => {
                out.put_i8(1);
                out.put_string(name, true);
                out.put_i32(partition);
                out.put_empty_tags(true);
            }
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_with_cursor() {
        let b = [2, 4, b'f', b'o', b'o', 0, 0, 0, 0, 100, 1, 2, b'b', 0, 0, 0, 3, 0, 0];
        let req = DescribeTopicPartitionsRequest::decode(&mut Reader::new(&b), 0).unwrap();
        assert_eq!(req.topics, ["foo"]);
        assert_eq!(req.response_partition_limit, 100);
        assert_eq!(req.cursor, Some(Cursor { topic_name: "b", partition_index: 3 }));
    }

    #[test]
    fn unknown_topic_response_bytes() {
        let resp = DescribeTopicPartitionsResponse {
            throttle_time_ms: 0,
            topics: vec![ResponseTopic {
                error_code: 3,
                name: "x",
                topic_id: [0; 16],
                is_internal: false,
                partitions: vec![],
                topic_authorized_operations: 0x0df8,
            }],
            next_cursor: None,
        };
        let mut out = Vec::new();
        resp.encode(0, &mut out);
        let mut want = vec![0, 0, 0, 0, 2, 0, 3, 2, b'x'];
        want.extend([0; 16]);
        want.extend([0, 1, 0, 0, 0x0d, 0xf8, 0, 0xff, 0]);
        assert_eq!(out, want);
    }
}
