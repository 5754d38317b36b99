//! The `__consumer_offsets` records of consumer groups that run Kafka's consumer protocol
//! (KIP-848), in the bytes Kafka 4.x writes, so a log directory keeps such groups when it moves
//! to Kafka (and back).
//!
//! Every record key starts with an int16 record type (the schema's `apiKey`, Kafka's
//! `CoordinatorRecordType`), followed by the key struct at version 0 in the classic (non
//! flexible) encoding. Every value starts with an int16 version, followed by the value struct
//! at that version, flexible (compact lengths, tagged fields). A null value is a tombstone.
//! Types 0 to 2 are the classic records of [`super::offsets`], 10 to 15 share groups', 17 and
//! up streams groups'; these come back as [`Decoded::Other`].
//!
//! Kafka's generated code has two quirks for tagged fields whose schema default is null: the
//! struct or array written when the field is *absent* is the empty one, and an explicit null
//! is written as a tag of its own. `ClassicMemberMetadata` and `AssignmentEpochs` are
//! therefore `Option`s where `None` is that explicit null and an absent tag reads as
//! `Some(empty)`, so that decoding and encoding again gives back Kafka's bytes.

use crate::protocol::codec::{DecodeError, Put, Reader, Result, Uuid};

pub const CONSUMER_GROUP_METADATA: i16 = 3;
pub const CONSUMER_GROUP_PARTITION_METADATA: i16 = 4;
pub const CONSUMER_GROUP_MEMBER_METADATA: i16 = 5;
pub const CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA: i16 = 6;
pub const CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER: i16 = 7;
pub const CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: i16 = 8;
pub const CONSUMER_GROUP_REGULAR_EXPRESSION: i16 = 16;

/// `MemberState` as stored in `ConsumerGroupCurrentMemberAssignmentValue.State`.
pub const MEMBER_STATE_STABLE: i8 = 0;
pub const MEMBER_STATE_UNREVOKED_PARTITIONS: i8 = 1;
pub const MEMBER_STATE_UNRELEASED_PARTITIONS: i8 = 2;
pub const MEMBER_STATE_UNKNOWN: i8 = 127;

/// `ConsumerGroupMetadataValue`: the group epoch, and since 4.0 the hash of the subscribed
/// topics' metadata (tag 0, written when not 0) that replaced the partition metadata record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMetadataValue {
    pub epoch: i32,
    pub metadata_hash: i64,
}

/// `ConsumerGroupPartitionMetadataValue`: no longer written by Kafka 4.x, which only deletes it
/// (tombstone) when it moves a group to the metadata hash; decoded for older logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionMetadataValue {
    pub topics: Vec<TopicMetadata>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicMetadata {
    pub topic_id: Uuid,
    pub topic_name: String,
    pub num_partitions: i32,
    pub partition_metadata: Vec<PartitionRacks>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionRacks {
    pub partition: i32,
    pub racks: Vec<String>,
}

/// `ConsumerGroupMemberMetadataValue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberMetadataValue {
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    pub subscribed_topic_regex: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub server_assignor: Option<String>,
    /// Tag 0. `None` (written as an explicit null) for a member of the consumer protocol;
    /// an absent tag reads as the empty struct, see the module comment.
    pub classic_member_metadata: Option<ClassicMemberMetadata>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassicMemberMetadata {
    pub session_timeout_ms: i32,
    pub supported_protocols: Vec<ClassicProtocol>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassicProtocol {
    pub name: String,
    pub metadata: Vec<u8>,
}

/// `ConsumerGroupTargetAssignmentMetadataValue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetAssignmentMetadataValue {
    pub assignment_epoch: i32,
    /// Tag 0, written when not 0.
    pub assignment_timestamp: i64,
}

/// `ConsumerGroupTargetAssignmentMemberValue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetAssignmentMemberValue {
    pub topic_partitions: Vec<TopicPartitions>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicPartitions {
    pub topic_id: Uuid,
    pub partitions: Vec<i32>,
}

/// `ConsumerGroupCurrentMemberAssignmentValue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentMemberAssignmentValue {
    pub member_epoch: i32,
    pub previous_member_epoch: i32,
    /// One of the `MEMBER_STATE_*` values.
    pub state: i8,
    pub assigned_partitions: Vec<AssignedPartitions>,
    pub partitions_pending_revocation: Vec<AssignedPartitions>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignedPartitions {
    pub topic_id: Uuid,
    pub partitions: Vec<i32>,
    /// Tag 0: the epoch each partition was assigned at, to fence zombie commits. `None` is
    /// an explicit null; an absent tag reads as `Some(vec![])`.
    pub assignment_epochs: Option<Vec<i32>>,
}

/// `ConsumerGroupRegularExpressionValue`: the topics a subscribed regex resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegularExpressionValue {
    pub topics: Vec<String>,
    pub version: i64,
    pub timestamp: i64,
}

/// A consumer group record of `__consumer_offsets`; every `value` of `None` is a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerGroupRecord {
    GroupMetadata {
        group_id: String,
        value: Option<GroupMetadataValue>,
    },
    PartitionMetadata {
        group_id: String,
        value: Option<PartitionMetadataValue>,
    },
    MemberMetadata {
        group_id: String,
        member_id: String,
        value: Option<MemberMetadataValue>,
    },
    TargetAssignmentMetadata {
        group_id: String,
        value: Option<TargetAssignmentMetadataValue>,
    },
    TargetAssignmentMember {
        group_id: String,
        member_id: String,
        value: Option<TargetAssignmentMemberValue>,
    },
    CurrentMemberAssignment {
        group_id: String,
        member_id: String,
        value: Option<CurrentMemberAssignmentValue>,
    },
    RegularExpression {
        group_id: String,
        regular_expression: String,
        value: Option<RegularExpressionValue>,
    },
}

/// What a `__consumer_offsets` record is, as far as this module is concerned.
// Records are decoded one at a time and taken apart at once, never kept in bulk as `Decoded`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    ConsumerGroup(ConsumerGroupRecord),
    /// A record type this module does not read: classic offsets and groups, share and streams
    /// groups, or one newer than Kafka 4.x.
    Other {
        record_type: i16,
    },
}

impl ConsumerGroupRecord {
    /// The group the record belongs to (and the `__consumer_offsets` partition it goes to).
    pub fn group_id(&self) -> &str {
        match self {
            ConsumerGroupRecord::GroupMetadata { group_id, .. }
            | ConsumerGroupRecord::PartitionMetadata { group_id, .. }
            | ConsumerGroupRecord::MemberMetadata { group_id, .. }
            | ConsumerGroupRecord::TargetAssignmentMetadata { group_id, .. }
            | ConsumerGroupRecord::TargetAssignmentMember { group_id, .. }
            | ConsumerGroupRecord::CurrentMemberAssignment { group_id, .. }
            | ConsumerGroupRecord::RegularExpression { group_id, .. } => group_id,
        }
    }

    pub fn record_type(&self) -> i16 {
        match self {
            ConsumerGroupRecord::GroupMetadata { .. } => CONSUMER_GROUP_METADATA,
            ConsumerGroupRecord::PartitionMetadata { .. } => CONSUMER_GROUP_PARTITION_METADATA,
            ConsumerGroupRecord::MemberMetadata { .. } => CONSUMER_GROUP_MEMBER_METADATA,
            ConsumerGroupRecord::TargetAssignmentMetadata { .. } => {
                CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA
            }
            ConsumerGroupRecord::TargetAssignmentMember { .. } => {
                CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER
            }
            ConsumerGroupRecord::CurrentMemberAssignment { .. } => {
                CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT
            }
            ConsumerGroupRecord::RegularExpression { .. } => CONSUMER_GROUP_REGULAR_EXPRESSION,
        }
    }

    /// True for a tombstone (a null value).
    pub fn is_tombstone(&self) -> bool {
        match self {
            ConsumerGroupRecord::GroupMetadata { value, .. } => value.is_none(),
            ConsumerGroupRecord::PartitionMetadata { value, .. } => value.is_none(),
            ConsumerGroupRecord::MemberMetadata { value, .. } => value.is_none(),
            ConsumerGroupRecord::TargetAssignmentMetadata { value, .. } => value.is_none(),
            ConsumerGroupRecord::TargetAssignmentMember { value, .. } => value.is_none(),
            ConsumerGroupRecord::CurrentMemberAssignment { value, .. } => value.is_none(),
            ConsumerGroupRecord::RegularExpression { value, .. } => value.is_none(),
        }
    }

    /// The record's key and value bytes; a `None` value is a tombstone.
    pub fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut key = Vec::with_capacity(64);
        key.put_i16(self.record_type());
        key.put_string(self.group_id(), false);
        match self {
            ConsumerGroupRecord::MemberMetadata { member_id, .. }
            | ConsumerGroupRecord::TargetAssignmentMember { member_id, .. }
            | ConsumerGroupRecord::CurrentMemberAssignment { member_id, .. } => {
                key.put_string(member_id, false)
            }
            ConsumerGroupRecord::RegularExpression { regular_expression, .. } => {
                key.put_string(regular_expression, false)
            }
            _ => {}
        }
        let value = match self {
            ConsumerGroupRecord::GroupMetadata { value, .. } => value.as_ref().map(|v| {
                let mut b = value_header();
                b.put_i32(v.epoch);
                let mut tags = Vec::new();
                if v.metadata_hash != 0 {
                    tags.push((0, v.metadata_hash.to_be_bytes().to_vec()));
                }
                put_tags(&mut b, &tags);
                b
            }),
            ConsumerGroupRecord::PartitionMetadata { value, .. } => value.as_ref().map(|v| {
                let mut b = value_header();
                put_array(&mut b, &v.topics, |b, t| {
                    b.put_uuid(&t.topic_id);
                    b.put_string(&t.topic_name, true);
                    b.put_i32(t.num_partitions);
                    put_array(b, &t.partition_metadata, |b, p| {
                        b.put_i32(p.partition);
                        put_strings(b, &p.racks);
                        b.put_empty_tags(true);
                    });
                    b.put_empty_tags(true);
                });
                b.put_empty_tags(true);
                b
            }),
            ConsumerGroupRecord::MemberMetadata { value, .. } => value.as_ref().map(|v| {
                let mut b = value_header();
                b.put_nullable_string(v.instance_id.as_deref(), true);
                b.put_nullable_string(v.rack_id.as_deref(), true);
                b.put_string(&v.client_id, true);
                b.put_string(&v.client_host, true);
                put_strings(&mut b, &v.subscribed_topic_names);
                b.put_nullable_string(v.subscribed_topic_regex.as_deref(), true);
                b.put_i32(v.rebalance_timeout_ms);
                b.put_nullable_string(v.server_assignor.as_deref(), true);
                let mut tags = Vec::new();
                match &v.classic_member_metadata {
                    None => tags.push((0, vec![0])),
                    Some(c) if *c == ClassicMemberMetadata::default() => {}
                    Some(c) => {
                        let mut f = vec![1];
                        f.put_i32(c.session_timeout_ms);
                        put_array(&mut f, &c.supported_protocols, |f, p| {
                            f.put_string(&p.name, true);
                            f.put_nullable_bytes(Some(&p.metadata), true);
                            f.put_empty_tags(true);
                        });
                        f.put_empty_tags(true);
                        tags.push((0, f));
                    }
                }
                put_tags(&mut b, &tags);
                b
            }),
            ConsumerGroupRecord::TargetAssignmentMetadata { value, .. } => {
                value.as_ref().map(|v| {
                    let mut b = value_header();
                    b.put_i32(v.assignment_epoch);
                    let mut tags = Vec::new();
                    if v.assignment_timestamp != 0 {
                        tags.push((0, v.assignment_timestamp.to_be_bytes().to_vec()));
                    }
                    put_tags(&mut b, &tags);
                    b
                })
            }
            ConsumerGroupRecord::TargetAssignmentMember { value, .. } => value.as_ref().map(|v| {
                let mut b = value_header();
                put_array(&mut b, &v.topic_partitions, |b, t| {
                    b.put_uuid(&t.topic_id);
                    b.put_i32_array(&t.partitions, true);
                    b.put_empty_tags(true);
                });
                b.put_empty_tags(true);
                b
            }),
            ConsumerGroupRecord::CurrentMemberAssignment { value, .. } => value.as_ref().map(|v| {
                let mut b = value_header();
                b.put_i32(v.member_epoch);
                b.put_i32(v.previous_member_epoch);
                b.put_i8(v.state);
                put_array(&mut b, &v.assigned_partitions, put_assigned);
                put_array(&mut b, &v.partitions_pending_revocation, put_assigned);
                b.put_empty_tags(true);
                b
            }),
            ConsumerGroupRecord::RegularExpression { value, .. } => value.as_ref().map(|v| {
                let mut b = value_header();
                put_strings(&mut b, &v.topics);
                b.put_i64(v.version);
                b.put_i64(v.timestamp);
                b.put_empty_tags(true);
                b
            }),
        };
        (key, value)
    }
}

/// Every value schema here has only version 0.
fn value_header() -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    b.put_i16(0);
    b
}

fn put_tags(b: &mut Vec<u8>, tags: &[(u32, Vec<u8>)]) {
    b.put_uvarint(tags.len() as u64);
    for (tag, field) in tags {
        b.put_uvarint(u64::from(*tag));
        b.put_uvarint(field.len() as u64);
        b.extend_from_slice(field);
    }
}

fn put_array<T>(b: &mut Vec<u8>, items: &[T], mut f: impl FnMut(&mut Vec<u8>, &T)) {
    b.put_array_len(Some(items.len()), true);
    for item in items {
        f(b, item);
    }
}

fn put_strings(b: &mut Vec<u8>, items: &[String]) {
    put_array(b, items, |b, s| b.put_string(s, true));
}

fn put_assigned(b: &mut Vec<u8>, t: &AssignedPartitions) {
    b.put_uuid(&t.topic_id);
    b.put_i32_array(&t.partitions, true);
    let mut tags = Vec::new();
    match &t.assignment_epochs {
        None => tags.push((0, vec![0])),
        Some(e) if e.is_empty() => {}
        Some(e) => {
            let mut f = Vec::with_capacity(1 + 4 * e.len());
            f.put_i32_array(e, true);
            tags.push((0, f));
        }
    }
    put_tags(b, &tags);
}

/// Kafka rejects a null where the schema does not allow one; so do we, rather than reading
/// it as empty and writing back different bytes.
fn array<'a, T>(r: &mut Reader<'a>, f: impl FnMut(&mut Reader<'a>) -> Result<T>) -> Result<Vec<T>> {
    let mut probe = r.clone();
    if probe.array_len(true)?.is_none() {
        return Err(DecodeError("null array in a non-nullable field"));
    }
    r.array(true, f)
}

fn strings(r: &mut Reader<'_>) -> Result<Vec<String>> {
    array(r, |r| Ok(r.string(true)?.to_string()))
}

fn opt_string(r: &mut Reader<'_>) -> Result<Option<String>> {
    Ok(r.nullable_string(true)?.map(str::to_string))
}

fn i32s(r: &mut Reader<'_>) -> Result<Vec<i32>> {
    array(r, |r| r.i32())
}

fn assigned(r: &mut Reader<'_>) -> Result<AssignedPartitions> {
    let topic_id = r.uuid()?;
    let partitions = i32s(r)?;
    let mut assignment_epochs = Some(Vec::new());
    r.tagged_fields(|tag, f| {
        if tag == 0 {
            let mut probe = f.clone();
            assignment_epochs = match probe.array_len(true)? {
                None => None,
                Some(_) => Some(f.i32_array(true)?),
            };
        }
        Ok(())
    })?;
    Ok(AssignedPartitions { topic_id, partitions, assignment_epochs })
}

/// Decodes one `__consumer_offsets` record. Errors are for bytes that do not follow the
/// schema of a known record type (truncated, a null where none is allowed, an unknown value
/// version); unknown record types are [`Decoded::Other`].
pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Decoded> {
    let mut k = Reader::new(key);
    let record_type = k.i16()?;
    if !matches!(record_type, 3..=8 | 16) {
        return Ok(Decoded::Other { record_type });
    }
    let group_id = k.string(false)?.to_string();
    let mut v = match value {
        None => None,
        Some(b) => {
            let mut r = Reader::new(b);
            if r.i16()? != 0 {
                return Err(DecodeError("unsupported consumer group record value version"));
            }
            Some(r)
        }
    };
    let rec = match record_type {
        CONSUMER_GROUP_METADATA => ConsumerGroupRecord::GroupMetadata {
            group_id,
            value: v
                .as_mut()
                .map(|r| {
                    let epoch = r.i32()?;
                    let mut metadata_hash = 0;
                    r.tagged_fields(|tag, f| {
                        if tag == 0 {
                            metadata_hash = f.i64()?;
                        }
                        Ok(())
                    })?;
                    Ok(GroupMetadataValue { epoch, metadata_hash })
                })
                .transpose()?,
        },
        CONSUMER_GROUP_PARTITION_METADATA => ConsumerGroupRecord::PartitionMetadata {
            group_id,
            value: v
                .as_mut()
                .map(|r| {
                    let topics = array(r, |r| {
                        let topic_id = r.uuid()?;
                        let topic_name = r.string(true)?.to_string();
                        let num_partitions = r.i32()?;
                        let partition_metadata = array(r, |r| {
                            let partition = r.i32()?;
                            let racks = strings(r)?;
                            r.skip_tagged_fields()?;
                            Ok(PartitionRacks { partition, racks })
                        })?;
                        r.skip_tagged_fields()?;
                        Ok(TopicMetadata {
                            topic_id,
                            topic_name,
                            num_partitions,
                            partition_metadata,
                        })
                    })?;
                    r.skip_tagged_fields()?;
                    Ok(PartitionMetadataValue { topics })
                })
                .transpose()?,
        },
        CONSUMER_GROUP_MEMBER_METADATA => ConsumerGroupRecord::MemberMetadata {
            group_id,
            member_id: k.string(false)?.to_string(),
            value: v.as_mut().map(member_metadata).transpose()?,
        },
        CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA => {
            ConsumerGroupRecord::TargetAssignmentMetadata {
                group_id,
                value: v
                    .as_mut()
                    .map(|r| {
                        let assignment_epoch = r.i32()?;
                        let mut assignment_timestamp = 0;
                        r.tagged_fields(|tag, f| {
                            if tag == 0 {
                                assignment_timestamp = f.i64()?;
                            }
                            Ok(())
                        })?;
                        Ok(TargetAssignmentMetadataValue { assignment_epoch, assignment_timestamp })
                    })
                    .transpose()?,
            }
        }
        CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER => ConsumerGroupRecord::TargetAssignmentMember {
            group_id,
            member_id: k.string(false)?.to_string(),
            value: v
                .as_mut()
                .map(|r| {
                    let topic_partitions = array(r, |r| {
                        let topic_id = r.uuid()?;
                        let partitions = i32s(r)?;
                        r.skip_tagged_fields()?;
                        Ok(TopicPartitions { topic_id, partitions })
                    })?;
                    r.skip_tagged_fields()?;
                    Ok(TargetAssignmentMemberValue { topic_partitions })
                })
                .transpose()?,
        },
        CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT => ConsumerGroupRecord::CurrentMemberAssignment {
            group_id,
            member_id: k.string(false)?.to_string(),
            value: v
                .as_mut()
                .map(|r| {
                    let member_epoch = r.i32()?;
                    let previous_member_epoch = r.i32()?;
                    let state = r.i8()?;
                    let assigned_partitions = array(r, assigned)?;
                    let partitions_pending_revocation = array(r, assigned)?;
                    r.skip_tagged_fields()?;
                    Ok(CurrentMemberAssignmentValue {
                        member_epoch,
                        previous_member_epoch,
                        state,
                        assigned_partitions,
                        partitions_pending_revocation,
                    })
                })
                .transpose()?,
        },
        _ => ConsumerGroupRecord::RegularExpression {
            group_id,
            regular_expression: k.string(false)?.to_string(),
            value: v
                .as_mut()
                .map(|r| {
                    let topics = strings(r)?;
                    let version = r.i64()?;
                    let timestamp = r.i64()?;
                    r.skip_tagged_fields()?;
                    Ok(RegularExpressionValue { topics, version, timestamp })
                })
                .transpose()?,
        },
    };
    Ok(Decoded::ConsumerGroup(rec))
}

fn member_metadata(r: &mut Reader<'_>) -> Result<MemberMetadataValue> {
    let instance_id = opt_string(r)?;
    let rack_id = opt_string(r)?;
    let client_id = r.string(true)?.to_string();
    let client_host = r.string(true)?.to_string();
    let subscribed_topic_names = strings(r)?;
    let subscribed_topic_regex = opt_string(r)?;
    let rebalance_timeout_ms = r.i32()?;
    let server_assignor = opt_string(r)?;
    let mut classic_member_metadata = Some(ClassicMemberMetadata::default());
    r.tagged_fields(|tag, f| {
        if tag == 0 {
            classic_member_metadata = if f.uvarint()? == 0 {
                None
            } else {
                let session_timeout_ms = f.i32()?;
                let supported_protocols = array(f, |f| {
                    let name = f.string(true)?.to_string();
                    let metadata = f
                        .nullable_bytes(true)?
                        .ok_or(DecodeError("null protocol metadata"))?
                        .to_vec();
                    f.skip_tagged_fields()?;
                    Ok(ClassicProtocol { name, metadata })
                })?;
                f.skip_tagged_fields()?;
                Some(ClassicMemberMetadata { session_timeout_ms, supported_protocols })
            };
        }
        Ok(())
    })?;
    Ok(MemberMetadataValue {
        instance_id,
        rack_id,
        client_id,
        client_host,
        subscribed_topic_names,
        subscribed_topic_regex,
        rebalance_timeout_ms,
        server_assignor,
        classic_member_metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: Uuid = [1; 16];
    const T2: Uuid = [2; 16];

    fn cg(r: ConsumerGroupRecord) -> Decoded {
        Decoded::ConsumerGroup(r)
    }

    /// Encodes `rec`, checks the bytes against the ones written out from the schema, and that
    /// they decode back to `rec`.
    fn check(rec: ConsumerGroupRecord, key: &[u8], value: Option<&[u8]>) {
        let (k, v) = rec.encode();
        assert_eq!(k, key, "key of {rec:?}");
        assert_eq!(v.as_deref(), value, "value of {rec:?}");
        assert_eq!(decode(&k, v.as_deref()).unwrap(), cg(rec.clone()));
        // Every strict prefix is cut: an error, never a panic or a shorter record.
        for n in 0..key.len() {
            assert!(decode(&key[..n], value).is_err(), "key cut at {n} of {rec:?}");
        }
        if let Some(value) = value {
            for n in 0..value.len() {
                assert!(decode(key, Some(&value[..n])).is_err(), "value cut at {n} of {rec:?}");
            }
        }
    }

    fn key(record_type: i16, parts: &[&str]) -> Vec<u8> {
        let mut k = record_type.to_be_bytes().to_vec();
        for p in parts {
            k.extend_from_slice(&(p.len() as i16).to_be_bytes());
            k.extend_from_slice(p.as_bytes());
        }
        k
    }

    #[test]
    fn group_metadata_with_and_without_the_metadata_hash() {
        let k = [0, 3, 0, 2, b'g', b'1'];
        check(
            ConsumerGroupRecord::GroupMetadata {
                group_id: "g1".into(),
                value: Some(GroupMetadataValue { epoch: 5, metadata_hash: 0 }),
            },
            &k,
            Some(&[0, 0, 0, 0, 0, 5, 0]),
        );
        check(
            ConsumerGroupRecord::GroupMetadata {
                group_id: "g1".into(),
                value: Some(GroupMetadataValue { epoch: 5, metadata_hash: -2 }),
            },
            &k,
            Some(&[0, 0, 0, 0, 0, 5, 1, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
        );
        check(ConsumerGroupRecord::GroupMetadata { group_id: "g1".into(), value: None }, &k, None);
    }

    #[test]
    fn member_metadata_of_a_consumer_protocol_member_writes_an_explicit_null() {
        let rec = ConsumerGroupRecord::MemberMetadata {
            group_id: "g".into(),
            member_id: "m".into(),
            value: Some(MemberMetadataValue {
                instance_id: None,
                rack_id: Some("r".into()),
                client_id: "c".into(),
                client_host: "/h".into(),
                subscribed_topic_names: vec!["t".into(), "u".into()],
                subscribed_topic_regex: None,
                rebalance_timeout_ms: 300_000,
                server_assignor: Some("uniform".into()),
                classic_member_metadata: None,
            }),
        };
        #[rustfmt::skip]
        let value = [
            0, 0, // version
            0, // instance id null
            2, b'r',
            2, b'c',
            3, b'/', b'h',
            3, 2, b't', 2, b'u',
            0, // regex null
            0, 4, 0x93, 0xe0, // 300000
            8, b'u', b'n', b'i', b'f', b'o', b'r', b'm',
            1, 0, 1, 0, // tag 0, one byte: null
        ];
        check(rec, &key(5, &["g", "m"]), Some(&value));
    }

    #[test]
    fn member_metadata_of_a_classic_member_and_the_absent_tag() {
        let base = MemberMetadataValue {
            client_id: "c".into(),
            client_host: "h".into(),
            rebalance_timeout_ms: -1,
            ..Default::default()
        };
        let classic = MemberMetadataValue {
            classic_member_metadata: Some(ClassicMemberMetadata {
                session_timeout_ms: 45_000,
                supported_protocols: vec![ClassicProtocol {
                    name: "range".into(),
                    metadata: vec![9, 8],
                }],
            }),
            ..base.clone()
        };
        let head = [0, 0, 0, 0, 2, b'c', 2, b'h', 1, 0, 0xff, 0xff, 0xff, 0xff, 0];
        #[rustfmt::skip]
        let tag = [
            1, 0, 17, // one tag: 0, 17 bytes
            1, // present
            0, 0, 0xaf, 0xc8, // 45000
            2, 6, b'r', b'a', b'n', b'g', b'e', 3, 9, 8, 0, // one protocol
            0, // the struct's own tags
        ];
        let k = key(5, &["g", "m"]);
        check(
            ConsumerGroupRecord::MemberMetadata {
                group_id: "g".into(),
                member_id: "m".into(),
                value: Some(classic),
            },
            &k,
            Some(&[&head[..], &tag].concat()),
        );
        // No tag at all reads as Kafka's default, the empty struct, and is written back so.
        let empty = MemberMetadataValue {
            classic_member_metadata: Some(ClassicMemberMetadata::default()),
            ..base
        };
        check(
            ConsumerGroupRecord::MemberMetadata {
                group_id: "g".into(),
                member_id: "m".into(),
                value: Some(empty),
            },
            &k,
            Some(&[&head[..], &[0]].concat()),
        );
    }

    #[test]
    fn target_assignment_records() {
        check(
            ConsumerGroupRecord::TargetAssignmentMetadata {
                group_id: "g".into(),
                value: Some(TargetAssignmentMetadataValue {
                    assignment_epoch: 7,
                    assignment_timestamp: 0x0102,
                }),
            },
            &key(6, &["g"]),
            Some(&[0, 0, 0, 0, 0, 7, 1, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2]),
        );
        check(
            ConsumerGroupRecord::TargetAssignmentMetadata {
                group_id: "g".into(),
                value: Some(TargetAssignmentMetadataValue {
                    assignment_epoch: 7,
                    assignment_timestamp: 0,
                }),
            },
            &key(6, &["g"]),
            Some(&[0, 0, 0, 0, 0, 7, 0]),
        );
        let mut value = vec![0, 0, 3];
        value.extend_from_slice(&T1);
        value.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 4, 0]);
        value.extend_from_slice(&T2);
        value.extend_from_slice(&[1, 0, 0]);
        check(
            ConsumerGroupRecord::TargetAssignmentMember {
                group_id: "g".into(),
                member_id: "m".into(),
                value: Some(TargetAssignmentMemberValue {
                    topic_partitions: vec![
                        TopicPartitions { topic_id: T1, partitions: vec![0, 4] },
                        TopicPartitions { topic_id: T2, partitions: vec![] },
                    ],
                }),
            },
            &key(7, &["g", "m"]),
            Some(&value),
        );
    }

    #[test]
    fn current_member_assignment_with_each_form_of_the_assignment_epochs() {
        let mut value = vec![0, 0, 0, 0, 0, 9, 0, 0, 0, 8, MEMBER_STATE_UNREVOKED_PARTITIONS as u8];
        value.push(3); // two assigned topics
        value.extend_from_slice(&T1);
        value.extend_from_slice(&[2, 0, 0, 0, 1]);
        value.extend_from_slice(&[1, 0, 5, 2, 0, 0, 0, 9]); // tag 0: [9]
        value.extend_from_slice(&T2);
        value.extend_from_slice(&[2, 0, 0, 0, 2]);
        value.extend_from_slice(&[1, 0, 1, 0]); // tag 0: null
        value.push(2); // one pending revocation
        value.extend_from_slice(&T1);
        value.extend_from_slice(&[2, 0, 0, 0, 3, 0]); // no tag: empty epochs
        value.push(0);
        check(
            ConsumerGroupRecord::CurrentMemberAssignment {
                group_id: "g".into(),
                member_id: "m".into(),
                value: Some(CurrentMemberAssignmentValue {
                    member_epoch: 9,
                    previous_member_epoch: 8,
                    state: MEMBER_STATE_UNREVOKED_PARTITIONS,
                    assigned_partitions: vec![
                        AssignedPartitions {
                            topic_id: T1,
                            partitions: vec![1],
                            assignment_epochs: Some(vec![9]),
                        },
                        AssignedPartitions {
                            topic_id: T2,
                            partitions: vec![2],
                            assignment_epochs: None,
                        },
                    ],
                    partitions_pending_revocation: vec![AssignedPartitions {
                        topic_id: T1,
                        partitions: vec![3],
                        assignment_epochs: Some(vec![]),
                    }],
                }),
            },
            &key(8, &["g", "m"]),
            Some(&value),
        );
    }

    #[test]
    fn partition_metadata_and_regular_expression() {
        let mut value = vec![0, 0, 2];
        value.extend_from_slice(&T1);
        value.extend_from_slice(&[2, b't', 0, 0, 0, 6]);
        value.extend_from_slice(&[2, 0, 0, 0, 5, 2, 3, b'r', b'1', 0]);
        value.extend_from_slice(&[0, 0]);
        check(
            ConsumerGroupRecord::PartitionMetadata {
                group_id: "g".into(),
                value: Some(PartitionMetadataValue {
                    topics: vec![TopicMetadata {
                        topic_id: T1,
                        topic_name: "t".into(),
                        num_partitions: 6,
                        partition_metadata: vec![PartitionRacks {
                            partition: 5,
                            racks: vec!["r1".into()],
                        }],
                    }],
                }),
            },
            &key(4, &["g"]),
            Some(&value),
        );
        check(
            ConsumerGroupRecord::PartitionMetadata { group_id: "g".into(), value: None },
            &key(4, &["g"]),
            None,
        );
        #[rustfmt::skip]
        let value = [
            0, 0, 2, 2, b'a',
            0, 0, 0, 0, 0, 0, 0, 3,
            0, 0, 0, 0, 0, 0, 0, 4,
            0,
        ];
        check(
            ConsumerGroupRecord::RegularExpression {
                group_id: "g".into(),
                regular_expression: "a.*".into(),
                value: Some(RegularExpressionValue {
                    topics: vec!["a".into()],
                    version: 3,
                    timestamp: 4,
                }),
            },
            &key(16, &["g", "a.*"]),
            Some(&value),
        );
    }

    #[test]
    fn tombstones_of_every_member_record() {
        for t in [5, 7, 8] {
            let k = key(t, &["g", "m"]);
            let d = decode(&k, None).unwrap();
            let Decoded::ConsumerGroup(rec) = d else { panic!("{d:?}") };
            assert!(rec.is_tombstone());
            assert_eq!(rec.record_type(), t);
            assert_eq!(rec.group_id(), "g");
            assert_eq!(rec.encode(), (k, None));
        }
    }

    #[test]
    fn unknown_tags_are_skipped_unknown_types_reported() {
        // Tag 0 (the hash) then an unknown tag 3 of two bytes.
        let v = [0, 0, 0, 0, 0, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6, 3, 2, 0xaa, 0xbb];
        assert_eq!(
            decode(&key(3, &["g"]), Some(&v)).unwrap(),
            cg(ConsumerGroupRecord::GroupMetadata {
                group_id: "g".into(),
                value: Some(GroupMetadataValue { epoch: 1, metadata_hash: 6 }),
            })
        );
        for t in [0, 1, 2, 9, 15, 17, 100, -1] {
            assert_eq!(
                decode(&key(t, &["g"]), Some(&[0, 0])).unwrap(),
                Decoded::Other { record_type: t }
            );
        }
        assert!(decode(&[0], None).is_err());
    }

    #[test]
    fn bytes_outside_the_schema_are_errors() {
        // A value version Kafka 4.x does not write.
        assert!(decode(&key(3, &["g"]), Some(&[0, 1, 0, 0, 0, 1, 0])).is_err());
        // Null where the schema has no null: the topic names of a member.
        let v = [0, 0, 0, 0, 2, b'c', 2, b'h', 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(decode(&key(5, &["g", "m"]), Some(&v)).is_err());
        // A null client id.
        let v = [0, 0, 0, 0, 0, 2, b'h', 1, 0, 0, 0, 0, 0, 0, 0];
        assert!(decode(&key(5, &["g", "m"]), Some(&v)).is_err());
        // A key with a null group id.
        assert!(decode(&[0, 3, 0xff, 0xff], None).is_err());
        // A hostile count.
        assert!(decode(&key(7, &["g", "m"]), Some(&[0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f])).is_err());
    }
}
