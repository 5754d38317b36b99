//! The transaction coordinator's state: per transactional id, its producer id and epoch, its
//! timeout and the partitions of its ongoing transaction, moved through Kafka's
//! `TransactionState`s by InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn.
//! It also answers KIP-890's questions: whether a transaction holds a partition (before a
//! transactional Produce appends), and EndTxn v5's epoch bump (transactions v2).
//!
//! The broker writes a transaction's markers in the same turn as the request that ends it,
//! so the states Kafka passes through while markers are in flight (PrepareCommit,
//! PrepareAbort) are never seen between requests; they are only written to
//! `__transaction_state` (see [`log`]), before the markers, as Kafka writes them, so a
//! restart finishes what a crash interrupted.

use std::collections::{BTreeSet, HashMap};

use crate::groups::offsets::{self, CommittedOffset};
use crate::protocol::error;

pub mod log;
#[cfg(test)]
mod tests;

pub mod pattern;

/// Kafka's `TransactionState`, less Dead (an expired id is forgotten) and PrepareEpochFence
/// (never written: the fence is written as PrepareAbort).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    Empty,
    Ongoing,
    /// Only in `__transaction_state`, between the request and its markers.
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

impl TxnState {
    /// Kafka's `TransactionState.stateName`, as DescribeTransactions and ListTransactions
    /// name it.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMetadata {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    /// The partitions of the ongoing transaction.
    pub partitions: BTreeSet<(String, i32)>,
    /// When the ongoing transaction began (-1 when none): its timeout counts from here.
    pub start_ms: i64,
    pub last_update_ms: i64,
    /// The producer id before an EndTxn v5 ran out of epochs and moved to a new one.
    pub previous_producer_id: i64,
    /// The `transaction.version` of the client's last end (EndTxn v5: 2, before: 0) or of a
    /// partition it added by producing (2), recorded as Kafka records it.
    pub client_transaction_version: i16,
}

impl TxnMetadata {
    /// The `__transaction_state` value of this state.
    pub fn log_value(&self) -> log::TxnLogValue {
        log::TxnLogValue {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            timeout_ms: self.timeout_ms,
            state: self.state,
            partitions: self.partitions.clone(),
            last_update_ms: self.last_update_ms,
            start_ms: self.start_ms,
            previous_producer_id: self.previous_producer_id,
            client_transaction_version: self.client_transaction_version,
        }
    }

    fn from_log(v: log::TxnLogValue) -> Self {
        TxnMetadata {
            producer_id: v.producer_id,
            producer_epoch: v.producer_epoch,
            timeout_ms: v.timeout_ms,
            state: v.state,
            partitions: v.partitions,
            start_ms: v.start_ms,
            last_update_ms: v.last_update_ms,
            previous_producer_id: v.previous_producer_id,
            client_transaction_version: v.client_transaction_version,
        }
    }

    /// Whether `other` differs in what `__transaction_state` records (timestamps aside).
    pub fn differs_in_log(&self, other: &TxnMetadata) -> bool {
        let fields = |m: &TxnMetadata| {
            (
                m.producer_id,
                m.producer_epoch,
                m.timeout_ms,
                m.state,
                m.previous_producer_id,
                m.client_transaction_version,
            )
        };
        fields(self) != fields(other) || self.partitions != other.partitions
    }
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

    /// Every transactional id with its state (in no particular order, as Kafka's).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &TxnMetadata)> {
        self.by_id.iter().map(|(id, m)| (id.as_str(), m))
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
                    start_ms: -1,
                    last_update_ms: now_ms(),
                    previous_producer_id: -1,
                    client_transaction_version: 0,
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
            m.last_update_ms = now_ms();
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
        m.start_ms = -1;
        m.last_update_ms = now_ms();
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
        let now = now_ms();
        if m.state != TxnState::Ongoing {
            m.partitions.clear();
            m.start_ms = now;
        }
        m.partitions.extend(partitions);
        m.state = TxnState::Ongoing;
        m.last_update_ms = now;
        Ok(())
    }

    /// A partition added by a Produce v12 (transactions v2) says which version the client runs.
    pub fn set_client_transaction_version(&mut self, transactional_id: &str, version: i16) {
        if let Some(m) = self.by_id.get_mut(transactional_id) {
            m.client_transaction_version = version;
        }
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
        if matches!(m.state, PrepareCommit | PrepareAbort) {
            // Its markers are being written: the client retries.
            return End::Error(error::CONCURRENT_TRANSACTIONS);
        }
        if !tv2 {
            if m.producer_id != pid {
                return End::Error(error::INVALID_PRODUCER_ID_MAPPING);
            }
            if m.producer_epoch != epoch {
                return End::Error(error::PRODUCER_FENCED);
            }
            if m.state == Ongoing {
                // Recorded with the Prepare state: this end is of transactions v1.
                m.client_transaction_version = 0;
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
            Ongoing | Empty | PrepareCommit | PrepareAbort => epoch == m.producer_epoch,
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
        m.client_transaction_version = 2;
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
            m.last_update_ms = now_ms();
        }
    }

    /// Puts back the state a request found, when recording its change failed.
    pub fn restore(&mut self, transactional_id: &str, before: Option<TxnMetadata>) {
        match before {
            Some(m) => self.by_id.insert(transactional_id.to_string(), m),
            None => self.by_id.remove(transactional_id),
        };
    }

    /// A state read back from `__transaction_state` (`None`: the id was deleted).
    pub fn load(&mut self, transactional_id: String, value: Option<log::TxnLogValue>) {
        match value {
            Some(v) => self.by_id.insert(transactional_id, TxnMetadata::from_log(v)),
            None => self.by_id.remove(&transactional_id),
        };
    }

    /// The transactions a crash left between their Prepare record and their markers.
    pub fn prepared(&self) -> Vec<(String, Markers)> {
        let mut v: Vec<(String, Markers)> = self
            .by_id
            .iter()
            .filter(|(_, m)| matches!(m.state, TxnState::PrepareCommit | TxnState::PrepareAbort))
            .map(|(id, m)| (id.clone(), m.markers(m.state == TxnState::PrepareCommit)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Kafka's `timedOutTransactions` and the fence its abort starts with: every ongoing
    /// transaction begun more than its timeout before `now_ms` gets its producer's epoch
    /// bumped (so the producer is fenced) and comes back as the abort markers to write.
    pub fn fence_timed_out(&mut self, now_ms: i64) -> Vec<(String, Markers)> {
        let mut out = Vec::new();
        for (id, m) in &mut self.by_id {
            if m.state != TxnState::Ongoing || m.start_ms + i64::from(m.timeout_ms) >= now_ms {
                continue;
            }
            if m.producer_epoch >= MAX_EPOCH {
                // No epoch left to bump to: aborted with the current one.
                ::log::warn!("transactional id {id}: epoch exhausted, aborted without a bump");
            } else {
                m.producer_epoch += 1;
            }
            m.last_update_ms = now_ms;
            out.push((id.clone(), m.markers(false)));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl TxnCoordinator {
    /// Kafka's `removeExpiredTransactionalIds`: the ids with no transaction in progress and
    /// no change since `before_ms`, forgotten here; their tombstones are for the caller.
    pub fn expire_ids(&mut self, before_ms: i64) -> Vec<String> {
        let mut gone: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, m)| {
                matches!(
                    m.state,
                    TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
                ) && m.last_update_ms <= before_ms
            })
            .map(|(id, _)| id.clone())
            .collect();
        gone.sort();
        for id in &gone {
            self.by_id.remove(id);
        }
        gone
    }
}

impl TxnMetadata {
    fn markers(&self, commit: bool) -> Markers {
        Markers {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            commit,
            partitions: self.partitions.iter().cloned().collect(),
            next: None,
        }
    }
}

fn now_ms() -> i64 {
    crate::storage::now_ms()
}
