//! CreatePartitions, DeleteGroups and OffsetDelete against Apache Kafka: topics grown,
//! grown again to the same count, shrunk, unknown, duplicated, validate_only and manual
//! assignments; empty, non-empty, unknown and invalid groups deleted; offsets deleted for
//! known and unknown partitions and topics, and for a group whose members subscribe to one.
//!
//! Kafka answers a multi-topic CreatePartitions in hash order and a multi-group DeleteGroups
//! in coordinator-partition order, so each request here names one topic or group, but for
//! the duplicate case (duplicates are answered first).

use bytes::Bytes;
use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopics;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use crate::harness::{Ctx, Scenario};
use crate::scenarios::versions;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

type Grow<'a> = (&'a str, i32, Option<Vec<Vec<i32>>>);

fn grow(topics: &[Grow<'_>], validate_only: bool) -> RequestKind {
    CreatePartitionsRequest::default()
        .with_topics(
            topics
                .iter()
                .map(|(n, count, a)| {
                    CreatePartitionsTopic::default()
                        .with_name(TopicName(s(n)))
                        .with_count(*count)
                        .with_assignments(a.as_ref().map(|a| {
                            a.iter()
                                .map(|b| {
                                    CreatePartitionsAssignment::default()
                                        .with_broker_ids(b.iter().map(|&i| BrokerId(i)).collect())
                                })
                                .collect()
                        }))
                })
                .collect(),
        )
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only)
        .into()
}

fn commit(group: &str, offsets: &[(&str, i32, i64)]) -> RequestKind {
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for (t, p, o) in offsets {
        let part = OffsetCommitRequestPartition::default()
            .with_partition_index(*p)
            .with_committed_offset(*o)
            .with_committed_metadata(Some(s("m")));
        match topics.iter_mut().find(|x| x.name.0.as_str() == *t) {
            Some(x) => x.partitions.push(part),
            None => topics.push(
                OffsetCommitRequestTopic::default()
                    .with_name(TopicName(s(t)))
                    .with_partitions(vec![part]),
            ),
        }
    }
    OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(s(""))
        .with_topics(topics)
        .into()
}

fn fetch(group: &str, topic: &str, partitions: Vec<i32>) -> RequestKind {
    OffsetFetchRequest::default()
        .with_groups(vec![OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s(group)))
            .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                .with_name(TopicName(s(topic)))
                .with_partition_indexes(partitions)]))])
        .into()
}

fn delete_group(group: &str) -> RequestKind {
    DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(group))]).into()
}

/// ConsumerProtocolSubscription v0 naming `topic`, no user data.
fn subscription(topic: &str) -> Bytes {
    let mut b = vec![0, 0, 0, 0, 0, 1];
    b.extend_from_slice(&(topic.len() as i16).to_be_bytes());
    b.extend_from_slice(topic.as_bytes());
    b.extend_from_slice(&[0xff; 4]);
    Bytes::from(b)
}

fn join(group: &str, member: &str, topic: &str) -> RequestKind {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_session_timeout_ms(30_000)
        .with_rebalance_timeout_ms(30_000)
        .with_member_id(s(member))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(subscription(topic))])
        .into()
}

fn sync(ctx: &Ctx, group: &str) -> RequestKind {
    SyncGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(ctx.generation_id)
        .with_member_id(s(&ctx.member_id))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s(&ctx.member_id))
            .with_assignment(Bytes::new())])
        .into()
}

/// A one-member group, Stable (join for an id, join, sync), subscribed to `topic`.
fn stable(sc: Scenario, group: &str, topic: &str) -> Scenario {
    let (g1, g2, g3, t1, t2) = (
        group.to_string(),
        group.to_string(),
        group.to_string(),
        topic.to_string(),
        topic.to_string(),
    );
    sc.setup(ApiKey::JoinGroup, 9, move |_, _| join(&g1, "", &t1))
        .setup(ApiKey::JoinGroup, 9, move |c, _| join(&g2, &c.member_id, &t2))
        .setup(ApiKey::SyncGroup, 5, move |c, _| sync(c, &g3))
}

fn offset_delete(group: &str, topics: &[(&str, &[i32])]) -> RequestKind {
    OffsetDeleteRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_topics(
            topics
                .iter()
                .map(|(t, ps)| {
                    OffsetDeleteRequestTopic::default().with_name(TopicName(s(t))).with_partitions(
                        ps.iter()
                            .map(|&p| {
                                OffsetDeleteRequestPartition::default().with_partition_index(p)
                            })
                            .collect(),
                    )
                })
                .collect(),
        )
        .into()
}

/// The groups these scenarios use, for the harness to wait on their coordinators.
pub fn group_names() -> Vec<String> {
    let mut g: Vec<String> = Vec::new();
    for v in versions(ApiKey::DeleteGroups) {
        g.push(format!("dg-{v}"));
        g.push(format!("dg-busy-{v}"));
    }
    g.extend(["dg-unknown", "od-g", "od-active", "od-nobody"].map(String::from));
    g
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::CreatePartitions) {
        let t = format!("cp-{v}");
        let steps: Vec<(Vec<Grow<'static>>, bool)> = vec![
            (vec![("", 3, None)], true),
            (vec![("", 3, None)], false),
            (vec![("", 3, None)], false),
            (vec![("", 2, None)], false),
            (vec![("", 1, None)], true),
            (vec![("cp-nosuch", 2, None)], false),
            (vec![("", 5, None), ("cp-nosuch", 2, None), ("", 6, None)], false),
            (vec![("", 5, Some(vec![vec![1]]))], false),
            (vec![("", 4, Some(vec![vec![2]]))], false),
            (vec![("", 4, Some(vec![vec![1, 1]]))], false),
            (vec![("", 4, Some(vec![vec![]]))], false),
            (vec![("", 4, Some(vec![vec![1]]))], false),
            (vec![("", 4, None)], false),
            (vec![("", 6, None)], true),
        ];
        let mut sc = Scenario::new(format!(
            "create_partitions v{v}: grow, equal, shrink, unknown, duplicate, validate_only, \
             assignments"
        ))
        .topic(&t, 1);
        for (topics, validate_only) in steps {
            let t = t.clone();
            sc = sc.step(ApiKey::CreatePartitions, v, move |_, _| {
                // "" stands for the scenario's topic.
                let named: Vec<Grow<'_>> = topics
                    .iter()
                    .map(|(n, c, a)| (if n.is_empty() { t.as_str() } else { *n }, *c, a.clone()))
                    .collect();
                grow(&named, validate_only)
            });
        }
        out.push(sc);
    }
    for v in versions(ApiKey::DeleteGroups) {
        let (g, busy) = (format!("dg-{v}"), format!("dg-busy-{v}"));
        let t = format!("dg-t-{v}");
        let (g1, g2, g3, g4, t1, t2) =
            (g.clone(), g.clone(), g.clone(), g.clone(), t.clone(), t.clone());
        let busy1 = busy.clone();
        let sc =
            Scenario::new(format!("delete_groups v{v}: empty, again, unknown, invalid, non-empty"))
                .topic(&t, 2)
                .step(ApiKey::OffsetCommit, 9, move |_, _| commit(&g1, &[(&t1, 0, 3), (&t1, 1, 4)]))
                .step(ApiKey::DeleteGroups, v, move |_, _| delete_group(&g2))
                .step(ApiKey::OffsetFetch, 9, move |_, _| fetch(&g3, &t2, vec![0, 1]))
                .step(ApiKey::DeleteGroups, v, move |_, _| delete_group(&g4))
                .step(ApiKey::DeleteGroups, v, |_, _| delete_group("dg-unknown"))
                .step(ApiKey::DeleteGroups, v, |_, _| delete_group(""));
        out.push(
            stable(sc, &busy, &t).step(ApiKey::DeleteGroups, v, move |_, _| delete_group(&busy1)),
        );
    }
    let sc = Scenario::new("offset_delete v0: committed, uncommitted, unknown partition and topic, groups unknown, invalid and subscribed")
        .topic("od-t", 2)
        .topic("od-u", 1)
        .step(ApiKey::OffsetCommit, 9, |_, _| commit("od-g", &[("od-t", 0, 5), ("od-t", 1, 6), ("od-u", 0, 7)]))
        .step(ApiKey::OffsetDelete, 0, |_, _| {
            offset_delete("od-g", &[("od-t", &[0, 9]), ("od-missing", &[0]), ("od-u", &[])])
        })
        .step(ApiKey::OffsetFetch, 9, |_, _| fetch("od-g", "od-t", vec![0, 1]))
        .step(ApiKey::OffsetDelete, 0, |_, _| offset_delete("od-g", &[("od-t", &[0])]))
        .step(ApiKey::OffsetDelete, 0, |_, _| offset_delete("od-nobody", &[("od-t", &[0])]))
        .step(ApiKey::OffsetDelete, 0, |_, _| offset_delete("", &[("od-t", &[0])]))
        .step(ApiKey::OffsetCommit, 9, |_, _| commit("od-active", &[("od-u", 0, 1)]));
    out.push(stable(sc, "od-active", "od-t").step(ApiKey::OffsetDelete, 0, |_, _| {
        offset_delete("od-active", &[("od-t", &[0, 1]), ("od-u", &[0])])
    }));
    out
}
