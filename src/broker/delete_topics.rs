//! Deletes topics by name (or, from v6, by id): a RemoveTopicRecord in the metadata log, then
//! the partition directories.

use super::{Broker, HandlerResult, Reply};
use crate::protocol::codec::{Reader, ZERO_UUID};
use crate::protocol::delete_topics::*;
use crate::protocol::error;
use crate::security::acl;

pub fn handle(
    b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = DeleteTopicsRequest::decode(r, version)?;
    let mut responses = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let name = match t.name {
            Some(n) => b.meta.topic(n).map(|m| m.name.clone()),
            None => b.meta.topic_by_id(&t.topic_id).map(|m| m.name.clone()),
        };
        let mut result = DeletableTopicResult {
            name: t.name.map(str::to_string),
            topic_id: t.topic_id,
            error_code: error::NONE,
            error_message: None,
        };
        let denied = |n: &str| !b.authorized(acl::op::DELETE, acl::resource::TOPIC, n);
        match name {
            // Kafka checks DELETE on a named topic before it looks for it.
            _ if t.name.is_some_and(denied) || name.as_deref().is_some_and(denied) => {
                result.error_code = error::TOPIC_AUTHORIZATION_FAILED;
                result.error_message = Some("Authorization failed.".into());
            }
            None if t.name.is_some() || t.topic_id == ZERO_UUID => {
                result.error_code = error::UNKNOWN_TOPIC_OR_PARTITION;
                result.error_message =
                    Some("This server does not host this topic-partition.".into());
            }
            None => {
                result.error_code = error::UNKNOWN_TOPIC_ID;
                result.error_message = Some("This server does not host this topic ID.".into());
            }
            Some(name) => match b.delete_topic(&name) {
                Ok(id) => {
                    result.topic_id = id;
                    // Asked by id (v6), answered with the name too, as Kafka does.
                    result.name = Some(name);
                }
                Err((code, msg)) => (result.error_code, result.error_message) = (code, Some(msg)),
            },
        }
        responses.push(result);
    }
    DeleteTopicsResponse { throttle_time_ms: 0, responses }.encode(version, out);
    Ok(Reply::Sent)
}
