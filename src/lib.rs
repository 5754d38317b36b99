//! minikafka: a single-node Kafka broker on one mio event loop.

pub mod broker;
pub mod config;
pub mod metadata;
pub mod properties;
pub mod protocol;
pub mod records;
pub mod server;
pub mod storage;
pub mod uuid;
pub mod groups;
#[cfg(test)]
mod testutil;
