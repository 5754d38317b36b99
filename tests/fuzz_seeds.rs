//! The fuzz targets' seeds (tests/fuzz, see README "Fuzzing"), from real frames and records:
//! the tests' encoders, kafka-protocol's encoders for every API at every version the broker
//! advertises, and the fixture's metadata log. Within `cargo test`, every target runs over its
//! seeds and thousands of their mutations (a short, blind fuzzing pass); `cargo test --test
//! fuzz_seeds -- --ignored` writes them as the corpora libFuzzer starts from (.ci/fuzz-short).

mod common;
#[path = "fuzz/targets.rs"]
mod targets;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use minikafka::groups::offsets::{self, CommittedOffset};
use minikafka::records::{self, compression, Records};
use minikafka::txn::log::{self as txn_log, TxnLogValue};
use minikafka::txn::TxnState;

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    std::fs::write(corpus(target).join(name), bytes).unwrap();
}

/// Request frames without their size prefix: what the request and header targets take.
fn request_seeds() -> Vec<(String, Vec<u8>)> {
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::Encodable;
    let mut out = Vec::new();
    let mut add = |name: String, key: i16, version: i16, body: &[u8]| {
        out.push((name, frame(key, version, 7, body)[4..].to_vec()));
    };
    let ids = [[7u8; 16]];
    add("api_versions_v4".into(), API_VERSIONS, 4, &api_versions_body(4));
    add("api_versions_v0".into(), API_VERSIONS, 0, &api_versions_body(0));
    add("fetch_v16".into(), FETCH, 16, &FetchReq::default().topic(ids[0], vec![fp(0, 5)]).v16());
    add("dtp_v0".into(), DESCRIBE_TOPIC_PARTITIONS, 0, &dtp_body(&["a", "b"], 10, Some(("a", 1))));
    let values: [&[u8]; 2] = [b"one", b"two"];
    let body = produce_v11_body(1, &[("t", vec![(0, Some(batch(0, &values))), (1, None)])]);
    add("produce_v11".into(), PRODUCE, 11, &body);
    macro_rules! every_version {
        ($($key:expr => $ty:ty),* $(,)?) => {$(
            let (_, min, max) = *ADVERTISED.iter().find(|(k, _, _)| *k == $key).unwrap();
            for v in min..=max {
                let mut body = Vec::new();
                if <$ty>::default().encode(&mut body, v).is_ok() {
                    add(format!("{}_v{v}", stringify!($ty)), $key, v, &body);
                }
            }
        )*};
    }
    every_version!(
        PRODUCE => ProduceRequest,
        FETCH => FetchRequest,
        2 => ListOffsetsRequest,
        3 => MetadataRequest,
        8 => OffsetCommitRequest,
        9 => OffsetFetchRequest,
        10 => FindCoordinatorRequest,
        11 => JoinGroupRequest,
        12 => HeartbeatRequest,
        13 => LeaveGroupRequest,
        14 => SyncGroupRequest,
        15 => DescribeGroupsRequest,
        16 => ListGroupsRequest,
        17 => SaslHandshakeRequest,
        API_VERSIONS => ApiVersionsRequest,
        19 => CreateTopicsRequest,
        20 => DeleteTopicsRequest,
        21 => DeleteRecordsRequest,
        22 => InitProducerIdRequest,
        23 => OffsetForLeaderEpochRequest,
        24 => AddPartitionsToTxnRequest,
        25 => AddOffsetsToTxnRequest,
        26 => EndTxnRequest,
        28 => TxnOffsetCommitRequest,
        29 => DescribeAclsRequest,
        30 => CreateAclsRequest,
        31 => DeleteAclsRequest,
        32 => DescribeConfigsRequest,
        33 => AlterConfigsRequest,
        35 => DescribeLogDirsRequest,
        36 => SaslAuthenticateRequest,
        37 => CreatePartitionsRequest,
        42 => DeleteGroupsRequest,
        44 => IncrementalAlterConfigsRequest,
        47 => OffsetDeleteRequest,
        50 => DescribeUserScramCredentialsRequest,
        51 => AlterUserScramCredentialsRequest,
        60 => DescribeClusterRequest,
        61 => DescribeProducersRequest,
        65 => DescribeTransactionsRequest,
        66 => ListTransactionsRequest,
        DESCRIBE_TOPIC_PARTITIONS => DescribeTopicPartitionsRequest,
    );
    out
}

/// Batches as clients send them and logs hold them: plain, every codec, transactional,
/// control, with headers, and several in a row.
fn batch_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("one".to_string(), batch(0, &[b"v"]))];
    out.push(("several".into(), batches("s", 3, 4).concat()));
    let mut b = BatchBuilder::new(5, TS).producer(9, 1, 0).transactional();
    b.push(Some(b"k"), None, &[Header { key: "h", value: Some(b"hv") }]);
    out.push(("transactional".into(), b.finish()));
    let mut b = BatchBuilder::new(6, TS).producer(9, 1, -1).transactional().control();
    b.push(Some(&[0, 0, 0, 1]), Some(&[0, 0, 0, 0, 0, 0]), &[]);
    out.push(("control".into(), b.finish()));
    let plain = batches("c", 1, 20).concat();
    let h = records::BatchHeader::parse(&plain).unwrap();
    let section = records::records_section(&plain, &h, 1 << 20).unwrap().into_owned();
    for codec in [compression::GZIP, compression::SNAPPY, compression::LZ4, compression::ZSTD] {
        let b = records::build_batch(&h, &section, codec, None);
        out.push((format!("codec{codec}"), b));
    }
    out
}

fn decompress_seeds() -> Vec<(String, Vec<u8>)> {
    let text = b"minikafka minikafka minikafka record record record 0123456789".repeat(20);
    [compression::GZIP, compression::SNAPPY, compression::LZ4, compression::ZSTD]
        .into_iter()
        .map(|codec| {
            let mut seed = vec![(codec - 1) as u8];
            seed.extend(compression::compress(codec, &text, None));
            (format!("codec{codec}"), seed)
        })
        .collect()
}

/// The values of the fixture's metadata log (a real Kafka's) and the tests' records.
fn metadata_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("feature_level".to_string(), feature_level_record("metadata.version", 21)),
        ("topic".into(), topic_record("foo", &[3; 16])),
        ("partition_v0".into(), partition_record(0, 0, &[3; 16], 0)),
        ("partition_v1".into(), partition_record(1, 2, &[3; 16], 4)),
    ];
    let dir = Path::new(FIXTURE_DIR).join("__cluster_metadata-0");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let log = std::fs::read(&path).unwrap();
        for (i, b) in records::batches(&log).enumerate() {
            let Ok((_, batch)) = b else { break };
            for (j, rec) in Records::new(batch).unwrap().enumerate() {
                if let Some(v) = rec.unwrap().value {
                    out.push((format!("fixture_{i}_{j}"), v.to_vec()));
                }
            }
        }
    }
    out
}

/// `sel`, the key's length and the key, then the value (see fuzz_targets/offsets_record.rs).
fn offsets_seed(sel: u8, key: &[u8], value: Option<&[u8]>) -> Vec<u8> {
    let mut s = vec![sel | u8::from(value.is_none())];
    s.extend((key.len() as u16).to_be_bytes());
    s.extend(key);
    s.extend(value.unwrap_or_default());
    s
}

fn offsets_seeds() -> Vec<(String, Vec<u8>)> {
    let c = CommittedOffset {
        offset: 42,
        leader_epoch: 3,
        metadata: "meta".into(),
        commit_timestamp: TS,
    };
    let value = offsets::offset_value(&c);
    let txn = TxnLogValue {
        producer_id: 9,
        producer_epoch: 2,
        timeout_ms: 60_000,
        state: TxnState::Ongoing,
        partitions: BTreeSet::from([("t".to_string(), 0), ("u".to_string(), 3)]),
        last_update_ms: TS,
        start_ms: TS,
        previous_producer_id: 8,
        client_transaction_version: 2,
    };
    vec![
        ("offset".into(), offsets_seed(0, &offsets::offset_key("g", "t", 1), Some(&value))),
        ("offset_tombstone".into(), offsets_seed(0, &offsets::offset_key("g", "t", 1), None)),
        ("group_tombstone".into(), offsets_seed(0, &offsets::group_key("g"), None)),
        ("txn".into(), offsets_seed(2, &txn_log::key("tx"), Some(&txn_log::value(&txn, 0)))),
        ("txn_v1".into(), offsets_seed(2, &txn_log::key("tx"), Some(&txn_log::value(&txn, 1)))),
        ("txn_tombstone".into(), offsets_seed(2, &txn_log::key("tx"), None)),
    ]
}

fn properties_seeds() -> Vec<(String, Vec<u8>)> {
    let tmp = TempDir::new("seeds");
    let props = tmp.join("server.properties");
    write_server_properties(&props, tmp.path(), "PLAINTEXT://127.0.0.1:0");
    vec![
        ("server".into(), std::fs::read(&props).unwrap()),
        ("escapes".into(), b"a\\ b=c\\\n  d\n! comment\nkey:val\\u0041\n\\\n".to_vec()),
    ]
}

/// Every target's seeds, by target name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    match target {
        "request" | "header" => request_seeds(),
        "batches" => batch_seeds(),
        "decompress" => decompress_seeds(),
        "metadata_record" => metadata_seeds(),
        "offsets_record" => offsets_seeds(),
        "properties" => properties_seeds(),
        other => panic!("no seeds for target {other}"),
    }
}

#[test]
#[ignore = "writes tests/fuzz/corpus; run by .ci/fuzz-short"]
fn write_fuzz_seeds() {
    for (target, _) in targets::ALL {
        for (name, bytes) in seeds(target) {
            write(target, &name, &bytes);
        }
    }
}

/// A seeded choice below `n`: the same mutations on every run, so a failure names a
/// reproducible input.
fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

/// One to four of libFuzzer's simplest mutations: flipped bits, boundary bytes and lengths
/// (0, 0x7f, 0x80, 0xff), a cut, a repeated or dropped slice.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..=pick(rng, 4) {
        let at = pick(rng, b.len());
        match pick(rng, 6) {
            0 if !b.is_empty() => b[at] ^= 1 << pick(rng, 8),
            1 if !b.is_empty() => b[at] = [0, 0x7f, 0x80, 0xff][pick(rng, 4)],
            2 => b.truncate(at),
            3 if b.len() >= 4 => {
                let v = [0u32, 1, 0x7fff_ffff, 0xffff_ffff][pick(rng, 4)];
                let at = at.min(b.len() - 4);
                b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
            4 => {
                let end = (at + 1 + pick(rng, 16)).min(b.len());
                let slice = b[at..end].to_vec();
                b.splice(at..at, slice);
            }
            _ => {
                let end = (at + 1 + pick(rng, 16)).min(b.len());
                b.drain(at..end);
            }
        }
    }
    b
}

/// A short blind fuzzing pass within `cargo test`: every target over each of its seeds and
/// 64 mutations of it (libFuzzer's coverage-guided runs are .ci/fuzz-short and README
/// "Fuzzing"). A panic names the target, the seed and the input.
#[test]
fn every_fuzz_target_survives_its_seeds_mutated() {
    let mut rng = Rng::new(0x6d69_6e69_6b61_666b);
    let mut runs = 0;
    for (target, run) in targets::ALL {
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "{target} has seeds");
        for (name, seed) in &seeds {
            let mut inputs = vec![seed.clone()];
            inputs.extend((0..64).map(|_| mutate(seed, &mut rng)));
            for input in inputs {
                let outcome = std::panic::catch_unwind(|| run(&input));
                assert!(outcome.is_ok(), "target {target}, seed {name}, input {input:02x?}");
                runs += 1;
            }
        }
    }
    eprintln!("{runs} inputs");
    assert!(runs > 10_000, "{runs} runs");
}
