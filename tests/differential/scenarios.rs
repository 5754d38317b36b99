//! The scenarios, as data: each is a name and a list of requests. Extend by adding to
//! [`all`]; every judged step's answer from minikafka must match Apache Kafka's, or the
//! difference must be listed in `DEVIATIONS` (main.rs) and in the README.
//!
//! Names of topics and groups carry the scenario and version, so scenarios never see each
//! other's state on the two long-lived brokers.

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::common::{BatchBuilder, Header};
use crate::harness::{Ctx, Scenario};

/// The versions minikafka advertises, per API (what every scenario family walks through).
pub fn versions(api: ApiKey) -> std::ops::RangeInclusive<i16> {
    let key = api as i16;
    let (_, min, max) = crate::common::ADVERTISED
        .iter()
        .find(|(k, _, _)| *k == key)
        .unwrap_or_else(|| panic!("{api:?} is not advertised"));
    *min..=*max
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn topic(v: &str) -> TopicName {
    TopicName(s(v))
}

/// A fixed timestamp, so both brokers store and answer the same bytes.
pub const TS: i64 = 1_726_045_973_899;

/// A batch of `n` records with keys, values and one header, at `TS + i`.
pub fn records(n: usize, tag: &str) -> Bytes {
    let mut b = BatchBuilder::new(0, TS);
    for i in 0..n {
        let (k, v) = (format!("k{i}"), format!("{tag} value {i}"));
        b.push(Some(k.as_bytes()), Some(v.as_bytes()), &[Header { key: "h", value: Some(b"v") }]);
    }
    Bytes::from(b.finish())
}

pub fn idempotent_records(ctx: &Ctx, n: usize, sequence: i32, epoch_delta: i16) -> Bytes {
    let mut b = BatchBuilder::new(0, TS).producer(
        ctx.producer_id,
        ctx.producer_epoch + epoch_delta,
        sequence,
    );
    for i in 0..n {
        let v = format!("idempotent {}", sequence + i as i32);
        b.push(None, Some(v.as_bytes()), &[]);
    }
    Bytes::from(b.finish())
}

pub fn create(name: &str, partitions: i32, rf: i16) -> RequestKind {
    CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic(name))
            .with_num_partitions(partitions)
            .with_replication_factor(rf)])
        .with_timeout_ms(30_000)
        .into()
}

pub fn metadata(names: &[&str], v: i16, auto_create: bool) -> RequestKind {
    let topics =
        names.iter().map(|n| MetadataRequestTopic::default().with_name(Some(topic(n)))).collect();
    let mut r = MetadataRequest::default().with_topics(Some(topics));
    if v >= 4 {
        r = r.with_allow_auto_topic_creation(auto_create);
    }
    r.into()
}

pub fn produce(ctx: &Ctx, name: &str, partition: i32, acks: i16, records: Bytes) -> RequestKind {
    let _ = ctx;
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic(name))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
        .into()
}

pub struct FetchAt {
    pub partition: i32,
    pub offset: i64,
    pub max_bytes: i32,
}

pub fn fetch(ctx: &Ctx, v: i16, name: &str, parts: &[FetchAt], max_wait_ms: i32) -> RequestKind {
    let mut t = FetchTopic::default().with_partitions(
        parts
            .iter()
            .map(|p| {
                FetchPartition::default()
                    .with_partition(p.partition)
                    .with_fetch_offset(p.offset)
                    .with_partition_max_bytes(p.max_bytes)
            })
            .collect(),
    );
    t = if v >= 13 {
        t.with_topic_id(ctx.topic_ids.get(name).copied().unwrap_or(Uuid::from_u128(42)))
    } else {
        t.with_topic(topic(name))
    };
    FetchRequest::default()
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![t])
        .into()
}

pub fn list_offsets(name: &str, partition: i32, timestamp: i64) -> RequestKind {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default().with_name(topic(name)).with_partitions(
            vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_timestamp(timestamp)],
        )])
        .into()
}

/// An idempotent (not transactional) producer's first InitProducerId.
pub fn init_producer_id() -> RequestKind {
    InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
        .into()
}

fn join(group: &str, member: &str) -> RequestKind {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(Bytes::from_static(b"\0\x01\0\0\0\x01\0\x01t\xff\xff\xff\xff"))])
        .into()
}

fn sync(ctx: &Ctx, group: &str, generation_delta: i32) -> RequestKind {
    SyncGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(ctx.generation_id + generation_delta)
        .with_member_id(s(&ctx.member_id))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s(&ctx.member_id))
            .with_assignment(Bytes::from_static(b"\0\x01\0\0\0\x01\0\x01t\0\0\0\x01\0\0\0\0"))])
        .into()
}

fn heartbeat(group: &str, generation: i32, member: &str) -> RequestKind {
    HeartbeatRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(generation)
        .with_member_id(s(member))
        .into()
}

fn commit(group: &str, generation: i32, member: &str, name: &str, offset: i64) -> RequestKind {
    OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic(name))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)
                .with_committed_metadata(Some(s("meta")))])])
        .into()
}

fn offset_fetch(v: i16, group: &str, name: &str) -> RequestKind {
    if v >= 8 {
        OffsetFetchRequest::default()
            .with_groups(vec![OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s(group)))
                .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                    .with_name(topic(name))
                    .with_partition_indexes(vec![0, 1])]))])
            .into()
    } else {
        OffsetFetchRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(topic(name))
                .with_partition_indexes(vec![0, 1])]))
            .into()
    }
}

fn leave(v: i16, group: &str, member: &str) -> RequestKind {
    let r = LeaveGroupRequest::default().with_group_id(GroupId(s(group)));
    if v >= 3 {
        r.with_members(vec![MemberIdentity::default().with_member_id(s(member))]).into()
    } else {
        r.with_member_id(s(member)).into()
    }
}

/// The groups the scenarios use (their coordinators must be ready before they run).
pub fn group_names() -> Vec<String> {
    let mut g: Vec<String> = versions(ApiKey::JoinGroup).map(|v| format!("grp-{v}")).collect();
    g.extend(["g1", "g2", "no-such-group", "oc-group", "oc-nobody"].map(String::from));
    g.extend(crate::group_admin::group_names());
    g
}

/// Every scenario, in the order they run.
pub fn all() -> Vec<Scenario> {
    let mut out = Vec::new();
    out.extend(metadata_scenarios());
    out.extend(create_topics_scenarios());
    out.extend(delete_topics_scenarios());
    out.extend(produce_scenarios());
    out.extend(fetch_scenarios());
    out.extend(list_offsets_scenarios());
    out.extend(idempotence_scenarios());
    out.extend(group_scenarios());
    out.extend(admin_scenarios());
    out.extend(crate::group_admin::scenarios());
    out.extend(crate::configs::scenarios());
    out.extend(crate::broker_configs::scenarios());
    out.extend(crate::logs::scenarios());
    out.extend(crate::timestamps::scenarios());
    out.extend(crate::compression::scenarios());
    out.extend(crate::compaction::scenarios());
    out.extend(crate::transactions::scenarios());
    out.extend(crate::security::scenarios());
    out.extend(crate::txn_admin::scenarios());
    out.push(
        Scenario::new("read_committed: fetch and list offsets, no transactions")
            .topic("rc", 1)
            .setup(ApiKey::Produce, 9, |c, _| produce(c, "rc", 0, 1, records(2, "rc")))
            .step(ApiKey::Fetch, 12, |c, v| {
                let RequestKind::Fetch(f) = fetch(
                    c,
                    v,
                    "rc",
                    &[FetchAt { partition: 0, offset: 0, max_bytes: 1 << 20 }],
                    0,
                ) else {
                    unreachable!()
                };
                f.with_isolation_level(1).into()
            })
            .step(ApiKey::ListOffsets, 7, |_, _| {
                let RequestKind::ListOffsets(l) = list_offsets("rc", 0, -1) else { unreachable!() };
                l.with_isolation_level(1).into()
            }),
    );
    out.push(
        Scenario::new("offsets of unknown topics and of a group without commits")
            .topic("oc", 1)
            .step(ApiKey::OffsetCommit, 2, |_, _| commit("oc-group", -1, "", "oc-none", 1))
            .step(ApiKey::OffsetCommit, 9, |_, _| commit("oc-group", -1, "", "oc", 4))
            .step(ApiKey::OffsetFetch, 5, |_, v| offset_fetch(v, "oc-group", "oc"))
            .step(ApiKey::OffsetFetch, 5, |_, v| offset_fetch(v, "oc-nobody", "oc"))
            .step(ApiKey::OffsetFetch, 9, |_, v| offset_fetch(v, "oc-group", "oc")),
    );
    out.push(
        Scenario::new("metadata auto-creation: answered at once")
            .step(ApiKey::Metadata, 1, |_, v| metadata(&["auto-v1"], v, true))
            .step(ApiKey::Metadata, 9, |_, v| metadata(&["auto-v9"], v, true)),
    );
    out.push(
        Scenario::new("undecodable bodies close the connection")
            .raw(ApiKey::Produce, 9, |_, _| vec![0xff; 7])
            .raw(ApiKey::Metadata, 12, |_, _| vec![0x00, 0x05, 0x01]),
    );
    out.push(
        Scenario::new("versions nobody serves close the connection")
            .raw(ApiKey::Metadata, 99, |_, _| vec![0; 8])
            .raw(ApiKey::Fetch, 99, |_, _| vec![0; 8]),
    );
    out
}

fn metadata_scenarios() -> Vec<Scenario> {
    versions(ApiKey::Metadata)
        .map(|v| {
            let known = format!("md-{v}");
            let unknown = format!("md-unknown-{v}");
            let (k1, k2, u2) = (known.clone(), known.clone(), unknown.clone());
            let mut sc =
                Scenario::new(format!("metadata v{v}: a topic, an unknown one, a bad name"))
                    .topic(&k1, 2);
            if v >= 4 {
                // Without auto-creation (v0-3 always ask for it).
                sc = sc.step(ApiKey::Metadata, v, move |_, v| metadata(&[&k2, &u2], v, false));
            } else {
                sc = sc.step(ApiKey::Metadata, v, move |_, v| metadata(&[&k2], v, true));
            }
            sc.step(ApiKey::Metadata, v, |_, v| metadata(&["bad name!"], v, false))
        })
        .collect()
}

fn create_topics_scenarios() -> Vec<Scenario> {
    versions(ApiKey::CreateTopics)
        .map(|v| {
            let name = format!("ct-{v}");
            let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
            Scenario::new(format!("create_topics v{v}: create, again, errors, validate_only"))
                .step(ApiKey::CreateTopics, v, move |_, _| create(&n1, 3, 1))
                .step(ApiKey::CreateTopics, v, move |_, _| create(&n2, 3, 1))
                .step(ApiKey::CreateTopics, v, |_, _| create("bad name!", 1, 1))
                .step(ApiKey::CreateTopics, v, |_, _| create(&"x".repeat(250), 1, 1))
                .step(ApiKey::CreateTopics, v, move |_, _| create(&format!("{n3}-rf3"), 1, 3))
                .step(ApiKey::CreateTopics, v, move |_, _| create(&format!("ct-{v}-zero"), 0, 1))
                .step(ApiKey::CreateTopics, v, move |_, _| {
                    let mut r = CreateTopicsRequest::default()
                        .with_topics(vec![CreatableTopic::default()
                            .with_name(topic(&format!("ct-{v}-validate")))
                            .with_num_partitions(2)
                            .with_replication_factor(1)
                            .with_configs(vec![CreatableTopicConfig::default()
                                .with_name(s("cleanup.policy"))
                                .with_value(Some(s("delete")))])])
                        .with_timeout_ms(30_000);
                    r = r.with_validate_only(true);
                    r.into()
                })
                // validate_only created nothing.
                .step(ApiKey::Metadata, 12, move |_, _| {
                    metadata(&[&format!("ct-{v}-validate")], 12, false)
                })
        })
        .collect()
}

fn delete_topics_scenarios() -> Vec<Scenario> {
    versions(ApiKey::DeleteTopics)
        .map(|v| {
            let name = format!("dt-{v}");
            let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
            let by = move |ctx: &Ctx, v: i16, n: &str, id: Option<Uuid>| -> RequestKind {
                let r = DeleteTopicsRequest::default().with_timeout_ms(30_000);
                if v >= 6 {
                    let state = match id {
                        Some(id) => DeleteTopicState::default().with_topic_id(id),
                        None => DeleteTopicState::default().with_name(Some(topic(n))),
                    };
                    let _ = ctx;
                    r.with_topics(vec![state]).into()
                } else {
                    r.with_topic_names(vec![topic(n)]).into()
                }
            };
            let mut sc = Scenario::new(format!("delete_topics v{v}: by name, unknown, by id"))
                .topic(&n1, 2)
                .step(ApiKey::DeleteTopics, v, move |c, v| by(c, v, &n2, None))
                .step(ApiKey::DeleteTopics, v, move |c, v| by(c, v, &n3, None))
                .step(ApiKey::DeleteTopics, v, move |c, v| by(c, v, "never-was", None));
            if v >= 6 {
                let n4 = format!("dt-{v}-id");
                let n5 = n4.clone();
                sc = sc
                    .topic(&n4, 1)
                    .step(ApiKey::DeleteTopics, v, move |c, v| by(c, v, "", Some(c.topic_id(&n5))))
                    .step(ApiKey::DeleteTopics, v, move |c, v| {
                        by(c, v, "", Some(Uuid::from_u128(0x1234)))
                    });
            }
            sc
        })
        .collect()
}

fn produce_scenarios() -> Vec<Scenario> {
    versions(ApiKey::Produce)
        .map(|v| {
            let name = format!("p-{v}");
            let n = [0; 6].map(|_| name.clone());
            let [n0, n1, n2, n3, n4, n5] = n;
            Scenario::new(format!("produce v{v}: acks 1 and -1, errors"))
                .topic(&n0, 2)
                .step(ApiKey::Produce, v, move |c, _| produce(c, &n1, 0, 1, records(3, "a")))
                .step(ApiKey::Produce, v, move |c, _| produce(c, &n2, 1, -1, records(2, "b")))
                .step(ApiKey::Produce, v, move |c, _| produce(c, &n3, 7, 1, records(1, "c")))
                .step(ApiKey::Produce, v, move |c, _| {
                    produce(c, &format!("p-{v}-unknown"), 0, 1, records(1, "d"))
                })
                .step(ApiKey::Produce, v, move |c, _| {
                    let mut bad = records(2, "corrupt").to_vec();
                    let last = bad.len() - 1;
                    bad[last] ^= 0xff; // the CRC no longer matches
                    produce(c, &n4, 0, 1, Bytes::from(bad))
                })
                .step(ApiKey::Produce, v, move |c, _| {
                    let big = vec![b'x'; 1_100_000];
                    let mut b = BatchBuilder::new(0, TS);
                    b.push(None, Some(&big), &[]);
                    produce(c, &n5, 0, 1, Bytes::from(b.finish()))
                })
                // acks=0 gets no answer, even to an error; the error closes the connection
                // instead, so the client learns of it (seen by the next request).
                .unanswered(ApiKey::Produce, v, {
                    let n = name.clone();
                    move |c, _| produce(c, &n, 0, 0, records(1, "e"))
                })
                .step(ApiKey::Metadata, 12, {
                    let n = name.clone();
                    move |_, v| metadata(&[&n], v, false)
                })
                .unanswered(ApiKey::Produce, v, move |c, _| {
                    produce(c, &name, 9, 0, records(1, "f"))
                })
                .step(ApiKey::Metadata, 12, move |_, v| metadata(&["p-none"], v, false))
        })
        .collect()
}

fn fetch_scenarios() -> Vec<Scenario> {
    versions(ApiKey::Fetch)
        .map(|v| {
            let name = format!("f-{v}");
            let n = [0; 6].map(|_| name.clone());
            let [n0, n1, n2, n3, n4, n5] = n;
            let at = |partition, offset| FetchAt { partition, offset, max_bytes: 1 << 20 };
            Scenario::new(format!("fetch v{v}: records, limits, out of range, unknown, long poll"))
                .topic(&n0, 2)
                .setup(ApiKey::Metadata, 12, move |_, v| metadata(&[&n1], v, false))
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &n2, 0, 1, records(3, "x")))
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &n3, 0, 1, records(2, "y")))
                .step(ApiKey::Fetch, v, move |c, v| fetch(c, v, &n4, &[at(0, 0), at(1, 0)], 0))
                .step(ApiKey::Fetch, v, move |c, v| {
                    // Only the first batch fits: at least one batch is always returned.
                    fetch(c, v, &n5, &[FetchAt { partition: 0, offset: 1, max_bytes: 10 }], 0)
                })
                .step(ApiKey::Fetch, v, {
                    let n = name.clone();
                    move |c, v| fetch(c, v, &n, &[at(0, 5)], 0)
                })
                .step(ApiKey::Fetch, v, {
                    let n = name.clone();
                    move |c, v| fetch(c, v, &n, &[at(0, 50)], 0)
                })
                .step(ApiKey::Fetch, v, {
                    let n = name.clone();
                    move |c, v| fetch(c, v, &n, &[at(9, 0)], 0)
                })
                .step(ApiKey::Fetch, v, move |c, v| {
                    fetch(c, v, &format!("f-{v}-none"), &[at(0, 0)], 0)
                })
                // Long poll on an empty partition: answered empty when max_wait_ms passes.
                .step(ApiKey::Fetch, v, {
                    let n = name.clone();
                    move |c, v| fetch(c, v, &n, &[at(1, 0)], 200)
                })
        })
        .collect()
}

fn list_offsets_scenarios() -> Vec<Scenario> {
    versions(ApiKey::ListOffsets)
        .map(|v| {
            let name = format!("lo-{v}");
            let n = [0; 4].map(|_| name.clone());
            let [n0, n1, n2, n3] = n;
            let mut sc = Scenario::new(format!("list_offsets v{v}: earliest, latest, by time"))
                .topic(&n0, 1)
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &n1, 0, 1, records(3, "a")))
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &n2, 0, 1, records(2, "b")));
            for ts in [-2, -1, TS, TS + 1, TS + 2, TS + 100] {
                let n = n3.clone();
                sc = sc.step(ApiKey::ListOffsets, v, move |_, _| list_offsets(&n, 0, ts));
            }
            if v >= 7 {
                let n = n3.clone();
                sc = sc.step(ApiKey::ListOffsets, v, move |_, _| list_offsets(&n, 0, -3));
            }
            if v >= 8 {
                let n = n3.clone();
                sc = sc.step(ApiKey::ListOffsets, v, move |_, _| list_offsets(&n, 0, -4));
            }
            sc.step(ApiKey::ListOffsets, v, move |_, _| list_offsets(&n3, 4, -1)).step(
                ApiKey::ListOffsets,
                v,
                move |_, _| list_offsets(&format!("lo-{v}-none"), 0, -1),
            )
        })
        .collect()
}

fn idempotence_scenarios() -> Vec<Scenario> {
    versions(ApiKey::InitProducerId)
        .map(|v| {
            let name = format!("idem-{v}");
            let n = [0; 6].map(|_| name.clone());
            let [n0, n1, n2, n3, n4, n5] = n;
            Scenario::new(format!("init_producer_id v{v}: sequences, duplicates, gaps, epochs"))
                .topic(&n0, 1)
                .step(ApiKey::InitProducerId, v, |_, _| init_producer_id())
                .step(ApiKey::Produce, 9, move |c, _| {
                    produce(c, &n1, 0, -1, idempotent_records(c, 3, 0, 0))
                })
                .step(ApiKey::Produce, 9, move |c, _| {
                    produce(c, &n2, 0, -1, idempotent_records(c, 2, 3, 0))
                })
                // A retry of the first batch: a duplicate, answered with its first offset.
                .step(ApiKey::Produce, 9, move |c, _| {
                    produce(c, &n3, 0, -1, idempotent_records(c, 3, 0, 0))
                })
                // A gap in the sequence.
                .step(ApiKey::Produce, 9, move |c, _| {
                    produce(c, &n4, 0, -1, idempotent_records(c, 1, 9, 0))
                })
                // An epoch the broker has not seen, starting at a sequence other than 0.
                .step(ApiKey::Produce, 9, move |c, _| {
                    produce(c, &n5, 0, -1, idempotent_records(c, 1, 4, 1))
                })
                .step(ApiKey::Fetch, 12, move |c, v| {
                    fetch(
                        c,
                        v,
                        &name,
                        &[FetchAt { partition: 0, offset: 0, max_bytes: 1 << 20 }],
                        0,
                    )
                })
        })
        .collect()
}

fn group_scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::FindCoordinator) {
        out.push(Scenario::new(format!("find_coordinator v{v}")).step(
            ApiKey::FindCoordinator,
            v,
            |_, v| {
                let r = FindCoordinatorRequest::default();
                if v >= 4 {
                    r.with_coordinator_keys(vec![s("g1"), s("g2")]).into()
                } else {
                    r.with_key(s("g1")).into()
                }
            },
        ));
    }
    // One group's whole life at each JoinGroup version, the other group APIs at a version
    // that walks along.
    for v in versions(ApiKey::JoinGroup) {
        let g = format!("grp-{v}");
        let t = format!("grp-t-{v}");
        let pick = |api: ApiKey| (*versions(api).end()).min(*versions(api).start() + v);
        let (hb, sy, oc, of, lv, dg) = (
            pick(ApiKey::Heartbeat),
            pick(ApiKey::SyncGroup),
            pick(ApiKey::OffsetCommit),
            pick(ApiKey::OffsetFetch),
            pick(ApiKey::LeaveGroup),
            pick(ApiKey::DescribeGroups),
        );
        let gs: Vec<String> = (0..16).map(|_| g.clone()).collect();
        let mut gi = gs.into_iter();
        let mut next = || gi.next().unwrap();
        let (g1, g2, g3, g4, g5, g6, g7, g8) =
            (next(), next(), next(), next(), next(), next(), next(), next());
        let (g9, g10, g11, g12, g13, g14) = (next(), next(), next(), next(), next(), next());
        let (t0, t1, t2, t3) = (t.clone(), t.clone(), t.clone(), t.clone());
        let mut sc = Scenario::new(format!(
            "group v{v}: join {v}, sync {sy}, heartbeat {hb}, commit {oc}, fetch {of}, \
             leave {lv}, describe {dg}"
        ))
        .topic(&t0, 2)
        .step(ApiKey::JoinGroup, v, move |_, _| join(&g1, ""));
        if v >= 4 {
            // MEMBER_ID_REQUIRED gave us an id: join with it.
            sc = sc.step(ApiKey::JoinGroup, v, move |c, _| join(&g2, &c.member_id));
        }
        sc = sc
            .step(ApiKey::SyncGroup, sy, move |c, _| sync(c, &g3, 1))
            .step(ApiKey::SyncGroup, sy, move |c, _| sync(c, &g4, 0))
            .step(ApiKey::Heartbeat, hb, move |c, _| heartbeat(&g5, c.generation_id, &c.member_id))
            .step(ApiKey::Heartbeat, hb, move |c, _| {
                heartbeat(&g6, c.generation_id + 1, &c.member_id)
            })
            .step(ApiKey::Heartbeat, hb, move |c, _| heartbeat(&g7, c.generation_id, "nobody"))
            .step(ApiKey::OffsetCommit, oc, move |c, _| {
                commit(&g8, c.generation_id, &c.member_id, &t1, 7)
            })
            .step(ApiKey::OffsetCommit, oc, move |c, _| {
                commit(&g9, c.generation_id + 5, &c.member_id, &t2, 8)
            })
            .step(ApiKey::OffsetFetch, of, move |_, v| offset_fetch(v, &g10, &t3))
            .step(ApiKey::DescribeGroups, dg, move |_, _| {
                DescribeGroupsRequest::default()
                    .with_groups(vec![GroupId(s(&g11)), GroupId(s("no-such-group"))])
                    .into()
            })
            // With the operations asked for (v3+): every group operation Kafka supports.
            .step(ApiKey::DescribeGroups, dg, move |_, v| {
                let r = DescribeGroupsRequest::default()
                    .with_groups(vec![GroupId(s(&g14)), GroupId(s("no-such-group"))]);
                if v >= 3 { r.with_include_authorized_operations(true) } else { r }.into()
            })
            .step(ApiKey::LeaveGroup, lv, move |c, v| leave(v, &g12, &c.member_id))
            .step(ApiKey::LeaveGroup, lv, move |_, v| leave(v, &g13, "nobody"));
        out.push(sc);
    }
    for v in versions(ApiKey::ListGroups) {
        out.push(Scenario::new(format!("list_groups v{v}")).step(ApiKey::ListGroups, v, |_, v| {
            let r = ListGroupsRequest::default();
            if v >= 4 {
                r.with_states_filter(vec![s("Dead")]).into()
            } else {
                r.into()
            }
        }));
    }
    out
}

fn admin_scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::DescribeCluster) {
        out.push(Scenario::new(format!("describe_cluster v{v}")).step(
            ApiKey::DescribeCluster,
            v,
            |_, _| DescribeClusterRequest::default().into(),
        ));
    }
    // Without an authorizer Kafka reports every operation it supports on the cluster.
    for v in versions(ApiKey::DescribeCluster) {
        out.push(Scenario::new(format!("describe_cluster v{v} with its operations")).step(
            ApiKey::DescribeCluster,
            v,
            |_, _| {
                DescribeClusterRequest::default()
                    .with_include_cluster_authorized_operations(true)
                    .into()
            },
        ));
    }
    for v in versions(ApiKey::DescribeConfigs) {
        let name = format!("dc-{v}");
        let (n0, n1) = (name.clone(), name.clone());
        out.push(
            Scenario::new(format!("describe_configs v{v}: a topic's keys, an unknown topic"))
                .topic(&n0, 1)
                .step(ApiKey::DescribeConfigs, v, move |_, _| {
                    let keys =
                        ["cleanup.policy", "retention.ms", "segment.bytes", "max.message.bytes"];
                    DescribeConfigsRequest::default()
                        .with_resources(vec![
                            DescribeConfigsResource::default()
                                .with_resource_type(2)
                                .with_resource_name(s(&n1))
                                .with_configuration_keys(Some(keys.iter().map(|k| s(k)).collect())),
                            DescribeConfigsResource::default()
                                .with_resource_type(2)
                                .with_resource_name(s("dc-no-such-topic"))
                                .with_configuration_keys(None),
                        ])
                        .into()
                }),
        );
    }
    let names: Vec<String> = (0..3).map(|i| format!("dtp-{i}")).collect();
    let mut sc = Scenario::new("describe_topic_partitions v0: paging with a cursor");
    for (i, n) in names.iter().enumerate() {
        let n = n.clone();
        sc = sc.topic(&n, i as i32 + 1);
    }
    let dtp = |names: &[&str], limit: i32, cursor: Option<(&str, i32)>| -> RequestKind {
        let mut r = DescribeTopicPartitionsRequest::default()
            .with_topics(
                names.iter().map(|n| TopicRequest::default().with_name(topic(n))).collect(),
            )
            .with_response_partition_limit(limit);
        if let Some((t, p)) = cursor {
            r = r.with_cursor(Some(
                Cursor::default().with_topic_name(topic(t)).with_partition_index(p),
            ));
        }
        r.into()
    };
    sc = sc
        .step(ApiKey::DescribeTopicPartitions, 0, move |_, _| {
            dtp(&["dtp-2", "dtp-0", "dtp-1", "dtp-none"], 2, None)
        })
        .step(ApiKey::DescribeTopicPartitions, 0, move |_, _| {
            dtp(&["dtp-2", "dtp-0", "dtp-1"], 2, Some(("dtp-1", 1)))
        });
    out.push(sc);
    out
}
