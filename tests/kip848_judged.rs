//! KIP-848 consumer groups with Apache Kafka 4.4 as the judge:
//! - `group.version`, the feature Kafka gates the consumer protocol on: at 0 both brokers
//!   refuse ConsumerGroupHeartbeat and ConsumerGroupDescribe the same way; at 1 (what a
//!   directory this broker formats records, as Kafka 4's format does) Kafka opening the
//!   directory serves the consumer groups kept in it, without a rebalance (the metadata hash).
//! - commits at an older member epoch, accepted per partition by its assignment epoch.
//! - a regex subscription: its resolution recorded, so that Kafka goes on without a rebalance.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::kafka::{Kafka, KafkaOptions};
use common::*;
use kafka_protocol::messages::{
    consumer_group_heartbeat_request as hq, create_topics_request as ctq,
    offset_commit_request as ocq, offset_fetch_request as ofq, ApiVersionsRequest,
    ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, ConsumerGroupHeartbeatRequest,
    ConsumerGroupHeartbeatResponse, CreateTopicsRequest, FindCoordinatorRequest, GroupId,
    OffsetCommitRequest, OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

const UNSUPPORTED_VERSION: i16 = 35;

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// A heartbeat of `member` in group `g` at `epoch`, subscribing to `six` on a join, owning
/// `owned` partitions of topic `id`.
fn heartbeat(
    c: &mut Client,
    member: &str,
    epoch: i32,
    id: [u8; 16],
    owned: &BTreeSet<i32>,
) -> ConsumerGroupHeartbeatResponse {
    let mut r = request("g", member, epoch, id, owned);
    r.subscribed_topic_names = (epoch == 0).then(|| vec![TopicName(sb("six"))]);
    c.kp_call(1, &r)
}

/// A heartbeat of `member` of `group` at `epoch`, owning `owned` of topic `id`, without its
/// subscription.
fn request(
    group: &str,
    member: &str,
    epoch: i32,
    id: [u8; 16],
    owned: &BTreeSet<i32>,
) -> ConsumerGroupHeartbeatRequest {
    let mut r = ConsumerGroupHeartbeatRequest::default();
    r.group_id = GroupId(sb(group));
    r.member_id = sb(member);
    r.member_epoch = epoch;
    r.rebalance_timeout_ms = if epoch == 0 { 30_000 } else { -1 };
    r.topic_partitions = Some(if owned.is_empty() {
        vec![]
    } else {
        vec![hq::TopicPartitions::default()
            .with_topic_id(uuid::Uuid::from_bytes(id))
            .with_partitions(owned.iter().copied().collect())]
    });
    r
}

/// Creates the topic `six` with 6 partitions; its id.
fn create_six(c: &mut Client) -> [u8; 16] {
    let created = c.kp_call(
        7,
        &CreateTopicsRequest::default().with_timeout_ms(30_000).with_topics(vec![
            ctq::CreatableTopic::default()
                .with_name(TopicName(sb("six")))
                .with_num_partitions(6)
                .with_replication_factor(1),
        ]),
    );
    assert_eq!(created.topics[0].error_code, 0, "{created:?}");
    *created.topics[0].topic_id.as_bytes()
}

fn assigned(r: &ConsumerGroupHeartbeatResponse) -> Option<BTreeSet<i32>> {
    r.assignment
        .as_ref()
        .map(|a| a.topic_partitions.iter().flat_map(|t| t.partitions.iter().copied()).collect())
}

fn describe(c: &mut Client) -> ConsumerGroupDescribeResponse {
    c.kp_call(1, &ConsumerGroupDescribeRequest::default().with_group_ids(vec![GroupId(sb("g"))]))
}

/// What a client learns of the consumer protocol: whether ApiVersions lists it, and the
/// answers to a join and to a describe.
fn consumer_protocol_view(
    addr: SocketAddr,
) -> (Vec<i16>, ConsumerGroupHeartbeatResponse, ConsumerGroupDescribeResponse) {
    let mut c = Client::connect(addr);
    let versions = c.kp_call(3, &ApiVersionsRequest::default());
    let listed: Vec<i16> =
        versions.api_keys.iter().map(|k| k.api_key).filter(|k| (68..=69).contains(k)).collect();
    let joined = heartbeat(&mut c, "member-a", 0, [0; 16], &BTreeSet::new());
    (listed, joined, describe(&mut c))
}

/// At `group.version` 0 (`kafka-storage.sh format --feature group.version=0`, or a directory
/// formatted before Kafka 4) Kafka refuses the consumer protocol with UNSUPPORTED_VERSION and
/// no more; this broker answers the same bytes. With the feature back at 1 it is served.
#[test]
fn group_version_0_refuses_the_consumer_protocol_as_kafka_does() {
    let tmp = TempDir::new("gv0");
    let ours_dir = tmp.join("ours");
    let ours = Broker::start_with_features(&ours_dir, &[], &["group.version=0"]);
    let mine = consumer_protocol_view(ours.addr);
    assert!(ours.stop().success());

    let (logs, conf) = (tmp.join("kafka-logs"), tmp.join("kafka-conf"));
    Kafka::format_with(&logs, &conf, &["group.version=0"]);
    let kafka = Kafka::start(&logs, &conf, &KafkaOptions::default());
    let theirs = consumer_protocol_view(kafka.addr);
    kafka.stop();

    assert_eq!(mine, theirs);
    assert!(mine.0.is_empty(), "ApiVersions leaves the consumer protocol out: {:?}", mine.0);
    assert_eq!(mine.1.error_code, UNSUPPORTED_VERSION, "{:?}", mine.1);
    assert_eq!(mine.2.groups[0].error_code, UNSUPPORTED_VERSION, "{:?}", mine.2);

    let ours = Broker::start_with_features(&ours_dir, &[], &["group.version=1"]);
    let (listed, joined, _) = consumer_protocol_view(ours.addr);
    assert_eq!(listed, [68, 69]);
    // A new group is at epoch 1 (Kafka 4.3+), its first member takes it to 2.
    assert_eq!((joined.error_code, joined.member_epoch), (0, 2), "{joined:?}");
}

/// Kafka 4.4 as the judge of the consumer group records: two members settle on a 6-partition
/// topic here and commit, then Kafka opens the directory and describes the group with the same
/// members, epochs and assignments, lets a member go on heartbeating, and fetches its offsets.
#[test]
fn kafka_serves_the_consumer_groups_minikafka_kept() {
    let tmp = TempDir::new("gv-kafka");
    let dir = tmp.join("logs");
    // Targets at every change, so that the steps below are the heartbeats that make them.
    let b = Broker::start_with(&dir, &["group.consumer.assignment.interval.ms=0"]);
    let mut c = b.connect();
    let t = create_six(&mut c);
    let all: BTreeSet<i32> = (0..6).collect();
    let none = BTreeSet::new();
    assert_eq!(heartbeat(&mut c, "member-a", 0, t, &none).member_epoch, 2);
    heartbeat(&mut c, "member-a", 2, t, &all);
    assert_eq!(heartbeat(&mut c, "member-b", 0, t, &none).member_epoch, 3);
    let kept = assigned(&heartbeat(&mut c, "member-a", 2, t, &all)).expect("A gives up half");
    assert_eq!(heartbeat(&mut c, "member-a", 2, t, &kept).member_epoch, 3);
    let moved = assigned(&heartbeat(&mut c, "member-b", 3, t, &none)).expect("B's half");
    let r = heartbeat(&mut c, "member-b", 3, t, &moved);
    assert_eq!((r.error_code, r.member_epoch), (0, 3));
    let p = *kept.iter().next().unwrap();
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(sb("g")))
        .with_generation_id_or_member_epoch(3)
        .with_member_id(sb("member-a"))
        .with_topics(vec![ocq::OffsetCommitRequestTopic::default()
            .with_name(TopicName(sb("six")))
            .with_partitions(vec![ocq::OffsetCommitRequestPartition::default()
                .with_partition_index(p)
                .with_committed_offset(42)])]);
    assert_eq!(c.kp_call(9, &commit).topics[0].partitions[0].error_code, 0);
    let before = describe(&mut c);
    drop(c);
    assert!(b.stop().success());

    let kafka = Kafka::start(&dir, &tmp.join("conf"), &KafkaOptions::default());
    let mut k = Client::connect(kafka.addr);
    // Kafka loads __consumer_offsets in the background: the group appears once loaded.
    let deadline = Instant::now() + Duration::from_secs(60);
    let loaded = loop {
        let d = describe(&mut k);
        if d.groups[0].error_code == 0 {
            break d;
        }
        assert!(Instant::now() < deadline, "Kafka never loaded the group: {d:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let summary = |d: &ConsumerGroupDescribeResponse| {
        let g = &d.groups[0];
        let mut members: Vec<_> = g
            .members
            .iter()
            .map(|m| {
                let parts = m
                    .assignment
                    .topic_partitions
                    .iter()
                    .flat_map(|t| t.partitions.iter().copied())
                    .collect::<BTreeSet<i32>>();
                (m.member_id.to_string(), m.member_epoch, parts, m.subscribed_topic_names.clone())
            })
            .collect();
        members.sort();
        (
            g.group_state.to_string(),
            g.group_epoch,
            g.assignment_epoch,
            g.assignor_name.clone(),
            members,
        )
    };
    assert_eq!(summary(&loaded), summary(&before), "{loaded:?}");
    // The group record's metadata hash is Kafka's: it sees the topics unchanged and goes on
    // at the same epochs (with another hash it would bump the group epoch and reassign).
    for (m, owned) in [("member-a", &kept), ("member-b", &moved)] {
        let r = heartbeat(&mut k, m, 3, t, owned);
        assert_eq!((r.error_code, r.member_epoch), (0, 3), "Kafka takes {m}'s heartbeat: {r:?}");
    }
    assert_eq!(summary(&describe(&mut k)), summary(&before), "no rebalance on Kafka");
    let fetch =
        OffsetFetchRequest::default().with_groups(vec![ofq::OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(sb("g")))
            .with_topics(Some(vec![ofq::OffsetFetchRequestTopics::default()
                .with_name(TopicName(sb("six")))
                .with_partition_indexes(vec![p])]))]);
    let f = k.kp_call(9, &fetch);
    assert_eq!(f.groups[0].topics[0].partitions[0].committed_offset, 42, "{f:?}");
    drop(k);
    kafka.stop();
}

fn commit(c: &mut Client, member: &str, epoch: i32, partition: i32) -> i16 {
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(sb("g")))
        .with_generation_id_or_member_epoch(epoch)
        .with_member_id(sb(member))
        .with_topics(vec![ocq::OffsetCommitRequestTopic::default()
            .with_name(TopicName(sb("six")))
            .with_partitions(vec![ocq::OffsetCommitRequestPartition::default()
                .with_partition_index(partition)
                .with_committed_offset(1)])]);
    c.kp_call(9, &req).topics[0].partitions[0].error_code
}

/// A member as a client runs it: it heartbeats owning what it was last given, until `done`
/// says its epoch and partitions are what the step waits for (Kafka computes assignments
/// off the heartbeat path, so this may take several beats there).
struct Member {
    id: &'static str,
    epoch: i32,
    owned: BTreeSet<i32>,
}

impl Member {
    fn settle(&mut self, c: &mut Client, t: [u8; 16], done: impl Fn(&Member) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = heartbeat(c, self.id, self.epoch, t, &self.owned);
            // Kafka creates and loads __consumer_offsets after the first FindCoordinator:
            // until then it answers as a client retries (COORDINATOR_LOAD_IN_PROGRESS,
            // COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR).
            if (14..=16).contains(&r.error_code) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            assert_eq!(r.error_code, 0, "{}: {r:?}", self.id);
            self.epoch = r.member_epoch;
            if let Some(a) = assigned(&r) {
                self.owned = a;
            }
            if done(self) {
                return;
            }
            assert!(Instant::now() < deadline, "{} never settled: {r:?}", self.id);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Kafka 4.4 keeps the epoch each partition was assigned at and takes a commit at an older
/// member epoch for the partitions assigned at or before it (a commit racing a rebalance that
/// kept the partition); a partition the member does not hold, or got later, or an epoch newer
/// than the member's, is STALE_MEMBER_EPOCH. The same session on both brokers, then here
/// after a kill -9 (the epochs are in the member's assignment record).
fn commits_at_older_epochs(addr: SocketAddr, restart: Option<&dyn Fn() -> SocketAddr>) -> Vec<i16> {
    let mut c = Client::connect(addr);
    let t = create_six(&mut c);
    let find =
        FindCoordinatorRequest::default().with_key_type(0).with_coordinator_keys(vec![sb("g")]);
    c.kp_call(4, &find);
    let all: BTreeSet<i32> = (0..6).collect();
    let mut a = Member { id: "member-a", epoch: 0, owned: BTreeSet::new() };
    a.settle(&mut c, t, |m| m.owned == all);
    let e1 = a.epoch;
    let mut b = Member { id: "member-b", epoch: 0, owned: BTreeSet::new() };
    b.settle(&mut c, t, |m| m.epoch > 0);
    a.settle(&mut c, t, |m| m.owned.len() == 3 && m.epoch > e1);
    b.settle(&mut c, t, |m| m.owned.len() == 3);
    let e2 = a.epoch;
    let kept = *a.owned.iter().next().unwrap();
    let bs = *b.owned.iter().next().unwrap();
    let mut codes = vec![
        commit(&mut c, "member-a", e1, kept),
        commit(&mut c, "member-a", e1, bs),
        commit(&mut c, "member-a", e2 + 1, kept),
    ];
    let left = heartbeat(&mut c, "member-b", -1, t, &b.owned);
    assert_eq!(left.error_code, 0, "{left:?}");
    a.settle(&mut c, t, |m| m.owned == all);
    codes.push(commit(&mut c, "member-a", e2, kept));
    codes.push(commit(&mut c, "member-a", e2, bs));
    if let Some(restart) = restart {
        drop(c);
        let mut c = Client::connect(restart());
        codes.push(commit(&mut c, "member-a", e2, kept));
        codes.push(commit(&mut c, "member-a", e2, bs));
    }
    codes
}

#[test]
fn commits_at_older_epochs_as_kafka_takes_them() {
    const STALE_MEMBER_EPOCH: i16 = 113;
    let tmp = TempDir::new("commit-epochs");
    let theirs = {
        let kafka = Kafka::start_fresh(&tmp.join("kafka"), &KafkaOptions::default());
        let codes = commits_at_older_epochs(kafka.addr, None);
        kafka.stop();
        codes
    };
    let dir = tmp.join("ours");
    let b = std::cell::RefCell::new(Some(Broker::start(&dir)));
    let addr = b.borrow().as_ref().unwrap().addr;
    let restart = || {
        b.borrow_mut().take().unwrap().kill();
        let again = Broker::start(&dir);
        let addr = again.addr;
        *b.borrow_mut() = Some(again);
        addr
    };
    let ours = commits_at_older_epochs(addr, Some(&restart));
    let want = [0, STALE_MEMBER_EPOCH, STALE_MEMBER_EPOCH, 0, STALE_MEMBER_EPOCH];
    assert_eq!(theirs, want, "Kafka's answers");
    assert_eq!(ours[..5], theirs[..], "ours");
    assert_eq!(ours[5..], [0, STALE_MEMBER_EPOCH], "after a kill -9");
}

/// A member subscribed by a regular expression: Kafka 4.4 opening the directory goes on
/// with the topics the regex resolved to here, without a rebalance.
#[test]
fn kafka_serves_a_regex_subscription_minikafka_kept() {
    let beat = |c: &mut Client, epoch: i32, owned: &BTreeSet<i32>, t: [u8; 16]| {
        let mut r = request("r", "member-r", epoch, t, owned);
        r.subscribed_topic_regex = (epoch == 0).then(|| sb("si.*"));
        let resp: ConsumerGroupHeartbeatResponse = c.kp_call(1, &r);
        resp
    };
    let tmp = TempDir::new("gv-regex");
    let dir = tmp.join("logs");
    let b = Broker::start(&dir);
    let mut c = b.connect();
    let t = create_six(&mut c);
    let all: BTreeSet<i32> = (0..6).collect();
    let r = beat(&mut c, 0, &BTreeSet::new(), t);
    let epoch = r.member_epoch;
    let owned = assigned(&r).unwrap_or_default();
    let r = beat(&mut c, epoch, &owned, t);
    let (epoch, owned) = (r.member_epoch, assigned(&r).unwrap_or(owned));
    assert_eq!(owned, all, "{r:?}");
    let r = beat(&mut c, epoch, &owned, t);
    assert_eq!((r.error_code, r.member_epoch), (0, epoch));
    drop(c);
    assert!(b.stop().success());

    let kafka = Kafka::start(&dir, &tmp.join("conf"), &KafkaOptions::default());
    let mut k = Client::connect(kafka.addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let r = beat(&mut k, epoch, &all, t);
        seen.push((r.error_code, r.member_epoch, assigned(&r)));
        if r.error_code == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for _ in 0..10 {
        let r = beat(&mut k, epoch, &all, t);
        seen.push((r.error_code, r.member_epoch, assigned(&r)));
        std::thread::sleep(Duration::from_millis(300));
    }
    // Without the regex's record Kafka answered epoch 1 and an empty assignment (it had
    // not resolved the regex) and kept it so for seconds.
    let answered: Vec<_> = seen.iter().filter(|s| s.0 == 0).collect();
    assert!(answered.len() >= 10, "{seen:?}");
    assert!(answered.iter().all(|s| s.1 == epoch && s.2.is_none()), "{seen:?}");
    kafka.stop();
}
