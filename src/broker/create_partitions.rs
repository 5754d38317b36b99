//! Grows topics, as Kafka's controller does (`ReplicationControlManager.createPartitions`):
//! only upwards, new partitions on this node alone, recorded as PartitionRecords. Duplicate
//! names are refused before anything else, as `ControllerApis.createPartitions` refuses them,
//! and answered first; `validate_only` checks everything and changes nothing.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::Reader;
use crate::protocol::create_partitions::*;
use crate::protocol::error;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = CreatePartitionsRequest::decode(r, version)?;
    let mut results = Vec::with_capacity(req.topics.len());
    let mut duplicates: Vec<&str> = Vec::new();
    for (i, t) in req.topics.iter().enumerate() {
        if req.topics[..i].iter().any(|e| e.name == t.name) && !duplicates.contains(&t.name) {
            duplicates.push(t.name);
        }
    }
    for d in &duplicates {
        results.push(CreatePartitionsTopicResult {
            name: d.to_string(),
            error_code: error::INVALID_REQUEST,
            error_message: Some("Duplicate topic name.".into()),
        });
    }
    // Kafka's controller: ALTER on each topic, refused ones answered (without a message)
    // before the others are looked at.
    let denied = |t: &&CreatePartitionsTopic| {
        !b.authorized(
            crate::security::acl::op::ALTER,
            crate::security::acl::resource::TOPIC,
            t.name,
        )
    };
    for t in req.topics.iter().filter(|t| !duplicates.contains(&t.name)).filter(denied) {
        results.push(CreatePartitionsTopicResult {
            name: t.name.to_string(),
            error_code: error::TOPIC_AUTHORIZATION_FAILED,
            error_message: None,
        });
    }
    let allowed: Vec<_> =
        req.topics.iter().filter(|t| !duplicates.contains(&t.name) && !denied(t)).collect();
    for t in allowed {
        let mut result = CreatePartitionsTopicResult {
            name: t.name.to_string(),
            error_code: error::NONE,
            error_message: None,
        };
        let outcome = match check(b, t) {
            Err(e) => Err(e),
            Ok(()) if req.validate_only => Ok(()),
            Ok(()) => b.create_partitions(t.name, t.count),
        };
        if let Err((code, msg)) = outcome {
            result.error_code = code;
            result.error_message = (!msg.is_empty()).then_some(msg);
        }
        results.push(result);
    }
    CreatePartitionsResponse { throttle_time_ms: 0, results }.encode(version, out);
    Ok(Reply::Sent)
}

/// Kafka's checks, in its order and with its messages; an empty message is a null one.
fn check(b: &Broker, t: &CreatePartitionsTopic) -> Result<(), (i16, String)> {
    let Some(topic) = b.meta.topic(t.name) else {
        return Err((error::UNKNOWN_TOPIC_OR_PARTITION, String::new()));
    };
    let current = topic.partitions.len() as i32;
    if t.count == current {
        return Err((
            error::INVALID_PARTITIONS,
            format!("Topic already has {current} partition(s)."),
        ));
    }
    if t.count < current {
        return Err((
            error::INVALID_PARTITIONS,
            format!(
                "The topic {} currently has {current} partition(s); {} would not be an increase.",
                t.name, t.count
            ),
        ));
    }
    let additional = t.count - current;
    let Some(assignments) = &t.assignments else { return Ok(()) };
    if assignments.len() as i64 != i64::from(additional) {
        return Err((
            error::INVALID_REPLICA_ASSIGNMENT,
            format!(
                "Attempted to add {additional} additional partition(s), but only {} assignment(s) were specified.",
                assignments.len()
            ),
        ));
    }
    let node = b.config.node_id;
    for brokers in assignments {
        if brokers.is_empty() {
            return Err((
                error::INVALID_REPLICA_ASSIGNMENT,
                "The manual partition assignment includes an empty replica list.".into(),
            ));
        }
        let mut sorted = brokers.clone();
        sorted.sort_unstable();
        let mut prev = None;
        for &id in &sorted {
            if id != node {
                return Err((
                    error::INVALID_REPLICA_ASSIGNMENT,
                    format!(
                        "The manual partition assignment includes broker {id}, but no such broker is registered."
                    ),
                ));
            }
            if prev == Some(id) {
                return Err((
                    error::INVALID_REPLICA_ASSIGNMENT,
                    format!(
                        "The manual partition assignment includes the broker {id} more than once."
                    ),
                ));
            }
            prev = Some(id);
        }
        // Every partition here has one replica; the existing ones set the factor.
        let rf = topic.partitions.first().map_or(1, |p| p.replicas.len());
        if sorted.len() != rf {
            return Err((
                error::INVALID_REPLICA_ASSIGNMENT,
                format!(
                    "The manual partition assignment includes a partition with {} replica(s), but this is not consistent with previous partitions, which have {rf} replica(s).",
                    sorted.len()
                ),
            ));
        }
    }
    Ok(())
}
