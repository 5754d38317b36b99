//! The in-process metadata image: what the metadata log says about topics and partitions.

use std::collections::{BTreeMap, HashMap};

use super::records::{MetadataRecord, PartitionRecord};
use crate::protocol::codec::Uuid;

/// ConfigRecord's resource type of a topic.
pub const RESOURCE_TOPIC: i8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMeta {
    pub partition_id: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub leader: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMeta {
    pub name: String,
    pub topic_id: Uuid,
    /// Sorted by partition id; ids are dense from 0 in practice, which `partition` exploits.
    pub partitions: Vec<PartitionMeta>,
}

impl TopicMeta {
    pub fn partition(&self, id: i32) -> Option<&PartitionMeta> {
        let i = usize::try_from(id).ok()?;
        match self.partitions.get(i) {
            Some(p) if p.partition_id == id => Some(p),
            _ => self
                .partitions
                .binary_search_by_key(&id, |p| p.partition_id)
                .ok()
                .map(|i| &self.partitions[i]),
        }
    }

    fn partition_mut(&mut self, id: i32) -> Option<&mut PartitionMeta> {
        let i = self.partitions.binary_search_by_key(&id, |p| p.partition_id).ok()?;
        Some(&mut self.partitions[i])
    }
}

#[derive(Debug, Default)]
pub struct Cache {
    topics: BTreeMap<String, TopicMeta>,
    names_by_id: HashMap<Uuid, String>,
    features: BTreeMap<String, i16>,
    /// The first producer id no block has been handed out for.
    next_producer_id: i64,
    /// Topic config overrides by topic name, as ConfigRecords left them.
    topic_configs: BTreeMap<String, BTreeMap<String, String>>,
    /// Dynamic configs of other resources (broker: 4) by (type, name).
    other_configs: BTreeMap<(i8, String), BTreeMap<String, String>>,
    /// SCRAM credentials by (user, mechanism type).
    scram: BTreeMap<(String, i8), crate::security::scram::Credential>,
    /// ACLs by id, in the order they were recorded.
    acls: Vec<crate::security::acl::StoredAcl>,
    /// The same ACLs indexed for decisions.
    acl_index: crate::security::acl_index::AclIndex,
}

impl Cache {
    pub fn scram_credential(
        &self,
        user: &str,
        mechanism: crate::security::scram::Mechanism,
    ) -> Option<&crate::security::scram::Credential> {
        self.scram.get(&(user.to_string(), mechanism.kafka_type()))
    }

    pub fn acls(&self) -> &[crate::security::acl::StoredAcl] {
        &self.acls
    }

    fn remove_acl(&mut self, id: Uuid) {
        if let Some(i) = self.acls.iter().position(|a| a.id == id) {
            let old = self.acls.remove(i);
            self.acl_index.remove(id, &old.binding);
        }
    }

    pub fn acl_index(&self) -> &crate::security::acl_index::AclIndex {
        &self.acl_index
    }

    /// Every SCRAM credential: ((user, mechanism type), credential).
    pub fn scram_credentials(
        &self,
    ) -> impl Iterator<Item = (&(String, i8), &crate::security::scram::Credential)> {
        self.scram.iter()
    }

    pub fn topic(&self, name: &str) -> Option<&TopicMeta> {
        self.topics.get(name)
    }

    pub fn topic_by_id(&self, id: &Uuid) -> Option<&TopicMeta> {
        self.names_by_id.get(id).and_then(|n| self.topics.get(n))
    }

    /// All topics, sorted by name.
    pub fn topics(&self) -> impl Iterator<Item = &TopicMeta> {
        self.topics.values()
    }

    pub fn feature_level(&self, name: &str) -> Option<i16> {
        self.features.get(name).copied()
    }

    /// The configs a topic overrides, if any.
    pub fn topic_configs(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.topic_configs.get(name)
    }

    /// The dynamic configs recorded for a resource of another type (broker: 4).
    pub fn resource_configs(
        &self,
        resource_type: i8,
        name: &str,
    ) -> Option<&BTreeMap<String, String>> {
        self.other_configs.get(&(resource_type, name.to_string()))
    }

    pub fn next_producer_id(&self) -> i64 {
        self.next_producer_id
    }

    pub fn partition_count(&self) -> usize {
        self.topics.values().map(|t| t.partitions.len()).sum()
    }

    pub fn apply(&mut self, rec: MetadataRecord) {
        match rec {
            MetadataRecord::FeatureLevel { name, feature_level } => {
                self.features.insert(name, feature_level);
            }
            MetadataRecord::Topic { name, topic_id } => {
                self.names_by_id.insert(topic_id, name.clone());
                self.topics.insert(name.clone(), TopicMeta { name, topic_id, partitions: vec![] });
            }
            MetadataRecord::Partition(p) => self.apply_partition(p),
            MetadataRecord::PartitionChange(c) => {
                let Some(t) = self.topic_mut(&c.topic_id) else { return };
                let Some(p) = t.partition_mut(c.partition_id) else { return };
                if let Some(isr) = c.isr {
                    p.isr = isr;
                }
                if let Some(replicas) = c.replicas {
                    p.replicas = replicas;
                }
                if c.leader != -2 {
                    p.leader = c.leader;
                    p.leader_epoch += 1;
                }
                p.partition_epoch += 1;
            }
            MetadataRecord::RemoveTopic { topic_id } => {
                if let Some(name) = self.names_by_id.remove(&topic_id) {
                    // Kafka's controller drops a deleted topic's configs with it.
                    self.topic_configs.remove(&name);
                    self.topics.remove(&name);
                }
            }
            MetadataRecord::UserScramCredential {
                name,
                mechanism,
                salt,
                stored_key,
                server_key,
                iterations,
            } => {
                let cred =
                    crate::security::scram::Credential { salt, iterations, stored_key, server_key };
                self.scram.insert((name, mechanism), cred);
            }
            MetadataRecord::RemoveUserScramCredential { name, mechanism } => {
                self.scram.remove(&(name, mechanism));
            }
            MetadataRecord::AccessControlEntry(acl) => {
                self.remove_acl(acl.id);
                self.acl_index.insert(acl.id, &acl.binding);
                self.acls.push(acl);
            }
            MetadataRecord::RemoveAccessControlEntry { id } => self.remove_acl(id),
            MetadataRecord::ProducerIds { next_producer_id, .. } => {
                self.next_producer_id = self.next_producer_id.max(next_producer_id);
            }
            MetadataRecord::Config { resource_type, resource_name, name, value } => {
                fn set<K: Ord>(
                    map: &mut BTreeMap<K, BTreeMap<String, String>>,
                    key: K,
                    name: String,
                    value: Option<String>,
                ) {
                    match value {
                        Some(v) => {
                            map.entry(key).or_default().insert(name, v);
                        }
                        None => {
                            if let Some(c) = map.get_mut(&key) {
                                c.remove(&name);
                                if c.is_empty() {
                                    map.remove(&key);
                                }
                            }
                        }
                    }
                }
                if resource_type == RESOURCE_TOPIC {
                    set(&mut self.topic_configs, resource_name, name, value);
                } else {
                    set(&mut self.other_configs, (resource_type, resource_name), name, value);
                }
            }
            MetadataRecord::Other { api_key, version } => {
                log::trace!("metadata record type {api_key} v{version} skipped");
            }
        }
    }

    fn topic_mut(&mut self, id: &Uuid) -> Option<&mut TopicMeta> {
        let name = self.names_by_id.get(id)?;
        self.topics.get_mut(name)
    }

    fn apply_partition(&mut self, p: PartitionRecord) {
        let Some(t) = self.topic_mut(&p.topic_id) else {
            log::debug!("PartitionRecord for unknown topic id skipped");
            return;
        };
        let meta = PartitionMeta {
            partition_id: p.partition_id,
            replicas: p.replicas,
            isr: p.isr,
            leader: p.leader,
            leader_epoch: p.leader_epoch,
            partition_epoch: p.partition_epoch,
        };
        match t.partitions.binary_search_by_key(&p.partition_id, |q| q.partition_id) {
            Ok(i) => t.partitions[i] = meta,
            Err(i) => t.partitions.insert(i, meta),
        }
    }
}
