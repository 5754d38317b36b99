//! Kafka's error codes, by their names in `org.apache.kafka.common.protocol.Errors`.

pub const NONE: i16 = 0;
pub const OFFSET_OUT_OF_RANGE: i16 = 1;
pub const CORRUPT_MESSAGE: i16 = 2;
pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
pub const INVALID_FETCH_SIZE: i16 = 4;
pub const MESSAGE_TOO_LARGE: i16 = 10;
pub const UNSUPPORTED_VERSION: i16 = 35;
pub const INVALID_REQUIRED_ACKS: i16 = 21;
pub const KAFKA_STORAGE_ERROR: i16 = 56;
pub const INVALID_REQUEST: i16 = 42;
pub const UNSUPPORTED_COMPRESSION_TYPE: i16 = 76;
pub const INVALID_RECORD: i16 = 87;
pub const UNKNOWN_TOPIC_ID: i16 = 100;
pub const LEADER_NOT_AVAILABLE: i16 = 5;
pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
pub const TOPIC_ALREADY_EXISTS: i16 = 36;
pub const INVALID_PARTITIONS: i16 = 37;
pub const INVALID_REPLICATION_FACTOR: i16 = 38;
pub const INVALID_CONFIG: i16 = 40;
pub const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
pub const INVALID_PRODUCER_EPOCH: i16 = 47;
pub const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
