//! Every request decoder: a whole request frame (without its size prefix), dispatched on its
//! api key to that API's decoder after the checks the broker makes first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minikafka::protocol::codec::Reader;
use minikafka::protocol::header::RequestHeader;
use minikafka::protocol::{self as p, apis};

fuzz_target!(|data: &[u8]| {
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
});
