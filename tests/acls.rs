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
