//! ACLs as Kafka's StandardAuthorizer keeps and applies them: bindings of a resource pattern
//! (type, name, LITERAL or PREFIXED) to an entry (principal, host, operation, ALLOW or DENY),
//! the filters of DescribeAcls and DeleteAcls, and the decision for one action.
//!
//! A decision: super users may do anything; otherwise the ACLs whose pattern covers the
//! resource (its literal name, the literal wildcard `*`, or a prefix of its name) are read for
//! the principal (or `User:*`) and host (or `*`). One DENY of the operation (or ALL) denies;
//! else an ALLOW of it (or ALL, or of an operation that implies it: READ, WRITE, DELETE and
//! ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS) allows; else, when no ACL
//! at all covers the resource, `allow.everyone.if.no.acl.found` decides; else it is denied.

use crate::uuid::Uuid;

/// Kafka's `ResourceType` codes.
pub mod resource {
    pub const UNKNOWN: i8 = 0;
    pub const ANY: i8 = 1;
    pub const TOPIC: i8 = 2;
    pub const GROUP: i8 = 3;
    pub const CLUSTER: i8 = 4;
    pub const TRANSACTIONAL_ID: i8 = 5;
    pub const DELEGATION_TOKEN: i8 = 6;
    pub const USER: i8 = 7;
}

/// Kafka's `PatternType` codes.
pub mod pattern {
    pub const UNKNOWN: i8 = 0;
    pub const ANY: i8 = 1;
    pub const MATCH: i8 = 2;
    pub const LITERAL: i8 = 3;
    pub const PREFIXED: i8 = 4;
}

/// Kafka's `AclOperation` codes.
pub mod op {
    pub const UNKNOWN: i8 = 0;
    pub const ANY: i8 = 1;
    pub const ALL: i8 = 2;
    pub const READ: i8 = 3;
    pub const WRITE: i8 = 4;
    pub const CREATE: i8 = 5;
    pub const DELETE: i8 = 6;
    pub const ALTER: i8 = 7;
    pub const DESCRIBE: i8 = 8;
    pub const CLUSTER_ACTION: i8 = 9;
    pub const DESCRIBE_CONFIGS: i8 = 10;
    pub const ALTER_CONFIGS: i8 = 11;
    pub const IDEMPOTENT_WRITE: i8 = 12;
    pub const CREATE_TOKENS: i8 = 13;
    pub const DESCRIBE_TOKENS: i8 = 14;
    pub const TWO_PHASE_COMMIT: i8 = 15;
}

/// Kafka's `AclPermissionType` codes.
pub mod permission {
    pub const UNKNOWN: i8 = 0;
    pub const ANY: i8 = 1;
    pub const DENY: i8 = 2;
    pub const ALLOW: i8 = 3;
}

/// The one name a CLUSTER resource has.
pub const CLUSTER_NAME: &str = "kafka-cluster";
pub const WILDCARD: &str = "*";
pub const WILDCARD_PRINCIPAL: &str = "User:*";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AclBinding {
    pub resource_type: i8,
    pub resource_name: String,
    pub pattern_type: i8,
    pub principal: String,
    pub host: String,
    pub operation: i8,
    pub permission_type: i8,
}

/// A DescribeAcls or DeleteAcls filter; `None` names match anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclFilter<'a> {
    pub resource_type: i8,
    pub resource_name: Option<&'a str>,
    pub pattern_type: i8,
    pub principal: Option<&'a str>,
    pub host: Option<&'a str>,
    pub operation: i8,
    pub permission_type: i8,
}

impl AclFilter<'_> {
    /// Kafka's `AclBindingFilter.matches`.
    pub fn matches(&self, b: &AclBinding) -> bool {
        self.pattern_matches(b) && self.entry_matches(b)
    }

    fn pattern_matches(&self, b: &AclBinding) -> bool {
        if self.resource_type != resource::ANY && self.resource_type != b.resource_type {
            return false;
        }
        let p = self.pattern_type;
        if p != pattern::ANY && p != pattern::MATCH && p != b.pattern_type {
            return false;
        }
        let Some(name) = self.resource_name else { return true };
        if p == pattern::ANY || p == b.pattern_type {
            return name == b.resource_name;
        }
        // MATCH: the binding's pattern would apply to a resource of this name.
        match b.pattern_type {
            pattern::LITERAL => name == b.resource_name || b.resource_name == WILDCARD,
            pattern::PREFIXED => name.starts_with(&b.resource_name),
            _ => false,
        }
    }

    fn entry_matches(&self, b: &AclBinding) -> bool {
        self.principal.is_none_or(|p| p == b.principal)
            && self.host.is_none_or(|h| h == b.host)
            && (self.operation == op::ANY || self.operation == b.operation)
            && (self.permission_type == permission::ANY
                || self.permission_type == b.permission_type)
    }

    /// A filter naming UNKNOWN (or a code Kafka does not know) anywhere: Kafka's requests
    /// refuse it as they are parsed.
    pub fn has_unknown(&self) -> Option<&'static str> {
        let known = |v: i8, max: i8| (1..=max).contains(&v);
        if !known(self.resource_type, resource::USER)
            || !known(self.pattern_type, pattern::PREFIXED)
        {
            Some("unknown pattern filter")
        } else if !known(self.operation, op::TWO_PHASE_COMMIT)
            || !known(self.permission_type, permission::ALLOW)
        {
            Some("unknown entry filter")
        } else {
            None
        }
    }
}

/// Whether every code of the binding names one definite thing (no ANY, MATCH or UNKNOWN).
pub fn definite(b: &AclBinding) -> bool {
    (resource::TOPIC..=resource::USER).contains(&b.resource_type)
        && (b.pattern_type == pattern::LITERAL || b.pattern_type == pattern::PREFIXED)
        && (op::ALL..=op::TWO_PHASE_COMMIT).contains(&b.operation)
        && (b.permission_type == permission::ALLOW || b.permission_type == permission::DENY)
}

/// Why a binding cannot be created (Kafka's INVALID_REQUEST messages), if it cannot.
pub fn validate_new(b: &AclBinding) -> Result<(), String> {
    if b.resource_type == resource::CLUSTER && b.resource_name != CLUSTER_NAME {
        return Err(format!("The only valid name for the CLUSTER resource is {CLUSTER_NAME}"));
    }
    if b.resource_name.is_empty() {
        return Err("Invalid empty resource name".into());
    }
    if !(resource::TOPIC..=resource::USER).contains(&b.resource_type) {
        return Err(format!("Invalid resourceType {}", resource_type_name(b.resource_type)));
    }
    if b.pattern_type != pattern::LITERAL && b.pattern_type != pattern::PREFIXED {
        return Err(format!("Invalid patternType {}", pattern_type_name(b.pattern_type)));
    }
    if !(op::ALL..=op::TWO_PHASE_COMMIT).contains(&b.operation) {
        return Err(format!("Invalid operation {}", operation_name(b.operation)));
    }
    if b.permission_type != permission::ALLOW && b.permission_type != permission::DENY {
        return Err(format!("Invalid permissionType {}", permission_name(b.permission_type)));
    }
    Ok(())
}

pub fn resource_type_name(t: i8) -> &'static str {
    match t {
        resource::ANY => "ANY",
        resource::TOPIC => "TOPIC",
        resource::GROUP => "GROUP",
        resource::CLUSTER => "CLUSTER",
        resource::TRANSACTIONAL_ID => "TRANSACTIONAL_ID",
        resource::DELEGATION_TOKEN => "DELEGATION_TOKEN",
        resource::USER => "USER",
        _ => "UNKNOWN",
    }
}

pub fn pattern_type_name(t: i8) -> &'static str {
    match t {
        pattern::ANY => "ANY",
        pattern::MATCH => "MATCH",
        pattern::LITERAL => "LITERAL",
        pattern::PREFIXED => "PREFIXED",
        _ => "UNKNOWN",
    }
}

pub fn operation_name(o: i8) -> &'static str {
    const NAMES: [&str; 16] = [
        "UNKNOWN",
        "ANY",
        "ALL",
        "READ",
        "WRITE",
        "CREATE",
        "DELETE",
        "ALTER",
        "DESCRIBE",
        "CLUSTER_ACTION",
        "DESCRIBE_CONFIGS",
        "ALTER_CONFIGS",
        "IDEMPOTENT_WRITE",
        "CREATE_TOKENS",
        "DESCRIBE_TOKENS",
        "TWO_PHASE_COMMIT",
    ];
    usize::try_from(o).ok().and_then(|i| NAMES.get(i)).copied().unwrap_or("UNKNOWN")
}

pub fn permission_name(p: i8) -> &'static str {
    match p {
        permission::ANY => "ANY",
        permission::DENY => "DENY",
        permission::ALLOW => "ALLOW",
        _ => "UNKNOWN",
    }
}

/// The ACLs in force and the rules around them.
#[derive(Debug, Clone, Default)]
pub struct Authorizer {
    /// `authorizer.class.name` is set: without it every action is allowed and the ACL APIs
    /// answer SECURITY_DISABLED, as in Kafka.
    pub enabled: bool,
    pub super_users: Vec<String>,
    pub allow_if_no_acl: bool,
}

/// Whether `acl_op`, allowed, allows `wanted`.
pub(crate) fn implies(acl_op: i8, wanted: i8) -> bool {
    acl_op == op::ALL
        || acl_op == wanted
        || (wanted == op::DESCRIBE
            && matches!(acl_op, op::READ | op::WRITE | op::DELETE | op::ALTER))
        || (wanted == op::DESCRIBE_CONFIGS && acl_op == op::ALTER_CONFIGS)
}

impl Authorizer {
    /// Whether `principal` from `host` may do `operation` on the resource.
    pub fn authorize<'a>(
        &self,
        acls: impl IntoIterator<Item = &'a AclBinding>,
        principal: &str,
        host: &str,
        operation: i8,
        resource_type: i8,
        name: &str,
    ) -> bool {
        if !self.enabled || self.super_users.iter().any(|s| s == principal) {
            return true;
        }
        let mut covered = false;
        let mut allowed = false;
        for acl in acls {
            if acl.resource_type != resource_type {
                continue;
            }
            let applies = match acl.pattern_type {
                pattern::LITERAL => acl.resource_name == name || acl.resource_name == WILDCARD,
                pattern::PREFIXED => name.starts_with(&acl.resource_name),
                _ => false,
            };
            if !applies {
                continue;
            }
            covered = true;
            if (acl.principal != principal && acl.principal != WILDCARD_PRINCIPAL)
                || (acl.host != host && acl.host != WILDCARD)
            {
                continue;
            }
            match acl.permission_type {
                permission::DENY if acl.operation == op::ALL || acl.operation == operation => {
                    return false;
                }
                permission::ALLOW if implies(acl.operation, operation) => allowed = true,
                _ => {}
            }
        }
        allowed || (!covered && self.allow_if_no_acl)
    }
}

/// An ACL as Kafka's controller records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAcl {
    pub id: Uuid,
    pub binding: AclBinding,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(rt: i8, name: &str, pt: i8, principal: &str, o: i8, perm: i8) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: principal.into(),
            host: "*".into(),
            operation: o,
            permission_type: perm,
        }
    }

    #[test]
    fn decisions_follow_the_standard_authorizer() {
        let auth = Authorizer {
            enabled: true,
            super_users: vec!["User:admin".into()],
            allow_if_no_acl: false,
        };
        let acls = [
            acl(
                resource::TOPIC,
                "orders",
                pattern::LITERAL,
                "User:alice",
                op::WRITE,
                permission::ALLOW,
            ),
            acl(resource::TOPIC, "logs-", pattern::PREFIXED, "User:*", op::READ, permission::ALLOW),
            acl(
                resource::TOPIC,
                "logs-secret",
                pattern::LITERAL,
                "User:bob",
                op::ALL,
                permission::DENY,
            ),
            acl(
                resource::TOPIC,
                "*",
                pattern::LITERAL,
                "User:carol",
                op::ALTER_CONFIGS,
                permission::ALLOW,
            ),
        ];
        let ok = |p: &str, o: i8, name: &str| {
            auth.authorize(&acls, p, "10.0.0.1", o, resource::TOPIC, name)
        };
        assert!(ok("User:alice", op::WRITE, "orders"));
        assert!(ok("User:alice", op::DESCRIBE, "orders"), "WRITE implies DESCRIBE");
        assert!(!ok("User:alice", op::READ, "orders"));
        assert!(ok("User:bob", op::READ, "logs-app"), "a prefix for everyone");
        assert!(!ok("User:bob", op::READ, "logs-secret"), "a DENY wins");
        assert!(!ok("User:bob", op::DESCRIBE, "logs-secret"));
        assert!(ok("User:carol", op::DESCRIBE_CONFIGS, "anything"), "ALTER_CONFIGS implies it");
        assert!(!ok("User:carol", op::DESCRIBE, "anything"));
        assert!(ok("User:admin", op::DELETE, "orders"), "a super user");
        // No ACL covers the group: allow.everyone.if.no.acl.found decides.
        assert!(!auth.authorize(&acls, "User:alice", "h", op::READ, resource::GROUP, "g"));
        let lax = Authorizer { allow_if_no_acl: true, ..auth.clone() };
        assert!(lax.authorize(&acls, "User:alice", "h", op::READ, resource::GROUP, "g"));
        // ...but not for a resource some ACL covers.
        assert!(!lax.authorize(&acls, "User:dave", "h", op::WRITE, resource::TOPIC, "orders"));
        // Hosts.
        let host_acl = [AclBinding { host: "10.0.0.9".into(), ..acls[0].clone() }];
        assert!(!auth.authorize(
            &host_acl,
            "User:alice",
            "10.0.0.1",
            op::WRITE,
            resource::TOPIC,
            "orders"
        ));
        assert!(auth.authorize(
            &host_acl,
            "User:alice",
            "10.0.0.9",
            op::WRITE,
            resource::TOPIC,
            "orders"
        ));
        // Disabled: everything goes.
        let off = Authorizer::default();
        assert!(off.authorize(&acls, "User:x", "h", op::ALL, resource::CLUSTER, CLUSTER_NAME));
    }

    #[test]
    fn filters_match_as_kafkas_binding_filters() {
        let lit =
            acl(resource::TOPIC, "foo", pattern::LITERAL, "User:a", op::READ, permission::ALLOW);
        let wild =
            acl(resource::TOPIC, "*", pattern::LITERAL, "User:a", op::READ, permission::ALLOW);
        let pre =
            acl(resource::TOPIC, "fo", pattern::PREFIXED, "User:a", op::READ, permission::ALLOW);
        let f = |name: Option<&'static str>, pt: i8| AclFilter {
            resource_type: resource::ANY,
            resource_name: name,
            pattern_type: pt,
            principal: None,
            host: None,
            operation: op::ANY,
            permission_type: permission::ANY,
        };
        let m = |filter: &AclFilter| [&lit, &wild, &pre].map(|b| filter.matches(b));
        assert_eq!(m(&f(None, pattern::ANY)), [true, true, true]);
        assert_eq!(m(&f(Some("foo"), pattern::ANY)), [true, false, false]);
        assert_eq!(m(&f(Some("foo"), pattern::MATCH)), [true, true, true]);
        assert_eq!(m(&f(Some("foo"), pattern::LITERAL)), [true, false, false]);
        assert_eq!(m(&f(Some("fo"), pattern::PREFIXED)), [false, false, true]);
        assert_eq!(m(&f(None, pattern::PREFIXED)), [false, false, true]);
        let by_principal = AclFilter { principal: Some("User:b"), ..f(None, pattern::ANY) };
        assert_eq!(m(&by_principal), [false, false, false]);
        let by_op = AclFilter { operation: op::WRITE, ..f(None, pattern::ANY) };
        assert_eq!(m(&by_op), [false, false, false]);
    }

    #[test]
    fn new_bindings_are_validated_with_kafkas_messages() {
        let good =
            acl(resource::TOPIC, "t", pattern::LITERAL, "User:a", op::READ, permission::ALLOW);
        assert_eq!(validate_new(&good), Ok(()));
        let bad = |f: fn(&mut AclBinding)| {
            let mut b = good.clone();
            f(&mut b);
            validate_new(&b).unwrap_err()
        };
        assert_eq!(bad(|b| b.resource_type = resource::ANY), "Invalid resourceType ANY");
        assert_eq!(bad(|b| b.pattern_type = pattern::MATCH), "Invalid patternType MATCH");
        assert_eq!(bad(|b| b.operation = op::ANY), "Invalid operation ANY");
        assert_eq!(bad(|b| b.permission_type = permission::ANY), "Invalid permissionType ANY");
        assert_eq!(bad(|b| b.resource_name.clear()), "Invalid empty resource name");
        assert_eq!(
            bad(|b| b.resource_type = resource::CLUSTER),
            "The only valid name for the CLUSTER resource is kafka-cluster"
        );
    }
}
