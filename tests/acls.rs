//! ACLs against the real binary: CreateAcls, DescribeAcls and DeleteAcls v1-3 (kafka-protocol
//! encodes and decodes them), kept as `AccessControlEntryRecord`s across a restart, refused
//! with SECURITY_DISABLED without an authorizer and CLUSTER_AUTHORIZATION_FAILED for a
//! principal without ALTER on the cluster. One test puts the same requests to Apache Kafka's
//! StandardAuthorizer and compares the answers.

mod common;

use std::time::{Duration, Instant};

use common::kafka::{Kafka, KafkaOptions};
use common::*;
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse,
};
use kafka_protocol::protocol::StrBytes;

const SECURITY_DISABLED: i16 = 54;
const INVALID_REQUEST: i16 = 42;

const AUTHORIZER: &str =
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer";

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// (resource type, name, pattern, principal, host, operation, permission)
type Acl = (i8, &'static str, i8, &'static str, &'static str, i8, i8);

fn creation(a: Acl) -> AclCreation {
    AclCreation::default()
        .with_resource_type(a.0)
        .with_resource_name(sb(a.1))
        .with_resource_pattern_type(a.2)
        .with_principal(sb(a.3))
        .with_host(sb(a.4))
        .with_operation(a.5)
        .with_permission_type(a.6)
}

type Filter = (i8, Option<&'static str>, i8, Option<&'static str>, Option<&'static str>, i8, i8);

fn describe_req(f: Filter) -> DescribeAclsRequest {
    DescribeAclsRequest::default()
        .with_resource_type_filter(f.0)
        .with_resource_name_filter(f.1.map(sb))
        .with_pattern_type_filter(f.2)
        .with_principal_filter(f.3.map(sb))
        .with_host_filter(f.4.map(sb))
        .with_operation(f.5)
        .with_permission_type(f.6)
}

fn delete_filter(f: Filter) -> DeleteAclsFilter {
    DeleteAclsFilter::default()
        .with_resource_type_filter(f.0)
        .with_resource_name_filter(f.1.map(sb))
        .with_pattern_type_filter(f.2)
        .with_principal_filter(f.3.map(sb))
        .with_host_filter(f.4.map(sb))
        .with_operation(f.5)
        .with_permission_type(f.6)
}

const ANY_FILTER: Filter = (1, None, 1, None, None, 1, 1);

const ACLS: [Acl; 10] = [
    (2, "orders", 3, "User:alice", "*", 4, 3),
    (2, "orders", 3, "User:bob", "*", 3, 3),
    (2, "logs-", 4, "User:*", "*", 3, 3),
    (2, "*", 3, "User:carol", "10.0.0.1", 2, 2),
    (3, "grp", 3, "User:alice", "*", 3, 3),
    (4, "kafka-cluster", 3, "User:ops", "*", 7, 3),
    (5, "tx-", 4, "User:alice", "*", 4, 3),
    (7, "someone", 3, "User:admin", "*", 8, 3),
    // The same as the first: accepted, recorded once.
    (2, "orders", 3, "User:alice", "*", 4, 3),
    (2, "orders", 4, "User:alice", "*", 6, 2),
];

const BAD: [Acl; 6] = [
    (1, "x", 3, "User:a", "*", 3, 3),             // resource ANY
    (2, "x", 2, "User:a", "*", 3, 3),             // pattern MATCH
    (2, "x", 3, "User:a", "*", 1, 3),             // operation ANY
    (2, "x", 3, "User:a", "*", 3, 1),             // permission ANY
    (2, "", 3, "User:a", "*", 3, 3),              // empty name
    (4, "other-cluster", 3, "User:a", "*", 3, 3), // cluster name
];

const FILTERS: [Filter; 9] = [
    ANY_FILTER,
    (2, None, 1, None, None, 1, 1),
    (2, Some("orders"), 2, None, None, 1, 1),
    (2, Some("logs-app"), 2, None, None, 1, 1),
    (2, Some("orders"), 3, None, None, 1, 1),
    (1, None, 4, None, None, 1, 1),
    (1, None, 1, Some("User:alice"), None, 1, 1),
    (1, None, 1, None, Some("10.0.0.1"), 2, 2),
    (1, None, 1, None, None, 4, 3),
];

/// A DescribeAcls answer in a canonical order: Kafka groups bindings in hash maps.
fn canonical_describe(mut r: DescribeAclsResponse) -> DescribeAclsResponse {
    r.throttle_time_ms = 0;
    for res in &mut r.resources {
        res.acls.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    }
    r.resources.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    r
}

fn canonical_delete(mut r: DeleteAclsResponse) -> DeleteAclsResponse {
    r.throttle_time_ms = 0;
    for f in &mut r.filter_results {
        f.matching_acls.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    }
    r
}

fn create(c: &mut Client, v: i16, acls: &[Acl]) -> CreateAclsResponse {
    let req =
        CreateAclsRequest::default().with_creations(acls.iter().map(|a| creation(*a)).collect());
    let mut r = c.kp_call(v, &req);
    r.throttle_time_ms = 0;
    r
}

fn describe(c: &mut Client, v: i16, f: Filter) -> DescribeAclsResponse {
    canonical_describe(c.kp_call(v, &describe_req(f)))
}

fn delete(c: &mut Client, v: i16, filters: &[Filter]) -> DeleteAclsResponse {
    let req = DeleteAclsRequest::default()
        .with_filters(filters.iter().map(|f| delete_filter(*f)).collect());
    canonical_delete(c.kp_call(v, &req))
}

fn count(r: &DescribeAclsResponse) -> usize {
    r.resources.iter().map(|res| res.acls.len()).sum()
}

#[test]
fn without_an_authorizer_the_acl_apis_answer_security_disabled() {
    let dir = TempDir::new("acl-off");
    let b = Broker::start(dir.path());
    let mut c = b.connect();
    for v in 1..=3 {
        let r = create(&mut c, v, &ACLS[..2]);
        assert!(r.results.iter().all(|x| x.error_code == SECURITY_DISABLED), "{r:?}");
        assert_eq!(r.results[0].error_message.as_deref(), Some("No Authorizer is configured."));
        let r = describe(&mut c, v, ANY_FILTER);
        assert_eq!(r.error_code, SECURITY_DISABLED);
        assert_eq!(r.error_message.as_deref(), Some("No Authorizer is configured on the broker"));
        let r = delete(&mut c, v, &[ANY_FILTER]);
        assert_eq!(r.filter_results[0].error_code, SECURITY_DISABLED);
    }
}

#[test]
fn acls_are_created_described_deleted_and_kept_across_a_restart() {
    let dir = TempDir::new("acl-on");
    let overrides = [AUTHORIZER, "super.users=User:ANONYMOUS"];
    let b = Broker::start_with(dir.path(), &overrides);
    let mut c = b.connect();
    let r = create(&mut c, 3, &ACLS);
    assert!(r.results.iter().all(|x| x.error_code == 0), "{r:?}");
    // One indefinite binding (ANY, MATCH) fails the whole request, as Kafka's parsing does.
    let r = create(&mut c, 2, &BAD);
    assert!(r.results.iter().all(|x| (x.error_code, &x.error_message) == (-1, &None)), "{r:?}");
    let r = create(&mut c, 2, &BAD[4..]);
    let codes: Vec<i16> = r.results.iter().map(|x| x.error_code).collect();
    assert_eq!(codes, [INVALID_REQUEST; 2]);
    assert_eq!(r.results[0].error_message.as_deref(), Some("Invalid empty resource name"));
    assert_eq!(count(&describe(&mut c, 3, ANY_FILTER)), 9, "the duplicate is recorded once");
    assert_eq!(count(&describe(&mut c, 1, FILTERS[3])), 2, "logs-app: the prefix and the *");
    b.stop();
    let b = Broker::start_with(dir.path(), &overrides);
    let mut c = b.connect();
    assert_eq!(count(&describe(&mut c, 3, ANY_FILTER)), 9);
    let r = delete(
        &mut c,
        3,
        &[(2, Some("orders"), 3, None, None, 1, 1), (1, None, 1, Some("User:alice"), None, 1, 1)],
    );
    assert_eq!(r.filter_results[0].matching_acls.len(), 2);
    // An ACL two filters match is listed by both and removed once.
    assert_eq!(r.filter_results[1].matching_acls.len(), 4);
    assert_eq!(count(&describe(&mut c, 3, ANY_FILTER)), 4);
    // A principal that is not a super user and has no ALTER on the cluster is refused.
    let dir2 = TempDir::new("acl-denied");
    let b2 = Broker::start_with(dir2.path(), &[AUTHORIZER]);
    let mut c2 = b2.connect();
    let r = create(&mut c2, 3, &ACLS[..1]);
    assert_eq!(r.results[0].error_code, 31, "{r:?}");
    assert_eq!(describe(&mut c2, 3, ANY_FILTER).error_code, 31);
}

/// Retries `f` on Kafka until it equals `ours`: Kafka's authorizer learns of ACLs from the
/// metadata log a moment after CreateAcls and DeleteAcls are answered.
fn agree<T: PartialEq + std::fmt::Debug>(what: &str, ours: T, mut kafka: impl FnMut() -> T) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let theirs = kafka();
        if theirs == ours {
            return;
        }
        assert!(Instant::now() < deadline, "{what}:\nminikafka {ours:#?}\nkafka {theirs:#?}");
        std::thread::yield_now();
    }
}

#[test]
fn the_acl_apis_answer_as_kafkas_standard_authorizer() {
    let dirs = TempDir::new("acl-judge");
    let opts = KafkaOptions::default()
        .set("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        .set("super.users", "User:ANONYMOUS");
    let kafka = Kafka::start(&dirs.path().join("kafka"), &dirs.path().join("conf"), &opts);
    let ours =
        Broker::start_with(&dirs.path().join("ours"), &[AUTHORIZER, "super.users=User:ANONYMOUS"]);
    let (mut k, mut o) = (Client::connect(kafka.addr), ours.connect());
    for v in 1..=3 {
        // Version 3 admits USER resources; both refuse them below it alike (or not).
        let acls: Vec<Acl> = ACLS.iter().copied().filter(|a| v >= 3 || a.0 != 7).collect();
        assert_eq!(create(&mut o, v, &acls), create(&mut k, v, &acls), "CreateAcls v{v}");
        let mut wrong = Vec::new();
        for bad in BAD {
            let (mine, theirs) = (create(&mut o, v, &[bad]), create(&mut k, v, &[bad]));
            if mine != theirs {
                wrong.push(format!(
                    "{bad:?}: minikafka {:?}, kafka {:?}",
                    mine.results, theirs.results
                ));
            }
        }
        assert!(wrong.is_empty(), "CreateAcls v{v} refusals:\n{}", wrong.join("\n"));
        for f in FILTERS {
            let mine = describe(&mut o, v, f);
            agree(&format!("DescribeAcls v{v} {f:?}"), mine, || describe(&mut k, v, f));
        }
        let filters = [FILTERS[2], FILTERS[6]];
        let mine = delete(&mut o, v, &filters);
        assert_eq!(mine, delete(&mut k, v, &filters), "DeleteAcls v{v}");
        let mine = delete(&mut o, v, &[ANY_FILTER]);
        let theirs = delete(&mut k, v, &[ANY_FILTER]);
        assert_eq!(mine, theirs, "DeleteAcls v{v} of everything");
        agree("empty again", describe(&mut o, v, ANY_FILTER), || describe(&mut k, v, ANY_FILTER));
    }
    // The authorized operations a super user is told: every operation Kafka supports on
    // the cluster and on a group.
    {
        use kafka_protocol::messages::{
            DescribeClusterRequest, DescribeClusterResponse, DescribeGroupsRequest,
            DescribeGroupsResponse, GroupId,
        };
        let dc = DescribeClusterRequest::default().with_include_cluster_authorized_operations(true);
        let ops = |c: &mut Client| {
            let r: DescribeClusterResponse = c.kp_call(1, &dc);
            r.cluster_authorized_operations
        };
        assert_eq!(ops(&mut o), ops(&mut k), "DescribeCluster's operations");
        let dg = DescribeGroupsRequest::default()
            .with_groups(vec![GroupId(sb("nosuch"))])
            .with_include_authorized_operations(true);
        let ops = |c: &mut Client| {
            let r: DescribeGroupsResponse = c.kp_call(5, &dg);
            (r.groups[0].error_code, r.groups[0].authorized_operations)
        };
        // FindCoordinator makes Kafka create `__consumer_offsets`; it answers
        // NOT_COORDINATOR until the partition is loaded.
        let fc = kafka_protocol::messages::FindCoordinatorRequest::default()
            .with_coordinator_keys(vec![sb("nosuch")]);
        let _: kafka_protocol::messages::FindCoordinatorResponse = k.kp_call(4, &fc);
        agree("DescribeGroups' operations", ops(&mut o), || ops(&mut k));
    }
    // A filter with an UNKNOWN code fails the request's parsing: both close the connection.
    for c in [&mut o, &mut k] {
        let req = DeleteAclsRequest::default()
            .with_filters(vec![delete_filter((0, None, 1, None, None, 1, 1))]);
        let mut body = Vec::new();
        kafka_protocol::protocol::Encodable::encode(&req, &mut body, 3).unwrap();
        c.send(31, 3, &body);
        c.expect_closed();
    }
}

// ----- enforcement ---------------------------------------------------------------------------

const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;

/// A broker with the authorizer on, `User:admin` a super user, and a SASL listener whose
/// PLAIN users are admin, alice and bob; returns it and the SASL listener's address.
fn secured(dir: &std::path::Path) -> (Broker, std::net::SocketAddr) {
    let jaas = "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.\
                security.plain.PlainLoginModule required user_admin=\"a\" user_alice=\"b\" \
                user_bob=\"c\";";
    let b = Broker::start_with(
        dir,
        &[
            "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
            "sasl.enabled.mechanisms=PLAIN",
            jaas,
            AUTHORIZER,
            "super.users=User:admin",
        ],
    );
    let line =
        b.logs.lines().into_iter().find(|l| l.contains("listener SASL_PLAINTEXT on ")).unwrap();
    let at = &line[line.find(" on ").unwrap() + 4..];
    let addr = at.split_whitespace().next().unwrap().parse().unwrap();
    (b, addr)
}

fn login(addr: std::net::SocketAddr, user: &str, password: &str) -> Client {
    use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
    let mut c = Client::connect(addr);
    let r = c.kp_call(1, &SaslHandshakeRequest::default().with_mechanism(sb("PLAIN")));
    assert_eq!(r.error_code, 0);
    let token = format!("\0{user}\0{password}").into_bytes();
    let r = c.kp_call(2, &SaslAuthenticateRequest::default().with_auth_bytes(token.into()));
    assert_eq!(r.error_code, 0, "{user}");
    c
}

fn produce_code(c: &mut Client, topic: &str) -> i16 {
    c.produce(&[(topic, vec![(0, Some(batch(0, &[b"v"])))])]).partition(topic, 0).error_code
}

/// (name, error) of Metadata v12 for `topics` (None: all).
fn metadata(c: &mut Client, topics: Option<&[&str]>) -> Vec<(String, i16)> {
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafka_protocol::messages::{MetadataRequest, TopicName};
    let req = MetadataRequest::default().with_allow_auto_topic_creation(false).with_topics(
        topics.map(|ts| {
            ts.iter()
                .map(|t| MetadataRequestTopic::default().with_name(Some(TopicName(sb(t)))))
                .collect()
        }),
    );
    let mut v: Vec<(String, i16)> = c
        .kp_call(12, &req)
        .topics
        .into_iter()
        .map(|t| (t.name.map(|n| n.to_string()).unwrap_or_default(), t.error_code))
        .filter(|(n, _)| !n.starts_with("__"))
        .collect();
    v.sort();
    v
}

#[test]
fn acls_an_admin_creates_allow_one_user_and_deny_another() {
    let dir = TempDir::new("acl-enforce");
    let (b, sasl) = secured(dir.path());
    let mut admin = login(sasl, "admin", "a");
    let orders = create_topic_with(&mut admin, "orders", &[]);
    create_topic_with(&mut admin, "secret", &[]);
    let grants: [Acl; 3] = [
        (2, "orders", 3, "User:alice", "*", 4, 3), // WRITE orders
        (3, "g1", 3, "User:alice", "*", 3, 3),     // READ group g1
        (2, "secret", 3, "User:bob", "*", 2, 2),   // DENY ALL on secret
    ];
    assert!(create(&mut admin, 3, &grants).results.iter().all(|r| r.error_code == 0));

    let mut alice = login(sasl, "alice", "b");
    assert_eq!(produce_code(&mut alice, "orders"), 0);
    assert_eq!(produce_code(&mut alice, "secret"), TOPIC_AUTHORIZATION_FAILED);
    assert_eq!(produce_code(&mut alice, "nonexistent"), TOPIC_AUTHORIZATION_FAILED);
    // WRITE implies DESCRIBE: alice sees orders only.
    assert_eq!(metadata(&mut alice, None), vec![("orders".to_string(), 0)]);
    assert_eq!(
        metadata(&mut alice, Some(&["orders", "secret"])),
        vec![("orders".to_string(), 0), ("secret".to_string(), TOPIC_AUTHORIZATION_FAILED)]
    );
    // No READ: her fetch of orders is refused.
    let f = alice.fetch(&FetchReq::default().topic(orders, vec![fp(0, 0)]));
    assert_eq!(f.partition(&orders, 0).error_code, TOPIC_AUTHORIZATION_FAILED);
    // Groups: g1 is hers, g2 is not.
    let coordinator = |c: &mut Client, g: &str| {
        use kafka_protocol::messages::FindCoordinatorRequest;
        let r = c.kp_call(4, &FindCoordinatorRequest::default().with_coordinator_keys(vec![sb(g)]));
        r.coordinators[0].error_code
    };
    assert_eq!(coordinator(&mut alice, "g1"), 0);
    assert_eq!(coordinator(&mut alice, "g2"), GROUP_AUTHORIZATION_FAILED);
    // She may not change ACLs.
    assert_eq!(
        create(&mut alice, 3, &grants[..1]).results[0].error_code,
        CLUSTER_AUTHORIZATION_FAILED
    );

    let mut bob = login(sasl, "bob", "c");
    assert_eq!(produce_code(&mut bob, "orders"), TOPIC_AUTHORIZATION_FAILED);
    assert_eq!(metadata(&mut bob, None), vec![]);
    // The anonymous PLAINTEXT listener has no ACLs either.
    let mut anonymous = b.connect();
    assert_eq!(produce_code(&mut anonymous, "orders"), TOPIC_AUTHORIZATION_FAILED);
    // The admin (a super user) is never refused.
    assert_eq!(produce_code(&mut admin, "secret"), 0);
    assert_eq!(
        metadata(&mut admin, None),
        vec![("orders".to_string(), 0), ("secret".to_string(), 0)]
    );
    // Revoking alice's WRITE takes effect at once.
    let r = delete(&mut admin, 3, &[(2, Some("orders"), 3, Some("User:alice"), None, 1, 1)]);
    assert_eq!(r.filter_results[0].matching_acls.len(), 1);
    assert_eq!(produce_code(&mut alice, "orders"), TOPIC_AUTHORIZATION_FAILED);
}

const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
const OPERATION_NOT_ATTEMPTED: i16 = 55;

/// Every other API with Kafka's checks: alice may do ALL on topic `orders`, group `g1` and
/// transactional id `tx1`, nothing on `secret`, `g2`, `tx2` or the cluster; each API is asked
/// once allowed and once denied.
#[test]
fn acls_every_api_checks_as_kafka() {
    use kafka_protocol::messages::*;
    let dir = TempDir::new("acl-apis");
    let (_b, sasl) = secured(dir.path());
    let mut admin = login(sasl, "admin", "a");
    create_topic_with(&mut admin, "orders", &[]);
    create_topic_with(&mut admin, "secret", &[]);
    let grants: [Acl; 3] = [
        (2, "orders", 3, "User:alice", "*", 2, 3),
        (3, "g1", 3, "User:alice", "*", 2, 3),
        (5, "tx1", 3, "User:alice", "*", 2, 3),
    ];
    assert!(create(&mut admin, 3, &grants).results.iter().all(|r| r.error_code == 0));
    let mut alice = login(sasl, "alice", "b");
    let mut bob = login(sasl, "bob", "c");
    let tn = |s: &str| TopicName(sb(s));

    // DescribeConfigs: the authorized resources first, then the denied ones.
    let res = |t: i8, n: &str| {
        describe_configs_request::DescribeConfigsResource::default()
            .with_resource_type(t)
            .with_resource_name(sb(n))
    };
    let req = DescribeConfigsRequest::default().with_resources(vec![
        res(2, "secret"),
        res(2, "orders"),
        res(4, ""),
    ]);
    let r: DescribeConfigsResponse = alice.kp_call(4, &req);
    let got: Vec<(String, i16)> =
        r.results.iter().map(|x| (x.resource_name.to_string(), x.error_code)).collect();
    let want = [("orders", 0), ("secret", TOPIC_AUTHORIZATION_FAILED), ("", 31)];
    assert_eq!(got, want.map(|(n, c)| (n.to_string(), c)));
    assert_eq!(r.results[1].error_message.as_deref(), Some("Topic authorization failed."));

    // IncrementalAlterConfigs and AlterConfigs: the denied ones first.
    let alter = |n: &str| {
        incremental_alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(sb(n))
            .with_configs(vec![incremental_alter_configs_request::AlterableConfig::default()
                .with_name(sb("retention.ms"))
                .with_config_operation(0)
                .with_value(Some(sb("100000")))])
    };
    let req = IncrementalAlterConfigsRequest::default()
        .with_resources(vec![alter("orders"), alter("secret")]);
    let r: IncrementalAlterConfigsResponse = alice.kp_call(1, &req);
    let got: Vec<(String, i16)> =
        r.responses.iter().map(|x| (x.resource_name.to_string(), x.error_code)).collect();
    assert_eq!(got, [("secret".into(), TOPIC_AUTHORIZATION_FAILED), ("orders".into(), 0)]);
    let req = AlterConfigsRequest::default().with_resources(vec![
        alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(sb("1")),
    ]);
    let r: AlterConfigsResponse = alice.kp_call(2, &req);
    assert_eq!(r.responses[0].error_code, CLUSTER_AUTHORIZATION_FAILED);

    // CreatePartitions (ALTER), DeleteRecords (DELETE), OffsetForLeaderEpoch (DESCRIBE),
    // DescribeProducers (READ).
    let cp = |n: &str| {
        create_partitions_request::CreatePartitionsTopic::default()
            .with_name(tn(n))
            .with_count(2)
            .with_assignments(None)
    };
    let r: CreatePartitionsResponse = alice.kp_call(
        3,
        &CreatePartitionsRequest::default().with_topics(vec![cp("orders"), cp("secret")]),
    );
    let got: Vec<(String, i16)> =
        r.results.iter().map(|x| (x.name.to_string(), x.error_code)).collect();
    assert_eq!(got, [("secret".into(), TOPIC_AUTHORIZATION_FAILED), ("orders".into(), 0)]);
    let dr = |n: &str| {
        delete_records_request::DeleteRecordsTopic::default().with_name(tn(n)).with_partitions(
            vec![delete_records_request::DeleteRecordsPartition::default().with_offset(0)],
        )
    };
    let r: DeleteRecordsResponse = alice
        .kp_call(2, &DeleteRecordsRequest::default().with_topics(vec![dr("orders"), dr("secret")]));
    let codes: Vec<i16> = r.topics.iter().map(|t| t.partitions[0].error_code).collect();
    assert_eq!(codes, [0, TOPIC_AUTHORIZATION_FAILED]);
    let oe = |n: &str| {
        offset_for_leader_epoch_request::OffsetForLeaderTopic::default()
            .with_topic(tn(n))
            .with_partitions(vec![
                offset_for_leader_epoch_request::OffsetForLeaderPartition::default()
                    .with_current_leader_epoch(-1),
            ])
    };
    let r: OffsetForLeaderEpochResponse = alice.kp_call(
        4,
        &OffsetForLeaderEpochRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![oe("orders"), oe("secret")]),
    );
    let codes: Vec<i16> = r.topics.iter().map(|t| t.partitions[0].error_code).collect();
    assert_eq!(codes, [0, TOPIC_AUTHORIZATION_FAILED]);
    let dp = |n: &str| {
        describe_producers_request::TopicRequest::default()
            .with_name(tn(n))
            .with_partition_indexes(vec![0])
    };
    let r: DescribeProducersResponse = alice.kp_call(
        0,
        &DescribeProducersRequest::default().with_topics(vec![dp("orders"), dp("secret")]),
    );
    let codes: Vec<i16> = r.topics.iter().map(|t| t.partitions[0].error_code).collect();
    assert_eq!(codes, [0, TOPIC_AUTHORIZATION_FAILED]);

    // DescribeLogDirs: DESCRIBE on the cluster.
    let r: DescribeLogDirsResponse = alice.kp_call(4, &DescribeLogDirsRequest::default());
    assert_eq!((r.error_code, r.results.len()), (CLUSTER_AUTHORIZATION_FAILED, 0));
    let r: DescribeLogDirsResponse = admin.kp_call(4, &DescribeLogDirsRequest::default());
    assert_eq!((r.error_code, r.results.len()), (0, 1));

    // DescribeCluster: the operations alice's ACLs give on the cluster (none), the admin's all.
    let dc = DescribeClusterRequest::default().with_include_cluster_authorized_operations(true);
    let r: DescribeClusterResponse = alice.kp_call(1, &dc);
    assert_eq!(r.cluster_authorized_operations, 0);
    let r: DescribeClusterResponse = admin.kp_call(1, &dc);
    assert_eq!(r.cluster_authorized_operations, 0x1ea0 | 1 << 5 | 1 << 7 | 1 << 8);

    // DescribeTopicPartitions: named and denied last; a listing leaves it out.
    let dtp = |names: &[&str]| {
        DescribeTopicPartitionsRequest::default().with_response_partition_limit(100).with_topics(
            names
                .iter()
                .map(|n| {
                    describe_topic_partitions_request::TopicRequest::default().with_name(tn(n))
                })
                .collect(),
        )
    };
    let r: DescribeTopicPartitionsResponse = alice.kp_call(0, &dtp(&["secret", "orders"]));
    let got: Vec<(String, i16, i32)> = r
        .topics
        .iter()
        .map(|t| {
            (t.name.as_ref().unwrap().to_string(), t.error_code, t.topic_authorized_operations)
        })
        .collect();
    let all_topic_ops = 0x0df8;
    assert_eq!(
        got,
        [
            ("orders".into(), 0, all_topic_ops),
            ("secret".into(), TOPIC_AUTHORIZATION_FAILED, i32::MIN)
        ]
    );
    let r: DescribeTopicPartitionsResponse = alice.kp_call(0, &dtp(&[]));
    let names: Vec<String> = r
        .topics
        .iter()
        .map(|t| t.name.as_ref().unwrap().to_string())
        .filter(|n| !n.starts_with("__"))
        .collect();
    assert_eq!(names, ["orders"]);

    // Groups: the admin commits offsets for g1 and g2 so both exist.
    for g in ["g1", "g2"] {
        let req = OffsetCommitRequest::default()
            .with_group_id(GroupId(sb(g)))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(sb(""))
            .with_topics(vec![offset_commit_request::OffsetCommitRequestTopic::default()
                .with_name(tn("orders"))
                .with_partitions(vec![
                    offset_commit_request::OffsetCommitRequestPartition::default()
                        .with_committed_offset(0),
                ])]);
        let r: OffsetCommitResponse = admin.kp_call(8, &req);
        assert_eq!(r.topics[0].partitions[0].error_code, 0);
    }
    let dg = DescribeGroupsRequest::default()
        .with_groups(vec![GroupId(sb("g1")), GroupId(sb("g2"))])
        .with_include_authorized_operations(true);
    let r: DescribeGroupsResponse = alice.kp_call(5, &dg);
    let got: Vec<(i16, i32)> =
        r.groups.iter().map(|g| (g.error_code, g.authorized_operations)).collect();
    // READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
    let group_ops = 1 << 3 | 1 << 6 | 1 << 8 | 1 << 10 | 1 << 11;
    // The denied groups first, as Kafka.
    assert_eq!(got, [(GROUP_AUTHORIZATION_FAILED, i32::MIN), (0, group_ops)]);
    let listed = |c: &mut Client| {
        let r: ListGroupsResponse = c.kp_call(4, &ListGroupsRequest::default());
        let mut v: Vec<String> = r.groups.iter().map(|g| g.group_id.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(listed(&mut alice), ["g1"]);
    assert_eq!(listed(&mut admin), ["g1", "g2"]);
    let od = |g: &str| {
        OffsetDeleteRequest::default().with_group_id(GroupId(sb(g))).with_topics(
            ["orders", "secret"]
                .iter()
                .map(|n| {
                    offset_delete_request::OffsetDeleteRequestTopic::default()
                        .with_name(tn(n))
                        .with_partitions(vec![
                            offset_delete_request::OffsetDeleteRequestPartition::default(),
                        ])
                })
                .collect(),
        )
    };
    let r: OffsetDeleteResponse = alice.kp_call(0, &od("g2"));
    assert_eq!((r.error_code, r.topics.len()), (GROUP_AUTHORIZATION_FAILED, 0));
    let r: OffsetDeleteResponse = alice.kp_call(0, &od("g1"));
    let got: Vec<(String, i16)> =
        r.topics.iter().map(|t| (t.name.to_string(), t.partitions[0].error_code)).collect();
    assert_eq!(got, [("secret".into(), TOPIC_AUTHORIZATION_FAILED), ("orders".into(), 0)]);
    let r: DeleteGroupsResponse = alice.kp_call(
        2,
        &DeleteGroupsRequest::default()
            .with_groups_names(vec![GroupId(sb("g1")), GroupId(sb("g2"))]),
    );
    let codes: Vec<i16> = r.results.iter().map(|g| g.error_code).collect();
    assert_eq!(codes, [0, GROUP_AUTHORIZATION_FAILED]);

    // InitProducerId: WRITE on the transactional id; idempotent: IDEMPOTENT_WRITE on the
    // cluster or WRITE on some topic (alice has one, bob none).
    let init = |c: &mut Client, tid: Option<&str>| {
        let req = InitProducerIdRequest::default()
            .with_transactional_id(tid.map(|t| TransactionalId(sb(t))))
            .with_transaction_timeout_ms(60_000)
            .with_producer_id((-1).into())
            .with_producer_epoch(-1);
        let r: InitProducerIdResponse = c.kp_call(4, &req);
        (r.error_code, i64::from(r.producer_id), r.producer_epoch)
    };
    let (code, pid, epoch) = init(&mut alice, Some("tx1"));
    assert_eq!(code, 0);
    assert_eq!(init(&mut alice, Some("tx2")).0, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert_eq!(init(&mut alice, None).0, 0);
    assert_eq!(init(&mut bob, None).0, CLUSTER_AUTHORIZATION_FAILED);

    // AddPartitionsToTxn v3: WRITE on the id, then on each topic.
    let apt = |tid: &str, topics: &[&str]| {
        AddPartitionsToTxnRequest::default()
            .with_v3_and_below_transactional_id(TransactionalId(sb(tid)))
            .with_v3_and_below_producer_id(pid.into())
            .with_v3_and_below_producer_epoch(epoch)
            .with_v3_and_below_topics(
                topics
                    .iter()
                    .map(|n| {
                        add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                            .with_name(tn(n))
                            .with_partitions(vec![0])
                    })
                    .collect(),
            )
    };
    let codes = |r: AddPartitionsToTxnResponse| -> Vec<(String, i16)> {
        r.results_by_topic_v3_and_below
            .iter()
            .map(|t| (t.name.to_string(), t.results_by_partition[0].partition_error_code))
            .collect()
    };
    let r = alice.kp_call(3, &apt("tx2", &["orders"]));
    assert_eq!(codes(r), [("orders".into(), TRANSACTIONAL_ID_AUTHORIZATION_FAILED)]);
    let r = alice.kp_call(3, &apt("tx1", &["orders", "secret"]));
    assert_eq!(
        codes(r),
        [("secret".into(), TOPIC_AUTHORIZATION_FAILED), ("orders".into(), OPERATION_NOT_ATTEMPTED)]
    );
    let r = alice.kp_call(3, &apt("tx1", &["orders"]));
    assert_eq!(codes(r), [("orders".into(), 0)]);

    // AddOffsetsToTxn: WRITE on the id, READ on the group.
    let aot = |tid: &str, g: &str| {
        AddOffsetsToTxnRequest::default()
            .with_transactional_id(TransactionalId(sb(tid)))
            .with_producer_id(pid.into())
            .with_producer_epoch(epoch)
            .with_group_id(GroupId(sb(g)))
    };
    let code = |c: &mut Client, req: &AddOffsetsToTxnRequest| {
        let r: AddOffsetsToTxnResponse = c.kp_call(3, req);
        r.error_code
    };
    assert_eq!(code(&mut alice, &aot("tx2", "g1")), TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert_eq!(code(&mut alice, &aot("tx1", "g2")), GROUP_AUTHORIZATION_FAILED);
    assert_eq!(code(&mut alice, &aot("tx1", "g1")), 0);

    // TxnOffsetCommit: WRITE on the id, READ on the group and on each topic.
    let toc = |tid: &str, g: &str| {
        TxnOffsetCommitRequest::default()
            .with_transactional_id(TransactionalId(sb(tid)))
            .with_group_id(GroupId(sb(g)))
            .with_producer_id(pid.into())
            .with_producer_epoch(epoch)
            .with_generation_id(-1)
            .with_member_id(sb(""))
            .with_topics(
                ["orders", "secret"]
                    .iter()
                    .map(|n| {
                        txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                            .with_name(tn(n))
                            .with_partitions(vec![
                                txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                                    .with_committed_offset(0),
                            ])
                    })
                    .collect(),
            )
    };
    let codes = |c: &mut Client, req: &TxnOffsetCommitRequest| -> Vec<(String, i16)> {
        let r: TxnOffsetCommitResponse = c.kp_call(3, req);
        r.topics.iter().map(|t| (t.name.to_string(), t.partitions[0].error_code)).collect()
    };
    let all = |code: i16| vec![("orders".to_string(), code), ("secret".to_string(), code)];
    assert_eq!(codes(&mut alice, &toc("tx2", "g1")), all(TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
    assert_eq!(codes(&mut alice, &toc("tx1", "g2")), all(GROUP_AUTHORIZATION_FAILED));
    assert_eq!(
        codes(&mut alice, &toc("tx1", "g1")),
        [("secret".into(), TOPIC_AUTHORIZATION_FAILED), ("orders".into(), 0)]
    );

    // DescribeTransactions and ListTransactions: DESCRIBE on the id.
    let req = DescribeTransactionsRequest::default()
        .with_transactional_ids(vec![TransactionalId(sb("tx1")), TransactionalId(sb("tx2"))]);
    let r: DescribeTransactionsResponse = alice.kp_call(0, &req);
    let codes: Vec<i16> = r.transaction_states.iter().map(|t| t.error_code).collect();
    assert_eq!(codes, [0, TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);
    let listed = |c: &mut Client| {
        let r: ListTransactionsResponse = c.kp_call(0, &ListTransactionsRequest::default());
        r.transaction_states.iter().map(|t| t.transactional_id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(listed(&mut alice), ["tx1"]);
    assert!(listed(&mut bob).is_empty());

    // Produce of transactional records: WRITE on the request's transactional id, for every
    // partition of the request.
    let produce = |c: &mut Client, tid: &str| {
        let mut records = BatchBuilder::new(0, TS).producer(pid, epoch, 0).transactional();
        records.push(None, Some(b"t"), &[]);
        let req = ProduceRequest::default()
            .with_transactional_id(Some(TransactionalId(sb(tid))))
            .with_acks(-1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![produce_request::TopicProduceData::default()
                .with_name(tn("orders"))
                .with_partition_data(vec![produce_request::PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(records.finish().into()))])]);
        let r: ProduceResponse = c.kp_call(9, &req);
        r.responses[0].partition_responses[0].error_code
    };
    assert_eq!(produce(&mut alice, "tx2"), TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert_eq!(produce(&mut alice, "tx1"), 0);

    // EndTxn: WRITE on the id.
    let end = |tid: &str| {
        EndTxnRequest::default()
            .with_transactional_id(TransactionalId(sb(tid)))
            .with_producer_id(pid.into())
            .with_producer_epoch(epoch)
            .with_committed(false)
    };
    let r: EndTxnResponse = alice.kp_call(3, &end("tx2"));
    assert_eq!(r.error_code, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    let r: EndTxnResponse = alice.kp_call(3, &end("tx1"));
    assert_eq!(r.error_code, 0);
}
