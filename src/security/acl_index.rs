//! The ACLs in force indexed for the request path: a decision looks up the bindings of the
//! resource's literal name, the literal wildcard and each prefix of the name, instead of
//! scanning every binding, and compares hosts as parsed addresses, so a check allocates
//! nothing. The index changes with the metadata image, record by record.

use std::collections::HashMap;
use std::net::IpAddr;

use super::acl::{
    implies, op, pattern, permission, resource, AclBinding, Authorizer, WILDCARD,
    WILDCARD_PRINCIPAL,
};
use crate::uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Any,
    Ip(IpAddr),
    /// A host that is no address (a name): Kafka compares it with the peer's address text,
    /// which it never equals.
    Never,
}

#[derive(Debug, Clone)]
struct Entry {
    id: Uuid,
    principal: String,
    host: Host,
    operation: i8,
    permission_type: i8,
}

/// Bindings of one resource type.
#[derive(Debug, Default, Clone)]
struct ByType {
    literal: HashMap<String, Vec<Entry>>,
    prefixed: HashMap<String, Vec<Entry>>,
}

#[derive(Debug, Default, Clone)]
pub struct AclIndex {
    /// By resource type code (TOPIC..=USER).
    types: [ByType; 8],
}

impl AclIndex {
    fn slot(&mut self, b: &AclBinding) -> Option<&mut Vec<Entry>> {
        let t = self.types.get_mut(usize::try_from(b.resource_type).ok()?)?;
        let map = match b.pattern_type {
            pattern::LITERAL => &mut t.literal,
            pattern::PREFIXED => &mut t.prefixed,
            _ => return None,
        };
        Some(map.entry(b.resource_name.clone()).or_default())
    }

    pub fn insert(&mut self, id: Uuid, b: &AclBinding) {
        let host = match b.host.as_str() {
            WILDCARD => Host::Any,
            h => h.parse().map_or(Host::Never, Host::Ip),
        };
        let entry = Entry {
            id,
            principal: b.principal.clone(),
            host,
            operation: b.operation,
            permission_type: b.permission_type,
        };
        if let Some(v) = self.slot(b) {
            v.retain(|e| e.id != id);
            v.push(entry);
        }
    }

    pub fn remove(&mut self, id: Uuid, b: &AclBinding) {
        let Some(t) = usize::try_from(b.resource_type).ok().and_then(|i| self.types.get_mut(i))
        else {
            return;
        };
        let map =
            if b.pattern_type == pattern::PREFIXED { &mut t.prefixed } else { &mut t.literal };
        if let Some(v) = map.get_mut(&b.resource_name) {
            v.retain(|e| e.id != id);
            if v.is_empty() {
                map.remove(&b.resource_name);
            }
        }
    }

    /// Whether `principal` from `peer` may do `operation` on the resource: the same decision
    /// as `Authorizer::authorize` over every binding.
    pub fn authorize(
        &self,
        auth: &Authorizer,
        principal: &str,
        peer: IpAddr,
        operation: i8,
        resource_type: i8,
        name: &str,
    ) -> bool {
        if !auth.enabled || auth.super_users.iter().any(|s| s == principal) {
            return true;
        }
        let Some(t) = usize::try_from(resource_type).ok().and_then(|i| self.types.get(i)) else {
            return auth.allow_if_no_acl;
        };
        let literal = t.literal.get(name).into_iter();
        let wildcard = if name == WILDCARD { None } else { t.literal.get(WILDCARD) };
        let prefixes = name
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .filter_map(|end| t.prefixed.get(&name[..end]));
        let mut covered = false;
        let mut allowed = false;
        for entries in literal.chain(wildcard).chain(prefixes) {
            covered |= !entries.is_empty();
            for e in entries {
                if e.principal != principal && e.principal != WILDCARD_PRINCIPAL {
                    continue;
                }
                match e.host {
                    Host::Any => {}
                    Host::Ip(ip) if ip == peer => {}
                    _ => continue,
                }
                match e.permission_type {
                    permission::DENY if e.operation == op::ALL || e.operation == operation => {
                        return false;
                    }
                    permission::ALLOW if implies(e.operation, operation) => allowed = true,
                    _ => {}
                }
            }
        }
        allowed || (!covered && auth.allow_if_no_acl)
    }
}

impl AclIndex {
    /// Kafka's `Authorizer.authorizeByResourceType`: whether the principal may do `operation`
    /// on at least one resource of the type. An ALLOW of it counts unless a DENY covers
    /// everything the ALLOW does (the literal wildcard, the same literal name, or a prefix of
    /// the ALLOW's name).
    pub fn authorize_any(
        &self,
        auth: &Authorizer,
        principal: &str,
        peer: IpAddr,
        operation: i8,
        resource_type: i8,
    ) -> bool {
        // Kafka first asks about a resource named "hardcode": super users, and whatever
        // `allow.everyone.if.no.acl.found` or a wildcard or prefix ACL grants that name.
        if self.authorize(auth, principal, peer, operation, resource_type, "hardcode") {
            return true;
        }
        let Some(t) = usize::try_from(resource_type).ok().and_then(|i| self.types.get(i)) else {
            return false;
        };
        let applies = |e: &Entry, permission_type: i8| {
            e.permission_type == permission_type
                && (e.principal == principal || e.principal == WILDCARD_PRINCIPAL)
                && match e.host {
                    Host::Any => true,
                    Host::Ip(ip) => ip == peer,
                    Host::Never => false,
                }
                && (e.operation == op::ALL || e.operation == operation)
        };
        let any = |entries: &Vec<Entry>, p: i8| entries.iter().any(|e| applies(e, p));
        if t.literal.get(WILDCARD).is_some_and(|v| any(v, permission::DENY)) {
            return false;
        }
        let denied_prefix = |name: &str| {
            t.prefixed
                .iter()
                .any(|(prefix, v)| name.starts_with(prefix.as_str()) && any(v, permission::DENY))
        };
        let literal_allowed = t.literal.iter().any(|(name, v)| {
            any(v, permission::ALLOW)
                && (name == WILDCARD || (!any(v, permission::DENY) && !denied_prefix(name)))
        });
        literal_allowed
            || t.prefixed.iter().any(|(name, v)| any(v, permission::ALLOW) && !denied_prefix(name))
    }
}

/// Kafka's authorized-operations bits for a resource type: the operations a describe answer
/// reports, one bit each (`1 << code`).
pub fn operations_of(resource_type: i8) -> &'static [i8] {
    use op::*;
    match resource_type {
        resource::TOPIC => {
            &[READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]
        }
        resource::GROUP => &[READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS],
        resource::CLUSTER => &[
            CREATE,
            CLUSTER_ACTION,
            DESCRIBE_CONFIGS,
            ALTER_CONFIGS,
            IDEMPOTENT_WRITE,
            ALTER,
            DESCRIBE,
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn some_resource_of_a_type_as_kafkas_authorize_by_resource_type() {
        let auth = Authorizer { enabled: true, super_users: vec![], allow_if_no_acl: false };
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let b = |name: &str, pt: i8, o: i8, perm: i8| AclBinding {
            resource_type: resource::TOPIC,
            resource_name: name.into(),
            pattern_type: pt,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: o,
            permission_type: perm,
        };
        let any = |bindings: &[AclBinding], auth: &Authorizer| {
            let mut index = AclIndex::default();
            for (i, x) in bindings.iter().enumerate() {
                index.insert([i as u8; 16], x);
            }
            index.authorize_any(auth, "User:alice", ip, op::WRITE, resource::TOPIC)
        };
        let (lit, pre) = (pattern::LITERAL, pattern::PREFIXED);
        let (allow, deny) = (permission::ALLOW, permission::DENY);
        assert!(!any(&[], &auth));
        assert!(any(&[], &Authorizer { allow_if_no_acl: true, ..auth.clone() }));
        assert!(any(&[b("t", lit, op::WRITE, allow)], &auth));
        assert!(any(&[b("t", lit, op::ALL, allow)], &auth));
        assert!(!any(&[b("t", lit, op::READ, allow)], &auth), "READ does not imply WRITE");
        assert!(!any(&[b("t", lit, op::WRITE, allow), b("t", lit, op::WRITE, deny)], &auth));
        assert!(!any(&[b("t", lit, op::WRITE, allow), b("*", lit, op::ALL, deny)], &auth));
        assert!(!any(&[b("tx", pre, op::WRITE, allow), b("t", pre, op::WRITE, deny)], &auth));
        // A literal DENY of the same name does not dominate a prefix ALLOW.
        assert!(any(&[b("tx", pre, op::WRITE, allow), b("tx", lit, op::WRITE, deny)], &auth));
        assert!(any(&[b("t", lit, op::WRITE, allow), b("u", pre, op::WRITE, deny)], &auth));
        assert!(any(&[b("*", lit, op::WRITE, allow)], &auth));
        let admin = Authorizer { super_users: vec!["User:alice".into()], ..auth.clone() };
        assert!(any(&[b("*", lit, op::ALL, deny)], &admin), "a super user");
    }

    /// The index decides as the scan over every binding, on a mix of literal, wildcard,
    /// prefixed, host-bound and DENY bindings.
    #[test]
    fn the_index_decides_as_the_full_scan() {
        let names = ["orders", "orders-eu", "ord", "*", "logs", "l", "é-x"];
        let principals = ["User:alice", "User:bob", "User:*"];
        let hosts = ["*", "10.0.0.1", "10.0.0.2", "somehost"];
        let mut bindings = Vec::new();
        let mut seed = 7u32;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as usize % n
        };
        for _ in 0..300 {
            let pattern_type = if next(3) == 0 { pattern::PREFIXED } else { pattern::LITERAL };
            let name = names[next(names.len())];
            bindings.push(AclBinding {
                resource_type: [resource::TOPIC, resource::GROUP][next(2)],
                resource_name: name.into(),
                pattern_type,
                principal: principals[next(3)].into(),
                host: hosts[next(hosts.len())].into(),
                operation: (op::ALL..=op::IDEMPOTENT_WRITE).nth(next(11)).unwrap(),
                permission_type: if next(4) == 0 { permission::DENY } else { permission::ALLOW },
            });
        }
        for allow_if_no_acl in [false, true] {
            let auth = Authorizer { enabled: true, super_users: vec![], allow_if_no_acl };
            for n in [10, 40, 300] {
                let mut index = AclIndex::default();
                for (i, b) in bindings[..n].iter().enumerate() {
                    index.insert([i as u8; 16], b);
                }
                // Remove a few to exercise removal.
                for (i, b) in bindings[..n].iter().enumerate().step_by(7) {
                    index.remove([i as u8; 16], b);
                }
                let kept: Vec<_> = bindings[..n]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % 7 != 0)
                    .map(|(_, b)| b)
                    .collect();
                for rt in [resource::TOPIC, resource::GROUP, resource::CLUSTER] {
                    for name in ["orders", "orders-eu", "ord", "logs-1", "x", "é-x", "*"] {
                        for p in ["User:alice", "User:bob", "User:carol"] {
                            for host in ["10.0.0.1", "10.0.0.3"] {
                                for o in op::READ..=op::IDEMPOTENT_WRITE {
                                    let ip: IpAddr = host.parse().unwrap();
                                    let want =
                                        auth.authorize(kept.iter().copied(), p, host, o, rt, name);
                                    let got = index.authorize(&auth, p, ip, o, rt, name);
                                    assert_eq!(got, want, "{p} {host} op {o} type {rt} {name}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
