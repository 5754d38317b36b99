//! KRaft metadata records (`metadata/src/main/resources/common/metadata/*.json` in Kafka).
//!
//! A record's value is framed as `frameVersion:uvarint apiKey:uvarint version:uvarint`, then the
//! record's fields. Every metadata record is flexible from version 0: compact strings and
//! arrays, and tagged fields at the end. Only the records the broker acts on are decoded; any
//! other type is reported as `Other` and skipped.

use crate::protocol::codec::{DecodeError, Put, Reader, Result, Uuid};

pub const TOPIC_RECORD: u32 = 2;
pub const PARTITION_RECORD: u32 = 3;
pub const CONFIG_RECORD: u32 = 4;
pub const PARTITION_CHANGE_RECORD: u32 = 5;
pub const REMOVE_TOPIC_RECORD: u32 = 9;
pub const USER_SCRAM_CREDENTIAL_RECORD: u32 = 11;
pub const FEATURE_LEVEL_RECORD: u32 = 12;
pub const PRODUCER_IDS_RECORD: u32 = 15;
pub const ACCESS_CONTROL_ENTRY_RECORD: u32 = 18;
pub const REMOVE_ACCESS_CONTROL_ENTRY_RECORD: u32 = 19;
pub const REMOVE_USER_SCRAM_CREDENTIAL_RECORD: u32 = 22;

const FRAME_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRecord {
    pub partition_id: i32,
    pub topic_id: Uuid,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub leader: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
}

/// Only the changes a single-node broker cares about; `None` means unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionChangeRecord {
    pub partition_id: i32,
    pub topic_id: Uuid,
    pub isr: Option<Vec<i32>>,
    /// -1: no leader now; -2 (Kafka's default): leader unchanged.
    pub leader: i32,
    pub replicas: Option<Vec<i32>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataRecord {
    FeatureLevel {
        name: String,
        feature_level: i16,
    },
    Topic {
        name: String,
        topic_id: Uuid,
    },
    Partition(PartitionRecord),
    PartitionChange(PartitionChangeRecord),
    RemoveTopic {
        topic_id: Uuid,
    },
    ProducerIds {
        broker_id: i32,
        broker_epoch: i64,
        next_producer_id: i64,
    },
    /// A dynamic config of a resource (type 2: topic); `None` deletes it.
    Config {
        resource_type: i8,
        resource_name: String,
        name: String,
        value: Option<String>,
    },
    /// A user's SCRAM credential for one mechanism (Kafka's `ScramMechanism` type).
    UserScramCredential {
        name: String,
        mechanism: i8,
        salt: Vec<u8>,
        stored_key: Vec<u8>,
        server_key: Vec<u8>,
        iterations: i32,
    },
    RemoveUserScramCredential {
        name: String,
        mechanism: i8,
    },
    AccessControlEntry(crate::security::acl::StoredAcl),
    RemoveAccessControlEntry {
        id: Uuid,
    },
    Other {
        api_key: u32,
        version: u32,
    },
}

impl MetadataRecord {
    pub fn decode(value: &[u8]) -> Result<MetadataRecord> {
        let mut r = Reader::new(value);
        let frame = r.uvarint()?;
        if frame != FRAME_VERSION {
            return Err(DecodeError("unknown metadata record frame version"));
        }
        let api_key = r.uvarint()?;
        let version = r.uvarint()?;
        let rec = match api_key {
            FEATURE_LEVEL_RECORD => MetadataRecord::FeatureLevel {
                name: r.string(true)?.to_string(),
                feature_level: r.i16()?,
            },
            TOPIC_RECORD => {
                MetadataRecord::Topic { name: r.string(true)?.to_string(), topic_id: r.uuid()? }
            }
            PARTITION_RECORD => MetadataRecord::Partition(PartitionRecord {
                partition_id: r.i32()?,
                topic_id: r.uuid()?,
                replicas: r.i32_array(true)?,
                isr: r.i32_array(true)?,
                leader: {
                    r.i32_array(true)?; // removingReplicas
                    r.i32_array(true)?; // addingReplicas
                    r.i32()?
                },
                leader_epoch: r.i32()?,
                partition_epoch: r.i32()?,
            }),
            PARTITION_CHANGE_RECORD => {
                let mut c = PartitionChangeRecord {
                    partition_id: r.i32()?,
                    topic_id: r.uuid()?,
                    isr: None,
                    leader: -2,
                    replicas: None,
                };
                // Every field after the topic id is tagged in every version.
                r.tagged_fields(|tag, f| {
                    match tag {
                        0 => c.isr = Some(f.i32_array(true)?),
                        1 => c.leader = f.i32()?,
                        2 => c.replicas = Some(f.i32_array(true)?),
                        _ => {}
                    }
                    Ok(())
                })?;
                MetadataRecord::PartitionChange(c)
            }
            REMOVE_TOPIC_RECORD => MetadataRecord::RemoveTopic { topic_id: r.uuid()? },
            CONFIG_RECORD => MetadataRecord::Config {
                resource_type: r.i8()?,
                resource_name: r.string(true)?.to_string(),
                name: r.string(true)?.to_string(),
                value: r.nullable_string(true)?.map(str::to_string),
            },
            PRODUCER_IDS_RECORD => MetadataRecord::ProducerIds {
                broker_id: r.i32()?,
                broker_epoch: r.i64()?,
                next_producer_id: r.i64()?,
            },
            USER_SCRAM_CREDENTIAL_RECORD => MetadataRecord::UserScramCredential {
                name: r.string(true)?.to_string(),
                mechanism: r.i8()?,
                salt: r.nullable_bytes(true)?.ok_or(DecodeError("null salt"))?.to_vec(),
                stored_key: r.nullable_bytes(true)?.ok_or(DecodeError("null key"))?.to_vec(),
                server_key: r.nullable_bytes(true)?.ok_or(DecodeError("null key"))?.to_vec(),
                iterations: r.i32()?,
            },
            REMOVE_USER_SCRAM_CREDENTIAL_RECORD => MetadataRecord::RemoveUserScramCredential {
                name: r.string(true)?.to_string(),
                mechanism: r.i8()?,
            },
            ACCESS_CONTROL_ENTRY_RECORD => {
                let id = r.uuid()?;
                let binding = crate::security::acl::AclBinding {
                    resource_type: r.i8()?,
                    resource_name: r.string(true)?.to_string(),
                    pattern_type: r.i8()?,
                    principal: r.string(true)?.to_string(),
                    host: r.string(true)?.to_string(),
                    operation: r.i8()?,
                    permission_type: r.i8()?,
                };
                MetadataRecord::AccessControlEntry(crate::security::acl::StoredAcl { id, binding })
            }
            REMOVE_ACCESS_CONTROL_ENTRY_RECORD => {
                MetadataRecord::RemoveAccessControlEntry { id: r.uuid()? }
            }
            _ => MetadataRecord::Other { api_key, version },
        };
        Ok(rec)
    }

    /// Encodes the record at the version Kafka 3.x/4.x controllers write.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_uvarint(u64::from(FRAME_VERSION));
        match self {
            MetadataRecord::FeatureLevel { name, feature_level } => {
                head(out, FEATURE_LEVEL_RECORD, 0);
                out.put_string(name, true);
                out.put_i16(*feature_level);
            }
            MetadataRecord::Topic { name, topic_id } => {
                head(out, TOPIC_RECORD, 0);
                out.put_string(name, true);
                out.put_uuid(topic_id);
            }
            MetadataRecord::Partition(p) => {
                // v0: no per-replica directories, which a v1 record would need the
                // directory ids of every replica for.
                head(out, PARTITION_RECORD, 0);
                out.put_i32(p.partition_id);
                out.put_uuid(&p.topic_id);
                out.put_i32_array(&p.replicas, true);
                out.put_i32_array(&p.isr, true);
                out.put_i32_array(&[], true);
                out.put_i32_array(&[], true);
                out.put_i32(p.leader);
                out.put_i32(p.leader_epoch);
                out.put_i32(p.partition_epoch);
            }
            MetadataRecord::PartitionChange(c) => {
                head(out, PARTITION_CHANGE_RECORD, 0);
                out.put_i32(c.partition_id);
                out.put_uuid(&c.topic_id);
                let mut tags: Vec<(u64, Vec<u8>)> = Vec::new();
                if let Some(isr) = &c.isr {
                    let mut f = Vec::new();
                    f.put_i32_array(isr, true);
                    tags.push((0, f));
                }
                if c.leader != -2 {
                    tags.push((1, c.leader.to_be_bytes().to_vec()));
                }
                if let Some(replicas) = &c.replicas {
                    let mut f = Vec::new();
                    f.put_i32_array(replicas, true);
                    tags.push((2, f));
                }
                out.put_uvarint(tags.len() as u64);
                for (tag, f) in tags {
                    out.put_uvarint(tag);
                    out.put_uvarint(f.len() as u64);
                    out.extend_from_slice(&f);
                }
                return;
            }
            MetadataRecord::RemoveTopic { topic_id } => {
                head(out, REMOVE_TOPIC_RECORD, 0);
                out.put_uuid(topic_id);
            }
            MetadataRecord::ProducerIds { broker_id, broker_epoch, next_producer_id } => {
                head(out, PRODUCER_IDS_RECORD, 0);
                out.put_i32(*broker_id);
                out.put_i64(*broker_epoch);
                out.put_i64(*next_producer_id);
            }
            MetadataRecord::Config { resource_type, resource_name, name, value } => {
                head(out, CONFIG_RECORD, 0);
                out.put_i8(*resource_type);
                out.put_string(resource_name, true);
                out.put_string(name, true);
                out.put_nullable_string(value.as_deref(), true);
            }
            MetadataRecord::UserScramCredential {
                name,
                mechanism,
                salt,
                stored_key,
                server_key,
                iterations,
            } => {
                head(out, USER_SCRAM_CREDENTIAL_RECORD, 0);
                out.put_string(name, true);
                out.put_i8(*mechanism);
                out.put_nullable_bytes(Some(salt), true);
                out.put_nullable_bytes(Some(stored_key), true);
                out.put_nullable_bytes(Some(server_key), true);
                out.put_i32(*iterations);
            }
            MetadataRecord::RemoveUserScramCredential { name, mechanism } => {
                head(out, REMOVE_USER_SCRAM_CREDENTIAL_RECORD, 0);
                out.put_string(name, true);
                out.put_i8(*mechanism);
            }
            MetadataRecord::AccessControlEntry(acl) => {
                let b = &acl.binding;
                head(out, ACCESS_CONTROL_ENTRY_RECORD, 0);
                out.put_uuid(&acl.id);
                out.put_i8(b.resource_type);
                out.put_string(&b.resource_name, true);
                out.put_i8(b.pattern_type);
                out.put_string(&b.principal, true);
                out.put_string(&b.host, true);
                out.put_i8(b.operation);
                out.put_i8(b.permission_type);
            }
            MetadataRecord::RemoveAccessControlEntry { id } => {
                head(out, REMOVE_ACCESS_CONTROL_ENTRY_RECORD, 0);
                out.put_uuid(id);
            }
            MetadataRecord::Other { .. } => panic!("cannot encode an unknown metadata record"),
        }
        out.put_empty_tags(true);
    }
}

fn head(out: &mut Vec<u8>, api_key: u32, version: u32) {
    out.put_uvarint(u64::from(api_key));
    out.put_uvarint(u64::from(version));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let recs = [
            MetadataRecord::FeatureLevel { name: "metadata.version".into(), feature_level: 21 },
            MetadataRecord::Topic { name: "t".into(), topic_id: [7; 16] },
            MetadataRecord::Partition(PartitionRecord {
                partition_id: 2,
                topic_id: [7; 16],
                replicas: vec![1],
                isr: vec![1],
                leader: 1,
                leader_epoch: 0,
                partition_epoch: 0,
            }),
            MetadataRecord::PartitionChange(PartitionChangeRecord {
                partition_id: 2,
                topic_id: [7; 16],
                isr: Some(vec![1, 2]),
                leader: 2,
                replicas: None,
            }),
            MetadataRecord::RemoveTopic { topic_id: [7; 16] },
            MetadataRecord::ProducerIds { broker_id: 1, broker_epoch: -1, next_producer_id: 2000 },
            MetadataRecord::Config {
                resource_type: 2,
                resource_name: "t".into(),
                name: "cleanup.policy".into(),
                value: Some("compact".into()),
            },
            MetadataRecord::UserScramCredential {
                name: "alice".into(),
                mechanism: 2,
                salt: vec![1, 2, 3],
                stored_key: vec![4; 64],
                server_key: vec![5; 64],
                iterations: 4096,
            },
            MetadataRecord::RemoveUserScramCredential { name: "alice".into(), mechanism: 2 },
            MetadataRecord::AccessControlEntry(crate::security::acl::StoredAcl {
                id: [3; 16],
                binding: crate::security::acl::AclBinding {
                    resource_type: 2,
                    resource_name: "orders".into(),
                    pattern_type: 4,
                    principal: "User:alice".into(),
                    host: "*".into(),
                    operation: 4,
                    permission_type: 3,
                },
            }),
            MetadataRecord::RemoveAccessControlEntry { id: [3; 16] },
        ];
        for rec in recs {
            let mut b = Vec::new();
            rec.encode(&mut b);
            assert_eq!(MetadataRecord::decode(&b).unwrap(), rec);
        }
    }

    #[test]
    fn unknown_types_are_skipped_and_garbage_is_an_error() {
        assert_eq!(
            MetadataRecord::decode(&[1, 23, 0, 0]).unwrap(),
            MetadataRecord::Other { api_key: 23, version: 0 }
        );
        assert!(MetadataRecord::decode(&[1, 2, 0, 9]).is_err());
        assert!(MetadataRecord::decode(&[]).is_err());
    }
}
