//! The transaction coordinator's state in Kafka's `__transaction_state` format, so a restart
//! (or Kafka opening the log directory) finds every transactional id's producer id, epoch
//! and ongoing transaction.
//!
//! A transactional id's records live in partition
//! `abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`. The key is
//! `TransactionLogKey` after its coordinator record type (0); the value `TransactionLogValue`
//! after its version: v0 (classic) is what Kafka writes for transactions v1, v1 is the
//! flexible version Kafka writes once `transaction.version` 1 or more is finalized, with
//! tagged fields (0 the previous producer id, 1 the next one, 2 the client's transaction
//! version). A null value (tombstone) deletes the transactional id. This broker writes the
//! version Kafka would for the finalized feature and reads both.

use std::collections::BTreeSet;

use super::TxnState;
use crate::protocol::codec::{DecodeError, Put, Reader, Result};

pub const TOPIC: &str = "__transaction_state";

/// `CoordinatorRecordType.TRANSACTION_LOG`, the key's prefix.
const KEY_TYPE: i16 = 0;

/// `TransactionState.DEAD`: the transactional id expired.
const DEAD: i8 = 6;

/// The `__transaction_state` partition holding `transactional_id`'s records (Java's
/// `String.hashCode`, as for groups).
pub fn partition_for(transactional_id: &str, partitions: i32) -> i32 {
    crate::groups::offsets::partition_for(transactional_id, partitions)
}

pub fn key(transactional_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + transactional_id.len());
    k.put_i16(KEY_TYPE);
    k.put_string(transactional_id, false);
    k
}

/// One `TransactionLogValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnLogValue {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<(String, i32)>,
    pub last_update_ms: i64,
    /// When the ongoing transaction began (-1 when none).
    pub start_ms: i64,
    /// Tag 0 of v1: the producer id before an end of transactions v2 moved to a new one.
    pub previous_producer_id: i64,
    /// Tag 2 of v1: the `transaction.version` the client's requests used (0 or 2).
    pub client_transaction_version: i16,
}

/// The value version Kafka writes: 1 once `transaction.version` 1 or more is finalized
/// (`TransactionVersion.transactionLogValueVersion`).
pub fn value_version(transaction_version: i16) -> i16 {
    if transaction_version >= 1 {
        1
    } else {
        0
    }
}

impl TxnState {
    /// Kafka's `TransactionState.id()`.
    pub fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
        }
    }

    fn from_id(id: i8) -> Option<TxnState> {
        Some(match id {
            0 => TxnState::Empty,
            1 => TxnState::Ongoing,
            2 => TxnState::PrepareCommit,
            3 => TxnState::PrepareAbort,
            4 => TxnState::CompleteCommit,
            5 => TxnState::CompleteAbort,
            _ => return None,
        })
    }
}

/// The value at `version` (0 or 1). Empty carries a null partition list, as Kafka writes
/// it; the others a list grouped by topic. Tagged fields at their defaults are left out.
pub fn value(v: &TxnLogValue, version: i16) -> Vec<u8> {
    let flexible = version >= 1;
    let mut b = Vec::with_capacity(64);
    b.put_i16(version);
    b.put_i64(v.producer_id);
    b.put_i16(v.producer_epoch);
    b.put_i32(v.timeout_ms);
    b.put_i8(v.state.id());
    if v.state == TxnState::Empty {
        b.put_array_len(None, flexible);
    } else {
        let mut topics: Vec<(&str, Vec<i32>)> = Vec::new();
        for (t, p) in &v.partitions {
            match topics.last_mut() {
                Some((last, ps)) if *last == t => ps.push(*p),
                _ => topics.push((t, vec![*p])),
            }
        }
        b.put_array_len(Some(topics.len()), flexible);
        for (t, ps) in &topics {
            b.put_string(t, flexible);
            b.put_i32_array(ps, flexible);
            b.put_empty_tags(flexible);
        }
    }
    b.put_i64(v.last_update_ms);
    b.put_i64(v.start_ms);
    if flexible {
        let prev = v.previous_producer_id != -1;
        let client = v.client_transaction_version != 0;
        b.put_uvarint(u64::from(prev) + u64::from(client));
        if prev {
            b.put_uvarint(0);
            b.put_uvarint(8);
            b.put_i64(v.previous_producer_id);
        }
        if client {
            b.put_uvarint(2);
            b.put_uvarint(2);
            b.put_i16(v.client_transaction_version);
        }
    }
    b
}

/// A decoded record: the transactional id and its state, `None` for a tombstone or a Dead
/// transactional id.
pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<(String, Option<TxnLogValue>)> {
    let mut k = Reader::new(key);
    if k.i16()? != KEY_TYPE {
        return Err(DecodeError("not a transaction log key"));
    }
    let id = k.string(false)?.to_string();
    let Some(value) = value else { return Ok((id, None)) };
    let mut r = Reader::new(value);
    let version = r.i16()?;
    if !(0..=1).contains(&version) {
        return Err(DecodeError("unknown transaction log value version"));
    }
    let flexible = version >= 1;
    let producer_id = r.i64()?;
    let producer_epoch = r.i16()?;
    let timeout_ms = r.i32()?;
    let status = r.i8()?;
    let mut partitions = BTreeSet::new();
    let topics = r.array(flexible, |r| {
        let topic = r.string(flexible)?.to_string();
        let ps = r.i32_array(flexible)?;
        r.end_struct(flexible)?;
        Ok((topic, ps))
    })?;
    for (t, ps) in topics {
        partitions.extend(ps.into_iter().map(|p| (t.clone(), p)));
    }
    let last_update_ms = r.i64()?;
    let start_ms = r.i64()?;
    let (mut previous_producer_id, mut client_transaction_version) = (-1, 0);
    if flexible {
        r.tagged_fields(|tag, f| {
            match tag {
                0 => previous_producer_id = f.i64()?,
                2 => client_transaction_version = f.i16()?,
                _ => {}
            }
            Ok(())
        })?;
    }
    if status == DEAD {
        return Ok((id, None));
    }
    let state = TxnState::from_id(status).ok_or(DecodeError("unknown transaction state"))?;
    if state == TxnState::Empty {
        partitions.clear();
    }
    let v = TxnLogValue {
        producer_id,
        producer_epoch,
        timeout_ms,
        state,
        partitions,
        last_update_ms,
        start_ms,
        previous_producer_id,
        client_transaction_version,
    };
    Ok((id, Some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_v0_bytes_follow_kafkas_schema() {
        let v = TxnLogValue {
            producer_id: 7,
            producer_epoch: 2,
            timeout_ms: 60_000,
            state: TxnState::Ongoing,
            partitions: [("a".to_string(), 0), ("a".to_string(), 3), ("b".to_string(), 1)]
                .into_iter()
                .collect(),
            last_update_ms: 11,
            start_ms: 10,
            previous_producer_id: -1,
            client_transaction_version: 0,
        };
        let mut want = Vec::new();
        want.extend_from_slice(&0i16.to_be_bytes());
        want.extend_from_slice(&7i64.to_be_bytes());
        want.extend_from_slice(&2i16.to_be_bytes());
        want.extend_from_slice(&60_000i32.to_be_bytes());
        want.push(1);
        want.extend_from_slice(&2i32.to_be_bytes()); // two topics
        want.extend_from_slice(&[0, 1, b'a', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3]);
        want.extend_from_slice(&[0, 1, b'b', 0, 0, 0, 1, 0, 0, 0, 1]);
        want.extend_from_slice(&11i64.to_be_bytes());
        want.extend_from_slice(&10i64.to_be_bytes());
        assert_eq!(value(&v, 0), want);
        assert_eq!(key("t"), [0, 0, 0, 1, b't']);
        assert_eq!(decode(&key("t"), Some(&want)).unwrap(), ("t".to_string(), Some(v)));
    }

    #[test]
    fn empty_has_null_partitions_and_tombstones_delete() {
        let v = TxnLogValue {
            producer_id: 1,
            producer_epoch: 0,
            timeout_ms: 1000,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            last_update_ms: 5,
            start_ms: -1,
            previous_producer_id: -1,
            client_transaction_version: 0,
        };
        let b = value(&v, 0);
        assert_eq!(&b[17..21], &(-1i32).to_be_bytes());
        assert_eq!(decode(&key("x"), Some(&b)).unwrap().1, Some(v));
        assert_eq!(decode(&key("x"), None).unwrap(), ("x".to_string(), None));
    }

    #[test]
    fn flexible_v1_decodes_with_tags() {
        let mut b = Vec::new();
        b.put_i16(1);
        b.put_i64(9);
        b.put_i16(4);
        b.put_i32(500);
        b.put_i8(2);
        b.put_array_len(Some(1), true);
        b.put_string("t", true);
        b.put_i32_array(&[5], true);
        b.put_empty_tags(true);
        b.put_i64(3);
        b.put_i64(2);
        // One tagged field: PreviousProducerId (tag 0), eight bytes.
        b.extend_from_slice(&[1, 0, 8]);
        b.extend_from_slice(&8i64.to_be_bytes());
        let (_, v) = decode(&key("k"), Some(&b)).unwrap();
        let v = v.unwrap();
        assert_eq!((v.producer_id, v.producer_epoch, v.state), (9, 4, TxnState::PrepareCommit));
        assert!(v.partitions.contains(&("t".to_string(), 5)));
        assert_eq!((v.previous_producer_id, v.client_transaction_version), (8, 0));
        assert_eq!(value(&v, 1), b);
    }

    #[test]
    fn v1_is_written_once_transactions_v1_or_v2_are_finalized() {
        assert_eq!((value_version(0), value_version(1), value_version(2)), (0, 1, 1));
        let v = TxnLogValue {
            producer_id: 3,
            producer_epoch: 1,
            timeout_ms: 100,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            last_update_ms: 4,
            start_ms: -1,
            previous_producer_id: -1,
            client_transaction_version: 2,
        };
        let b = value(&v, 1);
        // A null compact array (0), then the timestamps, then one tag: 2, two bytes, level 2.
        assert_eq!(b[17], 0);
        assert_eq!(&b[b.len() - 5..], &[1, 2, 2, 0, 2]);
        assert_eq!(decode(&key("k"), Some(&b)).unwrap().1, Some(v));
    }
}
