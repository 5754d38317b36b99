//! The fuzz targets' bodies, shared by the cargo-fuzz binaries (`fuzz_targets/`, libFuzzer,
//! coverage-guided) and by `tests/fuzz_seeds.rs`, which runs every target over its seeds and
//! their mutations within `cargo test`. A target returns on input it rejects and panics only
//! on a broken promise (a decoder's panic is one).

#![allow(dead_code)]

use minikafka::groups::offsets;
use minikafka::metadata::records::MetadataRecord;
use minikafka::protocol::codec::Reader;
use minikafka::protocol::header::{response_header_flexible, RequestHeader};
use minikafka::protocol::{self as p, apis};
use minikafka::records::{self, compression, BatchHeader, Records};
use minikafka::txn::log as txn_log;

/// A target: takes any bytes, panics only on a broken promise.
pub type Target = fn(&[u8]);

/// Every target by name, as `cargo fuzz list` names them.
pub const ALL: [(&str, Target); 7] = [
    ("header", header),
    ("request", request),
    ("batches", batches),
    ("decompress", decompress),
    ("metadata_record", metadata_record),
    ("offsets_record", offsets_record),
    ("properties", properties),
];

/// The request header (v1 and v2) and the API table lookup the broker does before any body.
pub fn header(data: &[u8]) {
    let Ok((api_key, version, _)) = RequestHeader::decode_prefix(&mut Reader::new(data)) else {
        return;
    };
    let _ = response_header_flexible(api_key, version);
    let flexible =
        apis::spec(api_key).is_some_and(|s| s.supports(version) && s.is_flexible(version));
    for f in [flexible, !flexible] {
        let _ = RequestHeader::decode(&mut Reader::new(data), f);
    }
}

/// Every request decoder: a whole request frame (without its size prefix), dispatched on its
/// api key to that API's decoder after the checks the broker makes first.
pub fn request(data: &[u8]) {
    let mut r = Reader::new(data);
    let Ok((api_key, version, _)) = RequestHeader::decode_prefix(&mut r.clone()) else {
        return;
    };
    let Some(spec) = apis::spec(api_key) else { return };
    if !spec.supports(version) || RequestHeader::decode(&mut r, spec.is_flexible(version)).is_err()
    {
        return;
    }
    match api_key {
        apis::PRODUCE => {
            let _ = p::produce::ProduceRequest::decode(&mut r, version);
        }
        apis::FETCH => {
            let _ = p::fetch::FetchRequest::decode(&mut r, version);
        }
        apis::LIST_OFFSETS => {
            let _ = p::list_offsets::ListOffsetsRequest::decode(&mut r, version);
        }
        apis::METADATA => {
            let _ = p::metadata::MetadataRequest::decode(&mut r, version);
        }
        apis::OFFSET_COMMIT => {
            let _ = p::offset_commit::OffsetCommitRequest::decode(&mut r, version);
        }
        apis::OFFSET_FETCH => {
            let _ = p::offset_fetch::OffsetFetchRequest::decode(&mut r, version);
        }
        apis::FIND_COORDINATOR => {
            let _ = p::find_coordinator::FindCoordinatorRequest::decode(&mut r, version);
        }
        apis::JOIN_GROUP => {
            let _ = p::join_group::JoinGroupRequest::decode(&mut r, version);
        }
        apis::HEARTBEAT => {
            let _ = p::heartbeat::HeartbeatRequest::decode(&mut r, version);
        }
        apis::LEAVE_GROUP => {
            let _ = p::leave_group::LeaveGroupRequest::decode(&mut r, version);
        }
        apis::SYNC_GROUP => {
            let _ = p::sync_group::SyncGroupRequest::decode(&mut r, version);
        }
        apis::SASL_AUTHENTICATE => {
            let _ = p::sasl_authenticate::SaslAuthenticateRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_ACLS => {
            let _ = p::describe_acls::DescribeAclsRequest::decode(&mut r, version);
        }
        apis::CREATE_ACLS => {
            let _ = p::create_acls::CreateAclsRequest::decode(&mut r, version);
        }
        apis::DELETE_ACLS => {
            let _ = p::delete_acls::DeleteAclsRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_USER_SCRAM_CREDENTIALS => {
            let _ = p::describe_user_scram_credentials::DescribeUserScramCredentialsRequest::decode(
                &mut r, version,
            );
        }
        apis::ALTER_USER_SCRAM_CREDENTIALS => {
            let _ = p::alter_user_scram_credentials::AlterUserScramCredentialsRequest::decode(
                &mut r, version,
            );
        }
        apis::DESCRIBE_GROUPS => {
            let _ = p::describe_groups::DescribeGroupsRequest::decode(&mut r, version);
        }
        apis::LIST_GROUPS => {
            let _ = p::list_groups::ListGroupsRequest::decode(&mut r, version);
        }
        apis::SASL_HANDSHAKE => {
            let _ = p::sasl_handshake::SaslHandshakeRequest::decode(&mut r, version);
        }
        apis::API_VERSIONS => {
            let _ = p::api_versions::ApiVersionsRequest::decode(&mut r, version);
        }
        apis::CREATE_TOPICS => {
            let _ = p::create_topics::CreateTopicsRequest::decode(&mut r, version);
        }
        apis::DELETE_TOPICS => {
            let _ = p::delete_topics::DeleteTopicsRequest::decode(&mut r, version);
        }
        apis::DELETE_RECORDS => {
            let _ = p::delete_records::DeleteRecordsRequest::decode(&mut r, version);
        }
        apis::INIT_PRODUCER_ID => {
            let _ = p::init_producer_id::InitProducerIdRequest::decode(&mut r, version);
        }
        apis::OFFSET_FOR_LEADER_EPOCH => {
            let _ =
                p::offset_for_leader_epoch::OffsetForLeaderEpochRequest::decode(&mut r, version);
        }
        apis::ADD_PARTITIONS_TO_TXN => {
            let _ = p::add_partitions_to_txn::AddPartitionsToTxnRequest::decode(&mut r, version);
        }
        apis::ADD_OFFSETS_TO_TXN => {
            let _ = p::add_offsets_to_txn::AddOffsetsToTxnRequest::decode(&mut r, version);
        }
        apis::END_TXN => {
            let _ = p::end_txn::EndTxnRequest::decode(&mut r, version);
        }
        apis::TXN_OFFSET_COMMIT => {
            let _ = p::txn_offset_commit::TxnOffsetCommitRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_CONFIGS => {
            let _ = p::describe_configs::DescribeConfigsRequest::decode(&mut r, version);
        }
        apis::CREATE_PARTITIONS => {
            let _ = p::create_partitions::CreatePartitionsRequest::decode(&mut r, version);
        }
        apis::DELETE_GROUPS => {
            let _ = p::delete_groups::DeleteGroupsRequest::decode(&mut r, version);
        }
        apis::OFFSET_DELETE => {
            let _ = p::offset_delete::OffsetDeleteRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_LOG_DIRS => {
            let _ = p::describe_log_dirs::DescribeLogDirsRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_CLUSTER => {
            let _ = p::describe_cluster::DescribeClusterRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_PRODUCERS => {
            let _ = p::describe_producers::DescribeProducersRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_TRANSACTIONS => {
            let _ = p::describe_transactions::DescribeTransactionsRequest::decode(&mut r, version);
        }
        apis::LIST_TRANSACTIONS => {
            let _ = p::list_transactions::ListTransactionsRequest::decode(&mut r, version);
        }
        apis::DESCRIBE_TOPIC_PARTITIONS => {
            let _ = p::describe_topic_partitions::DescribeTopicPartitionsRequest::decode(
                &mut r, version,
            );
        }
        apis::ALTER_CONFIGS => {
            let _ = p::alter_configs::AlterConfigsRequest::decode(&mut r, version, false);
        }
        apis::INCREMENTAL_ALTER_CONFIGS => {
            let _ = p::alter_configs::AlterConfigsRequest::decode(&mut r, version, true);
        }
        _ => {}
    }
}

/// What the broker allows a batch to decompress to in these runs.
const LIMIT: usize = 1 << 20;

fn walk(batch: &[u8], h: &BatchHeader) {
    let _ = (h.total_len(), h.last_offset(), h.is_control(), h.is_transactional());
    if let Ok(section) = records::records_section(batch, h, LIMIT) {
        for rec in Records::of_section(&section, h.records_count) {
            if rec.is_err() {
                break;
            }
        }
        let _ = Records::section_is_whole(&section, h.records_count);
    }
    for rec in Records::of_checked(batch, h) {
        if rec.is_err() {
            break;
        }
    }
}

/// The record-batch walker: a Produce `records` field or a log segment, batch by batch, each
/// decompressed and its records read. The CRC stops most mutated inputs at the door, so the
/// same bytes are also read as if their CRC had matched.
pub fn batches(data: &[u8]) {
    for b in records::batches(data) {
        match b {
            Ok((h, batch)) => walk(batch, &h),
            Err(_) => break,
        }
    }
    for batch in records::checked_batches(data) {
        let _ = records::peek_offsets(batch);
    }
    if let Some(h) = BatchHeader::parse(data) {
        walk(data, &h);
    }
}

/// The four codecs' decompressors (hand-written: gzip, snappy, lz4, zstd), the first byte
/// choosing which, with the output limit the broker imposes.
pub fn decompress(data: &[u8]) {
    let Some((&codec, rest)) = data.split_first() else { return };
    let codec = i16::from(codec % 4) + 1;
    if let Ok(out) = compression::decompress(codec, rest, 1 << 20) {
        assert!(out.len() <= 1 << 20, "{} bytes past the limit", out.len());
    }
}

/// A `__cluster_metadata` record value, as read back from the metadata log at start-up.
pub fn metadata_record(data: &[u8]) {
    if let Ok(rec) = MetadataRecord::decode(data) {
        // What decodes must encode again without panicking; records of types the broker does
        // not know are kept as `Other` and never written back (their encoding panics).
        if !matches!(rec, MetadataRecord::Other { .. }) {
            let mut out = Vec::new();
            rec.encode(&mut out);
        }
    }
}

/// `__consumer_offsets` and `__transaction_state` keys and values, as replayed at start-up:
/// the first byte chooses the topic and whether there is a value (a tombstone has none), the
/// next two bytes where the key ends.
pub fn offsets_record(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    if rest.len() < 2 {
        return;
    }
    let key_len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
    let (key, value) = rest[2..].split_at(key_len);
    let value = (sel & 1 == 0).then_some(value);
    if sel & 2 == 0 {
        let _ = offsets::decode(key, value);
    } else if let Ok((_, Some(v))) = txn_log::decode(key, value) {
        // What v1 reads, v1 writes back (v0 has no room for the tagged fields).
        let again = txn_log::value(&v, 1);
        assert_eq!(txn_log::decode(key, Some(&again)).map(|d| d.1), Ok(Some(v)));
    }
}

/// `server.properties` text (and Kafka's escapes and continuations).
pub fn properties(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = minikafka::properties::parse(text);
    }
}
