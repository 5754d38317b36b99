//! The authorizer's state on the broker: which principal and host the request comes from,
//! and the StandardAuthorizer's settings (`authorizer.class.name`, `super.users`,
//! `allow.everyone.if.no.acl.found`) read once from the configuration.

use super::Broker;
use crate::config::Config;
use crate::security::acl::{self, Authorizer};

/// The class names that turn Kafka's StandardAuthorizer on.
pub const STANDARD_AUTHORIZER: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

pub fn from_config(config: &Config) -> Result<Authorizer, String> {
    let value = |k: &str| config.value(k).unwrap_or_default();
    let class = value("authorizer.class.name");
    let enabled = match class.trim() {
        "" => false,
        STANDARD_AUTHORIZER => true,
        other => {
            return Err(format!(
                "authorizer.class.name: {other} is not served (only {STANDARD_AUTHORIZER})"
            ))
        }
    };
    let super_users = value("super.users")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let allow_if_no_acl = match value("allow.everyone.if.no.acl.found").trim() {
        "true" => true,
        "false" => false,
        v => return Err(format!("allow.everyone.if.no.acl.found: '{v}' is not true or false")),
    };
    Ok(Authorizer { enabled, super_users, allow_if_no_acl })
}

impl Broker {
    /// Whether the request's principal may do `operation` on the resource.
    pub(crate) fn authorized(&self, operation: i8, resource_type: i8, name: &str) -> bool {
        if !self.authorizer.enabled {
            return true;
        }
        let acls = self.meta.acls().iter().map(|a| &a.binding);
        let host = self.ctx.peer.ip().to_string();
        self.authorizer.authorize(acls, &self.principal, &host, operation, resource_type, name)
    }

    /// Kafka's `topic_authorized_operations`: one bit per operation on a topic allowed.
    pub(crate) fn topic_operations(&self, name: &str) -> i32 {
        use acl::op::*;
        [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]
            .into_iter()
            .filter(|&o| self.authorized(o, acl::resource::TOPIC, name))
            .fold(0, |bits, o| bits | 1 << o)
    }

    pub(crate) fn cluster_authorized(&self, operation: i8) -> bool {
        self.authorized(operation, acl::resource::CLUSTER, acl::CLUSTER_NAME)
    }
}
