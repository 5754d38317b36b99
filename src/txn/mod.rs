//! The transaction coordinator's state: per transactional id, its producer id and epoch, its
//! timeout and the partitions of its ongoing transaction, moved through Kafka's
//! `TransactionState`s by InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn.
//! It also answers KIP-890's questions: whether a transaction holds a partition (before a
//! transactional Produce appends), and EndTxn v5's epoch bump (transactions v2).
//!
//! The broker writes a transaction's markers in the same turn as the request that ends it,
//! so the states Kafka passes through while markers are in flight (PrepareCommit,
//! PrepareAbort, PrepareEpochFence) are never seen between requests. The state lives in
//! memory only: Kafka's `__transaction_state` log is not written.

use std::collections::{BTreeSet, HashMap};

use crate::groups::offsets::{self, CommittedOffset};
use crate::protocol::error;

#[cfg(test)]
mod tests;

/// Kafka's `TransactionState`, less the states a request never observes here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    Empty,
    Ongoing,
    CompleteCommit,
    CompleteAbort,
}

#[derive(Debug, Clone)]
pub struct TxnMetadata {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    /// The partitions of the ongoing transaction.
    pub partitions: BTreeSet<(String, i32)>,
    /// The producer id before an EndTxn v5 ran out of epochs and moved to a new one.
    pub previous_producer_id: i64,
}

/// A transaction whose markers the broker must write now, then report with
/// [`TxnCoordinator::complete`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markers {
    pub producer_id: i64,
    /// The epoch the markers carry (after a fence, the bumped one).
    pub producer_epoch: i16,
    pub commit: bool,
    pub partitions: Vec<(String, i32)>,
    /// Transactions v2: the producer id and epoch the transactional id has once the markers
    /// are written (the epoch bumped; a new id at epoch 0 when the epochs ran out).
    pub next: Option<(i64, i16)>,
}

/// What InitProducerId with a transactional id comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Init {
    /// The producer id and epoch to hand out.
    Ready(i64, i16),
    /// An ongoing transaction of the previous epoch must be aborted first: the broker writes
    /// these markers and answers CONCURRENT_TRANSACTIONS, and the client retries.
    AbortFirst(Markers),
    Error(i16),
}

/// What EndTxn comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Write(Markers),
    /// Nothing to do (a retried EndTxn of a transaction already ended this way).
    Done,
    Error(i16),
}

/// Epochs past this one are not handed out: the transactional id gets a new producer id.
const MAX_EPOCH: i16 = i16::MAX - 1;

/// An offset TxnOffsetCommit wrote, which the group sees once the transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOffset {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub offset: CommittedOffset,
}

#[derive(Debug, Default)]
pub struct TxnCoordinator {
    by_id: HashMap<String, TxnMetadata>,
    /// By producer id: offsets of its ongoing transaction.
    pending_offsets: HashMap<i64, Vec<PendingOffset>>,
}

impl TxnCoordinator {
    pub fn get(&self, transactional_id: &str) -> Option<&TxnMetadata> {
        self.by_id.get(transactional_id)
    }

    /// Kafka's `handleInitProducerId` for a transactional id. `expected` is the (producer id,
    /// epoch) the producer names (v3+, -1 when none); `new_id` allocates a producer id.
    pub fn init_producer_id(
        &mut self,
        transactional_id: &str,
        timeout_ms: i32,
        max_timeout_ms: i32,
        expected: (i64, i16),
        new_id: impl FnOnce() -> Result<i64, i16>,
    ) -> Init {
        if transactional_id.is_empty() {
            return Init::Error(error::INVALID_REQUEST);
        }
        if timeout_ms <= 0 || timeout_ms > max_timeout_ms {
            return Init::Error(error::INVALID_TRANSACTION_TIMEOUT);
        }
        let Some(m) = self.by_id.get_mut(transactional_id) else {
            let id = match new_id() {
                Ok(id) => id,
                Err(code) => return Init::Error(code),
            };
            self.by_id.insert(
                transactional_id.to_string(),
                TxnMetadata {
                    producer_id: id,
                    producer_epoch: 0,
                    timeout_ms,
                    state: TxnState::Empty,
                    partitions: BTreeSet::new(),
                    previous_producer_id: -1,
                },
            );
            return Init::Ready(id, 0);
        };
        if expected.0 >= 0 && expected != (m.producer_id, m.producer_epoch) {
            return Init::Error(error::PRODUCER_FENCED);
        }
        if m.state == TxnState::Ongoing {
            // Fence the producer of the ongoing transaction with a bumped epoch, which the
            // abort markers carry.
            m.producer_epoch = m.producer_epoch.saturating_add(1);
            return Init::AbortFirst(Markers {
                producer_id: m.producer_id,
                producer_epoch: m.producer_epoch,
                commit: false,
                partitions: m.partitions.iter().cloned().collect(),
                next: None,
            });
        }
        if m.producer_epoch >= MAX_EPOCH {
            match new_id() {
                Ok(id) => (m.producer_id, m.producer_epoch) = (id, 0),
                Err(code) => return Init::Error(code),
            }
        } else {
            m.producer_epoch += 1;
        }
        m.timeout_ms = timeout_ms;
        m.state = TxnState::Empty;
        m.partitions.clear();
        Init::Ready(m.producer_id, m.producer_epoch)
    }

    /// The checks every request of an ongoing producer passes (Kafka answers PRODUCER_FENCED
    /// for any other epoch).
    fn current(
        &mut self,
        transactional_id: &str,
        pid: i64,
        epoch: i16,
    ) -> Result<&mut TxnMetadata, i16> {
        let m = self.by_id.get_mut(transactional_id).ok_or(error::INVALID_PRODUCER_ID_MAPPING)?;
        if m.producer_id != pid {
            return Err(error::INVALID_PRODUCER_ID_MAPPING);
        }
        if m.producer_epoch != epoch {
            return Err(error::PRODUCER_FENCED);
        }
        Ok(m)
    }

    /// Kafka's `handleAddPartitionsToTransaction`: the partitions join the transaction, which
    /// is ongoing from then on.
    pub fn add_partitions(
        &mut self,
        transactional_id: &str,
        pid: i64,
        epoch: i16,
        partitions: impl IntoIterator<Item = (String, i32)>,
    ) -> Result<(), i16> {
        if transactional_id.is_empty() {
            return Err(error::INVALID_REQUEST);
        }
        let m = self.current(transactional_id, pid, epoch)?;
        if m.state != TxnState::Ongoing {
            m.partitions.clear();
        }
        m.partitions.extend(partitions);
        m.state = TxnState::Ongoing;
        Ok(())
    }

    /// Kafka's `handleVerifyPartitionsInTransaction` (KIP-890 part 1): whether the producer's
    /// transaction holds a partition, asked by AddPartitionsToTxn v4+ with `VerifyOnly` and by
    /// a transactional Produce before it appends. NONE if it does, TRANSACTION_ABORTABLE if
    /// not; the error of the whole transaction otherwise.
    pub fn verify_partition(
        &self,
        transactional_id: &str,
        pid: i64,
        epoch: i16,
        topic: &str,
        partition: i32,
    ) -> i16 {
        if transactional_id.is_empty() {
            return error::INVALID_REQUEST;
        }
        match self.by_id.get(transactional_id) {
            None => error::INVALID_PRODUCER_ID_MAPPING,
            Some(m) if m.producer_id != pid => error::INVALID_PRODUCER_ID_MAPPING,
            Some(m) if m.producer_epoch != epoch => error::PRODUCER_FENCED,
            Some(m) if m.partitions.iter().any(|(t, p)| t == topic && *p == partition) => {
                error::NONE
            }
            Some(_) => error::TRANSACTION_ABORTABLE,
        }
    }

    /// Kafka's `handleEndTransaction` (transactions v1, EndTxn before v5).
    pub fn end_txn(&mut self, transactional_id: &str, pid: i64, epoch: i16, commit: bool) -> End {
        // A v1 end keeps the producer id: no new one is ever asked for.
        self.end_transaction(transactional_id, pid, epoch, commit, false, || {
            Err(error::UNKNOWN_SERVER_ERROR)
        })
    }

    /// Kafka's `handleEndTransaction`. With transactions v2 (`tv2`, EndTxn v5) every end
    /// bumps the epoch, which the markers carry and the producer continues with (a new
    /// producer id from `new_id` when the epochs ran out): a retry names the epoch before it,
    /// and an abort with no transaction ongoing still ends one (empty, without markers).
    pub fn end_transaction(
        &mut self,
        transactional_id: &str,
        pid: i64,
        epoch: i16,
        commit: bool,
        tv2: bool,
        new_id: impl FnOnce() -> Result<i64, i16>,
    ) -> End {
        if transactional_id.is_empty() {
            return End::Error(error::INVALID_REQUEST);
        }
        let Some(m) = self.by_id.get_mut(transactional_id) else {
            return End::Error(error::INVALID_PRODUCER_ID_MAPPING);
        };
        use TxnState::*;
        if !tv2 {
            if m.producer_id != pid {
                return End::Error(error::INVALID_PRODUCER_ID_MAPPING);
            }
            if m.producer_epoch != epoch {
                return End::Error(error::PRODUCER_FENCED);
            }
            return match (m.state, commit) {
                (Ongoing, _) => End::Write(Markers {
                    producer_id: m.producer_id,
                    producer_epoch: m.producer_epoch,
                    commit,
                    partitions: m.partitions.iter().cloned().collect(),
                    next: None,
                }),
                (CompleteCommit, true) | (CompleteAbort, false) => End::Done,
                _ => End::Error(error::INVALID_TXN_STATE),
            };
        }
        let retry_on_overflow =
            m.previous_producer_id == pid && epoch == MAX_EPOCH && m.producer_epoch == 0;
        let retry_on_bump = i32::from(m.producer_epoch) == i32::from(epoch) + 1;
        let is_retry = retry_on_bump || retry_on_overflow;
        let valid_epoch = match m.state {
            CompleteCommit | CompleteAbort => is_retry || epoch == m.producer_epoch,
            Ongoing | Empty => epoch == m.producer_epoch,
        };
        if m.producer_id != pid && !retry_on_overflow {
            return End::Error(error::INVALID_PRODUCER_ID_MAPPING);
        }
        if !valid_epoch {
            return End::Error(error::PRODUCER_FENCED);
        }
        let abort_or_commit = match (m.state, commit) {
            (Ongoing, _) => commit,
            (CompleteCommit, true) | (CompleteAbort, false) if is_retry => return End::Done,
            (CompleteCommit, false) if is_retry => return End::Error(error::INVALID_TXN_STATE),
            (_, false) => false,
            (_, true) => return End::Error(error::INVALID_TXN_STATE),
        };
        let next = if m.producer_epoch >= MAX_EPOCH {
            match new_id() {
                Ok(id) => (id, 0),
                Err(code) => return End::Error(code),
            }
        } else {
            (m.producer_id, m.producer_epoch + 1)
        };
        End::Write(Markers {
            producer_id: m.producer_id,
            producer_epoch: m.producer_epoch.saturating_add(1),
            commit: abort_or_commit,
            // Empty when no transaction is ongoing: nothing to mark.
            partitions: if m.state == Ongoing {
                m.partitions.iter().cloned().collect()
            } else {
                Vec::new()
            },
            next: Some(next),
        })
    }

    /// TxnOffsetCommit's check: the producer's transaction is ongoing and holds the group's
    /// `__consumer_offsets` partition (AddOffsetsToTxn came first).
    pub fn check_offsets_partition(
        &mut self,
        transactional_id: &str,
        pid: i64,
        epoch: i16,
        partition: i32,
    ) -> Result<(), i16> {
        let m = self.current(transactional_id, pid, epoch)?;
        let key = (offsets::TOPIC.to_string(), partition);
        if m.state != TxnState::Ongoing || !m.partitions.contains(&key) {
            return Err(error::INVALID_TXN_STATE);
        }
        Ok(())
    }

    pub fn add_pending_offsets(
        &mut self,
        pid: i64,
        offsets: impl IntoIterator<Item = PendingOffset>,
    ) {
        self.pending_offsets.entry(pid).or_default().extend(offsets);
    }

    /// The offsets a producer's transaction committed, taken when its markers are written.
    pub fn take_pending_offsets(&mut self, pid: i64) -> Vec<PendingOffset> {
        self.pending_offsets.remove(&pid).unwrap_or_default()
    }

    /// Whether a transaction still holds an offset of this group's partition (OffsetFetch
    /// with `require_stable` answers UNSTABLE_OFFSET_COMMIT then).
    pub fn has_pending_offset(&self, group: &str, topic: &str, partition: i32) -> bool {
        self.pending_offsets
            .values()
            .flatten()
            .any(|p| p.group == group && p.topic == topic && p.partition == partition)
    }

    /// The markers of `transactional_id`'s transaction are written: it is complete.
    pub fn complete(&mut self, transactional_id: &str, commit: bool) {
        if let Some(m) = self.by_id.get_mut(transactional_id) {
            m.state = if commit { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
            m.partitions.clear();
        }
    }

    /// After [`complete`](Self::complete): the producer id and epoch a transactions v2 end
    /// moved to (the markers' `next`).
    pub fn completed_with(&mut self, transactional_id: &str, next: Option<(i64, i16)>) {
        if let Some(m) = self.by_id.get_mut(transactional_id) {
            if let Some((id, epoch)) = next {
                if id != m.producer_id {
                    m.previous_producer_id = m.producer_id;
                }
                (m.producer_id, m.producer_epoch) = (id, epoch);
            }
        }
    }
}
