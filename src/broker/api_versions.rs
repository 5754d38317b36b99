use super::{Broker, HandlerResult, Reply};
use crate::metadata::{GROUP_VERSION, MAX_GROUP_VERSION};
use crate::protocol::api_versions::{ApiVersionsRequest, ApiVersionsResponse, Features};
use crate::protocol::apis;
use crate::protocol::codec::Reader;
use crate::protocol::error;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ApiVersionsRequest::decode(r, version)?;
    log::trace!(
        "ApiVersions v{version} from {:?} {:?}",
        req.client_software_name,
        req.client_software_version
    );
    let features = features(b);
    // Kafka leaves the consumer protocol's APIs out while group.version is 0.
    let without_consumer_protocol: Vec<apis::ApiSpec>;
    let api_keys = if b.consumer_protocol_enabled() {
        apis::SUPPORTED
    } else {
        let consumer_protocol = [apis::CONSUMER_GROUP_HEARTBEAT, apis::CONSUMER_GROUP_DESCRIBE];
        without_consumer_protocol = apis::SUPPORTED
            .iter()
            .filter(|a| !consumer_protocol.contains(&a.key))
            .copied()
            .collect();
        &without_consumer_protocol
    };
    ApiVersionsResponse {
        error_code: error::NONE,
        api_keys,
        throttle_time_ms: 0,
        features: features.as_ref(),
    }
    .encode(version, out);
    Ok(Reply::Sent)
}

/// The features features announced, as Kafka announces them, once the metadata log finalizes
/// `transaction.version` (a log directory Kafka 4 formatted, or `--feature
/// transaction.version=2`): clients then use transactions v2. Without it nothing is announced,
/// as a cluster formatted at `transaction.version` 0 behaves for clients, and the response has
/// no tagged fields (which the course's tester and librdkafka 2.0 require).
fn features(b: &Broker) -> Option<Features> {
    let tv = b.meta.feature_level(TRANSACTION_VERSION)?;
    let mut finalized = vec![(TRANSACTION_VERSION.to_string(), tv)];
    let mut supported = vec![(TRANSACTION_VERSION.to_string(), 0, MAX_TRANSACTION_VERSION)];
    supported.push((GROUP_VERSION.to_string(), 0, MAX_GROUP_VERSION));
    // As Kafka, a feature at level 0 is not listed as finalized.
    if let Some(gv) = b.meta.feature_level(GROUP_VERSION).filter(|&l| l > 0) {
        finalized.push((GROUP_VERSION.to_string(), gv));
    }
    if let Some(mv) = b.meta.feature_level("metadata.version") {
        finalized.insert(0, ("metadata.version".to_string(), mv));
        supported.insert(0, ("metadata.version".to_string(), mv, mv));
    }
    Some(Features { supported, finalized_epoch: b.meta_log.next_offset() - 1, finalized })
}

pub const TRANSACTION_VERSION: &str = "transaction.version";
/// Transactions v2 (KIP-890) is the highest this broker serves.
pub const MAX_TRANSACTION_VERSION: i16 = 2;
