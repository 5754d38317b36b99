//! Writes the seed corpora of the fuzz targets (fuzz/, see README "Fuzzing") from real frames
//! and records: the tests' encoders, kafka-protocol's encoders for every API at every version
//! the broker advertises, and the fixture's metadata log. Run by .ci/fuzz-short before fuzzing:
//! `cargo test --test fuzz_seeds -- --ignored`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use minikafka::groups::offsets::{self, CommittedOffset};
use minikafka::records::{self, compression, Records};
use minikafka::txn::log::{self as txn_log, TxnLogValue};
use minikafka::txn::TxnState;

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
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
    };
    vec![
        ("offset".into(), offsets_seed(0, &offsets::offset_key("g", "t", 1), Some(&value))),
        ("offset_tombstone".into(), offsets_seed(0, &offsets::offset_key("g", "t", 1), None)),
        ("group_tombstone".into(), offsets_seed(0, &offsets::group_key("g"), None)),
        ("txn".into(), offsets_seed(2, &txn_log::key("tx"), Some(&txn_log::value(&txn)))),
        ("txn_tombstone".into(), offsets_seed(2, &txn_log::key("tx"), None)),
    ]
}

#[test]
#[ignore = "writes fuzz/corpus; run by .ci/fuzz-short"]
fn write_fuzz_seeds() {
    for (name, bytes) in request_seeds() {
        write("request", &name, &bytes);
        write("header", &name, &bytes);
    }
    for (name, bytes) in batch_seeds() {
        write("batches", &name, &bytes);
    }
    for (name, bytes) in decompress_seeds() {
        write("decompress", &name, &bytes);
    }
    for (name, bytes) in metadata_seeds() {
        write("metadata_record", &name, &bytes);
    }
    for (name, bytes) in offsets_seeds() {
        write("offsets_record", &name, &bytes);
    }
    let tmp = TempDir::new("seeds");
    let props = tmp.join("server.properties");
    write_server_properties(&props, tmp.path(), "PLAINTEXT://127.0.0.1:0");
    write("properties", "server", &std::fs::read(&props).unwrap());
    write("properties", "escapes", b"a\\ b=c\\\n  d\n! comment\nkey:val\\u0041\n\\\n");
}
