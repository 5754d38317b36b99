//! The transaction coordinator's state kept in `__transaction_state`: every change appended
//! (like any produce, so acknowledged only once written) before the request is answered,
//! replayed at start-up, where the transactions a crash left prepared get their markers.
//! Ongoing transactions past their timeout are aborted from [`Broker::background`].

use std::io;

use super::api_versions::TRANSACTION_VERSION;
use super::{txn_markers, Broker};
use crate::metadata::Cache;
use crate::protocol::error;
use crate::records::{BatchBuilder, Records};
use crate::storage::{now_ms, Appended, LogId, LogManager};
use crate::txn::log::{self as txn_log, TxnLogValue};
use crate::txn::{TxnCoordinator, TxnMetadata, TxnState};

/// Appends one state record of `transactional_id` to log `id` (buffered: written with the
/// turn's appends).
fn append_state(
    logs: &mut LogManager,
    id: LogId,
    transactional_id: &str,
    v: &TxnLogValue,
    version: i16,
) -> io::Result<()> {
    let mut batch = BatchBuilder::new(0, now_ms());
    batch.push(Some(&txn_log::key(transactional_id)), Some(&txn_log::value(v, version)), &[]);
    match logs.append(id, &batch.finish())? {
        Appended::At(_) => Ok(()),
        _ => Err(io::Error::other("transaction state batch refused")),
    }
}

/// The `TransactionLogValue` version Kafka writes under the finalized `transaction.version`.
fn value_version(meta: &Cache) -> i16 {
    txn_log::value_version(meta.feature_level(TRANSACTION_VERSION).unwrap_or(0))
}

/// Replays every `__transaction_state` partition (the latest record of each transactional id
/// wins; tombstones delete), then completes the transactions found prepared: their markers,
/// then CompleteCommit/CompleteAbort, written before anything else is read.
pub fn load_transactions(meta: &Cache, logs: &mut LogManager) -> io::Result<TxnCoordinator> {
    let mut txn = TxnCoordinator::default();
    let Some(topic) = meta.topic(txn_log::TOPIC) else { return Ok(txn) };
    let partitions = topic.partitions.len() as i32;
    for p in &topic.partitions {
        let Some(id) = logs.find(txn_log::TOPIC, p.partition_id) else { continue };
        logs.get_mut(id).scan_batches(|h, bytes| {
            if h.is_control() || h.compression() != 0 {
                return; // Kafka writes this log uncompressed, outside transactions
            }
            let Ok(recs) = Records::new(bytes) else { return };
            for rec in recs.flatten() {
                let Some(key) = rec.key else { continue };
                match txn_log::decode(key, rec.value) {
                    Ok((tid, value)) => txn.load(tid, value),
                    Err(e) => {
                        log::warn!("{}-{}: record skipped: {e}", txn_log::TOPIC, p.partition_id)
                    }
                }
            }
        })?;
    }
    let prepared = txn.prepared();
    for (tid, m) in &prepared {
        if let Err(code) = txn_markers::write_markers(logs, m, &mut Vec::new()) {
            log::error!("transactional id {tid}: markers not written at start-up ({code})");
            continue;
        }
        txn.complete(tid, m.commit);
        let Some(id) = logs.find(txn_log::TOPIC, txn_log::partition_for(tid, partitions)) else {
            continue;
        };
        let v = txn.get(tid).expect("just completed").log_value();
        append_state(logs, id, tid, &v, value_version(meta))?;
        log::info!(
            "transactional id {tid}: prepared {} completed at start-up",
            if m.commit { "commit" } else { "abort" }
        );
    }
    let (mut written, mut failed) = (Vec::new(), Vec::new());
    logs.flush(&mut written, &mut failed);
    if !failed.is_empty() {
        return Err(io::Error::other("cannot write the markers of prepared transactions"));
    }
    Ok(txn)
}

impl Broker {
    /// Creates `__transaction_state` as Kafka does (compacted, uncompressed) if it does not
    /// exist yet.
    pub(super) fn ensure_txn_state_topic(&mut self) -> Result<(), i16> {
        if self.meta.topic(txn_log::TOPIC).is_none() {
            let segment_bytes = self.config.transaction_state_log_segment_bytes.to_string();
            let configs = [
                ("cleanup.policy", "compact"),
                ("compression.type", "uncompressed"),
                ("segment.bytes", segment_bytes.as_str()),
            ];
            let partitions = self.config.transaction_state_log_num_partitions;
            if let Err((code, msg)) =
                self.create_topic_with_configs(txn_log::TOPIC, partitions, &configs)
            {
                log::error!("cannot create {}: {msg}", txn_log::TOPIC);
                return Err(if code == error::KAFKA_STORAGE_ERROR {
                    code
                } else {
                    error::COORDINATOR_NOT_AVAILABLE
                });
            }
        }
        Ok(())
    }

    /// Appends `v` as `transactional_id`'s state to its `__transaction_state` partition.
    pub(super) fn append_txn_state(
        &mut self,
        transactional_id: &str,
        v: &TxnLogValue,
    ) -> Result<LogId, i16> {
        self.ensure_txn_state_topic()?;
        let partitions = self.meta.topic(txn_log::TOPIC).map_or(1, |t| t.partitions.len() as i32);
        let partition = txn_log::partition_for(transactional_id, partitions);
        let id =
            self.logs.find(txn_log::TOPIC, partition).ok_or(error::COORDINATOR_NOT_AVAILABLE)?;
        if let Err(e) =
            append_state(&mut self.logs, id, transactional_id, v, value_version(&self.meta))
        {
            log::error!("cannot append to {}-{partition}: {e}", txn_log::TOPIC);
            return Err(error::KAFKA_STORAGE_ERROR);
        }
        self.turn_acks.push((self.ctx.conn, id));
        Ok(id)
    }

    /// Records the state a request left `transactional_id` in when it differs from `before`;
    /// if that fails, `before` is put back and the error returned.
    pub(super) fn record_txn_change(
        &mut self,
        transactional_id: &str,
        before: Option<TxnMetadata>,
    ) -> i16 {
        let Some(after) = self.txn.get(transactional_id) else { return error::NONE };
        if before.as_ref().is_some_and(|b| !b.differs_in_log(after)) {
            return error::NONE;
        }
        let v = after.log_value();
        match self.append_txn_state(transactional_id, &v) {
            Ok(_) => error::NONE,
            Err(code) => {
                self.txn.restore(transactional_id, before);
                code
            }
        }
    }

    /// Aborts the ongoing transactions past their timeout, as Kafka's coordinator does every
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`: the producer's epoch is
    /// bumped (fencing it), then PrepareAbort, markers with that epoch, CompleteAbort. The
    /// appends are written here: no request's turn carries them.
    pub(super) fn abort_timed_out_transactions(&mut self) {
        let acks = self.turn_acks.len();
        for (tid, m) in self.txn.fence_timed_out(now_ms()) {
            log::info!(
                "transactional id {tid}: transaction timed out, aborted with epoch {}",
                m.producer_epoch
            );
            if let Err(code) = txn_markers::write(self, &tid, &m) {
                log::error!("transactional id {tid}: timed-out transaction not aborted ({code})");
            }
        }
        // No connection waits for these appends.
        self.turn_acks.truncate(acks);
        self.flush_background_appends();
    }
}

impl Broker {
    /// Forgets the transactional ids idle past `transactional.id.expiration.ms` and writes
    /// their tombstones, as Kafka's coordinator does, so a restart forgets them too.
    pub(super) fn remove_expired_transactional_ids(&mut self) {
        let expiration =
            i64::try_from(self.config.transactional_id_expiration_ms).unwrap_or(i64::MAX);
        let gone = self.txn.expire_ids(now_ms().saturating_sub(expiration));
        let Some(partitions) = self.meta.topic(txn_log::TOPIC).map(|t| t.partitions.len() as i32)
        else {
            return;
        };
        for tid in gone {
            let partition = txn_log::partition_for(&tid, partitions);
            let Some(id) = self.logs.find(txn_log::TOPIC, partition) else { continue };
            let mut batch = BatchBuilder::new(0, now_ms());
            batch.push(Some(&txn_log::key(&tid)), None, &[]);
            match self.logs.append(id, &batch.finish()) {
                Ok(_) => log::info!("transactional id {tid} expired"),
                Err(e) => log::error!("cannot append to {}-{partition}: {e}", txn_log::TOPIC),
            }
        }
        self.flush_background_appends();
    }

    /// Writes what the background path appended; the fetches parked on those logs are woken
    /// in the next turn.
    pub(super) fn flush_background_appends(&mut self) {
        if self.logs.pending_bytes() > 0 {
            let mut failed = Vec::new();
            self.logs.flush(&mut self.background_written, &mut failed);
        }
    }
}

/// The state recorded before the markers of `m` are written.
pub(super) fn prepared_state(meta: &TxnMetadata, commit: bool) -> TxnLogValue {
    let mut v = meta.log_value();
    v.state = if commit { TxnState::PrepareCommit } else { TxnState::PrepareAbort };
    v.last_update_ms = now_ms();
    v
}
