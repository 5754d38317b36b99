//! CreatePartitions v0-v3, DeleteGroups v0-v2 and OffsetDelete v0 over the wire against the
//! real binary, kafka-protocol encoding the requests and decoding the answers at every
//! version, with the errors and messages of Kafka 4.4; then a restart, after which grown
//! topics keep their partitions and deleted groups and offsets stay deleted (tombstones in
//! `__consumer_offsets`).

mod common;

use std::path::Path;

use common::*;
use kafka_protocol::messages::{
    create_partitions_request as cpq, join_group_request as jgq, offset_commit_request as ocq,
    offset_delete_request as odq, offset_fetch_request as ofq, sync_group_request as sgq, BrokerId,
    CreatePartitionsRequest, DeleteGroupsRequest, GroupId, JoinGroupRequest, ListGroupsRequest,
    MetadataRequest, OffsetCommitRequest, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const INVALID_GROUP_ID: i16 = 24;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
const INVALID_REQUEST: i16 = 42;
const NON_EMPTY_GROUP: i16 = 68;
const GROUP_ID_NOT_FOUND: i16 = 69;
const MEMBER_ID_REQUIRED: i16 = 79;
const GROUP_SUBSCRIBED_TO_TOPIC: i16 = 86;

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn start(dir: &Path) -> Broker {
    Broker::start_with(dir, &["group.initial.rebalance.delay.ms=0"])
}

fn partitions_of(c: &mut Client, topic: &str) -> Vec<i32> {
    let req = MetadataRequest::default().with_topics(Some(vec![
        kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
            .with_name(Some(TopicName(sb(topic)))),
    ]));
    let r = c.kp_call(12, &req);
    let mut ids: Vec<i32> = r.topics[0].partitions.iter().map(|p| p.partition_index).collect();
    ids.sort();
    ids
}

type Grow<'a> = (&'a str, i32, Option<Vec<Vec<i32>>>);

fn grow(
    c: &mut Client,
    version: i16,
    topics: &[Grow<'_>],
    validate_only: bool,
) -> Vec<(String, i16, Option<String>)> {
    let req = CreatePartitionsRequest::default()
        .with_topics(
            topics
                .iter()
                .map(|(n, count, a)| {
                    cpq::CreatePartitionsTopic::default()
                        .with_name(TopicName(sb(n)))
                        .with_count(*count)
                        .with_assignments(a.as_ref().map(|a| {
                            a.iter()
                                .map(|b| {
                                    cpq::CreatePartitionsAssignment::default()
                                        .with_broker_ids(b.iter().map(|&i| BrokerId(i)).collect())
                                })
                                .collect()
                        }))
                })
                .collect(),
        )
        .with_timeout_ms(5000)
        .with_validate_only(validate_only);
    let r = c.kp_call(version, &req);
    assert_eq!(r.throttle_time_ms, 0);
    r.results
        .iter()
        .map(|t| {
            (t.name.0.to_string(), t.error_code, t.error_message.as_ref().map(|m| m.to_string()))
        })
        .collect()
}

fn ok(name: &str) -> (String, i16, Option<String>) {
    (name.to_string(), 0, None)
}

fn err(name: &str, code: i16, msg: Option<&str>) -> (String, i16, Option<String>) {
    (name.to_string(), code, msg.map(str::to_string))
}

#[test]
fn create_partitions_every_version_and_after_a_restart() {
    let dir = TempDir::new("create-partitions");
    let ids = make_log_dir(dir.path(), &[("grow", 1)]);
    let b = start(dir.path());
    let mut c = b.connect();
    for version in 0..=3i16 {
        let (have, want) = (version as i32 + 1, version as i32 + 2);
        // validate_only changes nothing.
        assert_eq!(grow(&mut c, version, &[("grow", want, None)], true), [ok("grow")]);
        assert_eq!(partitions_of(&mut c, "grow").len() as i32, have);
        let asg = (version % 2 == 1).then(|| vec![vec![1]]);
        assert_eq!(grow(&mut c, version, &[("grow", want, asg)], false), [ok("grow")]);
        assert_eq!(partitions_of(&mut c, "grow"), (0..want).collect::<Vec<_>>());
        assert!(dir.path().join(format!("grow-{}", want - 1)).join("partition.metadata").exists());
        assert_eq!(
            grow(&mut c, version, &[("grow", want, None)], false),
            [err(
                "grow",
                INVALID_PARTITIONS,
                Some(&format!("Topic already has {want} partition(s)."))
            )]
        );
        assert_eq!(
            grow(&mut c, version, &[("grow", 1, None)], true),
            [err(
                "grow",
                INVALID_PARTITIONS,
                Some(&format!(
                    "The topic grow currently has {want} partition(s); 1 would not be an increase."
                ))
            )]
        );
        assert_eq!(
            grow(&mut c, version, &[("nope", 3, None)], false),
            [err("nope", UNKNOWN_TOPIC_OR_PARTITION, None)]
        );
        assert_eq!(
            grow(&mut c, version, &[("grow", 9, None), ("grow", 10, None)], false),
            [err("grow", INVALID_REQUEST, Some("Duplicate topic name."))]
        );
        assert_eq!(
            grow(&mut c, version, &[("grow", want + 2, Some(vec![vec![1]]))], false),
            [err(
                "grow",
                INVALID_REPLICA_ASSIGNMENT,
                Some("Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.")
            )]
        );
        assert_eq!(
            grow(&mut c, version, &[("grow", want + 1, Some(vec![vec![7]]))], false),
            [err(
                "grow",
                INVALID_REPLICA_ASSIGNMENT,
                Some("The manual partition assignment includes broker 7, but no such broker is registered.")
            )]
        );
    }
    // The newest partition takes records and serves them.
    let resp = c.produce(&[("grow", vec![(4, Some(batch(0, &[b"v"])))])]);
    assert_eq!(resp.partition("grow", 4).error_code, 0);
    assert_eq!(c.fetch_one(ids[0], 4, 0).high_watermark, 1);
    drop(c);
    assert!(b.stop().success());
    let b = start(dir.path());
    let mut c = b.connect();
    assert_eq!(partitions_of(&mut c, "grow"), vec![0, 1, 2, 3, 4]);
    assert_eq!(c.fetch_one(ids[0], 4, 0).high_watermark, 1);
}

// ----- groups ------------------------------------------------------------------------------------

fn commit_manual(c: &mut Client, group: &str, offsets: &[(&str, i32, i64)]) {
    let mut topics: Vec<ocq::OffsetCommitRequestTopic> = Vec::new();
    for (t, p, o) in offsets {
        let part = ocq::OffsetCommitRequestPartition::default()
            .with_partition_index(*p)
            .with_committed_offset(*o);
        match topics.iter_mut().find(|x| x.name.0.as_str() == *t) {
            Some(x) => x.partitions.push(part),
            None => topics.push(
                ocq::OffsetCommitRequestTopic::default()
                    .with_name(TopicName(sb(t)))
                    .with_partitions(vec![part]),
            ),
        }
    }
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(sb(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(sb(""))
        .with_topics(topics);
    let r = c.kp_call(8, &req);
    for t in &r.topics {
        for p in &t.partitions {
            assert_eq!(p.error_code, 0, "{r:?}");
        }
    }
}

fn committed(c: &mut Client, group: &str, topic: &str, partitions: &[i32]) -> Vec<i64> {
    let req =
        OffsetFetchRequest::default().with_groups(vec![ofq::OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(sb(group)))
            .with_topics(Some(vec![ofq::OffsetFetchRequestTopics::default()
                .with_name(TopicName(sb(topic)))
                .with_partition_indexes(partitions.to_vec())]))]);
    let r = c.kp_call(9, &req);
    r.groups[0].topics[0].partitions.iter().map(|p| p.committed_offset).collect()
}

fn delete_groups(c: &mut Client, version: i16, groups: &[&str]) -> Vec<(String, i16)> {
    let req = DeleteGroupsRequest::default()
        .with_groups_names(groups.iter().map(|g| GroupId(sb(g))).collect());
    let r = c.kp_call(version, &req);
    assert_eq!(r.throttle_time_ms, 0);
    r.results.iter().map(|g| (g.group_id.0.to_string(), g.error_code)).collect()
}

fn group_ids(c: &mut Client) -> Vec<String> {
    let r = c.kp_call(5, &ListGroupsRequest::default());
    let mut ids: Vec<String> = r.groups.iter().map(|g| g.group_id.0.to_string()).collect();
    ids.sort();
    ids
}

/// ConsumerProtocolSubscription v0 naming `topics`: what a Java or librdkafka consumer sends.
fn subscription(topics: &[&str]) -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend_from_slice(&(topics.len() as i32).to_be_bytes());
    for t in topics {
        b.extend_from_slice(&(t.len() as i16).to_be_bytes());
        b.extend_from_slice(t.as_bytes());
    }
    b.extend_from_slice(&(-1i32).to_be_bytes()); // no user data
    b
}

/// One member joins `group` with `protocol_type` and `metadata`, and the group goes Stable.
fn stable_member(c: &mut Client, group: &str, protocol_type: &str, metadata: &[u8]) {
    let join = |member: &str| {
        JoinGroupRequest::default()
            .with_group_id(GroupId(sb(group)))
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(30_000)
            .with_member_id(sb(member))
            .with_protocol_type(sb(protocol_type))
            .with_protocols(vec![jgq::JoinGroupRequestProtocol::default()
                .with_name(sb("range"))
                .with_metadata(metadata.to_vec().into())])
    };
    let r = c.kp_call(9, &join(""));
    assert_eq!(r.error_code, MEMBER_ID_REQUIRED);
    let id = r.member_id.to_string();
    let r = c.kp_call(9, &join(&id));
    assert_eq!(r.error_code, 0, "{r:?}");
    let s = c.kp_call(
        5,
        &SyncGroupRequest::default()
            .with_group_id(GroupId(sb(group)))
            .with_generation_id(r.generation_id)
            .with_member_id(sb(&id))
            .with_protocol_type(Some(sb(protocol_type)))
            .with_protocol_name(Some(sb("range")))
            .with_assignments(vec![sgq::SyncGroupRequestAssignment::default()
                .with_member_id(sb(&id))
                .with_assignment(Vec::new().into())]),
    );
    assert_eq!(s.error_code, 0, "{s:?}");
}

#[test]
fn delete_groups_every_version_and_after_a_restart() {
    let dir = TempDir::new("delete-groups");
    make_log_dir(dir.path(), &[("t", 2)]);
    let b = start(dir.path());
    let mut c = b.connect();
    stable_member(&mut c, "busy", "consumer", &subscription(&["t"]));
    commit_manual(&mut c, "kept", &[("t", 0, 7)]);
    for version in 0..=2i16 {
        let g = format!("g{version}");
        commit_manual(&mut c, &g, &[("t", 0, 5), ("t", 1, 6)]);
        assert_eq!(committed(&mut c, &g, "t", &[0, 1]), [5, 6]);
        assert_eq!(
            delete_groups(&mut c, version, &[&g, "unknown", "", "busy"]),
            [
                (g.clone(), 0),
                ("unknown".to_string(), GROUP_ID_NOT_FOUND),
                // Kafka 4.4 answers an empty id as an unknown group here.
                (String::new(), GROUP_ID_NOT_FOUND),
                ("busy".to_string(), NON_EMPTY_GROUP)
            ]
        );
        assert_eq!(committed(&mut c, &g, "t", &[0, 1]), [-1, -1]);
        // Deleted once, unknown the second time.
        assert_eq!(delete_groups(&mut c, version, &[&g]), [(g.clone(), GROUP_ID_NOT_FOUND)]);
    }
    assert_eq!(group_ids(&mut c), ["busy", "kept"]);
    drop(c);
    assert!(b.stop().success());
    let b = start(dir.path());
    let mut c = b.connect();
    assert_eq!(group_ids(&mut c), ["kept"], "deleted groups stay deleted");
    for version in 0..=2 {
        assert_eq!(committed(&mut c, &format!("g{version}"), "t", &[0, 1]), [-1, -1]);
    }
    assert_eq!(committed(&mut c, "kept", "t", &[0]), [7]);
}

fn offset_delete(c: &mut Client, group: &str, topics: &[(&str, &[i32])]) -> OffsetDeleteResponse {
    let req = OffsetDeleteRequest::default().with_group_id(GroupId(sb(group))).with_topics(
        topics
            .iter()
            .map(|(t, ps)| {
                odq::OffsetDeleteRequestTopic::default()
                    .with_name(TopicName(sb(t)))
                    .with_partitions(
                        ps.iter()
                            .map(|&p| {
                                odq::OffsetDeleteRequestPartition::default().with_partition_index(p)
                            })
                            .collect(),
                    )
            })
            .collect(),
    );
    c.kp_call(0, &req)
}

fn rows(r: &OffsetDeleteResponse) -> Vec<(String, Vec<(i32, i16)>)> {
    r.topics
        .iter()
        .map(|t| {
            (
                t.name.0.to_string(),
                t.partitions.iter().map(|p| (p.partition_index, p.error_code)).collect(),
            )
        })
        .collect()
}

#[test]
fn offset_delete_and_after_a_restart() {
    let dir = TempDir::new("offset-delete");
    make_log_dir(dir.path(), &[("t", 2), ("u", 1)]);
    let b = start(dir.path());
    let mut c = b.connect();
    commit_manual(&mut c, "g", &[("t", 0, 5), ("t", 1, 6), ("u", 0, 9)]);
    let r = offset_delete(&mut c, "g", &[("t", &[0, 7]), ("missing", &[0]), ("u", &[])]);
    assert_eq!((r.error_code, r.throttle_time_ms), (0, 0));
    assert_eq!(
        rows(&r),
        [
            ("t".to_string(), vec![(7, UNKNOWN_TOPIC_OR_PARTITION), (0, 0)]),
            ("missing".to_string(), vec![(0, UNKNOWN_TOPIC_OR_PARTITION)]),
        ],
        "a topic with no partitions asked is not answered"
    );
    assert_eq!(committed(&mut c, "g", "t", &[0, 1]), [-1, 6]);
    // A partition with no committed offset is answered all the same.
    assert_eq!(
        rows(&offset_delete(&mut c, "g", &[("t", &[0])])),
        [("t".to_string(), vec![(0, 0)])]
    );
    // Group-level errors replace the whole answer.
    for (group, code) in [("nobody", GROUP_ID_NOT_FOUND), ("", INVALID_GROUP_ID)] {
        let r = offset_delete(&mut c, group, &[("t", &[1])]);
        assert_eq!((r.error_code, r.topics.len()), (code, 0), "{group:?}");
    }
    // An active consumer group may lose the offsets of topics no member subscribes to.
    stable_member(&mut c, "active", "consumer", &subscription(&["t"]));
    commit_manual(&mut c, "idle", &[("u", 0, 1)]);
    let r = offset_delete(&mut c, "active", &[("t", &[0, 1]), ("u", &[0])]);
    assert_eq!(
        rows(&r),
        [
            ("t".to_string(), vec![(0, GROUP_SUBSCRIBED_TO_TOPIC), (1, GROUP_SUBSCRIBED_TO_TOPIC)]),
            ("u".to_string(), vec![(0, 0)]),
        ]
    );
    // A group of another protocol type has no readable subscriptions: refused while active.
    stable_member(&mut c, "connect", "connect", b"opaque");
    assert_eq!(offset_delete(&mut c, "connect", &[("u", &[0])]).error_code, NON_EMPTY_GROUP);
    drop(c);
    assert!(b.stop().success());
    let b = start(dir.path());
    let mut c = b.connect();
    assert_eq!(committed(&mut c, "g", "t", &[0, 1]), [-1, 6]);
    assert_eq!(committed(&mut c, "g", "u", &[0]), [9]);
}

/// A group id is the client's to choose: written into a log line it is quoted and escaped,
/// so a newline in it cannot forge a line of the broker's log.
#[test]
fn a_group_id_cannot_forge_a_log_line() {
    let dir = TempDir::new("group-log-line");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    create_topic_with(&mut c, "t", &[]);
    let evil = "g\n[2026-01-01T00:00:00Z INFO  minikafka] forged";
    commit_manual(&mut c, evil, &[("t", 0, 1)]);
    assert_eq!(delete_groups(&mut c, 2, &[evil]), [(evil.to_string(), 0)]);
    let lines =
        b.logs.wait_for(std::time::Duration::from_secs(10), |l| l.contains("deleted group"));
    let line = lines.expect("the deletion is logged");
    assert!(line.contains(r#""g\n[2026"#), "escaped in its line: {line}");
    assert!(!b.logs.lines().iter().any(|l| l.starts_with("[2026-01-01")), "no forged line");
}
