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

/// Kafka's default message (`Errors.message()`) of an authorization error.
pub(crate) fn denial_message(code: i16) -> &'static str {
    use crate::protocol::error;
    match code {
        error::TOPIC_AUTHORIZATION_FAILED => "Topic authorization failed.",
        error::GROUP_AUTHORIZATION_FAILED => "Group authorization failed.",
        error::CLUSTER_AUTHORIZATION_FAILED => "Cluster authorization failed.",
        error::TRANSACTIONAL_ID_AUTHORIZATION_FAILED => "Transactional Id authorization failed.",
        _ => "",
    }
}

impl Broker {
    /// What CreateAcls and DeleteAcls answer every binding before looking at any: no
    /// authorizer, or a principal that may not ALTER the cluster (Kafka's words).
    pub(crate) fn acl_change_refusal(&self) -> Option<(i16, &'static str)> {
        if !self.authorizer.enabled {
            Some((crate::protocol::error::SECURITY_DISABLED, "No Authorizer is configured."))
        } else if !self.cluster_authorized(acl::op::ALTER) {
            Some((
                crate::protocol::error::CLUSTER_AUTHORIZATION_FAILED,
                "Cluster authorization failed.",
            ))
        } else {
            None
        }
    }

    /// Whether the request's principal may do `operation` on the resource.
    pub(crate) fn authorized(&self, operation: i8, resource_type: i8, name: &str) -> bool {
        if !self.authorizer.enabled {
            return true;
        }
        let (principal, peer) = (&self.principal, self.ctx.peer.ip());
        self.meta.acl_index().authorize(
            &self.authorizer,
            principal,
            peer,
            operation,
            resource_type,
            name,
        )
    }

    /// Kafka's authorized operations of a resource: one bit (`1 << code`) per operation of
    /// its type the principal may do (all of them without an authorizer, as Kafka).
    pub(crate) fn authorized_operations(&self, resource_type: i8, name: &str) -> i32 {
        crate::security::acl_index::operations_of(resource_type)
            .iter()
            .filter(|&&o| self.authorized(o, resource_type, name))
            .fold(0, |bits, &o| bits | 1 << o)
    }

    /// Kafka's `topic_authorized_operations`: one bit per operation on a topic allowed.
    pub(crate) fn topic_operations(&self, name: &str) -> i32 {
        self.authorized_operations(acl::resource::TOPIC, name)
    }

    /// Kafka's `authorizeByResourceType`: the operation allowed on some resource of the type.
    pub(crate) fn authorized_on_any(&self, operation: i8, resource_type: i8) -> bool {
        let (principal, peer) = (&self.principal, self.ctx.peer.ip());
        let index = self.meta.acl_index();
        index.authorize_any(&self.authorizer, principal, peer, operation, resource_type)
    }

    /// Kafka's check of a config resource (`ConfigResource.Type`: TOPIC 2, BROKER 4,
    /// BROKER_LOGGER 8, CLIENT_METRICS 16, GROUP 32) for DESCRIBE_CONFIGS or ALTER_CONFIGS:
    /// the error a denial answers, or `None`. Other types are left to the handler.
    pub(crate) fn config_resource_denied(
        &self,
        operation: i8,
        config_type: i8,
        name: &str,
    ) -> Option<i16> {
        use crate::protocol::error;
        let (allowed, code) = match config_type {
            2 => (
                self.authorized(operation, acl::resource::TOPIC, name),
                error::TOPIC_AUTHORIZATION_FAILED,
            ),
            4 | 8 | 16 => (self.cluster_authorized(operation), error::CLUSTER_AUTHORIZATION_FAILED),
            32 => (
                self.authorized(operation, acl::resource::GROUP, name),
                error::GROUP_AUTHORIZATION_FAILED,
            ),
            _ => return None,
        };
        (!allowed).then_some(code)
    }

    pub(crate) fn cluster_authorized(&self, operation: i8) -> bool {
        self.authorized(operation, acl::resource::CLUSTER, acl::CLUSTER_NAME)
    }
}
