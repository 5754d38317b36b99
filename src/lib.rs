//! minikafka: a single-node Kafka broker on one mio event loop.

pub mod broker;
pub mod broker_config;
pub mod config;
pub mod config_docs;
pub mod groups;
pub mod listeners;
pub mod metadata;
pub mod properties;
pub mod protocol;
pub mod records;
pub mod security;
pub mod server;
pub mod storage;
#[cfg(test)]
mod testutil;
pub mod topic_config;
pub mod txn;
pub mod uuid;
