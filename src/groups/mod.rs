//! The classic group coordinator: membership, rebalances and committed offsets of consumer
//! groups, as Kafka's `GroupCoordinator` runs them.
//!
//! A group moves Empty -> PreparingRebalance (members (re)join) -> CompletingRebalance (the
//! leader computes assignments) -> Stable (SyncGroup handed them out) and back to
//! PreparingRebalance whenever membership changes. JoinGroup and SyncGroup answers wait for the
//! rest of the group: they are held here as [`Responder`]s and come back from [`Coordinator::tick`]
//! and the other calls as [`Completion`]s. Sessions and rebalances run on deadlines the event
//! loop sleeps towards. Nothing here touches sockets or files.

pub mod consumer;
pub mod consumer_records;
mod coordinator;
pub mod metadata_hash;
pub mod offsets;

pub use coordinator::Coordinator;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Where a held answer goes: the connection and the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Responder {
    pub conn: usize,
    pub correlation_id: i32,
    pub version: i16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

impl GroupState {
    /// The name Kafka uses in DescribeGroups and ListGroups.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// (protocol name, metadata), in the member's order of preference.
    pub protocols: Vec<(String, Vec<u8>)>,
    pub assignment: Vec<u8>,
    session_deadline: Instant,
    awaiting_join: Option<Responder>,
    awaiting_sync: Option<Responder>,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> &[u8] {
        self.protocols.iter().find(|(n, _)| n == protocol).map_or(&[], |(_, m)| m)
    }
}

#[derive(Debug)]
pub struct Group {
    pub group_id: String,
    pub state: GroupState,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: Option<String>,
    /// By member id, in join order (BTreeMap keeps ids sorted; join order is in `order`).
    pub members: BTreeMap<String, Member>,
    order: Vec<String>,
    /// Members told MEMBER_ID_REQUIRED, with the deadline for their second join.
    pending: HashMap<String, Instant>,
    /// When the current rebalance completes even if members are missing.
    rebalance_deadline: Option<Instant>,
    /// The initial delay of a rebalance from Empty: no completion before this.
    join_not_before: Option<Instant>,
    /// Committed offsets by (topic, partition).
    pub offsets: BTreeMap<(String, i32), offsets::CommittedOffset>,
    /// Set when the group runs the consumer protocol (KIP-848) instead of the classic one.
    pub consumer: Option<consumer::ConsumerGroup>,
}

impl Group {
    fn new(group_id: &str) -> Self {
        Group {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            order: Vec::new(),
            pending: HashMap::new(),
            rebalance_deadline: None,
            join_not_before: None,
            offsets: BTreeMap::new(),
            consumer: None,
        }
    }

    /// "consumer" for a KIP-848 group, "classic" otherwise (ListGroups' `group_type`).
    pub fn group_type(&self) -> &'static str {
        if self.consumer.is_some() {
            "consumer"
        } else {
            "classic"
        }
    }

    /// A protocol every member supports, preferring the members' first choices.
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&String> = first
            .protocols
            .iter()
            .map(|(n, _)| n)
            .filter(|n| self.members.values().all(|m| m.protocols.iter().any(|(p, _)| p == *n)))
            .collect();
        // Each member votes for its most preferred candidate; most votes wins, ties to the
        // first member's order.
        let mut votes: Vec<(usize, &String)> = candidates.iter().map(|c| (0, *c)).collect();
        for m in self.members.values() {
            if let Some((name, _)) = m.protocols.iter().find(|(p, _)| candidates.contains(&p)) {
                if let Some(v) = votes.iter_mut().find(|(_, c)| *c == name) {
                    v.0 += 1;
                }
            }
        }
        let best = votes.iter().map(|(n, _)| *n).max()?;
        votes.iter().find(|(n, _)| *n == best).map(|(_, c)| (*c).clone())
    }

    fn supports(&self, protocol_type: &str, protocols: &[(String, Vec<u8>)]) -> bool {
        if self.members.is_empty() {
            return !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|(p, _)| {
                self.members.values().all(|m| m.protocols.iter().any(|(q, _)| q == p))
            })
    }

    /// The topics the members subscribe to, read from their `consumer` protocol metadata as
    /// Kafka's `ClassicGroup.computeSubscribedTopics` reads them: `None` when they cannot be
    /// known (another protocol type, no protocol chosen yet, unreadable metadata), which
    /// Kafka treats as subscribed to nothing.
    pub fn subscribed_topics(&self) -> Option<std::collections::BTreeSet<String>> {
        if self.protocol_type.as_deref() != Some("consumer") {
            return None;
        }
        let mut topics = std::collections::BTreeSet::new();
        if self.members.is_empty() {
            return Some(topics);
        }
        let protocol = self.protocol_name.as_deref()?;
        for m in self.members.values() {
            let mut r = crate::protocol::codec::Reader::new(m.metadata_for(protocol));
            let version = r.i16().ok()?;
            if version < 0 {
                return None;
            }
            for t in r.array(false, |r| r.string(false)).ok()? {
                topics.insert(t.to_string());
            }
        }
        Some(topics)
    }

    fn max_rebalance_timeout(&self) -> Duration {
        self.members.values().map(|m| m.rebalance_timeout).max().unwrap_or_default()
    }
}

/// A held JoinGroup or SyncGroup answer that can now be sent.
#[derive(Debug, Clone)]
pub enum Completion {
    Join(Responder, JoinResult),
    Sync(Responder, SyncResult),
}

#[derive(Debug, Clone, Default)]
pub struct JoinResult {
    pub error_code: i16,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// (member_id, group_instance_id, metadata): for the leader only.
    pub members: Vec<(String, Option<String>, Vec<u8>)>,
}

impl JoinResult {
    fn error(code: i16, member_id: &str) -> Self {
        JoinResult {
            error_code: code,
            generation_id: -1,
            member_id: member_id.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SyncResult {
    pub error_code: i16,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Vec<u8>,
}

/// A JoinGroup request, version differences already resolved.
#[derive(Debug, Clone)]
pub struct JoinArgs {
    pub group_id: String,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Vec<u8>)>,
    /// v4+: a new member first gets MEMBER_ID_REQUIRED and its id.
    pub require_known_member_id: bool,
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub struct SyncArgs<'a> {
    pub group_id: &'a str,
    pub generation_id: i32,
    pub member_id: &'a str,
    pub protocol_type: Option<&'a str>,
    pub protocol_name: Option<&'a str>,
    /// (member id, assignment): sent by the leader only.
    pub assignments: Vec<(String, Vec<u8>)>,
    pub group_instance_id: Option<&'a str>,
}

/// Either answered now, or held until the group moves on.
#[derive(Debug, Clone)]
pub enum Answer<T> {
    Now(T),
    Held,
}

#[derive(Debug, Clone, Copy)]
pub struct GroupConfig {
    pub min_session_timeout: Duration,
    pub max_session_timeout: Duration,
    pub initial_rebalance_delay: Duration,
}

#[cfg(test)]
mod tests;
