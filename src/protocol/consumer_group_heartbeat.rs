//! ConsumerGroupHeartbeat (key 68), versions 0-1: the consumer group protocol of KIP-848.
//!
//! Every version is flexible. v1 adds `subscribed_topic_regex`; from v1 the client, not the
//! coordinator, generates the member id. Most request fields are null when unchanged since
//! the member's previous heartbeat.

use super::codec::{capacity_for, Put, Reader, Result, Uuid};

/// A topic's partitions, by topic id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicPartitions {
    pub topic_id: Uuid,
    pub partitions: Vec<i32>,
}

impl TopicPartitions {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let topic_id = r.uuid()?;
        let partitions = r.i32_array(true)?;
        r.end_struct(true)?;
        Ok(TopicPartitions { topic_id, partitions })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.put_uuid(&self.topic_id);
        out.put_i32_array(&self.partitions, true);
        out.put_empty_tags(true);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupHeartbeatRequest<'a> {
    pub group_id: &'a str,
    pub member_id: &'a str,
    pub member_epoch: i32,
    pub instance_id: Option<&'a str>,
    pub rack_id: Option<&'a str>,
    pub rebalance_timeout_ms: i32,
    pub subscribed_topic_names: Option<Vec<&'a str>>,
    pub subscribed_topic_regex: Option<&'a str>,
    pub server_assignor: Option<&'a str>,
    pub topic_partitions: Option<Vec<TopicPartitions>>,
}

impl<'a> ConsumerGroupHeartbeatRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let group_id = r.string(true)?;
        let member_id = r.string(true)?;
        let member_epoch = r.i32()?;
        let instance_id = r.nullable_string(true)?;
        let rack_id = r.nullable_string(true)?;
        let rebalance_timeout_ms = r.i32()?;
        let subscribed_topic_names = match r.array_len(true)? {
            None => None,
            Some(n) => {
                let mut v = Vec::with_capacity(capacity_for(n));
                for _ in 0..n {
                    v.push(r.string(true)?);
                }
                Some(v)
            }
        };
        let subscribed_topic_regex = if version >= 1 { r.nullable_string(true)? } else { None };
        let server_assignor = r.nullable_string(true)?;
        let topic_partitions = match r.array_len(true)? {
            None => None,
            Some(n) => {
                let mut v = Vec::with_capacity(capacity_for(n));
                for _ in 0..n {
                    v.push(TopicPartitions::decode(r)?);
                }
                Some(v)
            }
        };
        r.end_struct(true)?;
        Ok(ConsumerGroupHeartbeatRequest {
            group_id,
            member_id,
            member_epoch,
            instance_id,
            rack_id,
            rebalance_timeout_ms,
            subscribed_topic_names,
            subscribed_topic_regex,
            server_assignor,
            topic_partitions,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerGroupHeartbeatResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub error_message: Option<String>,
    pub member_id: Option<String>,
    pub member_epoch: i32,
    pub heartbeat_interval_ms: i32,
    /// The partitions the member may use now; `None` when unchanged since the last answer.
    pub assignment: Option<Vec<TopicPartitions>>,
}

impl ConsumerGroupHeartbeatResponse {
    pub fn encode(&self, _version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        out.put_nullable_string(self.error_message.as_deref(), true);
        out.put_nullable_string(self.member_id.as_deref(), true);
        out.put_i32(self.member_epoch);
        out.put_i32(self.heartbeat_interval_ms);
        // A nullable struct: -1 for null, 1 followed by the struct.
        match &self.assignment {
            None => out.put_i8(-1),
            Some(tps) => {
                out.put_i8(1);
                out.put_array_len(Some(tps.len()), true);
                for tp in tps {
                    tp.encode(out);
                }
                out.put_empty_tags(true);
            }
        }
        out.put_empty_tags(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oracle::{kp_decode, kp_encode, sb};
    use kafka_protocol::messages::consumer_group_heartbeat_request as kq;
    use kafka_protocol::messages::consumer_group_heartbeat_response as ks;
    use kafka_protocol::messages::{self as kp, GroupId, TopicName};
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn requests_decode_in_every_version() {
        for version in 0..=1 {
            let mut m = kp::ConsumerGroupHeartbeatRequest::default();
            m.group_id = GroupId(sb("grp"));
            m.member_id = sb("m-1");
            m.member_epoch = 7;
            m.instance_id = Some(sb("inst"));
            m.rack_id = None;
            m.rebalance_timeout_ms = 30000;
            m.subscribed_topic_names = Some(vec![TopicName(sb("a")), TopicName(sb("b"))]);
            if version >= 1 {
                m.subscribed_topic_regex = Some(sb("^x.*"));
            }
            m.server_assignor = Some(sb("uniform"));
            let mut tp = kq::TopicPartitions::default();
            tp.topic_id = uuid::Uuid::from_bytes([3; 16]);
            tp.partitions = vec![0, 2];
            m.topic_partitions = Some(vec![tp]);
            m.unknown_tagged_fields.insert(9, vec![1, 2].into());
            let b = kp_encode(&m, version);
            let mut r = Reader::new(&b);
            let req = ConsumerGroupHeartbeatRequest::decode(&mut r, version).unwrap();
            assert_eq!(r.remaining(), 0, "v{version}");
            for cut in 0..b.len() {
                let short =
                    ConsumerGroupHeartbeatRequest::decode(&mut Reader::new(&b[..cut]), version);
                assert!(short.is_err(), "v{version} cut at {cut}");
            }
            assert_eq!(
                req,
                ConsumerGroupHeartbeatRequest {
                    group_id: "grp",
                    member_id: "m-1",
                    member_epoch: 7,
                    instance_id: Some("inst"),
                    rack_id: None,
                    rebalance_timeout_ms: 30000,
                    subscribed_topic_names: Some(vec!["a", "b"]),
                    subscribed_topic_regex: (version >= 1).then_some("^x.*"),
                    server_assignor: Some("uniform"),
                    topic_partitions: Some(vec![TopicPartitions {
                        topic_id: [3; 16],
                        partitions: vec![0, 2]
                    }]),
                },
                "v{version}"
            );
            // Null arrays stay null: "unchanged since the last heartbeat".
            let mut m = kp::ConsumerGroupHeartbeatRequest::default();
            m.group_id = GroupId(StrBytes::from_static_str("g"));
            let b = kp_encode(&m, version);
            let req = ConsumerGroupHeartbeatRequest::decode(&mut Reader::new(&b), version).unwrap();
            assert_eq!(req.subscribed_topic_names, None);
            assert_eq!(req.topic_partitions, None);
            assert_eq!(req.rebalance_timeout_ms, -1);
        }
    }

    #[test]
    fn responses_encode_in_every_version() {
        for version in 0..=1 {
            for assignment in [
                None,
                Some(vec![]),
                Some(vec![TopicPartitions { topic_id: [5; 16], partitions: vec![1, 4, 5] }]),
            ] {
                let resp = ConsumerGroupHeartbeatResponse {
                    throttle_time_ms: 0,
                    error_code: 0,
                    error_message: None,
                    member_id: Some("abc".into()),
                    member_epoch: 3,
                    heartbeat_interval_ms: 5000,
                    assignment: assignment.clone(),
                };
                let mut out = Vec::new();
                resp.encode(version, &mut out);
                let m: kp::ConsumerGroupHeartbeatResponse = kp_decode(&out, version);
                assert_eq!(m.member_id.as_deref(), Some("abc"));
                assert_eq!(m.member_epoch, 3);
                assert_eq!(m.heartbeat_interval_ms, 5000);
                let got: Option<Vec<(Uuid, Vec<i32>)>> = m.assignment.map(|a: ks::Assignment| {
                    a.topic_partitions
                        .into_iter()
                        .map(|t| (*t.topic_id.as_bytes(), t.partitions))
                        .collect()
                });
                let want =
                    assignment.map(|a| a.into_iter().map(|t| (t.topic_id, t.partitions)).collect());
                assert_eq!(got, want, "v{version}");
            }
            let err = ConsumerGroupHeartbeatResponse {
                error_code: crate::protocol::error::FENCED_MEMBER_EPOCH,
                error_message: Some("fenced".into()),
                member_epoch: -1,
                ..Default::default()
            };
            let mut out = Vec::new();
            err.encode(version, &mut out);
            let m: kp::ConsumerGroupHeartbeatResponse = kp_decode(&out, version);
            assert_eq!(m.error_code, 110);
            assert_eq!(m.error_message.as_deref(), Some("fenced"));
            assert_eq!(m.member_id, None);
        }
    }
}
