//! The consumer-group and config APIs over the wire against the real binary: FindCoordinator
//! v0-v6, JoinGroup v0-v9, SyncGroup v0-v5, Heartbeat v0-v4, LeaveGroup v0-v5, OffsetCommit
//! v2-v9, OffsetFetch v1-v9, DescribeGroups v0-v5, ListGroups v0-v5, DescribeConfigs v1-v4 and
//! DescribeCluster v0-v2. Requests are encoded and responses decoded by kafka-protocol (an
//! independent codec) at every advertised version, each response required to decode with no
//! byte left over. The expectations are those of Kafka's classic `GroupCoordinator`; held
//! JoinGroup/SyncGroup answers are awaited by reading their connection with a timeout.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use kafka_protocol::messages::{
    describe_configs_request as dcq, join_group_request as jgq, leave_group_request as lgq,
    offset_commit_request as ocq, offset_fetch_request as ofq, sync_group_request as sgq, BrokerId,
    DescribeClusterRequest, DescribeConfigsRequest, DescribeConfigsResponse, DescribeGroupsRequest,
    DescribeGroupsResponse, FindCoordinatorRequest, GroupId, HeartbeatRequest, JoinGroupRequest,
    JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse, TopicName,
};
use kafka_protocol::protocol::{Request, StrBytes};
use minikafka::records::{batches as log_batches, Records};

const OFFSET_METADATA_TOO_LARGE: i16 = 12;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const ILLEGAL_GENERATION: i16 = 22;
const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
const UNKNOWN_MEMBER_ID: i16 = 25;
const INVALID_SESSION_TIMEOUT: i16 = 26;
const REBALANCE_IN_PROGRESS: i16 = 27;
const MEMBER_ID_REQUIRED: i16 = 79;
const FENCED_INSTANCE_ID: i16 = 82;
const UNSUPPORTED_ENDPOINT_TYPE: i16 = 119;

const SOURCE_STATIC_BROKER_CONFIG: i8 = 4;
const SOURCE_DEFAULT_CONFIG: i8 = 5;
const TYPE_INT: i8 = 3;
const TYPE_LONG: i8 = 5;
const TYPE_LIST: i8 = 7;

/// Session and rebalance timeouts for walks where nobody is meant to time out.
const SESSION: i32 = 10_000;
const REBALANCE: i32 = 25_000;
/// A rebalance that must complete because everyone rejoined has to do so well before
/// REBALANCE (so that a broker waiting for the timeout instead fails).
const PROMPT: Duration = Duration::from_secs(10);
/// How long a held answer must stay unanswered for the test to call it held.
const HOLD_CHECK: Duration = Duration::from_millis(300);

const NO_OPS: i32 = i32::MIN;

// ----- plumbing --------------------------------------------------------------------------------

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn gid(s: &str) -> GroupId {
    GroupId(sb(s))
}

fn tn(s: &str) -> TopicName {
    TopicName(sb(s))
}

fn opt(s: &Option<StrBytes>) -> Option<&str> {
    s.as_ref().map(|s| s.as_str())
}

/// Starts a broker on a fresh log dir holding `topics`, with no initial rebalance delay.
fn start(tag: &str, topics: &[(&str, i32)], overrides: &[&str]) -> (TempDir, Broker) {
    let dir = TempDir::new(tag);
    make_log_dir(dir.path(), topics);
    let b = start_in(dir.path(), overrides);
    (dir, b)
}

fn start_in(dir: &Path, overrides: &[&str]) -> Broker {
    let mut all = vec!["group.initial.rebalance.delay.ms=0"];
    all.extend_from_slice(overrides);
    Broker::start_with(dir, &all)
}

/// Sends a kafka-protocol request without waiting for its answer; returns the correlation id.
fn send_kp<Q: Request>(c: &mut Client, version: i16, req: &Q) -> i32 {
    let mut body = Vec::new();
    req.encode(&mut body, version)
        .unwrap_or_else(|e| panic!("kafka-protocol cannot encode api {} v{version}: {e}", Q::KEY));
    c.send(Q::KEY, version, &body)
}

/// Reads the answer to a request sent with [`send_kp`], waiting at most `within`.
fn recv_kp<Q: Request>(c: &mut Client, version: i16, id: i32, within: Duration) -> Q::Response {
    c.stream.set_read_timeout(Some(within)).unwrap();
    let payload = c.try_recv_frame();
    c.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let payload = payload.unwrap_or_else(|e| {
        panic!("no answer to api {} v{version} within {within:?}: {e}", Q::KEY)
    });
    let resp = split_response(&payload, Q::KEY, version);
    assert_eq!(resp.correlation_id, id, "correlation id of api {} v{version}", Q::KEY);
    oracle::<Q::Response>(&resp.body, version)
}

/// Asserts that nothing arrives on `c` for a while: its request is being held.
fn assert_held(c: &mut Client, what: &str) {
    c.stream.set_read_timeout(Some(HOLD_CHECK)).unwrap();
    let mut b = [0u8; 1];
    let r = c.stream.peek(&mut b);
    c.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    match r {
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
        Ok(0) => panic!("{what}: the broker closed the connection instead of holding the answer"),
        Ok(_) => {
            let payload = c.recv_frame();
            panic!("{what}: expected the answer to be held, got {payload:02x?}")
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

// ----- group request builders ------------------------------------------------------------------

type Protocols<'a> = &'a [(&'a str, &'a [u8])];

const RANGE_A: Protocols<'static> = &[("range", b"meta-a"), ("roundrobin", b"rr-a")];
const RANGE_B: Protocols<'static> = &[("range", b"meta-b"), ("roundrobin", b"rr-b")];

#[allow(clippy::too_many_arguments)]
fn join_req(
    version: i16,
    group: &str,
    member: &str,
    instance: Option<&str>,
    session: i32,
    rebalance: i32,
    protocol_type: &str,
    protocols: Protocols<'_>,
) -> JoinGroupRequest {
    let mut req = JoinGroupRequest::default()
        .with_group_id(gid(group))
        .with_session_timeout_ms(session)
        .with_rebalance_timeout_ms(rebalance)
        .with_member_id(sb(member))
        .with_protocol_type(sb(protocol_type))
        .with_protocols(
            protocols
                .iter()
                .map(|(n, m)| {
                    jgq::JoinGroupRequestProtocol::default()
                        .with_name(sb(n))
                        .with_metadata(m.to_vec().into())
                })
                .collect(),
        );
    if version >= 5 {
        req = req.with_group_instance_id(instance.map(sb));
    } else {
        assert!(instance.is_none(), "group_instance_id needs JoinGroup v5+");
    }
    if version >= 8 {
        req = req.with_reason(Some(sb("integration test")));
    }
    req
}

fn join_simple(
    version: i16,
    group: &str,
    member: &str,
    protocols: Protocols<'_>,
) -> JoinGroupRequest {
    join_req(version, group, member, None, SESSION, REBALANCE, "consumer", protocols)
}

/// A v4+ first join with an empty member id: MEMBER_ID_REQUIRED with the id to use.
fn member_id_required(
    c: &mut Client,
    version: i16,
    group: &str,
    protocols: Protocols<'_>,
) -> String {
    let r = c.kp_call(version, &join_simple(version, group, "", protocols));
    assert_eq!(r.error_code, MEMBER_ID_REQUIRED, "v{version} first join: {r:?}");
    assert_eq!(r.generation_id, -1, "{r:?}");
    assert!(r.members.is_empty(), "{r:?}");
    let id = r.member_id.to_string();
    // Kafka's GroupMetadata.generateMemberId: clientId + "-" + UUID.
    assert!(id.starts_with(&format!("{CLIENT_ID}-")), "member id {id:?}");
    assert!(id.len() > CLIENT_ID.len() + 30, "member id {id:?}");
    id
}

fn sync_req(
    version: i16,
    group: &str,
    generation: i32,
    member: &str,
    assignments: &[(&str, &[u8])],
) -> SyncGroupRequest {
    let mut req = SyncGroupRequest::default()
        .with_group_id(gid(group))
        .with_generation_id(generation)
        .with_member_id(sb(member))
        .with_assignments(
            assignments
                .iter()
                .map(|(m, a)| {
                    sgq::SyncGroupRequestAssignment::default()
                        .with_member_id(sb(m))
                        .with_assignment(a.to_vec().into())
                })
                .collect(),
        );
    if version >= 5 {
        req = req.with_protocol_type(Some(sb("consumer"))).with_protocol_name(Some(sb("range")));
    }
    req
}

fn check_sync(r: &SyncGroupResponse, version: i16, assignment: &[u8]) {
    assert_eq!(r.error_code, NONE, "SyncGroup v{version}: {r:?}");
    assert_eq!(&r.assignment[..], assignment, "SyncGroup v{version}");
    if version >= 5 {
        assert_eq!(opt(&r.protocol_type), Some("consumer"), "{r:?}");
        assert_eq!(opt(&r.protocol_name), Some("range"), "{r:?}");
    }
}

fn heartbeat(c: &mut Client, version: i16, group: &str, generation: i32, member: &str) -> i16 {
    let req = HeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_generation_id(generation)
        .with_member_id(sb(member));
    let r = c.kp_call(version, &req);
    if version >= 1 {
        assert_eq!(r.throttle_time_ms, 0);
    }
    r.error_code
}

fn heartbeat_static(
    c: &mut Client,
    group: &str,
    generation: i32,
    member: &str,
    instance: &str,
) -> i16 {
    let req = HeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_generation_id(generation)
        .with_member_id(sb(member))
        .with_group_instance_id(Some(sb(instance)));
    c.kp_call(4, &req).error_code
}

fn leave(c: &mut Client, version: i16, group: &str, members: &[&str]) -> LeaveGroupResponse {
    let mut req = LeaveGroupRequest::default().with_group_id(gid(group));
    if version <= 2 {
        assert_eq!(members.len(), 1, "LeaveGroup v0-v2 name one member");
        req = req.with_member_id(sb(members[0]));
    } else {
        req = req.with_members(
            members
                .iter()
                .map(|m| {
                    let mut id = lgq::MemberIdentity::default().with_member_id(sb(m));
                    if version >= 5 {
                        id = id.with_reason(Some(sb("bye")));
                    }
                    id
                })
                .collect(),
        );
    }
    c.kp_call(version, &req)
}

fn describe_groups(c: &mut Client, version: i16, groups: &[&str]) -> DescribeGroupsResponse {
    let req = DescribeGroupsRequest::default().with_groups(groups.iter().map(|g| gid(g)).collect());
    c.kp_call(version, &req)
}

fn group_state(c: &mut Client, group: &str) -> (String, usize) {
    let r = describe_groups(c, 5, &[group]);
    assert_eq!(r.groups.len(), 1);
    let g = &r.groups[0];
    assert_eq!(g.error_code, NONE, "{g:?}");
    (g.group_state.to_string(), g.members.len())
}

fn member_ids(r: &JoinGroupResponse) -> BTreeSet<String> {
    r.members.iter().map(|m| m.member_id.to_string()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Checks a successful JoinGroup answer's version-dependent fields.
fn check_join(r: &JoinGroupResponse, version: i16, member: &str, generation: i32, leader: &str) {
    assert_eq!(r.error_code, NONE, "JoinGroup v{version}: {r:?}");
    assert_eq!(r.member_id.as_str(), member, "JoinGroup v{version} member id");
    assert_eq!(r.generation_id, generation, "JoinGroup v{version} generation");
    assert_eq!(r.leader.as_str(), leader, "JoinGroup v{version} leader");
    assert_eq!(opt(&r.protocol_name), Some("range"), "JoinGroup v{version}");
    if version >= 7 {
        assert_eq!(opt(&r.protocol_type), Some("consumer"), "JoinGroup v{version}");
    }
    if version >= 9 {
        assert!(!r.skip_assignment, "JoinGroup v{version}: a fresh generation is assigned");
    }
    assert_eq!(r.throttle_time_ms, 0);
}

/// One member forms a Stable group at JoinGroup v9 / SyncGroup v5; returns (member id,
/// generation).
fn stable_single(c: &mut Client, group: &str, assignment: &[u8]) -> (String, i32) {
    let id = member_id_required(c, 9, group, RANGE_A);
    let r = c.kp_call(9, &join_simple(9, group, &id, RANGE_A));
    check_join(&r, 9, &id, r.generation_id, &id);
    let s = c.kp_call(5, &sync_req(5, group, r.generation_id, &id, &[(&id, assignment)]));
    check_sync(&s, 5, assignment);
    (id, r.generation_id)
}

// ----- offsets request builders ----------------------------------------------------------------

struct Commit<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    leader_epoch: i32,
    metadata: Option<&'a str>,
}

fn cm<'a>(topic: &'a str, partition: i32, offset: i64, metadata: Option<&'a str>) -> Commit<'a> {
    Commit { topic, partition, offset, leader_epoch: -1, metadata }
}

fn commit_req(
    version: i16,
    group: &str,
    generation: i32,
    member: &str,
    commits: &[Commit<'_>],
) -> OffsetCommitRequest {
    let mut topics: Vec<ocq::OffsetCommitRequestTopic> = Vec::new();
    for c in commits {
        let mut p = ocq::OffsetCommitRequestPartition::default()
            .with_partition_index(c.partition)
            .with_committed_offset(c.offset)
            .with_committed_metadata(c.metadata.map(sb));
        if version >= 6 {
            p = p.with_committed_leader_epoch(c.leader_epoch);
        }
        match topics.iter_mut().find(|t| t.name.0.as_str() == c.topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                ocq::OffsetCommitRequestTopic::default()
                    .with_name(tn(c.topic))
                    .with_partitions(vec![p]),
            ),
        }
    }
    let mut req = OffsetCommitRequest::default()
        .with_group_id(gid(group))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(sb(member))
        .with_topics(topics);
    if (2..=4).contains(&version) {
        req = req.with_retention_time_ms(-1);
    }
    req
}

/// Commits and returns the per-partition errors as ((topic, partition), error), in request
/// order.
fn commit(
    c: &mut Client,
    version: i16,
    group: &str,
    generation: i32,
    member: &str,
    commits: &[Commit<'_>],
) -> Vec<((String, i32), i16)> {
    let r: OffsetCommitResponse =
        c.kp_call(version, &commit_req(version, group, generation, member, commits));
    if version >= 3 {
        assert_eq!(r.throttle_time_ms, 0);
    }
    let mut out = Vec::new();
    for t in &r.topics {
        for p in &t.partitions {
            out.push(((t.name.0.to_string(), p.partition_index), p.error_code));
        }
    }
    let asked: Vec<(String, i32)> =
        commits.iter().map(|c| (c.topic.to_string(), c.partition)).collect();
    let answered: Vec<(String, i32)> = out.iter().map(|(k, _)| k.clone()).collect();
    let mut a = asked.clone();
    a.sort();
    let mut b = answered.clone();
    b.sort();
    assert_eq!(a, b, "OffsetCommit v{version} answers every partition asked: {r:?}");
    out
}

fn errors_of(v: &[((String, i32), i16)]) -> Vec<i16> {
    v.iter().map(|(_, e)| *e).collect()
}

/// (offset, leader epoch, metadata, error) of one partition, fetched at `version` (< 8).
type Fetched = (i64, i32, Option<String>, i16);

fn fetch_offsets(
    c: &mut Client,
    version: i16,
    group: &str,
    topics: Option<&[(&str, &[i32])]>,
) -> OffsetFetchResponse {
    let topics_v: Option<Vec<(String, Vec<i32>)>> =
        topics.map(|ts| ts.iter().map(|(t, ps)| (t.to_string(), ps.to_vec())).collect());
    let req = if version >= 8 {
        OffsetFetchRequest::default().with_groups(vec![ofq::OffsetFetchRequestGroup::default()
            .with_group_id(gid(group))
            .with_topics(topics_v.map(|ts| {
                ts.into_iter()
                    .map(|(t, ps)| {
                        ofq::OffsetFetchRequestTopics::default()
                            .with_name(tn(&t))
                            .with_partition_indexes(ps)
                    })
                    .collect()
            }))])
    } else {
        OffsetFetchRequest::default().with_group_id(gid(group)).with_topics(topics_v.map(|ts| {
            ts.into_iter()
                .map(|(t, ps)| {
                    ofq::OffsetFetchRequestTopic::default()
                        .with_name(tn(&t))
                        .with_partition_indexes(ps)
                })
                .collect()
        }))
    };
    c.kp_call(version, &req)
}

/// All partitions of an OffsetFetch answer (one group), sorted, whatever the version.
fn fetched(r: &OffsetFetchResponse, version: i16) -> Vec<((String, i32), Fetched)> {
    let mut out = Vec::new();
    if version >= 8 {
        assert_eq!(r.groups.len(), 1, "{r:?}");
        assert_eq!(r.groups[0].error_code, NONE, "{r:?}");
        for t in &r.groups[0].topics {
            for p in &t.partitions {
                out.push((
                    (t.name.0.to_string(), p.partition_index),
                    (
                        p.committed_offset,
                        p.committed_leader_epoch,
                        opt(&p.metadata).map(str::to_string),
                        p.error_code,
                    ),
                ));
            }
        }
    } else {
        if version >= 2 {
            assert_eq!(r.error_code, NONE, "{r:?}");
        }
        for t in &r.topics {
            for p in &t.partitions {
                out.push((
                    (t.name.0.to_string(), p.partition_index),
                    (
                        p.committed_offset,
                        p.committed_leader_epoch,
                        opt(&p.metadata).map(str::to_string),
                        p.error_code,
                    ),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn key(t: &str, p: i32) -> (String, i32) {
    (t.to_string(), p)
}

fn f(offset: i64, epoch: i32, metadata: &str) -> Fetched {
    (offset, epoch, Some(metadata.to_string()), NONE)
}

// ----- FindCoordinator -------------------------------------------------------------------------

#[test]
fn find_coordinator_every_version() {
    let (_d, b) = start("fc", &[], &[]);
    let port = i32::from(b.addr.port());
    let mut c = b.connect();
    for v in 0..=6i16 {
        if v <= 3 {
            let mut req = FindCoordinatorRequest::default().with_key(sb("fc-group"));
            if v >= 1 {
                req = req.with_key_type(0);
            }
            let r = c.kp_call(v, &req);
            assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
            assert_eq!(r.node_id, BrokerId(1), "v{v}");
            assert_eq!(r.host.as_str(), "127.0.0.1", "v{v}");
            assert_eq!(r.port, port, "v{v}");
            assert_eq!(r.throttle_time_ms, 0);
            assert!(r.coordinators.is_empty());
        } else {
            let req = FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_coordinator_keys(vec![sb("fc-group"), sb("other-group")]);
            let r = c.kp_call(v, &req);
            assert_eq!(r.coordinators.len(), 2, "v{v}: {r:?}");
            for (co, k) in r.coordinators.iter().zip(["fc-group", "other-group"]) {
                assert_eq!(co.key.as_str(), k, "v{v}");
                assert_eq!(co.error_code, NONE, "v{v}: {co:?}");
                assert_eq!(co.node_id, BrokerId(1), "v{v}");
                assert_eq!(co.host.as_str(), "127.0.0.1", "v{v}");
                assert_eq!(co.port, port, "v{v}");
            }
        }
    }
}

#[test]
fn find_coordinator_transaction_key_is_this_node() {
    let (_d, b) = start("fc-txn", &[], &[]);
    let mut c = b.connect();
    for v in 1..=6i16 {
        if v <= 3 {
            let req = FindCoordinatorRequest::default().with_key(sb("txn-1")).with_key_type(1);
            let r = c.kp_call(v, &req);
            assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
            assert_eq!(r.port, i32::from(b.addr.port()), "v{v}: {r:?}");
        } else {
            let req = FindCoordinatorRequest::default()
                .with_key_type(1)
                .with_coordinator_keys(vec![sb("txn-1")]);
            let r = c.kp_call(v, &req);
            assert_eq!(r.coordinators.len(), 1, "v{v}: {r:?}");
            assert_eq!(r.coordinators[0].key.as_str(), "txn-1");
            assert_eq!(r.coordinators[0].error_code, NONE, "v{v}: {r:?}");
            assert_eq!(r.coordinators[0].port, i32::from(b.addr.port()), "v{v}: {r:?}");
        }
    }
    // Share groups (key type 2) have no coordinator here.
    let req =
        FindCoordinatorRequest::default().with_key_type(2).with_coordinator_keys(vec![sb("s")]);
    let r = c.kp_call(6, &req);
    assert_eq!(r.coordinators[0].error_code, COORDINATOR_NOT_AVAILABLE, "{r:?}");
    assert_eq!(r.coordinators[0].node_id, BrokerId(-1), "{r:?}");
}

// ----- JoinGroup / SyncGroup / Heartbeat / LeaveGroup ------------------------------------------

/// Each JoinGroup version forms its own single-member group, paired with every SyncGroup,
/// Heartbeat and LeaveGroup version in turn.
#[test]
fn single_member_group_every_version() {
    let (_d, b) = start("jg-every", &[], &[]);
    let mut c = b.connect();
    for v in 0..=9i16 {
        let (sv, hv, lv) = (v % 6, v % 5, (v + 3) % 6);
        let group = format!("jg-v{v}");
        let id =
            if v >= 4 { member_id_required(&mut c, v, &group, RANGE_A) } else { String::new() };
        let r = c.kp_call(v, &join_simple(v, &group, &id, RANGE_A));
        let id = r.member_id.to_string();
        assert!(!id.is_empty(), "v{v}: a member id is assigned: {r:?}");
        check_join(&r, v, &id, 1, &id);
        assert_eq!(r.members.len(), 1, "v{v}: the leader sees every member: {r:?}");
        assert_eq!(r.members[0].member_id.as_str(), id);
        assert_eq!(&r.members[0].metadata[..], b"meta-a", "v{v}: the chosen protocol's metadata");
        assert_eq!(r.members[0].group_instance_id, None);

        let asg = format!("assignment-{v}");
        let s = c.kp_call(sv, &sync_req(sv, &group, 1, &id, &[(&id, asg.as_bytes())]));
        check_sync(&s, sv, asg.as_bytes());
        assert_eq!(heartbeat(&mut c, hv, &group, 1, &id), NONE, "Heartbeat v{hv}");

        let l = leave(&mut c, lv, &group, &[&id]);
        assert_eq!(l.error_code, NONE, "LeaveGroup v{lv}: {l:?}");
        if lv >= 3 {
            assert_eq!(l.members.len(), 1, "{l:?}");
            assert_eq!(l.members[0].member_id.as_str(), id);
            assert_eq!(l.members[0].error_code, NONE);
        } else {
            assert!(l.members.is_empty());
        }
        assert_eq!(group_state(&mut c, &group), ("Empty".to_string(), 0), "after v{lv} leave");
        assert_eq!(heartbeat(&mut c, hv, &group, 1, &id), UNKNOWN_MEMBER_ID, "after leaving");
    }
}

/// Two members at JoinGroup v9 / SyncGroup v5 / Heartbeat v4 / LeaveGroup v5, with
/// DescribeGroups watching the states go by.
#[test]
fn two_member_walk_newest_versions() {
    let (_d, b) = start("walk-new", &[], &[]);
    let g = "walk-new";
    let mut a = b.connect();
    let mut bb = b.connect();
    let mut admin = b.connect();

    // A alone: generation 1.
    let id_a = member_id_required(&mut a, 9, g, RANGE_A);
    let r = a.kp_call(9, &join_simple(9, g, &id_a, RANGE_A));
    check_join(&r, 9, &id_a, 1, &id_a);
    assert_eq!(member_ids(&r), set(&[&id_a]));

    // Before the leader's SyncGroup: CompletingRebalance, members without metadata/assignment.
    let d = describe_groups(&mut admin, 5, &[g]);
    let dg = &d.groups[0];
    assert_eq!(dg.group_state.as_str(), "CompletingRebalance", "{dg:?}");
    assert_eq!(dg.protocol_type.as_str(), "consumer");
    assert_eq!(dg.protocol_data.as_str(), "", "protocol only reported when Stable: {dg:?}");
    assert_eq!(dg.members.len(), 1);
    assert!(dg.members[0].member_metadata.is_empty(), "{dg:?}");
    assert!(dg.members[0].member_assignment.is_empty(), "{dg:?}");
    assert_eq!(heartbeat(&mut a, 4, g, 1, &id_a), NONE, "CompletingRebalance heartbeat");

    let s = a.kp_call(5, &sync_req(5, g, 1, &id_a, &[(&id_a, b"a-gen1")]));
    check_sync(&s, 5, b"a-gen1");
    assert_eq!(group_state(&mut admin, g), ("Stable".to_string(), 1));

    // B arrives: MEMBER_ID_REQUIRED does not disturb the group; its second join is held.
    let id_b = member_id_required(&mut bb, 9, g, RANGE_B);
    assert_ne!(id_a, id_b);
    assert_eq!(group_state(&mut admin, g), ("Stable".to_string(), 1));
    let jb = send_kp(&mut bb, 9, &join_simple(9, g, &id_b, RANGE_B));
    assert_held(&mut bb, "B's JoinGroup while A has not rejoined");
    assert_eq!(group_state(&mut admin, g).0, "PreparingRebalance");
    assert_eq!(heartbeat(&mut a, 4, g, 1, &id_a), REBALANCE_IN_PROGRESS);
    assert_eq!(heartbeat(&mut a, 4, g, 0, &id_a), ILLEGAL_GENERATION);
    assert_eq!(heartbeat(&mut a, 4, g, 1, "nobody"), UNKNOWN_MEMBER_ID);

    // A rejoins: generation 2 for both; the leader sees everyone, the follower nobody.
    let t0 = Instant::now();
    let ra = a.kp_call(9, &join_simple(9, g, &id_a, RANGE_A));
    assert!(t0.elapsed() < PROMPT, "the rebalance completes once all members rejoined");
    check_join(&ra, 9, &id_a, 2, &id_a);
    assert_eq!(member_ids(&ra), set(&[&id_a, &id_b]));
    for m in &ra.members {
        let want: &[u8] = if m.member_id.as_str() == id_a { b"meta-a" } else { b"meta-b" };
        assert_eq!(&m.metadata[..], want, "{m:?}");
    }
    let rb: JoinGroupResponse = recv_kp::<JoinGroupRequest>(&mut bb, 9, jb, PROMPT);
    check_join(&rb, 9, &id_b, 2, &id_a);
    assert!(rb.members.is_empty(), "a follower gets no member list: {rb:?}");
    assert_eq!(group_state(&mut admin, g).0, "CompletingRebalance");

    // The follower's SyncGroup waits for the leader's.
    let sb_id = send_kp(&mut bb, 5, &sync_req(5, g, 2, &id_b, &[]));
    assert_held(&mut bb, "B's SyncGroup before the leader's");
    let sa = a.kp_call(5, &sync_req(5, g, 2, &id_a, &[(&id_a, b"a-gen2"), (&id_b, b"b-gen2")]));
    check_sync(&sa, 5, b"a-gen2");
    let sbr = recv_kp::<SyncGroupRequest>(&mut bb, 5, sb_id, PROMPT);
    check_sync(&sbr, 5, b"b-gen2");
    assert_eq!(heartbeat(&mut a, 4, g, 2, &id_a), NONE);
    assert_eq!(heartbeat(&mut bb, 4, g, 2, &id_b), NONE);
    assert_eq!(heartbeat(&mut bb, 4, g, 1, &id_b), ILLEGAL_GENERATION);

    // Stable: DescribeGroups shows both members with metadata and assignment.
    let d = describe_groups(&mut admin, 5, &[g]);
    let dg = &d.groups[0];
    assert_eq!(dg.error_code, NONE);
    assert_eq!(dg.group_state.as_str(), "Stable");
    assert_eq!(dg.protocol_type.as_str(), "consumer");
    assert_eq!(dg.protocol_data.as_str(), "range");
    assert_eq!(dg.members.len(), 2, "{dg:?}");
    for m in &dg.members {
        let (meta, asg): (&[u8], &[u8]) = if m.member_id.as_str() == id_a {
            (b"meta-a", b"a-gen2")
        } else {
            assert_eq!(m.member_id.as_str(), id_b);
            (b"meta-b", b"b-gen2")
        };
        assert_eq!(&m.member_metadata[..], meta);
        assert_eq!(&m.member_assignment[..], asg);
        assert_eq!(m.client_id.as_str(), CLIENT_ID);
        assert_eq!(m.client_host.as_str(), "/127.0.0.1");
        assert_eq!(m.group_instance_id, None);
    }

    // B leaves (v5, batched): A must rejoin, alone, for generation 3.
    let l = leave(&mut bb, 5, g, &[&id_b]);
    assert_eq!(l.error_code, NONE, "{l:?}");
    assert_eq!(l.members.len(), 1);
    assert_eq!(l.members[0].member_id.as_str(), id_b);
    assert_eq!(l.members[0].error_code, NONE);
    assert_eq!(group_state(&mut admin, g), ("PreparingRebalance".to_string(), 1));
    assert_eq!(heartbeat(&mut a, 4, g, 2, &id_a), REBALANCE_IN_PROGRESS);
    assert_eq!(heartbeat(&mut bb, 4, g, 2, &id_b), UNKNOWN_MEMBER_ID);
    let t0 = Instant::now();
    let ra = a.kp_call(9, &join_simple(9, g, &id_a, RANGE_A));
    assert!(t0.elapsed() < PROMPT);
    check_join(&ra, 9, &id_a, 3, &id_a);
    assert_eq!(member_ids(&ra), set(&[&id_a]));
    let sa = a.kp_call(5, &sync_req(5, g, 3, &id_a, &[(&id_a, b"a-gen3")]));
    check_sync(&sa, 5, b"a-gen3");

    // A leaves: the group is Empty and keeps no members.
    let l = leave(&mut a, 5, g, &[&id_a]);
    assert_eq!(l.error_code, NONE);
    assert_eq!(l.members[0].error_code, NONE);
    assert_eq!(group_state(&mut admin, g), ("Empty".to_string(), 0));
}

/// The same walk at the oldest versions: JoinGroup v0/v1/v3 hand out member ids at once
/// (MEMBER_ID_REQUIRED starts at v4), SyncGroup v0, Heartbeat v0, LeaveGroup v0.
#[test]
fn two_member_walk_oldest_versions() {
    let (_d, b) = start("walk-old", &[], &[]);
    let g = "walk-old";
    let mut a = b.connect();
    let mut bb = b.connect();
    let mut admin = b.connect();

    let ra = a.kp_call(0, &join_simple(0, g, "", RANGE_A));
    let id_a = ra.member_id.to_string();
    assert!(id_a.starts_with(&format!("{CLIENT_ID}-")), "{ra:?}");
    check_join(&ra, 0, &id_a, 1, &id_a);
    assert_eq!(member_ids(&ra), set(&[&id_a]));
    let s = a.kp_call(0, &sync_req(0, g, 1, &id_a, &[(&id_a, b"a-gen1")]));
    check_sync(&s, 0, b"a-gen1");
    assert_eq!(heartbeat(&mut a, 0, g, 1, &id_a), NONE);

    // B joins at v1 with no id: no MEMBER_ID_REQUIRED, the join is held for A's rejoin.
    let jb = send_kp(&mut bb, 1, &join_simple(1, g, "", RANGE_B));
    assert_held(&mut bb, "B's v1 JoinGroup");
    assert_eq!(heartbeat(&mut a, 0, g, 1, &id_a), REBALANCE_IN_PROGRESS);
    let ra = a.kp_call(3, &join_simple(3, g, &id_a, RANGE_A));
    check_join(&ra, 3, &id_a, 2, &id_a);
    assert_eq!(ra.members.len(), 2, "{ra:?}");
    let rb = recv_kp::<JoinGroupRequest>(&mut bb, 1, jb, PROMPT);
    let id_b = rb.member_id.to_string();
    assert!(id_b.starts_with(&format!("{CLIENT_ID}-")) && id_b != id_a, "{rb:?}");
    check_join(&rb, 1, &id_b, 2, &id_a);
    assert!(rb.members.is_empty(), "{rb:?}");
    assert_eq!(member_ids(&ra), set(&[&id_a, &id_b]));

    let sbi = send_kp(&mut bb, 0, &sync_req(0, g, 2, &id_b, &[]));
    assert_held(&mut bb, "B's v0 SyncGroup");
    let sa = a.kp_call(0, &sync_req(0, g, 2, &id_a, &[(&id_a, b"a2"), (&id_b, b"b2")]));
    check_sync(&sa, 0, b"a2");
    check_sync(&recv_kp::<SyncGroupRequest>(&mut bb, 0, sbi, PROMPT), 0, b"b2");
    assert_eq!(heartbeat(&mut a, 0, g, 2, &id_a), NONE);
    assert_eq!(heartbeat(&mut bb, 0, g, 2, &id_b), NONE);
    assert_eq!(group_state(&mut admin, g), ("Stable".to_string(), 2));

    // LeaveGroup v0 names one member.
    let l = leave(&mut bb, 0, g, &[&id_b]);
    assert_eq!(l.error_code, NONE, "{l:?}");
    assert_eq!(heartbeat(&mut a, 0, g, 2, &id_a), REBALANCE_IN_PROGRESS);
    let ra = a.kp_call(0, &join_simple(0, g, &id_a, RANGE_A));
    check_join(&ra, 0, &id_a, 3, &id_a);
    assert_eq!(member_ids(&ra), set(&[&id_a]));
    let s = a.kp_call(0, &sync_req(0, g, 3, &id_a, &[(&id_a, b"a3")]));
    check_sync(&s, 0, b"a3");
    let l = leave(&mut a, 0, g, &[&id_a]);
    assert_eq!(l.error_code, NONE);
    assert_eq!(group_state(&mut admin, g), ("Empty".to_string(), 0));
}

#[test]
fn join_group_errors() {
    let (_d, b) = start("jg-err", &[], &[]);
    let mut c = b.connect();
    let mut other = b.connect();

    // Session timeouts outside [group.min.session.timeout.ms, group.max.session.timeout.ms]
    // = [6000, 1800000].
    for v in [0i16, 4, 9] {
        for session in [5999, 1_800_001] {
            let req = join_req(v, "jg-err-s", "", None, session, REBALANCE, "consumer", RANGE_A);
            let r = c.kp_call(v, &req);
            assert_eq!(r.error_code, INVALID_SESSION_TIMEOUT, "v{v} session {session}: {r:?}");
            assert_eq!(r.generation_id, -1);
        }
    }
    // The bounds themselves are fine.
    let req = join_req(9, "jg-err-s", "", None, 6000, REBALANCE, "consumer", RANGE_A);
    assert_eq!(c.kp_call(9, &req).error_code, MEMBER_ID_REQUIRED);

    // A member id the group does not know.
    for v in [0i16, 5, 9] {
        let r = c.kp_call(v, &join_simple(v, "jg-err-unknown", "nobody", RANGE_A));
        assert_eq!(r.error_code, UNKNOWN_MEMBER_ID, "v{v}: {r:?}");
    }

    // No protocols at all.
    let r = c.kp_call(9, &join_simple(9, "jg-err-empty", "", &[]));
    assert_eq!(r.error_code, INCONSISTENT_GROUP_PROTOCOL, "{r:?}");

    // A group running "consumer" with range/roundrobin.
    let (id, generation) = stable_single(&mut c, "jg-err-p", b"x");
    assert_eq!(generation, 1);
    // A different protocol type.
    for v in [0i16, 9] {
        let req = join_req(v, "jg-err-p", "", None, SESSION, REBALANCE, "connect", RANGE_A);
        let r = other.kp_call(v, &req);
        assert_eq!(r.error_code, INCONSISTENT_GROUP_PROTOCOL, "v{v}: {r:?}");
    }
    // No protocol in common.
    for v in [0i16, 9] {
        let r = other.kp_call(v, &join_simple(v, "jg-err-p", "", &[("sticky", b"s")]));
        assert_eq!(r.error_code, INCONSISTENT_GROUP_PROTOCOL, "v{v}: {r:?}");
    }
    // None of that disturbed the group.
    assert_eq!(group_state(&mut c, "jg-err-p"), ("Stable".to_string(), 1));
    assert_eq!(heartbeat(&mut c, 4, "jg-err-p", 1, &id), NONE);
}

#[test]
fn sync_heartbeat_leave_errors() {
    let (_d, b) = start("sg-err", &[], &[]);
    let g = "sg-err";
    let mut a = b.connect();
    let mut bb = b.connect();
    let id_a = member_id_required(&mut a, 9, g, RANGE_A);
    let r = a.kp_call(9, &join_simple(9, g, &id_a, RANGE_A));
    check_join(&r, 9, &id_a, 1, &id_a);

    for v in [0i16, 5] {
        let s = a.kp_call(v, &sync_req(v, g, 1, "nobody", &[]));
        assert_eq!(s.error_code, UNKNOWN_MEMBER_ID, "SyncGroup v{v}: {s:?}");
        let s = a.kp_call(v, &sync_req(v, g, 7, &id_a, &[]));
        assert_eq!(s.error_code, ILLEGAL_GENERATION, "SyncGroup v{v}: {s:?}");
    }
    for v in 0..=4i16 {
        assert_eq!(heartbeat(&mut a, v, g, 1, "nobody"), UNKNOWN_MEMBER_ID, "Heartbeat v{v}");
        assert_eq!(heartbeat(&mut a, v, g, 2, &id_a), ILLEGAL_GENERATION, "Heartbeat v{v}");
    }
    let s = a.kp_call(5, &sync_req(5, g, 1, &id_a, &[(&id_a, b"a1")]));
    check_sync(&s, 5, b"a1");

    // While the group prepares a rebalance, SyncGroup is refused.
    let id_b = member_id_required(&mut bb, 9, g, RANGE_B);
    let _jb = send_kp(&mut bb, 9, &join_simple(9, g, &id_b, RANGE_B));
    assert_held(&mut bb, "B's JoinGroup");
    let s = a.kp_call(5, &sync_req(5, g, 1, &id_a, &[(&id_a, b"a1")]));
    assert_eq!(s.error_code, REBALANCE_IN_PROGRESS, "{s:?}");

    // LeaveGroup for members the group does not have.
    for v in 0..=2i16 {
        let l = leave(&mut a, v, g, &["nobody"]);
        assert_eq!(l.error_code, UNKNOWN_MEMBER_ID, "LeaveGroup v{v}: {l:?}");
    }
    for v in 3..=5i16 {
        let l = leave(&mut a, v, g, &["nobody", "ghost"]);
        assert_eq!(l.error_code, NONE, "LeaveGroup v{v}: {l:?}");
        assert_eq!(l.members.len(), 2, "{l:?}");
        for (m, id) in l.members.iter().zip(["nobody", "ghost"]) {
            assert_eq!(m.member_id.as_str(), id);
            assert_eq!(m.error_code, UNKNOWN_MEMBER_ID, "LeaveGroup v{v}: {m:?}");
        }
    }
}

/// A member that stops heartbeating is removed once its session timeout passes; the survivor
/// learns it from REBALANCE_IN_PROGRESS and forms the next generation alone.
#[test]
fn session_timeout_removes_silent_member() {
    let (_d, b) = start("session", &[], &["group.min.session.timeout.ms=100"]);
    let g = "session";
    let mut a = b.connect();
    let mut bb = b.connect();
    let mut admin = b.connect();
    let join = |v, member: &str, p| join_req(v, g, member, None, 300, 5000, "consumer", p);

    let id_a = member_id_required(&mut a, 9, g, RANGE_A);
    let ra = a.kp_call(9, &join(9, &id_a, RANGE_A));
    check_join(&ra, 9, &id_a, 1, &id_a);
    a.kp_call(5, &sync_req(5, g, 1, &id_a, &[(&id_a, b"a1")]));
    let r = bb.kp_call(9, &join(9, "", RANGE_B));
    assert_eq!(r.error_code, MEMBER_ID_REQUIRED);
    let id_b = r.member_id.to_string();
    let jb = send_kp(&mut bb, 9, &join(9, &id_b, RANGE_B));
    // B's session runs from some moment after this one (the generation's completion, or B's
    // SyncGroup), so it cannot expire before t0 + 300 ms.
    let t0 = Instant::now();
    let ra = a.kp_call(9, &join(9, &id_a, RANGE_A));
    check_join(&ra, 9, &id_a, 2, &id_a);
    let rb = recv_kp::<JoinGroupRequest>(&mut bb, 9, jb, PROMPT);
    check_join(&rb, 9, &id_b, 2, &id_a);
    let sbi = send_kp(&mut bb, 5, &sync_req(5, g, 2, &id_b, &[]));
    a.kp_call(5, &sync_req(5, g, 2, &id_a, &[(&id_a, b"a2"), (&id_b, b"b2")]));
    check_sync(&recv_kp::<SyncGroupRequest>(&mut bb, 5, sbi, PROMPT), 5, b"b2");

    // A keeps heartbeating; B falls silent.
    let mut last = NONE;
    let noticed = eventually(Duration::from_secs(15), || {
        last = heartbeat(&mut a, 4, g, 2, &id_a);
        last != NONE
    });
    assert!(noticed, "B's session never expired");
    assert_eq!(last, REBALANCE_IN_PROGRESS);
    assert!(t0.elapsed() >= Duration::from_millis(300), "expired after {:?}", t0.elapsed());
    let ra = a.kp_call(9, &join(9, &id_a, RANGE_A));
    check_join(&ra, 9, &id_a, 3, &id_a);
    assert_eq!(member_ids(&ra), set(&[&id_a]));
    assert_eq!(heartbeat(&mut bb, 4, g, 2, &id_b), UNKNOWN_MEMBER_ID);

    // Then A falls silent too: the group empties.
    a.kp_call(5, &sync_req(5, g, 3, &id_a, &[(&id_a, b"a3")]));
    let emptied = eventually(Duration::from_secs(15), || {
        group_state(&mut admin, g) == ("Empty".to_string(), 0)
    });
    assert!(emptied, "A's session never expired: {:?}", group_state(&mut admin, g));
    assert_eq!(heartbeat(&mut a, 4, g, 3, &id_a), UNKNOWN_MEMBER_ID);
}

/// A member that does not rejoin within the rebalance timeout is dropped from the next
/// generation, which completes with those who did.
#[test]
fn rebalance_timeout_drops_member_that_does_not_rejoin() {
    let (_d, b) = start("rebalance", &[], &[]);
    let g = "rebalance";
    let mut a = b.connect();
    let mut bb = b.connect();
    let mut cc = b.connect();
    let join = |member: &str, p| join_req(9, g, member, None, SESSION, 1000, "consumer", p);

    let id_a = member_id_required(&mut a, 9, g, RANGE_A);
    check_join(&a.kp_call(9, &join(&id_a, RANGE_A)), 9, &id_a, 1, &id_a);
    a.kp_call(5, &sync_req(5, g, 1, &id_a, &[(&id_a, b"a1")]));
    let id_b = member_id_required(&mut bb, 9, g, RANGE_B);
    let jb = send_kp(&mut bb, 9, &join(&id_b, RANGE_B));
    check_join(&a.kp_call(9, &join(&id_a, RANGE_A)), 9, &id_a, 2, &id_a);
    check_join(&recv_kp::<JoinGroupRequest>(&mut bb, 9, jb, PROMPT), 9, &id_b, 2, &id_a);
    let sbi = send_kp(&mut bb, 5, &sync_req(5, g, 2, &id_b, &[]));
    a.kp_call(5, &sync_req(5, g, 2, &id_a, &[(&id_a, b"a2"), (&id_b, b"b2")]));
    check_sync(&recv_kp::<SyncGroupRequest>(&mut bb, 5, sbi, PROMPT), 5, b"b2");

    // C joins: A rejoins, B never does.
    let id_c = member_id_required(&mut cc, 9, g, RANGE_A);
    let t0 = Instant::now();
    let jc = send_kp(&mut cc, 9, &join(&id_c, RANGE_A));
    let ja = send_kp(&mut a, 9, &join(&id_a, RANGE_A));
    let ra = recv_kp::<JoinGroupRequest>(&mut a, 9, ja, PROMPT);
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(800), "completed after {waited:?}, before B's time");
    // The rebalance timeout ends the wait, not B's session (10 s): well before that.
    assert!(waited < Duration::from_secs(5), "completed only after {waited:?}");
    check_join(&ra, 9, &id_a, 3, &id_a);
    assert_eq!(member_ids(&ra), set(&[&id_a, &id_c]), "B is dropped");
    check_join(&recv_kp::<JoinGroupRequest>(&mut cc, 9, jc, PROMPT), 9, &id_c, 3, &id_a);
    assert_eq!(heartbeat(&mut bb, 4, g, 2, &id_b), UNKNOWN_MEMBER_ID);
    let (state, n) = group_state(&mut a, g);
    assert_eq!((state.as_str(), n), ("CompletingRebalance", 2));
}

/// KIP-345 static membership. A static member (group_instance_id, JoinGroup v5+) joins
/// without MEMBER_ID_REQUIRED; when it rejoins with an empty member id, Kafka's
/// GroupCoordinator (doStaticNewMemberJoinGroup -> updateStaticMemberAndRebalance) maps the
/// instance to a fresh member id, fences the old one (FENCED_INSTANCE_ID) and, the group being
/// Stable with the same protocol, keeps the generation and its assignment without a rebalance.
#[test]
fn static_member_rejoin_with_empty_member_id() {
    let (_d, b) = start("static", &[], &[]);
    let g = "static";
    let mut c = b.connect();
    let mut admin = b.connect();
    let join = |v, member: &str| {
        join_req(v, g, member, Some("instance-1"), SESSION, REBALANCE, "consumer", RANGE_A)
    };

    let r = c.kp_call(7, &join(7, ""));
    assert_eq!(r.error_code, NONE, "static members need no MEMBER_ID_REQUIRED: {r:?}");
    let old_id = r.member_id.to_string();
    check_join(&r, 7, &old_id, 1, &old_id);
    assert_eq!(r.members.len(), 1);
    assert_eq!(opt(&r.members[0].group_instance_id), Some("instance-1"));
    let s = c.kp_call(5, &sync_req(5, g, 1, &old_id, &[(&old_id, b"static-asg")]));
    check_sync(&s, 5, b"static-asg");

    let d = describe_groups(&mut admin, 4, &[g]);
    assert_eq!(d.groups[0].members.len(), 1);
    assert_eq!(opt(&d.groups[0].members[0].group_instance_id), Some("instance-1"));

    // The same instance rejoins (a restarted consumer) with no member id.
    let r = c.kp_call(7, &join(7, ""));
    assert_eq!(r.error_code, NONE, "{r:?}");
    let new_id = r.member_id.to_string();
    assert_ne!(new_id, old_id, "Kafka replaces the static member's id");
    assert_eq!(r.generation_id, 1, "no rebalance for a Stable group: {r:?}");
    assert_eq!(r.leader.as_str(), new_id, "the leader id follows the replacement");
    assert_eq!(group_state(&mut admin, g), ("Stable".to_string(), 1));
    assert_eq!(heartbeat_static(&mut c, g, 1, &new_id, "instance-1"), NONE);
    assert_eq!(heartbeat_static(&mut c, g, 1, &old_id, "instance-1"), FENCED_INSTANCE_ID);
    // The assignment survives the replacement.
    let s = c.kp_call(
        3,
        &sync_req(3, g, 1, &new_id, &[]).with_group_instance_id(Some(sb("instance-1"))),
    );
    check_sync(&s, 3, b"static-asg");
    // GroupMetadata.generateMemberId names a static member's id after its instance id.
    for id in [&old_id, &new_id] {
        assert!(id.starts_with("instance-1-"), "Kafka names it after the instance: {id}");
    }
}

// ----- DescribeGroups / ListGroups -------------------------------------------------------------

#[test]
fn describe_groups_every_version() {
    let (_d, b) = start("dg", &[], &[]);
    let mut c = b.connect();
    let (id, _) = stable_single(&mut c, "dg-group", b"dg-asg");
    for v in 0..=5i16 {
        let mut req =
            DescribeGroupsRequest::default().with_groups(vec![gid("dg-group"), gid("nosuch")]);
        if v >= 3 {
            req = req.with_include_authorized_operations(false);
        }
        let r = c.kp_call(v, &req);
        assert_eq!(r.throttle_time_ms, 0);
        assert_eq!(r.groups.len(), 2, "v{v}: {r:?}");
        let g = &r.groups[0];
        assert_eq!(g.group_id.0.as_str(), "dg-group");
        assert_eq!(g.error_code, NONE, "v{v}: {g:?}");
        assert_eq!(g.group_state.as_str(), "Stable");
        assert_eq!(g.protocol_type.as_str(), "consumer");
        assert_eq!(g.protocol_data.as_str(), "range");
        assert_eq!(g.members.len(), 1);
        let m = &g.members[0];
        assert_eq!(m.member_id.as_str(), id);
        assert_eq!(m.group_instance_id, None);
        assert_eq!(m.client_id.as_str(), CLIENT_ID);
        assert_eq!(m.client_host.as_str(), "/127.0.0.1");
        assert_eq!(&m.member_metadata[..], b"meta-a");
        assert_eq!(&m.member_assignment[..], b"dg-asg");
        if v >= 3 {
            assert_eq!(g.authorized_operations, NO_OPS, "v{v}: not asked for");
        }
        let dead = &r.groups[1];
        assert_eq!(dead.group_id.0.as_str(), "nosuch");
        assert_eq!(dead.error_code, NONE, "v{v}: an unknown group is Dead, not an error");
        assert_eq!(dead.group_state.as_str(), "Dead");
        assert_eq!(dead.protocol_type.as_str(), "");
        assert_eq!(dead.protocol_data.as_str(), "");
        assert!(dead.members.is_empty());
    }
}

#[test]
fn list_groups_every_version_and_filters() {
    let (_d, b) = start("lg", &[("lg-topic", 1)], &[]);
    let mut c = b.connect();
    stable_single(&mut c, "lg-stable", b"x");
    // A group that only has committed offsets exists, Empty, with no protocol type.
    let e = commit(&mut c, 8, "lg-offsets", -1, "", &[cm("lg-topic", 0, 5, None)]);
    assert_eq!(errors_of(&e), [NONE]);

    let listed = |r: &ListGroupsResponse| -> Vec<(String, String, String, String)> {
        let mut v: Vec<_> = r
            .groups
            .iter()
            .map(|g| {
                (
                    g.group_id.0.to_string(),
                    g.protocol_type.to_string(),
                    g.group_state.to_string(),
                    g.group_type.to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    for v in 0..=5i16 {
        let r = c.kp_call(v, &ListGroupsRequest::default());
        assert_eq!(r.error_code, NONE, "v{v}");
        let got = listed(&r);
        let state = |s: &str| if v >= 4 { s.to_string() } else { String::new() };
        let ty = if v >= 5 { "classic".to_string() } else { String::new() };
        assert_eq!(
            got,
            vec![
                ("lg-offsets".into(), "".into(), state("Empty"), ty.clone()),
                ("lg-stable".into(), "consumer".into(), state("Stable"), ty.clone()),
            ],
            "v{v}: {r:?}"
        );
    }
    for v in 4..=5i16 {
        let only = |states: &[&str], c: &mut Client| {
            let req = ListGroupsRequest::default()
                .with_states_filter(states.iter().map(|s| sb(s)).collect());
            listed(&c.kp_call(v, &req)).into_iter().map(|g| g.0).collect::<Vec<_>>()
        };
        assert_eq!(only(&["Stable"], &mut c), ["lg-stable"], "v{v}");
        assert_eq!(only(&["Empty"], &mut c), ["lg-offsets"], "v{v}");
        assert_eq!(only(&["Empty", "Stable"], &mut c), ["lg-offsets", "lg-stable"], "v{v}");
        assert!(only(&["PreparingRebalance"], &mut c).is_empty(), "v{v}");
    }
    let types = |t: &[&str], c: &mut Client| {
        let req = ListGroupsRequest::default().with_types_filter(t.iter().map(|s| sb(s)).collect());
        listed(&c.kp_call(5, &req)).into_iter().map(|g| g.0).collect::<Vec<_>>()
    };
    assert_eq!(types(&["classic"], &mut c), ["lg-offsets", "lg-stable"]);
    assert!(types(&["consumer"], &mut c).is_empty());
}

// ----- OffsetCommit / OffsetFetch --------------------------------------------------------------

#[test]
fn offset_commit_and_fetch_every_version() {
    let (_d, b) = start("oc", &[("oc-topic", 3)], &[]);
    let mut c = b.connect();
    let g = "oc-group";
    for v in 2..=9i16 {
        let meta = format!("m{v}");
        let commits = [
            Commit {
                topic: "oc-topic",
                partition: 0,
                offset: 100 + i64::from(v),
                leader_epoch: 7,
                metadata: Some(&meta),
            },
            Commit {
                topic: "oc-topic",
                partition: 1,
                offset: 200 + i64::from(v),
                leader_epoch: 7,
                metadata: None,
            },
        ];
        let e = commit(&mut c, v, g, -1, "", &commits);
        assert_eq!(errors_of(&e), [NONE, NONE], "OffsetCommit v{v}");
        // Each version reads back what it just committed.
        let fv = if v == 2 { 1 } else { v };
        let r = fetch_offsets(&mut c, fv, g, Some(&[("oc-topic", &[0, 1, 2])]));
        let epoch = if v >= 6 && fv >= 5 { 7 } else { -1 };
        assert_eq!(
            fetched(&r, fv),
            vec![
                (key("oc-topic", 0), f(100 + i64::from(v), epoch, &meta)),
                (key("oc-topic", 1), f(200 + i64::from(v), epoch, "")),
                (key("oc-topic", 2), f(-1, -1, "")),
            ],
            "OffsetCommit v{v} read back with OffsetFetch v{fv}"
        );
    }
    for v in 1..=9i16 {
        let r = fetch_offsets(&mut c, v, g, Some(&[("oc-topic", &[0, 1, 2])]));
        if v >= 3 {
            assert_eq!(r.throttle_time_ms, 0);
        }
        let epoch = if v >= 5 { 7 } else { -1 };
        assert_eq!(
            fetched(&r, v),
            vec![
                (key("oc-topic", 0), f(109, epoch, "m9")),
                (key("oc-topic", 1), f(209, epoch, "")),
                (key("oc-topic", 2), f(-1, -1, "")),
            ],
            "OffsetFetch v{v}"
        );
        if v >= 2 {
            // A null topic list: every committed partition, and only those.
            let r = fetch_offsets(&mut c, v, g, None);
            assert_eq!(
                fetched(&r, v),
                vec![
                    (key("oc-topic", 0), f(109, epoch, "m9")),
                    (key("oc-topic", 1), f(209, epoch, "")),
                ],
                "OffsetFetch v{v}, all topics"
            );
        }
    }
    // A group that never committed.
    for v in [1i16, 7, 9] {
        let r = fetch_offsets(&mut c, v, "oc-nothing", Some(&[("oc-topic", &[0])]));
        assert_eq!(fetched(&r, v), vec![(key("oc-topic", 0), f(-1, -1, ""))], "v{v}");
        if v >= 2 {
            assert!(fetched(&fetch_offsets(&mut c, v, "oc-nothing", None), v).is_empty());
        }
    }
}

/// OffsetFetch v8+ asks for several groups at once, each with its own topic list or null.
#[test]
fn offset_fetch_batched_groups() {
    let (_d, b) = start("ofb", &[("ofb-a", 2), ("ofb-b", 1)], &[]);
    let mut c = b.connect();
    let e =
        commit(&mut c, 9, "g1", -1, "", &[cm("ofb-a", 0, 11, Some("x")), cm("ofb-a", 1, 12, None)]);
    assert_eq!(errors_of(&e), [NONE, NONE]);
    let e = commit(&mut c, 9, "g2", -1, "", &[cm("ofb-b", 0, 21, Some("y"))]);
    assert_eq!(errors_of(&e), [NONE]);
    for v in 8..=9i16 {
        let req = OffsetFetchRequest::default().with_groups(vec![
            ofq::OffsetFetchRequestGroup::default().with_group_id(gid("g1")).with_topics(Some(
                vec![ofq::OffsetFetchRequestTopics::default()
                    .with_name(tn("ofb-a"))
                    .with_partition_indexes(vec![1])],
            )),
            ofq::OffsetFetchRequestGroup::default().with_group_id(gid("g2")).with_topics(None),
            ofq::OffsetFetchRequestGroup::default().with_group_id(gid("g3")).with_topics(None),
        ]);
        let r = c.kp_call(v, &req);
        assert_eq!(r.throttle_time_ms, 0);
        assert_eq!(r.groups.len(), 3, "v{v}: {r:?}");
        let names: Vec<&str> = r.groups.iter().map(|g| g.group_id.0.as_str()).collect();
        assert_eq!(names, ["g1", "g2", "g3"]);
        let one = |i: usize| {
            let mut x = OffsetFetchResponse::default();
            x.groups = vec![r.groups[i].clone()];
            fetched(&x, v)
        };
        assert_eq!(one(0), vec![(key("ofb-a", 1), f(12, -1, ""))], "v{v}");
        assert_eq!(one(1), vec![(key("ofb-b", 0), f(21, -1, "y"))], "v{v}");
        assert!(one(2).is_empty(), "v{v}");
    }
}

#[test]
fn offset_commit_partition_errors() {
    let (_d, b) = start("oce", &[("oce-topic", 2)], &[]);
    let mut c = b.connect();
    let big = "x".repeat(4097);
    let limit = "y".repeat(4096);
    for v in [2i16, 7, 8, 9] {
        let e = commit(
            &mut c,
            v,
            "oce-group",
            -1,
            "",
            &[
                cm("oce-topic", 0, 1, Some(&limit)),
                cm("oce-topic", 1, 2, Some(&big)),
                cm("oce-topic", 2, 3, None),
                cm("oce-nosuch", 0, 4, None),
            ],
        );
        let by_key = |t: &str, p: i32| e.iter().find(|(k, _)| *k == key(t, p)).unwrap().1;
        assert_eq!(by_key("oce-topic", 0), NONE, "v{v}: 4096 bytes of metadata are allowed");
        assert_eq!(by_key("oce-topic", 1), OFFSET_METADATA_TOO_LARGE, "v{v}");
        assert_eq!(by_key("oce-topic", 2), UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
        assert_eq!(by_key("oce-nosuch", 0), UNKNOWN_TOPIC_OR_PARTITION, "v{v}");
    }
    // Only the good partition was stored.
    let r = fetch_offsets(&mut c, 7, "oce-group", None);
    assert_eq!(fetched(&r, 7), vec![(key("oce-topic", 0), f(1, -1, &limit))]);
}

/// A group with members takes commits only from a current member of the current generation.
#[test]
fn offset_commit_generation_checks() {
    let (_d, b) = start("ocg", &[("ocg-topic", 1)], &[]);
    let g = "ocg-group";
    let mut c = b.connect();
    let id = member_id_required(&mut c, 9, g, RANGE_A);
    check_join(&c.kp_call(9, &join_simple(9, g, &id, RANGE_A)), 9, &id, 1, &id);
    // CompletingRebalance: the member must sync first.
    for v in [2i16, 9] {
        let e = commit(&mut c, v, g, 1, &id, &[cm("ocg-topic", 0, 1, None)]);
        assert_eq!(errors_of(&e), [REBALANCE_IN_PROGRESS], "v{v}");
    }
    c.kp_call(5, &sync_req(5, g, 1, &id, &[(&id, b"a")]));
    for v in [2i16, 6, 9] {
        let e = commit(&mut c, v, g, -1, "", &[cm("ocg-topic", 0, 1, None)]);
        assert_eq!(errors_of(&e), [UNKNOWN_MEMBER_ID], "v{v}: simple commit to a live group");
        let e = commit(&mut c, v, g, 1, "nobody", &[cm("ocg-topic", 0, 1, None)]);
        assert_eq!(errors_of(&e), [UNKNOWN_MEMBER_ID], "v{v}");
        let e = commit(&mut c, v, g, 2, &id, &[cm("ocg-topic", 0, 1, None)]);
        assert_eq!(errors_of(&e), [ILLEGAL_GENERATION], "v{v}");
        let e = commit(&mut c, v, g, 1, &id, &[cm("ocg-topic", 0, 10 + i64::from(v), None)]);
        assert_eq!(errors_of(&e), [NONE], "v{v}");
    }
    assert_eq!(
        fetched(&fetch_offsets(&mut c, 9, g, None), 9),
        vec![(key("ocg-topic", 0), f(19, -1, ""))]
    );
    // Once the group is Empty again, simple commits are accepted.
    assert_eq!(leave(&mut c, 5, g, &[&id]).error_code, NONE);
    let e = commit(&mut c, 9, g, -1, "", &[cm("ocg-topic", 0, 30, None)]);
    assert_eq!(errors_of(&e), [NONE]);
}

fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Kafka's GroupMetadataManager.partitionFor: Utils.abs(groupId.hashCode) % partitions.
fn offsets_partition(group: &str) -> i32 {
    let h = java_hash(group);
    (if h == i32::MIN { 0 } else { h.abs() }) % 50
}

/// Every (key, value) record in a partition's first segment.
fn log_records(path: &Path) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let bytes = fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    for b in log_batches(&bytes) {
        let (_, batch) = b.unwrap_or_else(|e| panic!("bad batch in {}: {e:?}", path.display()));
        for rec in Records::new(batch).unwrap() {
            let rec = rec.unwrap();
            out.push((
                rec.key.expect("offset records have keys").to_vec(),
                rec.value.map(<[u8]>::to_vec),
            ));
        }
    }
    out
}

struct OffsetRecord {
    group: String,
    topic: String,
    partition: i32,
    offset: i64,
    leader_epoch: i32,
    metadata: String,
    commit_timestamp: i64,
}

fn parse_offset_record(k: &[u8], v: &[u8]) -> OffsetRecord {
    let mut r = R::new(k);
    assert_eq!(r.i16(), 1, "OffsetCommitKey version 1");
    let group = r.string();
    let topic = r.string();
    let partition = r.i32();
    r.done();
    let mut r = R::new(v);
    assert_eq!(r.i16(), 3, "OffsetCommitValue version 3");
    let offset = r.i64();
    let leader_epoch = r.i32();
    let metadata = r.string();
    let commit_timestamp = r.i64();
    r.done();
    OffsetRecord { group, topic, partition, offset, leader_epoch, metadata, commit_timestamp }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Commits land in `__consumer_offsets` (50 partitions, created on the first commit) in
/// Kafka's record format, in the partition Kafka would choose for the group.
#[test]
fn offset_commit_record_on_disk() {
    let (dir, b) = start("ocdisk", &[("disk-topic", 2)], &[]);
    let mut c = b.connect();
    let g = "disk-group-Ω";
    let p = offsets_partition(g);
    assert!(!dir.join("__consumer_offsets-0").exists(), "no offsets topic before a commit");
    let before = now_ms();
    let e = commit(
        &mut c,
        8,
        g,
        -1,
        "",
        &[Commit {
            topic: "disk-topic",
            partition: 1,
            offset: 42,
            leader_epoch: 5,
            metadata: Some("hello"),
        }],
    );
    assert_eq!(errors_of(&e), [NONE]);
    let after = now_ms();
    for i in 0..50 {
        assert!(dir.join(&format!("__consumer_offsets-{i}")).is_dir(), "__consumer_offsets-{i}");
    }
    assert!(!dir.join("__consumer_offsets-50").exists());
    for i in (0..50).filter(|&i| i != p) {
        let recs = log_records(&log_file(dir.path(), "__consumer_offsets", i));
        assert!(recs.is_empty(), "partition {i} holds {recs:?}; the group maps to {p}");
    }
    let recs = log_records(&log_file(dir.path(), "__consumer_offsets", p));
    assert_eq!(recs.len(), 1, "{recs:?}");
    let (k, v) = &recs[0];
    let rec = parse_offset_record(k, v.as_deref().expect("a commit has a value"));
    assert_eq!(rec.group, g);
    assert_eq!(rec.topic, "disk-topic");
    assert_eq!(rec.partition, 1);
    assert_eq!(rec.offset, 42);
    assert_eq!(rec.leader_epoch, 5);
    assert_eq!(rec.metadata, "hello");
    assert!(
        (before..=after).contains(&rec.commit_timestamp),
        "{} not in {before}..={after}",
        rec.commit_timestamp
    );

    // A second commit appends another record for the same key.
    let e = commit(&mut c, 2, g, -1, "", &[cm("disk-topic", 1, 43, Some("again"))]);
    assert_eq!(errors_of(&e), [NONE]);
    let recs = log_records(&log_file(dir.path(), "__consumer_offsets", p));
    assert_eq!(recs.len(), 2);
    let rec = parse_offset_record(&recs[1].0, recs[1].1.as_deref().unwrap());
    assert_eq!((rec.offset, rec.leader_epoch, rec.metadata.as_str()), (43, -1, "again"));
}

/// `__consumer_offsets` is created as Kafka's coordinator creates it: compacted, recorded as
/// ConfigRecords beside its TopicRecord, so the directory stays right after a move to Kafka.
#[test]
fn offsets_topic_is_recorded_compacted() {
    let (dir, b) = start("occonfig", &[("cfg-topic", 1)], &[]);
    let mut c = b.connect();
    let e = commit(&mut c, 8, "cfg-group", -1, "", &[cm("cfg-topic", 0, 1, None)]);
    assert_eq!(errors_of(&e), [NONE]);
    let meta = fs::read(dir.join("__cluster_metadata-0/00000000000000000000.log")).unwrap();
    let mut configs = Vec::new();
    for b in log_batches(&meta) {
        let (_, batch) = b.unwrap();
        for rec in Records::new(batch).unwrap() {
            let value = rec.unwrap().value.unwrap().to_vec();
            if let minikafka::metadata::MetadataRecord::Config {
                resource_type,
                resource_name,
                name,
                value,
            } = minikafka::metadata::MetadataRecord::decode(&value).unwrap()
            {
                configs.push((resource_type, resource_name, name, value));
            }
        }
    }
    let topic = |n: &str, v: &str| {
        (2i8, "__consumer_offsets".to_string(), n.to_string(), Some(v.to_string()))
    };
    assert!(configs.contains(&topic("cleanup.policy", "compact")), "{configs:?}");
    assert!(configs.contains(&topic("segment.bytes", "104857600")), "{configs:?}");
}

#[test]
fn committed_offsets_survive_restart() {
    let dir = TempDir::new("ocrestart");
    make_log_dir(dir.path(), &[("rs-topic", 3)]);
    {
        let b = start_in(dir.path(), &[]);
        let mut c = b.connect();
        let commits = [
            Commit {
                topic: "rs-topic",
                partition: 0,
                offset: 7,
                leader_epoch: 2,
                metadata: Some("a"),
            },
            Commit {
                topic: "rs-topic",
                partition: 2,
                offset: 9,
                leader_epoch: 2,
                metadata: Some("b"),
            },
        ];
        assert_eq!(errors_of(&commit(&mut c, 9, "rs-g1", -1, "", &commits)), [NONE, NONE]);
        // A later commit of the same partition wins.
        let later = [Commit {
            topic: "rs-topic",
            partition: 0,
            offset: 8,
            leader_epoch: 3,
            metadata: Some("c"),
        }];
        assert_eq!(errors_of(&commit(&mut c, 9, "rs-g1", -1, "", &later)), [NONE]);
        assert_eq!(
            errors_of(&commit(&mut c, 3, "rs-g2", -1, "", &[cm("rs-topic", 1, 100, None)])),
            [NONE]
        );
        b.kill();
    }
    let b = start_in(dir.path(), &[]);
    let mut c = b.connect();
    for v in [1i16, 5, 7, 9] {
        let r = fetch_offsets(&mut c, v, "rs-g1", Some(&[("rs-topic", &[0, 1, 2])]));
        let e = |n: i32| if v >= 5 { n } else { -1 };
        assert_eq!(
            fetched(&r, v),
            vec![
                (key("rs-topic", 0), f(8, e(3), "c")),
                (key("rs-topic", 1), f(-1, -1, "")),
                (key("rs-topic", 2), f(9, e(2), "b")),
            ],
            "v{v} after restart"
        );
    }
    let r = fetch_offsets(&mut c, 9, "rs-g2", None);
    assert_eq!(fetched(&r, 9), vec![(key("rs-topic", 1), f(100, -1, ""))]);
    // The reloaded group is listed, Empty.
    let l = c.kp_call(4, &ListGroupsRequest::default());
    let mut names: Vec<(String, String)> =
        l.groups.iter().map(|g| (g.group_id.0.to_string(), g.group_state.to_string())).collect();
    names.sort();
    assert_eq!(
        names,
        [("rs-g1".to_string(), "Empty".to_string()), ("rs-g2".into(), "Empty".into())]
    );
    // A group still works after the restart.
    assert_eq!(
        errors_of(&commit(&mut c, 9, "rs-g1", -1, "", &[cm("rs-topic", 1, 1, None)])),
        [NONE]
    );
}

// ----- DescribeConfigs -------------------------------------------------------------------------

fn describe_configs(
    c: &mut Client,
    version: i16,
    resources: &[(i8, &str, Option<&[&str]>)],
    synonyms: bool,
) -> DescribeConfigsResponse {
    let req = DescribeConfigsRequest::default().with_include_synonyms(synonyms).with_resources(
        resources
            .iter()
            .map(|(t, n, keys)| {
                dcq::DescribeConfigsResource::default()
                    .with_resource_type(*t)
                    .with_resource_name(sb(n))
                    .with_configuration_keys(keys.map(|ks| ks.iter().map(|k| sb(k)).collect()))
            })
            .collect(),
    );
    c.kp_call(version, &req)
}

type ConfigRow = (Option<String>, i8, bool, Vec<(String, Option<String>, i8)>, i8);

fn configs_of(
    r: &kafka_protocol::messages::describe_configs_response::DescribeConfigsResult,
) -> std::collections::BTreeMap<String, ConfigRow> {
    r.configs
        .iter()
        .map(|c| {
            assert!(!c.is_sensitive, "{c:?}");
            (
                c.name.to_string(),
                (
                    opt(&c.value).map(str::to_string),
                    c.config_source,
                    c.read_only,
                    c.synonyms
                        .iter()
                        .map(|s| (s.name.to_string(), opt(&s.value).map(str::to_string), s.source))
                        .collect(),
                    c.config_type,
                ),
            )
        })
        .collect()
}

#[test]
fn describe_configs_every_version() {
    let (dir, b) = start("dc", &[("dc-topic", 1)], &[]);
    let mut c = b.connect();
    for v in 1..=4i16 {
        let r = describe_configs(
            &mut c,
            v,
            &[(2, "dc-topic", None), (2, "dc-nosuch", None), (4, "1", None)],
            false,
        );
        assert_eq!(r.throttle_time_ms, 0);
        assert_eq!(r.results.len(), 3, "v{v}: {r:?}");

        let t = &r.results[0];
        assert_eq!(
            (t.error_code, t.resource_type, t.resource_name.as_str()),
            (NONE, 2, "dc-topic")
        );
        let cfg = configs_of(t);
        let ty = |t: i8| if v >= 3 { t } else { 0 };
        for (name, value, cty) in [
            ("cleanup.policy", "delete", TYPE_LIST),
            ("retention.ms", "604800000", TYPE_LONG),
            ("segment.bytes", "1073741824", TYPE_INT),
            ("max.message.bytes", "1048588", TYPE_INT),
        ] {
            let got = cfg.get(name).unwrap_or_else(|| panic!("v{v}: {name} missing: {cfg:?}"));
            assert_eq!(
                got,
                &(Some(value.to_string()), SOURCE_DEFAULT_CONFIG, false, vec![], ty(cty)),
                "v{v}: {name}"
            );
        }

        let u = &r.results[1];
        assert_eq!(u.error_code, UNKNOWN_TOPIC_OR_PARTITION, "v{v}: {u:?}");
        assert_eq!(u.resource_name.as_str(), "dc-nosuch");
        assert!(u.configs.is_empty());

        let br = &r.results[2];
        assert_eq!((br.error_code, br.resource_type, br.resource_name.as_str()), (NONE, 4, "1"));
        let cfg = configs_of(br);
        let dirs = dir.path().display().to_string();
        assert_eq!(cfg["log.dirs"].0.as_deref(), Some(dirs.as_str()), "v{v}");
        assert_eq!(cfg["log.dirs"].1, SOURCE_STATIC_BROKER_CONFIG, "v{v}");
        assert_eq!(cfg["listeners"].0.as_deref(), Some("PLAINTEXT://127.0.0.1:0"), "v{v}");
        assert_eq!(cfg["listeners"].1, SOURCE_STATIC_BROKER_CONFIG, "v{v}");
        assert_eq!(cfg["node.id"].0.as_deref(), Some("1"), "v{v}");
    }
    // The default broker resource "" and another broker's id.
    let r = describe_configs(&mut c, 4, &[(4, "", None), (4, "2", None)], false);
    assert_eq!(r.results[0].error_code, NONE, "{:?}", r.results[0]);
    assert_eq!(r.results[1].error_code, INVALID_REQUEST, "{:?}", r.results[1]);
}

#[test]
fn describe_configs_static_broker_override_and_filters() {
    let (_d, b) = start("dc-static", &[("dcs-topic", 1)], &["log.segment.bytes=1048576"]);
    let mut c = b.connect();
    for v in 1..=4i16 {
        let keys: &[&str] = &["segment.bytes", "retention.ms"];
        let r = describe_configs(&mut c, v, &[(2, "dcs-topic", Some(keys))], true);
        let cfg = configs_of(&r.results[0]);
        assert_eq!(cfg.keys().collect::<Vec<_>>(), ["retention.ms", "segment.bytes"], "v{v}");
        let seg = &cfg["segment.bytes"];
        assert_eq!(seg.0.as_deref(), Some("1048576"), "v{v}");
        assert_eq!(seg.1, SOURCE_STATIC_BROKER_CONFIG, "v{v}");
        assert_eq!(
            seg.3,
            vec![
                (
                    "log.segment.bytes".to_string(),
                    Some("1048576".to_string()),
                    SOURCE_STATIC_BROKER_CONFIG
                ),
                (
                    "log.segment.bytes".to_string(),
                    Some("1073741824".to_string()),
                    SOURCE_DEFAULT_CONFIG
                ),
            ],
            "v{v}: synonyms, most specific first"
        );
        assert_eq!(cfg["retention.ms"].1, SOURCE_DEFAULT_CONFIG, "v{v}");

        // Without synonyms, no synonym list.
        let r = describe_configs(&mut c, v, &[(2, "dcs-topic", Some(&["segment.bytes"]))], false);
        let cfg = configs_of(&r.results[0]);
        assert_eq!(cfg.len(), 1);
        assert!(cfg["segment.bytes"].3.is_empty(), "v{v}");

        // The broker's own key, filtered.
        let r = describe_configs(&mut c, v, &[(4, "1", Some(&["log.segment.bytes"]))], true);
        let cfg = configs_of(&r.results[0]);
        assert_eq!(cfg.len(), 1, "v{v}: {cfg:?}");
        let k = &cfg["log.segment.bytes"];
        assert_eq!((k.0.as_deref(), k.1), (Some("1048576"), SOURCE_STATIC_BROKER_CONFIG), "v{v}");
        assert_eq!(k.3.first().map(|s| s.2), Some(SOURCE_STATIC_BROKER_CONFIG), "v{v}");
    }
}

// ----- DescribeCluster -------------------------------------------------------------------------

fn cluster_id_of(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("meta.properties")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .expect("meta.properties has cluster.id")
        .trim()
        .to_string()
}

#[test]
fn describe_cluster_every_version() {
    let (dir, b) = start("dcl", &[], &[]);
    let cluster_id = cluster_id_of(dir.path());
    let mut c = b.connect();
    for v in 0..=2i16 {
        let mut req = DescribeClusterRequest::default();
        if v >= 1 {
            req = req.with_endpoint_type(1);
        }
        let r = c.kp_call(v, &req);
        assert_eq!(r.error_code, NONE, "v{v}: {r:?}");
        assert_eq!(r.cluster_id.as_str(), cluster_id, "v{v}");
        assert_eq!(r.controller_id, BrokerId(1), "v{v}");
        assert_eq!(r.endpoint_type, 1, "v{v}");
        assert_eq!(r.cluster_authorized_operations, NO_OPS, "v{v}: not asked for");
        assert_eq!(r.brokers.len(), 1, "v{v}");
        let br = &r.brokers[0];
        assert_eq!(br.broker_id, BrokerId(1));
        assert_eq!(br.host.as_str(), "127.0.0.1");
        assert_eq!(br.port, i32::from(b.addr.port()));
        assert_eq!(br.rack, None);
        assert!(!br.is_fenced);
    }
    for v in 1..=2i16 {
        let r = c.kp_call(v, &DescribeClusterRequest::default().with_endpoint_type(3));
        assert_eq!(r.error_code, UNSUPPORTED_ENDPOINT_TYPE, "v{v}: {r:?}");
        assert_eq!(r.endpoint_type, 3, "v{v}");
    }
}
