//! minikafka: a single-node Kafka broker on one mio event loop.

pub mod metadata;
pub mod properties;
pub mod protocol;
pub mod records;
pub mod storage;
pub mod uuid;
