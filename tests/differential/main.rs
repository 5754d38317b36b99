//! Differential conformance: the same requests to Apache Kafka and to minikafka, the answers
//! decoded by kafka-protocol and compared field by field after normalising only what must
//! differ (cluster and topic ids, member and producer ids, hosts and ports, throttle times).
//! The scenarios are data (scenarios.rs); each difference is either a bug to fix or a listed
//! deviation (DEVIATIONS below, and the README's table) with its reason.
//!
//! One Kafka and one minikafka serve every scenario: a JVM start costs seconds on this machine.

mod broker_configs;
#[path = "../common/mod.rs"]
mod common;
mod compaction;
mod compression;
mod configs;
mod group_admin;
mod harness;
mod logs;
mod scenarios;
mod security;
mod timestamps;
mod transactions;
mod txn_admin;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreateTopicsRequest, DescribeGroupsRequest, FindCoordinatorRequest,
    GroupId, ResponseKind, TopicName,
};
use kafka_protocol::protocol::{Encodable, StrBytes};

use common::kafka::{Kafka, KafkaOptions};
use common::{Broker, TempDir};
use harness::{diff, Outcome, Scenario, Side};
use uuid::Uuid;

/// Settings both brokers get, so that they are configured alike where the defaults of a
/// test differ from production (no initial rebalance delay: the group scenarios stay quick).
/// Retention's first check is put off past the run: the scenarios' batches carry a 2024
/// timestamp that the default week of retention would delete, at moments that differ between
/// the brokers by however long each took to start.
/// The cleaner looks for work often, so the compaction scenarios need not wait its 15 s;
/// retention is given in minutes so that the brokers' static units are compared too (a
/// coarser unit is not a synonym of `retention.ms` in DescribeConfigs, but is in CreateTopics).
const SETTINGS: [(&str, &str); 4] = [
    ("group.initial.rebalance.delay.ms", "0"),
    ("log.initial.task.delay.ms", "3600000"),
    ("log.cleaner.backoff.ms", "100"),
    ("log.retention.minutes", "90"),
];

/// Differences accepted on purpose: (scenario name contains, diff line contains, why).
/// Each is listed in the README's table of deviations.
const DEVIATIONS: &[(&str, &str, &str)] = &[(
    "metadata auto-creation",
    "",
    "a topic auto-created by Metadata is created before the answer, which describes it; Kafka \
     answers UNKNOWN_TOPIC_OR_PARTITION while its controller creates the topic",
)];

struct Brokers {
    kafka: Kafka,
    ours: Broker,
    _dirs: TempDir,
}

fn start() -> Brokers {
    let dirs = TempDir::new("differential");
    let mut opts = KafkaOptions::default();
    for (k, v) in SETTINGS {
        opts = opts.set(k, v);
    }
    let kafka = Kafka::start_fresh(dirs.path(), &opts);
    let overrides: Vec<String> = SETTINGS.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let refs: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let ours = Broker::start_with(&dirs.join("minikafka-logs"), &refs);
    let b = Brokers { kafka, ours, _dirs: dirs };
    settle_groups(&b);
    settle_producer_ids(&b);
    b
}

/// Creates every scenario's topics on both brokers in one request, then waits until each
/// partition answers ListOffsets without error (Kafka's replica has become leader).
fn create_topics(b: &Brokers, all: &[Scenario]) -> [HashMap<String, Uuid>; 2] {
    let topics: Vec<(String, i32)> = all.iter().flat_map(|s| s.topics.clone()).collect();
    let mut ids = [HashMap::new(), HashMap::new()];
    for (side_ids, (name, addr)) in
        ids.iter_mut().zip([("kafka", b.kafka.addr), ("minikafka", b.ours.addr)])
    {
        let mut side = Side::new(name, addr);
        let t = topics.clone();
        let create = Scenario::new("topics").setup(ApiKey::CreateTopics, 7, move |_, _| {
            CreateTopicsRequest::default()
                .with_topics(
                    t.iter()
                        .map(|(n, p)| {
                            CreatableTopic::default()
                                .with_name(TopicName(StrBytes::from_string(n.clone())))
                                .with_num_partitions(*p)
                                .with_replication_factor(1)
                        })
                        .collect(),
                )
                .with_timeout_ms(60_000)
                .into()
        });
        let (_, r) = side.run(&create.steps[0]);
        let Some(ResponseKind::CreateTopics(r)) = r else { panic!("{name}: CreateTopics") };
        for t in &r.topics {
            assert_eq!(t.error_code, 0, "{name}: creating {:?}", t.name);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        for (topic, partitions) in &topics {
            for p in 0..*partitions {
                loop {
                    let tn = topic.clone();
                    let probe =
                        Scenario::new("probe").setup(ApiKey::ListOffsets, 7, move |_, _| {
                            scenarios::list_offsets(&tn, p, -1)
                        });
                    let (_, r) = side.run(&probe.steps[0]);
                    let Some(ResponseKind::ListOffsets(r)) = r else { panic!("ListOffsets") };
                    if r.topics[0].partitions[0].error_code == 0 {
                        break;
                    }
                    assert!(Instant::now() < deadline, "{name}: {topic}-{p} never ready");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        *side_ids = side.ctx.topic_ids.clone();
    }
    ids
}

/// Kafka hands out producer ids from blocks its controller allocates; until the first block
/// arrives InitProducerId answers COORDINATOR_LOAD_IN_PROGRESS.
fn settle_producer_ids(b: &Brokers) {
    let mut side = Side::new("kafka", b.kafka.addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let init = Scenario::new("init")
            .setup(ApiKey::InitProducerId, 4, |_, _| scenarios::init_producer_id());
        let (_, r) = side.run(&init.steps[0]);
        let Some(ResponseKind::InitProducerId(r)) = r else { panic!("InitProducerId") };
        if r.error_code == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "Kafka never handed out a producer id");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kafka creates `__consumer_offsets` on the first FindCoordinator and then loads its
/// partitions; until then group requests get COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR or
/// COORDINATOR_LOAD_IN_PROGRESS. Wait (with a deadline) until every group the scenarios use
/// has a coordinator that is ready, on both brokers.
fn settle_groups(b: &Brokers) {
    let groups = scenarios::group_names();
    for (name, addr) in [("kafka", b.kafka.addr), ("minikafka", b.ours.addr)] {
        let mut side = Side::new(name, addr);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let g = groups.clone();
            let probe = Scenario::new("settle").setup(ApiKey::DescribeGroups, 5, move |_, _| {
                DescribeGroupsRequest::default()
                    .with_groups(
                        g.iter().map(|g| GroupId(StrBytes::from_string(g.clone()))).collect(),
                    )
                    .into()
            });
            let find = Scenario::new("settle").setup(ApiKey::FindCoordinator, 4, move |_, _| {
                FindCoordinatorRequest::default()
                    .with_coordinator_keys(vec![StrBytes::from_static_str("grp-0")])
                    .into()
            });
            side.run(&find.steps[0]);
            let (_, r) = side.run(&probe.steps[0]);
            let Some(ResponseKind::DescribeGroups(r)) = r else { panic!("DescribeGroups probe") };
            if r.groups.iter().all(|g| ![14, 15, 16].contains(&g.error_code)) {
                break;
            }
            assert!(Instant::now() < deadline, "{name}: group coordinator never ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Runs one scenario on both brokers, step by step; returns the report of its differences
/// that no deviation accepts, and how many steps were judged.
fn run(
    sc: &Scenario,
    b: &Brokers,
    ids: &[HashMap<String, Uuid>; 2],
    used: &mut [usize],
) -> (String, usize) {
    let mut kafka = Side::new("kafka", b.kafka.addr);
    let mut ours = Side::new("minikafka", b.ours.addr);
    kafka.ctx.topic_ids = ids[0].clone();
    ours.ctx.topic_ids = ids[1].clone();
    let mut report = String::new();
    let mut judged = 0;
    for (i, step) in sc.steps.iter().enumerate() {
        let t = Instant::now();
        let (k, _) = kafka.run(step);
        let tk = t.elapsed();
        let (o, _) = ours.run(step);
        let to = t.elapsed() - tk;
        if tk + to > Duration::from_secs(2) {
            eprintln!("slow: {} step {i}: kafka {tk:?}, minikafka {to:?}", sc.name);
        }
        if matches!(k, Outcome::Skipped) && matches!(o, Outcome::Skipped) {
            continue;
        }
        judged += 1;
        if k == o {
            continue;
        }
        let what = format!("step {i}: {:?} v{}", step.api, step.version);
        match (&k, &o) {
            (Outcome::Answer(ka), Outcome::Answer(oa)) => {
                let d = diff(ka, oa);
                let unexplained: Vec<&str> = d
                    .lines()
                    .filter(|l| l.starts_with('-') || l.starts_with('+'))
                    .filter(|l| {
                        let hit = DEVIATIONS
                            .iter()
                            .position(|(s, pat, _)| sc.name.contains(s) && l.contains(pat));
                        if let Some(i) = hit {
                            used[i] += 1;
                        }
                        hit.is_none()
                    })
                    .collect();
                if !unexplained.is_empty() {
                    let _ = writeln!(report, "  {what} (- kafka, + minikafka):\n{d}");
                }
            }
            _ => {
                let _ = writeln!(report, "  {what}: kafka {k:?}, minikafka {o:?}");
            }
        }
    }
    (report, judged)
}

#[test]
fn same_answers_as_apache_kafka() {
    let brokers = start();
    api_versions_ranges(&brokers);
    // DIFFERENTIAL_ONLY=text runs only the scenarios whose name contains it (while working
    // on them; the deviation bookkeeping is then skipped).
    let only = std::env::var("DIFFERENTIAL_ONLY").ok();
    let mut all = scenarios::all();
    if let Some(only) = &only {
        all.retain(|s| s.name.contains(only.as_str()));
    }
    let ids = create_topics(&brokers, &all);
    let mut failures = String::new();
    let mut steps = 0;
    let mut used = vec![0; DEVIATIONS.len()];
    for sc in &all {
        let (report, judged) = run(sc, &brokers, &ids, &mut used);
        steps += judged;
        if !report.is_empty() {
            let _ = writeln!(failures, "scenario {:?}:\n{report}", sc.name);
        }
    }
    eprintln!("differential: {} scenarios, {steps} judged steps", all.len());
    assert!(failures.is_empty(), "minikafka and Apache Kafka disagree:\n{failures}");
    // A deviation nothing needs any more is to be removed (here and from the README).
    for ((scenario, _, _), n) in DEVIATIONS.iter().zip(&used).filter(|_| only.is_none()) {
        assert!(*n > 0, "the deviation for {scenario:?} no longer differs");
    }
}

/// ApiVersions is compared as ranges: minikafka advertises a subset of Kafka's APIs, and for
/// each one a range Kafka also serves (so a client meets the same behaviour on every version
/// we take); where our range starts or ends elsewhere, the README says why.
fn api_versions_ranges(b: &Brokers) {
    for v in scenarios::versions(ApiKey::ApiVersions) {
        let step = Scenario::new("api_versions").step(ApiKey::ApiVersions, v, |_, v| {
            let r = ApiVersionsRequest::default();
            if v >= 3 {
                r.with_client_software_name(StrBytes::from_static_str("differential"))
                    .with_client_software_version(StrBytes::from_static_str("1"))
                    .into()
            } else {
                r.into()
            }
        });
        let step = &step.steps[0];
        let (_, k) = Side::new("kafka", b.kafka.addr).run(step);
        let (_, o) = Side::new("minikafka", b.ours.addr).run(step);
        let (Some(ResponseKind::ApiVersions(k)), Some(ResponseKind::ApiVersions(o))) = (k, o)
        else {
            panic!("ApiVersions v{v} not answered by both");
        };
        assert_eq!((k.error_code, o.error_code), (0, 0), "ApiVersions v{v}");
        for ours in &o.api_keys {
            let theirs = k
                .api_keys
                .iter()
                .find(|a| a.api_key == ours.api_key)
                .unwrap_or_else(|| panic!("Kafka does not serve API {}", ours.api_key));
            assert!(
                theirs.min_version <= ours.min_version && ours.max_version <= theirs.max_version,
                "API {} v{}-{} is outside Kafka's v{}-{}",
                ours.api_key,
                ours.min_version,
                ours.max_version,
                theirs.min_version,
                theirs.max_version
            );
        }
    }
    // An unknown version: both answer in v0 with UNSUPPORTED_VERSION and their ApiVersions
    // range (so a client can retry with one they share).
    let mut body = BytesMut::new();
    ApiVersionsRequest::default().encode(&mut body, 3).unwrap();
    let (k, ko) = raw_call(b.kafka.addr, 18, 99, &body);
    let (o, oo) = raw_call(b.ours.addr, 18, 99, &body);
    assert_eq!(&k[..2], &[0, 35], "Kafka: UNSUPPORTED_VERSION");
    assert_eq!(&o[..2], &[0, 35], "minikafka: UNSUPPORTED_VERSION");
    // Both name ApiVersions from v0 (the maxima differ: see the ranges above).
    assert_eq!((&ko[..4], &oo[..4]), (&[0, 18, 0, 0][..], &[0, 18, 0, 0][..]));
}

/// Sends one frame with header v2 and returns (body, the entry for ApiVersions in a v0 body).
fn raw_call(addr: std::net::SocketAddr, key: i16, version: i16, body: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut c = common::Client::connect(addr);
    let mut frame = Vec::new();
    frame.extend_from_slice(&key.to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&1i32.to_be_bytes());
    frame.extend_from_slice(&(-1i16).to_be_bytes());
    frame.push(0);
    frame.extend_from_slice(body);
    let mut out = (frame.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&frame);
    c.send_raw(&out);
    let resp = c.recv_frame();
    let body = resp[4..].to_vec();
    let n = i32::from_be_bytes(body[2..6].try_into().unwrap()) as usize;
    let entry = (0..n)
        .map(|i| body[6 + 6 * i..12 + 6 * i].to_vec())
        .find(|e| e[..2] == [0, 18])
        .unwrap_or_default();
    (body, entry)
}
