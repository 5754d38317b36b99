//! The APIs this broker serves, with the version ranges it advertises in ApiVersions.
//!
//! `flexible_from` is the first version whose messages use compact encodings and tagged
//! fields (and so request header v2 / response header v1), as each API's JSON schema says.

pub const PRODUCE: i16 = 0;
pub const FETCH: i16 = 1;
pub const LIST_OFFSETS: i16 = 2;
pub const METADATA: i16 = 3;
pub const OFFSET_COMMIT: i16 = 8;
pub const OFFSET_FETCH: i16 = 9;
pub const FIND_COORDINATOR: i16 = 10;
pub const JOIN_GROUP: i16 = 11;
pub const HEARTBEAT: i16 = 12;
pub const LEAVE_GROUP: i16 = 13;
pub const SYNC_GROUP: i16 = 14;
pub const SASL_AUTHENTICATE: i16 = 36;
pub const DESCRIBE_ACLS: i16 = 29;
pub const CREATE_ACLS: i16 = 30;
pub const DELETE_ACLS: i16 = 31;
pub const DESCRIBE_USER_SCRAM_CREDENTIALS: i16 = 50;
pub const ALTER_USER_SCRAM_CREDENTIALS: i16 = 51;
pub const DESCRIBE_GROUPS: i16 = 15;
pub const LIST_GROUPS: i16 = 16;
pub const SASL_HANDSHAKE: i16 = 17;
pub const API_VERSIONS: i16 = 18;
pub const CREATE_TOPICS: i16 = 19;
pub const DELETE_TOPICS: i16 = 20;
pub const DELETE_RECORDS: i16 = 21;
pub const INIT_PRODUCER_ID: i16 = 22;
pub const OFFSET_FOR_LEADER_EPOCH: i16 = 23;
pub const ADD_PARTITIONS_TO_TXN: i16 = 24;
pub const ADD_OFFSETS_TO_TXN: i16 = 25;
pub const END_TXN: i16 = 26;
pub const TXN_OFFSET_COMMIT: i16 = 28;
pub const DESCRIBE_CONFIGS: i16 = 32;
pub const ALTER_CONFIGS: i16 = 33;
pub const INCREMENTAL_ALTER_CONFIGS: i16 = 44;
pub const CREATE_PARTITIONS: i16 = 37;
pub const DELETE_GROUPS: i16 = 42;
pub const OFFSET_DELETE: i16 = 47;
pub const DESCRIBE_LOG_DIRS: i16 = 35;
pub const DESCRIBE_CLUSTER: i16 = 60;
pub const DESCRIBE_PRODUCERS: i16 = 61;
pub const DESCRIBE_TRANSACTIONS: i16 = 65;
pub const LIST_TRANSACTIONS: i16 = 66;
pub const CONSUMER_GROUP_HEARTBEAT: i16 = 68;
pub const CONSUMER_GROUP_DESCRIBE: i16 = 69;
pub const DESCRIBE_TOPIC_PARTITIONS: i16 = 75;

#[derive(Debug, Clone, Copy)]
pub struct ApiSpec {
    pub key: i16,
    pub name: &'static str,
    pub min: i16,
    pub max: i16,
    pub flexible_from: i16,
}

/// Sorted by key: ApiVersions lists them in this order.
pub const SUPPORTED: &[ApiSpec] = &[
    ApiSpec { key: PRODUCE, name: "Produce", min: 3, max: 12, flexible_from: 9 },
    ApiSpec { key: FETCH, name: "Fetch", min: 4, max: 17, flexible_from: 12 },
    ApiSpec { key: LIST_OFFSETS, name: "ListOffsets", min: 1, max: 10, flexible_from: 6 },
    ApiSpec { key: METADATA, name: "Metadata", min: 0, max: 12, flexible_from: 9 },
    ApiSpec { key: OFFSET_COMMIT, name: "OffsetCommit", min: 2, max: 9, flexible_from: 8 },
    ApiSpec { key: OFFSET_FETCH, name: "OffsetFetch", min: 1, max: 9, flexible_from: 6 },
    ApiSpec { key: FIND_COORDINATOR, name: "FindCoordinator", min: 0, max: 6, flexible_from: 3 },
    ApiSpec { key: JOIN_GROUP, name: "JoinGroup", min: 0, max: 9, flexible_from: 6 },
    ApiSpec { key: HEARTBEAT, name: "Heartbeat", min: 0, max: 4, flexible_from: 4 },
    ApiSpec { key: LEAVE_GROUP, name: "LeaveGroup", min: 0, max: 5, flexible_from: 4 },
    ApiSpec { key: SYNC_GROUP, name: "SyncGroup", min: 0, max: 5, flexible_from: 4 },
    ApiSpec { key: DESCRIBE_GROUPS, name: "DescribeGroups", min: 0, max: 6, flexible_from: 5 },
    ApiSpec { key: LIST_GROUPS, name: "ListGroups", min: 0, max: 5, flexible_from: 3 },
    ApiSpec { key: SASL_HANDSHAKE, name: "SaslHandshake", min: 0, max: 1, flexible_from: i16::MAX },
    ApiSpec { key: API_VERSIONS, name: "ApiVersions", min: 0, max: 4, flexible_from: 3 },
    ApiSpec { key: CREATE_TOPICS, name: "CreateTopics", min: 2, max: 7, flexible_from: 5 },
    ApiSpec { key: DELETE_TOPICS, name: "DeleteTopics", min: 1, max: 6, flexible_from: 4 },
    ApiSpec { key: DELETE_RECORDS, name: "DeleteRecords", min: 0, max: 2, flexible_from: 2 },
    ApiSpec { key: INIT_PRODUCER_ID, name: "InitProducerId", min: 0, max: 5, flexible_from: 2 },
    ApiSpec {
        key: OFFSET_FOR_LEADER_EPOCH,
        name: "OffsetForLeaderEpoch",
        min: 2,
        max: 4,
        flexible_from: 4,
    },
    ApiSpec {
        key: ADD_PARTITIONS_TO_TXN,
        name: "AddPartitionsToTxn",
        min: 0,
        max: 5,
        flexible_from: 3,
    },
    ApiSpec { key: ADD_OFFSETS_TO_TXN, name: "AddOffsetsToTxn", min: 0, max: 4, flexible_from: 3 },
    ApiSpec { key: END_TXN, name: "EndTxn", min: 0, max: 5, flexible_from: 3 },
    ApiSpec { key: TXN_OFFSET_COMMIT, name: "TxnOffsetCommit", min: 0, max: 5, flexible_from: 3 },
    ApiSpec { key: DESCRIBE_ACLS, name: "DescribeAcls", min: 1, max: 3, flexible_from: 2 },
    ApiSpec { key: CREATE_ACLS, name: "CreateAcls", min: 1, max: 3, flexible_from: 2 },
    ApiSpec { key: DELETE_ACLS, name: "DeleteAcls", min: 1, max: 3, flexible_from: 2 },
    ApiSpec { key: DESCRIBE_CONFIGS, name: "DescribeConfigs", min: 1, max: 4, flexible_from: 4 },
    ApiSpec { key: ALTER_CONFIGS, name: "AlterConfigs", min: 0, max: 2, flexible_from: 2 },
    ApiSpec { key: DESCRIBE_LOG_DIRS, name: "DescribeLogDirs", min: 1, max: 4, flexible_from: 2 },
    ApiSpec { key: SASL_AUTHENTICATE, name: "SaslAuthenticate", min: 0, max: 2, flexible_from: 2 },
    ApiSpec { key: CREATE_PARTITIONS, name: "CreatePartitions", min: 0, max: 3, flexible_from: 2 },
    ApiSpec { key: DELETE_GROUPS, name: "DeleteGroups", min: 0, max: 2, flexible_from: 2 },
    ApiSpec {
        key: INCREMENTAL_ALTER_CONFIGS,
        name: "IncrementalAlterConfigs",
        min: 0,
        max: 1,
        flexible_from: 1,
    },
    ApiSpec { key: OFFSET_DELETE, name: "OffsetDelete", min: 0, max: 0, flexible_from: i16::MAX },
    ApiSpec {
        key: DESCRIBE_USER_SCRAM_CREDENTIALS,
        name: "DescribeUserScramCredentials",
        min: 0,
        max: 0,
        flexible_from: 0,
    },
    ApiSpec {
        key: ALTER_USER_SCRAM_CREDENTIALS,
        name: "AlterUserScramCredentials",
        min: 0,
        max: 0,
        flexible_from: 0,
    },
    ApiSpec { key: DESCRIBE_CLUSTER, name: "DescribeCluster", min: 0, max: 2, flexible_from: 0 },
    ApiSpec {
        key: DESCRIBE_PRODUCERS,
        name: "DescribeProducers",
        min: 0,
        max: 0,
        flexible_from: 0,
    },
    ApiSpec {
        key: DESCRIBE_TRANSACTIONS,
        name: "DescribeTransactions",
        min: 0,
        max: 0,
        flexible_from: 0,
    },
    ApiSpec { key: LIST_TRANSACTIONS, name: "ListTransactions", min: 0, max: 2, flexible_from: 0 },
    ApiSpec {
        key: CONSUMER_GROUP_HEARTBEAT,
        name: "ConsumerGroupHeartbeat",
        min: 0,
        max: 1,
        flexible_from: 0,
    },
    ApiSpec {
        key: CONSUMER_GROUP_DESCRIBE,
        name: "ConsumerGroupDescribe",
        min: 0,
        max: 1,
        flexible_from: 0,
    },
    ApiSpec {
        key: DESCRIBE_TOPIC_PARTITIONS,
        name: "DescribeTopicPartitions",
        min: 0,
        max: 0,
        flexible_from: 0,
    },
];

pub fn spec(key: i16) -> Option<&'static ApiSpec> {
    SUPPORTED.iter().find(|s| s.key == key)
}

impl ApiSpec {
    pub fn supports(&self, version: i16) -> bool {
        (self.min..=self.max).contains(&version)
    }

    pub fn is_flexible(&self, version: i16) -> bool {
        version >= self.flexible_from
    }
}
