//! Committed offsets in Kafka's `__consumer_offsets` format, so a log directory keeps its
//! groups' positions when it moves to Kafka (and back).
//!
//! A group's records live in partition `abs(groupId.hashCode()) % offsets.topic.num.partitions`.
//! Keys are versioned: 0 and 1 are offset commits (`group`, `topic`, `partition`), 2 is group
//! metadata (`group`). Offset values: v0 and v2 are (offset, metadata, commit timestamp), v1
//! adds an expire timestamp, v3 a leader epoch after the offset, v4 is v3 made flexible. A
//! null value (tombstone) deletes the key. This broker writes key v1 and value v3, as Kafka
//! 3.x/4.x does.

use crate::protocol::codec::{Put, Reader, Result};

pub const TOPIC: &str = "__consumer_offsets";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
}

/// Java's `String.hashCode`, over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition holding `group_id`'s records.
pub fn partition_for(group_id: &str, partitions: i32) -> i32 {
    let h = java_hash(group_id);
    // Kafka's Utils.abs maps i32::MIN to 0.
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions
}

pub fn offset_key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + group.len() + topic.len());
    k.put_i16(1);
    k.put_string(group, false);
    k.put_string(topic, false);
    k.put_i32(partition);
    k
}

/// The key of a group's metadata record (key version 2); its tombstone deletes the group.
pub fn group_key(group: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + group.len());
    k.put_i16(2);
    k.put_string(group, false);
    k
}

pub fn offset_value(c: &CommittedOffset) -> Vec<u8> {
    let mut v = Vec::with_capacity(24 + c.metadata.len());
    v.put_i16(3);
    v.put_i64(c.offset);
    v.put_i32(c.leader_epoch);
    v.put_string(&c.metadata, false);
    v.put_i64(c.commit_timestamp);
    v
}

/// A decoded `__consumer_offsets` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsRecord {
    /// An offset commit; `None` is a tombstone.
    Offset { group: String, topic: String, partition: i32, value: Option<CommittedOffset> },
    /// Group metadata exists (`true`) or was deleted.
    Group { group: String, present: bool },
}

pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<OffsetsRecord> {
    let mut k = Reader::new(key);
    let version = k.i16()?;
    let group = k.string(false)?.to_string();
    match version {
        0 | 1 => {
            let topic = k.string(false)?.to_string();
            let partition = k.i32()?;
            let value = value.map(decode_offset_value).transpose()?;
            Ok(OffsetsRecord::Offset { group, topic, partition, value })
        }
        _ => Ok(OffsetsRecord::Group { group, present: value.is_some() }),
    }
}

fn decode_offset_value(b: &[u8]) -> Result<CommittedOffset> {
    let mut r = Reader::new(b);
    let version = r.i16()?;
    let flexible = version >= 4;
    let offset = r.i64()?;
    let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
    let metadata = r.string(flexible)?.to_string();
    let commit_timestamp = r.i64()?;
    Ok(CommittedOffset { offset, leader_epoch, metadata, commit_timestamp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_matches_kafka() {
        // Well-known Java values: "hello".hashCode() and the string hashing to i32::MIN,
        // which Kafka's Utils.abs maps to partition 0.
        assert_eq!(java_hash("hello"), 99_162_322);
        assert_eq!(partition_for("hello", 50), 22);
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 50), 0);
        assert_eq!(partition_for("", 50), 0);
    }

    #[test]
    fn records_round_trip() {
        let c = CommittedOffset {
            offset: 42,
            leader_epoch: 3,
            metadata: "m".into(),
            commit_timestamp: 7,
        };
        let rec = decode(&offset_key("g", "t", 2), Some(&offset_value(&c))).unwrap();
        assert_eq!(
            rec,
            OffsetsRecord::Offset {
                group: "g".into(),
                topic: "t".into(),
                partition: 2,
                value: Some(c)
            }
        );
        let tomb = decode(&offset_key("g", "t", 2), None).unwrap();
        assert!(matches!(tomb, OffsetsRecord::Offset { value: None, .. }));
        let mut gk = Vec::new();
        gk.put_i16(2);
        gk.put_string("g", false);
        assert_eq!(
            decode(&gk, Some(&[0, 3])).unwrap(),
            OffsetsRecord::Group { group: "g".into(), present: true }
        );
    }
}
