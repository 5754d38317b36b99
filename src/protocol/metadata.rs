//! Metadata (key 3), versions 0-12.
//!
//! - v1 adds rack, controller id and `is_internal`; a null topic list (rather than an empty
//!   one, as in v0) asks for every topic.
//! - v2 adds `cluster_id`; v3 `throttle_time_ms`; v4 `allow_auto_topic_creation`.
//! - v5 adds `offline_replicas`; v6 changes throttling only; v7 adds `leader_epoch`.
//! - v8 adds the authorized-operations flags and fields.
//! - v9 is the first flexible version.
//! - v10 adds topic ids (request and response); topics may be asked for by id.
//! - v11 drops `include_cluster_authorized_operations` and its response field.
//! - v12 makes the response topic name nullable (unknown ids have no name).

use super::codec::{Put, Reader, Result, Uuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequestTopic<'a> {
    pub topic_id: Uuid,
    pub name: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest<'a> {
    /// `None`: every topic.
    pub topics: Option<Vec<MetadataRequestTopic<'a>>>,
    pub allow_auto_topic_creation: bool,
    pub include_topic_authorized_operations: bool,
}

impl<'a> MetadataRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 9;
        let topics = match r.array_len(flexible)? {
            None => None,
            Some(0) if version == 0 => None,
            Some(n) => {
                let mut v = Vec::with_capacity(crate::protocol::codec::capacity_for(n));
                for _ in 0..n {
                    let topic_id = if version >= 10 { r.uuid()? } else { [0; 16] };
                    let name = if version >= 10 {
                        r.nullable_string(flexible)?
                    } else {
                        Some(r.string(flexible)?)
                    };
                    r.end_struct(flexible)?;
                    v.push(MetadataRequestTopic { topic_id, name });
                }
                Some(v)
            }
        };
        let allow_auto_topic_creation = if version >= 4 { r.bool()? } else { true };
        let mut include_topic_authorized_operations = false;
        if version >= 8 {
            if version <= 10 {
                r.bool()?; // include_cluster_authorized_operations
            }
            include_topic_authorized_operations = r.bool()?;
        }
        r.end_struct(flexible)?;
        Ok(MetadataRequest {
            topics,
            allow_auto_topic_creation,
            include_topic_authorized_operations,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponseBroker<'a> {
    pub node_id: i32,
    pub host: &'a str,
    pub port: i32,
    pub rack: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponsePartition {
    pub error_code: i16,
    pub partition_index: i32,
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub replica_nodes: Vec<i32>,
    pub isr_nodes: Vec<i32>,
    pub offline_replicas: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponseTopic<'a> {
    pub error_code: i16,
    pub name: Option<&'a str>,
    pub topic_id: Uuid,
    pub is_internal: bool,
    pub partitions: Vec<MetadataResponsePartition>,
    pub topic_authorized_operations: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse<'a> {
    pub throttle_time_ms: i32,
    pub brokers: Vec<MetadataResponseBroker<'a>>,
    pub cluster_id: Option<&'a str>,
    pub controller_id: i32,
    pub topics: Vec<MetadataResponseTopic<'a>>,
}

impl MetadataResponse<'_> {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 9;
        if version >= 3 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(Some(self.brokers.len()), flexible);
        for b in &self.brokers {
            out.put_i32(b.node_id);
            out.put_string(b.host, flexible);
            out.put_i32(b.port);
            if version >= 1 {
                out.put_nullable_string(b.rack, flexible);
            }
            out.put_empty_tags(flexible);
        }
        if version >= 2 {
            out.put_nullable_string(self.cluster_id, flexible);
        }
        if version >= 1 {
            out.put_i32(self.controller_id);
        }
        out.put_array_len(Some(self.topics.len()), flexible);
        for t in &self.topics {
            out.put_i16(t.error_code);
            if version >= 12 {
                out.put_nullable_string(t.name, flexible);
            } else {
                out.put_string(t.name.unwrap_or(""), flexible);
            }
            if version >= 10 {
                out.put_uuid(&t.topic_id);
            }
            if version >= 1 {
                out.put_bool(t.is_internal);
            }
            out.put_array_len(Some(t.partitions.len()), flexible);
            for p in &t.partitions {
                out.put_i16(p.error_code);
                out.put_i32(p.partition_index);
                out.put_i32(p.leader_id);
                if version >= 7 {
                    out.put_i32(p.leader_epoch);
                }
                out.put_i32_array(&p.replica_nodes, flexible);
                out.put_i32_array(&p.isr_nodes, flexible);
                if version >= 5 {
                    out.put_i32_array(&p.offline_replicas, flexible);
                }
                out.put_empty_tags(flexible);
            }
            if version >= 8 {
                out.put_i32(t.topic_authorized_operations);
            }
            out.put_empty_tags(flexible);
        }
        if (8..=10).contains(&version) {
            out.put_i32(i32::MIN); // cluster_authorized_operations: not requested
        }
        out.put_empty_tags(flexible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0_empty_list_and_v1_null_mean_all_topics() {
        assert_eq!(
            MetadataRequest::decode(&mut Reader::new(&[0, 0, 0, 0]), 0).unwrap().topics,
            None
        );
        assert_eq!(MetadataRequest::decode(&mut Reader::new(&[0xff; 4]), 1).unwrap().topics, None);
        assert_eq!(
            MetadataRequest::decode(&mut Reader::new(&[0, 0, 0, 0]), 1).unwrap().topics,
            Some(vec![])
        );
    }

    #[test]
    fn v12_request_by_name() {
        let mut b = vec![2];
        b.extend([0; 16]);
        b.extend([2, b't', 0, 1, 0, 0]);
        let req = MetadataRequest::decode(&mut Reader::new(&b), 12).unwrap();
        assert_eq!(req.topics.unwrap()[0].name, Some("t"));
        assert!(req.allow_auto_topic_creation);
    }
}
