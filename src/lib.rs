//! minikafka: a single-node Kafka broker on one mio event loop.

pub mod protocol;
pub mod records;
