//! Committed offsets kept in `__consumer_offsets`: replayed into the coordinator at start-up,
//! appended (like any produce, so acknowledged only once written) when a group commits.

use std::collections::HashMap;
use std::io;

use super::Broker;
use crate::groups::consumer::{ConsumerGroup, TopicsMeta};
use crate::groups::consumer_records::{self, ConsumerGroupRecord, Decoded};
use crate::groups::offsets::{self, CommittedOffset, OffsetsRecord};
use crate::groups::Coordinator;
use crate::metadata::Cache;
use crate::protocol::error;
use crate::records::{BatchBuilder, Records};
use crate::storage::{Appended, LogId, LogManager};
use crate::txn::{PendingOffset, TxnCoordinator};

/// Control record type of a COMMIT marker (Kafka's `ControlRecordType`).
const COMMIT_MARKER: i16 = 1;

/// Replays every `__consumer_offsets` partition: the latest commit per group and partition
/// wins; tombstones delete. A transaction's offsets count from its COMMIT marker on; aborted
/// ones are dropped, and those of a transaction not ended yet go back to `txn` as pending.
pub fn load_committed_offsets(
    meta: &Cache,
    logs: &mut LogManager,
    groups: &mut Coordinator,
    txn: &mut TxnCoordinator,
) -> io::Result<()> {
    let Some(topic) = meta.topic(offsets::TOPIC) else { return Ok(()) };
    // Kafka restarts the members' sessions when it loads a group.
    let now = std::time::Instant::now();
    let session_deadline =
        now + std::time::Duration::from_millis(groups.consumer_config.session_timeout_ms as u64);
    for p in &topic.partitions {
        let Some(id) = logs.find(offsets::TOPIC, p.partition_id) else { continue };
        // By producer id: the offsets of its open transaction.
        let mut txns: HashMap<i64, Vec<(String, String, i32, CommittedOffset)>> = HashMap::new();
        logs.get_mut(id).scan_batches(|h, bytes| {
            if h.compression() != 0 {
                return; // Kafka writes offsets uncompressed
            }
            let Ok(recs) = Records::new(bytes) else { return };
            if h.is_control() {
                let commit = recs.flatten().next().and_then(|r| r.key).is_some_and(|k| {
                    k.len() >= 4 && i16::from_be_bytes([k[2], k[3]]) == COMMIT_MARKER
                });
                for (group, topic, partition, v) in
                    txns.remove(&h.producer_id).into_iter().flatten()
                {
                    if commit {
                        groups.group_mut(&group).offsets.insert((topic, partition), v);
                    }
                }
                return;
            }
            for rec in recs.flatten() {
                let Some(key) = rec.key else { continue };
                if key.len() >= 2 && i16::from_be_bytes([key[0], key[1]]) > 2 {
                    replay_consumer_group(groups, key, rec.value, session_deadline, p.partition_id);
                    continue;
                }
                match offsets::decode(key, rec.value) {
                    Ok(OffsetsRecord::Offset { group, topic, partition, value: Some(v) })
                        if h.is_transactional() =>
                    {
                        txns.entry(h.producer_id).or_default().push((group, topic, partition, v));
                    }
                    Ok(OffsetsRecord::Offset { group, topic, partition, value }) => {
                        let g = groups.group_mut(&group);
                        match value {
                            Some(v) => g.offsets.insert((topic, partition), v),
                            None => g.offsets.remove(&(topic, partition)),
                        };
                    }
                    Ok(OffsetsRecord::Group { group, present: true }) => {
                        groups.group_mut(&group);
                    }
                    Ok(OffsetsRecord::Group { group, present: false }) => {
                        // DeleteGroups: its offsets' tombstones came first.
                        groups.remove_group(&group);
                    }
                    Err(e) => {
                        log::warn!("__consumer_offsets-{}: record skipped: {e}", p.partition_id)
                    }
                }
            }
        })?;
        for (pid, open) in txns {
            let pending = open.into_iter().map(|(group, topic, partition, offset)| PendingOffset {
                group,
                topic,
                partition,
                offset,
            });
            txn.add_pending_offsets(pid, pending);
        }
    }
    let topics: TopicsMeta =
        meta.topics().map(|t| (t.name.clone(), (t.topic_id, t.partitions.len() as i32))).collect();
    let config = groups.consumer_config.clone();
    for g in groups.groups.values_mut() {
        if let Some(c) = &mut g.consumer {
            c.loaded(&topics, &config, now);
            log::info!(
                "consumer group {:?} loaded at epoch {} with {} members",
                c.group_id,
                c.group_epoch,
                c.members.len()
            );
        }
    }
    let n: usize = groups.groups.values().map(|g| g.offsets.len()).sum();
    if n > 0 {
        log::info!("loaded {n} committed offsets of {} groups", groups.groups.len());
    }
    Ok(())
}

/// One consumer group record (KIP-848) read back: it rebuilds the group's state.
fn replay_consumer_group(
    groups: &mut Coordinator,
    key: &[u8],
    value: Option<&[u8]>,
    session_deadline: std::time::Instant,
    partition: i32,
) {
    let rec = match consumer_records::decode(key, value) {
        Ok(Decoded::ConsumerGroup(rec)) => rec,
        // Share and streams groups are not served here.
        Ok(Decoded::Other { .. }) => return,
        Err(e) => {
            log::warn!("__consumer_offsets-{partition}: record skipped: {e}");
            return;
        }
    };
    let group_id = rec.group_id().to_string();
    if matches!(rec, ConsumerGroupRecord::GroupMetadata { value: None, .. }) {
        // The group was deleted; its offsets have tombstones of their own.
        if let Some(g) = groups.groups.get_mut(&group_id) {
            g.consumer = None;
        }
        return;
    }
    let g = groups.group_mut(&group_id);
    g.consumer.get_or_insert_with(|| ConsumerGroup::new(&group_id)).replay(rec, session_deadline);
}

impl Broker {
    /// Appends `records` of a consumer group (KIP-848) to its `__consumer_offsets` partition.
    /// `ack`: the answer to the current request waits for them, as for a produce.
    pub(super) fn write_consumer_group_records(
        &mut self,
        group_id: &str,
        records: &[ConsumerGroupRecord],
        ack: bool,
    ) -> i16 {
        if records.is_empty() {
            return error::NONE;
        }
        let log = match self.offsets_log(group_id) {
            Ok(log) => log,
            Err(code) => return code,
        };
        let mut batch = BatchBuilder::new(0, crate::metadata::log::now_ms());
        for rec in records {
            let (key, value) = rec.encode();
            batch.push(Some(&key), value.as_deref(), &[]);
        }
        match self.logs.append(log, &batch.finish()) {
            Ok(Appended::At(_)) => {}
            Ok(_) => unreachable!("group batches carry no producer id"),
            Err(e) => {
                log::error!("cannot append to {}: {e}", self.logs.get(log).dir().display());
                return error::KAFKA_STORAGE_ERROR;
            }
        }
        if ack {
            self.turn_acks.push((self.ctx.conn, log));
        }
        error::NONE
    }

    /// Writes `commits` for `group_id` to its `__consumer_offsets` partition (creating the
    /// topic on first use) and to the coordinator's cache. Returns an error code for all.
    pub(super) fn commit_offsets(
        &mut self,
        group_id: &str,
        commits: &[(&str, i32, CommittedOffset)],
    ) -> i16 {
        if commits.is_empty() {
            return error::NONE;
        }
        let log = match self.offsets_log(group_id) {
            Ok(log) => log,
            Err(code) => return code,
        };
        let mut batch = BatchBuilder::new(0, crate::metadata::log::now_ms());
        for (topic, p, c) in commits {
            batch.push(
                Some(&offsets::offset_key(group_id, topic, *p)),
                Some(&offsets::offset_value(c)),
                &[],
            );
        }
        match self.logs.append(log, &batch.finish()) {
            Ok(Appended::At(_)) => {}
            Ok(_) => unreachable!("offset batches carry no producer id"),
            Err(e) => {
                log::error!("cannot append to {}: {e}", self.logs.get(log).dir().display());
                return error::KAFKA_STORAGE_ERROR;
            }
        }
        self.turn_acks.push((self.ctx.conn, log));
        let g = self.groups.group_mut(group_id);
        for (topic, p, c) in commits {
            g.offsets.insert((topic.to_string(), *p), c.clone());
        }
        error::NONE
    }

    /// The `__consumer_offsets` partition of `group_id`, the topic created on first use.
    pub(super) fn offsets_log(&mut self, group_id: &str) -> Result<LogId, i16> {
        if self.meta.topic(offsets::TOPIC).is_none() {
            // Kafka keeps only the latest commit of each key: compacted, as its coordinator
            // creates the topic, so the directory stays right after a move to Kafka.
            let configs = [
                ("cleanup.policy", "compact"),
                ("compression.type", "producer"),
                ("segment.bytes", "104857600"),
            ];
            let partitions = self.config.offsets_topic_num_partitions;
            if let Err((code, msg)) =
                self.create_topic_with_configs(offsets::TOPIC, partitions, &configs)
            {
                log::error!("cannot create {}: {msg}", offsets::TOPIC);
                return Err(if code == error::KAFKA_STORAGE_ERROR {
                    code
                } else {
                    error::COORDINATOR_NOT_AVAILABLE
                });
            }
        }
        let partitions = self.meta.topic(offsets::TOPIC).map_or(1, |t| t.partitions.len() as i32);
        let partition = offsets::partition_for(group_id, partitions);
        self.logs.find(offsets::TOPIC, partition).ok_or(error::COORDINATOR_NOT_AVAILABLE)
    }

    /// Writes tombstones for `keys` (topic, partition) of `group_id`, and for the group itself
    /// when `group_tombstone`, to its `__consumer_offsets` partition, as Kafka's coordinator
    /// writes them on OffsetDelete and DeleteGroups, so the deletion survives a restart; then
    /// forgets those offsets. Nothing needs writing when the topic does not exist yet: then
    /// nothing about the group was ever written.
    pub(super) fn write_offset_tombstones(
        &mut self,
        group_id: &str,
        keys: &[(String, i32)],
        group_tombstone: bool,
    ) -> i16 {
        let Some(partitions) = self.meta.topic(offsets::TOPIC).map(|t| t.partitions.len() as i32)
        else {
            return error::NONE;
        };
        if keys.is_empty() && !group_tombstone {
            return error::NONE;
        }
        let partition = offsets::partition_for(group_id, partitions);
        let Some(log) = self.logs.find(offsets::TOPIC, partition) else {
            return error::COORDINATOR_NOT_AVAILABLE;
        };
        let mut batch = BatchBuilder::new(0, crate::metadata::log::now_ms());
        for (topic, p) in keys {
            batch.push(Some(&offsets::offset_key(group_id, topic, *p)), None, &[]);
        }
        if group_tombstone {
            batch.push(Some(&offsets::group_key(group_id)), None, &[]);
        }
        match self.logs.append(log, &batch.finish()) {
            Ok(Appended::At(_)) => {}
            Ok(_) => unreachable!("offset batches carry no producer id"),
            Err(e) => {
                log::error!("cannot append to __consumer_offsets-{partition}: {e}");
                return error::KAFKA_STORAGE_ERROR;
            }
        }
        self.turn_acks.push((self.ctx.conn, log));
        if let Some(g) = self.groups.groups.get_mut(group_id) {
            for k in keys {
                g.offsets.remove(k);
            }
        }
        error::NONE
    }
}
