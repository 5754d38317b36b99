//! Consumer groups of the KIP-848 protocol: members heartbeat (ConsumerGroupHeartbeat) and
//! the coordinator computes the assignment, as Kafka's `GroupMetadataManager` does.
//!
//! Every membership or subscription change bumps the group epoch; the target assignment is
//! then recomputed by the server-side assignor for that epoch. Each member reconciles towards
//! its target one heartbeat at a time (Kafka's `CurrentAssignmentBuilder`): partitions it must
//! give up are revoked first (UNREVOKED_PARTITIONS, the member keeps its epoch), partitions
//! another member still holds are withheld until released (UNRELEASED_PARTITIONS), and the
//! member reaches the target epoch once it owns nothing it should not.
//!
//! The fields of [`ConsumerGroup`] and [`ConsumerMember`] are those of Kafka's
//! `ConsumerGroupMetadata`, `ConsumerGroupMemberMetadata`, `ConsumerGroupTargetAssignment*`
//! and `ConsumerGroupCurrentMemberAssignment` records, so the state can be written to and
//! replayed from `__consumer_offsets`: [`ConsumerGroup::records_since`] gives the records of a
//! state change, [`ConsumerGroup::replay`] applies them again at start-up.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::consumer_records::{self as cr, ConsumerGroupRecord};
use crate::protocol::codec::Uuid;
use crate::protocol::error;

/// Partitions by topic id.
pub type Partitions = BTreeMap<Uuid, BTreeSet<i32>>;

/// Topic name -> (topic id, partition count), as the metadata has them now.
pub type TopicsMeta = BTreeMap<String, (Uuid, i32)>;

/// Member epoch of a request leaving the group.
pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// Member epoch of a static member leaving for now, to come back with the same instance id.
pub const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    Stable,
    UnrevokedPartitions,
    UnreleasedPartitions,
}

impl MemberState {
    /// The value of `ConsumerGroupCurrentMemberAssignmentValue.State` (Kafka's `MemberState`).
    pub fn record_value(self) -> i8 {
        match self {
            MemberState::Stable => cr::MEMBER_STATE_STABLE,
            MemberState::UnrevokedPartitions => cr::MEMBER_STATE_UNREVOKED_PARTITIONS,
            MemberState::UnreleasedPartitions => cr::MEMBER_STATE_UNRELEASED_PARTITIONS,
        }
    }

    fn from_record_value(v: i8) -> MemberState {
        match v {
            cr::MEMBER_STATE_UNREVOKED_PARTITIONS => MemberState::UnrevokedPartitions,
            cr::MEMBER_STATE_UNRELEASED_PARTITIONS => MemberState::UnreleasedPartitions,
            _ => MemberState::Stable,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConsumerMember {
    // ConsumerGroupMemberMetadataValue
    pub member_id: String,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    pub subscribed_topic_regex: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub server_assignor: Option<String>,
    // ConsumerGroupCurrentMemberAssignmentValue
    pub state: MemberState,
    pub member_epoch: i32,
    pub previous_member_epoch: i32,
    pub assigned: Partitions,
    pub pending_revocation: Partitions,
    /// The epoch each partition assigned or pending revocation was assigned at (the tag
    /// Kafka 4.4 added): kept partitions keep theirs, new ones take the epoch the member
    /// moves to. A commit at an older member epoch is accepted for a partition assigned at
    /// or before it.
    pub partition_epochs: BTreeMap<(Uuid, i32), i32>,
    // Not in the records: timers.
    session_deadline: Instant,
    /// While partitions are pending revocation: when the member is fenced for holding them.
    revocation_deadline: Option<Instant>,
}

#[derive(Debug, Clone, Default)]
pub struct ConsumerGroup {
    pub group_id: String,
    // ConsumerGroupMetadataValue
    pub group_epoch: i32,
    pub members: BTreeMap<String, ConsumerMember>,
    /// The subscribed topics as they were when the target assignment was computed
    /// (`ConsumerGroupPartitionMetadataValue`): a difference triggers a new epoch.
    pub subscription_metadata: TopicsMeta,
    // ConsumerGroupTargetAssignmentMetadataValue / ConsumerGroupTargetAssignmentMemberValue
    pub target_assignment_epoch: i32,
    pub target_assignment: BTreeMap<String, Partitions>,
    /// The assignor that computed the target.
    pub assignor: String,
    /// When the target was last computed (`AssignmentTimestamp`, ms since the epoch), as
    /// written and replayed; `last_assignment` is the same moment on the monotonic clock.
    pub assignment_timestamp_ms: i64,
    last_assignment: Option<Instant>,
    /// The regular expressions the members subscribe with and the topics each resolved to
    /// (`ConsumerGroupRegularExpressionValue`): written, so that Kafka loading the group goes
    /// on with the same topics instead of taking every regex member's partitions away until
    /// it resolves the regexes again.
    pub resolved_regexes: BTreeMap<String, cr::RegularExpressionValue>,
    /// The offset of the metadata log the topics are read at, the version of a resolution
    /// (Kafka's metadata image offset); set by the coordinator, not kept.
    pub metadata_offset: i64,
}

/// The coordinator's settings for consumer groups.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub heartbeat_interval_ms: i32,
    pub session_timeout_ms: i32,
    pub max_size: i32,
    /// Server-side assignors ("uniform", "range"); the first is the default.
    pub assignors: Vec<String>,
    /// Kafka's `group.consumer.assignment.interval.ms` (KIP-1263): the least time between two
    /// target assignments of a group; 0 computes one at every change.
    pub assignment_interval_ms: i32,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            heartbeat_interval_ms: 5000,
            session_timeout_ms: 45000,
            max_size: i32::MAX,
            assignors: vec!["uniform".into(), "range".into()],
            assignment_interval_ms: 1000,
        }
    }
}

/// A ConsumerGroupHeartbeat request, fields as received.
#[derive(Debug, Clone, Default)]
pub struct HeartbeatArgs {
    pub version: i16,
    pub group_id: String,
    pub member_id: String,
    pub member_epoch: i32,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub subscribed_topic_names: Option<Vec<String>>,
    pub subscribed_topic_regex: Option<String>,
    pub server_assignor: Option<String>,
    pub owned: Option<Partitions>,
    pub client_id: String,
    pub client_host: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatResult {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub member_id: Option<String>,
    pub member_epoch: i32,
    pub assignment: Option<Partitions>,
}

impl HeartbeatResult {
    pub fn error(code: i16, message: impl Into<String>) -> Self {
        HeartbeatResult {
            error_code: code,
            error_message: Some(message.into()),
            member_id: None,
            member_epoch: 0,
            assignment: None,
        }
    }
}

/// Checks what Kafka's `throwIfConsumerGroupHeartbeatRequestIsInvalid` checks before any
/// state is looked at.
pub fn validate(a: &HeartbeatArgs, config: &ConsumerConfig) -> Result<(), HeartbeatResult> {
    let invalid = |m: &str| Err(HeartbeatResult::error(error::INVALID_REQUEST, m));
    if a.group_id.is_empty() {
        return invalid("GroupId can't be empty.");
    }
    if a.version >= 1 && a.member_id.is_empty() {
        return invalid("MemberId can't be empty.");
    }
    if a.version == 0 && a.member_epoch != 0 && a.member_id.is_empty() {
        return invalid("MemberId can't be empty.");
    }
    if a.instance_id.as_deref() == Some("") {
        return invalid("InstanceId can't be empty.");
    }
    if a.rack_id.as_deref() == Some("") {
        return invalid("RackId can't be empty.");
    }
    if a.member_epoch == 0 {
        if a.rebalance_timeout_ms == -1 {
            return invalid("RebalanceTimeoutMs must be provided in first request.");
        }
        if a.owned.as_ref().is_none_or(|o| !o.is_empty()) {
            return invalid("TopicPartitions must be empty when (re-)joining.");
        }
        if a.subscribed_topic_names.is_none() && a.subscribed_topic_regex.is_none() {
            return invalid(
                "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.",
            );
        }
    } else if a.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        if a.instance_id.is_none() {
            return invalid("InstanceId can't be null.");
        }
    } else if a.member_epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        return invalid(&format!(
            "MemberEpoch is {}, but must be greater than or equal to -2.",
            a.member_epoch
        ));
    }
    if let Some(name) = &a.server_assignor {
        if !config.assignors.contains(name) {
            return Err(HeartbeatResult::error(
                error::UNSUPPORTED_ASSIGNOR,
                format!(
                    "ServerAssignor {name} is not supported. Supported assignors: {}.",
                    config.assignors.join(", ")
                ),
            ));
        }
    }
    if let Some(re) = &a.subscribed_topic_regex {
        if crate::txn::pattern::Pattern::compile(re).is_err() {
            return Err(HeartbeatResult::error(
                error::INVALID_REGULAR_EXPRESSION,
                format!("SubscribedTopicRegex `{re}` is not a valid regular expression."),
            ));
        }
    }
    Ok(())
}

fn regex_matches(re: &str, topic: &str) -> bool {
    crate::txn::pattern::Pattern::compile(re).is_ok_and(|p| p.matches(topic))
}

impl ConsumerMember {
    fn new(member_id: &str, session_deadline: Instant) -> Self {
        ConsumerMember {
            member_id: member_id.to_string(),
            instance_id: None,
            rack_id: None,
            client_id: String::new(),
            client_host: String::new(),
            subscribed_topic_names: Vec::new(),
            subscribed_topic_regex: None,
            rebalance_timeout_ms: 0,
            server_assignor: None,
            state: MemberState::Stable,
            member_epoch: 0,
            previous_member_epoch: 0,
            assigned: Partitions::new(),
            pending_revocation: Partitions::new(),
            partition_epochs: BTreeMap::new(),
            session_deadline,
            revocation_deadline: None,
        }
    }

    fn metadata_value(&self) -> cr::MemberMetadataValue {
        cr::MemberMetadataValue {
            instance_id: self.instance_id.clone(),
            rack_id: self.rack_id.clone(),
            client_id: self.client_id.clone(),
            client_host: self.client_host.clone(),
            subscribed_topic_names: self.subscribed_topic_names.clone(),
            subscribed_topic_regex: self.subscribed_topic_regex.clone(),
            rebalance_timeout_ms: self.rebalance_timeout_ms,
            server_assignor: self.server_assignor.clone(),
            // A member of the consumer protocol: Kafka writes the explicit null.
            classic_member_metadata: None,
        }
    }

    fn assignment_value(&self) -> cr::CurrentMemberAssignmentValue {
        let parts = |p: &Partitions| -> Vec<cr::AssignedPartitions> {
            flatten(p)
                .into_iter()
                .map(|(topic_id, partitions)| {
                    let epochs = partitions
                        .iter()
                        .map(|&p| self.partition_epochs.get(&(topic_id, p)).copied())
                        .collect::<Option<Vec<i32>>>();
                    cr::AssignedPartitions {
                        topic_id,
                        partitions,
                        assignment_epochs: Some(epochs.unwrap_or_default()),
                    }
                })
                .collect()
        };
        cr::CurrentMemberAssignmentValue {
            member_epoch: self.member_epoch,
            previous_member_epoch: self.previous_member_epoch,
            state: self.state.record_value(),
            assigned_partitions: parts(&self.assigned),
            partitions_pending_revocation: parts(&self.pending_revocation),
        }
    }

    /// Records the assignment epochs of what the member holds now: partitions it did not
    /// hold before were assigned at its current epoch.
    fn note_assignment_epochs(&mut self) {
        let held: BTreeSet<(Uuid, i32)> = self
            .assigned
            .iter()
            .chain(&self.pending_revocation)
            .flat_map(|(t, ps)| ps.iter().map(move |p| (*t, *p)))
            .collect();
        self.partition_epochs.retain(|k, _| held.contains(k));
        for k in held {
            self.partition_epochs.entry(k).or_insert(self.member_epoch);
        }
    }

    /// The topics of `topics` this member subscribes to, by name or regex. Internal topics
    /// are never matched by a regex, as in Kafka.
    fn subscribed<'t>(&self, topics: &'t TopicsMeta) -> Vec<&'t str> {
        topics
            .keys()
            .filter(|t| {
                self.subscribed_topic_names.iter().any(|n| n == *t)
                    || self
                        .subscribed_topic_regex
                        .as_deref()
                        .is_some_and(|re| !t.starts_with("__") && regex_matches(re, t))
            })
            .map(String::as_str)
            .collect()
    }
}

impl ConsumerGroup {
    pub fn new(group_id: &str) -> Self {
        ConsumerGroup { group_id: group_id.to_string(), ..Default::default() }
    }

    /// A group a first heartbeat creates: as in Kafka 4.3+, at group and target epoch 1 (so a
    /// first member's join is answered with epoch 2). Its first target is not held back by
    /// the assignment interval.
    pub fn created(group_id: &str) -> Self {
        ConsumerGroup {
            group_id: group_id.to_string(),
            group_epoch: 1,
            target_assignment_epoch: 1,
            ..Default::default()
        }
    }

    /// The `__consumer_offsets` records that take the group from `old` (`None`: it did not
    /// exist) to its state now, in the order Kafka's coordinator writes them: the tombstones
    /// of departed members (current assignment, target, member), the members' metadata, the
    /// group epoch, the target assignment (members, then its epoch), the members' current
    /// assignments. The group record carries the metadata hash of the subscribed topics, so
    /// that Kafka loading the group sees them unchanged.
    pub fn records_since(&self, old: Option<&ConsumerGroup>) -> Vec<ConsumerGroupRecord> {
        let empty = ConsumerGroup::default();
        let old = old.unwrap_or(&empty);
        let group_id = || self.group_id.clone();
        let mut out = Vec::new();
        for id in old.members.keys().filter(|id| !self.members.contains_key(*id)) {
            let member_id = id.clone();
            out.push(ConsumerGroupRecord::CurrentMemberAssignment {
                group_id: group_id(),
                member_id: member_id.clone(),
                value: None,
            });
            out.push(ConsumerGroupRecord::TargetAssignmentMember {
                group_id: group_id(),
                member_id: member_id.clone(),
                value: None,
            });
            out.push(ConsumerGroupRecord::MemberMetadata {
                group_id: group_id(),
                member_id,
                value: None,
            });
        }
        for (id, m) in &self.members {
            let v = m.metadata_value();
            if old.members.get(id).map(ConsumerMember::metadata_value).as_ref() != Some(&v) {
                out.push(ConsumerGroupRecord::MemberMetadata {
                    group_id: group_id(),
                    member_id: id.clone(),
                    value: Some(v),
                });
            }
        }
        // A regex's resolution, then the epoch it bumps (Kafka's order).
        for (re, v) in &self.resolved_regexes {
            if old.resolved_regexes.get(re) != Some(v) {
                out.push(ConsumerGroupRecord::RegularExpression {
                    group_id: group_id(),
                    regular_expression: re.clone(),
                    value: Some(v.clone()),
                });
            }
        }
        for re in old.resolved_regexes.keys().filter(|re| !self.resolved_regexes.contains_key(*re))
        {
            out.push(ConsumerGroupRecord::RegularExpression {
                group_id: group_id(),
                regular_expression: re.clone(),
                value: None,
            });
        }
        if self.group_epoch != old.group_epoch || old.group_id.is_empty() {
            out.push(ConsumerGroupRecord::GroupMetadata {
                group_id: group_id(),
                value: Some(cr::GroupMetadataValue {
                    epoch: self.group_epoch,
                    metadata_hash: super::metadata_hash::of_subscription(
                        &self.subscription_metadata,
                    ),
                }),
            });
        }
        for (id, target) in &self.target_assignment {
            if old.target_assignment.get(id) != Some(target) {
                let topic_partitions = flatten(target)
                    .into_iter()
                    .map(|(topic_id, partitions)| cr::TopicPartitions { topic_id, partitions })
                    .collect();
                out.push(ConsumerGroupRecord::TargetAssignmentMember {
                    group_id: group_id(),
                    member_id: id.clone(),
                    value: Some(cr::TargetAssignmentMemberValue { topic_partitions }),
                });
            }
        }
        for id in old.target_assignment.keys() {
            // A departed member's target went with its tombstones above.
            if !self.target_assignment.contains_key(id) && self.members.contains_key(id) {
                out.push(ConsumerGroupRecord::TargetAssignmentMember {
                    group_id: group_id(),
                    member_id: id.clone(),
                    value: None,
                });
            }
        }
        if self.target_assignment_epoch != old.target_assignment_epoch {
            out.push(ConsumerGroupRecord::TargetAssignmentMetadata {
                group_id: group_id(),
                value: Some(cr::TargetAssignmentMetadataValue {
                    assignment_epoch: self.target_assignment_epoch,
                    assignment_timestamp: self.assignment_timestamp_ms,
                }),
            });
        }
        for (id, m) in &self.members {
            let v = m.assignment_value();
            if old.members.get(id).map(ConsumerMember::assignment_value).as_ref() != Some(&v) {
                out.push(ConsumerGroupRecord::CurrentMemberAssignment {
                    group_id: group_id(),
                    member_id: id.clone(),
                    value: Some(v),
                });
            }
        }
        out
    }

    /// The tombstones that delete the group (DeleteGroups, or its conversion to a classic
    /// group), in Kafka's order: each member's, then the target assignment's and the group's.
    pub fn tombstones(&self) -> Vec<ConsumerGroupRecord> {
        let gone = ConsumerGroup { group_id: self.group_id.clone(), ..Default::default() };
        let mut out: Vec<ConsumerGroupRecord> = gone
            .records_since(Some(self))
            .into_iter()
            .filter(ConsumerGroupRecord::is_tombstone)
            .collect();
        let group_id = self.group_id.clone();
        out.push(ConsumerGroupRecord::TargetAssignmentMetadata {
            group_id: group_id.clone(),
            value: None,
        });
        out.push(ConsumerGroupRecord::GroupMetadata { group_id, value: None });
        out
    }

    /// Applies one record read back from `__consumer_offsets` at start-up. A member's
    /// session starts again at `session_deadline`, as Kafka restarts the timers on load.
    pub fn replay(&mut self, rec: ConsumerGroupRecord, session_deadline: Instant) {
        match rec {
            ConsumerGroupRecord::GroupMetadata { value, .. } => {
                self.group_epoch = value.map_or(0, |v| v.epoch);
            }
            ConsumerGroupRecord::MemberMetadata { member_id, value: None, .. } => {
                self.members.remove(&member_id);
            }
            ConsumerGroupRecord::MemberMetadata { member_id, value: Some(v), .. } => {
                let m = self
                    .members
                    .entry(member_id.clone())
                    .or_insert_with(|| ConsumerMember::new(&member_id, session_deadline));
                m.instance_id = v.instance_id;
                m.rack_id = v.rack_id;
                m.client_id = v.client_id;
                m.client_host = v.client_host;
                m.subscribed_topic_names = v.subscribed_topic_names;
                m.subscribed_topic_regex = v.subscribed_topic_regex;
                m.rebalance_timeout_ms = v.rebalance_timeout_ms;
                m.server_assignor = v.server_assignor;
            }
            ConsumerGroupRecord::TargetAssignmentMetadata { value, .. } => {
                self.target_assignment_epoch = value.as_ref().map_or(0, |v| v.assignment_epoch);
                self.assignment_timestamp_ms = value.map_or(0, |v| v.assignment_timestamp);
            }
            ConsumerGroupRecord::TargetAssignmentMember { member_id, value: None, .. } => {
                self.target_assignment.remove(&member_id);
            }
            ConsumerGroupRecord::TargetAssignmentMember { member_id, value: Some(v), .. } => {
                let mut p = Partitions::new();
                for t in v.topic_partitions {
                    p.entry(t.topic_id).or_default().extend(t.partitions);
                }
                self.target_assignment.insert(member_id, p);
            }
            ConsumerGroupRecord::CurrentMemberAssignment { member_id, value: None, .. } => {
                // The member's own tombstone follows.
                if let Some(m) = self.members.get_mut(&member_id) {
                    m.assigned.clear();
                    m.pending_revocation.clear();
                    m.partition_epochs.clear();
                }
            }
            ConsumerGroupRecord::CurrentMemberAssignment { member_id, value: Some(v), .. } => {
                let m = self
                    .members
                    .entry(member_id.clone())
                    .or_insert_with(|| ConsumerMember::new(&member_id, session_deadline));
                let mut epochs = BTreeMap::new();
                let mut parts = |ps: Vec<cr::AssignedPartitions>| {
                    let mut p = Partitions::new();
                    for t in ps {
                        // Records without the epochs (before Kafka 4.4) count every partition
                        // as assigned at the member's epoch.
                        let at = t.assignment_epochs.filter(|e| e.len() == t.partitions.len());
                        for (i, &q) in t.partitions.iter().enumerate() {
                            let e = at.as_ref().map_or(v.member_epoch, |e| e[i]);
                            epochs.insert((t.topic_id, q), e);
                        }
                        p.entry(t.topic_id).or_default().extend(t.partitions);
                    }
                    p
                };
                let assigned = parts(v.assigned_partitions);
                let pending = parts(v.partitions_pending_revocation);
                m.member_epoch = v.member_epoch;
                m.previous_member_epoch = v.previous_member_epoch;
                m.state = MemberState::from_record_value(v.state);
                m.assigned = assigned;
                m.pending_revocation = pending;
                m.partition_epochs = epochs;
            }
            // The partition metadata was replaced by the metadata hash, recomputed from the
            // metadata at load.
            ConsumerGroupRecord::PartitionMetadata { .. } => {}
            ConsumerGroupRecord::RegularExpression { regular_expression, value, .. } => {
                match value {
                    Some(v) => self.resolved_regexes.insert(regular_expression, v),
                    None => self.resolved_regexes.remove(&regular_expression),
                };
            }
        }
    }

    /// After the replay: the subscribed topics as the metadata has them (so a restart alone
    /// makes no new epoch), the assignor, and the revocation timers restarted.
    pub fn loaded(&mut self, topics: &TopicsMeta, config: &ConsumerConfig, now: Instant) {
        self.subscription_metadata = self.subscription(topics);
        self.assignor = self.select_assignor(config);
        // The interval runs on from the last assignment written, as Kafka reads its timestamp.
        let ago = crate::metadata::log::now_ms().saturating_sub(self.assignment_timestamp_ms);
        self.last_assignment = (self.assignment_timestamp_ms > 0)
            .then(|| now.checked_sub(Duration::from_millis(ago.max(0) as u64)))
            .flatten();
        for m in self.members.values_mut() {
            m.revocation_deadline = (!m.pending_revocation.is_empty())
                .then(|| now + Duration::from_millis(m.rebalance_timeout_ms.max(0) as u64));
        }
    }

    /// Kafka's `ConsumerGroup.State` names: Empty, Assigning, Reconciling, Stable.
    pub fn state_name(&self) -> &'static str {
        if self.members.is_empty() {
            "Empty"
        } else if self.group_epoch != self.target_assignment_epoch {
            "Assigning"
        } else if self.members.values().any(|m| {
            m.state != MemberState::Stable || m.member_epoch != self.target_assignment_epoch
        }) {
            "Reconciling"
        } else {
            "Stable"
        }
    }

    /// The subscribed topics, as the metadata has them now.
    fn subscription(&self, topics: &TopicsMeta) -> TopicsMeta {
        let mut s = TopicsMeta::new();
        for m in self.members.values() {
            for t in m.subscribed(topics) {
                s.insert(t.to_string(), topics[t]);
            }
        }
        s
    }

    /// The member owning (assigned or pending revocation) each partition, with its epoch.
    fn owner_of(&self, topic: &Uuid, p: i32, except: &str) -> bool {
        self.members.values().any(|m| {
            m.member_id != except
                && (m.assigned.get(topic).is_some_and(|s| s.contains(&p))
                    || m.pending_revocation.get(topic).is_some_and(|s| s.contains(&p)))
        })
    }

    /// Bumps the group epoch if the subscribed topics changed in the metadata, then
    /// recomputes the target assignment if it is behind the group epoch.
    /// `bump` says the membership or a subscription changed: like a metadata change, it
    /// takes the group to its next epoch (once, whatever changed).
    fn refresh(
        &mut self,
        topics: &TopicsMeta,
        config: &ConsumerConfig,
        mut bump: bool,
        now: Instant,
    ) {
        self.resolve_regexes(topics);
        let subscription = self.subscription(topics);
        if subscription != self.subscription_metadata {
            self.subscription_metadata = subscription;
            bump = true;
        }
        if bump {
            self.group_epoch += 1;
        }
        if self.target_assignment_epoch != self.group_epoch && self.assignment_due(config, now) {
            self.assignor = self.select_assignor(config);
            let subs: BTreeMap<String, Vec<(Uuid, i32)>> = self
                .members
                .values()
                .map(|m| {
                    let ts = m.subscribed(topics).into_iter().map(|t| topics[t]).collect();
                    (m.member_id.clone(), ts)
                })
                .collect();
            self.target_assignment = match self.assignor.as_str() {
                "range" => range_assign(&subs),
                _ => uniform_assign(&subs, &self.target_assignment),
            };
            self.target_assignment_epoch = self.group_epoch;
            self.last_assignment = Some(now);
            self.assignment_timestamp_ms = crate::metadata::log::now_ms();
        }
    }

    /// Resolves each regex a member subscribes with against `topics` (internal topics never
    /// match); one no member uses any more is forgotten (its record becomes a tombstone).
    fn resolve_regexes(&mut self, topics: &TopicsMeta) {
        self.forget_unused_regexes();
        let used: BTreeSet<String> =
            self.members.values().filter_map(|m| m.subscribed_topic_regex.clone()).collect();
        for re in used {
            let matched: Vec<String> = topics
                .keys()
                .filter(|t| !t.starts_with("__") && regex_matches(&re, t))
                .cloned()
                .collect();
            if self.resolved_regexes.get(&re).is_none_or(|v| v.topics != matched) {
                let value = cr::RegularExpressionValue {
                    topics: matched,
                    version: self.metadata_offset,
                    timestamp: crate::metadata::log::now_ms(),
                };
                self.resolved_regexes.insert(re, value);
            }
        }
    }

    fn forget_unused_regexes(&mut self) {
        let members = &self.members;
        self.resolved_regexes.retain(|re, _| {
            members.values().any(|m| m.subscribed_topic_regex.as_deref() == Some(re))
        });
    }

    /// Kafka 4.3+ (KIP-1263) computes a group's target at most once per
    /// `group.consumer.assignment.interval.ms`: changes within it wait for the next
    /// computation, so members joining together are given their shares at once instead of
    /// the first taking everything and giving half of it back. A group's first target is not
    /// held back. Until then members stay at the assignment epoch; a new one gets that epoch
    /// and no partitions.
    fn assignment_due(&self, config: &ConsumerConfig, now: Instant) -> bool {
        let interval = Duration::from_millis(config.assignment_interval_ms.max(0) as u64);
        self.last_assignment.is_none_or(|t| now.saturating_duration_since(t) >= interval)
    }

    /// The assignor most members ask for, else the first configured (Kafka's
    /// `ConsumerGroup.computePreferredServerAssignor`).
    fn select_assignor(&self, config: &ConsumerConfig) -> String {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(a) = &m.server_assignor {
                *votes.entry(a).or_default() += 1;
            }
        }
        let best = votes.iter().max_by_key(|(_, n)| **n).map(|(a, _)| a.to_string());
        best.unwrap_or_else(|| config.assignors[0].clone())
    }

    /// Moves `member_id` one step towards its target assignment.
    fn reconcile(&mut self, member_id: &str, owned: Option<&Partitions>, now: Instant) {
        let target_epoch = self.target_assignment_epoch;
        let target = self.target_assignment.get(member_id).cloned().unwrap_or_default();
        let m = &self.members[member_id];
        let (epoch, assigned) = match m.state {
            MemberState::Stable | MemberState::UnreleasedPartitions => {
                if m.state == MemberState::Stable && m.member_epoch == target_epoch {
                    return;
                }
                (m.member_epoch, m.assigned.clone())
            }
            MemberState::UnrevokedPartitions => {
                // Only a member that says what it owns can show it let go of the revoked ones.
                let still_owns = owned.is_none_or(|o| {
                    m.pending_revocation
                        .iter()
                        .any(|(t, ps)| o.get(t).is_some_and(|os| !os.is_disjoint(ps)))
                });
                if still_owns {
                    return;
                }
                (m.member_epoch, m.assigned.clone())
            }
        };
        let mut kept = Partitions::new();
        let mut revoked = Partitions::new();
        let mut newly = Partitions::new();
        let mut unreleased = false;
        for (t, ps) in &assigned {
            for &p in ps {
                let into = if target.get(t).is_some_and(|s| s.contains(&p)) {
                    &mut kept
                } else {
                    &mut revoked
                };
                into.entry(*t).or_default().insert(p);
            }
        }
        for (t, ps) in &target {
            for &p in ps {
                if assigned.get(t).is_some_and(|s| s.contains(&p)) {
                    continue;
                }
                if self.owner_of(t, p, member_id) {
                    unreleased = true;
                } else {
                    newly.entry(*t).or_default().insert(p);
                }
            }
        }
        let m = self.members.get_mut(member_id).expect("reconciled member exists");
        if !revoked.is_empty() {
            // Revocation first: the member keeps its epoch until it has let go.
            m.state = MemberState::UnrevokedPartitions;
            set_epoch(m, epoch);
            m.assigned = kept;
            m.pending_revocation = revoked;
            m.note_assignment_epochs();
            m.revocation_deadline =
                Some(now + Duration::from_millis(m.rebalance_timeout_ms.max(0) as u64));
        } else {
            for (t, ps) in newly {
                kept.entry(t).or_default().extend(ps);
            }
            m.state =
                if unreleased { MemberState::UnreleasedPartitions } else { MemberState::Stable };
            set_epoch(m, target_epoch);
            m.assigned = kept;
            m.pending_revocation.clear();
            m.note_assignment_epochs();
            m.revocation_deadline = None;
        }
    }

    fn remove_member(&mut self, member_id: &str) -> bool {
        self.target_assignment.remove(member_id);
        let removed = self.members.remove(member_id).is_some();
        self.forget_unused_regexes();
        removed
    }

    /// Members whose session ended, or who held revoked partitions past their rebalance
    /// timeout, are removed (Kafka's session and rebalance timers).
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let gone: Vec<String> = self
            .members
            .values()
            .filter(|m| {
                now >= m.session_deadline || m.revocation_deadline.is_some_and(|d| now >= d)
            })
            .map(|m| m.member_id.clone())
            .collect();
        for id in &gone {
            log::info!("consumer group {:?}: member {id:?} expired", self.group_id);
            self.remove_member(id);
        }
        if !gone.is_empty() {
            // The new target is computed at the next heartbeat, which has the metadata.
            self.group_epoch += 1;
        }
        gone
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.members
            .values()
            .flat_map(|m| [Some(m.session_deadline), m.revocation_deadline])
            .flatten()
            .min()
    }

    /// Kafka 4.4's `validateOffsetCommit` for a member committing at an epoch older than its
    /// own (which [`Self::check_member_epoch`] answers STALE_MEMBER_EPOCH): the commit of a
    /// partition it holds stands if the partition was assigned at or before that epoch.
    pub fn commit_at_older_epoch(&self, member_id: &str, epoch: i32, topic: &Uuid, p: i32) -> bool {
        self.members.get(member_id).is_some_and(|m| {
            epoch < m.member_epoch
                && m.partition_epochs.get(&(*topic, p)).is_some_and(|&at| at <= epoch)
        })
    }

    /// Kafka's `validateOffsetCommit`/`validateOffsetFetch`: an admin (epoch < 0, no member)
    /// only while the group is empty, otherwise a member at its current epoch.
    pub fn check_member_epoch(&self, member_id: &str, member_epoch: i32) -> i16 {
        if member_epoch < 0 && member_id.is_empty() {
            return if self.members.is_empty() { error::NONE } else { error::UNKNOWN_MEMBER_ID };
        }
        match self.members.get(member_id) {
            None => error::UNKNOWN_MEMBER_ID,
            Some(m) if m.member_epoch != member_epoch => error::STALE_MEMBER_EPOCH,
            Some(_) => error::NONE,
        }
    }

    /// Handles one heartbeat of this group; `new_member_id` names a v0 member joining
    /// without an id.
    pub fn heartbeat(
        &mut self,
        a: &HeartbeatArgs,
        topics: &TopicsMeta,
        config: &ConsumerConfig,
        new_member_id: impl FnOnce() -> String,
        now: Instant,
    ) -> HeartbeatResult {
        if a.member_epoch == LEAVE_GROUP_MEMBER_EPOCH
            || a.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH
        {
            return self.leave(a, topics, config, now);
        }
        // Kafka's `throwIfConsumerGroupIsFull` comes before the member is looked up: any
        // request from outside a full group is refused, except a static member's return.
        let static_return = a.member_epoch == 0
            && a.instance_id.as_ref().is_some_and(|i| {
                self.members.values().any(|m| m.instance_id.as_deref() == Some(i.as_str()))
            });
        if !static_return
            && !self.members.contains_key(&a.member_id)
            && self.members.len() as i64 >= config.max_size as i64
        {
            return HeartbeatResult::error(
                error::GROUP_MAX_SIZE_REACHED,
                format!(
                    "The consumer group has reached its maximum capacity of {} members.",
                    config.max_size
                ),
            );
        }
        let session = Duration::from_millis(config.session_timeout_ms as u64);
        let mut member_id = a.member_id.clone();
        let before: Option<Partitions>;
        let mut new_member = false;
        if a.member_epoch == 0 {
            if member_id.is_empty() {
                member_id = new_member_id();
            }
            // A static member comes back under a new member id: it takes the place (and
            // assignment) of the incarnation that left with epoch -2.
            let replaced = match &a.instance_id {
                Some(inst) => {
                    let prev = self
                        .members
                        .values()
                        .find(|m| m.instance_id.as_deref() == Some(inst.as_str()))
                        .map(|m| (m.member_id.clone(), m.member_epoch));
                    match prev {
                        Some((_, e)) if e != LEAVE_GROUP_STATIC_MEMBER_EPOCH => {
                            return HeartbeatResult::error(
                                error::UNRELEASED_INSTANCE_ID,
                                format!("Static member with unknown member id and instance id {inst} cannot join the group because the instance id is is owned by another member."),
                            )
                        }
                        Some((id, _)) => self.members.remove(&id).map(|mut old| {
                            let target = self.target_assignment.remove(&id);
                            old.member_id = member_id.clone();
                            if let Some(t) = target {
                                self.target_assignment.insert(member_id.clone(), t);
                            }
                            old.member_epoch = old.previous_member_epoch;
                            old
                        }),
                        None => None,
                    }
                }
                None => None,
            };
            if let Some(m) = replaced {
                self.members.insert(member_id.clone(), m);
            } else if let Some(m) = self.members.get_mut(&member_id) {
                // Rejoining after being fenced: it owns nothing any more.
                m.assigned.clear();
                m.pending_revocation.clear();
                m.partition_epochs.clear();
                m.state = MemberState::Stable;
                set_epoch(m, 0);
            } else {
                if self.members.len() as i64 >= config.max_size as i64 {
                    return HeartbeatResult::error(
                        error::GROUP_MAX_SIZE_REACHED,
                        format!(
                            "The consumer group has reached its maximum capacity of {} members.",
                            config.max_size
                        ),
                    );
                }
                let mut m = ConsumerMember::new(&member_id, now + session);
                m.rebalance_timeout_ms = a.rebalance_timeout_ms;
                self.members.insert(member_id.clone(), m);
                new_member = true;
            }
            before = None;
        } else {
            let Some(m) = self.members.get(&member_id) else {
                return HeartbeatResult::error(
                    error::UNKNOWN_MEMBER_ID,
                    format!("Member {member_id} is not a member of group {}.", self.group_id),
                );
            };
            if m.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                return HeartbeatResult::error(
                    error::UNKNOWN_MEMBER_ID,
                    format!("Member {member_id} left the group {}.", self.group_id),
                );
            }
            // Kafka's `throwIfMemberEpochIsInvalid`: a member one epoch behind (its answer
            // was lost) may continue if it owns nothing beyond its assignment.
            let fenced = if a.member_epoch > m.member_epoch {
                true
            } else if a.member_epoch < m.member_epoch {
                a.member_epoch != m.previous_member_epoch
                    || a.owned.as_ref().is_some_and(|o| !is_subset(o, &m.assigned))
            } else {
                false
            };
            if fenced {
                return HeartbeatResult::error(
                    error::FENCED_MEMBER_EPOCH,
                    format!(
                        "The consumer group member has a greater member epoch ({}) than the one known by the group coordinator ({}). The member must abandon all its partitions and rejoin.",
                        a.member_epoch, m.member_epoch
                    ),
                );
            }
            before = Some(m.assigned.clone());
        }
        let m = self.members.get_mut(&member_id).expect("member present");
        m.session_deadline = now + session;
        let mut changed = new_member;
        let update = |slot: &mut Option<String>, v: &Option<String>| {
            if v.is_some() && slot != v {
                *slot = v.clone();
            }
        };
        update(&mut m.instance_id, &a.instance_id);
        update(&mut m.rack_id, &a.rack_id);
        m.client_id = a.client_id.clone();
        m.client_host = a.client_host.clone();
        if a.rebalance_timeout_ms != -1 {
            m.rebalance_timeout_ms = a.rebalance_timeout_ms;
        }
        if let Some(names) = &a.subscribed_topic_names {
            let mut names = names.clone();
            names.sort();
            names.dedup();
            if names != m.subscribed_topic_names {
                m.subscribed_topic_names = names;
                changed = true;
            }
        }
        if let Some(re) = &a.subscribed_topic_regex {
            // An empty regex clears it: the same as none.
            let re = Some(re.clone()).filter(|r| !r.is_empty());
            if re != m.subscribed_topic_regex {
                m.subscribed_topic_regex = re;
                changed = true;
            }
        }
        if a.server_assignor.is_some() && a.server_assignor != m.server_assignor {
            m.server_assignor = a.server_assignor.clone();
            changed = true;
        }
        self.refresh(topics, config, changed, now);
        self.reconcile(&member_id, a.owned.as_ref(), now);
        let m = &self.members[&member_id];
        // Kafka's rule: the assignment goes back on a join, on a full request (a client
        // after an error), or when it changed; never because the member still reports what it
        // owned before, which it does while it reconciles.
        let full_request = a.member_epoch == 0
            || (a.rebalance_timeout_ms != -1
                && (a.subscribed_topic_names.is_some() || a.subscribed_topic_regex.is_some())
                && a.owned.is_some());
        let send_assignment = full_request || before.as_ref() != Some(&m.assigned);
        HeartbeatResult {
            error_code: error::NONE,
            error_message: None,
            member_id: Some(member_id.clone()),
            member_epoch: m.member_epoch,
            assignment: send_assignment.then(|| m.assigned.clone()),
        }
    }

    fn leave(
        &mut self,
        a: &HeartbeatArgs,
        topics: &TopicsMeta,
        config: &ConsumerConfig,
        now: Instant,
    ) -> HeartbeatResult {
        let member_id = if let Some(inst) = &a.instance_id {
            match self.members.values().find(|m| m.instance_id.as_deref() == Some(inst.as_str())) {
                None => {
                    return HeartbeatResult::error(
                        error::UNKNOWN_MEMBER_ID,
                        format!("Instance id {inst} is unknown."),
                    )
                }
                Some(m) if m.member_id != a.member_id => {
                    return HeartbeatResult::error(
                        error::FENCED_INSTANCE_ID,
                        format!(
                            "Static member {} with instance id {inst} is not the member {}.",
                            a.member_id, m.member_id
                        ),
                    )
                }
                Some(m) => m.member_id.clone(),
            }
        } else {
            if !self.members.contains_key(&a.member_id) {
                return HeartbeatResult::error(
                    error::UNKNOWN_MEMBER_ID,
                    format!("Member {} is not a member of group {}.", a.member_id, self.group_id),
                );
            }
            a.member_id.clone()
        };
        if a.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
            // The static member keeps its assignment for its next incarnation, until its
            // session ends.
            let m = self.members.get_mut(&member_id).expect("found");
            set_epoch(m, LEAVE_GROUP_STATIC_MEMBER_EPOCH);
        } else {
            self.remove_member(&member_id);
            self.refresh(topics, config, true, now);
        }
        HeartbeatResult {
            error_code: error::NONE,
            error_message: None,
            member_id: Some(member_id),
            member_epoch: a.member_epoch,
            assignment: None,
        }
    }

    /// Recomputes the target assignment if the metadata of the subscribed topics changed
    /// (created, deleted, more partitions) even if nobody heartbeats yet.
    pub fn metadata_changed(&mut self, topics: &TopicsMeta, config: &ConsumerConfig, now: Instant) {
        if !self.members.is_empty() {
            self.refresh(topics, config, false, now);
        }
    }
}

fn set_epoch(m: &mut ConsumerMember, epoch: i32) {
    if m.member_epoch != epoch {
        m.previous_member_epoch = m.member_epoch;
        m.member_epoch = epoch;
    }
}

fn is_subset(a: &Partitions, b: &Partitions) -> bool {
    a.iter().all(|(t, ps)| ps.is_empty() || b.get(t).is_some_and(|bs| ps.is_subset(bs)))
}

/// Every partition of `topics`.
fn all_partitions(topics: &[(Uuid, i32)]) -> impl Iterator<Item = (Uuid, i32)> + '_ {
    topics.iter().flat_map(|(id, n)| (0..*n).map(move |p| (*id, p)))
}

/// Kafka's uniform assignor: every member gets as many partitions as the others, within
/// one, among the partitions of the topics it subscribes to; partitions stay with their
/// current target owner when that keeps the balance (stickiness).
pub fn uniform_assign(
    subs: &BTreeMap<String, Vec<(Uuid, i32)>>,
    previous: &BTreeMap<String, Partitions>,
) -> BTreeMap<String, Partitions> {
    let mut owner: BTreeMap<(Uuid, i32), &str> = BTreeMap::new();
    let mut load: BTreeMap<&str, usize> = subs.keys().map(|m| (m.as_str(), 0)).collect();
    let eligible = |m: &str, t: &Uuid| subs[m].iter().any(|(id, _)| id == t);
    let mut wanted: BTreeSet<(Uuid, i32)> = BTreeSet::new();
    for ts in subs.values() {
        wanted.extend(all_partitions(ts));
    }
    // Keep previous owners, up to a fair share each.
    let members = subs.len().max(1);
    let share = wanted.len().div_ceil(members);
    for (m, parts) in previous {
        let Some(m) = subs.get_key_value(m).map(|(k, _)| k.as_str()) else { continue };
        for (t, ps) in parts {
            for &p in ps {
                if wanted.contains(&(*t, p))
                    && eligible(m, t)
                    && !owner.contains_key(&(*t, p))
                    && load[m] < share
                {
                    owner.insert((*t, p), m);
                    *load.get_mut(m).expect("member") += 1;
                }
            }
        }
    }
    // The rest to the least loaded eligible member.
    for tp in &wanted {
        if owner.contains_key(tp) {
            continue;
        }
        if let Some(m) = load
            .iter()
            .filter(|(m, _)| eligible(m, &tp.0))
            .min_by_key(|(m, l)| (**l, **m))
            .map(|(m, _)| *m)
        {
            owner.insert(*tp, m);
            *load.get_mut(m).expect("member") += 1;
        }
    }
    // Even out: move a partition from a member to one with at least two fewer that may
    // take it, until no move is possible.
    let mut moved = true;
    let mut rounds = 0;
    while moved && rounds < 10_000 {
        moved = false;
        rounds += 1;
        let candidates: Vec<((Uuid, i32), &str)> =
            owner.iter().rev().map(|(tp, m)| (*tp, *m)).collect();
        for (tp, from) in candidates {
            let to = load
                .iter()
                .filter(|(m, l)| **m != from && **l + 1 < load[from] && eligible(m, &tp.0))
                .min_by_key(|(m, l)| (**l, **m))
                .map(|(m, _)| *m);
            if let Some(to) = to {
                owner.insert(tp, to);
                *load.get_mut(from).expect("member") -= 1;
                *load.get_mut(to).expect("member") += 1;
                moved = true;
                break;
            }
        }
    }
    let mut out: BTreeMap<String, Partitions> =
        subs.keys().map(|m| (m.clone(), Partitions::new())).collect();
    for ((t, p), m) in owner {
        out.get_mut(m).expect("member").entry(t).or_default().insert(p);
    }
    out
}

/// Kafka's range assignor: per topic, its subscribers (by member id) take contiguous
/// ranges, the first ones one partition more when it does not divide evenly.
pub fn range_assign(subs: &BTreeMap<String, Vec<(Uuid, i32)>>) -> BTreeMap<String, Partitions> {
    let mut out: BTreeMap<String, Partitions> =
        subs.keys().map(|m| (m.clone(), Partitions::new())).collect();
    let mut topics: BTreeMap<Uuid, i32> = BTreeMap::new();
    for ts in subs.values() {
        topics.extend(ts.iter().copied());
    }
    for (t, n) in topics {
        let members: Vec<&String> = subs
            .iter()
            .filter(|(_, ts)| ts.iter().any(|(id, _)| *id == t))
            .map(|(m, _)| m)
            .collect();
        let count = members.len() as i32;
        let (per, extra) = (n / count, n % count);
        let mut next = 0;
        for (i, m) in members.iter().enumerate() {
            let take = per + i32::from((i as i32) < extra);
            let set: BTreeSet<i32> = (next..next + take).collect();
            next += take;
            if !set.is_empty() {
                out.get_mut(*m).expect("member").insert(t, set);
            }
        }
    }
    out
}

/// For DescribeGroups-style views: the member's partitions as (topic id, sorted partitions).
pub fn flatten(p: &Partitions) -> Vec<(Uuid, Vec<i32>)> {
    p.iter()
        .filter(|(_, ps)| !ps.is_empty())
        .map(|(t, ps)| (*t, ps.iter().copied().collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u8) -> Uuid {
        [n; 16]
    }

    fn subs(list: &[(&str, &[(u8, i32)])]) -> BTreeMap<String, Vec<(Uuid, i32)>> {
        list.iter()
            .map(|(m, ts)| (m.to_string(), ts.iter().map(|(id, n)| (t(*id), *n)).collect()))
            .collect()
    }

    fn count(p: &Partitions) -> usize {
        p.values().map(BTreeSet::len).sum()
    }

    /// Every partition of the subscribed topics assigned exactly once.
    fn assert_complete(a: &BTreeMap<String, Partitions>, topics: &[(u8, i32)]) {
        let mut seen = BTreeSet::new();
        for ps in a.values() {
            for (id, set) in ps {
                for p in set {
                    assert!(seen.insert((*id, *p)), "{id:?}-{p} assigned twice");
                }
            }
        }
        let want: BTreeSet<(Uuid, i32)> =
            topics.iter().flat_map(|(id, n)| (0..*n).map(move |p| (t(*id), p))).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn uniform_balances_and_keeps_what_it_can() {
        let s =
            subs(&[("a", &[(1, 6), (2, 3)]), ("b", &[(1, 6), (2, 3)]), ("c", &[(1, 6), (2, 3)])]);
        let first = uniform_assign(&s, &BTreeMap::new());
        assert_complete(&first, &[(1, 6), (2, 3)]);
        assert!(first.values().all(|p| count(p) == 3), "{first:?}");

        // Two members had 3 each; a third joins: each keeps two of its own.
        let two = subs(&[("a", &[(1, 6)]), ("b", &[(1, 6)])]);
        let before = uniform_assign(&two, &BTreeMap::new());
        let three = subs(&[("a", &[(1, 6)]), ("b", &[(1, 6)]), ("c", &[(1, 6)])]);
        let after = uniform_assign(&three, &before);
        assert_complete(&after, &[(1, 6)]);
        for m in ["a", "b"] {
            let kept = after[m][&t(1)].intersection(&before[m][&t(1)]).count();
            assert_eq!((count(&after[m]), kept), (2, 2), "{m}: {before:?} -> {after:?}");
        }
    }

    #[test]
    fn uniform_with_different_subscriptions_gives_only_subscribed_topics() {
        let s = subs(&[("a", &[(1, 4)]), ("b", &[(1, 4), (2, 2)])]);
        let a = uniform_assign(&s, &BTreeMap::new());
        assert_complete(&a, &[(1, 4), (2, 2)]);
        assert_eq!((count(&a["a"]), count(&a["b"])), (3, 3), "{a:?}");
        assert!(!a["a"].contains_key(&t(2)));
    }

    #[test]
    fn range_gives_contiguous_ranges_per_topic() {
        let s = subs(&[("a", &[(1, 5)]), ("b", &[(1, 5)])]);
        let a = range_assign(&s);
        assert_eq!(a["a"][&t(1)], BTreeSet::from([0, 1, 2]));
        assert_eq!(a["b"][&t(1)], BTreeSet::from([3, 4]));
    }

    fn join(member: &str, names: &[&str], regex: Option<&str>) -> HeartbeatArgs {
        HeartbeatArgs {
            version: 1,
            group_id: "g".into(),
            member_id: member.into(),
            member_epoch: 0,
            rebalance_timeout_ms: 1000,
            subscribed_topic_names: Some(names.iter().map(|n| n.to_string()).collect()),
            subscribed_topic_regex: regex.map(str::to_string),
            owned: Some(Partitions::new()),
            ..Default::default()
        }
    }

    #[test]
    fn a_regex_subscribes_to_matching_topics_and_deleted_topics_leave_the_assignment() {
        let config = ConsumerConfig { assignment_interval_ms: 0, ..Default::default() };
        let now = Instant::now();
        let mut topics: TopicsMeta = [
            ("orders".to_string(), (t(1), 2)),
            ("ordinal".to_string(), (t(2), 1)),
            ("other".to_string(), (t(3), 4)),
            ("__orders".to_string(), (t(4), 1)),
        ]
        .into();
        let mut g = ConsumerGroup::new("g");
        let a = join("m", &[], Some("ord.*"));
        assert!(validate(&a, &config).is_ok());
        let r = g.heartbeat(&a, &topics, &config, String::new, now);
        assert_eq!(r.member_epoch, 1);
        let got = r.assignment.expect("assignment");
        assert_eq!(got.keys().copied().collect::<Vec<_>>(), vec![t(1), t(2)]);
        assert_eq!(count(&got), 3);

        // "ordinal" is deleted: a new epoch without it.
        topics.remove("ordinal");
        let beat = HeartbeatArgs {
            member_epoch: 1,
            rebalance_timeout_ms: -1,
            subscribed_topic_names: None,
            subscribed_topic_regex: None,
            owned: Some(got.clone()),
            ..join("m", &[], None)
        };
        let r = g.heartbeat(&beat, &topics, &config, String::new, now);
        // Its partition is revoked first, at the member's epoch; the next epoch once let go.
        assert_eq!((r.member_epoch, g.group_epoch), (1, 2));
        let got = r.assignment.expect("assignment");
        assert_eq!(got.keys().copied().collect::<Vec<_>>(), vec![t(1)]);
        let r = g.heartbeat(
            &HeartbeatArgs { owned: Some(got.clone()), ..beat },
            &topics,
            &config,
            String::new,
            now,
        );
        assert_eq!((r.error_code, r.member_epoch), (0, 2));

        // An empty regex is no regex: repeating it changes nothing (librdkafka sends it).
        let mut g = ConsumerGroup::new("g2");
        let r = g.heartbeat(&join("n", &["other"], None), &topics, &config, String::new, now);
        assert_eq!(r.member_epoch, 1);
        let again = HeartbeatArgs {
            member_epoch: 1,
            rebalance_timeout_ms: -1,
            subscribed_topic_regex: Some(String::new()),
            owned: r.assignment.clone(),
            ..join("n", &["other"], None)
        };
        let r = g.heartbeat(&again, &topics, &config, String::new, now);
        assert_eq!((r.member_epoch, g.group_epoch), (1, 1));

        let bad = join("x", &[], Some("(unclosed"));
        assert_eq!(
            validate(&bad, &config).unwrap_err().error_code,
            error::INVALID_REGULAR_EXPRESSION
        );
    }

    /// The state a group is in, as its records carry it.
    fn recorded(g: &ConsumerGroup) -> String {
        let members: Vec<String> = g
            .members
            .values()
            .map(|m| format!("{:?} {:?}", m.metadata_value(), m.assignment_value()))
            .collect();
        format!(
            "{} {} {:?} {:?} {:?}",
            g.group_epoch,
            g.target_assignment_epoch,
            g.target_assignment,
            members,
            g.resolved_regexes
        )
    }

    #[test]
    fn the_records_of_each_change_rebuild_the_group() {
        let config = ConsumerConfig { assignment_interval_ms: 0, ..Default::default() };
        let now = Instant::now();
        let topics: TopicsMeta = [("six".to_string(), (t(1), 6))].into();
        let mut g = ConsumerGroup::new("g");
        let mut log: Vec<ConsumerGroupRecord> = Vec::new();
        let mut step = |g: &mut ConsumerGroup, f: &mut dyn FnMut(&mut ConsumerGroup)| {
            let before = (!g.members.is_empty() || g.group_epoch > 0).then(|| g.clone());
            f(g);
            log.extend(g.records_since(before.as_ref()));
            let mut replayed = ConsumerGroup::new("g");
            for r in &log {
                let (key, value) = r.encode();
                let cr::Decoded::ConsumerGroup(r) = cr::decode(&key, value.as_deref()).unwrap()
                else {
                    panic!("{r:?}")
                };
                replayed.replay(r, now);
            }
            replayed.loaded(&topics, &config, now);
            assert_eq!(recorded(&replayed), recorded(g));
            assert_eq!(replayed.subscription_metadata, g.subscription_metadata);
        };
        let beat = |m: &str, epoch: i32, owned: &Partitions| HeartbeatArgs {
            member_epoch: epoch,
            rebalance_timeout_ms: -1,
            subscribed_topic_names: None,
            owned: Some(owned.clone()),
            ..join(m, &[], None)
        };
        let mut a_owned = Partitions::new();
        step(&mut g, &mut |g| {
            a_owned = g
                .heartbeat(&join("a", &["six"], None), &topics, &config, String::new, now)
                .assignment
                .unwrap();
        });
        // B subscribes by a regex: its resolution is recorded.
        step(&mut g, &mut |g| {
            g.heartbeat(&join("b", &[], Some("si.*")), &topics, &config, String::new, now);
        });
        assert_eq!(g.resolved_regexes["si.*"].topics, ["six"]);
        // A is revoking: UNREVOKED_PARTITIONS with partitions pending revocation.
        step(&mut g, &mut |g| {
            let r = g.heartbeat(&beat("a", 1, &a_owned), &topics, &config, String::new, now);
            a_owned = r.assignment.unwrap();
        });
        assert_eq!(g.members["a"].state, MemberState::UnrevokedPartitions);
        step(&mut g, &mut |g| {
            g.heartbeat(&beat("b", 2, &Partitions::new()), &topics, &config, String::new, now);
        });
        assert_eq!(g.members["b"].state, MemberState::UnreleasedPartitions);
        step(&mut g, &mut |g| {
            g.heartbeat(&beat("a", 1, &a_owned), &topics, &config, String::new, now);
        });
        // B's session ends.
        step(&mut g, &mut |g| {
            g.members.get_mut("b").unwrap().session_deadline = now;
            assert_eq!(g.expire(now), ["b"]);
        });
        assert!(g.resolved_regexes.is_empty(), "no member uses the regex any more");
        step(&mut g, &mut |g| {
            let r = g.heartbeat(&beat("a", 2, &a_owned), &topics, &config, String::new, now);
            assert_eq!(r.member_epoch, 3);
        });
        let leave =
            HeartbeatArgs { member_epoch: LEAVE_GROUP_MEMBER_EPOCH, ..beat("a", 3, &a_owned) };
        step(&mut g, &mut |g| {
            g.heartbeat(&leave, &topics, &config, String::new, now);
        });
        assert!(g.members.is_empty());
        // Deleted: the tombstones leave nothing.
        let mut replayed = ConsumerGroup::new("g");
        for r in g.tombstones() {
            replayed.replay(r, now);
        }
        assert_eq!(recorded(&replayed), recorded(&ConsumerGroup::new("g")));
    }
}
